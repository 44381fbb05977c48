// Variants form a chain in the studio (real window, offscreen): prune the bundled ResNet-20, use the pruned
// variant as the base (Variants > Use as base), quantize it; the new variant records its base and its model
// is the pruned model quantized; undo puts the original model back as the base; the project saves and reloads
// the chain; the recipe saved for the chain, run by the pipeline runner, gives the studio's bytes, a variant
// trained in the Training dock included (it trains on the dataset spec's own split, which the recipe names).
// Variants that cannot be replayed are refused with one sentence. Set EDGETUNE_SHOT_DIR to save a screenshot
// of the window with the chain.
#include <QtTest>

#include <QAction>
#include <QLabel>
#include <QStandardPaths>
#include <QTableWidget>
#include <QUndoStack>

#include "core/data/dataset.h"
#include "core/deploy/sha256.h"
#include "core/pipeline/recipe_file.h"
#include "core/pipeline/runner.h"
#include "core/pipeline/variant_model.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "tests/tests_common.h"
#include "tests/ui/ui_test_common.h"
#include "ui/dialogs.h"
#include "ui/main_window.h"
#include "ui/panels.h"
#include "ui/recipe_bridge.h"
#include "ui/train_panel.h"
#include "ui/tuning_panel.h"

using namespace edgetune;
using namespace edgetune::ui;
using namespace edgetune::pipeline;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using test::action;
using test::maybeShoot;

const char* kDataset = "fashion-mnist?limit=200";

std::string modelPath() {
  return std::string(EDGETUNE_RESOURCES_DIR) + "/models/resnet20_fmnist.onnx";
}

json pruneKnobs(const json& base) {
  json k = base;
  k["cleanup"] = true;
  k["prune_method"] = "prune_channels";
  k["prune_ratio"] = 0.25;
  k["quant_mode"] = "none";
  return k;
}

json quantizeKnobs(const json& base) {
  json k = base;
  k["cleanup"] = false;
  k["prune_ratio"] = 0.0;
  k["group_ratios"] = json::object();
  k["locked_groups"] = json::array();
  k["quant_mode"] = "static";
  k["calibration"] = "minmax";
  k["samples"] = 32;
  k["per_channel"] = true;
  return k;
}

std::string sha(const Model& m) {
  return deploy::sha256Hex(m.serialize());
}

// The bundled ResNet-20 and the dataset.
void openModelAndData(MainWindow& window) {
  test::openModelAndData(window, kDataset, QString::fromStdString(modelPath()));
}

}  // namespace

