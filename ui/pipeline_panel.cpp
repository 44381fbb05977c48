#include "ui/pipeline_panel.h"

#include <QAction>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QUndoCommand>
#include <QUndoStack>
#include <QVBoxLayout>

#include <algorithm>

#include "core/passes/pass.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "ui/jobs.h"
#include "ui/step_options_dialog.h"

namespace edgetune::ui {
using nlohmann::json;

namespace {

/// One pipeline edit: the whole dock state before and after (a recipe is a few kilobytes).
class PipelineCommand : public QUndoCommand {
 public:
  PipelineCommand(PipelinePanel* panel, PipelinePanel::State before, PipelinePanel::State after,
                  const QString& text)
      : panel_(panel), before_(std::move(before)), after_(std::move(after)) {
    setText("pipeline: " + text);
  }
  void redo() override { panel_->restore(after_); }
  void undo() override { panel_->restore(before_); }

 private:
  PipelinePanel* panel_;
  PipelinePanel::State before_, after_;
};

QString q(const std::string& text) {
  return QString::fromStdString(text);
}

QTableWidgetItem* readOnlyItem(const QString& text, const QString& tooltip = {}) {
  auto* item = new QTableWidgetItem(text);
  item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
  if (!tooltip.isEmpty()) item->setToolTip(tooltip);
  return item;
}

}  // namespace

PipelinePanel::PipelinePanel(QUndoStack* undo, QWidget* parent)
    : QWidget(parent), undo_(undo), registry_(pipeline::StepRegistry::withBuiltins()) {
  setObjectName("pipeline-panel");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->setSpacing(3);

  // The buttons, each with a shortcut that works while the dock has focus.
  auto* row = new QHBoxLayout;
  row->setSpacing(3);
  auto addButton = [&](const QString& name, const QString& text, const QString& shortcut, const QString& tip,
                       auto slot) {
    auto* b = new QPushButton(text, this);
    b->setObjectName(name);
    b->setToolTip(shortcut.isEmpty() ? tip : tip + " (" + shortcut + ")");
    b->setAutoDefault(false);
    connect(b, &QPushButton::clicked, this, slot);
    if (!shortcut.isEmpty()) {
      auto* a = new QAction(text, this);
      a->setShortcut(QKeySequence(shortcut));
      a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
      connect(a, &QAction::triggered, this, slot);
      addAction(a);
    }
    row->addWidget(b);
    buttons_[name] = b;
  };
  addButton("move-up", "Up", "Alt+Up", "Move the selected step one place earlier",
            [this] { moveStep(-1, -1); });
  addButton("move-down", "Down", "Alt+Down", "Move the selected step one place later",
            [this] { moveStep(-1, 1); });
  addButton("toggle", "Enable/disable", "Ctrl+Space",
            "Switch the selected step off or on; a disabled step passes its input model through", [this] {
              const int r = rowOr(-1);
              if (r >= 0) setStepEnabled(r, !state_.recipe->steps[static_cast<size_t>(r)].enabled);
            });
  addButton("edit-options", "Options...", "F2",
            "Edit the selected step's options as YAML; checked by the step kind before anything changes",
            [this] { editOptions(-1); });
  addButton("delete", "Delete", "Delete",
            "Remove the selected step (refused while another step starts from it or reads it)",
            [this] { deleteStep(-1); });
  row->addSpacing(12);
  addButton("run-from", "Run from here", "F6",
            "Run the pipeline as a job: the selected step and every step that depends on it run again, the "
            "others come from the cache",
            [this] { runFrom(-1); });
  addButton(
      "run-all", "Run all", "Shift+F6",
      "Run the whole pipeline as a job (steps whose inputs and options did not change come from the cache)",
      [this] { runAll(); });
  row->addStretch(1);
  addButton("show-knobs", "Show knobs as pipeline", "",
            "Replace this list with the recipe of the current knobs, model and dataset (Run > Show knobs as "
            "pipeline, Ctrl+Shift+P; undoable)",
            [this] { emit showKnobsRequested(); });
  layout->addLayout(row);

  table_ = new QTableWidget(0, kColumns, this);
  table_->setObjectName("pipeline-steps");
  table_->setHorizontalHeaderLabels(
      {"On", "Step", "Kind", "Input", "Options", "Last run", "Accuracy", "Size"});
  const QStringList header_tips = {
      "Enabled: a disabled step is skipped and passes its input through (Ctrl+Space)",
      "The step's id (its run folder and variant are named after it)",
      "The step kind",
      "The model the step starts from: an earlier step, or base (the recipe's model)",
      "The step's options as written in the recipe (defaults left out); F2 or double-click to edit",
      "What the step did in the last run of this pipeline: ran (seconds) or cached",
      "Top-1 accuracy of the step's model on the test set (from the run report)",
      "File size of the step's model"};
  for (int c = 0; c < kColumns; ++c) table_->horizontalHeaderItem(c)->setToolTip(header_tips[c]);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->setDefaultSectionSize(22);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(kOptions, QHeaderView::Stretch);
  table_->setToolTip("The pipeline, one step a line, run top to bottom");
  layout->addWidget(table_, 1);
  connect(table_, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
    if (filling_ || item->column() != kEnabled || !state_.recipe) return;
    // Applied once the table is done with the item: the edit rebuilds the rows.
    const int r = item->row();
    const bool on = item->checkState() == Qt::Checked;
    QTimer::singleShot(0, this, [this, r, on] {
      if (!setStepEnabled(r, on)) refresh();  // put the box back
    });
  });
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int r, int) { editOptions(r); });
  connect(table_, &QTableWidget::itemSelectionChanged, this, [this] {
    if (!filling_) {
      state_.current_row = currentRow();
      refreshButtons();
    }
  });

  auto* bottom = new QHBoxLayout;
  file_label_ = new QLabel(this);
  file_label_->setObjectName("pipeline-file");
  file_label_->setToolTip(
      "The recipe this list shows. File > Save recipe saves this list (edits included) while there is one");
  message_ = new QLabel(this);
  message_->setObjectName("pipeline-message");
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  message_->setToolTip("The last refusal, or the progress of the run started from here");
  bottom->addWidget(file_label_);
  bottom->addSpacing(24);
  bottom->addWidget(message_, 1);
  layout->addLayout(bottom);
  refresh();
}

