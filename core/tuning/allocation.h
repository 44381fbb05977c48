#pragma once
// Allocation: per-group prune ratios that reach a global target (parameters, MACs or measured latency) at the
// least predicted accuracy loss, from sensitivity curves (insensitive groups are pruned more).
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/analysis/prune_criterion.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/tuning/sensitivity.h"
#include "core/util/enum_names.h"

namespace edgetune {

/// What an allocation's target counts: parameters, MACs, or measured latency.
enum class AllocationMetric { Params = 1, Macs, Latency };
constexpr auto enumNames(AllocationMetric) {
  using N = EnumName<AllocationMetric>;
  return std::array{N{AllocationMetric::Params, "params"}, N{AllocationMetric::Macs, "macs"},
                    N{AllocationMetric::Latency, "latency"}};
}

struct AllocationOptions {
  AllocationMetric metric = AllocationMetric::Macs;
  double keep_fraction = 0.5;  // target: the pruned model's metric <= keep_fraction * the original's
  int64_t round_to = 8;
  PruneCriterion criterion = PruneCriterion::L1;
  /// Latency of a model in ms (the "latency" metric). Default: the allocation times the original and each
  /// candidate in the same interleaved ONNX Runtime rounds (1 thread, median of 30), so the ratio is robust
  /// to machine drift.
  std::function<double(const Model&)> measure_latency_ms;
  InputShapes input_shapes;  // sizes MACs and latency are measured at (resolveInputShapes)
};

struct Allocation {
  std::map<std::string, double> ratios;        // group id -> ratio (groups not listed stay whole)
  double metric_before = 0, metric_after = 0;  // measured on the pruned model
  double predicted_accuracy_drop = 0;          // sum of the curves' drops at the chosen ratios
  bool reached = false;                        // metric_after <= keep_fraction * metric_before
  nlohmann::json toJson() const;
};

/// Measures `options.metric` of `model` (latency via options.measure_latency_ms).
double measureMetric(const Model& model, const AllocationOptions& options);

/// Greedy allocation: repeatedly takes the next ratio step of the group with the smallest accuracy drop per
/// unit of metric saved (curves give the drop, isolated pruning of each group gives the saving), until the
/// target is met on the really pruned model. Throws Error for a target outside (0, 1);
/// reports each measured round to `job` and throws CancelledError once it is cancelled.
Allocation allocateRatios(const Model& model, const SensitivityResult& sensitivity,
                          const AllocationOptions& options, JobContext* job = nullptr);

/// The uniform ratio (same for every prunable group) that meets the same target, by bisection; for
/// comparison.
Allocation uniformAllocation(const Model& model, const SensitivityResult& sensitivity,
                             const AllocationOptions& options);

/// Prunes `model` with the allocation's ratios (round_to and criterion from options).
Model applyAllocation(const Model& model, const Allocation& allocation, const AllocationOptions& options);

}  // namespace edgetune
