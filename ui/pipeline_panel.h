#pragma once
// The Pipeline dock: the studio's current recipe (v2), one step a line (enabled, id, kind, input, options,
// and after a run what each step did), with the edits of pipeline_edit.h as undoable commands and "Run from
// here". Which recipe it shows: the one last opened (File > Open recipe), saved (File > Save recipe) or built
// from the knobs (Show knobs as pipeline); File > Save recipe saves this one while there is one.
#include <QPointer>
#include <QWidget>

#include <map>
#include <optional>
#include <string>

#include "core/pipeline/recipe_file.h"
#include "core/pipeline/runner.h"
#include "core/pipeline/step.h"
#include "ui/pipeline_edit.h"

class QLabel;
class QPushButton;
class QTableWidget;
class QUndoStack;

namespace edgetune::ui {

class JobHandle;
class StepOptionsDialog;

class PipelinePanel : public QWidget {
  Q_OBJECT
 public:
  /// What the dock shows; each undoable command swaps one for another.
  struct State {
    std::optional<pipeline::RecipeFile> recipe;
    QString file;                                    // where it was read or saved ("" = never saved)
    bool modified = false;                           // edited since it was read or saved
    std::map<std::string, StepRunSummary> last_run;  // by step id; cleared by every edit
    int current_row = -1;
  };
  enum Column { kEnabled = 0, kId, kKind, kInput, kOptions, kLastRun, kAccuracy, kSize, kColumns };

  /// Edits go onto `undo` (the main window's stack, so Edit > Undo covers them).
  explicit PipelinePanel(QUndoStack* undo, QWidget* parent = nullptr);

  /// Shows `recipe` (read from or saved to `file`; "" = not saved yet) as one undoable step, unmodified.
  void showRecipe(const pipeline::RecipeFile& recipe, const QString& file);
  /// After File > Save recipe wrote the shown pipeline to `path` (read back as `saved`): names the file,
  /// clears "modified" (not an undo step).
  void markSaved(const pipeline::RecipeFile& saved, const QString& path);
  /// A run finished: when `recipe` is the shown pipeline (as it is now), each step's line shows what it did.
  void showRun(const pipeline::RecipeFile& recipe, const pipeline::RunResult& run);
  /// The run started from the dock: its progress goes under the list, the run buttons wait for it.
  void watchRun(JobHandle* job);

  const State& state() const { return state_; }
  bool hasRecipe() const { return state_.recipe.has_value(); }
  const std::optional<pipeline::RecipeFile>& recipe() const { return state_.recipe; }

  // The operations behind the buttons, on the row given (-1 = the selected one). Each is one undo step; a
  // refusal changes nothing and says why under the list (and in statusChanged). They return whether it
  // was applied.
  bool moveStep(int row, int delta);
  bool setStepEnabled(int row, bool enabled);
  /// `text` is YAML or JSON; the problem (naming the option's key) goes to `problem` when refused.
  bool setStepOptions(int row, const QString& text, QString* problem = nullptr);
  bool deleteStep(int row);
  /// Asks for a run of the pipeline from step `row` (its cache ignored for it and what depends on it).
  bool runFrom(int row);
  /// Asks for a run of the whole pipeline (cached steps reused).
  bool runAll();
  /// The options dialog for step `row` (shown, not modal), or null when there is no such step.
  StepOptionsDialog* editOptions(int row = -1);

  int currentRow() const;
  void selectRow(int row);
  QTableWidget* table() const { return table_; }
  QLabel* fileLabel() const { return file_label_; }
  QLabel* messageLabel() const { return message_; }
  QPushButton* button(const QString& object_name) const;

  /// Applies `state` as it is (what the undo commands call).
  void restore(const State& state);

 signals:
  void runRequested(const edgetune::pipeline::RecipeFile& recipe, const QString& rerun_from);
  void showKnobsRequested();
  void statusChanged(const QString& text);

 private:
  /// Runs `edit` on a copy of the recipe; pushes "pipeline: `what`" when it succeeds, else shows the error.
  template <class Edit>
  bool edit(const QString& what, int select_row, Edit&& edit, QString* problem = nullptr);
  void refresh();
  void refreshButtons();
  void say(const QString& text, bool problem);
  int rowOr(int row) const;

  QUndoStack* undo_;
  pipeline::StepRegistry registry_;
  State state_;
  bool filling_ = false;
  QPointer<JobHandle> running_;  // the run started from here, while it runs
  QLabel* file_label_;
  QLabel* message_;
  QTableWidget* table_;
  std::map<QString, QPushButton*> buttons_;
};

}  // namespace edgetune::ui
