// Runs before the opset converter, ONNX's checker and shape inference: ONNX 1.12 trusts dims, data sizes
// and conv attributes, so a Conv with strides 0 dies of SIGFPE inside shape inference, dims multiplying past
// 2^63 wrap to a small count that passes every later size check, and a 150-byte file may declare 4 GB.
// Everything here is a pure function of the proto: no data is copied, no tensor allocated.
#include "core/ir/model_validation.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "core/ir/model.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "core/util/utf8.h"

namespace edgetune {

namespace {

// Where an element's values go when a tensor does not use raw_data (onnx.proto, TensorProto).
enum class TypedField { Float, Double, Int32, Int64, UInt64, String };

struct ElementType {
  const char* name;
  int bits;                // per element in raw_data; 0 for STRING
  TypedField field;        // the typed field that holds the values otherwise
  int values_per_element;  // in that field: 2 for the complex types (real, imaginary)
};

// Every TensorProto.DataType ONNX defines up to float8e8m0 (24). Types newer than ONNX 1.12 (17..24) are
// checked for size here and refused later by the opset conversion, which names the node that uses them.
std::optional<ElementType> elementType(int code) {
  using F = TypedField;
  switch (code) {
    case onnx::TensorProto::FLOAT:
      return ElementType{"float", 32, F::Float, 1};
    case onnx::TensorProto::UINT8:
      return ElementType{"uint8", 8, F::Int32, 1};
    case onnx::TensorProto::INT8:
      return ElementType{"int8", 8, F::Int32, 1};
    case onnx::TensorProto::UINT16:
      return ElementType{"uint16", 16, F::Int32, 1};
    case onnx::TensorProto::INT16:
      return ElementType{"int16", 16, F::Int32, 1};
    case onnx::TensorProto::INT32:
      return ElementType{"int32", 32, F::Int32, 1};
    case onnx::TensorProto::INT64:
      return ElementType{"int64", 64, F::Int64, 1};
    case onnx::TensorProto::STRING:
      return ElementType{"string", 0, F::String, 1};
    case onnx::TensorProto::BOOL:
      return ElementType{"bool", 8, F::Int32, 1};
    case onnx::TensorProto::FLOAT16:
      return ElementType{"float16", 16, F::Int32, 1};
    case onnx::TensorProto::DOUBLE:
      return ElementType{"double", 64, F::Double, 1};
    case onnx::TensorProto::UINT32:
      return ElementType{"uint32", 32, F::UInt64, 1};
    case onnx::TensorProto::UINT64:
      return ElementType{"uint64", 64, F::UInt64, 1};
    case onnx::TensorProto::COMPLEX64:
      return ElementType{"complex64", 64, F::Float, 2};
    case onnx::TensorProto::COMPLEX128:
      return ElementType{"complex128", 128, F::Double, 2};
    case onnx::TensorProto::BFLOAT16:
      return ElementType{"bfloat16", 16, F::Int32, 1};
    case 17:
      return ElementType{"float8e4m3fn", 8, F::Int32, 1};
    case 18:
      return ElementType{"float8e4m3fnuz", 8, F::Int32, 1};
    case 19:
      return ElementType{"float8e5m2", 8, F::Int32, 1};
    case 20:
      return ElementType{"float8e5m2fnuz", 8, F::Int32, 1};
    case 21:
      return ElementType{"uint4", 4, F::Int32, 1};
    case 22:
      return ElementType{"int4", 4, F::Int32, 1};
    case 23:
      return ElementType{"float4e2m1", 4, F::Int32, 1};
    case 24:
      return ElementType{"float8e8m0", 8, F::Int32, 1};
    default:
      return std::nullopt;
  }
}

const char* fieldName(TypedField field) {
  switch (field) {
    case TypedField::Float:
      return "float_data";
    case TypedField::Double:
      return "double_data";
    case TypedField::Int32:
      return "int32_data";
    case TypedField::Int64:
      return "int64_data";
    case TypedField::UInt64:
      return "uint64_data";
    case TypedField::String:
      return "string_data";
  }
  return "?";
}

// "[2, 3]"; a hostile tensor may have thousands of dims, so a message shows the first few.
std::string dimsText(std::span<const int64_t> dims) {
  constexpr size_t kShown = 8;
  std::string s = "[";
  for (size_t i = 0; i < dims.size() && i < kShown; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  if (dims.size() > kShown) s += ", ... (" + std::to_string(dims.size()) + " dims)";
  return s + "]";
}

std::span<const int64_t> dimsOf(const google::protobuf::RepeatedField<int64_t>& dims) {
  return {dims.data(), static_cast<size_t>(dims.size())};
}

// Bytes `count` elements of `type` occupy in raw_data; 4-bit types pack two per byte.
std::optional<int64_t> rawBytes(const ElementType& type, int64_t count) {
  if (type.bits == 4) return count / 2 + count % 2;
  int64_t bytes = 0;
  if (__builtin_mul_overflow(count, int64_t{type.bits / 8}, &bytes)) return std::nullopt;
  return bytes;
}

// Values the typed field must hold for `count` elements; 4-bit types pack two per int32.
std::optional<int64_t> typedValues(const ElementType& type, int64_t count) {
  if (type.bits == 4) return count / 2 + count % 2;
  int64_t values = 0;
  if (__builtin_mul_overflow(count, int64_t{type.values_per_element}, &values)) return std::nullopt;
  return values;
}

struct TypedData {
  int64_t values = 0;
  int64_t bytes = 0;  // what they occupy in memory
};

TypedData typedData(const onnx::TensorProto& t, TypedField field) {
  switch (field) {
    case TypedField::Float:
      return {t.float_data_size(), int64_t{t.float_data_size()} * 4};
    case TypedField::Double:
      return {t.double_data_size(), int64_t{t.double_data_size()} * 8};
    case TypedField::Int32:
      return {t.int32_data_size(), int64_t{t.int32_data_size()} * 4};
    case TypedField::Int64:
      return {t.int64_data_size(), int64_t{t.int64_data_size()} * 8};
    case TypedField::UInt64:
      return {t.uint64_data_size(), int64_t{t.uint64_data_size()} * 8};
    case TypedField::String: {
      int64_t bytes = 0;
      for (const auto& s : t.string_data()) bytes += static_cast<int64_t>(s.size());
      return {t.string_data_size(), bytes};
    }
  }
  return {};
}

bool isDefaultDomain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx";
}

// Names visible in one graph: its constant tensors (initializers, Constant outputs) and declared inputs.
// Subgraphs (If/Loop/Scan bodies) also see their parents' names.
struct Scope {
  const Scope* parent = nullptr;
  std::unordered_map<std::string, const onnx::TensorProto*> constants;
  std::unordered_map<std::string, const onnx::ValueInfoProto*> inputs;

