// The progressive measurement: size, then ONNX Runtime latency, then accuracy refined on a growing seeded
// subset of real Fashion-MNIST until the limit; a cancelled job stops it with CancelledError.
#include <QtTest>

#include "core/data/dataset.h"
#include "core/pipeline/progressive_measurement.h"
#include "core/util/error.h"
#include "core/zoo/model_source.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;

class TestProgressiveMeasurement : public QObject {
  Q_OBJECT
 private slots:
  void stagesArriveInOrder() {
    const Model model = zoo::loadModelSource("zoo:mlp?input_channels=1&image_size=28");
    const auto dataset = openDataset("fashion-mnist?limit=300");
    MeasureOptions options;
    options.latency_runs = 3;
    options.latency_warmup = 1;
    options.batch_size = 50;
    options.accuracy_limit = 200;
    JobContext job;
    std::vector<MeasureUpdate> updates;
    const VariantMetrics m = measureVariant(model, dataset.get(), options, job,
                                            [&](const MeasureUpdate& u) { updates.push_back(u); });
    QVERIFY(updates.size() >=
            4);  // size, latency, and accuracy at least twice (200 examples in batches of 50)
    QCOMPARE(updates[0].stage, MeasureUpdate::Stage::Size);
    QVERIFY(updates[0].metrics.size_bytes && !updates[0].metrics.latency_ms);
    QCOMPARE(updates[1].stage, MeasureUpdate::Stage::Latency);
    QVERIFY(updates[1].metrics.latency_ms && !updates[1].metrics.accuracy);
    int64_t previous = 0;
    for (size_t i = 2; i < updates.size(); ++i) {
      QCOMPARE(updates[i].stage, MeasureUpdate::Stage::Accuracy);
      QVERIFY(*updates[i].metrics.accuracy_count > previous);  // the subset grows
      previous = *updates[i].metrics.accuracy_count;
      QVERIFY(*updates[i].metrics.accuracy_low <= *updates[i].metrics.accuracy);
      QVERIFY(*updates[i].metrics.accuracy <= *updates[i].metrics.accuracy_high);
    }
    QVERIFY(updates.back().accuracy_final);
    QCOMPARE(*m.accuracy_count, int64_t{200});
    QCOMPARE(*m.size_bytes, static_cast<int64_t>(model.serialize().size()));
    QCOMPARE(*m.params, model.parameterCount());
  }

  void noDatasetMeansNoAccuracy() {
    const Model model = zoo::loadModelSource("zoo:mlp?input_channels=1&image_size=28");
    MeasureOptions options;
    options.latency_runs = 2;
    JobContext job;
    const VariantMetrics m = measureVariant(model, nullptr, options, job, {});
    QVERIFY(m.latency_ms && m.latency_p90_ms && !m.accuracy);
  }

  void cancellingStopsIt() {
    const Model model = zoo::loadModelSource("zoo:mlp?input_channels=1&image_size=28");
    MeasureOptions options;
    options.latency_runs = 2;
    JobContext job;
    int updates = 0;
    QVERIFY_THROWS_EXCEPTION(CancelledError,
                             measureVariant(model, nullptr, options, job, [&](const MeasureUpdate&) {
                               ++updates;
                               job.cancel();  // the user moved the knob again
                             }));
    QCOMPARE(updates, 1);  // nothing after the size
  }
};

QTEST_GUILESS_MAIN(TestProgressiveMeasurement)
#include "test_progressive_measurement.moc"
