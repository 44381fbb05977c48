// The studio saves, opens and runs pipeline recipes (v2), offscreen: knobs <-> steps mapping, a recipe saved
// from the studio and replayed by the pipeline runner gives the studio's own model byte for byte, Run recipe
// as one job with per-step progress and variants, cancelling it from the jobs dock, and a typo refused with
// its file:line. Set EDGETUNE_SHOT_DIR to also save screenshots of the Run menu and the jobs dock mid-run.
#include <QtTest>

#include <QAction>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUndoStack>

#include <fstream>

#include "core/deploy/sha256.h"
#include "core/passes/canonicalize.h"
#include "core/pipeline/model_card.h"
#include "core/pipeline/node_overlays.h"
#include "core/pipeline/progressive_measurement.h"
#include "core/pipeline/recipe_file.h"
#include "core/pipeline/runner.h"
#include "core/pipeline/variant_model.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"
#include "core/zoo/zoo.h"
#include "tests/tests_common.h"
#include "tests/ui/ui_test_common.h"
#include "ui/dialogs.h"
#include "ui/jobs.h"
#include "ui/main_window.h"
#include "ui/panels.h"
#include "ui/recipe_bridge.h"
#include "ui/recipe_run_dialog.h"
#include "ui/tuning_panel.h"

using namespace edgetune;
using namespace edgetune::ui;
using namespace edgetune::pipeline;
using edgetune::zoo::loadModelSource;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using test::action;
using test::maybeShoot;

const char* kDataset = "fashion-mnist?limit=200";

std::string modelPath() {
  return std::string(EDGETUNE_RESOURCES_DIR) + "/models/resnet20_fmnist.onnx";
}

// The issue's knobs: clean-up, channel pruning 0.25, static INT8 calibrated on a few examples.
json issueKnobs(const json& base) {
  json k = base;
  k["cleanup"] = true;
  k["prune_method"] = "prune_channels";
  k["prune_ratio"] = 0.25;
  k["quant_mode"] = "static";
  k["calibration"] = "minmax";
  k["samples"] = 32;
  k["per_channel"] = true;
  return k;
}

// The bundled ResNet-20 and the dataset.
void openModelAndData(MainWindow& window) {
  test::openModelAndData(window, kDataset, QString::fromStdString(modelPath()));
}

}  // namespace

