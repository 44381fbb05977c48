#pragma once
// A dense host tensor (type + shape + bytes), the currency between datasets, executors and passes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace edgetune {

/// Element types; the values are ONNX's TensorProto.DataType codes (0 = undefined, never valid).
enum class DataType : int {
  Float32 = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  Bool = 9,
  Float16 = 10,
  Float64 = 11,
};

size_t elementSize(DataType type);
std::string dataTypeName(DataType type);
/// Converts an ONNX data type code; throws Error for codes EdgeTune does not handle.
DataType dataTypeFromOnnx(int onnx_code);

template <class T>
constexpr DataType dataTypeOf();
template <>
constexpr DataType dataTypeOf<float>() {
  return DataType::Float32;
}
template <>
constexpr DataType dataTypeOf<uint8_t>() {
  return DataType::UInt8;
}
template <>
constexpr DataType dataTypeOf<int8_t>() {
  return DataType::Int8;
}
template <>
constexpr DataType dataTypeOf<int32_t>() {
  return DataType::Int32;
}
template <>
constexpr DataType dataTypeOf<int64_t>() {
  return DataType::Int64;
}
template <>
constexpr DataType dataTypeOf<double>() {
  return DataType::Float64;
}
template <>
constexpr DataType dataTypeOf<bool>() {
  return DataType::Bool;
}

/// Dense row-major tensor owning its bytes.
class Tensor {
 public:
  Tensor() = default;
  /// Zero-filled tensor of the given type and shape (every dimension must be >= 0).
  Tensor(DataType type, std::vector<int64_t> shape);

  template <class T>
  static Tensor from(std::vector<int64_t> shape, std::span<const T> values) {
    Tensor t(dataTypeOf<T>(), std::move(shape));
    t.checkCount(values.size());
    if (!values.empty()) std::memcpy(t.storage_.data(), values.data(), values.size() * sizeof(T));
    return t;
  }
  template <class T>
  static Tensor from(std::vector<int64_t> shape, const std::vector<T>& values) {
    return from<T>(std::move(shape), std::span<const T>(values.data(), values.size()));
  }

  DataType type() const { return type_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t numel() const;
  size_t byteSize() const { return storage_.size(); }
  bool empty() const { return type_ == static_cast<DataType>(0); }

  void* raw() { return storage_.data(); }
  const void* raw() const { return storage_.data(); }

  /// Typed views; throw Error if T does not match the element type.
  template <class T>
  std::span<T> values() {
    checkType(dataTypeOf<T>());
    return {reinterpret_cast<T*>(storage_.data()), storage_.size() / sizeof(T)};
  }
  template <class T>
  std::span<const T> values() const {
    checkType(dataTypeOf<T>());
    return {reinterpret_cast<const T*>(storage_.data()), storage_.size() / sizeof(T)};
  }

  /// Same bytes, new shape with the same element count.
  Tensor reshaped(std::vector<int64_t> shape) const;
  std::string shapeString() const;

 private:
  void checkType(DataType expected) const;
  void checkCount(size_t count) const;

  DataType type_ = static_cast<DataType>(0);
  std::vector<int64_t> shape_;
  std::vector<std::byte> storage_;
};

/// "[1, 3, 32, 32]"; negative dimensions print as "?".
std::string shapeToString(std::span<const int64_t> shape);

/// Stacks tensors of identical type and shape along a new leading (batch) axis.
Tensor stack(std::span<const Tensor> items);

/// An input or output of a model as an executor sees it: name, element type and shape (-1 for dynamic
/// dimensions). Here rather than in runtime/ because datasets bind their features to it.
struct TensorInfo {
  std::string name;
  DataType type = DataType::Float32;
  std::vector<int64_t> shape;
};

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

}  // namespace edgetune
