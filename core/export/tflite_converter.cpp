// TfliteConverter: layouts, constants and the graph walk; the operators themselves are in tflite_ops_*.cpp.
#include "core/export/tflite_converter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "core/ir/input_shapes.h"
#include "core/util/error.h"

namespace edgetune::tflite_export {

Perm identityPerm(size_t rank) {
  Perm p(rank);
  std::iota(p.begin(), p.end(), 0);
  return p;
}

bool isIdentity(const Perm& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int>(i)) return false;
  return true;
}

Perm nhwcPerm(size_t rank) {
  return rank == 4 ? Perm{0, 2, 3, 1} : identityPerm(rank);
}

std::vector<int64_t> permuteShape(const std::vector<int64_t>& shape, const Perm& perm) {
  // The ranks disagree when a model's declared shapes contradict its ops (a ReduceMean output declared with
  // the wrong rank, say): refused as a bad model, not an internal error.
  if (shape.size() != perm.size())
    throw Error("a tensor of shape " + shapeToString(shape) + " cannot take a layout of " +
                std::to_string(perm.size()) +
                " dimensions (its declared shape contradicts the node making it)");
  std::vector<int64_t> out(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = shape.at(static_cast<size_t>(perm[i]));
  return out;
}

Tensor permuteTensor(const Tensor& t, const Perm& perm) {
  if (isIdentity(perm)) return t;
  const auto& in_shape = t.shape();
  const size_t rank = in_shape.size();
  Tensor out(t.type(), permuteShape(in_shape, perm));
  const size_t element = elementSize(t.type());
  // Strides of the input, visited in the output's order.
  std::vector<int64_t> in_strides(rank, 1);
  for (size_t i = rank; i-- > 1;) in_strides[i - 1] = in_strides[i] * in_shape[i];
  const auto& out_shape = out.shape();
  std::vector<int64_t> index(rank, 0);
  const auto* src = static_cast<const std::byte*>(t.raw());
  auto* dst = static_cast<std::byte*>(out.raw());
  const int64_t count = t.numel();
  for (int64_t k = 0; k < count; ++k) {
    int64_t offset = 0;
    for (size_t i = 0; i < rank; ++i) offset += index[i] * in_strides[static_cast<size_t>(perm[i])];
    std::memcpy(dst + static_cast<size_t>(k) * element, src + static_cast<size_t>(offset) * element, element);
    for (size_t i = rank; i-- > 0;) {
      if (++index[i] < out_shape[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

bool sameElementOrder(const std::vector<int64_t>& shape, const Perm& perm) {
  int last = -1;
  for (int axis : perm) {
    if (shape.at(static_cast<size_t>(axis)) == 1) continue;
    if (axis < last) return false;
    last = axis;
  }
  return true;
}

int tfliteAxis(const Perm& perm, int64_t axis) {
  const auto it = std::find(perm.begin(), perm.end(), static_cast<int>(axis));
  if (it == perm.end()) throw Error("TFLite export: axis " + std::to_string(axis) + " out of range");
  return static_cast<int>(it - perm.begin());
}

tfl::TensorType tfliteType(DataType type) {
  switch (type) {
    case DataType::Float32:
      return tfl::TensorType::FLOAT32;
    case DataType::Float16:
      return tfl::TensorType::FLOAT16;
    case DataType::Int32:
      return tfl::TensorType::INT32;
    case DataType::Int64:
      return tfl::TensorType::INT64;
    case DataType::Int8:
      return tfl::TensorType::INT8;
    case DataType::UInt8:
      return tfl::TensorType::UINT8;
    case DataType::Int16:
      return tfl::TensorType::INT16;
    case DataType::Bool:
      return tfl::TensorType::BOOL;
    default:
      throw Error("TFLite export: element type " + dataTypeName(type) + " has no TFLite equivalent");
  }
}

namespace {

std::vector<int32_t> toInt32(const std::vector<int64_t>& dims) {
  std::vector<int32_t> out;
  out.reserve(dims.size());
  for (int64_t d : dims) {
    if (d < 0 || d > std::numeric_limits<int32_t>::max())
      throw Error("TFLite export: dimension " + std::to_string(d) + " does not fit a TFLite shape");
    out.push_back(static_cast<int32_t>(d));
  }
  return out;
}

std::vector<uint8_t> bytesOf(const Tensor& t) {
  const auto* p = static_cast<const uint8_t*>(t.raw());
  return {p, p + t.byteSize()};
}

// Concrete sizes for every input: what the caller gave, else the defaults (a symbolic batch is 1).
Model withStaticShapes(const Model& model, const TfliteExportOptions& options) {
  const InputShapes shapes = resolveInputShapes(model, options.input_shapes);
  return withConcreteInputs(model, shapes);
}

const std::map<std::string, OpConverter>& converterTable() {
  static const std::map<std::string, OpConverter> table = [] {
    std::map<std::string, OpConverter> t;
    addNnConverters(t);
    addTensorConverters(t);
    return t;
  }();
  return table;
}

}  // namespace

TfliteConverter::TfliteConverter(const Model& model, const TfliteExportOptions& options)
    : source_(model), model_(withStaticShapes(model, options)), options_(options) {}

void TfliteConverter::collectConstants() {
  for (const auto& init : model_.graph().initializer()) constants_[init.name()] = tensorFromProto(init);
  for (const auto& node : model_.graph().node()) {
    if (node.op_type() != "Constant" || !(node.domain().empty() || node.domain() == "ai.onnx")) continue;
    for (const auto& a : node.attribute())
      if (a.name() == "value" && a.has_t()) constants_[node.output(0)] = tensorFromProto(a.t());
    if (!constants_.count(node.output(0)))
      unsupported(node, "only Constant nodes with a tensor 'value' are supported");
  }
}

const Tensor& TfliteConverter::constant(const onnx::NodeProto& node, const std::string& name) const {
  const auto it = constants_.find(name);
  if (it == constants_.end()) unsupported(node, "input '" + name + "' must be a constant (an initializer)");
  return it->second;
}

std::vector<int64_t> TfliteConverter::shape(const std::string& name) const {
  if (const auto it = constants_.find(name); it != constants_.end()) return it->second.shape();
  const auto info = model_.valueInfo(name);
  if (!info || !info->has_shape)
    throw Error("TFLite export: tensor '" + name + "' has no inferred shape (TFLite needs static shapes)");
  for (int64_t d : info->shape)
    if (d < 0)
      throw Error("TFLite export: tensor '" + name + "' has shape " + shapeToString(info->shape) +
                  " with an unknown dimension (TFLite needs static shapes; give the input sizes)");
  return info->shape;
}

DataType TfliteConverter::type(const std::string& name) const {
  if (const auto it = constants_.find(name); it != constants_.end()) return it->second.type();
  const auto info = model_.valueInfo(name);
  if (!info) throw Error("TFLite export: tensor '" + name + "' has no known type");
  return info->type;
}

Perm TfliteConverter::layoutOf(const std::string& name) const {
  if (const auto it = values_.find(name); it != values_.end()) return it->second.perm;
  return identityPerm(shape(name).size());
}

int32_t TfliteConverter::input(const std::string& name, const Perm& perm) {
  if (flatten_orders_.count(name))
    throw Error("TFLite export: tensor '" + name + "' is flattened in NHWC order and may only feed a Gemm");
  if (const auto it = layout_copies_.find({name, perm}); it != layout_copies_.end()) return it->second;
  if (const auto c = constants_.find(name); c != constants_.end()) {
    const int32_t index =
        constantTensor(isIdentity(perm) ? name : name + "_nhwc", permuteTensor(c->second, perm));
    layout_copies_[{name, perm}] = index;
    return index;
  }
  const auto v = values_.find(name);
  if (v == values_.end()) throw Error("TFLite export: tensor '" + name + "' is used before it is computed");
  if (v->second.perm == perm) return v->second.tensor;
  // A Transpose from the layout the value has to the one asked for: output dimension i is input dimension
  // t[i], the position of ONNX axis perm[i] in the value's layout.
  std::vector<int32_t> t;
  for (int axis : perm) t.push_back(tfliteAxis(v->second.perm, axis));
  const auto onnx_shape = shape(name);
  const std::string suffix = isIdentity(perm) ? "_onnx_layout" : "_nhwc";
  const int32_t out =
      builder_.addTensor(name + suffix, tfliteType(type(name)), toInt32(permuteShape(onnx_shape, perm)));
  const int32_t perm_tensor = int32Constant(name + suffix + "/perm", t);
  builder_.addOperator(tfl::BuiltinOperator::TRANSPOSE, {v->second.tensor, perm_tensor}, {out},
                       {tfl::BuiltinOptions::TransposeOptions, [](flatbuffers::FlatBufferBuilder& b) {
                          return tfl::CreateTransposeOptions(b).Union();
                        }});
  layout_copies_[{name, perm}] = out;
  return out;
}

int32_t TfliteConverter::output(const onnx::NodeProto& node, int index, const Perm& perm) {
  const std::string& name = node.output(index);
  const int32_t t =
      builder_.addTensor(name, tfliteType(type(name)), toInt32(permuteShape(shape(name), perm)));
  values_[name] = {t, perm};
  return t;
}

std::pair<std::optional<float>, std::optional<float>> clipBounds(TfliteConverter& c,
                                                                 const onnx::NodeProto& node) {
  std::optional<float> lo, hi;
  if (c.model().opsetVersion() < 11) {
    lo = attrFloat(node, "min", -std::numeric_limits<float>::infinity());
    hi = attrFloat(node, "max", std::numeric_limits<float>::infinity());
  } else {
    for (int i : {1, 2}) {
      if (node.input_size() <= i || node.input(i).empty()) continue;
      const Tensor& t = c.constant(node, node.input(i));
      if (t.type() != DataType::Float32 || t.numel() != 1)
        c.unsupported(node, "min/max must be float32 scalars");
      (i == 1 ? lo : hi) = t.values<float>()[0];
    }
  }
  if (lo && std::isinf(*lo)) lo.reset();
  if (hi && std::isinf(*hi)) hi.reset();
  return {lo, hi};
}

int32_t TfliteConverter::outputFusingActivation(const onnx::NodeProto& node, const Perm& perm,
                                                tfl::ActivationFunctionType& activation) {
  activation = tfl::ActivationFunctionType::NONE;
  const std::string& y = node.output(0);
  const auto& readers = model_.consumers(y);
  if (readers.size() != 1 || model_.isGraphOutput(y)) return output(node, 0, perm);
  const auto& next = model_.graph().node(readers[0]);
  if (next.op_type() == "Relu") {
    activation = tfl::ActivationFunctionType::RELU;
  } else if (next.op_type() == "Clip" && next.input(0) == y) {
    const auto [lo, hi] = clipBounds(*this, next);
    if (lo && *lo == 0.0f && !hi) activation = tfl::ActivationFunctionType::RELU;
    if (lo && *lo == 0.0f && hi && *hi == 6.0f) activation = tfl::ActivationFunctionType::RELU6;
  }
  if (activation == tfl::ActivationFunctionType::NONE) return output(node, 0, perm);
  fused_.insert(&next);
  return output(next, 0, perm);
}

void TfliteConverter::defineValue(const std::string& name, int32_t tensor, const Perm& perm) {
  values_[name] = {tensor, perm};
}

void TfliteConverter::defineConstant(const std::string& name, Tensor value) {
  constants_[name] = std::move(value);
}

int32_t TfliteConverter::flattenedInput(const std::string& name) const {
  return values_.at(name).tensor;
}

int32_t TfliteConverter::constantTensor(const std::string& name, const Tensor& value) {
  return builder_.addConstant(name, tfliteType(value.type()), toInt32(value.shape()), bytesOf(value));
}

int32_t TfliteConverter::int32Constant(const std::string& name, const std::vector<int32_t>& values,
                                       std::vector<int32_t> shape) {
  if (shape.empty()) shape = {static_cast<int32_t>(values.size())};
  const auto* p = reinterpret_cast<const uint8_t*>(values.data());
  return builder_.addConstant(name, tfl::TensorType::INT32, std::move(shape),
                              std::vector<uint8_t>(p, p + values.size() * sizeof(int32_t)));
}

int32_t TfliteConverter::scratchTensor(const std::string& name, DataType type,
                                       const std::vector<int64_t>& tflite_shape) {
  return builder_.addTensor(name, tfliteType(type), toInt32(tflite_shape));
}

const std::vector<int64_t>* TfliteConverter::flattenOrder(const std::string& name) const {
  const auto it = flatten_orders_.find(name);
  return it == flatten_orders_.end() ? nullptr : &it->second;
}

void TfliteConverter::setFlattenOrder(const std::string& name, std::vector<int64_t> onnx_index) {
  flatten_orders_[name] = std::move(onnx_index);
}

void TfliteConverter::unsupported(const onnx::NodeProto& node, const std::string& why) const {
  throw Error(source_.origin() + ": " + describeNode(node) + ": cannot export to TFLite: " + why);
}

void TfliteConverter::addGraphInputs() {
  for (const auto& in : model_.inputs()) {
    const auto dims = shape(in.name);
    // Image inputs may be fed NHWC directly; everything else keeps the ONNX layout.
    const Perm perm = options_.nhwc_input && dims.size() == 4 ? nhwcPerm(4) : identityPerm(dims.size());
    const int32_t t = builder_.addTensor(in.name, tfliteType(in.type), toInt32(permuteShape(dims, perm)));
    values_[in.name] = {t, perm};
    builder_.addGraphInput(t);
  }
}

void TfliteConverter::addGraphOutputs() {
  for (const auto& out : model_.outputs()) {
    const auto v = values_.find(out.name);
    if (v == values_.end())
      throw Error("TFLite export: graph output '" + out.name + "' is not computed by a node");
    const int32_t t = input(out.name, identityPerm(v->second.perm.size()));
    if (t != v->second.tensor) {
      // The transposed copy is what the caller reads: it carries the ONNX name.
      builder_.tensor(v->second.tensor).name = out.name + "_nhwc";
      builder_.tensor(t).name = out.name;
    }
    builder_.addGraphOutput(t);
  }
}

std::string TfliteConverter::run(TfliteExportReport* report) {
  collectConstants();
  addGraphInputs();
  const auto& table = converterTable();
  const auto& nodes = model_.graph().node();
  for (int i : model_.topologicalOrder()) {
    const auto& node = nodes[i];
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      unsupported(node, "operators of domain '" + node.domain() + "' are not supported");
    if (node.op_type() == "Constant" || fused_.count(&node)) continue;  // read as constants / already fused
    const auto it = table.find(node.op_type());
    if (it == table.end()) unsupported(node, "the op " + node.op_type() + " is not supported");
    it->second(*this, node);
  }
  addGraphOutputs();
  if (report) {
    report->operators = builder_.operatorCount();
    report->transposes = builder_.operatorCount(tfl::BuiltinOperator::TRANSPOSE);
    for (const auto& in : model_.inputs()) {
      report->inputs.push_back(in.name);
      const auto& t = builder_.tensor(values_.at(in.name).tensor);
      report->input_shapes[in.name] = std::vector<int64_t>(t.shape.begin(), t.shape.end());
    }
    for (const auto& out : model_.outputs()) report->outputs.push_back(out.name);
  }
  return builder_.finish("EdgeTune export of " + source_.origin());
}

}  // namespace edgetune::tflite_export
