// prune_channels: the structured-pruning pass. The channel-dependency analysis
// (core/analysis/channel_dependencies.h) says what must go together; this file chains criteria
// (prune_channels_criteria.cpp), plan (prune_channels_plan.cpp) and surgery (prune_channels_surgery.cpp) on
// one analysis, and holds the options, the results and the Pass.
#include "core/passes/prune_channels.h"

#include <algorithm>
#include <cmath>

#include "core/passes/prune_channels_internal.h"
#include "core/util/error.h"

namespace edgetune {

void to_json(nlohmann::json& j, const PruneChannelsOptions& o) {
  j = {{"ratio", o.ratio},
       {"per_group", o.per_group},
       {"protect", o.protect},
       {"round_to", o.round_to},
       {"criterion", o.criterion},
       {"prune_heads", o.prune_heads},
       {"prune_neurons", o.prune_neurons}};
}
void readOptions(OptionsReader& r, PruneChannelsOptions& o) {
  r.read("ratio", o.ratio);
  r.read("per_group", o.per_group);
  r.read("protect", o.protect);
  r.read("round_to", o.round_to);
  r.read("criterion", o.criterion);
  r.read("prune_heads", o.prune_heads);
  r.read("prune_neurons", o.prune_neurons);
}

nlohmann::json ChannelPruneResult::toJson() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& g : groups)
    rows.push_back({{"id", g.id},
                    {"units_before", g.units_before},
                    {"units_after", g.units_after},
                    {"removed", g.removed}});
  return {{"groups", rows},
          {"params_before", params_before},
          {"params_after", params_after},
          {"macs_before", macs_before},
          {"macs_after", macs_after},
          {"onnx_bytes_before", onnx_bytes_before},
          {"onnx_bytes_after", onnx_bytes_after},
          {"left_alone", left_alone},
          {"coverage", coverage.toJson()}};
}

int64_t keptUnits(int64_t units, double ratio, int64_t round_to, int64_t unit_size) {
  if (units <= 0) return 0;
  int64_t keep = static_cast<int64_t>(std::llround(static_cast<double>(units) * (1.0 - ratio)));
  keep = std::clamp<int64_t>(keep, 1, units);
  if (unit_size == 1 && round_to > 1 && keep < units) {
    keep = (keep + round_to - 1) / round_to * round_to;  // up: never prune more than the ratio asks
    keep = std::min(keep, units);
  }
  return keep;
}

using namespace prune_detail;

namespace {

Scorer scorerFor(const Model& model, Analysis& a, const PruneChannelsOptions& o,
                 const GradientFunction& gradients) {
  checkCriterion(o.criterion, gradients);
  return [&model, &a, &o, &gradients] { return scoreWith(model, a, o.criterion, gradients); };
}

}  // namespace

std::map<std::string, std::vector<double>> scoreUnits(const Model& model, PruneCriterion criterion,
                                                      const GradientFunction& gradients) {
  checkCriterion(criterion, gradients);
  Analysis a(model);
  return scoreWith(model, a, criterion, gradients);
}

ChannelPlan planChannelPruning(const Model& model, const PruneChannelsOptions& o,
                               const GradientFunction& gradients) {
  Analysis a(model);
  return decidePlan(a.pruneGroups(), o, scorerFor(model, a, o, gradients)).plan;
}

bool ChannelPruneResult::prunedAnything() const {
  for (const auto& [id, units] : plan)
    if (!units.empty()) return true;
  return false;
}

ChannelPruneResult applyChannelPlan(Model& model, const ChannelPlan& plan, const InputShapes* shapes) {
  Analysis a(model);
  return applyPlan(model, a, plan, {}, shapes);
}

ChannelPruneResult pruneChannels(Model& model, const PruneChannelsOptions& options,
                                 const GradientFunction& gradients, const InputShapes* shapes) {
  Analysis a(model);  // one analysis for grouping, scoring and editing
  const PlanDecision d = decidePlan(a.pruneGroups(), options, scorerFor(model, a, options, gradients));
  return applyPlan(model, a, d.plan, d.left_alone, shapes);
}

PassReport PruneChannelsPass::apply(Model& model, PassContext& context) {
  context.throwIfCancelled();
  PassReport report;
  report.pass_name = name();
  ChannelPruneResult r = pruneChannels(model, options_, gradients_, shapes_ ? &*shapes_ : nullptr);
  // No silent partial success: a pass asked to prune that could prune nothing says so and why.
  if (!r.prunedAnything() && (options_.ratio > 0 || !options_.per_group.empty())) {
    std::string why;
    for (const auto& line : r.coverage.lines("pruned")) why += "\n  " + line;
    throw Error("pass 'prune_channels': nothing could be pruned" + why);
  }
  for (const auto& g : r.groups)
    if (g.units_after != g.units_before)
      report.lines.push_back("pruned " + g.id + ": " + std::to_string(g.units_before) + " -> " +
                             std::to_string(g.units_after) + " units");
  for (const auto& line : r.coverage.lines("pruned")) report.lines.push_back(line);
  report.coverage = r.coverage;
  report.details = r.toJson();
  return report;
}

}  // namespace edgetune
