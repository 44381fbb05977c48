// Allocation by marginal cost: accuracy lost per unit of metric saved, from the sensitivity curves.
#include "core/tuning/allocation.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/ir/stats.h"
#include "core/passes/prune_channels.h"
#include "core/runtime/benchmark.h"
#include "core/util/error.h"

namespace edgetune {

nlohmann::json Allocation::toJson() const {
  return {{"ratios", ratios},
          {"metric_before", metric_before},
          {"metric_after", metric_after},
          {"predicted_accuracy_drop", predicted_accuracy_drop},
          {"reached", reached}};
}

double measureMetric(const Model& model, const AllocationOptions& o) {
  switch (o.metric) {
    case AllocationMetric::Params:
      return static_cast<double>(computeStats(model).params);
    case AllocationMetric::Macs:
      return static_cast<double>(computeStats(model, &o.input_shapes).macs);
    case AllocationMetric::Latency:
      break;
  }
  if (o.measure_latency_ms) return o.measure_latency_ms(model);
  BenchmarkOptions b;
  b.input_shapes = o.input_shapes;
  b.runs = 20;
  b.warmup_runs = 5;
  return benchmarkModel(model, OrtOptions{}, b).median_ms;
}

Model applyAllocation(const Model& model, const Allocation& allocation, const AllocationOptions& o) {
  PruneChannelsOptions p;
  p.ratio = 0.0;
  p.round_to = o.round_to;
  p.criterion = o.criterion;
  for (const auto& [id, r] : allocation.ratios)
    if (r > 0) p.per_group[id] = r;
  Model pruned = model;
  applyChannelPlan(pruned, planChannelPruning(model, p));
  return pruned;
}

namespace {

void checkOptions(const AllocationOptions& o) {
  if (!(o.keep_fraction > 0.0 && o.keep_fraction < 1.0))
    throw Error("allocation: the target keep fraction must be in (0, 1) (got " +
                std::to_string(o.keep_fraction) + ")");
}

double dropAt(const SensitivityResult& s, const SensitivityCurve& c, size_t step) {
  return step == 0 ? 0.0 : std::max(0.0, s.baseline_accuracy - c.accuracy[step - 1]);
}

// Saving of each curve step (params/MACs from the curve; latency approximated by MACs for ranking).
double metricAt(const SensitivityResult& s, const SensitivityCurve& c, size_t step, AllocationMetric metric) {
  const bool params = metric == AllocationMetric::Params;
  if (step == 0) return static_cast<double>(params ? s.params : s.macs);
  const auto& v = params ? c.params_after : c.macs_after;
  return static_cast<double>(v[step - 1]);
}

// Default latency: the original is timed beside each candidate (measurePair), not once up front.
bool pairedLatency(const AllocationOptions& o) {
  return o.metric == AllocationMetric::Latency && !o.measure_latency_ms;
}

// The original's metric where it is measured once (params, MACs, a custom latency hook); 0 for paired
// latency.
double metricBeforeOnce(const Model& model, const AllocationOptions& o) {
  return pairedLatency(o) ? 0.0 : measureMetric(model, o);
}

// The metric of `model` and of `candidate`. Default latency: both timed in the same interleaved rounds (1
// thread, median of 30), so their ratio holds even when the machine's speed drifts; the original is re-timed
// each time.
std::pair<double, double> measurePair(const Model& model, const Model& candidate, const AllocationOptions& o,
                                      double cached_before) {
  if (pairedLatency(o)) {
    BenchmarkOptions b;
    b.input_shapes = o.input_shapes;
    b.runs = 30;
    b.warmup_runs = 5;
    const auto ms = interleavedMedians({&model, &candidate}, OrtOptions{}, b);
    return {ms[0], ms[1]};
  }
  return {cached_before, measureMetric(candidate, o)};
}

}  // namespace

Allocation allocateRatios(const Model& model, const SensitivityResult& s, const AllocationOptions& o,
                          JobContext* job) {
  checkOptions(o);
  Allocation a;
  a.metric_before = metricBeforeOnce(model, o);
  const size_t n = s.curves.size();
  std::vector<size_t> step(n, 0);  // 0 = unpruned, k = curve.ratios[k - 1]
  // Estimated total under additivity of isolated savings (exact for params of independent groups).
  const double base = static_cast<double>(o.metric == AllocationMetric::Params ? s.params : s.macs);
  auto estimate = [&]() {
    double total = base;
    for (size_t g = 0; g < n; ++g) total -= base - metricAt(s, s.curves[g], step[g], o.metric);
    return total;
  };
  double estimate_target = o.keep_fraction * base;
  const int rounds = 12;
  for (int round = 0; round < rounds; ++round) {
    if (job) {
      job->throwIfCancelled();
      job->report(static_cast<double>(round) / rounds,
                  "allocation round " + std::to_string(round + 1) + ": measuring " + toString(o.metric));
    }
    while (estimate() > estimate_target) {
      // Cheapest next step: accuracy lost per unit saved (a step that saves nothing is never taken).
      size_t best = n;
      double best_cost = 0;
      for (size_t g = 0; g < n; ++g) {
        const auto& c = s.curves[g];
        if (step[g] >= c.ratios.size()) continue;
        const double saved = metricAt(s, c, step[g], o.metric) - metricAt(s, c, step[g] + 1, o.metric);
        if (saved <= 0) continue;
        const double lost = dropAt(s, c, step[g] + 1) - dropAt(s, c, step[g]);
        const double cost = std::max(lost, 0.0) / saved + 1e-12 * step[g];  // ties: spread evenly
        if (best == n || cost < best_cost) {
          best = g;
          best_cost = cost;
        }
      }
      if (best == n) break;  // every group at its largest ratio
      ++step[best];
    }
    a.ratios.clear();
    a.predicted_accuracy_drop = 0;
    for (size_t g = 0; g < n; ++g)
      if (step[g] > 0) {
        a.ratios[s.curves[g].group] = s.curves[g].ratios[step[g] - 1];
        a.predicted_accuracy_drop += dropAt(s, s.curves[g], step[g]);
      }
    std::tie(a.metric_before, a.metric_after) =
        measurePair(model, applyAllocation(model, a, o), o, a.metric_before);
    const double target = o.keep_fraction * a.metric_before;
    a.reached = a.metric_after <= target;
    if (a.reached) break;
    // Interactions (a group's consumers shrink with the next group) or latency not tracking MACs: aim lower,
    // from where the estimate stands now (it is strictly lower, so the next round takes at least one more
    // step).
    estimate_target = estimate() * std::max(0.5, target / a.metric_after);
  }
  return a;
}

Allocation uniformAllocation(const Model& model, const SensitivityResult& s, const AllocationOptions& o) {
  checkOptions(o);
  Allocation best;
  best.metric_before = metricBeforeOnce(model, o);
  auto at = [&](double r) {
    Allocation a;
    a.metric_before = best.metric_before;
    for (const auto& c : s.curves) {
      a.ratios[c.group] = r;
      // predicted drop: linear interpolation on the curve
      double drop = 0;
      for (size_t i = 0; i < c.ratios.size(); ++i) {
        const double r0 = i == 0 ? 0.0 : c.ratios[i - 1];
        const double d0 = i == 0 ? 0.0 : s.baseline_accuracy - c.accuracy[i - 1];
        if (r <= c.ratios[i]) {
          const double d1 = s.baseline_accuracy - c.accuracy[i];
          drop = d0 + (d1 - d0) * (r - r0) / (c.ratios[i] - r0);
          break;
        }
        drop = s.baseline_accuracy - c.accuracy[i];
      }
      a.predicted_accuracy_drop += std::max(0.0, drop);
    }
    std::tie(a.metric_before, a.metric_after) =
        measurePair(model, applyAllocation(model, a, o), o, a.metric_before);
    a.reached = a.metric_after <= o.keep_fraction * a.metric_before;
    return a;
  };
  double lo = 0.0, hi = 0.95;
  best = at(hi);
  if (!best.reached) return best;
  for (int i = 0; i < 12; ++i) {
    const double mid = 0.5 * (lo + hi);
    Allocation a = at(mid);
    if (a.reached) {
      best = a;
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return best;
}

}  // namespace edgetune
