#pragma once
// What the training step kinds (steps_training.cpp) share: the trainer's fields as a recipe writes them, the
// datasets a step reads, its checkpoint folder keyed by its inputs, and the epoch log and history. Built only
// with libtorch, as the steps are.
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "core/pipeline/step_kinds.h"
#include "core/train/trainer.h"

namespace edgetune::pipeline::training_steps {

/// The trainer's options as a recipe writes them (TrainOptions' defaults, the CLI flags' names where
/// sensible).
struct TrainFields {
  TrainFields() {
    const TrainOptions d;
    epochs = d.epochs;
    batch_size = d.batch_size;
    lr = d.learning_rate;
    momentum = d.momentum;
    nesterov = d.nesterov;
    weight_decay = d.weight_decay;
    warmup = d.warmup_epochs;
    step_epochs = d.step_epochs;
    step_gamma = d.step_gamma;
    label_smoothing = d.label_smoothing;
    augment = d.augment.enabled;
    crop_padding = d.augment.crop_padding;
    flip = d.augment.horizontal_flip;
    seed = d.seed;
    threads = d.threads;
    max_steps_per_epoch = d.max_steps_per_epoch;
    optimizer = d.optimizer;
    schedule = d.schedule;
  }
  int epochs;
  int batch_size;
  OptimizerKind optimizer;
  double lr;
  double momentum;
  bool nesterov;
  double weight_decay;
  ScheduleKind schedule;
  double warmup;
  int step_epochs;
  double step_gamma;
  double label_smoothing;
  bool augment;
  int crop_padding;
  bool flip;
  uint64_t seed;
  int threads;
  size_t max_steps_per_epoch;
  std::string output;  // logits output (empty: the first)
  std::string data = "train";
  std::string validation = "validation";  // used when the recipe names it; "" = none
  // "" = workDir/checkpoint, keyed by the step's inputs (a checkpoint of other inputs is dropped); a folder
  // = that folder as `--checkpoint` takes it (the trainer refuses a checkpoint made with other options).
  std::string checkpoint_dir;
  bool resume = true;  // continue from the checkpoint there is one (false: start over, as without --resume)
};

void writeTrain(nlohmann::json& j, const TrainFields& t);
/// Reads the fields of step kind `kind`, checking the dataset roles.
void readTrain(OptionsReader& r, TrainFields& t, const std::string& kind);

/// The datasets a training step reads: the training role, and the validation role when the recipe has it.
struct TrainData {
  const Dataset* train = nullptr;
  const Dataset* validation = nullptr;
};
TrainData trainData(const TrainFields& t, StepContext& context);

/// The checkpoint folder: the one the options name, else workDir/checkpoint for a run whose inputs hash to
/// `key` (a checkpoint left there by other inputs is removed).
std::string checkpointFor(const TrainFields& t, StepContext& context, const std::string& key);
/// What identifies a training run: the kind, its options, the input model and the datasets it reads.
std::string runKey(const Step& step, StepContext& context, const TrainData& data,
                   const std::string& extra = {});
TrainOptions trainOptions(const TrainFields& t, const std::string& checkpoint_dir);

nlohmann::json epochJson(const EpochStats& s);
nlohmann::json historyJson(const std::vector<EpochStats>& history);
/// One log line per epoch, shown as it happens (the CLI commands print it on stderr).
std::function<void(const EpochStats&)> epochLines(StepOutput& out, StepContext& context, int epochs);
/// Saves the teacher (`id`: "base" or an earlier step) as workDir/teacher.onnx, the file DistillOptions
/// reads.
std::string saveTeacher(StepContext& context, const std::string& id);

}  // namespace edgetune::pipeline::training_steps