class TestUiVariantChain : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    setScriptedMode(true);
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("EdgeTuneTests");
    QCoreApplication::setApplicationName("test_ui_variant_chain");
  }

  void pruneThenQuantizeThePrunedVariant() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    window.resize(1400, 900);
    window.show();
    openModelAndData(window);
    TuningPanel* tuning = window.tuningPanel();
    QTableWidget* table = window.variantsPanel()->table();
    const Model original = *window.baseline();
    QCOMPARE(window.currentBase(), QString());
    QCOMPARE(window.findChild<QLabel*>("base-label")->text(), QString("base: original model"));

    // 1. Prune the opened model and record the variant.
    tuning->setKnobs(pruneKnobs(tuning->knobs()), true);
    const json prune_recipe = tuning->currentRecipe();
    tuning->apply();
    QCOMPARE(window.project().variants.size(), size_t{2});
    const Variant pruned = window.project().variants[1];
    QCOMPARE(pruned.base, std::string());
    const Model pruned_model = applyRecipe(original, prune_recipe);
    QVERIFY(pruned_model.parameterCount() < original.parameterCount());

    // 2. Use it as the base: from the context menu's action on the selected row.
    QVERIFY(table->actions().contains(window.useAsBaseAction()));
    QVERIFY(table->actions().contains(window.resetBaseAction()));
    QCOMPARE(window.useAsBaseAction()->shortcut(), QKeySequence("Ctrl+B"));
    window.variantsPanel()->selectVariant(1);
    QSignalSpy base_changed(&window, &MainWindow::baseChanged);
    action(window, "use-as-base-action")->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(base_changed.count() == 1, 60000);
    QCOMPARE(base_changed.last().at(0).toString(), QString::fromStdString(pruned.name));
    QCOMPARE(window.currentBase(), QString::fromStdString(pruned.name));
    QCOMPARE(sha(*window.baseModel()), sha(pruned_model));
    QVERIFY(window.windowTitle().contains("[base: " + QString::fromStdString(pruned.name) + "]"));
    QCOMPARE(window.findChild<QLabel*>("base-label")->text(), "base: " + QString::fromStdString(pruned.name));
    QCOMPARE(window.variantsPanel()->currentBaseRow(), 1);
    QVERIFY(table->item(1, VariantsPanel::ColName)->font().bold());
    QVERIFY(!table->item(0, VariantsPanel::ColName)->font().bold());

    // Undo puts the original model back as the base; redo makes the pruned variant the base again.
    window.undoStack()->undo();
    QTRY_VERIFY_WITH_TIMEOUT(base_changed.count() == 2, 60000);
    QCOMPARE(window.currentBase(), QString());
    QCOMPARE(sha(*window.baseModel()), sha(original));
    QVERIFY(table->item(0, VariantsPanel::ColName)->font().bold());
    window.undoStack()->redo();
    QTRY_VERIFY_WITH_TIMEOUT(base_changed.count() == 3, 60000);
    QCOMPARE(window.currentBase(), QString::fromStdString(pruned.name));

    // 3. Quantize the base and record it: made from the pruned variant, its model the pruned model quantized.
    tuning->setKnobs(quantizeKnobs(tuning->knobs()), true);
    const json quantize_recipe = tuning->currentRecipe();
    tuning->apply();
    QCOMPARE(window.project().variants.size(), size_t{3});
    const Variant quantized = window.project().variants[2];
    QCOMPARE(quantized.base, pruned.name);
    QVERIFY2(QString::fromStdString(quantized.name).startsWith(QString::fromStdString(pruned.name) + " + "),
             quantized.name.c_str());
    QCOMPARE(table->item(2, VariantsPanel::ColFrom)->text(), QString::fromStdString(pruned.name));
    QCOMPARE(table->item(1, VariantsPanel::ColFrom)->text(), QString("original model"));
    window.showBottomTab("Variants");
    maybeShoot(window, "variant-chain.png");
    const Model expected = applyRecipe(pruned_model, quantize_recipe);
    const Model studio = variantModel(original, window.project().variants, quantized);
    QCOMPARE(sha(studio), sha(expected));
    QVERIFY(sha(studio) != sha(applyRecipe(original, quantize_recipe)));  // not the original quantized

    // A base with variants made from it is not removed; one sentence says why.
    QSignalSpy status(&window, &MainWindow::statusChanged);
    emit window.variantsPanel()->removeRequested(1);
    QCOMPARE(window.project().variants.size(), size_t{3});
    QVERIFY(!status.isEmpty() && status.last().at(0).toString().contains("current base"));

    // The context menu holds Compare, Export and Delete too; Delete is an undoable edit (the Delete key in
    // the table), and undo puts the variant back in its row.
    const auto table_action = [&](const QString& text) -> QAction* {
      for (QAction* a : table->actions())
        if (a->text() == text) return a;
      return nullptr;
    };
    QVERIFY(table_action("&Compare the two selected") && table_action("&Export as ONNX..."));
    QAction* remove = table_action("&Delete variant");
    QVERIFY(remove);
    QCOMPARE(remove->shortcut(), QKeySequence(QKeySequence::Delete));
    window.variantsPanel()->selectVariant(2);
    QVERIFY(remove->isEnabled() && table_action("&Export as ONNX...")->isEnabled());
    QVERIFY(!table_action("&Compare the two selected")->isEnabled());  // one row selected, not two
    remove->trigger();
    QCOMPARE(window.project().variants.size(), size_t{2});
    QCOMPARE(table->rowCount(), 2);
    window.undoStack()->undo();
    QCOMPARE(window.project().variants.size(), size_t{3});
    QCOMPARE(window.project().variants[2].name, quantized.name);
    QCOMPARE(table->item(2, VariantsPanel::ColName)->text(), QString::fromStdString(quantized.name));
    window.undoStack()->redo();
    QCOMPARE(window.project().variants.size(), size_t{2});
    window.undoStack()->undo();
    QCOMPARE(window.project().variants.size(), size_t{3});

    // 4. The project saves and reloads the chain (format version 2) and the current base.
    const QString project_path = QString::fromStdString((dir / "chain.edgetune.json").string());
    QVERIFY(window.saveProject(project_path));
    const json saved = json::parse(readFile(project_path.toStdString()));
    QCOMPARE(saved["version"], json(2));
    QCOMPARE(saved["variants"][2]["base"], json(pruned.name));
    QCOMPARE(saved["current_base"], json(pruned.name));
    MainWindow second(test::windowOptions(dir.path(), 100));
    second.tuningPanel()->setDebounceMs(3600000);
    QSignalSpy second_base(&second, &MainWindow::baseChanged);
    QVERIFY(second.loadProject(project_path));
    QTRY_VERIFY_WITH_TIMEOUT(second_base.count() >= 1 &&
                                 second_base.last().at(0).toString() == QString::fromStdString(pruned.name),
                             60000);
    QCOMPARE(second.project().variants.size(), size_t{3});
    QCOMPARE(second.project().variants[2].base, pruned.name);
    QCOMPARE(sha(*second.baseModel()), sha(pruned_model));
    QCOMPARE(sha(variantModel(*second.baseline(), second.project().variants, second.project().variants[2])),
             sha(expected));

    // 5. The recipe saved for the chain replays it: prune's steps, then quantize's, to the same bytes.
    const fs::path recipe_path = dir / "chain.yaml";
    queueScriptedAnswer(QString::fromStdString(recipe_path.string()));
    window.variantsPanel()->selectVariant(2);
    action(window, "save-variant-recipe-action")->trigger();
    QVERIFY(fs::exists(recipe_path));
    const RecipeFile recipe = readRecipeFile(recipe_path);
    const auto registry = StepRegistry::withBuiltins();
    validateRecipe(recipe, registry);
    QCOMPARE(recipe.steps.size(), size_t{3});
    QCOMPARE(recipe.steps[0].kind, std::string("clean"));
    QCOMPARE(recipe.steps[1].kind, std::string("prune"));
    QCOMPARE(recipe.steps[2].kind, std::string("quantize"));
    QCOMPARE(recipe.inputOf(2), std::string("prune"));  // the chain: quantize starts from the pruned model
    RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    const RunResult run = runRecipe(recipe, registry, options);
    QCOMPARE(deploy::sha256Hex(readFile(run.final_model)), sha(studio));
    QCOMPARE(deploy::sha256Hex(readFile(run.steps[1].model_path)), sha(pruned_model));
    // File > Save recipe (the current knobs on the current base) is the same chain.
    const fs::path knobs_path = dir / "knobs.yaml";
    queueScriptedAnswer(QString::fromStdString(knobs_path.string()));
    action(window, "save-recipe-action")->trigger();
    std::string why;
    QVERIFY2(sameSteps(readRecipeFile(knobs_path), recipe, &why), why.c_str());

    // 6. The Training dock's "Current base" trains the pruned model; the trained variant is made from it, and
    // its recipe is the chain with the training step last.
    if (TrainPanel::trainingAvailable()) {
      TrainSettings s;
      s.mode = TrainSettings::Mode::FineTune;
      s.source = TrainSettings::Source::Baseline;  // the current base
      s.epochs = 1;
      s.steps_per_epoch = 2;
      s.batch_size = 16;
      s.validation_size = 50;
      s.learning_rate = 0.001;
      window.trainPanel()->setSettings(s);
      const size_t before = window.project().variants.size();
      QVERIFY2(window.trainPanel()->start(), qPrintable(window.trainPanel()->lastError()));
      QTRY_VERIFY_WITH_TIMEOUT(window.project().variants.size() == before + 1, 180000);
      const Variant trained = window.project().variants.back();
      QCOMPARE(trained.base, pruned.name);
      QVERIFY(fs::is_regular_file(trained.model_file));
      qInfo("trained '%s' from '%s'", trained.name.c_str(), trained.base.c_str());
      const RecipeFile trained_recipe = recipeFileForVariant(window.project(), trained, "trained");
      QCOMPARE(trained_recipe.steps.size(), size_t{3});
      QCOMPARE(trained_recipe.steps[1].kind, std::string("prune"));
      QCOMPARE(trained_recipe.steps[2].kind, std::string("recover"));
      QCOMPARE(trained_recipe.steps[2].options["max_steps_per_epoch"], json(2));
      validateRecipe(trained_recipe, registry);
      // The dock trained and validated on the dataset spec's own seeded split, and the recipe names those two
      // specs: its training step reads exactly the dock's examples, so the replay gives the dock's bytes.
      QCOMPARE(trained_recipe.datasets.at("train"),
               trainingSplitSpec(kDataset, TrainingSplitPart::Train, 50, s.seed));
      QCOMPARE(trained_recipe.datasets.at("validation"),
               trainingSplitSpec(kDataset, TrainingSplitPart::Validation, 50, s.seed));
      const fs::path trained_path = dir / "trained.yaml";
      queueScriptedAnswer(QString::fromStdString(trained_path.string()));
      window.variantsPanel()->selectVariant(static_cast<int>(window.project().variants.size()) - 1);
      action(window, "save-variant-recipe-action")->trigger();
      QVERIFY(fs::exists(trained_path));
      const RecipeFile saved_trained = readRecipeFile(trained_path);
      QVERIFY2(sameSteps(saved_trained, trained_recipe, &why), why.c_str());
      RunOptions replay_options;
      replay_options.run_dir = dir / "run-trained";
      replay_options.report = false;
      const RunResult replay = runRecipe(saved_trained, registry, replay_options);
      QCOMPARE(deploy::sha256Hex(readFile(replay.final_model)),
               deploy::sha256Hex(readFile(trained.model_file)));
    }

    // 7. Reset base is one action back to the original model.
    action(window, "reset-base-action")->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(window.currentBase().isEmpty() && window.baseModel() == window.baseline(),
                             60000);
    QVERIFY(!window.windowTitle().contains("[base:"));
    second.jobManager()->cancelAllAndWait();
    window.jobManager()->cancelAllAndWait();
  }

  // A trained variant is replayed by the training step that made it; one with a model file and no record of
  // its training is refused with one sentence naming it.
  void trainedVariantsInAChain() {
    if (!StepRegistry::withBuiltins().contains("recover")) QSKIP("built without libtorch: no training steps");
    test::TempDir dir;
    Project project;
    project.model_path = modelPath();
    project.dataset_spec = kDataset;
    Variant baseline;
    baseline.name = "baseline";
    baseline.recipe = emptyRecipe();
    Variant pruned;
    pruned.name = "channels 25%";
    pruned.recipe = {{"format", "edgetune-recipe"},
                     {"version", 1},
                     {"passes", {{{"pass", "prune_channels"}, {"options", {{"ratio", 0.25}}}}}}};
    Variant recovered;
    recovered.name = "distill channels 25%";
    recovered.base = pruned.name;
    recovered.model_file = (dir / "recovered.onnx").string();
    recovered.recipe = pruned.recipe;  // descriptive: the source's passes
    recovered.recipe["training"] = {{"mode", "distill"}, {"source", "variant"},   {"epochs", 2},
                                    {"batch_size", 32},  {"learning_rate", 0.01}, {"optimizer", "adamw"},
                                    {"augment", false},  {"steps_per_epoch", 5},  {"validation_size", 100},
                                    {"seed", 3},         {"temperature", 3.0},    {"alpha", 0.8}};
    Variant quantized;
    quantized.name = "distill channels 25% + int8 dynamic";
    quantized.base = recovered.name;
    quantized.recipe = {{"format", "edgetune-recipe"},
                        {"version", 1},
                        {"passes", {{{"pass", "quantize"}, {"options", {{"mode", "dynamic"}}}}}}};
    project.variants = {baseline, pruned, recovered, quantized};

    const RecipeFile recipe = recipeFileForVariant(project, quantized, "chain");
    QCOMPARE(recipe.steps.size(), size_t{3});
    QCOMPARE(recipe.steps[0].kind, std::string("prune"));
    QCOMPARE(recipe.steps[1].kind, std::string("recover"));
    QCOMPARE(recipe.steps[1].options["teacher"], json("base"));
    QCOMPARE(recipe.steps[1].options["epochs"], json(2));
    QCOMPARE(recipe.steps[1].options["lr"], json(0.01));
    QCOMPARE(recipe.steps[1].options["optimizer"], json("adamw"));
    QCOMPARE(recipe.steps[1].options["max_steps_per_epoch"], json(5));
    QCOMPARE(recipe.steps[1].options["temperature"], json(3.0));
    QCOMPARE(recipe.steps[1].options["alpha"], json(0.8));
    QCOMPARE(recipe.steps[2].kind, std::string("quantize"));
    QCOMPARE(recipe.datasets.at("train"), std::string(kDataset));
    validateRecipe(recipe, StepRegistry::withBuiltins());

    // No record of what made its file: refused, naming the variant.
    project.variants[2].recipe = emptyRecipe();
    const std::string error = test::errorOf([&] { recipeFileForVariant(project, quantized, "chain"); });
    QVERIFY2(
        test::contains(error, "variant 'distill channels 25%'") && test::contains(error, "cannot replay"),
        error.c_str());
    // A zoo student trained with distillation does not start from the project's model.
    project.variants[2].recipe["training"] = {
        {"mode", "distill"}, {"source", "student"}, {"student", "zoo:resnet8"}};
    QVERIFY(test::contains(test::errorOf([&] { recipeFileForVariant(project, quantized, "chain"); }),
                           "zoo:resnet8"));
  }
};

QTEST_MAIN(TestUiVariantChain)
#include "test_ui_variant_chain.moc"
