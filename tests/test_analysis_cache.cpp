// AnalysisCache: results keyed by the model's revision and the arguments, recomputed after an edit, bounded
// by the number of revisions kept, shared by threads.
#include <QtTest>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "core/analysis/channel_dependencies.h"
#include "core/ir/analysis_cache.h"
#include "core/ir/stats.h"
#include "core/passes/graph_edit.h"
#include "tests/test_passes_builder.h"

using namespace edgetune;
using namespace edgetune::test;

namespace {

// x[N,3,8,8] -> Conv(4, 3x3, pad 1) -> Relu -> y
GraphBuilder convGraph() {
  GraphBuilder b;
  b.input("x", {-1, 3, 8, 8}).output("y", {-1, 4, 8, 8});
  b.init("W", randomTensor({4, 3, 3, 3}, 1)).init("B", randomTensor({4}, 2));
  setAttr(b.node("Conv", {"x", "W", "B"}, {"c"}, "conv"), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c"}, {"y"}, "relu");
  return b;
}

// Counts its runs, so a test can tell a cached result from a recomputed one.
std::atomic<int> g_node_count_runs{0};
struct NodeCountAnalysis {
  using Result = int;
  static int run(const Model& model, int offset) {
    ++g_node_count_runs;
    return model.graph().node_size() + offset;
  }
  static std::string key(int offset) { return std::to_string(offset); }
};

struct FailingAnalysis {
  using Result = int;
  static int run(const Model&) { throw std::runtime_error("analysis failed"); }
  static std::string key() { return {}; }
};

InputShapes batchOf(int64_t n) {
  InputShapes s;
  s.dims["x"] = {n, 3, 8, 8};
  return s;
}

}  // namespace

class TestAnalysisCache : public QObject {
  Q_OBJECT
 private slots:
  void init() { g_node_count_runs = 0; }

  void cachedPerRevisionAndArguments() {
    AnalysisCache cache;
    const Model m = convGraph().model();
    auto first = cache.get<NodeCountAnalysis>(m, 0);
    auto again = cache.get<NodeCountAnalysis>(m, 0);
    QCOMPARE(*first, 2);
    QCOMPARE(again.get(), first.get());  // the same object: not computed twice
    QCOMPARE(g_node_count_runs.load(), 1);
    QCOMPARE(*cache.get<NodeCountAnalysis>(m, 10), 12);  // other arguments, another result
    QCOMPARE(g_node_count_runs.load(), 2);
    QVERIFY(cache.contains<NodeCountAnalysis>(m, 10));
    QCOMPARE(cache.size(), size_t{2});

    const Model copy = m;  // a copy is another revision: analysed on its own
    QCOMPARE(*cache.get<NodeCountAnalysis>(copy, 0), 2);
    QCOMPARE(g_node_count_runs.load(), 3);
  }

  // An edit ends in finishGraphEdit (reindex): the cache answers for the edited graph without being told.
  void editInvalidates() {
    AnalysisCache cache;
    Model m = convGraph().model();
    auto before = cache.get<StatsAnalysis>(m, nullptr);
    QCOMPARE(before->node_count, 2);
    QCOMPARE(before->params, int64_t{4 * 27 + 4});
    auto* neg = m.graph().add_node();
    neg->set_op_type("Neg");
    neg->add_input("y");
    neg->add_output("z");
    m.graph().mutable_output(0)->set_name("z");
    finishGraphEdit(m, "test edit");
    QVERIFY(!cache.contains<StatsAnalysis>(m, nullptr));
    auto after = cache.get<StatsAnalysis>(m, nullptr);
    QCOMPARE(after->node_count, 3);
    QCOMPARE(before->node_count, 2);  // a result already handed out stays what it was
  }

