// fold_constants, fold_shapes and fold_batchnorm on hand-built graphs, with the cases that must not fold.
#include <QtTest>

#include "core/passes/cleanup_passes.h"
#include "core/passes/fp16.h"
#include "core/passes/quantize_passes.h"
#include "core/util/error.h"
#include "tests/test_passes_builder.h"

using namespace edgetune;
using namespace edgetune::test;

namespace {

PassReport run(Pass&& pass, Model& model) {
  PassContext context;
  return pass.apply(model, context);
}

// BatchNormalization initializers with non-trivial statistics for `channels` channels.
void addBatchNorm(GraphBuilder& b, const std::string& prefix, int64_t channels, uint64_t seed) {
  b.init(prefix + ".gamma", randomTensor({channels}, seed, 0.5f, 1.5f));
  b.init(prefix + ".beta", randomTensor({channels}, seed + 1, -0.3f, 0.3f));
  b.init(prefix + ".mean", randomTensor({channels}, seed + 2, -0.5f, 0.5f));
  b.init(prefix + ".var", randomTensor({channels}, seed + 3, 0.3f, 1.5f));
}
onnx::NodeProto& batchNorm(GraphBuilder& b, const std::string& prefix, const std::string& in,
                           const std::string& out) {
  auto& n =
      b.node("BatchNormalization",
             {in, prefix + ".gamma", prefix + ".beta", prefix + ".mean", prefix + ".var"}, {out}, prefix);
  setAttr(n, "epsilon", 1e-3f);
  return n;
}

// x's dimension `axis` as a 1-D int64 tensor, the way torch.onnx writes x.size(axis) for a shape list:
// Shape -> Gather(scalar index) -> Unsqueeze.
std::string dimensionOf(GraphBuilder& b, const std::string& x, int64_t axis) {
  const std::string p = x + ".dim" + std::to_string(axis);
  b.init(p + ".index", Tensor::from<int64_t>({}, std::vector<int64_t>{axis}));
  b.init(p + ".axes", Tensor::from<int64_t>({1}, std::vector<int64_t>{0}));
  b.node("Shape", {x}, {p + ".shape"});
  b.node("Gather", {p + ".shape", p + ".index"}, {p + ".scalar"});
  b.node("Unsqueeze", {p + ".scalar", p + ".axes"}, {p});
  return p;
}

// ONNX Runtime gives the same outputs before and after at batch sizes 1 and 3 (the symbolic dimension "N").
void verifyAtBatchSizes(const Model& before, const Model& after) {
  for (int64_t batch : {1, 3}) {
    const double diff = compareInOrt(before, after, randomInputs(before, 7, batch));
    QVERIFY2(diff <= 1e-6,
             ("batch " + std::to_string(batch) + ": difference " + std::to_string(diff)).c_str());
  }
}
}  // namespace

class TestPassesFold : public QObject {
  Q_OBJECT
 private slots:
  // ---------------------------------------------------------------- fold_constants
  void constantNodesBecomeInitializers() {
    GraphBuilder b;
    b.input("x", {-1, 3}).output("y", {-1, 3});
    setAttr(b.node("Constant", {}, {"c"}), "value", randomTensor({3}, 4));
    auto& s = b.node("Constant", {}, {"s"});
    auto* a = s.add_attribute();
    a->set_name("value_float");
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(2.5f);
    b.node("Add", {"x", "c"}, {"a"});
    b.node("Mul", {"a", "s"}, {"y"});
    Model before = b.model(), after = before;
    PassReport r = run(FoldConstantsPass(), after);
    QCOMPARE(r.nodes_removed, 2);
    QCOMPARE(countOps(after, "Constant"), 0);
    QVERIFY(after.isInitializer("c") && after.isInitializer("s"));
    QCOMPARE(after.graph().node_size(), 2);
    verifyEquivalent(before, after);
  }

