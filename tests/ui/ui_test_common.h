#pragma once
// Shared by the studio tests: main-window options that keep a test's files in its own folder, finding
// actions, opening the model and data, screenshots.
#include <QAction>
#include <QtTest>

#include <filesystem>

#include "ui/main_window.h"
#include "ui/tuning_panel.h"

namespace edgetune::test {

/// No recovery prompt, the recovery file inside `dir`, and the baseline's accuracy first measured on `limit`
/// examples (fewer than the default keeps tests quick).
inline ui::MainWindowOptions windowOptions(const std::filesystem::path& dir,
                                           size_t limit = ui::MainWindowOptions{}.baseline_accuracy_limit) {
  ui::MainWindowOptions options;
  options.offer_recovery = false;
  options.recovery_path = QString::fromStdString((dir / "recovery.json").string());
  options.baseline_accuracy_limit = limit;
  return options;
}

/// The window's action with this object name; a missing one ends the test run (a renamed action).
inline QAction* action(QWidget& window, const char* name) {
  auto* a = window.findChild<QAction*>(name);
  if (!a) qFatal("no action %s", name);
  return a;
}

/// Saves `widget` as `name` in $EDGETUNE_SHOT_DIR when it is set (to look at what a test saw).
inline void maybeShoot(QWidget& widget, const QString& name) {
  const QString dir = qEnvironmentVariable("EDGETUNE_SHOT_DIR");
  if (!dir.isEmpty()) QVERIFY(widget.grab().save(dir + "/" + name));
}

/// Opens `dataset`, then `model`, and waits for both; live measurement stays off (tests about other things).
inline void openModelAndData(ui::MainWindow& window, const QString& dataset, const QString& model) {
  window.tuningPanel()->setDebounceMs(3600000);
  QSignalSpy data(&window, &ui::MainWindow::datasetOpened);
  window.openDataset(dataset);
  QTRY_VERIFY_WITH_TIMEOUT(data.count() == 1, 60000);
  QSignalSpy opened(&window, &ui::MainWindow::modelOpened);
  window.openModel(model);
  QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 1, 60000);
}

}  // namespace edgetune::test
