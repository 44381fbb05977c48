#pragma once
// The Pipeline dock's "Edit options" dialog: one step's options as YAML (JSON works too), applied on OK only
// when they are valid; otherwise the error (naming the option's key) stays on screen and nothing changes.
#include <QDialog>

#include <functional>

class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace edgetune::ui {

class StepOptionsDialog : public QDialog {
  Q_OBJECT
 public:
  /// `apply` tries the text and returns the problem ("" = applied; the dialog then closes).
  StepOptionsDialog(const QString& step_id, const QString& kind, const QString& options_yaml,
                    const QString& defaults_yaml, std::function<QString(const QString& text)> apply,
                    QWidget* parent = nullptr);

  QPlainTextEdit* editor() const { return editor_; }
  QPushButton* okButton() const { return ok_; }
  /// The last refusal ("" after none).
  QString problem() const;

 private:
  void tryApply();

  std::function<QString(const QString&)> apply_;
  QPlainTextEdit* editor_;
  QLabel* problem_;
  QString problem_text_;
  QPushButton* ok_;
};

}  // namespace edgetune::ui