int PipelinePanel::currentRow() const {
  const auto rows = table_->selectionModel()->selectedRows();
  return rows.isEmpty() ? -1 : rows.first().row();
}

void PipelinePanel::selectRow(int row) {
  if (row >= 0 && row < table_->rowCount())
    table_->selectRow(row);
  else
    table_->clearSelection();
}

QPushButton* PipelinePanel::button(const QString& object_name) const {
  const auto it = buttons_.find(object_name);
  return it == buttons_.end() ? nullptr : it->second;
}

int PipelinePanel::rowOr(int row) const {
  if (row < 0) row = currentRow();
  if (!state_.recipe || row < 0 || row >= static_cast<int>(state_.recipe->steps.size())) return -1;
  return row;
}

void PipelinePanel::say(const QString& text, bool problem) {
  message_->setStyleSheet(problem ? "color: #b00020;" : "");
  message_->setText(text);
  emit statusChanged(text);
}

void PipelinePanel::showRecipe(const pipeline::RecipeFile& recipe, const QString& file) {
  State after;
  after.recipe = recipe;
  after.file = file;
  after.current_row = recipe.steps.empty() ? -1 : 0;
  const QString name = file.isEmpty() ? "the knobs' recipe" : QFileInfo(file).fileName();
  undo_->push(new PipelineCommand(this, state_, std::move(after), "show " + name));
}

void PipelinePanel::markSaved(const pipeline::RecipeFile& saved, const QString& path) {
  State now = state_;
  now.recipe = saved;
  now.file = path;
  now.modified = false;
  restore(now);
}

void PipelinePanel::restore(const State& state) {
  state_ = state;
  refresh();
}

template <class Edit>
bool PipelinePanel::edit(const QString& what, int select_row, Edit&& apply, QString* problem) {
  State after = state_;
  try {
    apply(*after.recipe);
  } catch (const std::exception& e) {
    const QString message = QString::fromUtf8(e.what());
    if (problem) *problem = message;
    say("Not changed: " + message, true);
    return false;
  }
  after.modified = true;
  after.last_run.clear();  // the results described the pipeline before this edit
  after.current_row = select_row;
  undo_->push(new PipelineCommand(this, state_, std::move(after), what));
  say("Pipeline: " + what + " (Ctrl+Z undoes)", false);
  return true;
}

bool PipelinePanel::moveStep(int row, int delta) {
  row = rowOr(row);
  if (row < 0) return false;
  const QString id = q(state_.recipe->steps[static_cast<size_t>(row)].id);
  return edit(QString("move '%1' %2").arg(id, delta < 0 ? "up" : "down"), row + delta,
              [&](pipeline::RecipeFile& r) { ui::moveStep(r, static_cast<size_t>(row), delta, registry_); });
}

