#pragma once
// The flags train / finetune / distill / recover / qat share (the trainer's), and how they become the options
// of the pipeline's training steps (steps_training.cpp's names). Built only with the training engine.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "app/cli/cli_common.h"
#include "core/train/trainer.h"

namespace edgetune::cli {

/// What the training commands read from the command line; each command adds its own flags beside these.
struct TrainArgs {
  std::string model, data, val, test, output;
  std::string optimizer = "sgd", schedule = "cosine";
  bool augment = false, no_flip = false, no_nesterov = false, resume = false;
  std::string checkpoint;
  TrainOptions options;
  // finetune
  int64_t classes = 0;
  bool freeze = false;
  // distill
  std::vector<std::string> hints;
  size_t build_vocab = 0;
  ModelInputArgs input;  // --no-clean
};

/// Adds the trainer's flags (--data, --epochs, --lr, ... --no-clean) to `cmd`, read into `args`.
void addTrainingOptions(CLI::App* cmd, TrainArgs& args);

/// The trainer's flags as a training step's options; `has_validation`: a "validation" dataset is given.
nlohmann::json trainerOptions(const TrainArgs& args, bool has_validation);

}  // namespace edgetune::cli
