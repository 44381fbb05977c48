// Project files: the JSON round trip (paths stored relative to the project's folder), the errors a user can
// cause naming the file, and the device latency a variant's benchmarks give.
#include <QtTest>

#include <fstream>

#include "core/pipeline/project.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;

class TestProject : public QObject {
  Q_OBJECT
 private slots:
  void projectRoundTrip() {
    test::TempDir dir;
    std::ofstream(dir / "model.onnx") << "x";
    Project p;
    p.model_path = (dir / "model.onnx").string();
    p.dataset_spec = "fashion-mnist?limit=100";
    p.knobs = {{"prune_ratio", 0.3}};
    Variant v;
    v.name = "channels 30%";
    v.recipe = {{"format", "edgetune-recipe"},
                {"version", 1},
                {"passes", {{{"pass", "prune_channels"}, {"options", {{"ratio", 0.3}}}}}}};
    v.metrics.accuracy = 0.91;
    v.metrics.accuracy_low = 0.9;
    v.metrics.accuracy_high = 0.92;
    v.metrics.latency_ms = 1.25;
    v.metrics.size_bytes = 123456;
    v.created_utc = "2024-01-01T00:00:00Z";
    p.variants = {v};
    p.save(dir / "p.edgetune.json");
    // Stored relative, so the folder can move.
    QVERIFY(
        QString::fromStdString(readFile(dir / "p.edgetune.json")).contains("\"model_path\": \"model.onnx\""));
    const Project q = Project::load(dir / "p.edgetune.json");
    QCOMPARE(q.model_path, p.model_path);
    QCOMPARE(q.toJson(), p.toJson());
    QCOMPARE(*q.variants[0].metrics.latency_ms, 1.25);
    QVERIFY(!q.variants[0].metrics.params.has_value());
  }

  void projectErrorsNameTheFile() {
    test::TempDir dir;
    std::ofstream(dir / "bad.json") << "{not json";
    std::ofstream(dir / "other.json") << R"({"format": "something-else"})";
    std::ofstream(dir / "badvariant.json")
        << R"({"format": "edgetune-project", "version": 1, "variants": [{"recipe": {}}]})";
    for (const char* name : {"bad.json", "other.json", "badvariant.json", "missing.json"}) {
      try {
        Project::load(dir / name);
        QFAIL("expected an error");
      } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(name), e.what());
      }
    }
  }

  void deviceLatencyIsTheLatestSingleThreadMedian() {
    Variant v;
    QVERIFY(!deviceLatencyMs(v));
    v.device_benchmarks = nlohmann::json::array(
        {{{"results", {{{"threads", 1}, {"median_ms", 9.0}}}}},
         {{"results", {{{"threads", 4}, {"median_ms", 1.5}}, {{"threads", 1}, {"median_ms", 5.25}}}}}});
    QCOMPARE(deviceLatencyMs(v).value_or(-1), 5.25);
    Variant no_single_thread;
    no_single_thread.device_benchmarks =
        nlohmann::json::array({{{"results", {{{"threads", 4}, {"median_ms", 1.5}}}}}});
    QVERIFY(!deviceLatencyMs(no_single_thread));
    nlohmann::json bad = v.toJson();
    bad["device_benchmarks"] = "fast";
    QVERIFY_THROWS_EXCEPTION(Error, Variant::fromJson(bad, "p.json: variants[1]"));
  }
};

QTEST_GUILESS_MAIN(TestProject)
#include "test_project.moc"
