// Recovery after pruning: the trainer with keep-masks, one call for plain fine-tuning / distillation, or one
// call per epoch for gradual pruning (the masks grow between epochs, which the trainer's fixed masks cannot
// express).
#include "core/train/recovery.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>
#include <set>

#include "core/passes/prune_magnitude.h"
#include "core/util/error.h"

namespace edgetune {

std::map<std::string, std::vector<uint8_t>> masksFromZeros(const Model& model,
                                                           const std::vector<std::string>& op_types) {
  const std::set<std::string> ops(op_types.begin(), op_types.end());
  std::map<std::string, std::vector<uint8_t>> masks;
  for (const auto& node : model.graph().node()) {
    if (!ops.count(node.op_type()) || node.input_size() < 2) continue;
    const onnx::TensorProto* init = model.initializer(node.input(1));
    if (!init || init->data_type() != onnx::TensorProto::FLOAT || masks.count(init->name())) continue;
    const Tensor w = tensorFromProto(*init);
    std::vector<uint8_t> keep(static_cast<size_t>(w.numel()));
    bool any_zero = false;
    const auto v = w.values<float>();
    for (size_t k = 0; k < keep.size(); ++k) {
      keep[k] = v[k] != 0.0f;
      any_zero = any_zero || !keep[k];
    }
    if (any_zero) masks[init->name()] = std::move(keep);
  }
  return masks;
}

namespace {
int64_t countMasked(const std::map<std::string, std::vector<uint8_t>>& masks) {
  int64_t n = 0;
  for (const auto& [name, keep] : masks) n += std::count(keep.begin(), keep.end(), uint8_t{0});
  return n;
}
}  // namespace

RecoveryResult recoverPruned(const Model& pruned, const Dataset& train, const Dataset* validation,
                             const RecoveryOptions& options, JobContext* job,
                             const std::function<void(const EpochStats&)>& on_epoch) {
  const auto started = std::chrono::steady_clock::now();
  if (options.train.epochs < 1)
    throw Error("recovery: epochs must be at least 1 (got " + std::to_string(options.train.epochs) + ")");
  if (options.gradual_sparsity < 0 || options.gradual_sparsity >= 1)
    throw Error("recovery: gradual_sparsity must be in [0, 1) (got " +
                std::to_string(options.gradual_sparsity) + ")");
  if (options.gradual_epochs < 0 || options.gradual_epochs > options.train.epochs)
    throw Error("recovery: gradual_epochs must be in [0, epochs] (got " +
                std::to_string(options.gradual_epochs) + ")");

  RecoveryResult result;
  if (validation)
    result.accuracy_before =
        interpreterAccuracy(pruned, *validation, options.train.eval_batch_size, options.train.output, job);

  std::map<std::string, std::vector<uint8_t>> masks = options.masks;
  if (masks.empty() && options.masks_from_zeros) masks = masksFromZeros(pruned);

  if (options.gradual_sparsity <= 0) {
    TrainOptions o = options.train;
    o.masks = masks;
    if (o.accuracy_before < 0) o.accuracy_before = result.accuracy_before;
    TrainResult r = trainModel(pruned, train, validation, o, job, on_epoch);
    result.model = std::move(r.model);
    result.history = std::move(r.history);
    result.final_validation_accuracy = r.final_validation_accuracy;
    result.masked_weights = countMasked(masks);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  }

  // Gradual: prune a little more before each epoch, then train that epoch with the current masks. The rate
  // follows one cosine over all epochs (each call is a constant-rate epoch); optimizer momentum restarts
  // every epoch.
  const int epochs = options.train.epochs;
  const int prune_epochs = options.gradual_epochs > 0 ? options.gradual_epochs : std::max(1, epochs - 1);
  if (!options.train.checkpoint_dir.empty())
    throw Error("recovery: checkpoints are not supported with gradual pruning (leave checkpoint_dir empty)");
  Model model = pruned;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    if (epoch <= prune_epochs) {
      PruneMagnitudeOptions p;
      p.sparsity = cubicSparsity(options.gradual_sparsity, epoch, prune_epochs);
      p.exclude_regex = options.gradual_exclude_regex;
      MagnitudePruneResult pr = pruneMagnitude(model, p);
      // Fixed masks given by the caller stay in force too.
      for (auto& [name, keep] : pr.masks) {
        auto it = masks.find(name);
        if (it != masks.end() && it->second.size() == keep.size())
          for (size_t k = 0; k < keep.size(); ++k) keep[k] = keep[k] && it->second[k];
      }
      for (auto& [name, keep] : pr.masks) masks[name] = std::move(keep);
      applyMasks(model, masks);
    }
    TrainOptions o = options.train;
    o.epochs = 1;
    o.schedule = ScheduleKind::Constant;
    o.warmup_epochs = 0;
    const double progress = static_cast<double>(epoch - 1) / epochs;
    o.learning_rate =
        options.train.min_learning_rate + (options.train.learning_rate - options.train.min_learning_rate) *
                                              0.5 * (1 + std::cos(std::numbers::pi * progress));
    o.seed = options.train.seed + static_cast<uint64_t>(epoch);
    o.masks = masks;
    if (o.accuracy_before < 0) o.accuracy_before = result.accuracy_before;
    TrainResult r = trainModel(model, train, validation, o, job);
    model = std::move(r.model);
    for (auto s : r.history) {
      s.epoch = epoch;
      result.history.push_back(s);
      if (on_epoch) on_epoch(s);
    }
    result.final_validation_accuracy = r.final_validation_accuracy;
  }
  result.model = std::move(model);
  result.masked_weights = countMasked(masks);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace edgetune
