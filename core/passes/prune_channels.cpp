// prune_channels: dependency analysis on the ONNX graph and physical removal of channels, heads and neurons.
//
// How the analysis works: every layer that creates channels (Conv, Gemm, MatMul with a weight initializer)
// gives each output channel a fresh element id. Ids flow through the graph with the tensors (a tensor's
// channel axis carries one id per position): element-wise ops and residual Adds unite the ids of their inputs
// position by position, Concat concatenates them, depthwise Conv and BatchNormalization pass them on, Flatten
// repeats each id for the spatial positions that became Gemm columns, and the attention pattern unites Q/K/V
// columns head by head. Union-find over the ids yields the units that must go together; units made by the
// same producers form a group. Anything the analysis does not understand (a Reshape that mixes channels, a
// LayerNormalization over them, a graph output) poisons the ids that reach it, and their groups are reported
// as unprunable rather than pruned unsafely.
#include "core/passes/prune_channels.h"
#include "core/passes/prune_channels_analysis.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <regex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/ir/stats.h"
#include "core/passes/graph_edit.h"
#include "core/passes/prune_magnitude.h"
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

nlohmann::json PruneGroup::toJson() const {
  return {{"index", index},         {"id", id},       {"kind", kind},           {"nodes", nodes},
          {"producers", producers}, {"units", units}, {"unit_size", unit_size}, {"prunable", prunable},
          {"reason", reason}};
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

// The track of a tensor some edit site names; every site is recorded together with its track, so a miss is a
// bug in the analysis, reported as such rather than as std::out_of_range.
const Track& trackOf(const Analysis& a, const std::string& tensor) {
  auto it = a.tracks.find(tensor);
  if (it == a.tracks.end())
    throw Error("prune_channels: internal error: tensor '" + tensor + "' has an edit but no channel track");
  return it->second;
}

// The position indices (into a track) kept when the roots in `removed` go.
std::vector<int64_t> keptPositions(Analysis& a, const Track& t, const std::set<int>& removed) {
  std::vector<int64_t> kept;
  for (size_t p = 0; p < t.ids.size(); ++p)
    if (!removed.count(a.uf.find(t.ids[p]))) kept.push_back(static_cast<int64_t>(p));
  return kept;
}

Tensor sliceAxis(const Tensor& t, int axis, const std::vector<int64_t>& keep) {
  const auto& shape = t.shape();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = static_cast<size_t>(axis) + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t dim = shape[static_cast<size_t>(axis)];
  auto new_shape = shape;
  new_shape[static_cast<size_t>(axis)] = static_cast<int64_t>(keep.size());
  Tensor out(t.type(), new_shape);
  const size_t es = elementSize(t.type());
  const auto* src = static_cast<const std::byte*>(t.raw());
  auto* dst = static_cast<std::byte*>(out.raw());
  for (int64_t o = 0; o < outer; ++o)
    for (size_t k = 0; k < keep.size(); ++k)
      std::memcpy(dst + ((o * static_cast<int64_t>(keep.size()) + static_cast<int64_t>(k)) * inner) * es,
                  src + ((o * dim + keep[k]) * inner) * es, static_cast<size_t>(inner) * es);
  return out;
}

void setIntAttr(onnx::NodeProto& node, const std::string& name, int64_t value) {
  for (auto& a : *node.mutable_attribute())
    if (a.name() == name) {
      a.set_i(value);
      return;
    }
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

// Turns a plan (group id -> unit indices) into the set of roots to remove; validates it.
std::set<int> removedRoots(Analysis& a, const ChannelPlan& plan) {
  std::set<int> removed;
  for (const auto& [id, units] : plan) {
    auto it = a.group_by_id.find(id);
    if (it == a.group_by_id.end()) throw Error("prune_channels: model has no prune group '" + id + "'");
    const auto& g = a.groups[it->second];
    if (units.empty()) continue;
    if (!g.info.prunable)
      throw Error("prune_channels: group '" + id + "' cannot be pruned (" + g.info.reason + ")");
    std::set<int64_t> unique(units.begin(), units.end());
    for (auto u : unique) {
      if (u < 0 || u >= g.info.units)
        throw Error("prune_channels: group '" + id + "' has no unit " + std::to_string(u));
      removed.insert(g.roots[static_cast<size_t>(u)]);
    }
    if (static_cast<int64_t>(unique.size()) >= g.info.units)
      throw Error("prune_channels: the plan removes every unit of group '" + id + "'");
  }
  return removed;
}

// Writes new values of node inputs: in place when that node is the initializer's only reader, else as a new
// initializer under a fresh name. Names, subgraph captures and graph outputs are indexed once (uniqueName and
// isCapturedBySubgraph scan the whole graph per call, which made edits of every layer of a large graph
// quadratic).
class InputWriter {
 public:
  explicit InputWriter(Model& model) : model_(model) {
    const auto& g = model.graph();
    for (const auto& in : g.input()) {
      taken_.insert(in.name());
      runtime_inputs_.insert(in.name());
    }
    for (const auto& out : g.output()) {
      taken_.insert(out.name());
      outputs_.insert(out.name());
    }
    for (const auto& init : g.initializer()) taken_.insert(init.name());
    for (const auto& node : g.node()) {
      taken_.insert(node.name());
      for (const auto& o : node.output()) taken_.insert(o);
      for (const auto& i : node.input()) taken_.insert(i);
      for (const auto& c : subgraphCaptures(node)) captured_.insert(c);
    }
  }

  void write(int n, int slot, const Tensor& value) {
    auto* node = model_.graph().mutable_node(n);
    const std::string current = node->input(slot);
    // Readers are those of the original graph (the index is not rebuilt between writes): an initializer read
    // by two slots gets a fresh copy for each, which is correct, just not minimal.
    if (model_.isInitializer(current) && !runtime_inputs_.count(current) &&
        model_.consumers(current).size() == 1 && !outputs_.count(current) && !captured_.count(current) &&
        !written_.count(current)) {
      int reads = 0;
      for (const auto& in : node->input()) reads += in == current;
      if (reads == 1) {
        *model_.mutableInitializer(current) = tensorToProto(current, value);
        written_.insert(current);
        return;
      }
    }
    const std::string fresh = freshName(current + "_pruned");
    *model_.graph().add_initializer() = tensorToProto(fresh, value);
    node->set_input(slot, fresh);
    maybe_unused_.insert(current);
  }

  // Drops what the edits left unread: replaced initializers and Constant nodes.
  void finish() {
    model_.reindex();
    const auto used = usedTensorNames(model_);
    std::set<std::string> dead_inits;
    std::vector<bool> dead_nodes(static_cast<size_t>(model_.graph().node_size()), false);
    for (const auto& name : maybe_unused_) {
      if (used.count(name) || outputs_.count(name)) continue;
      if (model_.isInitializer(name) && !runtime_inputs_.count(name)) dead_inits.insert(name);
      const int p = model_.producer(name);
      if (p >= 0 && model_.graph().node(p).op_type() == "Constant") dead_nodes[static_cast<size_t>(p)] = true;
    }
    removeNodes(model_, dead_nodes);
    removeInitializers(model_, dead_inits);
  }

 private:
  std::string freshName(const std::string& base) {  // uniqueName's rule: base, then base_1, base_2, ...
    std::string name = base;
    for (int i = 1; taken_.count(name); ++i) name = base + "_" + std::to_string(i);
    taken_.insert(name);
    return name;
  }

  Model& model_;
  std::unordered_set<std::string> taken_, runtime_inputs_, outputs_, captured_, written_;
  std::set<std::string> maybe_unused_;
};

double sliceScore(const Tensor& w, const Tensor* grad, int axis, int64_t position, bool l2) {
  const auto& shape = w.shape();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = static_cast<size_t>(axis) + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t dim = shape[static_cast<size_t>(axis)];
  auto v = w.values<float>();
  std::span<const float> gv;
  if (grad) gv = grad->values<float>();
  double s = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const size_t idx = static_cast<size_t>((o * dim + position) * inner + i);
      const double x = grad ? static_cast<double>(v[idx]) * gv[idx] : v[idx];
      s += l2 ? x * x : std::fabs(x);
    }
  return s;
}

void checkCriterion(PruneCriterion criterion, const GradientFunction& gradients) {
  if (criterion == PruneCriterion::Taylor && !gradients)
    throw Error("prune_channels: the taylor criterion needs gradients from the training engine");
}

// Scores on an analysis already made (pruneChannels analyses the graph once for grouping, scoring and
// editing).
std::map<std::string, std::vector<double>> scoreWith(const Model& model, Analysis& a,
                                                     PruneCriterion criterion,
                                                     const GradientFunction& gradients) {
  std::map<int, double> by_root, bn_by_root;
  std::set<int> has_bn;
  for (const auto& s : a.slices) {
    if (s.role != Role::ProducerWeight && s.role != Role::BnGamma) continue;
    const auto& node = model.graph().node(s.node);
    auto w = a.constant(node.input(s.slot));
    if (!w || w->type() != DataType::Float32) continue;
    std::optional<Tensor> grad;
    if (criterion == PruneCriterion::Taylor && s.role == Role::ProducerWeight) {
      grad = gradients(node.input(s.slot));
      if (!grad || grad->shape() != w->shape() || grad->type() != DataType::Float32)
        throw Error("prune_channels: no gradient of the right shape for initializer '" + node.input(s.slot) +
                    "'");
    }
    const auto& t = trackOf(a, s.tensor);
    for (size_t p = 0; p < t.ids.size(); ++p) {
      const int r = a.uf.find(t.ids[p]);
      if (s.role == Role::BnGamma) {
        bn_by_root[r] += std::fabs(w->values<float>()[p]);
        has_bn.insert(r);
      } else {
        by_root[r] += sliceScore(*w, grad ? &*grad : nullptr, s.axis, static_cast<int64_t>(p),
                                 criterion == PruneCriterion::L2);
      }
    }
  }
  std::map<std::string, std::vector<double>> scores;
  for (const auto& g : a.groups) {
    auto& v = scores[g.info.id];
    bool use_bn = criterion == PruneCriterion::BatchNorm;
    for (int r : g.roots) use_bn = use_bn && has_bn.count(r);  // groups without BatchNorm fall back to L1
    for (int r : g.roots) v.push_back(use_bn ? bn_by_root[r] : by_root[r]);
  }
  return scores;
}

}  // namespace

