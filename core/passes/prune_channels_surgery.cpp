// Structured pruning's surgery: removes the planned units physically (weights sliced, shape constants and
// group attributes rewritten, what became unread dropped), every edit computed from the analysis first.
#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/passes/graph_edit.h"
#include "core/passes/prune_channels_internal.h"
#include "core/util/error.h"

namespace edgetune::prune_detail {

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

InputWriter::InputWriter(Model& model) : model_(model) {
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

void InputWriter::write(int n, int slot, const Tensor& value) {
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

void InputWriter::finish() {
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

std::string InputWriter::freshName(const std::string& base) {
  std::string name = base;
  for (int i = 1; taken_.count(name); ++i) name = base + "_" + std::to_string(i);
  taken_.insert(name);
  return name;
}

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

}  // namespace edgetune::prune_detail
