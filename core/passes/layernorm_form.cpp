// writeLayerNormsUnfused: LayerNormalization nodes expanded, torch's decomposed LayerNorm edited in place
// (Pow -> Mul, Div -> Reciprocal + Mul), so that ONNX Runtime's LayerNormFusion no longer matches them.
#include "core/passes/layernorm_form.h"

#include <map>

#include "core/passes/graph_edit.h"

namespace edgetune {
namespace {

// True for a ReduceMean over exactly the last axis of `rank`, keeping dims (opset < 18: axes attribute).
bool reducesLastAxis(const onnx::NodeProto& node, int rank) {
  if (node.op_type() != "ReduceMean" || node.input_size() != 1 || attrInt(node, "keepdims", 1) != 1)
    return false;
  const auto axes = attrInts(node, "axes");
  return axes.size() == 1 && (axes[0] == -1 || (rank > 0 && axes[0] == rank - 1));
}

int rankOf(const Model& model, const std::string& tensor) {
  auto vi = model.valueInfo(tensor);
  return vi && vi->has_shape ? static_cast<int>(vi->shape.size()) : -1;
}

// The single node reading `tensor`, or -1.
int onlyConsumer(const Model& model, const std::string& tensor) {
  const auto& c = model.consumers(tensor);
  return c.size() == 1 && !model.isGraphOutput(tensor) ? c[0] : -1;
}

// torch's decomposed LayerNorm around the Pow node `pow_index`: d = x - mean(x); Pow(d, 2) -> mean -> + eps
// -> Sqrt -> Div(d, .). Edits Pow into Mul(d, d) and Div into Mul(d, Reciprocal(.)); false if it does not
// match.
bool editDecomposed(Model& model, int pow_index, std::vector<onnx::NodeProto>& added) {
  auto& g = model.graph();
  const onnx::NodeProto& pow = g.node(pow_index);
  if (pow.input_size() != 2 || floatScalarConstant(model, pow.input(1)) != 2.0f) return false;
  const std::string d = pow.input(0);
  const int sub = model.producer(d);
  if (sub < 0 || g.node(sub).op_type() != "Sub") return false;
  const int mean = model.producer(g.node(sub).input(1));
  const int rank = rankOf(model, d);
  if (mean < 0 || !reducesLastAxis(g.node(mean), rank) || g.node(mean).input(0) != g.node(sub).input(0))
    return false;
  const int var = onlyConsumer(model, pow.output(0));
  if (var < 0 || !reducesLastAxis(g.node(var), rank)) return false;
  const int add = onlyConsumer(model, g.node(var).output(0));
  if (add < 0 || g.node(add).op_type() != "Add") return false;
  const int sqrt = onlyConsumer(model, g.node(add).output(0));
  if (sqrt < 0 || g.node(sqrt).op_type() != "Sqrt") return false;
  const int div = onlyConsumer(model, g.node(sqrt).output(0));
  if (div < 0 || g.node(div).op_type() != "Div" || g.node(div).input(0) != d ||
      g.node(div).input(1) != g.node(sqrt).output(0))
    return false;

  onnx::NodeProto* p = g.mutable_node(pow_index);
  p->set_op_type("Mul");
  p->set_input(1, d);
  const std::string reciprocal = uniqueName(model, g.node(sqrt).output(0) + ".reciprocal");
  added.push_back(
      makeNode("Reciprocal", g.node(sqrt).name() + ".reciprocal", {g.node(sqrt).output(0)}, {reciprocal}));
  onnx::NodeProto* q = g.mutable_node(div);
  q->set_op_type("Mul");
  q->set_input(1, reciprocal);
  return true;
}

// A LayerNormalization over the last axis whose Mean / InvStdDev outputs nobody reads, as the unfused nodes.
bool expandFused(const Model& model, const onnx::NodeProto& ln, std::vector<onnx::NodeProto>& out,
                 std::vector<onnx::TensorProto>& constants) {
  if (ln.input_size() < 2 || ln.output_size() < 1) return false;
  for (int k = 1; k < ln.output_size(); ++k)
    if (!ln.output(k).empty() &&
        (!model.consumers(ln.output(k)).empty() || model.isGraphOutput(ln.output(k))))
      return false;
  const int rank = rankOf(model, ln.input(0));
  const int64_t axis = attrInt(ln, "axis", -1);
  if (!(axis == -1 || (rank > 0 && axis == rank - 1))) return false;
  if (attrInt(ln, "stash_type", 1) != 1) return false;
  // Named after the output, which is unique in the graph (node names may be empty or repeated).
  const std::string x = ln.input(0), p = ln.output(0) + ".ln.";
  onnx::TensorProto eps = tensorToProto(
      p + "epsilon", Tensor::from<float>({}, std::vector<float>{attrFloat(ln, "epsilon", 1e-5f)}));
  constants.push_back(eps);
  auto reduce = [&](const std::string& in, const std::string& o) {
    onnx::NodeProto n = makeNode("ReduceMean", o, {in}, {o});
    auto* a = n.add_attribute();
    a->set_name("axes");
    a->set_type(onnx::AttributeProto::INTS);
    a->add_ints(-1);
    return n;
  };
  out.push_back(reduce(x, p + "mean"));
  out.push_back(makeNode("Sub", p + "centered", {x, p + "mean"}, {p + "centered"}));
  out.push_back(makeNode("Mul", p + "squared", {p + "centered", p + "centered"}, {p + "squared"}));
  out.push_back(reduce(p + "squared", p + "variance"));
  out.push_back(makeNode("Add", p + "variance_eps", {p + "variance", p + "epsilon"}, {p + "variance_eps"}));
  out.push_back(makeNode("Sqrt", p + "std", {p + "variance_eps"}, {p + "std"}));
  out.push_back(makeNode("Reciprocal", p + "inv_std", {p + "std"}, {p + "inv_std"}));
  out.push_back(makeNode("Mul", p + "normalized", {p + "centered", p + "inv_std"}, {p + "normalized"}));
  const bool bias = ln.input_size() > 2 && !ln.input(2).empty();
  const std::string scaled = bias ? p + "scaled" : ln.output(0);
  out.push_back(makeNode("Mul", p + "scaled", {p + "normalized", ln.input(1)}, {scaled}));
  if (bias) out.push_back(makeNode("Add", p + "shifted", {scaled, ln.input(2)}, {ln.output(0)}));
  return true;
}

}  // namespace

int writeLayerNormsUnfused(Model& model) {
  model.reindex();
  int rewritten = 0;
  std::vector<onnx::NodeProto> reciprocals;
  for (int i = 0; i < model.graph().node_size(); ++i) {
    const auto& node = model.graph().node(i);
    if (isDefaultDomain(node) && node.op_type() == "Pow" && editDecomposed(model, i, reciprocals))
      ++rewritten;
  }
  // Rebuild the node list: each fused LayerNormalization is replaced in place by its unfused nodes, and each
  // Reciprocal goes right before the Mul that reads it.
  std::map<std::string, onnx::NodeProto> reciprocal_of;
  for (auto& r : reciprocals) reciprocal_of.emplace(r.output(0), std::move(r));
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  std::vector<onnx::TensorProto> constants;
  for (const auto& node : model.graph().node()) {
    for (const auto& in : node.input())
      if (auto it = reciprocal_of.find(in); it != reciprocal_of.end()) {
        *nodes.Add() = std::move(it->second);
        reciprocal_of.erase(it);
      }
    std::vector<onnx::NodeProto> expanded;
    if (isDefaultDomain(node) && node.op_type() == "LayerNormalization" &&
        expandFused(model, node, expanded, constants)) {
      for (auto& n : expanded) *nodes.Add() = std::move(n);
      ++rewritten;
    } else {
      *nodes.Add() = node;
    }
  }
  if (!rewritten) return 0;
  model.graph().mutable_node()->Swap(&nodes);
  for (auto& c : constants) *model.graph().add_initializer() = std::move(c);
  finishGraphEdit(model, "layernorm form");
  return rewritten;
}

}  // namespace edgetune
