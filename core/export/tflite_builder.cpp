// TfliteBuilder: the structs become FlatBuffers tables only in finish(), in the order the schema wants.
#include "core/export/tflite_builder.h"

#include <algorithm>

namespace edgetune::tflite_export {

namespace {
// Values of OperatorCode.deprecated_builtin_code at or above this say "read builtin_code instead".
constexpr int32_t kPlaceholderForGreaterOpCodes = 127;
}  // namespace

TfliteBuilder::TfliteBuilder() : buffers_(1) {}

int32_t TfliteBuilder::addConstant(const std::string& name, tfl::TensorType type, std::vector<int32_t> shape,
                                   std::vector<uint8_t> bytes, std::optional<Quantization> quantization) {
  buffers_.push_back(std::move(bytes));
  tensors_.push_back(
      {name, type, std::move(shape), static_cast<uint32_t>(buffers_.size() - 1), std::move(quantization)});
  return static_cast<int32_t>(tensors_.size() - 1);
}

int32_t TfliteBuilder::addTensor(const std::string& name, tfl::TensorType type, std::vector<int32_t> shape) {
  tensors_.push_back({name, type, std::move(shape), 0, std::nullopt});
  return static_cast<int32_t>(tensors_.size() - 1);
}

uint32_t TfliteBuilder::opcodeIndex(tfl::BuiltinOperator op, int32_t version) {
  const auto key = std::make_pair(op, version);
  const auto it = std::find(opcodes_.begin(), opcodes_.end(), key);
  if (it != opcodes_.end()) return static_cast<uint32_t>(it - opcodes_.begin());
  opcodes_.push_back(key);
  return static_cast<uint32_t>(opcodes_.size() - 1);
}

void TfliteBuilder::addOperator(tfl::BuiltinOperator op, std::vector<int32_t> inputs,
                                std::vector<int32_t> outputs, OperatorOptions options, int32_t version) {
  operators_.push_back({opcodeIndex(op, version), std::move(inputs), std::move(outputs), std::move(options)});
}

int TfliteBuilder::operatorCount(tfl::BuiltinOperator op) const {
  int count = 0;
  for (const auto& o : operators_)
    if (opcodes_[o.opcode_index].first == op) ++count;
  return count;
}

std::string TfliteBuilder::finish(const std::string& description) const {
  flatbuffers::FlatBufferBuilder fbb(1 << 20);
  std::vector<flatbuffers::Offset<tfl::Buffer>> buffers;
  buffers.reserve(buffers_.size());
  for (const auto& bytes : buffers_) {
    if (bytes.empty()) {
      buffers.push_back(tfl::CreateBuffer(fbb));
      continue;
    }
    // Weights 16-byte aligned, as the schema asks, so a runtime can map them in place.
    fbb.ForceVectorAlignment(bytes.size(), sizeof(uint8_t), 16);
    buffers.push_back(tfl::CreateBuffer(fbb, fbb.CreateVector(bytes)));
  }
  std::vector<flatbuffers::Offset<tfl::Tensor>> tensors;
  tensors.reserve(tensors_.size());
  for (const auto& t : tensors_) {
    flatbuffers::Offset<tfl::QuantizationParameters> quantization = 0;
    if (t.quantization)
      quantization = tfl::CreateQuantizationParametersDirect(fbb, nullptr, nullptr, &t.quantization->scale,
                                                             &t.quantization->zero_point,
                                                             t.quantization->quantized_dimension);
    tensors.push_back(tfl::CreateTensorDirect(fbb, &t.shape, t.type, t.buffer, t.name.c_str(), quantization));
  }
  std::vector<flatbuffers::Offset<tfl::OperatorCode>> opcodes;
  for (const auto& [op, version] : opcodes_) {
    const auto code = static_cast<int32_t>(op);
    // Both fields: old readers (Arm NN 20.08) only read the 8-bit one, new ones prefer the 32-bit one.
    const auto deprecated = static_cast<int8_t>(std::min(code, kPlaceholderForGreaterOpCodes));
    opcodes.push_back(tfl::CreateOperatorCode(fbb, deprecated, 0, version, op));
  }
  std::vector<flatbuffers::Offset<tfl::Operator>> operators;
  operators.reserve(operators_.size());
  for (const auto& o : operators_) {
    const flatbuffers::Offset<void> options = o.options.write ? o.options.write(fbb) : 0;
    operators.push_back(
        tfl::CreateOperatorDirect(fbb, o.opcode_index, &o.inputs, &o.outputs, o.options.type, options));
  }
  const auto subgraph = tfl::CreateSubGraphDirect(fbb, &tensors, &inputs_, &outputs_, &operators, "main");
  const std::vector<flatbuffers::Offset<tfl::SubGraph>> subgraphs{subgraph};
  constexpr uint32_t kSchemaVersion = 3;
  const auto model =
      tfl::CreateModelDirect(fbb, kSchemaVersion, &opcodes, &subgraphs, description.c_str(), &buffers);
  tfl::FinishModelBuffer(fbb, model);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

}  // namespace edgetune::tflite_export
