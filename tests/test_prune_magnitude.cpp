// prune_magnitude: exact sparsity per layer and globally, the smallest weights go first, masks match the
// zeros, layer selection by op type and regex, the cubic schedule, and the honest size report.
#include <QtTest>

#include <cmath>

#include "core/passes/prune_magnitude.h"
#include "core/util/error.h"
#include "core/zoo/zoo.h"
#include "tests/test_passes_builder.h"

using namespace edgetune;
using namespace edgetune::test;

namespace {

// input [N,8] -> Gemm fc1 (16x8) -> Relu -> Gemm fc2 (4x16) -> logits. fc1 weights are 1..128 (by position)
// so which weights go is predictable.
Model twoLayerMlp() {
  GraphBuilder b;
  b.input("x", {-1, 8}).output("logits", {-1, 4});
  std::vector<float> w1(16 * 8);
  for (size_t i = 0; i < w1.size(); ++i) w1[i] = (i % 2 ? -1.0f : 1.0f) * static_cast<float>(i + 1);
  b.init("fc1.weight", Tensor::from<float>({16, 8}, w1));
  b.init("fc1.bias", randomTensor({16}, 1));
  b.init("fc2.weight", randomTensor({4, 16}, 2, -0.01f, 0.01f));  // all far smaller than fc1's
  b.init("fc2.bias", randomTensor({4}, 3));
  setAttr(b.node("Gemm", {"x", "fc1.weight", "fc1.bias"}, {"h"}, "fc1"), "transB", int64_t{1});
  b.node("Relu", {"h"}, {"r"}, "relu");
  setAttr(b.node("Gemm", {"r", "fc2.weight", "fc2.bias"}, {"logits"}, "fc2"), "transB", int64_t{1});
  return b.model();
}

int64_t zeros(const Model& m, const std::string& init) {
  Tensor t = tensorFromProto(*m.initializer(init));
  auto v = t.values<float>();
  return std::count(v.begin(), v.end(), 0.0f);
}

}  // namespace

class TestPruneMagnitude : public QObject {
  Q_OBJECT
 private slots:
  void perLayerSparsity_data() {
    QTest::addColumn<double>("sparsity");
    QTest::newRow("0") << 0.0;
    QTest::newRow("0.25") << 0.25;
    QTest::newRow("0.5") << 0.5;
    QTest::newRow("0.9") << 0.9;
  }
  void perLayerSparsity() {
    QFETCH(double, sparsity);
    Model m = twoLayerMlp();
    PruneMagnitudeOptions o;
    o.sparsity = sparsity;
    auto r = pruneMagnitude(m, o);
    QCOMPARE(r.layers.size(), size_t(2));
    QCOMPARE(zeros(m, "fc1.weight"), static_cast<int64_t>(std::floor(sparsity * 128)));
    QCOMPARE(zeros(m, "fc2.weight"), static_cast<int64_t>(std::floor(sparsity * 64)));
    QCOMPARE(r.layers[0].zeros, zeros(m, "fc1.weight"));
    // The smallest magnitudes went: fc1's weight at position i has |w| = i + 1.
    Tensor w = tensorFromProto(*m.initializer("fc1.weight"));
    const auto k = static_cast<size_t>(std::floor(sparsity * 128));
    for (size_t i = 0; i < 128; ++i) QCOMPARE(w.values<float>()[i] == 0.0f, i < k);
    // Masks agree with the zeros and biases were not touched.
    const auto& mask = r.masks.at("fc1.weight");
    for (size_t i = 0; i < 128; ++i) QCOMPARE(mask[i] == 0, i < k);
    QCOMPARE(zeros(m, "fc1.bias"), int64_t(0));
    m.check();
  }

  void globalThresholdPrunesSmallLayerFirst() {
    Model m = twoLayerMlp();
    PruneMagnitudeOptions o;
    o.sparsity = 64.0 / 192.0;  // exactly fc2's 64 weights, all smaller than any of fc1's
    o.scope = MagnitudeScope::Global;
    auto r = pruneMagnitude(m, o);
    QCOMPARE(zeros(m, "fc2.weight"), int64_t(64));
    QCOMPARE(zeros(m, "fc1.weight"), int64_t(0));
    QCOMPARE(r.zeros, int64_t(64));
    QCOMPARE(r.weights, int64_t(192));
  }

  void selectionByRegexAndOpType() {
    Model m = twoLayerMlp();
    PruneMagnitudeOptions o;
    o.sparsity = 0.5;
    o.exclude_regex = "^fc2$";
    auto r = pruneMagnitude(m, o);
    QCOMPARE(r.layers.size(), size_t(1));
    QCOMPARE(QString::fromStdString(r.layers[0].node), QString("fc1"));
    QCOMPARE(zeros(m, "fc2.weight"), int64_t(0));

    Model m2 = twoLayerMlp();
    o = {};
    o.op_types = {"Conv"};
    QVERIFY_THROWS_EXCEPTION(Error, pruneMagnitude(m2, o));  // no Conv: a clear error, not a silent no-op
    o = {};
    o.include_regex = "([";
    QVERIFY_THROWS_EXCEPTION(Error, pruneMagnitude(m2, o));
    o = {};
    o.sparsity = 1.0;
    QVERIFY_THROWS_EXCEPTION(Error, pruneMagnitude(m2, o));
    o = {};
    o.per_layer["nope"] = 0.2;
    QVERIFY_THROWS_EXCEPTION(Error, pruneMagnitude(m2, o));
  }

