#pragma once
// Trainer: trains an ONNX model's float initializers on a labelled dataset with the libtorch interpreter,
// with optional knowledge distillation from a teacher run in ONNX Runtime. Torch-free header (Qt code may
// include it).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/util/enum_names.h"
#include "core/util/error.h"

namespace edgetune {

enum class OptimizerKind { Sgd = 1, AdamW };
constexpr auto enumNames(OptimizerKind) {
  using N = EnumName<OptimizerKind>;
  return std::array{N{OptimizerKind::Sgd, "sgd"}, N{OptimizerKind::AdamW, "adamw"}};
}

/// The learning-rate schedule over the epochs.
enum class ScheduleKind { Cosine = 1, Step, Constant };
constexpr auto enumNames(ScheduleKind) {
  using N = EnumName<ScheduleKind>;
  return std::array{N{ScheduleKind::Cosine, "cosine"}, N{ScheduleKind::Step, "step"},
                    N{ScheduleKind::Constant, "constant"}};
}

/// Image augmentation applied to float image features of shape [C, H, W] (other features pass unchanged).
struct AugmentOptions {
  bool enabled = false;
  int crop_padding = 4;         // random crop of the original size from the image padded by this many pixels
  bool horizontal_flip = true;  // flip left-right with probability 1/2
};

/// Knowledge distillation: loss = alpha * T^2 * KL(teacher/T || student/T) + (1 - alpha) * cross-entropy,
/// plus hint_weight * MSE between pairs of intermediate tensors of matching shape.
struct DistillOptions {
  std::string teacher_path;  // ONNX teacher (run without gradients in ONNX Runtime); empty = no distillation
  double temperature = 4.0;
  double alpha = 0.9;
  std::string teacher_output;  // teacher logits output; empty = its first output
  /// (student tensor, teacher tensor) pairs for hint losses; names of intermediate tensors in each graph.
  std::vector<std::pair<std::string, std::string>> hints;
  double hint_weight = 1.0;
};

/// What one optimizer step did (for live curves); reported from the training thread.
struct StepStats {
  int epoch = 0;    // 1-based
  size_t step = 0;  // 1-based within the epoch
  size_t steps_per_epoch = 0;
  double loss = 0;           // this batch's training loss
  double accuracy = 0;       // this batch's training accuracy (0..1)
  double learning_rate = 0;  // used for this step
};

struct TrainOptions {
  int epochs = 10;
  int batch_size = 128;
  OptimizerKind optimizer = OptimizerKind::Sgd;
  double learning_rate = 0.1;
  double momentum = 0.9;                                   // SGD
  bool nesterov = true;                                    // SGD
  double beta1 = 0.9, beta2 = 0.999, adam_epsilon = 1e-8;  // AdamW
  /// Decoupled for AdamW, L2 for SGD; never applied to parameters of rank < 2 (biases, norm scales and
  /// shifts).
  double weight_decay = 5e-4;
  ScheduleKind schedule = ScheduleKind::Cosine;
  double warmup_epochs = 0;  // linear warm-up from lr/100 over this many epochs (fractions allowed)
  int step_epochs = 30;      // step schedule: multiply the rate by step_gamma every step_epochs epochs
  double step_gamma = 0.1;
  double min_learning_rate = 0;  // cosine schedule floor
  double label_smoothing = 0;
  AugmentOptions augment;
  uint64_t seed = 0;
  int threads = 0;     // > 0: libtorch intra-op threads (process-wide); 0 leaves the current setting
  std::string output;  // logits output of the model; empty = its first output
  /// Parameters (initializer names) that are not trained; their BatchNormalization statistics stay fixed too.
  std::vector<std::string> frozen;
  /// Checkpoint folder (written after every epoch, atomically); empty = none.
  std::string checkpoint_dir;
  bool resume = false;  // continue from the checkpoint in checkpoint_dir if there is one
  int eval_batch_size = 256;
  size_t max_steps_per_epoch = 0;  // > 0: shorter epochs (quick runs and tests)
  DistillOptions distill;
  /// Keep-masks by parameter name (1 = trained, 0 = held at exactly zero; same layout as WeightMasks): masked
  /// weights are zeroed before training and after every optimizer step, so a magnitude-pruned model stays
  /// sparse.
  std::map<std::string, std::vector<uint8_t>> masks;
  /// Called after every optimizer step on the training thread (keep it cheap; it must not throw).
  std::function<void(const StepStats&)> on_step;
  /// The validation accuracy the model had before this run (< 0: unknown, e.g. a model trained from
  /// scratch). When it was well above chance, an epoch whose validation accuracy falls to chance stops the
  /// run with an Error (trainingCollapsed): the rate destroyed what the model knew, and such a model must not
  /// be kept as a result.
  double accuracy_before = -1;
};

/// A NaN or infinite training loss stopped the run (the message names the step, the rate and the fix).
class TrainingDivergedError : public Error {
 public:
  using Error::Error;
};

/// A learning rate as messages write it ("0.001", "1e-05").
std::string formatLearningRate(double rate);

/// True when a model that knew something (accuracy before >= 3x chance) is at chance after an epoch
/// (<= 1.5x chance; chance = 1 / classes). Accuracies in [0, 1].
bool trainingCollapsed(double accuracy_before, double accuracy_after, size_t classes);

/// What one epoch did.
struct EpochStats {
  int epoch = 0;  // 1-based
  double train_loss = 0;
  double train_accuracy = 0;        // on the (augmented) training batches, in training mode
  double validation_accuracy = -1;  // < 0 without a validation set
  double learning_rate = 0;         // at the end of the epoch
  double seconds = 0;
  double examples_per_second = 0;
};

struct TrainResult {
  Model model;  // the input model with the trained weights written back
  std::vector<EpochStats> history;
  int resumed_from_epoch = 0;  // epochs loaded from a checkpoint (0 = started fresh)
  double final_validation_accuracy = -1;
  double seconds = 0;
};

/// Trains a copy of `model` on `train` and returns it with the trained weights written back. Validation
/// accuracy (interpreter, eval mode) is measured after each epoch if `validation` is given. Reports progress
/// through `job` and stops with CancelledError at the next step when it is cancelled (nothing is written
/// then, apart from checkpoints of completed epochs). Throws Error if the dataset does not fit the model's
/// inputs, the class counts differ, the model cannot be trained, or an option is out of range.
TrainResult trainModel(const Model& model, const Dataset& train, const Dataset* validation,
                       const TrainOptions& options, JobContext* job = nullptr,
                       const std::function<void(const EpochStats&)>& on_epoch = {});

/// Accuracy (top-1, in [0, 1]) of `model` on `dataset` with the libtorch interpreter in eval mode.
double interpreterAccuracy(const Model& model, const Dataset& dataset, int batch_size = 256,
                           const std::string& output = {}, JobContext* job = nullptr);

/// The logits output a model's classes are read from ("" = first output) and its class count (-1 if dynamic).
int64_t modelClassCount(const Model& model, const std::string& output = {});

}  // namespace edgetune