  const onnx::TensorProto* constant(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent) {
      if (auto it = s->constants.find(name); it != s->constants.end()) return it->second;
      if (s->inputs.count(name)) return nullptr;  // an input shadows outer constants of the same name
    }
    return nullptr;
  }
  const onnx::ValueInfoProto* input(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent)
      if (auto it = s->inputs.find(name); it != s->inputs.end()) return it->second;
    return nullptr;
  }
};

class Validator {
 public:
  explicit Validator(const std::string& origin) : origin_(origin) {}

  void graph(const onnx::GraphProto& g, const std::string& where, const Scope* parent) {
    names(g, where);
    Scope scope;
    scope.parent = parent;
    for (const auto& in : g.input()) scope.inputs[in.name()] = &in;
    for (const auto& init : g.initializer()) {
      tensor(init, where + "initializer '" + init.name() + "'");
      scope.inputs.erase(init.name());  // an input with a default (IR < 4): the initializer is its value
      scope.constants[init.name()] = &init;
    }
    for (const auto& sparse : g.sparse_initializer())
      sparseTensor(sparse, where + "sparse initializer '" + sparse.values().name() + "'");
    nodes(g.node(), where, scope);
  }

  void function(const onnx::FunctionProto& f) {
    utf8(f.name(), "function name");
    utf8(f.domain(), "function '" + f.name() + "' domain");
    Scope scope;
    nodes(f.node(), "function '" + f.name() + "': ", scope);
  }