  void statsKeyedByInputSizes() {
    AnalysisCache cache;
    const Model m = convGraph().model();
    const InputShapes one = batchOf(1), four = batchOf(4);
    auto at_one = cache.get<StatsAnalysis>(m, &one);
    auto at_four = cache.get<StatsAnalysis>(m, &four);
    QCOMPARE(at_one->macs, int64_t{4 * 8 * 8 * 27});
    QCOMPARE(at_four->macs, 4 * at_one->macs);
    QCOMPARE(at_four->macs, computeStats(m, &four).macs);
    // Null and empty shapes both mean the declared sizes.
    const InputShapes none;
    QCOMPARE(cache.get<StatsAnalysis>(m, &none).get(), cache.get<StatsAnalysis>(m, nullptr).get());
  }

  void keepsTheMostRecentRevisions() {
    AnalysisCache cache(2);
    const Model a = convGraph().model(), b = convGraph().model(), c = convGraph().model();
    cache.get<NodeCountAnalysis>(a, 0);
    cache.get<NodeCountAnalysis>(b, 0);
    cache.get<NodeCountAnalysis>(a, 0);  // a is now the most recent
    cache.get<NodeCountAnalysis>(c, 0);  // evicts b
    QVERIFY(cache.contains<NodeCountAnalysis>(a, 0));
    QVERIFY(!cache.contains<NodeCountAnalysis>(b, 0));
    QVERIFY(cache.contains<NodeCountAnalysis>(c, 0));
    QCOMPARE(g_node_count_runs.load(), 3);
    cache.clear();
    QCOMPARE(cache.size(), size_t{0});
  }

  // The studio's prune groups: analysed once per revision, the same groups findPruneGroups lists, and
  // analysed again after an edit (the conv's channels are one group; the edit adds a second conv).
  void pruneGroupsCachedUntilEdited() {
    AnalysisCache cache;
    Model m = convGraph().model();
    auto groups = cache.get<PruneGroupsAnalysis>(m);
    QCOMPARE(cache.get<PruneGroupsAnalysis>(m).get(), groups.get());
    const auto direct = findPruneGroups(m);
    QCOMPARE(groups->size(), direct.size());
    for (size_t i = 0; i < direct.size(); ++i) {
      QCOMPARE((*groups)[i].id, direct[i].id);
      QCOMPARE((*groups)[i].prunable, direct[i].prunable);
    }
    // y -> Conv(4->4, 1x1) -> z: the first conv's channels now feed a layer, a prunable group.
    *m.graph().add_initializer() = tensorToProto("W2", randomTensor({4, 4, 1, 1}, 3));
    auto* conv = m.graph().add_node();
    conv->set_op_type("Conv");
    conv->set_name("conv2");
    conv->add_input("y");
    conv->add_input("W2");
    conv->add_output("z");
    m.graph().mutable_output(0)->set_name("z");
    finishGraphEdit(m, "test edit");
    QVERIFY(!cache.contains<PruneGroupsAnalysis>(m));
    const auto after = cache.get<PruneGroupsAnalysis>(m);
    const auto direct_after = findPruneGroups(m);
    QCOMPARE(after->size(), direct_after.size());
    QVERIFY(after.get() != groups.get());
    QCOMPARE((*groups)[0].prunable, false);  // before: conv's channels reach the graph output
    QCOMPARE((*after)[0].prunable, true);    // after: they feed conv2, which can shrink its input
  }

  void failureIsNotCached() {
    AnalysisCache cache;
    const Model m = convGraph().model();
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, cache.get<FailingAnalysis>(m));
    QCOMPARE(cache.size(), size_t{0});
  }

  // Jobs that share a baseline share its cache: every thread gets the one stored result.
  void sharedByThreads() {
    AnalysisCache cache;
    const Model m = convGraph().model();
    std::vector<std::shared_ptr<const int>> results(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) results[t] = cache.get<NodeCountAnalysis>(m, 0);
      });
    for (auto& t : threads) t.join();
    for (const auto& r : results) QCOMPARE(r.get(), results[0].get());
    QCOMPARE(cache.size(), size_t{1});
  }
};

QTEST_GUILESS_MAIN(TestAnalysisCache)
#include "test_analysis_cache.moc"
