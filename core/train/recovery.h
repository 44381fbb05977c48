#pragma once
// Recovery after pruning: fine-tunes (or distills from the unpruned model) a pruned model with the trainer,
// holding magnitude-pruning masks fixed, optionally pruning gradually on the cubic schedule while training.
// Torch-free header.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/train/trainer.h"

namespace edgetune {

/// Keep-masks (1 = kept, 0 = pruned) of the weight initializers of `op_types` nodes in `model` that contain
/// exact zeros; layers without zeros get no mask. Use on a magnitude-pruned model (a trained dense model has
/// no exact zeros, so it yields none).
std::map<std::string, std::vector<uint8_t>> masksFromZeros(const Model& model,
                                                           const std::vector<std::string>& op_types = {
                                                               "Conv", "Gemm", "MatMul"});

struct RecoveryOptions {
  /// Training settings; set train.distill.teacher_path to the unpruned model to distill from it. train.masks
  /// is ignored: the masks below are used.
  TrainOptions train;
  /// Held at zero during training. Empty with masks_from_zeros = true: masksFromZeros(pruned model).
  std::map<std::string, std::vector<uint8_t>> masks;
  bool masks_from_zeros = true;
  /// Gradual magnitude pruning (> 0): before each of the first `gradual_epochs` epochs (0 = all but the last)
  /// the model is pruned (layer scope, Conv/Gemm/MatMul) to cubicSparsity(gradual_sparsity, epoch,
  /// gradual_epochs) and then trained one epoch with the masks held; the learning rate follows a cosine over
  /// all epochs.
  double gradual_sparsity = 0;
  int gradual_epochs = 0;
  std::string gradual_exclude_regex;  // node names never pruned gradually (e.g. the classifier)
};

struct RecoveryResult {
  Model model;
  std::vector<EpochStats> history;
  double accuracy_before =
      -1;  // interpreter validation accuracy of the pruned model before training (-1: none)
  double final_validation_accuracy = -1;
  int64_t masked_weights = 0;  // weights held at zero at the end
  double seconds = 0;
};

/// Fine-tunes `pruned` on `train` (validation accuracy per epoch if `validation` is given). Throws Error for
/// invalid options (naming the field), a mask that does not fit the model, or anything trainModel refuses.
RecoveryResult recoverPruned(const Model& pruned, const Dataset& train, const Dataset* validation,
                             const RecoveryOptions& options, JobContext* job = nullptr,
                             const std::function<void(const EpochStats&)>& on_epoch = {});

}  // namespace edgetune
