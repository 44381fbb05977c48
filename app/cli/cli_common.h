#pragma once
// Shared plumbing of edgetune-cli subcommands: progress bar, JSON/text output, Ctrl-C as cancellation.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/analysis/coverage.h"
#include "core/ir/input_shapes.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/passes/canonicalize.h"
#include "core/util/error.h"
#include "core/util/format.h"  // formatBytes: byte sizes in the commands' text

namespace edgetune::cli {

/// Exit codes of edgetune-cli, as the README documents them.
inline constexpr int kExitFailed = 1;         // a bad file or a failed operation
inline constexpr int kExitBadArguments = 2;   // the command line itself is wrong
inline constexpr int kExitCancelled = 130;    // Ctrl-C (128 + SIGINT, what shells report)
inline constexpr int kExitInternalError = 3;  // a bug in EdgeTune: no input may lead here

/// A command line found wrong after parsing (an output naming an input): exit code 2, like CLI11's errors.
class UsageError : public Error {
 public:
  using Error::Error;
};

/// Reports a CLI11 parse error: --help and --version print as CLI11 prints them (exit 0); every other error
/// is one line on stderr naming the option and pointing at the command's --help, and exit code 2 (CLI11's
/// own codes, 105 and up, are not what the README promises).
int exitOnParseError(const CLI::App& app, const CLI::ParseError& error);

/// Options every subcommand shares.
struct GlobalOptions {
  bool json = false;   // machine-readable output on stdout
  bool quiet = false;  // no progress bar
};

/// Ends a CliJob: from then on Ctrl-C no longer reaches it (the handler never sees a destroyed job).
struct CliJobDeleter {
  void operator()(JobContext* job) const noexcept;
};
/// A job that Ctrl-C cancels while it lives: the first Ctrl-C cancels it (it stops at its next check, removes
/// its temporary files and the command exits 130); a second one ends the process at once, temporaries
/// removed.
using CliJob = std::unique_ptr<JobContext, CliJobDeleter>;
CliJob cancelOnInterrupt(std::unique_ptr<JobContext> job);

/// A CliJob whose progress is drawn as a bar on stderr when stderr is a terminal.
CliJob makeJob(const GlobalOptions& options, const std::string& title);
/// Clears the progress line (if one was drawn).
void endProgress();

/// Prints `json` (pretty) when --json was given, else `text`.
void emit(const GlobalOptions& options, const nlohmann::json& json, const std::string& text);

/// --no-clean and --shape: how every command that reads a model takes it in.
struct ModelInputArgs {
  bool no_clean = false;            // analyse the model exactly as given
  std::vector<std::string> shapes;  // "NAME=1x128" per input (parseShapeSpecs)
};
/// Adds --no-clean and --shape NAME=DIMS to `cmd`.
void addModelInputOptions(CLI::App* cmd, ModelInputArgs& args);

/// A model as a command works on it: loaded, then canonicalized (unless --no-clean), with what that did.
struct LoadedModel {
  Model model;
  CanonicalizeReport clean;
};
/// Loads `path` and canonicalizes it in memory (the file is never changed). `fold_batchnorm` is false where
/// BatchNormalization is a layer the command uses (training trains it, pruning ranks and shrinks it).
LoadedModel loadModel(const std::string& path, const ModelInputArgs& args, bool fold_batchnorm = true);
/// Concrete input sizes for `model` from --shape, then the dataset example (if any), then the defaults.
InputShapes resolveShapes(const Model& model, const ModelInputArgs& args,
                          const ExampleShapes* example = nullptr);
/// The first lines of a command's report: what the clean-up did, and the input sizes used with the notes of
/// those that were defaulted ("input_ids: 'sequence' = 128 (default ...)"). Either may be null.
std::string inputReport(const CanonicalizeReport* clean, const InputShapes* shapes);

/// A Coverage back from its toJson() (as a step's result holds it), for the report lines the commands print.
Coverage coverageFromJson(const nlohmann::json& json);

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
void addRunCommand(CLI::App& app, const GlobalOptions& global, Action& run);
void addExportCommand(CLI::App& app, const GlobalOptions& global, Action& run);

/// Formats a count with thousands separators: 11173962 -> "11,173,962".
std::string withCommas(int64_t value);
/// Human units: 0.56 G, 45.1 M, 12.3 K.
std::string humanCount(double value);

}  // namespace edgetune::cli