bool PipelinePanel::setStepEnabled(int row, bool enabled) {
  row = rowOr(row);
  if (row < 0) return false;
  if (state_.recipe->steps[static_cast<size_t>(row)].enabled == enabled) return true;
  const QString id = q(state_.recipe->steps[static_cast<size_t>(row)].id);
  return edit(QString("%1 '%2'").arg(enabled ? "enable" : "disable", id), row, [&](pipeline::RecipeFile& r) {
    ui::setStepEnabled(r, static_cast<size_t>(row), enabled, registry_);
  });
}

bool PipelinePanel::setStepOptions(int row, const QString& text, QString* problem) {
  row = rowOr(row);
  if (row < 0) return false;
  const pipeline::StepSpec& spec = state_.recipe->steps[static_cast<size_t>(row)];
  const QString id = q(spec.id);
  return edit(
      QString("options of '%1'").arg(id), row,
      [&](pipeline::RecipeFile& r) {
        const json options = pipeline::parseOptionsText(text.toStdString(), "options of '" + spec.id + "'");
        ui::setStepOptions(r, static_cast<size_t>(row), options, registry_);
      },
      problem);
}

bool PipelinePanel::deleteStep(int row) {
  row = rowOr(row);
  if (row < 0) return false;
  const QString id = q(state_.recipe->steps[static_cast<size_t>(row)].id);
  const int remaining = static_cast<int>(state_.recipe->steps.size()) - 1;
  return edit(QString("delete '%1'").arg(id), std::min(row, remaining - 1),
              [&](pipeline::RecipeFile& r) { ui::deleteStep(r, static_cast<size_t>(row), registry_); });
}

bool PipelinePanel::runFrom(int row) {
  row = rowOr(row);
  if (row < 0 || running_) return false;
  const pipeline::StepSpec& spec = state_.recipe->steps[static_cast<size_t>(row)];
  if (!spec.enabled) {
    say("Not run: '" + q(spec.id) + "' is disabled; enable it, or run from another step", true);
    return false;
  }
  emit runRequested(*state_.recipe, q(spec.id));
  return true;
}

bool PipelinePanel::runAll() {
  if (!state_.recipe || running_) return false;
  emit runRequested(*state_.recipe, QString());
  return true;
}

