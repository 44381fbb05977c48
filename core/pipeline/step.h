#pragma once
// Step: one stage of a pipeline recipe (clean, prune, sensitivity, fine-tune, distill, recover, QAT,
// quantize, export, evaluate, benchmark, deploy). A step takes a model (and, through its context, the base
// model, earlier steps' models and results, the recipe's datasets) and gives a new model or passes its input
// through with a result. Steps never read files the recipe did not name; everything they write goes to their
// work folder.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/passes/pass.h"

namespace edgetune::deploy {
struct LoginPrompts;
}

namespace edgetune::pipeline {

/// What a running step may use. Built by the runner; everything it hands out outlives the step.
class StepContext {
 public:
  virtual ~StepContext() = default;
  /// The model this step starts from (the previous step's output, or the one its `input` names).
  virtual const Model& input() const = 0;
  /// The recipe's base model, as loaded (cleaned, BatchNorm kept).
  virtual const Model& base() const = 0;
  /// An earlier step's output model: `id` is a step id or "base". Throws Error naming it when there is none
  /// (a later step, a step that gave no model, a typo).
  virtual const Model& modelOf(const std::string& id) const = 0;
  /// An earlier step's result (what its StepOutput::result held). Throws Error like modelOf().
  virtual const nlohmann::json& resultOf(const std::string& id) const = 0;
  /// The recipe's dataset for `role` (opened once per run). Throws Error naming the role when the recipe
  /// names none.
  virtual const Dataset& dataset(const std::string& role) const = 0;
  virtual bool hasDataset(const std::string& role) const = 0;
  /// This step's slice of the run's progress and its cancellation.
  virtual JobContext* job() const = 0;
  /// A folder of this step's own (exported files, checkpoints); it exists.
  virtual std::filesystem::path workDir() const = 0;
  /// The step's id in the recipe (for messages).
  virtual const std::string& stepId() const = 0;
  /// A line of the step's log as it happens (a training epoch), for a caller that shows it live (a CLI
  /// command); the step returns it in StepOutput::lines too. Default: dropped.
  virtual void logLine(const std::string& line) { (void)line; }
  /// How a person answers a device login (host key, password, passphrase) when one is at hand (an
  /// interactive CLI command); null, the default, when the step runs unattended (a recipe).
  virtual const deploy::LoginPrompts* loginPrompts() const { return nullptr; }
};

/// What a step gives back.
struct StepOutput {
  std::optional<Model> model;  // the new model; empty = the input passes through (evaluate, benchmark, ...)
  nlohmann::json result =
      nlohmann::json::object();                  // what it measured or did; saved, and read by later steps
  std::vector<std::string> lines;                // a few sentences for the run's log and report
  std::vector<std::filesystem::path> artifacts;  // files it wrote into workDir() (an exported model)
};

/// One step kind with its options. Options round-trip exactly through optionsJson()/setOptionsJson().
class Step {
 public:
  virtual ~Step() = default;
  /// The kind as written in recipes ("prune").
  virtual std::string kind() const = 0;
  /// Every option, defaults included.
  virtual nlohmann::json optionsJson() const = 0;
  /// Replaces the options; throws OptionError (pass.h) naming the option for an unknown key or a wrong type
  /// or value, Error for anything else.
  virtual void setOptionsJson(const nlohmann::json& options) = 0;
  /// Dataset roles this step reads (part of its cache key; the runner checks the recipe names them).
  virtual std::vector<std::string> datasetRoles() const { return {}; }
  /// Earlier steps (ids, or "base") whose models or results it reads besides its input: a teacher, a
  /// sensitivity sweep. Part of its cache key; the runner checks they come earlier.
  virtual std::vector<std::string> references() const { return {}; }
  /// Files outside the run that it reads (a deploy step's companion files): their contents are part of its
  /// cache key, so an edited file makes the step run again.
  virtual std::vector<std::filesystem::path> filesRead() const { return {}; }
  /// Bumped when the kind gives another model for the same options and input (a fix, an improvement, a
  /// changed default: the cache key holds only options away from their defaults): part of the cache key from
  /// version 2 on, so results an older build cached are made again, not reused. A new option needs no bump
  /// when its default keeps the old behaviour.
  virtual int behaviourVersion() const { return 1; }
  /// Does the work. Throws Error (shown to the user as is) or CancelledError.
  virtual StepOutput run(StepContext& context) = 0;
};

/// Base for steps whose options are a struct `Options` with to_json and readOptions(OptionsReader&, Options&)
/// found next to it (the passes' convention, options_json.h).
template <class Options>
class StepWithOptions : public Step {
 public:
  explicit StepWithOptions(Options options = {}) : options_(std::move(options)) {}
  const Options& options() const { return options_; }
  nlohmann::json optionsJson() const override { return options_; }
  void setOptionsJson(const nlohmann::json& options) override {
    Options parsed;
    if (!options.is_null()) {
      OptionsReader reader(options, kind(), "step");
      readOptions(reader, parsed);
      reader.finish();
    }
    options_ = parsed;
  }

 protected:
  Options options_;
};

/// Creates steps by kind.
class StepRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Step>()>;

  /// Every step kind this build has (the training steps only when it was built with libtorch).
  static StepRegistry withBuiltins();

  /// Registers a kind with a one-line summary; throws Error if the kind is taken.
  void add(const std::string& kind, std::string summary, Factory factory);
  bool contains(const std::string& kind) const { return kinds_.count(kind) > 0; }
  std::vector<std::string> kinds() const;
  std::string summary(const std::string& kind) const;
  /// A new step with `options` applied (null = defaults); throws Error for an unknown kind (listing the known
  /// ones) and OptionError for bad options.
  std::unique_ptr<Step> create(const std::string& kind, const nlohmann::json& options = nullptr) const;
  /// The kind's options as a fresh step has them, unchecked (a kind may have required options, e.g. deploy's
  /// device, so its defaults alone need not be valid). Throws Error for an unknown kind.
  nlohmann::json defaultOptions(const std::string& kind) const;

 private:
  struct Entry {
    std::string summary;
    Factory factory;
  };
  /// A step of `kind` as its factory makes it (no options applied); throws Error for an unknown kind.
  std::unique_ptr<Step> fresh(const std::string& kind) const;
  std::map<std::string, Entry> kinds_;
};

/// Registers clean, prune, sensitivity, quantize, export, evaluate, benchmark and deploy (steps_core.cpp).
void registerCoreSteps(StepRegistry& registry);
/// Registers finetune, distill, recover and qat (steps_training.cpp; only in builds with libtorch).
void registerTrainingSteps(StepRegistry& registry);

}  // namespace edgetune::pipeline