  void constantSubgraphIsEvaluated() {
    // y = x @ (Transpose(W) * 0.5) + Shape-free bias chain; Transpose and Mul depend on constants only.
    GraphBuilder b;
    b.input("x", {-1, 4}).output("y", {-1, 3});
    b.init("W", randomTensor({3, 4}, 11));
    b.init("half", Tensor::from<float>({}, std::vector<float>{0.5f}));
    b.init("bias", randomTensor({3}, 12));
    setAttr(b.node("Transpose", {"W"}, {"wt"}), "perm", std::vector<int64_t>{1, 0});
    b.node("Mul", {"wt", "half"}, {"ws"});
    b.node("Neg", {"bias"}, {"nb"});
    b.node("MatMul", {"x", "ws"}, {"m"});
    b.node("Add", {"m", "nb"}, {"y"});
    Model before = b.model(), after = before;
    PassReport r = run(FoldConstantsPass(), after);
    QCOMPARE(r.nodes_removed, 3);
    QCOMPARE(after.graph().node_size(), 2);
    QCOMPARE(countOps(after, "MatMul"), 1);
    QVERIFY(after.isInitializer("ws") && after.isInitializer("nb"));
    // The inputs only the folded nodes read are gone; the folded weight has the right values.
    QVERIFY(!after.isInitializer("W") && !after.isInitializer("half") && !after.isInitializer("bias"));
    QCOMPARE(r.initializers_removed, 3);
    Tensor ws = tensorFromProto(*after.initializer("ws"));
    QCOMPARE(ws.shape(), (std::vector<int64_t>{4, 3}));
    Tensor w = tensorFromProto(*before.initializer("W"));
    QCOMPARE(ws.values<float>()[1 * 3 + 2], w.values<float>()[2 * 4 + 1] * 0.5f);
    verifyEquivalent(before, after);
  }

  // INT8 weights behind DequantizeLinear and FP16 weights behind a Cast read only constants, but they are how
  // compressed models store weights: folding them would write FP32 back (3x the file, the QDQ fusion gone).
  void compressedWeightsAreNotDecompressed() {
    GraphBuilder b;
    b.input("x", {-1, 64}).output("y", {-1, 64});
    b.init("W", randomTensor({64, 64}, 3));
    b.node("MatMul", {"x", "W"}, {"y"});
    Model int8 = b.model();
    QuantizeOptions q;
    q.min_weight_elements = 1;
    quantizeWeightsOnly(int8, q);
    QCOMPARE(countOps(int8, "DequantizeLinear"), 1);
    Model folded = int8;
    run(FoldConstantsPass(), folded);
    QCOMPARE(countOps(folded, "DequantizeLinear"), 1);
    QVERIFY(folded.serialize().size() <= int8.serialize().size());

    Model fp16 = b.model();
    convertToFp16(fp16, Fp16Options{});
    const size_t fp16_bytes = fp16.serialize().size();
    folded = fp16;
    run(FoldConstantsPass(), folded);
    QVERIFY2(folded.serialize().size() <= fp16_bytes,
             qPrintable(QString("%1 -> %2 bytes").arg(fp16_bytes).arg(folded.serialize().size())));
  }

  void nonConstantGraphUnchanged() {
    GraphBuilder b;
    b.input("x", {-1, 4}).output("y", {-1, 4});
    b.init("W", randomTensor({4}, 1));
    b.node("Relu", {"x"}, {"r"});
    b.node("Add", {"r", "W"}, {"y"});
    Model before = b.model(), after = before;
    QVERIFY(!run(FoldConstantsPass(), after).changed());
    QCOMPARE(after.serialize(), before.serialize());
  }

  void randomOpsNeverFold() {
    GraphBuilder b;
    b.input("x", {2, 4}).output("y", {2, 4});
    b.init("W", randomTensor({2, 4}, 1));
    b.node("RandomUniformLike", {"W"}, {"noise"});
    b.node("Add", {"x", "noise"}, {"y"});
    Model before = b.model(), after = before;
    QVERIFY(!run(FoldConstantsPass(), after).changed());
    QCOMPARE(countOps(after, "RandomUniformLike"), 1);
  }

  void hugeResultsStayComputed() {
    // ConstantOfShape -> Add: the 4000-byte result exceeds the (lowered) limit, so nothing is folded.
    GraphBuilder b;
    b.input("x", {-1, 1000}).output("y", {-1, 1000});
    b.init("shape", Tensor::from<int64_t>({1}, std::vector<int64_t>{1000}));
    b.init("one", Tensor::from<float>({1}, std::vector<float>{1.f}));
    setAttr(b.node("ConstantOfShape", {"shape"}, {"ones"}), "value",
            Tensor::from<float>({1}, std::vector<float>{3.f}));
    b.node("Add", {"ones", "one"}, {"fours"});
    b.node("Mul", {"x", "fours"}, {"y"});
    Model before = b.model();
    FoldConstantsOptions small;
    small.max_folded_bytes = 1000;
    Model limited = before;
    QVERIFY(!run(FoldConstantsPass(small), limited).changed());
    QCOMPARE(limited.graph().node_size(), 3);
    // With the default limit the same chain folds.
    Model folded = before;
    QCOMPARE(run(FoldConstantsPass(), folded).nodes_removed, 2);
    QCOMPARE(folded.graph().node_size(), 1);
    verifyEquivalent(before, folded);
  }