  // The global cap: a model may not make the tool allocate more than it carries. Dense tensors hold exactly
  // what they declare (checked one by one), so this catches sparse tensors, which ONNX Runtime densifies.
  void finish() const {
    if (declared_bytes_overflow_ || declared_bytes_ > held_bytes_)
      throw Error(
          origin_ + ": its tensors declare " +
          (declared_bytes_overflow_ ? std::string("more than 2^63 bytes") : formatBytes(declared_bytes_)) +
          " of data (sparse tensors at their dense size, as ONNX Runtime allocates them) but the model "
          "holds only " +
          formatBytes(held_bytes_));
  }

 private:
  [[noreturn]] void fail(const std::string& subject, const std::string& problem) const {
    throw Error(origin_ + ": " + subject + ": " + problem);
  }

  // Names end up in JSON reports, Qt labels and messages, which all need UTF-8; ONNX's proto2 strings are
  // not checked by protobuf, so a name may be any bytes.
  void utf8(const std::string& text, const std::string& subject) const {
    if (!isValidUtf8(text))
      throw Error(origin_ + ": " + escapeInvalidUtf8(subject) + " '" + escapeInvalidUtf8(text) +
                  "' is not valid UTF-8 (invalid bytes shown as \\xNN)");
  }

  void names(const onnx::GraphProto& g, const std::string& where) const {
    for (const auto& v : g.input()) utf8(v.name(), where + "graph input name");
    for (const auto& v : g.output()) utf8(v.name(), where + "graph output name");
    for (const auto& v : g.value_info()) utf8(v.name(), where + "value_info name");
    for (const auto& t : g.initializer()) utf8(t.name(), where + "initializer name");
    for (const auto& t : g.sparse_initializer()) utf8(t.values().name(), where + "sparse initializer name");
  }

  void nodeNames(const onnx::NodeProto& n, const std::string& where) const {
    utf8(n.op_type(), where + "node op type");
    utf8(n.name(), where + n.op_type() + " node name");
    utf8(n.domain(), where + n.op_type() + " node domain");
    const std::string node = where + describeNode(n);
    for (const auto& name : n.input()) utf8(name, node + " input name");
    for (const auto& name : n.output()) utf8(name, node + " output name");
    for (const auto& a : n.attribute()) utf8(a.name(), node + " attribute name");
  }

  void addDeclared(int64_t bytes) {
    if (__builtin_add_overflow(declared_bytes_, bytes, &declared_bytes_)) declared_bytes_overflow_ = true;
  }
  void addHeld(int64_t bytes) {
    // Held bytes are bounded by the file sizes read, far below 2^63; saturate rather than wrap anyway.
    if (__builtin_add_overflow(held_bytes_, bytes, &held_bytes_)) held_bytes_ = INT64_MAX;
  }

  void tensor(const onnx::TensorProto& t, const std::string& subject) {
    const TensorExtent extent = tensorExtent(t, origin_ + ": " + subject);
    const ElementType type = *elementType(t.data_type());  // tensorExtent refused unknown types
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
      fail(subject, "refers to external data, which is read only when the model is loaded from its file");
    const std::string dims = dimsText(dimsOf(t.dims()));
    if (t.has_raw_data()) {
      if (type.bits == 0) fail(subject, "is a string tensor with raw_data (strings go in string_data)");
      const auto held = static_cast<int64_t>(t.raw_data().size());
      if (held != extent.byte_size)
        fail(subject, "holds " + std::to_string(held) + " bytes of data, its dims " + dims + " of " +
                          type.name + " need " + std::to_string(extent.byte_size));
      addHeld(held);
    } else {
      const auto needed = typedValues(type, extent.element_count);
      const TypedData held = typedData(t, type.field);
      if (!needed || held.values != *needed)
        fail(subject, "holds " + std::to_string(held.values) + " values in " + fieldName(type.field) +
                          ", its dims " + dims + " of " + type.name + " need " +
                          (needed ? std::to_string(*needed) : std::string("more than 2^63")));
      addHeld(held.bytes);
    }
    addDeclared(extent.byte_size);
  }

