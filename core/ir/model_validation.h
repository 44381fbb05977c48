#pragma once
// The checks a hostile or broken ONNX file must pass before anything (the opset converter, ONNX's checker
// and shape inference, ONNX Runtime, our passes) looks at it: tensors whose declared size matches the data
// they hold, and conv/pool attributes that cannot divide by zero or index out of bounds.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace edgetune {

/// What one ONNX tensor declares: its element count and the bytes of raw data that many elements occupy.
struct TensorExtent {
  int64_t element_count = 0;
  int64_t byte_size = 0;  // 0 for STRING tensors, whose elements live in string_data
};

/// The element count of `dims`; nullopt when a dimension is negative or the product passes int64.
std::optional<int64_t> checkedElementCount(std::span<const int64_t> dims);

/// The extent of `tensor`, computed with overflow checks. Throws Error("<what>: problem") for a missing or
/// unknown data type, a negative dimension, or counts past int64.
TensorExtent tensorExtent(const onnx::TensorProto& tensor, const std::string& what);

/// Checks every tensor of the model (initializers, sparse initializers, tensor attributes such as
/// Constant's value, in every graph, subgraph and model function): a known data type, dimensions >= 0, an
/// element count that fits int64, and stored data exactly as large as the dimensions say; the bytes all
/// tensors declare (sparse ones at their dense size) at most the bytes the model holds; and the attributes
/// of Conv, ConvTranspose, ConvInteger, QLinearConv, MaxPool, AveragePool and LpPool (strides, dilations,
/// kernel_shape >= 1, pads >= 0, group >= 1, a constant weight of rank >= 3 and a constant bias as long as
/// the weight's output channels).
/// Throws one Error "<origin>: <node or tensor>: <field> <problem>" for the first problem found.
void validateModelProto(const onnx::ModelProto& model, const std::string& origin);

}  // namespace edgetune
