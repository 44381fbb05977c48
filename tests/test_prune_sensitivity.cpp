// Sensitivity and allocation on models whose sensitivity we control: a two-branch MLP where branch B barely
// reaches the logits (insensitive) and branch A carries them (sensitive), and ResNet-8 for the activation
// cache. Labels are the unpruned model's own predictions, so the baseline is 100% and every drop is caused by
// pruning.
#include <QtTest>

#include "core/analysis/evaluate.h"
#include "core/ir/stats.h"
#include "core/passes/prune_channels.h"
#include "core/tuning/allocation.h"
#include "core/tuning/sensitivity.h"
#include "core/util/error.h"
#include "core/zoo/zoo.h"
#include "tests/test_passes_builder.h"

using namespace edgetune;
using namespace edgetune::test;

namespace {

/// In-memory examples labelled by a model's own argmax.
class SelfLabelledDataset : public Dataset {
 public:
  SelfLabelledDataset(const Model& model, size_t count, uint64_t seed) {
    const auto in = model.inputs()[0];
    info_ = {in.name, DataType::Float32, std::vector<int64_t>(in.shape.begin() + 1, in.shape.end())};
    auto exec = makeOrtExecutor(model);
    std::vector<int64_t> batch_shape = in.shape;
    batch_shape[0] = static_cast<int64_t>(count);
    Tensor all = randomTensor(batch_shape, seed, -2.f, 2.f);
    Tensor logits = exec->run({{in.name, all}})[0];
    classes_ = static_cast<size_t>(logits.shape()[1]);
    const int64_t per = all.numel() / static_cast<int64_t>(count);
    for (size_t i = 0; i < count; ++i) {
      Tensor x(DataType::Float32, info_.shape);
      std::memcpy(x.raw(), all.values<float>().data() + i * per, static_cast<size_t>(per) * sizeof(float));
      examples_.push_back(x);
      auto row = logits.values<float>().subspan(i * classes_, classes_);
      labels_.push_back(std::max_element(row.begin(), row.end()) - row.begin());
    }
  }
  std::string name() const override { return "self-labelled"; }
  size_t size() const override { return examples_.size(); }
  Example get(size_t i) const override { return {{examples_[i]}, labels_[i]}; }
  std::vector<FeatureInfo> features() const override { return {info_}; }
  std::vector<std::string> classNames() const override {
    std::vector<std::string> names;
    for (size_t c = 0; c < classes_; ++c) names.push_back(std::to_string(c));
    return names;
  }

 private:
  FeatureInfo info_;
  size_t classes_ = 0;
  std::vector<Tensor> examples_;
  std::vector<int64_t> labels_;
};

// x[N,16] -> A: Gemm(64) Relu Gemm(10) ------------.
//         -> B: Gemm(64) Relu Gemm(10) * 1e-4 -> Add -> logits
Model twoBranch() {
  GraphBuilder b;
  b.input("x", {-1, 16}).output("logits", {-1, 10});
  b.init("a1.w", randomTensor({64, 16}, 1)).init("a1.b", randomTensor({64}, 2));
  b.init("a2.w", randomTensor({10, 64}, 3)).init("a2.b", randomTensor({10}, 4, -0.01f, 0.01f));
  b.init("b1.w", randomTensor({64, 16}, 5)).init("b1.b", randomTensor({64}, 6));
  b.init("b2.w", randomTensor({10, 64}, 7, -1e-4f, 1e-4f)).init("b2.b", randomTensor({10}, 8, -1e-4f, 1e-4f));
  for (const std::string p : {"a", "b"}) {
    setAttr(b.node("Gemm", {"x", p + "1.w", p + "1.b"}, {p + "h"}, p + "_fc1"), "transB", int64_t{1});
    b.node("Relu", {p + "h"}, {p + "r"}, p + "_relu");
    setAttr(b.node("Gemm", {p + "r", p + "2.w", p + "2.b"}, {p + "o"}, p + "_fc2"), "transB", int64_t{1});
  }
  b.node("Add", {"ao", "bo"}, {"logits"}, "sum");
  return b.model();
}

double accuracyOf(const Model& m, const Dataset& d) {
  auto exec = makeOrtExecutor(m);
  EvalOptions o;
  return evaluate(*exec, d, o).top1;
}

}  // namespace

