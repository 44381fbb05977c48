// Model statistics: exact hand-computed parameters, MACs and bytes on a small hand-built graph.
#include <QtTest>

#include "core/ir/stats.h"
#include "tests/test_passes_builder.h"

using namespace edgetune;
using namespace edgetune::test;

namespace {

// x[N,3,8,8] -> Conv(4, 3x3, pad 1, bias) -> BN -> grouped Conv(4, 3x3, stride 2, group 2) ->
// ConvTranspose(2, 2x2, stride 2) -> Flatten -> Gemm(10, transB) -> Add(C again) -> y;  q,k,v[N,2,5,4] ->
// softmax(q@k^T)@v -> att
GraphBuilder statsGraph() {
  GraphBuilder b;
  b.input("x", {-1, 3, 8, 8}).input("q", {-1, 2, 5, 4}).input("k", {-1, 2, 5, 4}).input("v", {-1, 2, 5, 4});
  b.output("y", {-1, 10}).output("att", {-1, 2, 5, 4});
  b.init("W1", randomTensor({4, 3, 3, 3}, 1)).init("B1", randomTensor({4}, 2));
  b.init("gamma", randomTensor({4}, 3, 0.5f, 1.f)).init("beta", randomTensor({4}, 4));
  b.init("mean", randomTensor({4}, 5)).init("var", randomTensor({4}, 6, 0.5f, 1.f));
  b.init("W2", randomTensor({4, 2, 3, 3}, 7));
  b.init("W3", randomTensor({4, 2, 2, 2}, 8));
  b.init("W4", randomTensor({10, 128}, 9)).init("C", randomTensor({10}, 10));
  auto& c1 = b.node("Conv", {"x", "W1", "B1"}, {"c1"}, "conv1");
  setAttr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("BatchNormalization", {"c1", "gamma", "beta", "mean", "var"}, {"n1"}, "bn1");
  auto& c2 = b.node("Conv", {"n1", "W2"}, {"c2"}, "conv2");
  setAttr(c2, "pads", std::vector<int64_t>{1, 1, 1, 1});
  setAttr(c2, "strides", std::vector<int64_t>{2, 2});
  setAttr(c2, "group", int64_t{2});
  auto& ct = b.node("ConvTranspose", {"c2", "W3"}, {"c3"}, "deconv");
  setAttr(ct, "strides", std::vector<int64_t>{2, 2});
  b.node("Flatten", {"c3"}, {"flat"}, "flatten");
  setAttr(b.node("Gemm", {"flat", "W4", "C"}, {"g"}, "fc"), "transB", int64_t{1});
  b.node("Add", {"g", "C"}, {"y"}, "add");
  setAttr(b.node("Transpose", {"k"}, {"kt"}, "kt"), "perm", std::vector<int64_t>{0, 1, 3, 2});
  b.node("MatMul", {"q", "kt"}, {"scores"}, "qk");
  setAttr(b.node("Softmax", {"scores"}, {"probs"}, "softmax"), "axis", int64_t{-1});
  b.node("MatMul", {"probs", "v"}, {"att"}, "pv");
  return b;
}

const NodeStats& find(const ModelStats& s, const std::string& name) {
  for (const auto& n : s.nodes)
    if (n.name == name) return n;
  throw std::runtime_error("no node " + name);
}

}  // namespace

