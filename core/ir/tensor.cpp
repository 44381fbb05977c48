#include "core/ir/tensor.h"

#include <numeric>

#include "core/util/error.h"

namespace edgetune {

size_t elementSize(DataType type) {
  switch (type) {
    case DataType::Float32:
      return 4;
    case DataType::UInt8:
      return 1;
    case DataType::Int8:
      return 1;
    case DataType::UInt16:
      return 2;
    case DataType::Int16:
      return 2;
    case DataType::Int32:
      return 4;
    case DataType::Int64:
      return 8;
    case DataType::Bool:
      return 1;
    case DataType::Float16:
      return 2;
    case DataType::Float64:
      return 8;
  }
  throw Error("unknown data type code " + std::to_string(static_cast<int>(type)));
}

std::string dataTypeName(DataType type) {
  switch (type) {
    case DataType::Float32:
      return "float32";
    case DataType::UInt8:
      return "uint8";
    case DataType::Int8:
      return "int8";
    case DataType::UInt16:
      return "uint16";
    case DataType::Int16:
      return "int16";
    case DataType::Int32:
      return "int32";
    case DataType::Int64:
      return "int64";
    case DataType::Bool:
      return "bool";
    case DataType::Float16:
      return "float16";
    case DataType::Float64:
      return "float64";
  }
  return "undefined";
}

DataType dataTypeFromOnnx(int code) {
  switch (code) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 9:
    case 10:
    case 11:
      return static_cast<DataType>(code);
    default:
      throw Error("unsupported ONNX element type code " + std::to_string(code));
  }
}

Tensor::Tensor(DataType type, std::vector<int64_t> shape) : type_(type), shape_(std::move(shape)) {
  int64_t bytes = static_cast<int64_t>(elementSize(type));
  for (int64_t d : shape_) {
    if (d < 0) throw Error("tensor shape " + shapeToString(shape_) + " has a negative dimension");
    // Checked: a product wrapped past 2^63 would allocate a few bytes for a tensor indexed as huge.
    if (__builtin_mul_overflow(bytes, d, &bytes))
      throw Error("tensor shape " + shapeToString(shape_) + " has more than 2^63 bytes");
  }
  storage_.resize(static_cast<size_t>(bytes));
}

int64_t Tensor::numel() const {
  return std::accumulate(shape_.begin(), shape_.end(), int64_t{1}, std::multiplies<>());
}

Tensor Tensor::reshaped(std::vector<int64_t> shape) const {
  int64_t count = std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
  if (count != numel()) throw Error("cannot reshape " + shapeString() + " to " + shapeToString(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

std::string Tensor::shapeString() const {
  return shapeToString(shape_);
}

void Tensor::checkType(DataType expected) const {
  if (type_ != expected)
    throw Error("tensor holds " + dataTypeName(type_) + ", accessed as " + dataTypeName(expected));
}

void Tensor::checkCount(size_t count) const {
  if (static_cast<int64_t>(count) != numel())
    throw Error("tensor of shape " + shapeString() + " needs " + std::to_string(numel()) + " values, got " +
                std::to_string(count));
}

std::string shapeToString(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
  }
  return s + "]";
}

Tensor stack(std::span<const Tensor> items) {
  if (items.empty()) throw Error("cannot stack an empty list of tensors");
  std::vector<int64_t> shape = items[0].shape();
  shape.insert(shape.begin(), static_cast<int64_t>(items.size()));
  Tensor out(items[0].type(), shape);
  auto* dst = static_cast<std::byte*>(out.raw());
  for (const Tensor& t : items) {
    if (t.type() != items[0].type() || t.shape() != items[0].shape())
      throw Error("cannot stack tensors of shape " + items[0].shapeString() + " and " + t.shapeString());
    std::memcpy(dst, t.raw(), t.byteSize());
    dst += t.byteSize();
  }
  return out;
}

}  // namespace edgetune
