// Two-pass shape inference: types first, data propagation only where ONNX 1.12 can take it.
#include "core/ir/shape_inference.h"

#include <onnx/shape_inference/implementation.h>

#include <string>
#include <unordered_set>

namespace edgetune {
namespace {

void collectTypedNames(const onnx::GraphProto& g, std::unordered_set<std::string>& typed) {
  auto add = [&](const onnx::ValueInfoProto& v) {
    if (v.has_type() && v.type().value_case() != onnx::TypeProto::VALUE_NOT_SET) typed.insert(v.name());
  };
  for (const auto& v : g.input()) add(v);
  for (const auto& v : g.output()) add(v);
  for (const auto& v : g.value_info()) add(v);
  for (const auto& t : g.initializer()) typed.insert(t.name());
  for (const auto& n : g.node())
    for (const auto& a : n.attribute()) {
      if (a.has_g()) collectTypedNames(a.g(), typed);
      for (const auto& sub : a.graphs()) collectTypedNames(sub, typed);
    }
}

bool shapeInputsTyped(const onnx::GraphProto& g, const std::unordered_set<std::string>& typed) {
  for (const auto& n : g.node()) {
    const bool default_domain = n.domain().empty() || n.domain() == "ai.onnx";
    if (default_domain && (n.op_type() == "Shape" || n.op_type() == "Size") && n.input_size() > 0 &&
        !typed.count(n.input(0)))
      return false;
    for (const auto& a : n.attribute()) {
      if (a.has_g() && !shapeInputsTyped(a.g(), typed)) return false;
      for (const auto& sub : a.graphs())
        if (!shapeInputsTyped(sub, typed)) return false;
    }
  }
  return true;
}

}  // namespace

void inferShapesSafely(onnx::ModelProto& model,
                       std::unordered_map<std::string, onnx::TensorShapeProto>* generated) {
  const onnx::ShapeInferenceOptions types_only(/*check_type=*/false, /*error_mode=*/0, /*data_prop=*/false);
  onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), types_only, generated);
  std::unordered_set<std::string> typed;
  collectTypedNames(model.graph(), typed);
  if (!shapeInputsTyped(model.graph(), typed)) return;
  const onnx::ShapeInferenceOptions with_data(/*check_type=*/false, /*error_mode=*/0, /*data_prop=*/true);
  if (generated) generated->clear();
  onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), with_data, generated);
}

}  // namespace edgetune