class TestPruneSensitivity : public QObject {
  Q_OBJECT
 private slots:
  void curvesFollowControlledSensitivity() {
    Model m = twoBranch();
    SelfLabelledDataset data(m, 300, 11);
    SensitivityOptions o;
    o.limit = 200;
    SensitivityResult r = analyzeSensitivity(m, data, o);
    qInfo("%s", r.toTable().c_str());
    QCOMPARE(r.baseline_accuracy, 1.0);
    QCOMPARE(r.examples, size_t(200));
    QCOMPARE(r.curves.size(), size_t(2));
    const auto& a = r.curves[0].group == "neurons:a_fc1" ? r.curves[0] : r.curves[1];
    const auto& b = r.curves[0].group == "neurons:b_fc1" ? r.curves[0] : r.curves[1];
    QCOMPARE(a.group, std::string("neurons:a_fc1"));
    QCOMPARE(b.group, std::string("neurons:b_fc1"));
    QCOMPARE(a.accuracy.size(), o.ratios.size());
    for (double acc : b.accuracy) QVERIFY(acc >= 0.99);
    QVERIFY(a.accuracy.back() < 0.8);
    QVERIFY(a.accuracy.back() <= a.accuracy.front());
    QCOMPARE(a.kept_units[4], int64_t(32));  // ratio 0.5 of 64 at round_to 1
    // Reports: JSON round trip and one CSV row per (group, ratio) plus the header.
    const auto back = SensitivityResult::fromJson(r.toJson());
    QCOMPARE(back.curves.size(), r.curves.size());
    QCOMPARE(back.curves[0].accuracy, r.curves[0].accuracy);
    QCOMPARE(back.curves[0].region_inputs, r.curves[0].region_inputs);
    QCOMPARE(back.curves[0].region_nodes, r.curves[0].region_nodes);
    QCOMPARE(back.curves[0].seconds, r.curves[0].seconds);
    QCOMPARE(back.total_nodes, r.total_nodes);
    QCOMPARE(back.seconds, r.seconds);
    const std::string csv = r.toCsv();
    QCOMPARE(static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n')), 1 + 2 * o.ratios.size());
  }

  // The cached sweep computes exactly what evaluating the whole pruned model computes, while re-running only
  // the region after the group.
  void cacheMatchesFullEvaluation() {
    Model m = zoo::buildZooModel("resnet8");
    SelfLabelledDataset data(m, 64, 5);
    const auto groups = findPruneGroups(m);
    std::string late;  // a group deep in the network
    for (const auto& g : groups)
      if (g.prunable && g.id.find("layer3") != std::string::npos) late = g.id;
    QVERIFY(!late.empty());
    SensitivityOptions o;
    o.limit = 0;
    o.batch_size = 16;
    o.ratios = {0.25, 0.75};
    o.groups = {late};
    SensitivityResult r = analyzeSensitivity(m, data, o);
    QCOMPARE(r.curves.size(), size_t(1));
    const auto& c = r.curves[0];
    qInfo("%s: region of %d of %d nodes, cached inputs %s", late.c_str(), c.region_nodes, r.total_nodes,
          c.region_inputs.empty() ? "-" : c.region_inputs[0].c_str());
    QVERIFY(c.region_nodes < r.total_nodes / 2);
    QVERIFY(std::find(c.region_inputs.begin(), c.region_inputs.end(), "input") == c.region_inputs.end());
    for (size_t i = 0; i < o.ratios.size(); ++i) {
      PruneChannelsOptions p;
      p.ratio = 0;
      p.round_to = 1;
      p.per_group[late] = o.ratios[i];
      Model pruned = m;
      pruneChannels(pruned, p);
      QCOMPARE(c.accuracy[i], accuracyOf(pruned, data));
    }
  }

  void cancelAndBadInput() {
    Model m = twoBranch();
    SelfLabelledDataset data(m, 50, 1);
    JobContext job;
    job.cancel();
    QVERIFY_THROWS_EXCEPTION(CancelledError, analyzeSensitivity(m, data, {}, &job));
    SensitivityOptions o;
    o.groups = {"neurons:nope"};
    QVERIFY_THROWS_EXCEPTION(Error, analyzeSensitivity(m, data, o));
    o = {};
    o.ratios = {1.0};
    QVERIFY_THROWS_EXCEPTION(Error, analyzeSensitivity(m, data, o));
    // progress is reported
    double last = -1;
    JobContext watched([&](const Progress& p) { last = p.fraction; }, std::chrono::milliseconds(0));
    analyzeSensitivity(m, data, {}, &watched);
    QCOMPARE(last, 1.0);
  }

  void allocationBeatsUniform() {
    Model m = twoBranch();
    SelfLabelledDataset data(m, 400, 21);
    SensitivityOptions so;
    so.limit = 400;
    SensitivityResult s = analyzeSensitivity(m, data, so);
    for (const AllocationMetric metric : {AllocationMetric::Macs, AllocationMetric::Params}) {
      AllocationOptions o;
      o.metric = metric;
      o.keep_fraction = 0.6;
      o.round_to = 1;
      Allocation smart = allocateRatios(m, s, o);
      Allocation uniform = uniformAllocation(m, s, o);
      QVERIFY(smart.reached);
      QVERIFY(uniform.reached);
      const double acc_smart = accuracyOf(applyAllocation(m, smart, o), data);
      const double acc_uniform = accuracyOf(applyAllocation(m, uniform, o), data);
      qInfo("%s target 60%%: allocated %s -> %.0f (acc %.3f); uniform ratio %.3f -> %.0f (acc %.3f)",
            toString(metric).c_str(), smart.toJson()["ratios"].dump().c_str(), smart.metric_after, acc_smart,
            uniform.ratios.begin()->second, uniform.metric_after, acc_uniform);
      QVERIFY(smart.metric_after <= 0.6 * smart.metric_before);
      QVERIFY(acc_smart > acc_uniform + 0.05);
      const double ratio_a = smart.ratios.count("neurons:a_fc1") ? smart.ratios.at("neurons:a_fc1") : 0.0;
      QVERIFY(smart.ratios.at("neurons:b_fc1") > ratio_a);  // the insensitive branch is pruned more
    }
    // Progress reaches the job; a cancelled job stops the allocation.
    {
      AllocationOptions o;
      o.metric = AllocationMetric::Macs;
      o.keep_fraction = 0.6;
      o.round_to = 1;
      int reports = 0;
      JobContext watched([&](const Progress&) { ++reports; }, std::chrono::milliseconds(0));
      allocateRatios(m, s, o, &watched);
      QVERIFY(reports > 0);
      JobContext cancelled;
      cancelled.cancel();
      QVERIFY_THROWS_EXCEPTION(CancelledError, allocateRatios(m, s, o, &cancelled));
    }
    AllocationOptions bad;
    bad.keep_fraction = 1.5;
    QVERIFY_THROWS_EXCEPTION(Error, allocateRatios(m, s, bad));
  }
};

QTEST_GUILESS_MAIN(TestPruneSensitivity)
#include "test_prune_sensitivity.moc"
