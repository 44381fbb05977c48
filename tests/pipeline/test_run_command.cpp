// `edgetune-cli run` end to end (the real binary, the real step kinds, ONNX Runtime): a small recipe on the
// bundled ResNet-20 / Fashion-MNIST writes a run folder with a model per step and the report; a re-run takes
// everything from the cache; --set edits one step; --print-pipeline checks without running; bad recipes get
// one error naming the file and line, and a non-zero exit. And the older commands are one-step recipes under
// the hood: `prune`, `quantize`, `finetune`, `train` write the very bytes `run` writes for the same step, and
// `deploy` uploads the very files `run`'s deploy step uploads (to a real OpenSSH server, when it can start).
#include <QtTest>

#include <nlohmann/json.hpp>

#include "core/deploy/device.h"
#include "core/deploy/sha256.h"
#include "core/util/files.h"
#include "tests/cli_runner.h"
#include "tests/deploy/ssh_server.h"
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

std::string modelPath() {
  return std::string(EDGETUNE_SOURCE_DIR) + "/resources/models/resnet20_fmnist.onnx";
}

// A recipe of one step on the bundled ResNet-20, with `datasets` as written under `datasets:`.
std::string oneStepRecipe(const std::string& datasets, const std::string& step) {
  return "format: edgetune-recipe\nversion: 2\nname: one\nmodel: " + modelPath() + "\n" +
         (datasets.empty() ? "" : "datasets:\n" + datasets) + "steps:\n  - " + step + "\n";
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

  // One code path: each command's output model is byte for byte the model `run` makes of the one-step recipe
  // with the same options (the command's defaults written out where the step's differ).
  void commandsAreOneStepRecipes_data() {
    QTest::addColumn<QStringList>("command");
    QTest::addColumn<QString>("datasets");
    QTest::addColumn<QString>("step");
    QTest::newRow("prune channels") << QStringList{"prune", "--ratio", "0.25"} << ""
                                    << "prune: {method: channels, ratio: 0.25}";
    QTest::newRow("prune magnitude") << QStringList{"prune", "--method", "magnitude", "--ratio", "0.5"} << ""
                                     << "prune: {method: magnitude, sparsity: 0.5}";
    QTest::newRow("quantize static") << QStringList{"quantize", "--data", "fashion-mnist:train?limit=64",
                                                    "--samples", "64"}
                                     << "  calibration: fashion-mnist:train?limit=64\n"
                                     << "quantize: {mode: static, samples: 64}";
    QTest::newRow("quantize dynamic") << QStringList{"quantize", "--mode", "dynamic"} << ""
                                      << "quantize: {mode: dynamic}";
    QTest::newRow("clean") << QStringList{"clean"} << ""
                           << "clean: {fold_batchnorm: true, deduplicate: true}";
#ifdef EDGETUNE_HAVE_TRAINING
    // One thread: libtorch's reductions are then deterministic, so two trainings give the same weights.
    const QStringList training = {
        "--data", "fashion-mnist:train?limit=64", "--epochs", "1", "--batch", "32", "--threads", "1"};
    QTest::newRow("finetune") << (QStringList{"finetune"} + training)
                              << "  train: fashion-mnist:train?limit=64\n"
                              << "finetune: {epochs: 1, batch_size: 32, threads: 1}";
    QTest::newRow("train") << (QStringList{"train"} + training + QStringList{"--lr", "0.05"})
                           << "  train: fashion-mnist:train?limit=64\n"
                           << "finetune: {epochs: 1, batch_size: 32, threads: 1, lr: 0.05}";
#endif
  }
  void commandsAreOneStepRecipes() {
    QFETCH(QStringList, command);
    QFETCH(QString, datasets);
    QFETCH(QString, step);
    test::TempDir dir;
    const fs::path out = dir / "command.onnx";
    QStringList args = command;
    args.insert(1, QString::fromStdString(modelPath()));
    args << "-o" << test::q(out) << "-q";
    const auto by_command = test::runCli(args);
    QVERIFY2(by_command.exit_code == 0, by_command.err.c_str());

    writeFileAtomic(dir / "one.yaml", oneStepRecipe(datasets.toStdString(), step.toStdString()));
    const auto by_recipe =
        test::runCli({"run", test::q(dir / "one.yaml"), "-o", test::q(dir / "run"), "--no-report", "-q"});
    QVERIFY2(by_recipe.exit_code == 0, by_recipe.err.c_str());
    QVERIFY(fs::exists(dir / "run" / "final.onnx"));
    QCOMPARE(deploy::sha256File(out), deploy::sha256File(dir / "run" / "final.onnx"));
  }

  // `deploy` too: the command and `run` of the one-step recipe with the same options upload the same files
  // (the cleaned model under the user's file name, its labels beside it) to a real OpenSSH server on
  // 127.0.0.1 and benchmark them there; the command keeps its report (JSON fields, printed lines) and asks
  // about the host key on the terminal. Skipped unless run as root with /usr/sbin/sshd.
  void deployCommandIsAOneStepRecipe() {
    const std::string why = test::SshServer::skipReason();
    if (!why.empty()) QSKIP(why.c_str());
    test::TempDir dir;
    test::SshServer server(dir / "sshd");
    server.start();
    // The CLI processes read the device store from here.
    qputenv("EDGETUNE_CONFIG_DIR", QByteArray::fromStdString((dir / "config").string()));
    struct Unset {
      ~Unset() { qunsetenv("EDGETUNE_CONFIG_DIR"); }
    } unset;
    deploy::DeviceStore().add(server.device(dir / "known_hosts"));
    fs::create_directories(dir / "models");
    const fs::path model = dir / "models" / "resnet20.onnx", labels = dir / "models" / "labels.txt";
    fs::copy_file(modelPath(), model);
    writeFileAtomic(labels, "t-shirt\ntrouser\npullover\n");
    const fs::path command_root = dir / "device" / "command", recipe_root = dir / "device" / "recipe";

    const QStringList deploy_args = {"deploy",       test::q(model),
                                     "--device",     "loopback",
                                     "--remote-dir", test::q(command_root),
                                     "--yes",        "--bench",
                                     "--threads",    "1,2",
                                     "--runs",       "2",
                                     "--warmup",     "0"};
    const auto by_command = test::runCli(deploy_args + QStringList{"--json"});
    QVERIFY2(by_command.exit_code == 0, by_command.err.c_str());
    QVERIFY2(test::contains(by_command.err, "Accepted (--yes)"), by_command.err.c_str());  // the terminal's
    const json report = json::parse(by_command.out);
    QCOMPARE(report.at("device"), json("loopback"));
    QVERIFY(report.at("clean").is_object());
    const fs::path folder = command_root / "models" / "resnet20";
    QCOMPARE(report.at("deploy").at("remote_dir").get<std::string>(), folder.string());
    const json& files = report.at("deploy").at("files");
    QCOMPARE(files.size(), size_t{2});
    QCOMPARE(files[0].at("remote_path").get<std::string>(), (folder / "resnet20.onnx").string());
    QCOMPARE(files[1].at("remote_path").get<std::string>(), (folder / "labels.txt").string());
    QCOMPARE(files[0].at("sha256").get<std::string>(), deploy::sha256File(folder / "resnet20.onnx"));
    QCOMPARE(report.at("input_shapes").at("inputs").size(), size_t{1});
    QCOMPARE(report.at("benchmark").at("device"), json("loopback"));
    QCOMPARE(report.at("benchmark").at("results").size(), size_t{2});

    // Printed: the files, each unchanged now, and the benchmark table.
    const auto again = test::runCli(deploy_args);
    QVERIFY2(again.exit_code == 0, again.err.c_str());
    QVERIFY2(test::contains(again.out, "deployed 2 file(s) to loopback") &&
                 test::contains(again.out, "labels.txt") && test::contains(again.out, "(unchanged)") &&
                 test::contains(again.out, "threads   median_ms") && test::contains(again.out, "sizes: "),
             again.out.c_str());

    // --no-clean: the file goes up exactly as given.
    const auto raw = test::runCli({"deploy", test::q(model), "--device", "loopback", "--remote-dir",
                                   test::q(command_root), "--name", "raw", "--no-clean", "-q"});
    QVERIFY2(raw.exit_code == 0, raw.err.c_str());
    QCOMPARE(deploy::sha256File(command_root / "models" / "raw" / "resnet20.onnx"),
             deploy::sha256File(model));
    QVERIFY(deploy::sha256File(model) !=
            files[0].at("sha256").get<std::string>());  // the clean-up did change it

    writeFileAtomic(dir / "one.yaml",
                    oneStepRecipe("",
                                  "deploy: {device: loopback, name: resnet20, file: resnet20.onnx, "
                                  "companions: ['" +
                                      labels.string() + "'], remote_dir: '" + recipe_root.string() +
                                      "', bench: true, threads: [1, 2], runs: 2, warmup: 0}"));
    const auto by_recipe =
        test::runCli({"run", test::q(dir / "one.yaml"), "-o", test::q(dir / "run"), "--no-report", "-q"});
    QVERIFY2(by_recipe.exit_code == 0, by_recipe.err.c_str());
    const json step = json::parse(readFile(dir / "run" / "steps" / "01-deploy" / "step.json")).at("result");
    const json& recipe_files = step.at("deploy").at("files");
    QCOMPARE(recipe_files.size(), files.size());
    for (size_t i = 0; i < files.size(); ++i) {
      const std::string name = fs::path(files[i].at("remote_path").get<std::string>()).filename();
      QCOMPARE(fs::path(recipe_files[i].at("remote_path").get<std::string>()).filename().string(), name);
      QCOMPARE(recipe_files[i].at("sha256"), files[i].at("sha256"));
      QCOMPARE(deploy::sha256File(recipe_root / "models" / "resnet20" / name),
               deploy::sha256File(folder / name));
    }
    QCOMPARE(step.at("input_shapes"), report.at("input_shapes"));
    QCOMPARE(step.at("bench").at("results").size(), size_t{2});
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
