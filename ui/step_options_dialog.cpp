#include "ui/step_options_dialog.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace edgetune::ui {

StepOptionsDialog::StepOptionsDialog(const QString& step_id, const QString& kind, const QString& options_yaml,
                                     const QString& defaults_yaml,
                                     std::function<QString(const QString& text)> apply, QWidget* parent)
    : QDialog(parent), apply_(std::move(apply)) {
  setWindowTitle("Options of step " + step_id);
  setObjectName("step-options-dialog");
  auto* layout = new QVBoxLayout(this);
  auto* intro = new QLabel(
      QString(
          "Options of <b>%1</b> (%2), one <tt>key: value</tt> a line (YAML; JSON works too). Keys left out "
          "take the kind's defaults.")
          .arg(step_id.toHtmlEscaped(), kind.toHtmlEscaped()),
      this);
  intro->setWordWrap(true);
  layout->addWidget(intro);
  editor_ = new QPlainTextEdit(options_yaml, this);
  editor_->setObjectName("options-text");
  editor_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  editor_->setLineWrapMode(QPlainTextEdit::NoWrap);
  editor_->setMinimumSize(480, 180);
  editor_->setToolTip(
      "The step's options as YAML or JSON; checked by the step kind when you press OK.\n\n"
      "Defaults of " +
      kind + ":\n" + defaults_yaml);
  layout->addWidget(editor_, 1);
  problem_ = new QLabel(this);
  problem_->setObjectName("problem");
  problem_->setWordWrap(true);
  problem_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  problem_->setStyleSheet("color: #b00020;");
  problem_->hide();
  layout->addWidget(problem_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  ok_ = buttons->button(QDialogButtonBox::Ok);
  ok_->setToolTip(
      "Check the options and apply them (Ctrl+Return); a problem is shown here and nothing changes");
  ok_->setShortcut(QKeySequence("Ctrl+Return"));
  buttons->button(QDialogButtonBox::Cancel)->setToolTip("Close without changing the step (Esc)");
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::accepted, this, &StepOptionsDialog::tryApply);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

QString StepOptionsDialog::problem() const {
  return problem_text_;
}

void StepOptionsDialog::tryApply() {
  const QString problem = apply_(editor_->toPlainText());
  problem_text_ = problem;
  if (problem.isEmpty()) {
    problem_->hide();
    accept();
    return;
  }
  problem_->setText("Not applied: " + problem);
  problem_->show();
}

}  // namespace edgetune::ui
