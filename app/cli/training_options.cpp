// The trainer's flags of the training commands, and the training steps' options they stand for.
#ifdef EDGETUNE_HAVE_TRAINING

#include "app/cli/training_options.h"

#include "app/cli/shared_options.h"

namespace edgetune::cli {

void addTrainingOptions(CLI::App* cmd, TrainArgs& a) {
  addDataOption(cmd, a.data, "Training dataset")->required();
  cmd->add_option("--val", a.val, "Validation dataset spec (accuracy after every epoch)");
  cmd->add_option("--test", a.test, "Test dataset spec: accuracy of the result in ONNX Runtime at the end");
  cmd->add_option("-o,--output", a.output, "Output ONNX file with the trained weights")->required();
  auto& o = a.options;
  cmd->add_option("--epochs", o.epochs, "Epochs")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxEpochs));
  addBatchOption(cmd, o.batch_size);
  cmd->add_option("--lr", o.learning_rate, "Peak learning rate")
      ->capture_default_str()
      ->check(realRange(0, 10, Interval::OpenLow));
  cmd->add_option("--optimizer", a.optimizer, "sgd or adamw")
      ->capture_default_str()
      ->check(CLI::IsMember({"sgd", "adamw"}));
  cmd->add_option("--momentum", o.momentum, "SGD momentum")
      ->capture_default_str()
      ->check(realRange(0, 1, Interval::OpenHigh));
  cmd->add_flag("--no-nesterov", a.no_nesterov, "Plain momentum instead of Nesterov (SGD)");
  cmd->add_option("--schedule", a.schedule, "cosine, step or constant")
      ->capture_default_str()
      ->check(CLI::IsMember({"cosine", "step", "constant"}));
  cmd->add_option("--step-epochs", o.step_epochs, "Step schedule: epochs between rate drops")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxEpochs));
  cmd->add_option("--step-gamma", o.step_gamma, "Step schedule: factor per drop")
      ->capture_default_str()
      ->check(realRange(0, 1, Interval::OpenLow));
  cmd->add_option("--warmup", o.warmup_epochs, "Linear warm-up epochs (fractions allowed; at most --epochs)")
      ->capture_default_str()
      ->check(realRange(0, static_cast<double>(kMaxEpochs)));
  cmd->add_option("--wd", o.weight_decay, "Weight decay (not on biases and norm parameters)")
      ->capture_default_str()
      ->check(realRange(0, 1));
  cmd->add_option("--label-smoothing", o.label_smoothing, "Label smoothing")
      ->capture_default_str()
      ->check(realRange(0, 1, Interval::OpenHigh));
  cmd->add_flag("--augment", a.augment, "Random crop with padding and horizontal flip (image features)");
  cmd->add_option("--crop-padding", o.augment.crop_padding, "Padding of the random crop (pixels)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  cmd->add_flag("--no-flip", a.no_flip, "No horizontal flips when augmenting");
  addSeedOption(cmd, o.seed, "the data order, augmentation and dropout");
  addThreadsOption(cmd, o.threads, "libtorch", "the library default");
  cmd->add_option("--checkpoint", a.checkpoint, "Checkpoint folder (written after every epoch)");
  cmd->add_flag("--resume", a.resume, "Continue from the checkpoint in --checkpoint if there is one");
  cmd->add_option("--steps-per-epoch", o.max_steps_per_epoch, "Limit the steps per epoch (0 = whole dataset)")
      ->check(CLI::Range(int64_t{0}, kMaxExamples));
  cmd->add_option(
         "--build-vocab", a.build_vocab,
         "Text data: first build a WordPiece vocabulary of N tokens from the --data texts and write it to "
         "the file its vocab= key names")
      ->check(CLI::Range(0, 1'000'000));
  cmd->add_option("--output-name", o.output, "Model output holding the logits (default: the first)");
  cmd->add_flag("--no-clean", a.input.no_clean,
                "Train the model exactly as given (no Identity/Dropout removal or constant folding first)");
}

nlohmann::json trainerOptions(const TrainArgs& a, bool has_validation) {
  const TrainOptions& o = a.options;
  return {{"epochs", o.epochs},
          {"batch_size", o.batch_size},
          {"optimizer", a.optimizer},
          {"lr", o.learning_rate},
          {"momentum", o.momentum},
          {"nesterov", !a.no_nesterov},
          {"weight_decay", o.weight_decay},
          {"schedule", a.schedule},
          {"warmup", o.warmup_epochs},
          {"step_epochs", o.step_epochs},
          {"step_gamma", o.step_gamma},
          {"label_smoothing", o.label_smoothing},
          {"augment", a.augment},
          {"crop_padding", o.augment.crop_padding},
          {"flip", !a.no_flip},
          {"seed", o.seed},
          {"threads", o.threads},
          {"max_steps_per_epoch", o.max_steps_per_epoch},
          {"output", o.output},
          {"data", "train"},
          {"validation", has_validation ? "validation" : ""},
          // --checkpoint DIR is the checkpoint folder itself; without it the step keeps one in its
          // temporary folder, which goes when the command ends (as no checkpoint did before).
          {"checkpoint_dir", a.checkpoint},
          {"resume", a.resume}};
}

}  // namespace edgetune::cli

#endif  // EDGETUNE_HAVE_TRAINING
