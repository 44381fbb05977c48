// Structured pruning's plan: which units of which groups go for the options given (ratios, per-group
// overrides, protection, rounding), and the coverage report of what the plan acts on and why the rest stays.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "core/passes/prune_channels_internal.h"
#include "core/util/error.h"
#include "core/util/name_pattern.h"

namespace edgetune::prune_detail {

PlanDecision decidePlan(const std::vector<PruneGroup>& groups, const PruneChannelsOptions& o,
                        const Scorer& score) {
  auto checkRatio = [](double r, const std::string& what) {
    if (!(r >= 0.0 && r < 1.0))
      throw Error("pass 'prune_channels': " + what + " must be in [0, 1) (got " + std::to_string(r) + ")");
  };
  checkRatio(o.ratio, "option 'ratio'");
  for (const auto& [k, r] : o.per_group) checkRatio(r, "per_group '" + k + "'");
  if (o.round_to < 1) throw Error("pass 'prune_channels': option 'round_to' must be >= 1");
  const std::vector<NamePattern> protect =
      compileNamePatterns(o.protect, "pass 'prune_channels': option 'protect'");
  std::set<std::string> matched;
  PlanDecision d;
  std::map<std::string, std::vector<double>> scores;
  bool scored = false;
  for (const auto& g : groups) {
    double ratio = o.ratio;
    for (const auto& [key, r] : o.per_group) {
      if (key == g.id || std::find(g.nodes.begin(), g.nodes.end(), key) != g.nodes.end()) {
        ratio = r;
        matched.insert(key);
      }
    }
    if (!g.prunable) {
      d.left_alone[g.id] = g.reason;
      continue;
    }
    if (ratio <= 0.0) {
      d.left_alone[g.id] = "ratio 0";
      continue;
    }
    if (g.kind == "heads" && !o.prune_heads) {
      d.left_alone[g.id] = "head pruning is off";
      continue;
    }
    if (g.kind == "neurons" && !o.prune_neurons) {
      d.left_alone[g.id] = "neuron pruning is off";
      continue;
    }
    const bool is_protected = std::any_of(g.nodes.begin(), g.nodes.end(), [&](const std::string& n) {
      return anyNamePatternMatches(protect, n);
    });
    if (is_protected) {
      d.left_alone[g.id] = "protected by user";
      continue;
    }
    const int64_t keep = keptUnits(g.units, ratio, o.round_to, g.unit_size);
    if (keep >= g.units) {
      d.left_alone[g.id] = "too few units for this ratio (rounded up to a multiple of " +
                           std::to_string(g.unit_size == 1 ? o.round_to : 1) + ")";
      continue;
    }
    if (!scored) {
      scores = score();
      scored = true;
    }
    const auto& s = scores.at(g.id);
    std::vector<int64_t> order(static_cast<size_t>(g.units));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] < s[b]; });
    std::vector<int64_t> removed(order.begin(), order.begin() + (g.units - keep));
    std::sort(removed.begin(), removed.end());
    d.plan[g.id] = removed;
  }
  for (const auto& [key, _] : o.per_group)
    if (!matched.count(key))
      throw Error("pass 'prune_channels': per_group names '" + key +
                  "', which is no group id or member node");
  return d;
}

std::string statsName(const onnx::NodeProto& node) {
  return node.name().empty() && node.output_size() > 0 ? node.output(0) : node.name();
}