  void graphOutputsAreNotFolded() {
    GraphBuilder b;
    b.input("x", {3}).output("y", {3}).output("k", {3});
    b.init("W", randomTensor({3}, 1));
    b.node("Neg", {"W"}, {"k"});  // a constant graph output: it must stay a node's output
    b.node("Add", {"x", "k"}, {"y"});
    Model before = b.model(), after = before;
    QVERIFY(!run(FoldConstantsPass(), after).changed());
    QCOMPARE(after.graph().node_size(), 2);
  }

  // ---------------------------------------------------------------- fold_shapes
  void channelShuffleShapesBecomeConstants() {
    // ShuffleNet's channel shuffle as torch.onnx exports it with a dynamic batch: both Reshapes read shapes
    // computed at run time from Shape nodes.
    GraphBuilder b(13);
    b.input("x", {-1, 4, 2, 2}).output("y", {-1, 4, 2, 2});
    b.init("groups", Tensor::from<int64_t>({2}, std::vector<int64_t>{2, 2}));
    b.init("rest", Tensor::from<int64_t>({1}, std::vector<int64_t>{-1}));
    b.node("Relu", {"x"}, {"a"});
    const std::string n = dimensionOf(b, "a", 0), h = dimensionOf(b, "a", 2), w = dimensionOf(b, "a", 3);
    setAttr(b.node("Concat", {n, "groups", h, w}, {"split_shape"}), "axis", int64_t{0});
    b.node("Reshape", {"a", "split_shape"}, {"split"});
    setAttr(b.node("Transpose", {"split"}, {"shuffled"}), "perm", std::vector<int64_t>{0, 2, 1, 3, 4});
    const std::string n2 = dimensionOf(b, "shuffled", 0);
    setAttr(b.node("Concat", {n2, "rest", h, w}, {"merge_shape"}), "axis", int64_t{0});
    b.node("Reshape", {"shuffled", "merge_shape"}, {"y"});
    Model before = b.model(), after = before;
    PassReport r = run(CleanupPass(), after);
    QVERIFY(r.changed());
    QCOMPARE(countOps(after, "Shape"), 0);
    QCOMPARE(countOps(after, "Gather") + countOps(after, "Unsqueeze") + countOps(after, "Concat"), 0);
    QCOMPARE(after.graph().node_size(), 4);  // Relu, Reshape, Transpose, Reshape
    for (const auto& node : after.graph().node()) {
      if (node.op_type() != "Reshape") continue;
      QVERIFY(after.isInitializer(node.input(1)));
      auto shape = tensorFromProto(*after.initializer(node.input(1)));
      QCOMPARE(shape.values<int64_t>()[0], int64_t{0});  // the batch is copied from the input at run time
    }
    verifyAtBatchSizes(before, after);
  }

  void symbolicEntryAtAnotherPositionIsKept() {
    // y = x.reshape(4, N): the batch moves to position 1, where x has 4, so "copy" (0) would be wrong.
    GraphBuilder b(13);
    b.input("x", {-1, 4}).output("y", {4, -1});
    b.init("four", Tensor::from<int64_t>({1}, std::vector<int64_t>{4}));
    const std::string n = dimensionOf(b, "x", 0);
    setAttr(b.node("Concat", {"four", n}, {"shape"}), "axis", int64_t{0});
    b.node("Reshape", {"x", "shape"}, {"y"});
    Model before = b.model(), after = before;
    run(FoldShapesPass(), after);
    QCOMPARE(countOps(after, "Shape"), 1);
    QVERIFY(!after.isInitializer(after.graph().node(after.graph().node_size() - 1).input(1)));
    verifyAtBatchSizes(before, after);
  }