StepOptionsDialog* PipelinePanel::editOptions(int row) {
  row = rowOr(row);
  if (row < 0) return nullptr;
  const pipeline::StepSpec& spec = state_.recipe->steps[static_cast<size_t>(row)];
  std::string defaults;
  try {
    defaults = pipeline::optionsToYaml(registry_.create(spec.kind)->optionsJson());
  } catch (const Error& e) {
    defaults = e.what();
  }
  const std::string id = spec.id;
  auto* dialog = new StepOptionsDialog(
      q(spec.id), q(spec.kind), q(pipeline::optionsToYaml(spec.options)), q(defaults),
      [this, id](const QString& text) {
        // The step is found again by id: the list may have changed (an undo) while the dialog was open.
        const auto& steps = state_.recipe ? state_.recipe->steps : std::vector<pipeline::StepSpec>{};
        const auto it = std::find_if(steps.begin(), steps.end(), [&](const auto& s) { return s.id == id; });
        if (it == steps.end())
          return QString::fromStdString("the pipeline has no step '" + id + "' any more");
        QString problem;
        return setStepOptions(static_cast<int>(it - steps.begin()), text, &problem) ? QString() : problem;
      },
      this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->show();
  return dialog;
}

void PipelinePanel::showRun(const pipeline::RecipeFile& recipe, const pipeline::RunResult& run) {
  if (!state_.recipe || state_.recipe->toJson() != recipe.toJson()) return;  // another recipe, or edited
  for (const auto& step : recipe.steps)
    if (const auto summary = stepRunSummary(run, step.id)) state_.last_run[step.id] = *summary;
  refresh();
}

void PipelinePanel::watchRun(JobHandle* job) {
  running_ = job;
  refreshButtons();
  if (!job) return;
  say("Running: " + job->message(), false);
  connect(job, &JobHandle::progressChanged, this, [this, job](double, const QString& message, double) {
    if (running_ == job) say("Running: " + message, false);
  });
  connect(job, &JobHandle::finished, this, [this, job](JobHandle::State st, const QString& error) {
    if (running_ != job) return;
    running_ = nullptr;
    refreshButtons();
    if (st == JobHandle::State::Succeeded)
      say("Run finished: the Last run column shows what each step did", false);
    else if (st == JobHandle::State::Cancelled)
      say("Run cancelled: the steps done are kept and reused next time", false);
    else
      say("Run failed: " + error, true);
  });
}

void PipelinePanel::refresh() {
  filling_ = true;
  table_->setRowCount(0);
  if (!state_.recipe) {
    file_label_->setText("<i>No pipeline: File &gt; Open recipe, or Show knobs as pipeline</i>");
  } else {
    const pipeline::RecipeFile& recipe = *state_.recipe;
    const QString name = state_.file.isEmpty() ? "the knobs (not saved)" : QFileInfo(state_.file).fileName();
    file_label_->setText(QString("Pipeline: <b>%1</b>%2")
                             .arg(name.toHtmlEscaped(), state_.modified ? " &mdash; modified" : ""));
    file_label_->setToolTip(
        (state_.file.isEmpty() ? QString("Not saved yet") : state_.file) +
        "\nFile > Save recipe saves this list (edits included); model: " + q(recipe.model));
    table_->setRowCount(static_cast<int>(recipe.steps.size()));
    for (size_t i = 0; i < recipe.steps.size(); ++i) {
      const pipeline::StepSpec& step = recipe.steps[i];
      const int r = static_cast<int>(i);
      auto* on = new QTableWidgetItem;
      on->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
      on->setCheckState(step.enabled ? Qt::Checked : Qt::Unchecked);
      on->setToolTip(step.enabled ? "Enabled: uncheck to skip this step"
                                  : "Disabled: check to run this step");
      table_->setItem(r, kEnabled, on);
      table_->setItem(r, kId, readOnlyItem(q(step.id)));
      table_->setItem(
          r, kKind,
          readOnlyItem(q(step.kind), registry_.contains(step.kind) ? q(registry_.summary(step.kind))
                                                                   : QString("not a kind this build has")));
      table_->setItem(
          r, kInput,
          readOnlyItem(q(recipe.inputOf(i)), step.input.empty() ? "The previous enabled step's model"
                                                                : "Named in the recipe: " + q(step.input)));
      table_->setItem(
          r, kOptions,
          readOnlyItem(q(optionsSummary(step.options)), q(pipeline::optionsToYaml(step.options))));
      const auto run = state_.last_run.find(step.id);
      if (run != state_.last_run.end()) {
        const StepRunSummary& s = run->second;
        table_->setItem(r, kLastRun, readOnlyItem(q(s.outcomeText())));
        if (s.accuracy)
          table_->setItem(r, kAccuracy, readOnlyItem(QString::number(100 * *s.accuracy, 'f', 2) + "%"));
        if (s.size_bytes) table_->setItem(r, kSize, readOnlyItem(q(formatBytes(*s.size_bytes))));
      }
      if (!step.enabled)
        for (int c = kId; c < kColumns; ++c)
          if (auto* item = table_->item(r, c))
            item->setForeground(palette().color(QPalette::Disabled, QPalette::Text));
    }
  }
  filling_ = false;
  selectRow(state_.current_row);
  refreshButtons();
}

void PipelinePanel::refreshButtons() {
  const int row = rowOr(-1);
  const bool has_row = row >= 0;
  const int count = state_.recipe ? static_cast<int>(state_.recipe->steps.size()) : 0;
  button("move-up")->setEnabled(has_row && row > 0);
  button("move-down")->setEnabled(has_row && row + 1 < count);
  button("toggle")->setEnabled(has_row);
  button("edit-options")->setEnabled(has_row);
  button("delete")->setEnabled(has_row);
  const bool can_run = !running_ && state_.recipe.has_value();
  button("run-all")->setEnabled(can_run && count > 0);
  button("run-from")
      ->setEnabled(can_run && has_row && state_.recipe->steps[static_cast<size_t>(row)].enabled);
  const QString run_from_tip =
      "Run the pipeline as a job: the selected step and every step that depends on it run again, the others "
      "come from the cache (F6)";
  button("run-from")->setToolTip(run_from_tip);
  if (has_row) {
    const std::string& id = state_.recipe->steps[static_cast<size_t>(row)].id;
    QString rerun;
    try {
      for (const auto& d : pipeline::stepsDependingOn(*state_.recipe, registry_, id))
        if (state_.recipe->step(d)->enabled) rerun += (rerun.isEmpty() ? "" : ", ") + q(d);
    } catch (const Error&) {
    }
    button("run-from")
        ->setToolTip("Run the pipeline as a job; these run again, the others come from the cache: " + rerun +
                     " (F6)");
  }
}

}  // namespace edgetune::ui