  void sparseTensor(const onnx::SparseTensorProto& t, const std::string& subject) {
    tensor(t.values(), subject + " values");
    tensor(t.indices(), subject + " indices");
    const auto dims = dimsOf(t.dims());
    for (size_t i = 0; i < dims.size(); ++i)
      if (dims[i] < 0)
        fail(subject, "dimension " + std::to_string(i) + " is " + std::to_string(dims[i]) +
                          "; dimensions must be >= 0");
    const auto count = checkedElementCount(dims);
    const auto bytes = count ? rawBytes(*elementType(t.values().data_type()), *count) : std::nullopt;
    if (!bytes) fail(subject, "dims " + dimsText(dims) + " have more than 2^63 elements or bytes");
    addDeclared(*bytes);
  }

  void nodes(const google::protobuf::RepeatedPtrField<onnx::NodeProto>& list, const std::string& where,
             Scope& scope) {
    // Constant outputs first: a Conv may come before the Constant that feeds it in a file that is not
    // sorted (the checker refuses that later, but the checks here must not read past it).
    for (const auto& n : list)
      if (n.op_type() == "Constant" && isDefaultDomain(n.domain()) && n.output_size() == 1)
        for (const auto& a : n.attribute())
          if (a.name() == "value" && a.has_t()) scope.constants[n.output(0)] = &a.t();
    for (const auto& n : list) node(n, where, scope);
  }

  void node(const onnx::NodeProto& n, const std::string& where, const Scope& scope) {
    nodeNames(n, where);
    const std::string subject = where + describeNode(n);
    for (const auto& a : n.attribute()) {
      const std::string attr = subject + " attribute '" + a.name() + "'";
      if (a.has_t()) tensor(a.t(), attr);
      for (int i = 0; i < a.tensors_size(); ++i) tensor(a.tensors(i), attr + " tensor " + std::to_string(i));
      if (a.has_sparse_tensor()) sparseTensor(a.sparse_tensor(), attr);
      for (int i = 0; i < a.sparse_tensors_size(); ++i)
        sparseTensor(a.sparse_tensors(i), attr + " tensor " + std::to_string(i));
      if (a.has_g()) graph(a.g(), attr + ": ", &scope);
      for (int i = 0; i < a.graphs_size(); ++i)
        graph(a.graphs(i), attr + " graph " + std::to_string(i) + ": ", &scope);
    }
    if (isDefaultDomain(n.domain())) convPoolAttributes(n, subject, scope);
  }

  void convPoolAttributes(const onnx::NodeProto& n, const std::string& subject, const Scope& scope) {
    const std::string& op = n.op_type();
    const bool is_conv = op == "Conv" || op == "ConvTranspose" || op == "ConvInteger" || op == "QLinearConv";
    const bool is_pool = op == "MaxPool" || op == "AveragePool" || op == "LpPool";
    if (!is_conv && !is_pool) return;
    for (const auto& a : n.attribute()) {
      int64_t minimum = 1;
      if (a.name() == "pads" || a.name() == "output_padding")
        minimum = 0;
      else if (a.name() != "strides" && a.name() != "dilations" && a.name() != "kernel_shape")
        minimum = -1;  // not one of the sizes checked here
      if (minimum >= 0)
        for (const int64_t v : a.ints())
          if (v < minimum)
            fail(subject,
                 a.name() + " must be >= " + std::to_string(minimum) + " (got " + std::to_string(v) + ")");
    }
    if (!is_conv) return;
    const int64_t group = attrInt(n, "group", 1);
    if (group < 1) fail(subject, "group must be >= 1 (got " + std::to_string(group) + ")");
    convWeightAndBias(n, subject, scope, group);
  }