  void perLayerOverride() {
    Model m = twoLayerMlp();
    PruneMagnitudeOptions o;
    o.sparsity = 0.5;
    o.per_layer["fc2"] = 0.25;
    pruneMagnitude(m, o);
    QCOMPARE(zeros(m, "fc1.weight"), int64_t(64));
    QCOMPARE(zeros(m, "fc2.weight"), int64_t(16));
  }

  void masksHoldAfterUpdate() {
    Model m = twoLayerMlp();
    PruneMagnitudeOptions o;
    o.sparsity = 0.5;
    auto r = pruneMagnitude(m, o);
    // A "training step" that moves every weight; re-applying the masks restores exactly the pruned zeros.
    Tensor w = tensorFromProto(*m.initializer("fc1.weight"));
    for (auto& v : w.values<float>()) v += 0.5f;
    *m.mutableInitializer("fc1.weight") = tensorToProto("fc1.weight", w);
    QCOMPARE(zeros(m, "fc1.weight"), int64_t(0));
    applyMasks(m, r.masks);
    QCOMPARE(zeros(m, "fc1.weight"), int64_t(64));
    WeightMasks bad{{"fc1.weight", std::vector<uint8_t>(3, 1)}};
    QVERIFY_THROWS_EXCEPTION(Error, applyMasks(m, bad));
  }

  void cubicSchedule() {
    QCOMPARE(cubicSparsity(0.8, 0, 100), 0.0);
    QCOMPARE(cubicSparsity(0.8, 100, 100), 0.8);
    QVERIFY(std::fabs(cubicSparsity(0.8, 50, 100) - 0.8 * (1 - 0.125)) < 1e-12);
    QCOMPARE(cubicSparsity(0.8, 200, 100), 0.8);  // clamped
    double prev = -1;
    for (int t = 0; t <= 10; ++t) {  // monotone, front-loaded
      const double s = cubicSparsity(0.9, t, 10);
      QVERIFY(s >= prev);
      prev = s;
    }
    QVERIFY(cubicSparsity(0.9, 1, 10) > 0.9 / 10);
  }

  void sizeReportIsHonest() {
    Model m = zoo::buildZooModel("resnet8");
    PruneMagnitudeOptions o;
    o.sparsity = 0.8;
    auto r = pruneMagnitude(m, o);
    qInfo("resnet8 at 80%% sparsity: onnx %lld -> %lld bytes, zstd %lld -> %lld bytes",
          static_cast<long long>(r.size_before.onnx_file_bytes),
          static_cast<long long>(r.size_after.onnx_file_bytes),
          static_cast<long long>(r.size_before.zstd_compressed_bytes),
          static_cast<long long>(r.size_after.zstd_compressed_bytes));
    // Zeros do not make the ONNX file smaller (within a few bytes of protobuf framing) ...
    QVERIFY(std::llabs(r.size_after.onnx_file_bytes - r.size_before.onnx_file_bytes) < 64);
    // ... but they do compress: at 80% zeros the download is far smaller than the dense one.
    QVERIFY(r.size_after.zstd_compressed_bytes < r.size_before.zstd_compressed_bytes * 0.6);
    const auto j = r.toJson();
    QVERIFY(j["size_after"].contains("onnx_file_note"));
    QVERIFY(j["size_after"].contains("zstd_compressed_note"));
    // Pruned model still runs in ONNX Runtime.
    auto exec = makeOrtExecutor(m);
    auto out = exec->run(randomInputs(m, 1));
    QCOMPARE(out[0].shape(), (std::vector<int64_t>{1, 10}));
  }

  void passThroughRegistry() {
    PassRegistry registry = PassRegistry::withBuiltins();
    auto pass = registry.create("prune_magnitude", {{"sparsity", 0.5}, {"scope", "global"}});
    QCOMPARE(pass->optionsJson()["scope"].get<std::string>(), std::string("global"));
    QVERIFY_THROWS_EXCEPTION(Error, registry.create("prune_magnitude", {{"sparsty", 0.5}}));
    Model m = twoLayerMlp();
    PassContext ctx;
    PassReport rep = pass->apply(m, ctx);
    QVERIFY(rep.changed());
    QVERIFY(!static_cast<PruneMagnitudePass&>(*pass).masks().empty());
    QCOMPARE(zeros(m, "fc1.weight") + zeros(m, "fc2.weight"), int64_t(96));
  }
};

QTEST_GUILESS_MAIN(TestPruneMagnitude)
#include "test_prune_magnitude.moc"