// ------------------------------------------------------------------------------------------------------
// Public API

std::vector<PruneGroup> findPruneGroups(const Model& model) {
  Analysis a(model);
  std::vector<PruneGroup> out;
  out.reserve(a.groups.size());
  for (const auto& g : a.groups) out.push_back(g.info);
  return out;
}

std::map<std::string, std::vector<double>> scoreUnits(const Model& model, PruneCriterion criterion,
                                                      const GradientFunction& gradients) {
  checkCriterion(criterion, gradients);
  Analysis a(model);
  return scoreWith(model, a, criterion, gradients);
}

namespace {

// A plan plus, for every group it leaves whole, the reason (for the coverage report).
struct PlanDecision {
  ChannelPlan plan;
  std::map<std::string, std::string> left_alone;  // group id -> why it keeps every unit
};

using Scorer = std::function<std::map<std::string, std::vector<double>>()>;

PlanDecision decidePlan(const std::vector<PruneGroup>& groups, const PruneChannelsOptions& o,
                        const Scorer& score) {
  auto checkRatio = [](double r, const std::string& what) {
    if (!(r >= 0.0 && r < 1.0))
      throw Error("pass 'prune_channels': " + what + " must be in [0, 1) (got " + std::to_string(r) + ")");
  };
  checkRatio(o.ratio, "option 'ratio'");
  for (const auto& [k, r] : o.per_group) checkRatio(r, "per_group '" + k + "'");
  if (o.round_to < 1) throw Error("pass 'prune_channels': option 'round_to' must be >= 1");
  std::vector<std::regex> protect;
  for (const auto& p : o.protect) {
    try {
      protect.emplace_back(p);
    } catch (const std::regex_error&) {
      throw Error("pass 'prune_channels': option 'protect': '" + p + "' is not a valid regular expression");
    }
  }
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
    bool is_protected = false;
    for (const auto& re : protect)
      for (const auto& n : g.nodes) is_protected = is_protected || std::regex_search(n, re);
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
  // Drops every " 'name'" and " ('name')" (by hand: std::regex recurses per character and overflows the stack
  // on the very long node names hostile models carry).
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

ChannelPruneResult applyPlan(Model& model, Analysis& a, const ChannelPlan& plan,
                             const std::map<std::string, std::string>& left_alone, const InputShapes* shapes);

std::vector<PruneGroup> groupsOf(const Analysis& a) {
  std::vector<PruneGroup> out;
  out.reserve(a.groups.size());
  for (const auto& g : a.groups) out.push_back(g.info);
  return out;
}

Scorer scorerFor(const Model& model, Analysis& a, const PruneChannelsOptions& o,
                 const GradientFunction& gradients) {
  checkCriterion(o.criterion, gradients);
  return [&model, &a, &o, &gradients] { return scoreWith(model, a, o.criterion, gradients); };
}

}  // namespace

ChannelPlan planChannelPruning(const Model& model, const PruneChannelsOptions& o,
                               const GradientFunction& gradients) {
  Analysis a(model);
  return decidePlan(groupsOf(a), o, scorerFor(model, a, o, gradients)).plan;
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

namespace {

// `a` is the analysis of `model` as it is now; every edit is computed from it before the first write.
ChannelPruneResult applyPlan(Model& model, Analysis& a, const ChannelPlan& plan,
                             const std::map<std::string, std::string>& left_alone,
                             const InputShapes* shapes) {
  ChannelPruneResult result;
  const ModelStats before = computeStats(model, shapes);
  result.params_before = before.params;
  result.macs_before = before.macs;
  result.onnx_bytes_before = before.serialized_bytes;
  const std::set<int> removed = removedRoots(a, plan);
  for (const auto& g : a.groups) {
    if (!g.info.prunable) continue;
    GroupPruneResult r{g.info.id, g.info.units, g.info.units, {}};
    if (auto it = plan.find(g.info.id); it != plan.end()) {
      std::set<int64_t> u(it->second.begin(), it->second.end());
      r.removed.assign(u.begin(), u.end());
      r.units_after -= static_cast<int64_t>(u.size());
    }
    result.groups.push_back(r);
  }
  result.plan = plan;
  result.left_alone = left_alone;
  result.coverage = planCoverage(model, a, plan, left_alone, shapes, before);
  if (removed.empty()) {
    result.params_after = result.params_before;
    result.macs_after = result.macs_before;
    result.onnx_bytes_after = result.onnx_bytes_before;
    return result;
  }

  // Every edit is computed from the original graph before anything is written.
  std::map<std::pair<int, int>, std::vector<const SliceSite*>> by_input;
  for (const auto& s : a.slices) by_input[{s.node, s.slot}].push_back(&s);
  std::map<std::pair<int, int>, Tensor> new_inputs;
  for (const auto& [key, sites] : by_input) {
    auto value = a.constant(model.graph().node(key.first).input(key.second));
    if (!value)
      throw Error("prune_channels: input '" + model.graph().node(key.first).input(key.second) + "' of " +
                  describeNode(model.graph().node(key.first)) + " is not constant");
    bool changed = false;
    for (const SliceSite* s : sites) {
      const Track& t = trackOf(a, s->tensor);
      const auto kept = keptPositions(a, t, removed);
      if (kept.size() == t.ids.size()) continue;
      *value = sliceAxis(*value, s->axis, kept);
      changed = true;
    }
    if (changed) new_inputs[key] = std::move(*value);
  }
  std::map<std::pair<int, int>, Tensor> new_shapes;
  for (const auto& s : a.shapes) {
    const auto& t = trackOf(a, s.tensor);
    const auto kept = keptPositions(a, t, removed);
    if (kept.size() == t.ids.size()) continue;
    auto key = std::make_pair(s.node, s.slot);
    if (!new_shapes.count(key)) {
      auto c = a.constant(model.graph().node(s.node).input(s.slot));
      if (!c || c->type() != DataType::Int64)
        throw Error("prune_channels: shape input of " + describeNode(model.graph().node(s.node)) +
                    " is not a constant int64 tensor");
      new_shapes[key] = *c;
    }
    new_shapes[key].values<int64_t>()[static_cast<size_t>(s.element)] =
        static_cast<int64_t>(kept.size()) / s.divisor;
  }
  std::map<int, int64_t> new_groups;
  for (const auto& s : a.group_attrs) {
    const auto& t = trackOf(a, s.tensor);
    new_groups[s.node] = static_cast<int64_t>(keptPositions(a, t, removed).size());
  }

  InputWriter writer(model);
  for (auto* edits : {&new_inputs, &new_shapes})
    for (const auto& [key, value] : *edits) writer.write(key.first, key.second, value);
  for (const auto& [n, groups] : new_groups) setIntAttr(*model.graph().mutable_node(n), "group", groups);

  // Drop what the edits left unread: replaced initializers and Constant nodes.
  writer.finish();
  model.graph().clear_value_info();  // stale shapes; re-inferred below
  finishGraphEdit(model, "prune_channels");

  const ModelStats after = computeStats(model, shapes);
  result.params_after = after.params;
  result.macs_after = after.macs;
  result.onnx_bytes_after = after.serialized_bytes;
  return result;
}

}  // namespace

ChannelPruneResult pruneChannels(Model& model, const PruneChannelsOptions& options,
                                 const GradientFunction& gradients, const InputShapes* shapes) {
  Analysis a(model);  // one analysis for grouping, scoring and editing
  const PlanDecision d = decidePlan(groupsOf(a), options, scorerFor(model, a, options, gradients));
  return applyPlan(model, a, d.plan, d.left_alone, shapes);
}

void zeroChannelPlan(Model& model, const ChannelPlan& plan) {
  Analysis a(model);
  const std::set<int> removed = removedRoots(a, plan);
  std::map<std::pair<int, int>, Tensor> edits;
  for (const auto& s : a.slices) {
    if (s.role != Role::ConsumerWeight) continue;
    const auto key = std::make_pair(s.node, s.slot);
    if (!edits.count(key)) edits[key] = *a.constant(model.graph().node(s.node).input(s.slot));
    Tensor& w = edits[key];
    const auto& t = trackOf(a, s.tensor);
    const auto& shape = w.shape();
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < s.axis; ++i) outer *= shape[i];
    for (size_t i = static_cast<size_t>(s.axis) + 1; i < shape.size(); ++i) inner *= shape[i];
    const int64_t dim = shape[static_cast<size_t>(s.axis)];
    auto v = w.values<float>();
    for (size_t p = 0; p < t.ids.size(); ++p) {
      if (!removed.count(a.uf.find(t.ids[p]))) continue;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i)
          v[static_cast<size_t>((o * dim + static_cast<int64_t>(p)) * inner + i)] = 0;
    }
  }
  InputWriter writer(model);
  for (const auto& [key, value] : edits) writer.write(key.first, key.second, value);
  writer.finish();
  finishGraphEdit(model, "zeroChannelPlan");
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

void registerPrunePasses(PassRegistry& registry) {
  registry.add("prune_magnitude", [] { return std::make_unique<PruneMagnitudePass>(); });
  registry.add("prune_channels", [] { return std::make_unique<PruneChannelsPass>(); });
}

}  // namespace edgetune
