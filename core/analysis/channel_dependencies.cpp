// The channel-dependency analysis: the facts' queries, the walk over the graph, and the grouping of element
// ids into the units pruning removes together.
#include "core/analysis/channel_dependencies.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/analysis/channel_dependency_walker.h"
#include "core/util/error.h"

namespace edgetune {
namespace channel_deps {

ChannelDependencies::ChannelDependencies(const Model& model) : model_(model) {
  indexGraph();
  ChannelDependencyWalker(*this).run();
}

void ChannelDependencies::indexGraph() {
  const auto& g = model_.graph();
  for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
    for (const auto& vi : *list) {
      if (declared_shapes_.count(vi.name())) continue;  // the first entry wins, as in Model::valueInfo
      ValueInfo info = valueInfoFromProto(vi);
      if (info.has_shape) declared_shapes_.emplace(vi.name(), std::move(info.shape));
    }
  for (const auto& in : g.input()) runtime_inputs_.insert(in.name());
  for (const auto& out : g.output()) graph_outputs_.insert(out.name());
}

bool ChannelDependencies::isConstantInit(const std::string& name) const {
  return model_.isInitializer(name) && !runtime_inputs_.count(name);
}

bool ChannelDependencies::isOutput(const std::string& name) const {
  return graph_outputs_.count(name) > 0;
}

std::optional<Tensor> ChannelDependencies::constant(const std::string& name) const {
  if (name.empty()) return std::nullopt;
  if (isConstantInit(name)) return tensorFromProto(*model_.initializer(name));
  const int p = model_.producer(name);
  if (p >= 0) {
    const auto& node = model_.graph().node(p);
    if (node.op_type() == "Constant")
      for (const auto& a : node.attribute())
        if (a.name() == "value" && a.has_t()) return tensorFromProto(a.t());
  }
  return std::nullopt;
}

bool ChannelDependencies::isConstant(const std::string& name) const {
  if (name.empty()) return false;
  if (isConstantInit(name)) return true;
  const int p = model_.producer(name);
  return p >= 0 && model_.graph().node(p).op_type() == "Constant";
}

std::optional<std::vector<int64_t>> ChannelDependencies::shapeOf(const std::string& name) const {
  if (name.empty()) return std::nullopt;
  if (const auto* init = model_.initializer(name); init && !runtime_inputs_.count(name))
    return std::vector<int64_t>(init->dims().begin(), init->dims().end());  // no need to decode the data
  if (auto it = declared_shapes_.find(name); it != declared_shapes_.end()) return it->second;
  if (auto c = constant(name)) return c->shape();
  if (const auto* init = model_.initializer(name))
    return std::vector<int64_t>(init->dims().begin(), init->dims().end());
  return std::nullopt;
}

ChannelDependencyWalker::ChannelDependencyWalker(ChannelDependencies& facts)
    : facts_(facts),
      m_(facts.model_),
      uf(facts.uf),
      element_poison(facts.element_poison),
      element_producer(facts.element_producer),
      tracks(facts.tracks),
      slices(facts.slices),
      shapes(facts.shapes),
      group_attrs(facts.group_attrs),
      head_roots(facts.head_roots),
      attention_matmuls(facts.attention_matmuls),
      layer_notes(facts.layer_notes),
      groups(facts.groups),
      group_by_id(facts.group_by_id) {}

std::vector<int> ChannelDependencyWalker::fresh(size_t n, int producer) {
  std::vector<int> ids(n);
  for (auto& id : ids) {
    id = uf.add();
    element_poison.emplace_back();
    element_producer.push_back(producer);
  }
  return ids;
}

void ChannelDependencyWalker::poison(const std::vector<int>& ids, const std::string& reason) {
  for (int id : ids)
    if (element_poison[id].empty()) element_poison[id] = reason;
}

void ChannelDependencyWalker::poisonInputs(const onnx::NodeProto& node, const std::string& why) {
  const std::string reason = why.empty() ? "flows into " + describeNode(node) : why;
  for (const auto& in : node.input())
    if (auto it = tracks.find(in); it != tracks.end()) poison(it->second.ids, reason);
}

const Track* ChannelDependencyWalker::track(const std::string& name) const {
  auto it = tracks.find(name);
  return it == tracks.end() ? nullptr : &it->second;
}

void ChannelDependencyWalker::unite(const std::vector<int>& a, const std::vector<int>& b) {
  for (size_t i = 0; i < a.size(); ++i) uf.unite(a[i], b[i]);
}

void ChannelDependencyWalker::run() {
  const auto& g = m_.graph();
  inferRanks();
  // Attention blocks first: their nodes are handled as a whole.
  std::map<int, Attention> attention_at;  // keyed by the merge Reshape
  std::set<int> claimed;
  for (int i = 0; i < g.node_size(); ++i) {
    if (g.node(i).op_type() != "MatMul") continue;
    if (auto a = matchAttention(i)) {
      for (int c : a->claimed) claimed.insert(c);
      attention_at[a->rs_out] = *a;
    }
  }
  for (int n : m_.topologicalOrder()) {
    const auto& node = g.node(n);
    const std::string& op = node.op_type();
    if (auto it = attention_at.find(n); it != attention_at.end()) {
      handleAttention(it->second);
      continue;
    }
    if (claimed.count(n)) continue;
    bool any_tracked = false;
    for (const auto& in : node.input()) any_tracked = any_tracked || track(in);
    if (!isDefaultDomain(node)) {
      poisonInputs(node);
      continue;
    }
    if (op == "Conv")
      conv(n, node);
    else if (op == "Gemm")
      gemm(n, node);
    else if (op == "MatMul")
      matmul(n, node);
    else if (!any_tracked)
      continue;
    else if (op == "BatchNormalization")
      normalization(n, node, 4);
    else if (op == "InstanceNormalization")
      normalization(n, node, 2);
    else if (kUnaryPassThrough.count(op)) {
      const Track* x = track(node.input(0));
      bool ok = x != nullptr;
      for (int i = 1; i < node.input_size() && ok; ++i) {  // Clip's min/max: scalars only
        auto s = shapeOf(node.input(i));
        ok = node.input(i).empty() || (s && s->empty());
      }
      if (!ok)
        poisonInputs(node);
      else
        tracks[node.output(0)] = *x;
    } else if (kSpatialOps.count(op)) {
      const Track* x = track(node.input(0));
      const int r = rankOf(node.input(0));
      if (r < 3 || x->axis_from_end != -(r - 1))
        poisonInputs(node);
      else
        tracks[node.output(0)] = *x;
    } else if (op == "PRelu" || kBinary.count(op))
      binary(n, node);
    else if (op == "Softmax" || op == "LogSoftmax") {
      const Track* x = track(node.input(0));
      const int r = rankOf(node.input(0));
      const int64_t axis = attrInt(node, "axis", -1);
      if (r < 0 || (axis < 0 ? axis : axis - r) == x->axis_from_end)
        poisonInputs(node);
      else
        tracks[node.output(0)] = *x;
    } else if (op == "Concat")
      concat(node);
    else if (op == "Flatten" || op == "Reshape" || op == "Squeeze")
      collapse(n, node);
    else if (kReduce.count(op))
      reduce(node);
    else if (op == "Transpose")
      transpose(node);
    else if (op == "Shape")
      shape(node);
    else if (op == "Gather")
      gather(node);
    else if (op == "Pad")
      pad(node);
    else if (op == "Slice")
      slice(node);
    else
      poisonInputs(node);
  }
  for (const auto& out : g.output())
    if (const Track* t = track(out.name())) poison(t->ids, "reaches graph output '" + out.name() + "'");
  buildGroups();
}

void ChannelDependencyWalker::buildGroups() {
  const int elements = static_cast<int>(uf.size());
  std::map<int, std::set<int>> producers_of;  // root -> producer nodes
  std::map<int, std::string> poison_of;
  for (int e = 0; e < elements; ++e) {
    const int r = uf.find(e);
    if (element_producer[e] >= 0)
      producers_of[r].insert(element_producer[e]);
    else
      producers_of[r];
    if (!element_poison[e].empty() && !poison_of.count(r)) poison_of[r] = element_poison[e];
  }
  std::map<std::set<int>, std::vector<int>> by_producers;
  for (const auto& [root, prods] : producers_of) by_producers[prods].push_back(root);
  std::set<int> head_root_set;
  for (int h : head_roots) head_root_set.insert(uf.find(h));
  // Nodes that pruning a root touches.
  std::map<int, std::set<int>> nodes_of;
  auto note = [&](const std::string& tensor, int node) {
    const Track* t = track(tensor);
    if (!t) return;
    for (int id : t->ids) nodes_of[uf.find(id)].insert(node);
  };
  for (const auto& s : slices) note(s.tensor, s.node);
  for (const auto& s : shapes) note(s.tensor, s.node);
  for (const auto& s : group_attrs) note(s.tensor, s.node);

  const auto& g = m_.graph();
  for (auto& [prods, roots] : by_producers) {
    if (prods.empty()) continue;  // only unprunable filler ids
    std::sort(roots.begin(), roots.end());
    ChannelDependencies::GroupData data;
    auto& info = data.info;
    data.roots = roots;
    const int first = *std::min_element(prods.begin(), prods.end(), [&](int a, int b) { return a < b; });
    const auto& fn = g.node(first);
    const bool heads = head_root_set.count(roots[0]) > 0;
    info.kind = heads ? "heads" : (fn.op_type() == "Conv" ? "channels" : "neurons");
    info.id = info.kind + ":" + (fn.name().empty() ? fn.output(0) : fn.name());
    for (int p : prods) info.producers.push_back(g.node(p).name());
    std::set<int> nodes(prods.begin(), prods.end());
    for (int r : roots) {
      nodes.insert(nodes_of[r].begin(), nodes_of[r].end());
      if (poison_of.count(r) && info.prunable) {
        info.prunable = false;
        info.reason = poison_of[r];
      }
    }
    for (int nd : nodes) info.nodes.push_back(g.node(nd).name());
    info.units = static_cast<int64_t>(roots.size());
    if (heads) {
      const Track* t = track(g.node(first).output(0));
      info.unit_size = t ? static_cast<int64_t>(t->ids.size()) / info.units : 1;
    }
    groups.push_back(std::move(data));
  }
  // Order groups by their first producer in graph order, so indices follow the network.
  std::sort(groups.begin(), groups.end(),
            [&](const ChannelDependencies::GroupData& a, const ChannelDependencies::GroupData& b) {
              return a.roots[0] < b.roots[0];
            });
  for (size_t i = 0; i < groups.size(); ++i) {
    groups[i].info.index = static_cast<int>(i);
    group_by_id[groups[i].info.id] = i;
  }
  std::unordered_map<int, size_t> group_of_root;
  for (size_t i = 0; i < groups.size(); ++i)
    for (int r : groups[i].roots) group_of_root[r] = i;
  for (const auto& [element, node] : attention_matmuls)
    if (auto it = group_of_root.find(uf.find(element)); it != group_of_root.end())
      groups[it->second].also_shrinks.push_back(node);
}

std::vector<PruneGroup> ChannelDependencies::pruneGroups() const {
  std::vector<PruneGroup> out;
  out.reserve(groups.size());
  for (const auto& g : groups) out.push_back(g.info);
  return out;
}

}  // namespace channel_deps

nlohmann::json PruneGroup::toJson() const {
  return {{"index", index},         {"id", id},       {"kind", kind},           {"nodes", nodes},
          {"producers", producers}, {"units", units}, {"unit_size", unit_size}, {"prunable", prunable},
          {"reason", reason}};
}

std::vector<PruneGroup> findPruneGroups(const Model& model) {
  return channel_deps::ChannelDependencies(model).pruneGroups();
}

}  // namespace edgetune
