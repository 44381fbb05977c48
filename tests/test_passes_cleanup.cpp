// Clean-up passes on hand-built graphs: remove_identity, eliminate_dead, deduplicate_initializers; the Pass
// registry and Recipe JSON round trip; cancellation.
#include <QtTest>

#include "core/passes/cleanup_passes.h"
#include "core/util/error.h"
#include "tests/test_passes_builder.h"

using namespace edgetune;
using namespace edgetune::test;

namespace {

PassReport run(Pass&& pass, Model& model) {
  PassContext context;
  return pass.apply(model, context);
}

Tensor boolScalar(bool v) {
  Tensor t(DataType::Bool, {});
  t.values<bool>()[0] = v;
  return t;
}

// x -> Relu -> a -> Identity -> b -> Add(b, Identity(W)) -> c -> Identity -> y (graph output)
GraphBuilder identityChain() {
  GraphBuilder b;
  b.input("x", {-1, 4}).output("y", {-1, 4});
  b.init("W", randomTensor({4}, 7));
  b.node("Relu", {"x"}, {"a"});
  b.node("Identity", {"a"}, {"b"});
  b.node("Identity", {"W"}, {"w_copy"});
  b.node("Add", {"b", "w_copy"}, {"c"});
  b.node("Identity", {"c"}, {"y"});
  return b;
}

}  // namespace

class TestPassesCleanup : public QObject {
  Q_OBJECT
 private slots:
  void removeIdentityRewiresAndKeepsOutputName() {
    Model before = identityChain().model();
    Model after = before;
    PassReport r = run(RemoveIdentityPass(), after);
    QCOMPARE(r.nodes_removed, 3);
    QCOMPARE(countOps(after, "Identity"), 0);
    QCOMPARE(after.graph().node_size(), 2);
    QCOMPARE(after.producer("y"), 1);  // the Add now writes the graph output itself
    QCOMPARE(after.graph().node(1).input(1), std::string("W"));
    verifyEquivalent(before, after);
  }

  void removeIdentityChainIntoOutput() {
    // Two Identities in a row before the output: both go, the Relu takes the output name.
    GraphBuilder b;
    b.input("x", {2, 3}).output("y", {2, 3});
    b.node("Relu", {"x"}, {"r"});
    b.node("Identity", {"r"}, {"i1"});
    b.node("Identity", {"i1"}, {"y"});
    Model before = b.model(), after = before;
    QCOMPARE(run(RemoveIdentityPass(), after).nodes_removed, 2);
    QCOMPARE(after.graph().node_size(), 1);
    QCOMPARE(after.graph().node(0).output(0), std::string("y"));
    verifyEquivalent(before, after);
  }

  void identityOnGraphBoundaryStays_data() {
    QTest::addColumn<int>("kind");
    QTest::newRow("input to output") << 0;
    QTest::newRow("output to output") << 1;
    QTest::newRow("initializer to output") << 2;
  }
  void identityOnGraphBoundaryStays() {
    QFETCH(int, kind);
    GraphBuilder b;
    b.input("x", {2, 3});
    if (kind == 0) {
      b.output("y", {2, 3});
      b.node("Identity", {"x"}, {"y"});
    } else if (kind == 1) {
      b.output("r", {2, 3}).output("y", {2, 3});
      b.node("Relu", {"x"}, {"r"});
      b.node("Identity", {"r"}, {"y"});
    } else {
      b.output("y", {2, 3}).output("z", {2, 3});
      b.init("W", randomTensor({2, 3}, 3));
      b.node("Identity", {"W"}, {"y"});
      b.node("Relu", {"x"}, {"z"});
    }
    Model before = b.model(), after = before;
    PassReport r = run(RemoveIdentityPass(), after);
    QCOMPARE(r.nodes_removed, 0);
    QVERIFY(!r.changed());
    QCOMPARE(after.serialize(), before.serialize());
    QCOMPARE(r.details["kept_on_graph_boundary"].size(), size_t{1});
  }

