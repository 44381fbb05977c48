// MainWindow's Pipeline dock: where it sits, its menu entries, and how it meets File > Open / Save recipe and
// Run recipe. Kept apart from main_window.cpp so the dock's wiring reads in one place.
#include <QDockWidget>
#include <QFileInfo>
#include <QMenu>
#include <QMenuBar>

#include "core/pipeline/recipe_file.h"
#include "ui/dialogs.h"
#include "ui/jobs.h"
#include "ui/main_window.h"
#include "ui/pipeline_panel.h"

namespace edgetune::ui {

namespace {

QMenu* menuTitled(QMenuBar* bar, const QString& title) {
  for (QAction* a : bar->actions())
    if (a->menu() && a->text() == title) return a->menu();
  return nullptr;
}

}  // namespace

void MainWindow::setupPipelineDock() {
  pipeline_panel_ = new PipelinePanel(undo_, this);
  pipeline_dock_ = new QDockWidget("Pipeline", this);
  pipeline_dock_->setObjectName("pipeline");
  pipeline_dock_->setWidget(pipeline_panel_);
  pipeline_dock_->setToolTip("The recipe as a list of steps: reorder, edit, disable, run from any step");
  // A tab beside the variants and jobs (placeDocks): the bottom area is the one wide enough for a step a
  // line.
  addDockWidget(Qt::BottomDockWidgetArea, pipeline_dock_);
  connect(pipeline_panel_, &PipelinePanel::runRequested, this,
          [this](const pipeline::RecipeFile& recipe, const QString& rerun_from) {
            // The dock stays in front: the run's progress shows under the list (and in the Jobs tab).
            pipeline_panel_->watchRun(runRecipe(recipe, rerun_from.toStdString()));
          });
  connect(pipeline_panel_, &PipelinePanel::showKnobsRequested, this, &MainWindow::showKnobsAsPipeline);
  connect(pipeline_panel_, &PipelinePanel::statusChanged, this,
          [this](const QString& text) { setStatus(text, 10000); });

  if (auto* save = findChild<QAction*>("save-recipe-action"))
    save->setToolTip(
        "Save the Pipeline dock's recipe (edits included); while the dock shows none, the current knobs as a "
        "recipe");
  if (QMenu* run = menuTitled(menuBar(), "&Run")) {
    run->addSeparator();
    auto* show = run->addAction("Show knobs as &pipeline", QKeySequence("Ctrl+Shift+P"), this,
                                &MainWindow::showKnobsAsPipeline);
    show->setObjectName("show-knobs-pipeline-action");
    show->setToolTip(
        "Put the current knobs, model and dataset as a recipe into the Pipeline dock (undoable)");
  }
  if (QMenu* view = menuTitled(menuBar(), "&View")) {
    view->addSeparator();
    QAction* toggle = pipeline_dock_->toggleViewAction();
    toggle->setText("&Pipeline dock");
    toggle->setShortcut(QKeySequence("Ctrl+3"));
    toggle->setToolTip("Show or hide the Pipeline dock (the recipe step by step)");
    view->addAction(toggle);
  }
}

void MainWindow::showKnobsAsPipeline() {
  pipeline::RecipeFile recipe;
  try {
    recipe = currentRecipeFile();
  } catch (const std::exception& e) {
    setStatus("No pipeline from the knobs: " + QString::fromUtf8(e.what()));
    showError(this, "Cannot show the knobs as a pipeline", e.what());
    return;
  }
  showInPipelineDock(recipe, {});
}

void MainWindow::showInPipelineDock(const pipeline::RecipeFile& recipe, const QString& file) {
  pipeline_panel_->showRecipe(recipe, file);
  pipeline_dock_->show();
  pipeline_dock_->raise();
}

pipeline::RecipeFile MainWindow::recipeToSave() const {
  if (pipeline_panel_ && pipeline_panel_->hasRecipe()) return *pipeline_panel_->recipe();
  return currentRecipeFile();
}

QString MainWindow::suggestedRecipePath() const {
  if (pipeline_panel_ && !pipeline_panel_->state().file.isEmpty()) return pipeline_panel_->state().file;
  const QString folder =
      document_->path().isEmpty() ? QString() : QFileInfo(document_->path()).absolutePath() + "/";
  return folder + QString::fromStdString(recipeName()) + ".yaml";
}

void MainWindow::pipelineSaved(const QString& path) {
  // Read back, so the dock's recipe resolves its model against the file it now lives in.
  const pipeline::RecipeFile saved = pipeline::readRecipeFile(path.toStdString());
  if (pipeline_panel_->hasRecipe())
    pipeline_panel_->markSaved(saved, path);
  else
    showInPipelineDock(saved, path);
}

}  // namespace edgetune::ui
