#include "core/ir/input_names.h"

#include <onnx/defs/schema.h>

namespace edgetune {

std::string formalInputName(const onnx::NodeProto& node, int input_index, int64_t opset) {
  const std::string fallback = "input " + std::to_string(input_index);
  if (input_index < 0) return fallback;
  const std::string& domain = node.domain() == "ai.onnx" ? std::string() : node.domain();
  const auto* schema = onnx::OpSchemaRegistry::Schema(
      node.op_type(), static_cast<int>(std::min<int64_t>(opset, 1 << 20)), domain);
  if (!schema || schema->inputs().empty()) return fallback;
  const auto& inputs = schema->inputs();
  const auto index = static_cast<size_t>(input_index);
  if (index < inputs.size()) return inputs[index].GetName();
  if (inputs.back().GetOption() == onnx::OpSchema::FormalParameterOption::Variadic)
    return inputs.back().GetName();
  return fallback;
}

}  // namespace edgetune
