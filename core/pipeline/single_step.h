#pragma once
// One step kind run on its own, outside a recipe: how every edgetune-cli command that changes or measures a
// model (prune, quantize, clean, train, eval, ...) does its work, as a one-step recipe under the hood. The
// step is the registered Step object `edgetune-cli run` and the studio use, with the same context
// (MappedStepContext), so a command and a recipe step with the same options give the same model.
//
// What a recipe would name as datasets, earlier steps' models (a teacher) and results (a sensitivity sweep)
// the caller hands in by role and id; the input model is also "base". No cache and no run folder: the caller
// has already loaded (and canonicalized) the model and writes the output where the user asked.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/deploy/ssh_session.h"
#include "core/pipeline/mapped_step_context.h"
#include "core/pipeline/step.h"

namespace edgetune::pipeline {

/// What to run, and everything the step may read besides its input model.
struct SingleStep {
  std::string kind;                                   // a registered kind ("prune")
  nlohmann::json options = nlohmann::json::object();  // its options; missing ones take their defaults
  std::map<std::string, std::shared_ptr<const Dataset>> datasets;  // by role ("train", "calibration")
  MappedStepContext::ModelMap models;    // models the options reference by id (a teacher)
  MappedStepContext::ResultMap results;  // results the options reference by id (a saved sensitivity sweep)
  std::filesystem::path work_dir;        // the step's folder (checkpoints); empty: a temporary one
  JobContext* job = nullptr;             // the command's progress and cancellation (may be null)
  std::function<void(const std::string&)> on_line;  // the step's log lines as they happen (epochs)
  // How a person at the caller answers a device login (deploy); empty: the step runs unattended, as in a
  // recipe.
  std::optional<deploy::LoginPrompts> login_prompts;
};

/// What the step gave, and its folder: a temporary folder lives as long as this result (so its artifacts can
/// be read), then it is removed.
class SingleStepResult {
 public:
  SingleStepResult() = default;
  SingleStepResult(SingleStepResult&&) noexcept;
  SingleStepResult& operator=(SingleStepResult&&) noexcept;
  SingleStepResult(const SingleStepResult&) = delete;
  SingleStepResult& operator=(const SingleStepResult&) = delete;
  ~SingleStepResult();

  StepOutput output;
  nlohmann::json options;  // every option of the step as it ran, defaults included (a recipe step's)
  std::filesystem::path work_dir;

 private:
  friend SingleStepResult runSingleStep(const Model&, const SingleStep&, const StepRegistry&);
  void removeTemporary();
  bool temporary_ = false;
};

/// Runs `step.kind` with `step.options` on `input`. Throws OptionError (pass.h) for bad options, Error when
/// a dataset role or a reference the step reads was not handed in, and whatever the step throws (Error,
/// CancelledError) as it is.
SingleStepResult runSingleStep(const Model& input, const SingleStep& step,
                               const StepRegistry& registry = StepRegistry::withBuiltins());

}  // namespace edgetune::pipeline
