// `edgetune-cli run` end to end (the real binary, the real step kinds, ONNX Runtime): a small recipe on the
// bundled ResNet-20 / Fashion-MNIST writes a run folder with a model per step and the report; a re-run takes
// everything from the cache; --set edits one step; --print-pipeline checks without running; bad recipes get
// one error naming the file and line, and a non-zero exit.
#include <QtTest>

#include <nlohmann/json.hpp>

#include "core/deploy/sha256.h"
#include "core/util/files.h"
#include "tests/cli_runner.h"
#include "tests/tests_common.h"

using namespace edgetune;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string smallRecipe() {
  return std::string(
             "format: edgetune-recipe\n"
             "version: 2\n"
             "name: small\n"
             "model: ") +
         EDGETUNE_SOURCE_DIR +
         "/resources/models/resnet20_fmnist.onnx\n"
         "datasets:\n"
         "  calibration: fashion-mnist:train?limit=64\n"
         "  test: fashion-mnist?limit=200\n"
         "steps:\n"
         "  - prune: {method: channels, ratio: 0.25}\n"
         "  - quantize: {mode: static, samples: 64}\n"
         "  - id: fp16\n"
         "    kind: quantize\n"
         "    input: prune\n"
         "    options: {mode: fp16}\n"
         "  - evaluate: {data: test, limit: 100}\n"
         "  - export: {file: small.onnx}\n";
}

}  // namespace

class TestRunCommand : public QObject {
  Q_OBJECT
 private slots:
  void runsCachesAndReports() {
    test::TempDir dir;
    writeFileAtomic(dir / "small.yaml", smallRecipe());
    const fs::path run_dir = dir / "run";
    const QStringList args = {
        "run", test::q(dir / "small.yaml"), "-o", test::q(run_dir), "--runs", "5", "--threads", "1"};
    const auto first = test::runCli(args);
    QVERIFY2(first.exit_code == 0, first.err.c_str());
    for (const char* step : {"01-prune", "02-quantize", "03-fp16", "05-export"})
      QVERIFY2(fs::exists(run_dir / "steps" / step / "model.onnx"), step);
    QVERIFY(!fs::exists(run_dir / "steps" / "04-evaluate" / "model.onnx"));  // evaluate gives no model
    QVERIFY(fs::exists(run_dir / "steps" / "05-export" / "small.onnx"));
    QVERIFY(fs::exists(run_dir / "final.onnx"));
    for (const char* f : {"report.json", "report.md", "plot_accuracy.png", "plot_pareto.svg", "recipe.json"})
      QVERIFY2(fs::exists(run_dir / f), f);
    const json report = json::parse(readFile(run_dir / "report.json"));
    // Base plus every step that gave a model: prune, quantize, fp16, export.
    QCOMPARE(report["models"].size(), size_t{5});
    QCOMPARE(report["models"][0]["step_id"], json("base"));
    QVERIFY(report["models"][2]["size_ratio"].get<double>() > 3);  // INT8 of the pruned model
    QVERIFY(test::contains(first.out, "| **"));                    // the table, its last row in bold

    // Nothing changed: every step and the report come from the cache, and the final model is the same file.
    const std::string final_hash = deploy::sha256File(run_dir / "final.onnx");
    const auto again = test::runCli(args);
    QVERIFY2(again.exit_code == 0, again.err.c_str());
    QVERIFY2(
        test::contains(again.err, "[1/5] prune: cached") && test::contains(again.err, "[5/5] export: cached"),
        again.err.c_str());
    QVERIFY2(test::contains(again.out, "(cached)"), again.out.c_str());
    QCOMPARE(deploy::sha256File(run_dir / "final.onnx"), final_hash);

    // --set edits one step: the steps after it run again, the ones before stay cached.
    QStringList edited = args;
    edited << "--set"
           << "quantize.calibration=percentile";
    const auto third = test::runCli(edited);
    QVERIFY2(third.exit_code == 0, third.err.c_str());
    QVERIFY2(test::contains(third.err, "[1/5] prune: cached"), third.err.c_str());
    QVERIFY2(test::contains(third.err, "[2/5] quantize: done"), third.err.c_str());
    QVERIFY2(test::contains(third.err, "[3/5] fp16: cached"), third.err.c_str());  // a branch from prune
  }

  void printPipelineChecksWithoutRunning() {
    test::TempDir dir;
    writeFileAtomic(dir / "small.yaml", smallRecipe());
    const auto r =
        test::runCli({"run", test::q(dir / "small.yaml"), "--print-pipeline", "-o", test::q(dir / "run")});
    QVERIFY2(r.exit_code == 0, r.err.c_str());
    QVERIFY2(test::contains(r.out, "3. fp16 (quantize) <- prune"), r.out.c_str());
    QVERIFY(!fs::exists(dir / "run"));
    // The bundled recipes are valid as shipped; a build without libtorch says their training steps are
    // missing.
    for (const char* recipe : {"paper-image.yaml", "paper-text.yaml"}) {
      const auto bundled = test::runCli(
          {"run", QString(EDGETUNE_SOURCE_DIR) + "/resources/recipes/" + recipe, "--print-pipeline"});
#ifdef EDGETUNE_HAVE_TRAINING
      QVERIFY2(bundled.exit_code == 0, (std::string(recipe) + ": " + bundled.err).c_str());
#else
      QCOMPARE(bundled.exit_code, 1);
      QVERIFY2(test::contains(bundled.err, "a training step: this build has no libtorch"),
               bundled.err.c_str());
#endif
    }
  }

  void badRecipesNameTheLine() {
    test::TempDir dir;
    std::string text = smallRecipe();
    text.replace(text.find("ratio: 0.25"), 11, "ratoi: 0.25");
    writeFileAtomic(dir / "typo.yaml", text);
    auto r = test::runCli({"run", test::q(dir / "typo.yaml"), "-o", test::q(dir / "run")});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(test::contains(r.err, "typo.yaml:9:") && test::contains(r.err, "ratoi"), r.err.c_str());
    QVERIFY(!fs::exists(dir / "run" / "steps" / "01-prune" / "step.json"));

    writeFileAtomic(dir / "role.yaml", smallRecipe() + "  - sensitivity: {data: validation}\n");
    r = test::runCli({"run", test::q(dir / "role.yaml"), "-o", test::q(dir / "run")});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(test::contains(r.err, "role.yaml:17:") && test::contains(r.err, "'validation' dataset"),
             r.err.c_str());

    r = test::runCli({"run", test::q(dir / "missing.yaml")});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(test::contains(r.err, "missing.yaml"), r.err.c_str());
    r = test::runCli({"run", test::q(dir / "typo.yaml"), "--set", "nosuchstep.ratio=1"});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(test::contains(r.err, "nosuchstep"), r.err.c_str());
  }
};

QTEST_GUILESS_MAIN(TestRunCommand)
#include "test_run_command.moc"
