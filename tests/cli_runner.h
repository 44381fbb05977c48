#pragma once
// Runs the real edgetune-cli binary for the CLI tests.
#include <QProcess>
#include <QStringList>

#include <filesystem>
#include <string>

namespace edgetune::test {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline CliResult runCli(const QStringList& args) {
  QProcess p;
  p.start(QString(EDGETUNE_BINARY_DIR) + "/bin/edgetune-cli", args);
  if (!p.waitForFinished(10 * 60 * 1000)) return {};
  return {p.exitCode(), p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
}

inline QString q(const std::filesystem::path& p) {
  return QString::fromStdString(p.string());
}

}  // namespace edgetune::test
