#pragma once
// The names an operator's schema gives its inputs ("X", "W", "B" for Conv; "data", "shape" for Reshape), so a
// view can say what a constant input is for instead of showing its tensor name.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>

namespace edgetune {

/// The schema's formal name of `node`'s input `input_index` at `opset` (the last name for a variadic tail),
/// or "input N" when the operator or the index is unknown (custom domains, malformed nodes).
std::string formalInputName(const onnx::NodeProto& node, int input_index, int64_t opset);

}  // namespace edgetune
