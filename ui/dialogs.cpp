#include "ui/dialogs.h"

#include <QFileDialog>
#include <QMessageBox>
#include <QStringList>

namespace edgetune::ui {

namespace {
bool g_scripted = false;
QStringList g_answers;
QString g_last_error;

QString nextAnswer() {
  return g_answers.isEmpty() ? QString() : g_answers.takeFirst();
}
}  // namespace

void setScriptedMode(bool on) {
  g_scripted = on;
}
bool scriptedMode() {
  return g_scripted;
}
void queueScriptedAnswer(const QString& answer) {
  g_answers.append(answer);
}
QString lastScriptedError() {
  return g_last_error;
}

QString askSaveFile(QWidget* parent, const QString& caption, const QString& suggested,
                    const QString& filter) {
  if (g_scripted) return nextAnswer();
  return QFileDialog::getSaveFileName(parent, caption, suggested, filter);
}

UnsavedAnswer askUnsavedChanges(QWidget* parent, const QString& action) {
  if (g_scripted) {
    const QString answer = nextAnswer();
    return answer == "save"     ? UnsavedAnswer::Save
           : answer == "cancel" ? UnsavedAnswer::Cancel
                                : UnsavedAnswer::Discard;
  }
  const auto button = QMessageBox::question(
      parent, "Unsaved changes",
      "The project has changes that are not saved. Save them before " + action + "?",
      QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
  return button == QMessageBox::Save      ? UnsavedAnswer::Save
         : button == QMessageBox::Discard ? UnsavedAnswer::Discard
                                          : UnsavedAnswer::Cancel;
}

QString askOpenFile(QWidget* parent, const QString& caption, const QString& filter) {
  if (g_scripted) return nextAnswer();
  return QFileDialog::getOpenFileName(parent, caption, QString(), filter);
}

void showError(QWidget* parent, const QString& title, const QString& message) {
  g_last_error = message;
  if (g_scripted) return;
  QMessageBox::warning(parent, title, message);
}

}  // namespace edgetune::ui
