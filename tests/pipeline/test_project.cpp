// Project files: the JSON round trip (paths stored relative to the project's folder), variant chains (bases
// saved, version 1 files still read, a missing base or a cycle named), the errors a user can cause naming the
// file, unique variant names and the device latency a variant's benchmarks give.
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

  void chainsSaveAndResolve() {
    test::TempDir dir;
    Project p;
    p.model_path = "zoo:mlp";
    Variant baseline, pruned, quantized;
    baseline.name = "baseline";
    baseline.recipe = emptyRecipe();
    pruned.name = "pruned";
    pruned.recipe = emptyRecipe();
    quantized.name = "pruned + int8";
    quantized.base = "pruned";
    quantized.recipe = emptyRecipe();
    p.variants = {baseline, pruned, quantized};
    p.current_base = "pruned";
    const auto chain = baseChain(p.variants, p.variants[2]);
    QCOMPARE(chain.size(), size_t{1});
    QCOMPARE(chain[0]->name, std::string("pruned"));
    QVERIFY(baseChain(p.variants, p.variants[1]).empty());

    p.save(dir / "p.edgetune.json");
    const nlohmann::json saved = nlohmann::json::parse(readFile(dir / "p.edgetune.json"));
    QCOMPARE(saved["version"], nlohmann::json(Project::kVersion));
    QCOMPARE(saved["variants"][2]["base"], nlohmann::json("pruned"));
    QVERIFY(!saved["variants"][1].contains("base"));  // made from the project's model
    const Project q = Project::load(dir / "p.edgetune.json");
    QCOMPARE(q.variants[2].base, std::string("pruned"));
    QCOMPARE(q.current_base, std::string("pruned"));
    QCOMPARE(q.toJson(), p.toJson());
  }

  void versionOneFilesStillRead() {
    test::TempDir dir;
    std::ofstream(dir / "old.json")
        << R"({"format": "edgetune-project", "version": 1, "model_path": "zoo:mlp",
      "variants": [{"name": "baseline"}, {"name": "channels 30%"}]})";
    const Project p = Project::load(dir / "old.json");
    QCOMPARE(p.variants.size(), size_t{2});
    QCOMPARE(p.variants[1].base, std::string());
    QCOMPARE(p.current_base, std::string());
    std::ofstream(dir / "future.json") << R"({"format": "edgetune-project", "version": 3})";
    const std::string error = test::errorOf([&] { Project::load(dir / "future.json"); });
    QVERIFY2(test::contains(error, "future.json") && test::contains(error, "version 3"), error.c_str());
  }

  void brokenChainsNameTheVariant_data() {
    QTest::addColumn<QString>("variants");
    QTest::addColumn<QString>("expected");
    QTest::newRow("missing") << R"([{"name": "a", "base": "gone"}])"
                             << "variants[0]: variant 'a': its base 'gone'";
    QTest::newRow("cycle") << R"([{"name": "a", "base": "b"}, {"name": "b", "base": "a"}])"
                           << "its bases form a cycle ('a' -> 'b' -> 'a')";
    QTest::newRow("self") << R"([{"name": "a", "base": "a"}])"
                          << "cycle ('a' -> 'a')";
    QTest::newRow("ambiguous") << R"([{"name": "b"}, {"name": "b"}, {"name": "c", "base": "b"}])"
                               << "its base 'b' names 2 variants";
  }
  void brokenChainsNameTheVariant() {
    QFETCH(QString, variants);
    QFETCH(QString, expected);
    test::TempDir dir;
    std::ofstream(dir / "p.json") << R"({"format": "edgetune-project", "version": 2, "variants": )"
                                  << variants.toStdString() << "}";
    const std::string error = test::errorOf([&] { Project::load(dir / "p.json"); });
    QVERIFY2(test::contains(error, "p.json") && test::contains(error, expected.toStdString()), error.c_str());
    // The same check in memory, for a project being edited.
    const auto parsed = nlohmann::json::parse(variants.toStdString());
    std::vector<Variant> list;
    for (size_t i = 0; i < parsed.size(); ++i) list.push_back(Variant::fromJson(parsed[i], "v"));
    QVERIFY(!test::errorOf([&] { baseChain(list, list.back()); }).empty());
  }

  void currentBaseMustBeAVariant() {
    test::TempDir dir;
    std::ofstream(dir / "p.json")
        << R"({"format": "edgetune-project", "version": 2, "current_base": "gone", "variants": [{"name": "a"}]})";
    const std::string error = test::errorOf([&] { Project::load(dir / "p.json"); });
    QVERIFY2(test::contains(error, "current_base") && test::contains(error, "gone"), error.c_str());
  }

  void uniqueNames() {
    std::vector<Variant> vs(3);
    vs[0].name = "baseline";
    vs[1].name = "channels 30%";
    vs[2].name = "channels 30% (2)";
    QCOMPARE(uniqueVariantName(vs, "int8"), std::string("int8"));
    QCOMPARE(uniqueVariantName(vs, "channels 30%"), std::string("channels 30% (3)"));
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
