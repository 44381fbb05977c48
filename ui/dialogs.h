#pragma once
// Small dialog helpers that tests can run without a user: file pickers and error boxes honor a scripted mode.
#include <QString>
#include <QWidget>

namespace edgetune::ui {

/// Save-file picker. In scripted mode (setScriptedAnswers) returns the next queued answer instead.
QString askSaveFile(QWidget* parent, const QString& caption, const QString& suggested, const QString& filter);
/// Open-file picker, same scripted behaviour.
QString askOpenFile(QWidget* parent, const QString& caption, const QString& filter);
/// What to do with unsaved changes before an action that would drop them.
enum class UnsavedAnswer { Save = 1, Discard, Cancel };
/// Asks Save / Discard / Cancel before `action` ("quitting", "opening another model"). In scripted mode the
/// next queued answer decides ("save", "cancel"; anything else, or none, discards: automation never waits).
UnsavedAnswer askUnsavedChanges(QWidget* parent, const QString& action);
/// Shows an error message; in scripted mode it is recorded (lastScriptedError) instead of opening a box.
void showError(QWidget* parent, const QString& title, const QString& message);

/// Scripted mode for tests and automation: no modal dialogs open.
void setScriptedMode(bool on);
bool scriptedMode();
void queueScriptedAnswer(const QString& answer);
QString lastScriptedError();

}  // namespace edgetune::ui