// The coverage groups layers by the kind of reason ("flows into Concat"), not by the node that stopped each
// group (one line per Concat of a ShuffleNet says nothing more); --list-groups and the result's "left_alone"
// keep the full reason with names. Graph outputs stay named: there are few and they matter.
std::string reasonCategory(const std::string& reason) {
  if (reason.rfind("reaches graph output", 0) == 0) return reason;
  // Drops every " 'name'" and " ('name')" (by hand: a fixed rewrite needs no regular expression).
  std::string out;
  for (size_t i = 0; i < reason.size();) {
    size_t j = i;
    while (j < reason.size() && reason[j] == ' ') ++j;
    const bool paren =
        j < reason.size() && reason[j] == '(' && j + 1 < reason.size() && reason[j + 1] == '\'';
    const size_t quote = paren ? j + 1 : j;
    if (quote < reason.size() && reason[quote] == '\'') {
      const size_t close = reason.find('\'', quote + 1);
      if (close != std::string::npos) {
        i = close + 1 + (paren && close + 1 < reason.size() && reason[close + 1] == ')');
        continue;
      }
    }
    out += reason[i++];
  }
  return out;
}

// Which layers the plan acts on, measured on the model before any edit. A layer counts as covered when the
// group of channels it produces lost units (a consumer whose input columns shrink but whose own outputs stay,
// like the classifier, is listed under its own group's reason: that is what the user can change). Members of
// a group that produce nothing (BatchNorm, bias Add, depthwise Conv) and the attention MatMuls of pruned
// heads go with that group. Layers in no group are listed with the analysis' note on why.
Coverage planCoverage(const Model& model, const Analysis& a, const ChannelPlan& plan,
                      const std::map<std::string, std::string>& left_alone, const InputShapes* shapes,
                      const ModelStats& stats) {
  CoverageCounter counter(model, shapes);
  const auto& g = model.graph();
  std::unordered_map<std::string, const NodeStats*> cost;
  for (const auto& n : stats.nodes) cost[n.name] = &n;
  std::unordered_map<std::string, int> index_of;
  for (int i = 0; i < g.node_size(); ++i) index_of[g.node(i).name()] = i;
  const size_t count = static_cast<size_t>(g.node_size());
  std::vector<char> produces(count, 0), produced_pruned(count, 0), member_pruned(count, 0);
  std::vector<std::string> produced_reason(count), member_reason(count);
  for (const auto& group : a.groups) {
    auto p = plan.find(group.info.id);
    const bool pruned = p != plan.end() && !p->second.empty();
    auto why = left_alone.find(group.info.id);
    const std::string reason = why != left_alone.end() ? why->second : "not in the plan";
    const std::set<std::string> producers(group.info.producers.begin(), group.info.producers.end());
    for (const auto& name : group.info.nodes) {
      auto it = index_of.find(name);
      if (it == index_of.end()) continue;
      const auto i = static_cast<size_t>(it->second);
      if (producers.count(name)) {
        produces[i] = 1;
        if (pruned)
          produced_pruned[i] = 1;
        else if (produced_reason[i].empty())
          produced_reason[i] = reason;
      } else {
        if (pruned)
          member_pruned[i] = 1;
        else if (member_reason[i].empty())
          member_reason[i] = reason;
      }
    }
    if (pruned)
      for (int n : group.also_shrinks) member_pruned[static_cast<size_t>(n)] = 1;
  }
  for (size_t i = 0; i < count; ++i) {
    const auto& node = g.node(static_cast<int>(i));
    const std::string name = statsName(node);
    if (produces[i] ? produced_pruned[i] : member_pruned[i]) {
      counter.covered(name);
      continue;
    }
    auto c = cost.find(name);
    if (c == cost.end() || (c->second->macs == 0 && c->second->weight_bytes == 0)) continue;
    std::string reason = reasonCategory(produces[i] ? produced_reason[i] : member_reason[i]);
    if (reason.empty()) {
      // Nodes in no group: list the layers (they have MACs); an Add or Clip reading a scalar is no news.
      if (auto note = a.layer_notes.find(static_cast<int>(i)); note != a.layer_notes.end())
        reason = note->second;
      else if (c->second->macs > 0)
        reason = "its output channels are not tracked by the analysis";
      else
        continue;
    }
    counter.skipped(name, reason);
  }
  return counter.result();
}

}  // namespace edgetune::prune_detail
