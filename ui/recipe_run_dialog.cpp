#include "ui/recipe_run_dialog.h"

#include <QDialogButtonBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

#include "core/pipeline/runner.h"
#include "core/util/error.h"
#include "ui/dialogs.h"
#include "ui/recipe_bridge.h"

namespace edgetune::ui {

RecipeRunDialog::RecipeRunDialog(std::function<pipeline::RecipeFile()> knobs_recipe,
                                 std::function<QString(const pipeline::RecipeFile&)> run_dir, QWidget* parent)
    : QDialog(parent), knobs_recipe_(std::move(knobs_recipe)), run_dir_(std::move(run_dir)) {
  setWindowTitle("Run recipe");
  setObjectName("recipe-run-dialog");
  auto* layout = new QVBoxLayout(this);
  from_knobs_ = new QRadioButton("The current knobs (clean-up, pruning, quantization)", this);
  from_file_ = new QRadioButton("A recipe file:", this);
  path_ = new QLineEdit(this);
  path_->setPlaceholderText("recipe.yaml");
  auto* browse = new QPushButton("Browse...", this);
  auto* file_row = new QHBoxLayout;
  file_row->addWidget(from_file_);
  file_row->addWidget(path_, 1);
  file_row->addWidget(browse);
  layout->addWidget(from_knobs_);
  layout->addLayout(file_row);
  layout->addWidget(new QLabel("Pipeline:", this));
  pipeline_ = new QPlainTextEdit(this);
  pipeline_->setReadOnly(true);
  pipeline_->setMinimumSize(560, 150);
  pipeline_->setLineWrapMode(QPlainTextEdit::NoWrap);
  layout->addWidget(pipeline_, 1);
  problem_ = new QLabel(this);
  problem_->setObjectName("problem");
  problem_->setWordWrap(true);
  problem_->setStyleSheet("color: #b00020;");
  editable_ = new QLabel(this);
  editable_->setObjectName("editable");
  editable_->setWordWrap(true);
  run_dir_label_ = new QLabel(this);
  run_dir_label_->setWordWrap(true);
  run_dir_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(problem_);
  layout->addWidget(editable_);
  layout->addWidget(run_dir_label_);
  auto* buttons = new QDialogButtonBox(this);
  run_ = buttons->addButton("Run as a job", QDialogButtonBox::AcceptRole);
  run_->setObjectName("run");
  buttons->addButton(QDialogButtonBox::Close);
  layout->addWidget(buttons);

  connect(from_knobs_, &QRadioButton::clicked, this, &RecipeRunDialog::useKnobs);
  connect(from_file_, &QRadioButton::clicked, this, [this] { useFile(path_->text()); });
  connect(path_, &QLineEdit::editingFinished, this, [this] {
    if (from_file_->isChecked()) useFile(path_->text());
  });
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString path = askOpenFile(this, "Run recipe", "Recipes (*.yaml *.yml *.json);;All files (*)");
    if (!path.isEmpty()) useFile(path);
  });
  connect(run_, &QPushButton::clicked, this, [this] {
    if (!recipe_) return;
    emit runRequested(*recipe_);
    hide();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::hide);
}

QString RecipeRunDialog::problem() const {
  return problem_->text();
}

void RecipeRunDialog::useKnobs() {
  from_knobs_->setChecked(true);
  try {
    display(knobs_recipe_(), {});
  } catch (const std::exception& e) {
    display(std::nullopt, QString::fromUtf8(e.what()));
  }
}

bool RecipeRunDialog::useFile(const QString& path) {
  from_file_->setChecked(true);
  path_->setText(path);
  if (path.isEmpty()) {
    display(std::nullopt, "Choose a recipe file");
    return false;
  }
  try {
    pipeline::RecipeFile recipe = pipeline::readRecipeFile(path.toStdString());
    pipeline::validateRecipe(recipe, pipeline::StepRegistry::withBuiltins());
    display(std::move(recipe), {});
    return true;
  } catch (const std::exception& e) {
    display(std::nullopt, QString::fromUtf8(e.what()));
    return false;
  }
}

void RecipeRunDialog::display(std::optional<pipeline::RecipeFile> recipe, const QString& problem) {
  recipe_ = std::move(recipe);
  problem_->setText(problem);
  problem_->setVisible(!problem.isEmpty());
  run_->setEnabled(recipe_.has_value());
  if (!recipe_) {
    pipeline_->clear();
    editable_->clear();
    run_dir_label_->clear();
    return;
  }
  QStringList lines;
  for (const auto& line : pipeline::describePipeline(*recipe_, pipeline::StepRegistry::withBuiltins()))
    lines << QString::fromStdString(line);
  pipeline_->setPlainText(lines.join('\n'));
  const RecipeKnobs knobs = knobsFromRecipeFile(*recipe_, nlohmann::json::object());
  editable_->setText(knobs.editable ? "Editable: File > Open recipe loads these steps into the tuning knobs."
                                    : "Runs as is, but is not editable as knobs: " +
                                          QString::fromStdString(knobs.reason));
  run_dir_label_->setText("Run folder (steps already done there are reused): " + run_dir_(*recipe_));
}

}  // namespace edgetune::ui