  void convWeightAndBias(const onnx::NodeProto& n, const std::string& subject, const Scope& scope,
                         int64_t group) {
    const bool quantized = n.op_type() == "QLinearConv";
    const int weight_input = quantized ? 3 : 1;
    const int bias_input = quantized ? 8 : n.op_type() == "ConvInteger" ? -1 : 2;
    if (n.input_size() <= weight_input || n.input(weight_input).empty()) return;
    const std::string& weight_name = n.input(weight_input);
    const onnx::TensorProto* weight = scope.constant(weight_name);
    const bool transpose = n.op_type() == "ConvTranspose";
    const char* layout = transpose ? "[in_channels, out_channels / group, kernel...]"
                                   : "[out_channels, in_channels / group, kernel...]";
    int rank = -1;
    if (weight)
      rank = weight->dims_size();
    else if (const auto* vi = scope.input(weight_name);
             vi && vi->type().has_tensor_type() && vi->type().tensor_type().has_shape())
      rank = vi->type().tensor_type().shape().dim_size();
    if (rank >= 0 && rank < 3)
      fail(subject, "weight '" + weight_name + "' has rank " + std::to_string(rank) + "; a weight is " +
                        layout + " (rank >= 3)");
    if (!weight) return;
    const auto dims = dimsOf(weight->dims());
    for (size_t i = 2; i < dims.size(); ++i)
      if (dims[i] < 1)
        fail(subject,
             "weight '" + weight_name + "' has dims " + dimsText(dims) + "; kernel dims must be >= 1");

    if (bias_input < 0 || n.input_size() <= bias_input || n.input(bias_input).empty()) return;
    const std::string& bias_name = n.input(bias_input);
    const onnx::TensorProto* bias = scope.constant(bias_name);
    if (!bias) return;
    int64_t out_channels = dims[0];
    if (transpose && __builtin_mul_overflow(dims[1], group, &out_channels))
      fail(subject, "weight '" + weight_name + "' dims " + dimsText(dims) + " times group " +
                        std::to_string(group) + " pass 2^63 output channels");
    const auto bias_dims = dimsOf(bias->dims());
    if (bias_dims.size() != 1 || bias_dims[0] != out_channels)
      fail(subject, "bias '" + bias_name + "' has dims " + dimsText(bias_dims) + ", the weight '" +
                        weight_name + "' " + dimsText(dims) + " has " + std::to_string(out_channels) +
                        " output channels (one bias value each)");
  }

  const std::string& origin_;
  int64_t declared_bytes_ = 0;
  bool declared_bytes_overflow_ = false;
  int64_t held_bytes_ = 0;
};

}  // namespace

std::optional<int64_t> checkedElementCount(std::span<const int64_t> dims) {
  int64_t count = 1;
  for (const int64_t d : dims)
    if (d < 0 || __builtin_mul_overflow(count, d, &count)) return std::nullopt;
  return count;
}

TensorExtent tensorExtent(const onnx::TensorProto& tensor, const std::string& what) {
  const int code = tensor.data_type();
  if (code == onnx::TensorProto::UNDEFINED) throw Error(what + ": has no data type (0, UNDEFINED)");
  const auto type = elementType(code);
  if (!type) throw Error(what + ": has unknown data type " + std::to_string(code));
  const auto dims = dimsOf(tensor.dims());
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] < 0)
      throw Error(what + ": dimension " + std::to_string(i) + " is " + std::to_string(dims[i]) +
                  "; dimensions must be >= 0");
  const auto count = checkedElementCount(dims);
  const auto bytes = count ? rawBytes(*type, *count) : std::nullopt;
  if (!bytes)
    throw Error(what + ": dims " + dimsText(dims) + " of " + type->name +
                " have more than 2^63 elements or bytes");
  return {*count, *bytes};
}

void validateModelProto(const onnx::ModelProto& model, const std::string& origin) {
  Validator validator(origin);
  validator.graph(model.graph(), "", nullptr);
  for (const auto& f : model.functions()) validator.function(f);
  validator.finish();
}

}  // namespace edgetune