  void dropout_data() {
    QTest::addColumn<int>("mode");  // 0: no training input, 1: training_mode = false, 2: runtime
                                    // training_mode, 3: training_mode = true, 4: mask is read
    QTest::addColumn<bool>("removed");
    QTest::newRow("ratio only") << 0 << true;
    QTest::newRow("training_mode false") << 1 << true;
    QTest::newRow("training_mode is an input") << 2 << false;
    QTest::newRow("training_mode true") << 3 << false;
    QTest::newRow("mask used") << 4 << false;
  }
  void dropout() {
    QFETCH(int, mode);
    QFETCH(bool, removed);
    GraphBuilder b;
    b.input("x", {-1, 5}).output("y", {-1, 5});
    b.init("ratio", Tensor::from<float>({}, std::vector<float>{0.3f}));
    std::vector<std::string> inputs = {"x", "ratio"};
    std::vector<std::string> outputs = {"d"};
    if (mode == 1 || mode == 3) {
      b.init("training", boolScalar(mode == 3));
      inputs.push_back("training");
    } else if (mode == 2) {
      b.input("training", {}, onnx::TensorProto::BOOL);
      inputs.push_back("training");
    } else if (mode == 4) {
      outputs.push_back("mask");
      b.output("mask", {-1, 5}, onnx::TensorProto::BOOL);
    }
    b.node("Relu", {"x"}, {"r"});
    inputs[0] = "r";
    b.node("Dropout", inputs, outputs);
    b.node("Sigmoid", {"d"}, {"y"});
    Model before = b.model(), after = before;
    PassReport r = run(RemoveIdentityPass(), after);
    QCOMPARE(countOps(after, "Dropout"), removed ? 0 : 1);
    QCOMPARE(r.nodes_removed, removed ? 1 : 0);
    if (removed) verifyEquivalent(before, after);
    // Options can switch Dropout removal off.
    Model untouched = before;
    RemoveIdentityPass no_dropout(RemoveIdentityOptions{true, false});
    PassContext context;
    QCOMPARE(no_dropout.apply(untouched, context).nodes_removed, 0);
  }

  void eliminateDead() {
    GraphBuilder b;
    b.input("x", {-1, 3}).input("unused_input", {2}).output("y", {-1, 3});
    b.init("W", randomTensor({3}, 1))
        .init("orphan", randomTensor({8}, 2))
        .init("dead_w", randomTensor({3}, 3));
    b.node("Add", {"x", "W"}, {"a"});
    b.node("Sigmoid", {"a"}, {"dead1"});
    b.node("Mul", {"dead1", "dead_w"}, {"dead2"});  // a dead chain reading its own weight
    b.node("Relu", {"a"}, {"y"});
    Model before = b.model(), after = before;
    PassReport r = run(EliminateDeadPass(), after);
    QCOMPARE(r.nodes_removed, 2);
    QCOMPARE(r.initializers_removed, 2);
    QCOMPARE(after.graph().node_size(), 2);
    QVERIFY(after.isInitializer("W"));
    QVERIFY(!after.isInitializer("orphan"));
    QVERIFY(!after.isInitializer("dead_w"));
    QCOMPARE(after.graph().input_size(), 2);  // graph inputs are the interface: they stay
    verifyEquivalent(before, after);
    // A second run finds nothing: the pass reached its fixed point.
    QVERIFY(!run(EliminateDeadPass(), after).changed());
  }

  void eliminateDeadKeepsLiveGraph() {
    Model before = identityChain().model(), after = before;
    QVERIFY(!run(EliminateDeadPass(), after).changed());
    QCOMPARE(after.serialize(), before.serialize());
  }

  void deduplicateInitializers() {
    GraphBuilder b;
    b.input("x", {-1, 4}).output("y", {-1, 3}).output("z", {-1, 6});
    Tensor w = randomTensor({4, 3}, 5);
    b.init("W1", w).init("W2", w);          // identical: merged
    b.init("W3", w.reshaped({3, 4}));       // same bytes, other shape: kept
    b.init("W4", randomTensor({4, 3}, 6));  // same shape, other bytes: kept
    b.init("W5", randomTensor({4, 6}, 8));
    b.node("MatMul", {"x", "W1"}, {"a"});
    b.node("MatMul", {"x", "W2"}, {"b"});
    b.node("MatMul", {"x", "W4"}, {"c"});
    b.node("Add", {"a", "b"}, {"ab"});
    b.node("Add", {"ab", "c"}, {"y"});
    b.node("MatMul", {"y", "W3"}, {"y4"});
    b.node("MatMul", {"x", "W5"}, {"x6"});
    b.node("Add", {"x6", "x6"}, {"z0"});
    b.node("Relu", {"z0"}, {"z"});
    b.node("Sum", {"y4"}, {"unused"});
    Model before = b.model(), after = before;
    PassReport r = run(DeduplicateInitializersPass(), after);
    QCOMPARE(r.initializers_removed, 1);
    QVERIFY(after.isInitializer("W1"));
    QVERIFY(!after.isInitializer("W2"));
    QVERIFY(after.isInitializer("W3") && after.isInitializer("W4"));
    QCOMPARE(after.consumers("W1").size(), size_t{2});
    verifyEquivalent(before, after);
    // min_bytes above the tensor size leaves everything alone.
    Model big_only = before;
    QVERIFY(!run(DeduplicateInitializersPass(DeduplicateInitializersOptions{1000}), big_only).changed());
  }

