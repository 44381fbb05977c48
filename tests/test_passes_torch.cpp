// The cleanup pipeline on models made by the real torch.onnx exporter
// (tests/fixtures/torch/make_fixtures.py): the graph gets smaller and its outputs still match the original
// model and torch's own saved output.
#include <QtTest>

#include <fstream>

#include "core/ir/stats.h"
#include "core/passes/cleanup_passes.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "tests/test_passes_builder.h"
#include "tests/torch_sample.h"

using namespace edgetune;
using namespace edgetune::test;

namespace {

using Sample = test::TorchSample;
const auto readSample = test::readTorchSample;

}  // namespace

class TestPassesTorch : public QObject {
  Q_OBJECT
 private slots:
  void cleanupTorchExports_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("int_high");  // range of random integer inputs (token ids)
    QTest::newRow("small_cnn") << "small_cnn" << 2;
    QTest::newRow("shufflenet_v2_x0_5") << "shufflenet_v2_x0_5" << 2;
    QTest::newRow("tiny_bert") << "tiny_bert" << 2;
  }
  void cleanupTorchExports() {
    QFETCH(QString, name);
    QFETCH(int, int_high);
    const auto dir = fixture("torch");
    Model original = Model::load(dir / (name.toStdString() + ".onnx"));
    Model cleaned = original;
    PassContext context;
    PassReport report = CleanupPass().apply(cleaned, context);
    qInfo("%s: %d -> %d nodes, %d -> %d initializers", qPrintable(name), original.graph().node_size(),
          cleaned.graph().node_size(), original.graph().initializer_size(),
          cleaned.graph().initializer_size());

    QVERIFY(cleaned.graph().node_size() < original.graph().node_size());
    QCOMPARE(countOps(cleaned, "Identity"), 0);
    QCOMPARE(countOps(cleaned, "BatchNormalization"), 0);
    QCOMPARE(countOps(cleaned, "Constant"), 0);
    QCOMPARE(countOps(cleaned, "Dropout"), 0);
    // Folding BatchNorm drops its statistics and (where a conv had none) adds a bias; weights stay otherwise.
    QVERIFY(cleaned.parameterCount() <= original.parameterCount() + 1000);
    // A fixed point: running it again changes nothing.
    QVERIFY(!CleanupPass().apply(cleaned, context).changed());

    verifyEquivalent(original, cleaned, int_high);

    // Against torch itself, on the sample saved at export time.
    Sample sample = readSample(dir / (name.toStdString() + ".sample.bin"));
    const double original_vs_torch =
        relativeMaxDiff(makeOrtExecutor(original)->run(sample.inputs), sample.outputs);
    const double cleaned_vs_torch =
        relativeMaxDiff(makeOrtExecutor(cleaned)->run(sample.inputs), sample.outputs);
    QVERIFY2(original_vs_torch <= 1e-4, std::to_string(original_vs_torch).c_str());
    QVERIFY2(cleaned_vs_torch <= 1e-4, std::to_string(cleaned_vs_torch).c_str());

    // The cleaned model saves, loads and keeps its statistics consistent.
    TempDir tmp;
    cleaned.save(tmp / "cleaned.onnx");
    Model reloaded = Model::load(tmp / "cleaned.onnx");
    QCOMPARE(computeStats(reloaded).macs, computeStats(cleaned).macs);
  }

  void expectedExporterArtifacts() {
    // What the fixtures are for: torch 1.13 leaves these for the cleanup to remove.
    const auto dir = fixture("torch");
    Model cnn = Model::load(dir / "small_cnn.onnx");
    QCOMPARE(countOps(cnn, "BatchNormalization"), 3);
    Model bert = Model::load(dir / "tiny_bert.onnx");
    QVERIFY(countOps(bert, "Identity") > 0);
    QCOMPARE(bert.inputs().size(), size_t{3});
    QCOMPARE(bert.inputs()[0].name, std::string("input_ids"));
    Model net = Model::load(dir / "shufflenet_v2_x0_5.onnx");
    QVERIFY(countOps(net, "Constant") > 0);
  }
};

QTEST_GUILESS_MAIN(TestPassesTorch)
#include "test_passes_torch.moc"
