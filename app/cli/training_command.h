#pragma once
// The one flow of edgetune-cli train / finetune / distill / recover / qat (one file each, cmd_*.cpp): load
// the model, open the data, run the pipeline's training step of that kind on its own (single_step.h) with its
// epochs printed as they end, write the model, then the shared report and the command's own lines.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "app/cli/cli_common.h"
#include "app/cli/output_paths.h"
#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/pipeline/single_step.h"

namespace edgetune::cli {

/// Registers `name` as a command that says it needs the training engine (an edgetune-cli without libtorch).
void addUnavailableTrainingCommand(CLI::App& app, const char* name, Action& run);

#ifdef EDGETUNE_HAVE_TRAINING

struct TrainArgs;  // training_options.h

/// MODEL is an ONNX file or "zoo:ARCH[?key=value&...]" (core/zoo/model_source.h), so one command reproduces
/// a demo model from scratch. A file goes through the clean-up on the way in (BatchNorm kept: it trains),
/// unless --no-clean.
Model loadModelSpec(const std::string& spec, const ModelInputArgs& input, const GlobalOptions& global);

/// The files every training command reads and writes: MODEL (unless a zoo: source), --data, --val, --test,
/// -o, --checkpoint and the vocabulary --build-vocab writes (the vocab= of --data, then no input of the
/// command). A command adds its own (--teacher, ...) and checks them before any work. Throws UsageError when
/// --build-vocab is given and --data has no vocab= to write to.
CommandFiles trainingFiles(const TrainArgs& args);

/// "93.26%" for 0.9326.
std::string percent(double fraction);

/// What one training command adds to the shared flow: its step kind, the options beyond the trainer's, the
/// models they name (a teacher, by its file name) and extra datasets (calibration).
struct TrainingStep {
  std::string kind;
  nlohmann::json options = nlohmann::json::object();
  pipeline::MappedStepContext::ModelMap models;
  std::map<std::string, std::shared_ptr<const Dataset>> datasets;
};

/// What the command's own report lines read: its input, the step's result, the datasets.
struct TrainingOutcome {
  const Model& input;
  const pipeline::SingleStepResult& done;
  const Dataset& train;
  std::shared_ptr<const Dataset> validation, test;  // null when not given
  int threads;                                      // --threads, for ONNX Runtime too
  JobContext* job;
};

/// Accuracy in ONNX Runtime, through the "evaluate" step (what `edgetune-cli eval` runs).
double ortAccuracy(const Model& model, const std::shared_ptr<const Dataset>& data, int threads,
                   JobContext* job);

/// A command's own report lines, added to the JSON report and the text after the shared ones.
using ReportLines = std::function<void(const TrainingOutcome&, nlohmann::json&, std::ostringstream&)>;

/// Runs the shared flow for `training` on `input`; `title` is the command's name in messages. Returns the
/// exit code.
int runTrainingCommand(const GlobalOptions& global, const TrainArgs& args, const std::string& title,
                       TrainingStep training, const Model& input, const ReportLines& report_lines);

/// The report lines of train, finetune and distill: the training, validation and test figures.
void trainedLines(const TrainingOutcome& outcome, nlohmann::json& json, std::ostringstream& text);

#endif  // EDGETUNE_HAVE_TRAINING

}  // namespace edgetune::cli