class TestStats : public QObject {
  Q_OBJECT
 private slots:
  void perNode_data() {
    QTest::addColumn<QString>("node");
    QTest::addColumn<qint64>("macs");
    QTest::addColumn<qint64>("params");
    QTest::addColumn<qint64>("weight_bytes");
    QTest::addColumn<qint64>("activation_bytes");
    // conv1: 4*8*8 outputs * (3 * 3*3); params 108 + 4 bias
    QTest::newRow("conv") << "conv1" << qint64(256 * 27) << qint64(112) << qint64(112 * 4) << qint64(256 * 4);
    // BN: gamma + beta are parameters, running mean/var are not (but they are bytes)
    QTest::newRow("batchnorm") << "bn1" << qint64(0) << qint64(8) << qint64(16 * 4) << qint64(256 * 4);
    // grouped conv: 4*4*4 outputs * (4/2 * 3*3)
    QTest::newRow("grouped conv") << "conv2" << qint64(64 * 18) << qint64(72) << qint64(72 * 4)
                                  << qint64(64 * 4);
    // transposed conv: 4*4*4 inputs * (2 * 2*2) -> [1,2,8,8]
    QTest::newRow("conv transpose") << "deconv" << qint64(64 * 8) << qint64(32) << qint64(32 * 4)
                                    << qint64(128 * 4);
    QTest::newRow("gemm") << "fc" << qint64(10 * 128) << qint64(1290) << qint64(1290 * 4) << qint64(10 * 4);
    // C is shared with the Gemm, which owns it
    QTest::newRow("add") << "add" << qint64(0) << qint64(0) << qint64(0) << qint64(10 * 4);
    // attention: both operands are activations; [2,5,4] @ [2,4,5] and [2,5,5] @ [2,5,4] at batch 1
    QTest::newRow("q@k^T") << "qk" << qint64(50 * 4) << qint64(0) << qint64(0) << qint64(50 * 4);
    QTest::newRow("probs@v") << "pv" << qint64(40 * 5) << qint64(0) << qint64(0) << qint64(40 * 4);
  }
  void perNode() {
    QFETCH(QString, node);
    QFETCH(qint64, macs);
    QFETCH(qint64, params);
    QFETCH(qint64, weight_bytes);
    QFETCH(qint64, activation_bytes);
    const ModelStats s = computeStats(statsGraph().model());
    const NodeStats& n = find(s, node.toStdString());
    QCOMPARE(n.macs, macs);
    QCOMPARE(n.params, params);
    QCOMPARE(n.weight_bytes, weight_bytes);
    QCOMPARE(n.activation_bytes, activation_bytes);
  }

  void totals() {
    Model m = statsGraph().model();
    const ModelStats s = computeStats(m);
    QCOMPARE(s.node_count, 11);
    QCOMPARE(s.macs, int64_t{6912 + 1152 + 512 + 1280 + 200 + 200});
    QCOMPARE(s.params, m.parameterCount());
    QCOMPARE(s.params, int64_t{112 + 8 + 72 + 32 + 1290});
    QCOMPARE(s.weight_bytes, int64_t{(112 + 16 + 72 + 32 + 1290) * 4});
    int64_t activations = 0, params = 0;
    for (const auto& n : s.nodes) activations += n.activation_bytes, params += n.params;
    QCOMPARE(s.activation_bytes, activations);
    QCOMPARE(params, s.params);   // every parameter is attributed to exactly one node
    QVERIFY(!s.file_size_bytes);  // built in memory
    QCOMPARE(s.serialized_bytes, static_cast<int64_t>(m.serialize().size()));
    const auto& conv = find(s, "conv1");
    QCOMPARE(conv.output_shapes, (std::vector<std::vector<int64_t>>{{-1, 4, 8, 8}}));
    const auto json = toJson(s);
    QCOMPARE(json["macs"].get<int64_t>(), s.macs);
    QCOMPARE(json["nodes"].size(), size_t{11});
  }

  void fileSizeAndIntegerConstants() {
    // Integer initializers (shapes) are bytes but not parameters; a loaded model knows its file size.
    GraphBuilder b;
    b.input("x", {-1, 6}).output("y", {-1, 2, 3});
    b.init("shape", Tensor::from<int64_t>({3}, std::vector<int64_t>{-1, 2, 3}));
    b.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
    TempDir dir;
    b.model().save(dir / "m.onnx");
    Model m = Model::load(dir / "m.onnx");
    const ModelStats s = computeStats(m);
    QCOMPARE(s.params, int64_t{0});
    QCOMPARE(s.weight_bytes, int64_t{24});
    QCOMPARE(s.macs, int64_t{0});
    QVERIFY(s.file_size_bytes);
    QCOMPARE(*s.file_size_bytes, static_cast<int64_t>(std::filesystem::file_size(dir / "m.onnx")));
  }

  void torchBertHasAttentionMacs() {
    // tiny_bert (hidden 64, 2 layers, intermediate 128): dynamic batch and sequence count as 1, so each
    // layer's Linear layers give 4*64*64 + 2*64*128 MACs; pooler 64*64 and classifier 64*2. Attention at
    // sequence 1: per head [1,1,32]@[1,32,1] and [1,1,1]@[1,1,32] = 32 + 32 MACs, 2 heads.
    Model bert = Model::load(fixture("torch/tiny_bert.onnx"));
    const ModelStats s = computeStats(bert);
    const int64_t per_layer = 4 * 64 * 64 + 2 * 64 * 128 + 2 * (32 + 32);
    QCOMPARE(s.macs, 2 * per_layer + 64 * 64 + 64 * 2);
    QCOMPARE(s.params, bert.parameterCount());
  }
};

QTEST_GUILESS_MAIN(TestStats)
#include "test_stats.moc"
