// The down-converter's walk: every graph (main, If/Loop/Scan bodies, model functions), each changed node
// dispatched to its adapter, decompositions spliced in place, types checked against the opset-17 schemas.
#include "core/ir/opset_convert_internal.h"

#include <onnx/defs/data_type_utils.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>

#include "core/ir/model.h"
#include "core/ir/shape_inference.h"

namespace edgetune::opset_internal {

void DownConverter::run() {
  Scope& main = newScope(nullptr, model_.mutable_graph(), "");
  convertGraph(main, *model_.mutable_graph(), from_);
  for (auto& f : *model_.mutable_functions()) convertFunction(f);
  if (!blockers_.empty()) return;

  // Stamp opset 17 and let ONNX 1.12 infer types and shapes for the fix-ups and the type check.
  for (auto& op : *model_.mutable_opset_import())
    if (op.domain().empty()) op.set_version(kTarget);
  try {
    model_.mutable_graph()->clear_value_info();
    inferShapesSafely(model_);
  } catch (const std::exception&) {
    // Inference is advisory here: without it, fix-ups that need a shape refuse clearly; the loader reruns
    // it.
  }
  for (auto& scope : scopes_)
    if (scope.graph) collectTypes(scope, *scope.graph);
  for (auto& fix : deferred_) fix();
  for (auto& check : type_checks_) check();
}

Scope& DownConverter::newScope(const Scope* parent, GraphProto* g, std::string where) {
  Scope& s = scopes_.emplace_back();
  s.parent = parent;
  s.graph = g;
  s.where = std::move(where);
  if (g) collectConstants(s, *g);
  return s;
}

void DownConverter::block(const Scope& scope, const NodeProto& node, std::string reason) {
  blockers_.push_back({describeNode(node) + scope.where, std::move(reason)});
}

void DownConverter::note(int version, const Scope& scope, const NodeProto& node, const std::string& what) {
  lines_.push_back("opset " + std::to_string(version) + " -> " + std::to_string(kTarget) + ": " +
                   describeNode(node) + scope.where + ": " + what);
}

void DownConverter::convertFunction(onnx::FunctionProto& f) {
  int version = 0;
  for (auto& op : *f.mutable_opset_import())
    if (isDefaultDomain(op.domain())) {
      op.set_domain("");
      version = static_cast<int>(op.version());
    }
  if (version <= kTarget) return;
  if (version > kNewestConvertibleOpset) {
    blockers_.push_back({"model function '" + f.name() + "'", "it imports opset " + std::to_string(version) +
                                                                  ", newer than this converter knows"});
    return;
  }
  Scope& scope = newScope(nullptr, nullptr, " (in model function '" + f.name() + "')");
  // Function bodies have no initializers; their Constant nodes are constants.
  GraphProto as_graph;
  *as_graph.mutable_node() = f.node();
  collectConstants(scope, as_graph);
  convertNodes(scope, *f.mutable_node(), version);
  for (auto& op : *f.mutable_opset_import())
    if (op.domain().empty()) op.set_version(kTarget);
}

void DownConverter::convertNodes(Scope& scope, google::protobuf::RepeatedPtrField<NodeProto>& nodes,
                                 int opset) {
  std::map<int, std::vector<NodeProto>> replacements;
  for (int i = 0; i < nodes.size(); ++i) {
    NodeProto& node = nodes[i];
    if (node.domain() == "ai.onnx") node.set_domain("");
    // Subgraphs bind to the model's opset imports too.
    for (auto& attr : *node.mutable_attribute()) {
      if (attr.has_g()) {
        Scope& sub =
            newScope(&scope, attr.mutable_g(),
                     " (in the '" + attr.name() + "' body of " + describeNode(node) + scope.where + ")");
        convertGraph(sub, *attr.mutable_g(), opset);
      }
      for (auto& g : *attr.mutable_graphs()) {
        Scope& sub = newScope(
            &scope, &g, " (in a '" + attr.name() + "' body of " + describeNode(node) + scope.where + ")");
        convertGraph(sub, g, opset);
      }
    }
    if (!node.domain().empty()) continue;
    const int version = changedVersion(node.op_type(), opset);
    if (version == 0) continue;
    std::vector<NodeProto> replacement;
    if (adapt(scope, node, version, replacement) && !replacement.empty())
      replacements[i] = std::move(replacement);
  }
  if (replacements.empty()) return;
  // Splice the decompositions in place, keeping the other node objects (deferred fix-ups point at them).
  std::vector<NodeProto*> released;
  while (!nodes.empty()) released.push_back(nodes.ReleaseLast());
  std::reverse(released.begin(), released.end());
  for (int i = 0; i < static_cast<int>(released.size()); ++i) {
    if (auto it = replacements.find(i); it != replacements.end()) {
      for (auto& r : it->second) *nodes.Add() = std::move(r);
      delete released[i];
    } else {
      nodes.AddAllocated(released[i]);
    }
  }
}

// Adapts one node from `version` (> 17) to its opset-17 form. Returns false when it blocks. A decomposition
// fills `replacement` with the nodes that take its place.
bool DownConverter::adapt(Scope& scope, NodeProto& node, int version, std::vector<NodeProto>& replacement) {
  const std::string& op = node.op_type();
  const onnx::OpSchema* schema17 = onnx::OpSchemaRegistry::Schema(op, kTarget, "");

  if (op == "Gelu") return decomposeGelu(scope, node, version, replacement);
  if (op == "Mish") return decomposeMish(scope, node, version, replacement);
  if (!schema17) {
    block(scope, node,
          op + " is new in opset " + std::to_string(versionsAfter17().at(op).front()) +
              " and opset 17 has no " + "equivalent this converter can build");
    return false;
  }

  const size_t lines_before = lines_.size(), deferred_before = deferred_.size();
  bool ok = true;
  if (op.rfind("Reduce", 0) == 0)
    ok = adaptReduce(scope, node, version);
  else if (op == "Split")
    ok = adaptSplit(scope, node, version);
  else if (op == "Pad")
    ok = adaptPad(scope, node, version);
  else if (op == "Resize")
    ok = adaptResize(scope, node, version);
  else if (op == "ScatterElements" || op == "ScatterND")
    ok = adaptScatter(scope, node, version);
  else if (op == "AveragePool" || op == "LpPool")
    ok = adaptPool(scope, node, version);
  else if (op == "Cast" || op == "CastLike")
    ok = dropDefaulted(scope, node, version, {"saturate"}, true);
  else if (op == "QuantizeLinear" || op == "DequantizeLinear")
    ok = adaptQdq(scope, node, version);
  else if (op == "GridSample")
    ok = adaptGridSample(scope, node, version);
  else if (op == "DFT")
    ok = adaptDft(scope, node);
  if (!ok) return false;

  // Safety net: nothing newer than the opset-17 schema may survive (an attribute or input added later).
  for (const auto& a : node.attribute())
    if (!schema17->attributes().count(a.name())) {
      block(
          scope, node,
          "attribute '" + a.name() + "' (opset " + std::to_string(version) + ") has no opset-17 equivalent");
      return false;
    }
  trimInputs(node);
  if (node.input_size() > schema17->max_input()) {
    block(scope, node,
          "it has " + std::to_string(node.input_size()) + " inputs; opset 17 allows " +
              std::to_string(schema17->max_input()));
    return false;
  }
  // Nodes that needed no rewrite are summarized in one line rather than one line each.
  if (lines_.size() == lines_before && deferred_.size() == deferred_before) ++relabeled_[op];
  // Only tensor types were added to most of these ops since 17: check them once types are inferred.
  NodeProto* node_ptr = &node;
  const Scope* scope_ptr = &scope;
  type_checks_.push_back([this, node_ptr, scope_ptr, schema17, version] {
    checkTypes(*scope_ptr, *node_ptr, *schema17, version);
  });
  return true;
}

void DownConverter::checkTypes(const Scope& scope, const NodeProto& node, const onnx::OpSchema& schema,
                               int version) {
  if (!scope.graph) return;  // function bodies carry no types
  auto check = [&](const std::string& name, const std::vector<onnx::OpSchema::FormalParameter>& params, int i,
                   const char* kind) {
    if (name.empty() || params.empty()) return true;
    const auto& param = params[std::min<size_t>(i, params.size() - 1)];
    const auto* type = scope.type(name);
    if (!type || !type->has_tensor_type() || type->tensor_type().elem_type() == 0) return true;
    const int code = type->tensor_type().elem_type();
    if (code > kNewestKnownTypeCode) return true;  // refused by the type scan before conversion
    const auto* type_str = onnx::Utils::DataTypeUtils::ToType(*type);
    if (param.GetTypes().count(type_str)) return true;
    block(scope, node,
          std::string(kind) + " '" + name + "' is " + *type_str + ", which " + node.op_type() +
              " accepts only since opset " + std::to_string(version));
    return false;
  };
  for (int i = 0; i < node.input_size(); ++i)
    if (!check(node.input(i), schema.inputs(), i, "input")) return;
  for (int i = 0; i < node.output_size(); ++i)
    if (!check(node.output(i), schema.outputs(), i, "output")) return;
}

// Removes attributes added after 17 when they hold their default (or, with `any_value`, always: Cast's
// saturate only affects float8 targets, which the type scan refuses).
bool DownConverter::dropDefaulted(Scope& scope, NodeProto& node, int version,
                                  std::initializer_list<const char*> names, bool any_value) {
  for (const char* name : names) {
    const auto* a = findAttr(node, name);
    if (!a) continue;
    if (!any_value && a->i() != 0) {
      block(scope, node,
            std::string(name) + "=" + std::to_string(a->i()) + " (opset " + std::to_string(version) +
                ") has no opset-17 equivalent");
      return false;
    }
    removeAttr(node, name);
  }
  return true;
}

}  // namespace edgetune::opset_internal
