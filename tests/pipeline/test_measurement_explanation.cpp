// The line under a measurement: the cases the studio must explain (accuracy at chance after pruning, INT8
// slower without integer dot-product instructions, FP16 slower, unstructured pruning not faster), and the
// cases where it must say nothing (noise, an estimate too uncertain to judge, nothing measured yet).
#include <QtTest>

#include "core/pipeline/measurement_explanation.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;

namespace {

VariantMetrics metrics(double accuracy, double low, double high, double latency_ms) {
  VariantMetrics m;
  m.accuracy = accuracy;
  m.accuracy_low = low;
  m.accuracy_high = high;
  m.latency_ms = latency_ms;
  return m;
}

nlohmann::json recipeOf(const std::string& pass, nlohmann::json options = nlohmann::json::object()) {
  return {{"passes", nlohmann::json::array({{{"pass", pass}, {"options", std::move(options)}}})}};
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

class TestMeasurementExplanation : public QObject {
  Q_OBJECT
 private slots:
  void prunedToChanceNeedsRecovery() {
    MeasurementToExplain m{metrics(0.93, 0.92, 0.94, 2.0),
                           metrics(0.10, 0.08, 0.12, 1.0),
                           recipeOf("prune_channels", {{"ratio", 0.46}}),
                           10,
                           {}};
    const std::string text = joined(explainMeasurement(m));
    QVERIFY2(test::contains(text, "Accuracy fell to chance (10.0% with 10 classes)") &&
                 test::contains(text, "recovery training"),
             text.c_str());
    // A wide interval from a few examples that still reaches past twice chance is not judged yet.
    m.measured = metrics(0.10, 0.02, 0.45, 1.0);
    QVERIFY2(!test::contains(joined(explainMeasurement(m)), "chance"), joined(explainMeasurement(m)).c_str());
    // A clear drop that is not chance: recovery usually wins it back.
    m.measured = metrics(0.80, 0.78, 0.82, 1.0);
    QVERIFY(test::contains(joined(explainMeasurement(m)), "Accuracy fell 13.0 points"));
    // Within noise of the reference: nothing to say.
    m.measured = metrics(0.925, 0.91, 0.94, 1.0);
    QVERIFY(explainMeasurement(m).empty());
  }

  void int8SpeedDependsOnTheCpu() {
    MeasurementToExplain m{metrics(0.93, 0.92, 0.94, 2.0), metrics(0.93, 0.92, 0.94, 2.4),
                           recipeOf("quantize", {{"mode", "static"}}), 10,
                           cpuSupportFromFlags("sse4_2 avx avx2 fma", "host")};
    std::string text = joined(explainMeasurement(m));
    QVERIFY2(test::contains(text, "INT8 is slower here than float: this CPU has no integer dot-product"),
             text.c_str());
    m.cpu = cpuSupportFromFlags("avx2 avx512f avx512bw avx512_vnni", "host");
    text = joined(explainMeasurement(m));
    QVERIFY2(test::contains(text, "quantize and dequantize steps") && !test::contains(text, "no integer"),
             text.c_str());
    m.measured.latency_ms = 1.0;
    QVERIFY(test::contains(joined(explainMeasurement(m)), "INT8 runs 2.00x faster than float"));
    m.measured.latency_ms = 2.02;  // 1%: noise
    QVERIFY(explainMeasurement(m).empty());
  }

  void fp16AndUnstructuredPruning() {
    MeasurementToExplain m{metrics(0.93, 0.92, 0.94, 2.0),
                           metrics(0.93, 0.92, 0.94, 3.0),
                           recipeOf("quantize", {{"mode", "fp16"}}),
                           10,
                           {}};
    QVERIFY(test::contains(joined(explainMeasurement(m)), "FP16 halves the file but is slower"));
    m.recipe = recipeOf("prune_magnitude", {{"sparsity", 0.5}});
    m.measured.latency_ms = 2.0;
    QVERIFY(test::contains(joined(explainMeasurement(m)), "Unstructured pruning zeroes weights"));
  }

  void nothingMeasuredNothingSaid() {
    MeasurementToExplain m;
    m.recipe = recipeOf("prune_channels", {{"ratio", 0.5}});
    m.classes = 10;
    QVERIFY(explainMeasurement(m).empty());
  }
};

QTEST_GUILESS_MAIN(TestMeasurementExplanation)
#include "test_measurement_explanation.moc"
