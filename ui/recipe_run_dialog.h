#pragma once
// Run > Run recipe...: picks what to run (the current knobs as a recipe, or a recipe file), shows the
// pipeline one line per step, says whether the knobs can edit it, and where the run folder goes.
#include <QDialog>

#include <functional>
#include <optional>

#include "core/pipeline/recipe_file.h"

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QRadioButton;

namespace edgetune::ui {

class RecipeRunDialog : public QDialog {
  Q_OBJECT
 public:
  /// `knobs_recipe` builds the current knobs' recipe (throws Error when they make none); `run_dir` names the
  /// run folder of a recipe.
  RecipeRunDialog(std::function<pipeline::RecipeFile()> knobs_recipe,
                  std::function<QString(const pipeline::RecipeFile&)> run_dir, QWidget* parent = nullptr);

  /// Shows the current knobs as the recipe to run.
  void useKnobs();
  /// Reads and checks a recipe file; a problem is shown with its file:line and disables Run.
  bool useFile(const QString& path);
  /// The recipe Run would start (none after an error).
  const std::optional<pipeline::RecipeFile>& recipe() const { return recipe_; }
  QPushButton* runButton() const { return run_; }
  QString problem() const;

 signals:
  void runRequested(const edgetune::pipeline::RecipeFile& recipe);

 private:
  void display(std::optional<pipeline::RecipeFile> recipe, const QString& problem);

  std::function<pipeline::RecipeFile()> knobs_recipe_;
  std::function<QString(const pipeline::RecipeFile&)> run_dir_;
  std::optional<pipeline::RecipeFile> recipe_;
  QRadioButton* from_knobs_;
  QRadioButton* from_file_;
  QLineEdit* path_;
  QPlainTextEdit* pipeline_;
  QLabel* editable_;
  QLabel* run_dir_label_;
  QLabel* problem_;
  QPushButton* run_;
};

}  // namespace edgetune::ui
