#include "core/zoo/graph_builder.h"

#include "core/util/error.h"

namespace edgetune::zoo {

Attr Attr::i(const std::string& name, int64_t value) {
  Attr a;
  a.proto.set_name(name);
  a.proto.set_type(onnx::AttributeProto::INT);
  a.proto.set_i(value);
  return a;
}

Attr Attr::f(const std::string& name, float value) {
  Attr a;
  a.proto.set_name(name);
  a.proto.set_type(onnx::AttributeProto::FLOAT);
  a.proto.set_f(value);
  return a;
}

Attr Attr::s(const std::string& name, const std::string& value) {
  Attr a;
  a.proto.set_name(name);
  a.proto.set_type(onnx::AttributeProto::STRING);
  a.proto.set_s(value);
  return a;
}

Attr Attr::ints(const std::string& name, std::vector<int64_t> values) {
  Attr a;
  a.proto.set_name(name);
  a.proto.set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a.proto.add_ints(v);
  return a;
}

Attr Attr::floats(const std::string& name, std::vector<float> values) {
  Attr a;
  a.proto.set_name(name);
  a.proto.set_type(onnx::AttributeProto::FLOATS);
  for (float v : values) a.proto.add_floats(v);
  return a;
}

Attr Attr::t(const std::string& name, const Tensor& value) {
  Attr a;
  a.proto.set_name(name);
  a.proto.set_type(onnx::AttributeProto::TENSOR);
  *a.proto.mutable_t() = tensorToProto("", value);
  return a;
}

namespace {
void setType(onnx::ValueInfoProto* vi, const std::string& name, DataType type, const std::vector<Dim>& dims) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int>(type));
  auto* shape = tt->mutable_shape();
  for (const Dim& d : dims) {
    auto* dim = shape->add_dim();
    if (!d.param.empty())
      dim->set_dim_param(d.param);
    else if (d.value >= 0)
      dim->set_dim_value(d.value);
    // A dimension with neither stays unknown (valid ONNX).
  }
}
}  // namespace

GraphBuilder::GraphBuilder(std::string graph_name, int64_t opset) {
  proto_.set_ir_version(8);
  proto_.set_producer_name("edgetune");
  auto* op = proto_.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  proto_.mutable_graph()->set_name(std::move(graph_name));
}

void GraphBuilder::claimTensorName(const std::string& name) {
  if (name.empty()) throw Error("GraphBuilder: a tensor needs a name");
  if (!tensor_names_.insert(name).second)
    throw Error("GraphBuilder: tensor name '" + name + "' is already used in graph '" +
                proto_.graph().name() + "'");
}

std::string GraphBuilder::addInput(const std::string& name, DataType type, const std::vector<Dim>& dims) {
  claimTensorName(name);
  setType(proto_.mutable_graph()->add_input(), name, type, dims);
  return name;
}

void GraphBuilder::addOutput(const std::string& name, DataType type, const std::vector<Dim>& dims) {
  if (!hasTensor(name))
    throw Error("GraphBuilder: output '" + name + "' is not produced by any node, input or initializer");
  setType(proto_.mutable_graph()->add_output(), name, type, dims);
}

std::string GraphBuilder::addInitializer(const std::string& name, const Tensor& value) {
  claimTensorName(name);
  *proto_.mutable_graph()->add_initializer() = tensorToProto(name, value);
  return name;
}

std::string GraphBuilder::addConstant(const std::string& node_name, const Tensor& value) {
  return addNode("Constant", node_name, {}, {Attr::t("value", value)});
}

std::string GraphBuilder::uniqueNodeName(const std::string& base) const {
  if (!node_names_.count(base)) return base;
  for (int k = 1;; ++k) {
    std::string candidate = base + "_" + std::to_string(k);
    if (!node_names_.count(candidate)) return candidate;
  }
}

std::string GraphBuilder::addNode(const std::string& op_type, const std::string& node_name,
                                  const std::vector<std::string>& inputs, const std::vector<Attr>& attributes,
                                  const std::string& output_name) {
  if (output_name.empty()) return addNodeWithOutputs(op_type, node_name, inputs, 1, attributes).front();
  const std::string name = uniqueNodeName(node_name);
  appendNode(op_type, name, inputs, {output_name}, attributes);
  return output_name;
}

std::vector<std::string> GraphBuilder::addNodeWithOutputs(const std::string& op_type,
                                                          const std::string& node_name,
                                                          const std::vector<std::string>& inputs,
                                                          int output_count,
                                                          const std::vector<Attr>& attributes) {
  const std::string name = uniqueNodeName(node_name);
  std::vector<std::string> outputs;
  for (int i = 0; i < output_count; ++i) outputs.push_back(name + "_output_" + std::to_string(i));
  appendNode(op_type, name, inputs, outputs, attributes);
  return outputs;
}

void GraphBuilder::appendNode(const std::string& op_type, const std::string& name,
                              const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                              const std::vector<Attr>& attributes) {
  // Validate everything before changing the graph, so a failed call leaves the builder as it was.
  for (const auto& in : inputs)
    if (!in.empty() && !hasTensor(in))
      throw Error("GraphBuilder: node '" + name + "' (" + op_type + ") reads '" + in +
                  "', which no input, initializer or earlier node provides");
  for (const auto& out : outputs)
    if (hasTensor(out))
      throw Error("GraphBuilder: node '" + name + "' (" + op_type + ") writes '" + out +
                  "', which already exists");
  for (const auto& out : outputs) claimTensorName(out);
  node_names_.insert(name);
  auto* node = proto_.mutable_graph()->add_node();
  node->set_op_type(op_type);
  node->set_name(name);
  for (const auto& in : inputs) node->add_input(in);
  for (const auto& out : outputs) node->add_output(out);
  for (const auto& a : attributes) *node->add_attribute() = a.proto;
}

Model GraphBuilder::finish(const std::string& origin) {
  std::string label = origin.empty() ? proto_.graph().name() : origin;
  onnx::ModelProto proto = std::move(proto_);
  proto_ = onnx::ModelProto();
  tensor_names_.clear();
  node_names_.clear();
  return Model::fromProto(std::move(proto), label);
}

}  // namespace edgetune::zoo
