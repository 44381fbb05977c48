#include "core/passes/graph_edit.h"

#include <unordered_set>

#include "core/util/error.h"

namespace edgetune {

bool isDefaultDomain(const onnx::NodeProto& node) {
  return node.domain().empty() || node.domain() == "ai.onnx";
}

onnx::NodeProto makeNode(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                         std::vector<std::string> outputs) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (auto& i : inputs) n.add_input(std::move(i));
  for (auto& o : outputs) n.add_output(std::move(o));
  return n;
}
namespace {

bool hasSubgraphs(const onnx::NodeProto& node) {
  for (const auto& a : node.attribute())
    if (a.has_g() || a.graphs_size() > 0) return true;
  return false;
}

int renameInGraph(onnx::GraphProto& graph, const std::string& from, const std::string& to) {
  int changed = 0;
  for (auto& node : *graph.mutable_node()) {
    for (auto& in : *node.mutable_input())
      if (in == from) {
        in = to;
        ++changed;
      }
    for (auto& a : *node.mutable_attribute()) {
      if (a.has_g()) changed += renameInGraph(*a.mutable_g(), from, to);
      for (auto& g : *a.mutable_graphs()) changed += renameInGraph(g, from, to);
    }
  }
  return changed;
}

void collectCaptures(const onnx::GraphProto& graph, std::set<std::string>& captures) {
  std::unordered_set<std::string> local;
  for (const auto& in : graph.input()) local.insert(in.name());
  for (const auto& init : graph.initializer()) local.insert(init.name());
  for (const auto& node : graph.node())
    for (const auto& out : node.output()) local.insert(out);
  for (const auto& node : graph.node()) {
    for (const auto& in : node.input())
      if (!in.empty() && !local.count(in)) captures.insert(in);
    std::set<std::string> inner;
    for (const auto& a : node.attribute()) {
      if (a.has_g()) collectCaptures(a.g(), inner);
      for (const auto& g : a.graphs()) collectCaptures(g, inner);
    }
    for (const auto& name : inner)
      if (!local.count(name)) captures.insert(name);
  }
  for (const auto& out : graph.output())
    if (!local.count(out.name())) captures.insert(out.name());
}

}  // namespace

int replaceAllUses(Model& model, const std::string& from, const std::string& to) {
  int changed = renameInGraph(model.graph(), from, to);
  model.reindex();
  return changed;
}

std::set<std::string> subgraphCaptures(const onnx::NodeProto& node) {
  std::set<std::string> captures;
  if (!hasSubgraphs(node)) return captures;
  for (const auto& a : node.attribute()) {
    if (a.has_g()) collectCaptures(a.g(), captures);
    for (const auto& g : a.graphs()) collectCaptures(g, captures);
  }
  return captures;
}

bool isCapturedBySubgraph(const Model& model, const std::string& tensor) {
  for (const auto& node : model.graph().node())
    if (hasSubgraphs(node) && subgraphCaptures(node).count(tensor)) return true;
  return false;
}

std::set<std::string> usedTensorNames(const Model& model) {
  std::set<std::string> used;
  for (const auto& node : model.graph().node()) {
    for (const auto& in : node.input())
      if (!in.empty()) used.insert(in);
    for (const auto& name : subgraphCaptures(node)) used.insert(name);
  }
  return used;
}

int removeNodes(Model& model, const std::vector<bool>& remove) {
  auto* nodes = model.graph().mutable_node();
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  int removed = 0;
  for (int i = 0; i < nodes->size(); ++i) {
    if (i < static_cast<int>(remove.size()) && remove[i]) {
      ++removed;
      continue;
    }
    kept.Add()->Swap(nodes->Mutable(i));
  }
  nodes->Swap(&kept);
  model.reindex();
  return removed;
}

int removeInitializers(Model& model, const std::set<std::string>& names) {
  if (names.empty()) return 0;
  auto& g = model.graph();
  int removed = 0;
  google::protobuf::RepeatedPtrField<onnx::TensorProto> kept;
  for (auto& init : *g.mutable_initializer()) {
    if (names.count(init.name())) {
      ++removed;
      continue;
    }
    kept.Add()->Swap(&init);
  }
  g.mutable_initializer()->Swap(&kept);
  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> inputs;
  for (auto& in : *g.mutable_input())
    if (!names.count(in.name())) inputs.Add()->Swap(&in);
  g.mutable_input()->Swap(&inputs);
  model.reindex();
  return removed;
}

std::string uniqueName(const Model& model, const std::string& base) {
  std::unordered_set<std::string> taken;
  const auto& g = model.graph();
  for (const auto& in : g.input()) taken.insert(in.name());
  for (const auto& out : g.output()) taken.insert(out.name());
  for (const auto& init : g.initializer()) taken.insert(init.name());
  for (const auto& node : g.node()) {
    taken.insert(node.name());
    for (const auto& o : node.output()) taken.insert(o);
    for (const auto& i : node.input()) taken.insert(i);
  }
  if (!taken.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string candidate = base + "_" + std::to_string(i);
    if (!taken.count(candidate)) return candidate;
  }
}

bool isRuntimeInput(const Model& model, const std::string& name) {
  for (const auto& in : model.graph().input())
    if (in.name() == name) return true;
  return false;
}

bool isConstantInitializer(const Model& model, const std::string& name) {
  return model.isInitializer(name) && !isRuntimeInput(model, name);
}

std::optional<float> floatScalarConstant(const Model& model, const std::string& name) {
  if (name.empty() || !isConstantInitializer(model, name)) return std::nullopt;
  const Tensor t = tensorFromProto(*model.initializer(name));
  if (t.type() != DataType::Float32 || t.numel() != 1) return std::nullopt;
  return t.values<float>()[0];
}

void finishGraphEdit(Model& model, const std::string& pass) {
  model.reindex();
  try {
    model.check();
    model.inferShapes();
  } catch (const Error& e) {
    throw Error("pass '" + pass + "' produced an invalid model: " + e.what());
  }
}

}  // namespace edgetune
