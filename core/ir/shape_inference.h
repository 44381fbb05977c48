#pragma once
// ONNX 1.12 shape inference, run so that no model can crash it.
#include <onnx/onnx_pb.h>

#include <string>
#include <unordered_map>

namespace edgetune {

/// Infers types and shapes into `model`'s value_info (never throws for an inference failure; errors are left
/// for the checker and ONNX Runtime to name). Symbolic data propagation (Shape -> Gather -> Reshape chains)
/// runs only when every Shape and Size node's input has a type: ONNX 1.12's propagator for them dereferences
/// the input's type without checking it, so a node whose inference failed before them (a Softmax axis out of
/// range, say) would crash the process.
/// `generated`, when given, receives ONNX's shapes of the values it generated (InferShapes' last argument).
void inferShapesSafely(onnx::ModelProto& model,
                       std::unordered_map<std::string, onnx::TensorShapeProto>* generated = nullptr);

}  // namespace edgetune