  void registryCreatesEveryPass() {
    PassRegistry registry = PassRegistry::withBuiltins();
    for (const char* name : {"remove_identity", "fold_constants", "fold_shapes", "fold_batchnorm",
                             "eliminate_dead", "deduplicate_initializers", "cleanup"}) {
      QVERIFY2(registry.contains(name), name);
      auto pass = registry.create(name);
      QCOMPARE(pass->name(), std::string(name));
      // Options round-trip through JSON for every pass.
      auto again = registry.create(name, pass->optionsJson());
      QCOMPARE(again->optionsJson(), pass->optionsJson());
    }
    QVERIFY_THROWS_EXCEPTION(Error, registry.add("cleanup", [] { return std::make_unique<CleanupPass>(); }));
  }

  void recipeJsonRoundTrip() {
    PassRegistry registry = PassRegistry::withBuiltins();
    Recipe recipe;
    FoldConstantsOptions fold;
    fold.max_folded_bytes = 1234;
    fold.constant_nodes = false;
    recipe.add(std::make_unique<FoldConstantsPass>(fold));
    recipe.add(std::make_unique<RemoveIdentityPass>(RemoveIdentityOptions{true, false}));
    recipe.add(registry.create("cleanup", {{"max_rounds", 3}}));
    const nlohmann::json json = recipe.toJson();
    QCOMPARE(json["format"].get<std::string>(), std::string("edgetune-recipe"));
    QCOMPARE(json["passes"][0]["options"]["max_folded_bytes"].get<int64_t>(), int64_t{1234});
    QCOMPARE(json["passes"][2]["options"]["fold_batchnorm"].get<bool>(), true);  // defaults are written out

    // Through text, as a recipe file would be.
    Recipe loaded = Recipe::fromJson(nlohmann::json::parse(json.dump(2)), registry, "test.recipe.json");
    QCOMPARE(loaded.size(), size_t{3});
    QCOMPARE(loaded.toJson(), json);
    auto* loaded_fold = dynamic_cast<FoldConstantsPass*>(loaded.passes()[0].get());
    QVERIFY(loaded_fold);
    QCOMPARE(loaded_fold->options().max_folded_bytes, int64_t{1234});
    QCOMPARE(loaded_fold->options().constant_nodes, false);
    auto* loaded_cleanup = dynamic_cast<CleanupPass*>(loaded.passes()[2].get());
    QVERIFY(loaded_cleanup);
    QCOMPARE(loaded_cleanup->options().max_rounds, 3);

    // The recipe applies in order and reports per pass.
    Model before = identityChain().model(), after = before;
    PassContext context;
    auto reports = loaded.apply(after, context);
    QCOMPARE(reports.size(), size_t{3});
    QCOMPARE(reports[1].pass_name, std::string("remove_identity"));
    QCOMPARE(reports[1].nodes_removed, 3);
    QCOMPARE(countOps(after, "Identity"), 0);
    verifyEquivalent(before, after);
  }

  void badRecipes_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("not a recipe") << R"({"passes": []})"
                                  << "format";
    QTest::newRow("version") << R"({"format":"edgetune-recipe","version":7,"passes":[]})"
                             << "version";
    QTest::newRow("unknown pass")
        << R"({"format":"edgetune-recipe","version":1,"passes":[{"pass":"cleanup"},{"pass":"frobnicate"}]})"
        << "passes[1]: unknown pass 'frobnicate'";
    QTest::newRow("unknown option")
        << R"({"format":"edgetune-recipe","version":1,"passes":[{"pass":"fold_batchnorm","options":{"cnov":true}}]})"
        << "option 'cnov'";
    QTest::newRow("wrong type")
        << R"({"format":"edgetune-recipe","version":1,"passes":[{"pass":"cleanup","options":{"max_rounds":"many"}}]})"
        << "option 'max_rounds' has the wrong type";
    QTest::newRow("options not an object")
        << R"({"format":"edgetune-recipe","version":1,"passes":[{"pass":"cleanup","options":[1]}]})"
        << "options must be a JSON object";
  }
  void badRecipes() {
    QFETCH(QString, text);
    QFETCH(QString, expected);
    try {
      Recipe::fromJson(nlohmann::json::parse(text.toStdString()), PassRegistry::withBuiltins(), "bad.json");
      QFAIL("bad recipe accepted");
    } catch (const Error& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find("bad.json") != std::string::npos, msg.c_str());
      QVERIFY2(msg.find(expected.toStdString()) != std::string::npos, msg.c_str());
    }
  }

  void cancelledJobStopsRecipe() {
    JobContext job;
    job.cancel();
    PassContext context(&job);
    Recipe recipe;
    recipe.add(std::make_unique<CleanupPass>());
    Model model = identityChain().model();
    const std::string before = model.serialize();
    QVERIFY_THROWS_EXCEPTION(CancelledError, recipe.apply(model, context));
    QCOMPARE(model.serialize(), before);
  }
};

QTEST_GUILESS_MAIN(TestPassesCleanup)
#include "test_passes_cleanup.moc"
