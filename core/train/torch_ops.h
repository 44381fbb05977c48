#pragma once
// Internal to core/train: ONNX operators compiled once into libtorch kernels, and Tensor <-> at::Tensor
// conversion. Includes ATen; never include this from Qt code.
#include <ATen/core/Tensor.h>
#include <onnx/onnx_pb.h>

#include <functional>
#include <string>
#include <vector>

#include "core/ir/tensor.h"

namespace edgetune::torch_ops {

/// A node's computation with its attributes already parsed. `inputs` has one entry per ONNX input (undefined
/// tensors for absent optional inputs); returns one entry per ONNX output (undefined where not produced).
using Kernel = std::function<std::vector<at::Tensor>(const std::vector<at::Tensor>& inputs, bool training)>;

/// What compiling a node may look at: the node, the model's opset, and inputs whose value is known up front.
struct NodeContext {
  const onnx::NodeProto* node = nullptr;
  int64_t opset = 0;
  /// The value of input `index` if it is a build-time constant (non-trained initializer, Constant, folded),
  /// else null.
  std::function<const at::Tensor*(int index)> constant_input;
};

struct CompiledOp {
  Kernel kernel;
  bool foldable = true;  // may be evaluated once at build time when all inputs are constants
};

/// True if the interpreter implements this node's operator (default ONNX domain only).
bool isSupported(const onnx::NodeProto& node);
/// Parses the node's attributes into a kernel; throws Error naming the node for attribute values it cannot
/// run.
CompiledOp compile(const NodeContext& context);

at::ScalarType toScalarType(DataType type);
DataType fromScalarType(at::ScalarType type);
/// Copies (or, with copy=false, wraps) the bytes of an EdgeTune tensor as a CPU at::Tensor.
at::Tensor toTorch(const Tensor& tensor, bool copy = true);
/// Copies a CPU at::Tensor into an EdgeTune tensor, converting to `as_type` (values are rounded for integer
/// types).
Tensor fromTorch(const at::Tensor& tensor, DataType as_type);
Tensor fromTorch(const at::Tensor& tensor);

}  // namespace edgetune::torch_ops
