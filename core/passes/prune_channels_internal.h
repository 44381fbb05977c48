#pragma once
// Internal to core/passes/prune_channels*.cpp: the steps pruneChannels chains (criteria, plan, surgery) on
// one channel-dependency analysis of the model, so a prune analyses the graph once for grouping, scoring and
// editing. Not a public API: include only from those files.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/analysis/channel_dependencies.h"
#include "core/ir/stats.h"
#include "core/passes/prune_channels.h"

namespace edgetune::prune_detail {

using namespace channel_deps;
using Analysis = ChannelDependencies;

// --- criteria (prune_channels_criteria.cpp) ---
void checkCriterion(PruneCriterion criterion, const GradientFunction& gradients);
// Scores on an analysis already made (pruneChannels analyses the graph once for grouping, scoring and
// editing).
std::map<std::string, std::vector<double>> scoreWith(const Model& model, Analysis& a,
                                                     PruneCriterion criterion,
                                                     const GradientFunction& gradients);

// --- plan (prune_channels_plan.cpp) ---
// A plan plus, for every group it leaves whole, the reason (for the coverage report).
struct PlanDecision {
  ChannelPlan plan;
  std::map<std::string, std::string> left_alone;  // group id -> why it keeps every unit
};

using Scorer = std::function<std::map<std::string, std::vector<double>>()>;
PlanDecision decidePlan(const std::vector<PruneGroup>& groups, const PruneChannelsOptions& o,
                        const Scorer& score);
// Which layers the plan acts on, measured on the model before any edit. A layer counts as covered when the
// group of channels it produces lost units (a consumer whose input columns shrink but whose own outputs stay,
// like the classifier, is listed under its own group's reason: that is what the user can change). Members of
// a group that produce nothing (BatchNorm, bias Add, depthwise Conv) and the attention MatMuls of pruned
// heads go with that group. Layers in no group are listed with the analysis' note on why.
Coverage planCoverage(const Model& model, const Analysis& a, const ChannelPlan& plan,
                      const std::map<std::string, std::string>& left_alone, const InputShapes* shapes,
                      const ModelStats& stats);

// --- surgery (prune_channels_surgery.cpp) ---
// The track of a tensor some edit site names; every site is recorded together with its track, so a miss is a
// bug in the analysis, reported as such rather than as std::out_of_range.
const Track& trackOf(const Analysis& a, const std::string& tensor);
std::vector<int64_t> keptPositions(Analysis& a, const Track& t, const std::set<int>& removed);
// Turns a plan (group id -> unit indices) into the set of roots to remove; validates it.
std::set<int> removedRoots(Analysis& a, const ChannelPlan& plan);
// `a` is the analysis of `model` as it is now; every edit is computed from it before the first write.
ChannelPruneResult applyPlan(Model& model, Analysis& a, const ChannelPlan& plan,
                             const std::map<std::string, std::string>& left_alone, const InputShapes* shapes);

// Writes new values of node inputs: in place when that node is the initializer's only reader, else as a new
// initializer under a fresh name. Names, subgraph captures and graph outputs are indexed once (uniqueName and
// isCapturedBySubgraph scan the whole graph per call, which made edits of every layer of a large graph
// quadratic).
class InputWriter {
 public:
  explicit InputWriter(Model& model);
  void write(int n, int slot, const Tensor& value);
  // Drops what the edits left unread: replaced initializers and Constant nodes.
  void finish();

 private:
  std::string freshName(const std::string& base);  // uniqueName's rule: base, then base_1, base_2, ...

  Model& model_;
  std::unordered_set<std::string> taken_, runtime_inputs_, outputs_, captured_, written_;
  std::set<std::string> maybe_unused_;
};

}  // namespace edgetune::prune_detail
