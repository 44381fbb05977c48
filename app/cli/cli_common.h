#pragma once
// Shared plumbing of edgetune-cli subcommands: progress bar, JSON/text output, Ctrl-C as cancellation.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/jobs/job.h"

namespace edgetune::cli {

/// Options every subcommand shares.
struct GlobalOptions {
  bool json = false;   // machine-readable output on stdout
  bool quiet = false;  // no progress bar
};

/// A JobContext whose progress is drawn as a bar on stderr when stderr is a terminal; Ctrl-C cancels it.
std::unique_ptr<JobContext> makeJob(const GlobalOptions& options, const std::string& title);
/// Clears the progress line (if one was drawn).
void endProgress();

/// Prints `json` (pretty) when --json was given, else `text`.
void emit(const GlobalOptions& options, const nlohmann::json& json, const std::string& text);

/// Each subcommand registers itself; `run` is set to the action to execute after parsing.
using Action = std::function<int()>;
void addInspectCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addCleanCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addEvalCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addBenchCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addZooCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addDemoCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addPruneCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addSensitivityCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addQuantizeCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addDeviceCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addDeployCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addTrainCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addFinetuneCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addDistillCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addRecoverCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addQatCommand(CLI::App& app, const GlobalOptions& global, Action& run);

/// Formats a count with thousands separators: 11173962 -> "11,173,962".
std::string withCommas(int64_t value);
/// Human units: 0.56 G, 45.1 M, 12.3 K.
std::string humanCount(double value);
std::string humanBytes(double bytes);

}  // namespace edgetune::cli
