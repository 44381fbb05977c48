#pragma once
// TfliteBuilder: collects a TFLite model (buffers, tensors, operator codes, operators) in plain structs and
// serializes it with FlatBuffers at the end, so tensors can still be renamed or retyped while the graph is
// converted. It knows the file format, nothing of ONNX.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/export/tflite_schema_generated.h"

namespace edgetune::tflite_export {

namespace tfl = edgetune::tflite;

/// Affine quantization of a tensor: real = scale * (q - zero_point), one (scale, zero_point) per tensor or
/// one per index of `quantized_dimension` (per-channel weights).
struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
};

/// One tensor of the subgraph; `buffer` 0 means computed at run time.
struct TensorSpec {
  std::string name;
  tfl::TensorType type = tfl::TensorType::FLOAT32;
  std::vector<int32_t> shape;
  uint32_t buffer = 0;
  std::optional<Quantization> quantization;
};

/// A builtin operator's options: the union tag and a function that writes the table.
struct OperatorOptions {
  tfl::BuiltinOptions type = tfl::BuiltinOptions::NONE;
  std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)> write;
};

class TfliteBuilder {
 public:
  TfliteBuilder();

  /// A constant tensor holding `bytes` (little-endian, row-major in `shape`); returns its index.
  int32_t addConstant(const std::string& name, tfl::TensorType type, std::vector<int32_t> shape,
                      std::vector<uint8_t> bytes, std::optional<Quantization> quantization = {});
  /// A tensor computed at run time; returns its index.
  int32_t addTensor(const std::string& name, tfl::TensorType type, std::vector<int32_t> shape);

  TensorSpec& tensor(int32_t index) { return tensors_.at(static_cast<size_t>(index)); }
  const TensorSpec& tensor(int32_t index) const { return tensors_.at(static_cast<size_t>(index)); }

  /// Appends an operator (execution order is the order of calls); `inputs` may hold -1 for an absent optional
  /// input.
  void addOperator(tfl::BuiltinOperator op, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                   OperatorOptions options = {}, int32_t version = 1);

  void addGraphInput(int32_t tensor) { inputs_.push_back(tensor); }
  void addGraphOutput(int32_t tensor) { outputs_.push_back(tensor); }

  /// How many operators of kind `op` were added so far.
  int operatorCount(tfl::BuiltinOperator op) const;
  int operatorCount() const { return static_cast<int>(operators_.size()); }

  /// The finished .tflite file.
  std::string finish(const std::string& description) const;

 private:
  struct OperatorSpec {
    uint32_t opcode_index = 0;
    std::vector<int32_t> inputs, outputs;
    OperatorOptions options;
  };
  uint32_t opcodeIndex(tfl::BuiltinOperator op, int32_t version);

  std::vector<std::vector<uint8_t>> buffers_;  // [0] is the empty sentinel every run-time tensor points at
  std::vector<TensorSpec> tensors_;
  std::vector<std::pair<tfl::BuiltinOperator, int32_t>> opcodes_;  // (operator, version), in index order
  std::vector<OperatorSpec> operators_;
  std::vector<int32_t> inputs_, outputs_;
};

}  // namespace edgetune::tflite_export
