#pragma once
// Shared by the studio tests: main-window options that keep a test's files in its own folder.
#include <filesystem>

#include "ui/main_window.h"

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

}  // namespace edgetune::test