class TestUiRecipes : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    setScriptedMode(true);
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("EdgeTuneTests");
    QCoreApplication::setApplicationName("test_ui_recipes");
  }

  // Pass by pass onto the step kinds' own option names; back onto the knobs by the round trip.
  void passesMapOntoSteps() {
    const json knobs = {{"cleanup", true},
                        {"prune_method", "prune_channels"},
                        {"prune_ratio", 0.25},
                        {"protect", "fc, stem"},
                        {"group_ratios", {{"g1", 0.5}}},
                        {"locked_groups", {"g2"}},
                        {"round_to", 4},
                        {"quant_mode", "static"},
                        {"calibration", "percentile"},
                        {"samples", 64},
                        {"per_channel", false},
                        {"exclude", "head.*"},
                        {"exclude_nodes", {"conv.1"}}};
    const json v1 = recipeFromKnobs(knobs, kDataset, builtinPassRegistry());
    const pipeline::RecipeFile r = recipeFileFromStudio(v1, "zoo:resnet20", kDataset, "mapped");
    QCOMPARE(r.model, std::string("zoo:resnet20"));
    QCOMPARE(r.datasets.at("test"), std::string(kDataset));
    QCOMPARE(r.datasets.at("calibration"), std::string(kDataset));
    QCOMPARE(r.steps.size(), size_t{3});
    QCOMPARE(r.steps[0].kind, std::string("clean"));
    QCOMPARE(r.steps[0].options, json({{"fold_batchnorm", true}, {"deduplicate", true}}));
    QCOMPARE(r.steps[1].kind, std::string("prune"));
    QCOMPARE(r.steps[1].options["method"], json("channels"));
    QCOMPARE(r.steps[1].options["ratio"], json(0.25));
    QCOMPARE(r.steps[1].options["per_group"], json({{"g1", 0.5}, {"g2", 0.0}}));
    QCOMPARE(r.steps[1].options["protect"], json({"fc", "stem"}));
    QCOMPARE(r.steps[2].kind, std::string("quantize"));
    QCOMPARE(r.steps[2].options["data"], json("calibration"));  // a role in v2, not the spec
    QCOMPARE(r.steps[2].options["calibration"], json("percentile"));
    QCOMPARE(r.steps[2].options["exclude_nodes"], json({"head.*", "^conv\\.1$"}));
    pipeline::validateRecipe(r, pipeline::StepRegistry::withBuiltins());

    // Back onto the knobs: the same state (the protect list as the panel writes it).
    const RecipeKnobs back = knobsFromRecipeFile(r, json::object());
    QVERIFY2(back.editable, back.reason.c_str());
    QCOMPARE(back.dataset_spec, std::string(kDataset));
    for (const char* key :
         {"cleanup", "prune_method", "prune_ratio", "group_ratios", "locked_groups", "round_to", "quant_mode",
          "calibration", "samples", "per_channel", "exclude", "exclude_nodes"})
      QVERIFY2(back.knobs[key] == knobs[key], key);
    QCOMPARE(back.knobs["protect"], json("fc, stem"));

    // Magnitude pruning and a mode without calibration (no calibration role, no data option).
    const json v1_magnitude = recipeFromKnobs({{"cleanup", false},
                                               {"prune_method", "prune_magnitude"},
                                               {"prune_ratio", 0.5},
                                               {"quant_mode", "dynamic"}},
                                              kDataset, builtinPassRegistry());
    const pipeline::RecipeFile m = recipeFileFromStudio(v1_magnitude, "zoo:mlp", kDataset, "m");
    QCOMPARE(m.steps.size(), size_t{2});
    QCOMPARE(m.steps[0].options["method"], json("magnitude"));
    QCOMPARE(m.steps[0].options["sparsity"], json(0.5));
    QVERIFY(!m.steps[1].options.contains("data"));
    QVERIFY(!m.datasets.count("calibration"));
    QVERIFY(knobsFromRecipeFile(m, json::object()).editable);
  }

  void progressTextNamesTheStep() {
    using Type = pipeline::StepEvent::Type;
    pipeline::StepEvent e{Type::Progress, 1, "int8", "quantize", {0.5, "calibrating", -1}, {0.6, "", -1}};
    QCOMPARE(stepProgressText(e, 4), std::string("[2/4] int8: calibrating"));
    e.type = Type::Cached;
    QCOMPARE(stepProgressText(e, 4), std::string("[2/4] int8: done earlier (cached)"));
    e.type = Type::Started;
    e.index = 4;
    QCOMPARE(stepProgressText(e, 4), std::string("[report] measuring the models"));
  }

  void passesWithoutAStepAreRefused() {
    json v1 = emptyRecipe();
    v1["passes"].push_back({{"pass", "prune_heads_magic"}, {"options", json::object()}});
    try {
      recipeFileFromStudio(v1, "zoo:mlp", "", "x");
      QFAIL("an unknown pass was mapped");
    } catch (const Error& e) {
      QVERIFY2(test::contains(e.what(), "pass 'prune_heads_magic' has no pipeline step"), e.what());
    }
    // Static INT8 needs calibration data; a pass option the step does not know names the pass and the key.
    json v1_static = emptyRecipe();
    v1_static["passes"].push_back({{"pass", "quantize"}, {"options", {{"mode", "static"}}}});
    QVERIFY_THROWS_EXCEPTION(Error, recipeFileFromStudio(v1_static, "zoo:mlp", "", "x"));
    json v1_typo = emptyRecipe();
    v1_typo["passes"].push_back({{"pass", "prune_channels"}, {"options", {{"ratoi", 0.3}}}});
    try {
      recipeFileFromStudio(v1_typo, "zoo:mlp", "", "x");
      QFAIL("a typo'd option was mapped");
    } catch (const Error& e) {
      QVERIFY2(test::contains(e.what(), "prune_channels") && test::contains(e.what(), "ratoi"), e.what());
    }
  }

  // Steps the knobs cannot express are runnable but not editable, and the reason names the step or option.
  void recipesBeyondTheKnobsAreNotEditable() {
    auto reasonFor = [](const std::string& yaml) {
      const pipeline::RecipeFile r = pipeline::parseRecipe(yaml, "r.yaml");
      const RecipeKnobs k = knobsFromRecipeFile(r, json::object());
      return k.editable ? std::string() : k.reason;
    };
    const std::string head =
        "format: edgetune-recipe\nversion: 2\nmodel: zoo:mlp\n"
        "datasets: {test: fashion-mnist, calibration: fashion-mnist}\nsteps:\n";
    QVERIFY(reasonFor(head + "  - prune: {method: channels, ratio: 0.3}\n").empty());
    QVERIFY(test::contains(reasonFor(head + "  - evaluate: {}\n"), "step 'evaluate' (evaluate) has no knob"));
    QVERIFY(test::contains(reasonFor(head + "  - prune: {method: channels, ratio: 0.3, criterion: l2}\n"),
                           "criterion"));
    QVERIFY(test::contains(reasonFor(head + "  - quantize: {mode: dynamic}\n  - prune: {ratio: 0.3}\n"),
                           "comes after"));
    QVERIFY(test::contains(reasonFor(head + "  - clean: {}\n"), "keeps BatchNorm"));
    QVERIFY(test::contains(
        reasonFor("format: edgetune-recipe\nversion: 2\nmodel: zoo:mlp\n"
                  "datasets: {test: fashion-mnist, calibration: 'fashion-mnist:train?limit=64'}\n"
                  "steps:\n  - quantize: {mode: static}\n"),
        "the studio uses its one dataset for both"));
  }

  // An untrained model has equal initializers (every BatchNorm scale is 1) that the studio's clean-up merges:
  // the recipe's clean step must merge them too, or the bytes differ.
  void equalInitializersAreMergedOnBothSides() {
    test::TempDir dir;
    zoo::ZooOptions zo;
    zo.input_channels = 1;
    zo.image_size = 28;
    const fs::path model_path = dir / "untrained.onnx";
    zoo::buildZooModel("resnet8", zo).save(model_path);
    json knobs = issueKnobs(json::object());
    knobs["quant_mode"] = "none";
    const json v1 = recipeFromKnobs(knobs, "", builtinPassRegistry());
    const pipeline::RecipeFile recipe = recipeFileFromStudio(v1, model_path.string(), "", "untrained");
    QCOMPARE(recipe.steps[0].options["deduplicate"], json(true));
    pipeline::RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    const pipeline::RunResult run =
        pipeline::runRecipe(recipe, pipeline::StepRegistry::withBuiltins(), options);
    Model baseline = Model::load(model_path);
    PassContext context;
    canonicalize(baseline, CanonicalizeOptions{true, false}, context);  // how the studio opens a file
    const Model studio = applyRecipe(baseline, v1);
    QVERIFY(studio.graph().initializer_size() < baseline.graph().initializer_size());  // something was merged
    QCOMPARE(deploy::sha256Hex(readFile(run.final_model)), deploy::sha256Hex(studio.serialize()));
  }

  // The issue's demand: a recipe saved from the studio and replayed by the runner (`edgetune-cli run`'s code
  // path) gives the studio's own model, byte for byte.
  void savedRecipeReplaysToTheStudiosBytes() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    window.resize(1400, 900);
    window.show();
    openModelAndData(window);
    TuningPanel* tuning = window.tuningPanel();
    tuning->setKnobs(issueKnobs(tuning->knobs()), true);

    const fs::path recipe_path = dir / "resnet20.yaml";
    queueScriptedAnswer(QString::fromStdString(recipe_path.string()));
    action(window, "save-recipe-action")->trigger();
    QVERIFY(fs::exists(recipe_path));
    const std::string yaml = readFile(recipe_path);
    QVERIFY2(test::contains(yaml, "data: calibration"), yaml.c_str());
    QVERIFY2(test::contains(yaml, "calibration: \"" + std::string(kDataset) + "\"") ||
                 test::contains(yaml, "calibration: " + std::string(kDataset)),
             yaml.c_str());

    const pipeline::RecipeFile recipe = pipeline::readRecipeFile(recipe_path);
    const auto registry = pipeline::StepRegistry::withBuiltins();
    pipeline::validateRecipe(recipe, registry);
    QCOMPARE(recipe.modelPath(), fs::absolute(modelPath()).lexically_normal().string());
    QCOMPARE(recipe.steps.size(), size_t{3});
    QCOMPARE(recipe.steps[1].options["ratio"], json(0.25));
    QCOMPARE(recipe.steps[2].options["samples"], json(32));
    // It reads back to the knobs it was saved from.
    const RecipeKnobs back = knobsFromRecipeFile(recipe, tuning->knobs());
    QVERIFY2(back.editable, back.reason.c_str());
    QCOMPARE(back.knobs, tuning->knobs());

    pipeline::RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    const pipeline::RunResult run = pipeline::runRecipe(recipe, registry, options);
    QCOMPARE(run.steps.size(), size_t{3});

    // The studio: the tuning panel's recipe on the opened baseline, and the variant Apply records.
    const Model studio = applyRecipe(*window.baseline(), tuning->currentRecipe());
    const std::string studio_bytes = studio.serialize();
    const std::string runner_bytes = readFile(run.final_model);
    QCOMPARE(deploy::sha256Hex(runner_bytes), deploy::sha256Hex(studio_bytes));
    QCOMPARE(readFile(run.steps[2].model_path), runner_bytes);
    // Step by step too: the pruned model before quantization is the studio's as well.
    json clean_prune = tuning->currentRecipe();
    clean_prune["passes"].erase(2);
    QCOMPARE(deploy::sha256Hex(readFile(run.steps[1].model_path)),
             deploy::sha256Hex(applyRecipe(*window.baseline(), clean_prune).serialize()));

    const size_t before = window.project().variants.size();
    tuning->apply();
    QCOMPARE(window.project().variants.size(), before + 1);
    QCOMPARE(deploy::sha256Hex(
                 variantModel(*window.baseline(), window.project().variants, window.project().variants.back())
                     .serialize()),
             deploy::sha256Hex(runner_bytes));
  }

  // Run > Run recipe...: one job, "[i/n] step: ..." in the dock, each step's model a variant with the run
  // report's metrics, the run folder next to the project file.
  void runRecipeFromTheMenuAsAJob() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    window.resize(1400, 900);
    window.show();
    openModelAndData(window);
    QVERIFY(window.saveProject(QString::fromStdString((dir / "demo.edgetune.json").string())));
    TuningPanel* tuning = window.tuningPanel();
    tuning->setKnobs(issueKnobs(tuning->knobs()), true);

    auto* menu = window.menuBar()->findChild<QMenu*>();
    QVERIFY(menu);
    action(window, "run-recipe-action")->trigger();
    auto* dialog = window.findChild<RecipeRunDialog*>();
    QVERIFY(dialog && dialog->isVisible());
    QVERIFY(dialog->recipe().has_value());
    const QString pipeline_text = dialog->findChild<QPlainTextEdit*>()->toPlainText();
    QVERIFY2(pipeline_text.contains("2. prune") && pipeline_text.contains("3. quantize"),
             qPrintable(pipeline_text));
    QVERIFY(dialog->findChild<QLabel*>("editable")->text().startsWith("Editable"));
    maybeShoot(*dialog, "recipe_run_dialog.png");

    QSignalSpy finished(&window, &MainWindow::recipeRunFinished);
    QStringList messages;
    connect(window.jobManager(), &JobManager::jobStarted, this, [&messages](JobHandle* job) {
      connect(job, &JobHandle::progressChanged, job,
              [&messages](double, const QString& m, double) { messages << m; });
    });
    dialog->runButton()->click();
    QVERIFY(!dialog->isVisible());
    bool shot = false;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          if (!shot && !messages.isEmpty() && messages.last().startsWith("[3/3]")) {
            maybeShoot(window, "recipe_run_jobs_dock.png");
            shot = true;
          }
          return finished.count() == 1;
        }(),
        240000);
    QCOMPARE(finished.first().first().toInt(), 3);
    // The dock shows at most ten messages a second, so a quick step may never appear; the slow ones do.
    QVERIFY2(messages.filter(QRegularExpression("^\\[[123]/3\\] (clean|prune|quantize): ")).size() > 0,
             qPrintable(messages.join(" | ")));
    QVERIFY2(messages.filter(QRegularExpression("^\\[report\\] ")).size() > 0,
             qPrintable(messages.join(" | ")));

    const fs::path run_dir = dir / "runs" / "demo";
    QVERIFY(fs::exists(run_dir / "report.md"));
    const auto& variants = window.project().variants;
    QCOMPARE(variants.size(), size_t{4});  // baseline + clean, prune, quantize
    const char* names[] = {"clean", "prune", "quantize"};
    for (int i = 0; i < 3; ++i) {
      const Variant& v = variants[i + 1];
      QCOMPARE(v.name, std::string(names[i]));
      QVERIFY2(fs::exists(v.model_file), v.model_file.c_str());
      QVERIFY(samePath(fs::path(v.model_file).parent_path(),
                       run_dir / "steps" / ("0" + std::to_string(i + 1) + "-" + names[i])));
      QCOMPARE(v.recipe["step"]["kind"], json(names[i]));
      QCOMPARE(v.recipe["passes"].size(), size_t(i + 1));
      QVERIFY(v.metrics.size_bytes &&
              *v.metrics.size_bytes == static_cast<int64_t>(fs::file_size(v.model_file)));
      QVERIFY(v.metrics.accuracy && v.metrics.accuracy_count == 200);
      QVERIFY(v.metrics.latency_ms && *v.metrics.latency_ms > 0);
    }
    QVERIFY(*variants[3].metrics.size_bytes * 2 < *variants[1].metrics.size_bytes);  // INT8 and pruned

    // Saved and re-loaded, the variants keep their model files (inside the project folder: stored relative).
    QVERIFY(window.saveProject(QString::fromStdString((dir / "demo.edgetune.json").string())));
    const Project saved = Project::load(dir / "demo.edgetune.json");
    QCOMPARE(saved.variants.size(), size_t{4});
    QVERIFY(samePath(saved.variants[3].model_file, variants[3].model_file));

    // A second run of the same recipe is cached and updates the variants instead of adding them again.
    window.runRecipe(window.currentRecipeFile());
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 120000);
    QCOMPARE(window.project().variants.size(), size_t{4});

    if (!qEnvironmentVariable("EDGETUNE_SHOT_DIR").isEmpty()) {
      QMenu* run_menu = nullptr;
      for (auto* a : window.menuBar()->actions())
        if (a->text() == "&Run") run_menu = a->menu();
      QVERIFY(run_menu);
      run_menu->popup(window.mapToGlobal(QPoint(100, 30)));
      QTest::qWait(200);
      maybeShoot(*run_menu, "run_menu.png");
      run_menu->hide();
    }
  }

  void cancellingFromTheDockAddsNoVariant() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    window.resize(1400, 900);
    window.show();
    openModelAndData(window);
    TuningPanel* tuning = window.tuningPanel();
    json k = issueKnobs(tuning->knobs());
    k["samples"] = 200;
    tuning->setKnobs(k, true);
    const pipeline::RecipeFile recipe = window.currentRecipeFile();
    // Unsaved: the run goes to the app-data folder (test mode), emptied so nothing is cached.
    const fs::path run_dir = window.recipeRunDir(recipe).toStdString();
    QVERIFY(test::contains(run_dir.string(), "runs"));
    fs::remove_all(run_dir);
    const size_t before = window.project().variants.size();
    QSignalSpy finished(&window, &MainWindow::recipeRunFinished);
    JobHandle* job = window.runRecipe(recipe);
    QTRY_VERIFY_WITH_TIMEOUT(job->message().startsWith("["), 60000);  // a step is under way
    QVERIFY(job->isRunning());
    QPushButton* cancel = window.jobsPanel()->cancelButton(job);
    QVERIFY(cancel);
    cancel->click();
    QTRY_VERIFY_WITH_TIMEOUT(!job->isRunning(), 60000);
    QCOMPARE(job->state(), JobHandle::State::Cancelled);
    QTest::qWait(100);
    QCOMPARE(finished.count(), 0);
    QCOMPARE(window.project().variants.size(), before);
    fs::remove_all(run_dir);
  }

  // A typo'd option: the file:line error in the status line, nothing changed.
  void typoInAnOpenedRecipeChangesNothing() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    window.show();
    openModelAndData(window);
    const json knobs_before = window.tuningPanel()->knobs();
    const size_t variants_before = window.project().variants.size();
    const fs::path path = dir / "typo.yaml";
    {
      std::ofstream out(path);
      out << "format: edgetune-recipe\nversion: 2\nmodel: " << modelPath()
          << "\ndatasets: {test: fashion-mnist}\nsteps:\n  - clean: {fold_batchnorm: true}\n"
             "  - prune:\n      method: channels\n      ratoi: 0.25\n";
    }
    QSignalSpy status(&window, &MainWindow::statusChanged);
    queueScriptedAnswer(QString::fromStdString(path.string()));
    action(window, "open-recipe-action")->trigger();
    QVERIFY(status.count() >= 1);
    const QString message = status.last().first().toString();
    QVERIFY2(message.contains("typo.yaml:9") && message.contains("ratoi"), qPrintable(message));
    QVERIFY(lastScriptedError().contains("typo.yaml:9"));
    QCOMPARE(window.tuningPanel()->knobs(), knobs_before);
    QCOMPARE(window.project().variants.size(), variants_before);
    QVERIFY(!window.findChild<RecipeRunDialog*>());

    // A good recipe that maps onto the knobs is loaded into them (one undoable change; the Pipeline dock
    // showing it is another).
    {
      std::ofstream out(path);
      out << "format: edgetune-recipe\nversion: 2\nmodel: " << modelPath() << "\ndatasets: {test: \""
          << kDataset << "\", calibration: \"" << kDataset
          << "\"}\nsteps:\n  - clean: {fold_batchnorm: true, deduplicate: true}\n  - prune: {method: "
             "channels, ratio: 0.4}\n"
             "  - quantize: {mode: static, samples: 16}\n";
    }
    const int undo_before = window.undoStack()->count();
    QVERIFY(window.openRecipe(QString::fromStdString(path.string())));
    QCOMPARE(window.tuningPanel()->knobs()["prune_ratio"], json(0.4));
    QCOMPARE(window.tuningPanel()->knobs()["quant_mode"], json("static"));
    QCOMPARE(window.tuningPanel()->knobs()["samples"], json(16));
    QCOMPARE(window.undoStack()->count(), undo_before + 2);

    // One the knobs cannot express (an evaluate step) is offered to run instead, knobs untouched.
    const json knobs_now = window.tuningPanel()->knobs();
    {
      std::ofstream out(path);
      out << "format: edgetune-recipe\nversion: 2\nmodel: " << modelPath()
          << "\ndatasets: {test: fashion-mnist}\nsteps:\n  - prune: {method: channels, ratio: 0.4}\n"
             "  - evaluate: {}\n";
    }
    QVERIFY(window.openRecipe(QString::fromStdString(path.string())));
    QCOMPARE(window.tuningPanel()->knobs(), knobs_now);
    auto* dialog = window.findChild<RecipeRunDialog*>();
    QVERIFY(dialog && dialog->isVisible() && dialog->recipe().has_value());
    const QString editable = dialog->findChild<QLabel*>("editable")->text();
    QVERIFY2(editable.contains("not editable as knobs") && editable.contains("evaluate"),
             qPrintable(editable));
    QVERIFY(status.last().first().toString().contains("not editable as knobs"));
  }
};

QTEST_MAIN(TestUiRecipes)
#include "test_ui_recipes.moc"
