#pragma once
// Statistics recovery ("quick recovery"): after pruning, re-estimate the per-channel statistics of each
// Conv/Gemm output on a few hundred unlabeled examples, in folded-BatchNorm form (AdaBN, EagleEye's adaptive
// BN), so a pruned model gets back much of its accuracy without training.
//
// The algorithm:
//  1. Targets. Every top-level Conv or Gemm node of the pruned model with float32 weight (input 1) and bias
//     (input 2) initializers that no other node reads, whose namesake in the reference (unpruned) model has a
//     bias initializer too. Gemm only with alpha = beta = 1 and transA = 0 (then output channel c is exactly
//     W's slice c plus b[c]). Everything else is listed in `skipped` with the reason.
//  2. Channel mapping. Structured pruning keeps the surviving channels in order and leaves their bias values
//     untouched, so pruned channel j is the next reference channel whose bias is bit-identical (a monotone
//     walk over both bias vectors). The walk from the front (leftmost match) and the walk from the back
//     (rightmost match) bound every possible matching; when they differ, repeated bias values make the
//     mapping ambiguous and the node is skipped rather than guessed. Equal channel counts (unstructured
//     pruning) map by identity.
//  3. Statistics. On `samples` seeded examples (features only), per-channel mean and standard deviation of
//     each target's output, over every axis but the channel axis (1 for Conv [N,C,...], the last for Gemm),
//     streamed in double: a per-channel shifted sum and sum of squares (the shift, the first value seen,
//     keeps the subtraction in the variance from cancelling), never the activations themselves. The
//     reference's statistics never change, so they are measured once, in the first round's pass.
//  4. Correction. With a = sd_ref / sd_p (1 when sd_p is ~0 or not finite), W'[c] = a W[c] and
//     b'[c] = a (b[c] - mu_p) + mu_ref: the channel's output y becomes a (y - mu_p) + mu_ref, whose mean and
//     deviation are the reference's for the inputs it had when measured.
//  5. Rounds. Correcting one layer changes the inputs, hence the statistics, of the layers after it, so the
//     measure-then-correct-all step repeats `rounds` times (one pass over the examples per round); after
//     round r the first r layers of every path match exactly. `after_round` sees the model after each round.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"

namespace edgetune {

struct StatisticsRecoveryOptions {
  size_t samples = 256;         // examples the statistics are measured on (fewer if the dataset is smaller)
  int rounds = 3;               // measure-and-correct passes over those examples (>= 1)
  int batch_size = 32;          // examples per run when the model's batch dimension is dynamic
  bool correct_outputs = true;  // also correct nodes that produce a graph output (the logits)
  uint64_t seed = 0;            // which examples (seededSubset), so class-sorted datasets are sampled fairly
};

/// What one round found before it corrected.
struct StatisticsRecoveryRound {
  int round = 0;            // 1-based
  int corrected_nodes = 0;  // nodes with at least one channel corrected in this round
  /// Mean over corrected channels of |mu_p - mu_ref| / max(sd_ref, eps), measured before this round's
  /// correction (eps: 1e-3 of the layer's mean reference deviation, so a dead reference channel cannot
  /// dominate).
  double mean_abs_shift = 0;
};

/// The recovered model and what was done to which node.
struct StatisticsRecoveryResult {
  Model model;                                  // the pruned model with re-estimated weights and biases
  std::vector<StatisticsRecoveryRound> rounds;  // one per finished round
  std::vector<std::string> corrected;           // node names, in graph order
  std::map<std::string, std::string> skipped;   // Conv/Gemm node -> why it was left alone
};

/// Re-estimates the per-channel output statistics of `pruned`'s Conv/Gemm nodes to match `reference`'s on
/// `data` (see the header comment). Neither input model is modified. Runs ONNX Runtime on 1 thread; reports
/// progress to `job` and checks it for cancellation between batches (CancelledError). Throws Error naming the
/// problem: invalid options, dataset features that do not fit a model, no correctable node (e.g. a quantized
/// model).
StatisticsRecoveryResult recoverChannelStatistics(
    const Model& reference, const Model& pruned, const Dataset& data,
    const StatisticsRecoveryOptions& options, JobContext* job = nullptr,
    const std::function<void(const StatisticsRecoveryResult& so_far)>& after_round = {});

}  // namespace edgetune
