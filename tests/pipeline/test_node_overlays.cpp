// Per-node overlays: latency shares from ONNX Runtime's profiler and quantization error per node, on zoo
// models (real ONNX Runtime, real Fashion-MNIST).
#include <QtTest>

#include <cmath>

#include "core/data/dataset.h"
#include "core/pipeline/node_overlays.h"
#include "core/pipeline/variant_model.h"
#include "core/zoo/model_source.h"
#include "tests/test_passes_builder.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;
using edgetune::zoo::loadModelSource;
using test::countOps;

class TestNodeOverlays : public QObject {
  Q_OBJECT
 private slots:
  void latencySharesComeFromTheProfiler() {
    Model m = loadModelSource("zoo:resnet8?input_channels=1&image_size=28");
    const auto shares = measureLatencyShares(m, 3);
    QCOMPARE(static_cast<int>(shares.size()), m.graph().node_size());
    double sum = 0;
    int measured = 0, conv_measured = 0;
    for (int i = 0; i < m.graph().node_size(); ++i) {
      if (std::isnan(shares[i])) continue;
      ++measured;
      sum += shares[i];
      if (m.graph().node(i).op_type() == "Conv" && shares[i] > 0) ++conv_measured;
    }
    QVERIFY2(measured > m.graph().node_size() / 2, qPrintable(QString::number(measured)));
    QCOMPARE(conv_measured, countOps(m, "Conv"));
    QVERIFY(std::abs(sum - 1.0) < 1e-6);
  }

  void quantizationErrorOverlay() {
    if (!builtinPassRegistry().contains("quantize")) QSKIP("quantize pass not built");
    Model m = loadModelSource("zoo:mlp?input_channels=1&image_size=28");
    auto dataset = openDataset("fashion-mnist?limit=64");
    const nlohmann::json recipe = {
        {"format", "edgetune-recipe"},
        {"version", 1},
        {"passes",
         {{{"pass", "quantize"}, {"options", {{"mode", "static"}, {"data", "fashion-mnist?limit=64"}}}}}}};
    Model q;
    std::vector<double> errors;
    try {
      q = applyRecipe(m, recipe);
      errors = quantizationErrorPerNode(m, m, q, *dataset, 32);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    int measured = 0;
    for (double e : errors) measured += std::isnan(e) ? 0 : 1;
    QVERIFY(measured > 0);
    // Against itself there is no quantization noise: every measured SNR is huge, so -SNR is very negative.
    const auto none = quantizationErrorPerNode(m, m, m, *dataset, 32);
    for (double e : none) QVERIFY(std::isnan(e) || e < -60);
  }
};

QTEST_GUILESS_MAIN(TestNodeOverlays)
#include "test_node_overlays.moc"
