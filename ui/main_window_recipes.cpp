// MainWindow and pipeline recipes: the knobs and variants saved as recipes, recipes opened into the knobs,
// and recipes run as jobs whose steps become variants.
#include "ui/main_window.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

#include <algorithm>
#include <cstring>

#include "core/pipeline/recipe_file.h"
#include "core/pipeline/runner.h"
#include "core/pipeline/variant_model.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"
#include "ui/dialogs.h"
#include "ui/jobs.h"
#include "ui/knob_recipe.h"
#include "ui/pipeline_panel.h"
#include "ui/recipe_bridge.h"
#include "ui/recipe_job.h"
#include "ui/recipe_run_dialog.h"
#include "ui/tuning_panel.h"

namespace edgetune::ui {

using pipeline::Variant;

std::string MainWindow::recipeName() const {
  QString name = document_->path().isEmpty() ? QString() : QFileInfo(document_->path()).fileName();
  if (name.endsWith(".edgetune.json")) name.chop(static_cast<int>(std::strlen(".edgetune.json")));
  if (name.isEmpty() && !document_->project().model_path.empty() &&
      !zoo::isZooSource(document_->project().model_path))
    name = QFileInfo(QString::fromStdString(document_->project().model_path)).completeBaseName();
  if (name.isEmpty() && zoo::isZooSource(document_->project().model_path)) name = "zoo";
  return fileNameFrom(name.toStdString(), "studio");  // a run folder is named after it
}

pipeline::RecipeFile MainWindow::currentRecipeFile() const {
  if (document_->project().model_path.empty()) throw Error("open a model first: a recipe starts from one");
  // The knobs as the variant Apply would record: made from the current base.
  Variant knobs;
  knobs.name = "the current knobs";
  knobs.base = document_->project().current_base;
  knobs.recipe = tuning_->currentRecipe();
  return recipeFileForVariant(document_->project(), knobs, recipeName());
}

QString MainWindow::recipeRunDir(const pipeline::RecipeFile& recipe) const {
  const QString name = QString::fromStdString(recipe.name.empty() ? std::string("recipe") : recipe.name);
  const QString root = document_->path().isEmpty()
                           ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
                           : QFileInfo(document_->path()).absolutePath();
  return QDir(root).filePath("runs/" + name);
}

bool MainWindow::saveRecipe(const QString& path) {
  try {
    const pipeline::RecipeFile recipe = recipeToSave();
    writeFileAtomic(path.toStdString(), recipeYamlFor(recipe, path.toStdString()));
    pipelineSaved(path);
    setStatus(QString("Saved recipe %1 (%2 steps): run it with edgetune-cli run %1")
                  .arg(path)
                  .arg(recipe.steps.size()),
              10000);
    return true;
  } catch (const std::exception& e) {
    setStatus("Cannot save recipe: " + QString::fromUtf8(e.what()));
    showError(this, "Cannot save recipe", e.what());
    return false;
  }
}

bool MainWindow::saveVariantRecipe(int index, const QString& path) {
  try {
    if (document_->project().model_path.empty()) throw Error("open a model first: a recipe starts from one");
    if (index < 0 || index >= static_cast<int>(document_->project().variants.size()))
      throw Error("no such variant");
    const Variant& variant = document_->project().variants[index];
    const pipeline::RecipeFile recipe = recipeFileForVariant(document_->project(), variant, recipeName());
    writeFileAtomic(path.toStdString(), recipeYamlFor(recipe, path.toStdString()));
    setStatus(QString("Saved the recipe of '%1' %2 (%3 steps): run it with edgetune-cli run %2")
                  .arg(QString::fromStdString(variant.name), path)
                  .arg(recipe.steps.size()),
              10000);
    return true;
  } catch (const std::exception& e) {
    setStatus("Cannot save the recipe: " + QString::fromUtf8(e.what()));
    showError(this, "Cannot save recipe", e.what());
    return false;
  }
}

bool MainWindow::openRecipe(const QString& path) {
  pipeline::RecipeFile recipe;
  try {
    recipe = pipeline::readRecipeFile(path.toStdString());
    pipeline::validateRecipe(recipe, pipeline::StepRegistry::withBuiltins());
  } catch (const std::exception& e) {
    setStatus("Cannot open recipe: " + QString::fromUtf8(e.what()));
    showError(this, "Cannot open recipe", e.what());
    return false;
  }
  showInPipelineDock(recipe, path);
  RecipeKnobs mapped = knobsFromRecipeFile(recipe, tuning_->knobs());
  if (mapped.editable && baseline_) {
    // The widgets have their own resolution (whole percents, spin box ranges, the model's groups): the knobs
    // as set must still give this recipe, else it is run as is rather than edited approximately.
    const nlohmann::json before = tuning_->knobs();
    tuning_->setKnobs(mapped.knobs, false);
    std::string why;
    try {
      const pipeline::RecipeFile again = recipeFileFromStudio(
          recipeFromKnobs(tuning_->knobs(), mapped.dataset_spec, pipeline::builtinPassRegistry()),
          recipe.modelPath(), mapped.dataset_spec, recipe.name);
      if (!sameSteps(recipe, again, &why)) why = "the knobs cannot express it: " + why;
    } catch (const std::exception& e) {
      why = std::string("the knobs cannot express it: ") + e.what();
    }
    tuning_->setKnobs(before, false);
    if (!why.empty()) {
      mapped.editable = false;
      mapped.reason = why;
    }
  }
  if (!mapped.editable) {
    setStatus("Recipe " + path +
              " runs as is but is not editable as knobs: " + QString::fromStdString(mapped.reason));
    showRecipeRunDialog(path);
    return true;
  }
  QString note;
  const std::string model = recipe.modelPath();
  const bool same_model = !document_->project().model_path.empty() &&
                          (zoo::isZooSource(model) ? model == document_->project().model_path
                                                   : samePath(model, document_->project().model_path));
  if (!mapped.dataset_spec.empty() && mapped.dataset_spec != document_->project().dataset_spec)
    openDataset(QString::fromStdString(mapped.dataset_spec));
  if (!baseline_ && document_->project().model_path.empty()) {
    openModel(QString::fromStdString(model));
    note = "; opening its model " + QString::fromStdString(model);
  } else if (!same_model) {
    note = "; the knobs apply to the open model, not the recipe's " + QString::fromStdString(model);
  }
  if (!document_->project().current_base.empty())
    note +=
        "; the knobs apply to the current base '" + currentBase() + "' (Ctrl+Shift+B: the original model)";
  tuning_->setKnobs(mapped.knobs, true);
  setStatus(QString("Opened recipe %1: %2 steps in the knobs%3").arg(path).arg(recipe.steps.size()).arg(note),
            10000);
  return true;
}

RecipeRunDialog* MainWindow::showRecipeRunDialog(const QString& path) {
  if (!recipe_dialog_) {
    recipe_dialog_ =
        new RecipeRunDialog([this] { return currentRecipeFile(); },
                            [this](const pipeline::RecipeFile& r) { return recipeRunDir(r); }, this);
    connect(recipe_dialog_, &RecipeRunDialog::runRequested, this,
            [this](const pipeline::RecipeFile& recipe) { runRecipe(recipe); });
  }
  if (path.isEmpty())
    recipe_dialog_->useKnobs();
  else
    recipe_dialog_->useFile(path);
  recipe_dialog_->show();
  recipe_dialog_->raise();
  return recipe_dialog_;
}

JobHandle* MainWindow::runRecipe(const pipeline::RecipeFile& recipe, const std::string& rerun_from) {
  const QString run_dir = recipeRunDir(recipe);
  showBottomTab("Jobs");
  setStatus("Running recipe " + QString::fromStdString(recipe.name) + " into " + run_dir + "...");
  auto* job = startRecipeRun(
      *jobs_, recipe, run_dir.toStdString(),
      [this, recipe, run_dir](std::shared_ptr<const pipeline::RunResult> run) {
        pipeline_panel_->showRun(recipe, *run);
        const std::string model = recipe.modelPath();
        const bool same_model =
            baseline_ && (zoo::isZooSource(model) ? model == document_->project().model_path
                                                  : samePath(model, document_->project().model_path));
        if (!same_model) {
          setStatus("Recipe " + QString::fromStdString(recipe.name) + " finished in " + run_dir +
                        "; its model is not the open one, so no variants were added (open " +
                        QString::fromStdString(model) + " to compare them)",
                    15000);
          emit recipeRunFinished(0);
          return;
        }
        const std::vector<Variant> variants = variantsFromRun(recipe, *run);
        for (const Variant& v : variants) {
          // A re-run finds its steps again: update them instead of listing them twice.
          const auto same_file =
              std::find_if(document_->project().variants.begin(), document_->project().variants.end(),
                           [&](const Variant& e) { return e.model_file == v.model_file; });
          if (same_file != document_->project().variants.end()) {
            const int i = static_cast<int>(same_file - document_->project().variants.begin());
            document_->project().variants[i].metrics = v.metrics;
            document_->project().variants[i].recipe = v.recipe;
            if (!v.metrics.size_bytes) measureVariantAt(i);
          } else {
            addVariant(v);
          }
        }
        refreshVariants();
        document_->markDirty();
        setStatus(QString("Recipe %1 finished: %2 variants from its steps (run folder %3%4)")
                      .arg(QString::fromStdString(recipe.name))
                      .arg(variants.size())
                      .arg(run_dir)
                      .arg(run->report_written ? ", report.md there" : ""),
                  15000);
        emit recipeRunFinished(static_cast<int>(variants.size()));
      },
      rerun_from);
  connect(job, &JobHandle::finished, this,
          [this, name = recipe.name](JobHandle::State st, const QString& error) {
            if (st == JobHandle::State::Failed) {
              setStatus("Recipe " + QString::fromStdString(name) + " failed: " + error);
              showError(this, "Recipe failed", error);
            } else if (st == JobHandle::State::Cancelled) {
              setStatus("Recipe " + QString::fromStdString(name) +
                            " cancelled: the steps done are kept in its run folder and reused next time",
                        10000);
            }
          });
  return job;
}

}  // namespace edgetune::ui
