// Static INT8, the writer: quantized initializers and Q/DQ nodes under short numbered names (see
// quantize_static_internal.h for why).
#include <algorithm>

#include "core/passes/quantize_static_internal.h"

namespace edgetune::quant_detail {

std::string QdqWriter::newBase() {
  for (;;) {
    std::string base = "q" + std::to_string(next_base_++);
    if (!taken(base)) return base;  // taken by the first name built from it (fresh)
  }
}

std::string QdqWriter::addInitializer(const std::string& name, const Tensor& t) {
  const std::string fresh_name = fresh(name);
  *model_.graph().add_initializer() = tensorToProto(fresh_name, t);
  return fresh_name;
}

std::string QdqWriter::zeroPoint(const std::string& base, DataType type, std::vector<int64_t> shape,
                                 const std::vector<int32_t>& values, bool omit_if_zero) {
  // DequantizeLinear's zero point is optional: the integer type comes from the quantized tensor, and ORT
  // fills a zero itself when it fuses a Conv group into QLinearConv (SetOptionalZeroPoint in its QDQ
  // actions). Per channel, an all-zero zero point costs a byte (int8 weights) or four (int32 biases) for each
  // output channel, as much as a depthwise kernel's nine int8 weights. Activations keep theirs: ORT's Q/DQ
  // pair rules (a MaxPool or Reshape on int8, redundant pairs dropped) need all three inputs, and a
  // QuantizeLinear without one means uint8.
  if (omit_if_zero && std::all_of(values.begin(), values.end(), [](int32_t v) { return v == 0; })) return {};
  return addInitializer(base + ".z", zeroPointTensor(type, std::move(shape), values));
}

std::string QdqWriter::dq(const std::string& base, const std::string& q, const std::string& scale,
                          const std::string& zp, int64_t axis, const std::string& output) {
  auto* node = newNode("DequantizeLinear", base + ".DQ");
  node->add_input(q);
  node->add_input(scale);
  if (!zp.empty()) node->add_input(zp);
  if (axis >= 0) {
    auto* a = node->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(axis);
  }
  const std::string out = output.empty() ? fresh(base + ".d") : output;
  node->add_output(out);
  return out;
}

std::string QdqWriter::q(const std::string& base, const std::string& x, const std::string& scale,
                         const std::string& zp) {
  auto* node = newNode("QuantizeLinear", base + ".Q");
  node->add_input(x);
  node->add_input(scale);
  node->add_input(zp);
  const std::string out = fresh(base);
  node->add_output(out);
  return out;
}

bool QdqWriter::taken(const std::string& name) const {
  if (used_.count(name) || model_.isInitializer(name) || model_.producer(name) >= 0 ||
      model_.isGraphOutput(name) || !model_.consumers(name).empty())
    return true;
  const auto& inputs = model_.graph().input();
  return std::any_of(inputs.begin(), inputs.end(), [&](const auto& i) { return i.name() == name; });
}

std::string QdqWriter::fresh(const std::string& base) {
  std::string name = base;
  for (int k = 1; taken(name); ++k) name = base + "_" + std::to_string(k);
  used_.insert(name);
  return name;
}

onnx::NodeProto* QdqWriter::newNode(const std::string& op, const std::string& name) {
  nodes_.emplace_back();
  auto& n = nodes_.back();
  n.set_op_type(op);
  n.set_name(fresh(name));
  ++report_.nodes_added;
  return &n;
}

}  // namespace edgetune::quant_detail