  // ---------------------------------------------------------------- fold_batchnorm
  void foldBatchNorm_data() {
    QTest::addColumn<QString>("producer");
    QTest::addColumn<bool>("with_bias");
    QTest::newRow("conv") << "Conv" << false;
    QTest::newRow("conv with bias") << "Conv" << true;
    QTest::newRow("grouped conv with bias") << "GroupConv" << true;
    QTest::newRow("gemm transB") << "GemmT" << true;
    QTest::newRow("gemm transB no bias") << "GemmT" << false;
    QTest::newRow("gemm beta 0.5") << "Gemm" << true;
  }
  void foldBatchNorm() {
    QFETCH(QString, producer);
    QFETCH(bool, with_bias);
    GraphBuilder b;
    const bool gemm = producer.startsWith("Gemm");
    if (!gemm) {
      const int64_t group = producer == "GroupConv" ? 2 : 1;
      b.input("x", {-1, 4, 6, 6}).output("y", {-1, 6, 6, 6});
      b.init("W", randomTensor({6, 4 / group, 3, 3}, 21));
      std::vector<std::string> in = {"x", "W"};
      if (with_bias) {
        b.init("B", randomTensor({6}, 22));
        in.push_back("B");
      }
      auto& conv = b.node("Conv", in, {"c"}, "conv");
      setAttr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
      setAttr(conv, "group", group);
    } else {
      const bool trans_b = producer == "GemmT";
      b.input("x", {-1, 5}).output("y", {-1, 6});
      b.init("W", randomTensor(trans_b ? std::vector<int64_t>{6, 5} : std::vector<int64_t>{5, 6}, 23));
      std::vector<std::string> in = {"x", "W"};
      if (with_bias) {
        b.init("B", randomTensor({6}, 24));
        in.push_back("B");
      }
      auto& g = b.node("Gemm", in, {"c"}, "gemm");
      if (trans_b)
        setAttr(g, "transB", int64_t{1});
      else
        setAttr(g, "beta", 0.5f), setAttr(g, "alpha", 1.5f);
    }
    addBatchNorm(b, "bn", 6, 31);
    batchNorm(b, "bn", "c", "n");
    b.node("Relu", {"n"}, {"y"});
    Model before = b.model(), after = before;
    PassReport r = run(FoldBatchNormPass(), after);
    QCOMPARE(r.nodes_removed, 1);
    QCOMPARE(countOps(after, "BatchNormalization"), 0);
    QCOMPARE(after.graph().node_size(), 2);
    QCOMPARE(r.initializers_removed, 4);  // the statistics
    QCOMPARE(after.parameterCount(), before.parameterCount() - 12 + (with_bias ? 0 : 6));
    verifyEquivalent(before, after);
  }

  void sharedWeightsAreCopiedNotChanged() {
    // Two convs share W, each followed by its own BatchNorm: both fold, into separate weights.
    GraphBuilder b;
    b.input("x", {1, 3, 5, 5}).output("y", {1, 4, 3, 3});
    b.init("W", randomTensor({4, 3, 3, 3}, 41));
    b.node("Conv", {"x", "W"}, {"c1"}, "conv1");
    b.node("Conv", {"x", "W"}, {"c2"}, "conv2");
    addBatchNorm(b, "bn1", 4, 50);
    addBatchNorm(b, "bn2", 4, 60);
    batchNorm(b, "bn1", "c1", "n1");
    batchNorm(b, "bn2", "c2", "n2");
    b.node("Add", {"n1", "n2"}, {"y"});
    Model before = b.model(), after = before;
    QCOMPARE(run(FoldBatchNormPass(), after).nodes_removed, 2);
    QVERIFY(after.graph().node(0).input(1) != after.graph().node(1).input(1));
    verifyEquivalent(before, after);
  }

  void batchNormNotFolded_data() {
    QTest::addColumn<int>("kind");
    QTest::newRow("conv output has another reader") << 0;
    QTest::newRow("conv output is a graph output") << 1;
    QTest::newRow("after Relu") << 2;
    QTest::newRow("conv weight is a runtime input") << 3;
    QTest::newRow("option conv off") << 4;
  }
  void batchNormNotFolded() {
    QFETCH(int, kind);
    GraphBuilder b;
    b.input("x", {1, 2, 4, 4}).output("y", {1, 3, 4, 4});
    if (kind == 3)
      b.input("W", {3, 2, 1, 1});
    else
      b.init("W", randomTensor({3, 2, 1, 1}, 7));
    b.node("Conv", {"x", "W"}, {"c"}, "conv");
    addBatchNorm(b, "bn", 3, 70);
    if (kind == 2) {
      b.node("Relu", {"c"}, {"r"});
      batchNorm(b, "bn", "r", "y");
    } else {
      batchNorm(b, "bn", "c", "n");
      if (kind == 0)
        b.node("Relu", {"c"}, {"other"}), b.node("Add", {"n", "other"}, {"y"});
      else if (kind == 1)
        b.output("c", {1, 3, 4, 4}), b.node("Relu", {"n"}, {"y"});
      else
        b.node("Relu", {"n"}, {"y"});
    }
    Model before = b.model(), after = before;
    FoldBatchNormOptions options;
    options.conv = kind != 4;
    QVERIFY(!run(FoldBatchNormPass(options), after).changed());
    QCOMPARE(after.serialize(), before.serialize());
  }
};

QTEST_GUILESS_MAIN(TestPassesFold)
#include "test_passes_fold.moc"
