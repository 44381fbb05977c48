// What the opset conversion knows about ops and types after opset 17, and the small node and scope helpers
// its steps share.
#include "core/ir/opset_convert_internal.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "core/ir/model.h"

namespace edgetune::opset_internal {

// The values of an INT64 or INT32 constant (the caller checked the type).
std::vector<int64_t> integerValues(const onnx::TensorProto& proto) {
  const Tensor v = tensorFromProto(proto);
  std::vector<int64_t> out;
  if (v.type() == DataType::Int64)
    for (auto x : v.values<int64_t>()) out.push_back(x);
  else
    for (auto x : v.values<int32_t>()) out.push_back(x);
  return out;
}

// Ops with a new default-domain version after 17, and those versions (from ONNX's operator_sets.h, 18..23).
// An op missing here did not change after 17, so its opset-17 schema is the one the model was written
// against.
const std::map<std::string, std::vector<int>>& versionsAfter17() {
  static const std::map<std::string, std::vector<int>> table = [] {
    std::map<std::string, std::vector<int>> t;
    // One space-separated list per opset, as in operator_sets.h.
    auto add = [&](int version, const std::string& ops) {
      size_t pos = 0;
      while (pos < ops.size()) {
        size_t next = ops.find(' ', pos);
        if (next == std::string::npos) next = ops.size();
        if (next > pos) t[ops.substr(pos, next - pos)].push_back(version);
        pos = next + 1;
      }
    };
    add(18,
        "Pad CenterCropPad Resize Mish OptionalGetElement OptionalHasElement Split Col2Im ScatterND "
        "ScatterElements ReduceSumSquare ReduceLogSum ReduceLogSumExp ReduceL1 ReduceL2 ReduceMax ReduceMin "
        "ReduceMean ReduceProd BitwiseAnd BitwiseOr BitwiseXor BitwiseNot GroupNormalization LpPool");
    add(19,
        "Equal AveragePool Cast CastLike Constant DeformConv DequantizeLinear Identity If Loop Pad "
        "QuantizeLinear Resize Reshape Scan Shape Size");
    add(20,
        "AffineGrid ConstantOfShape DFT Gelu GridSample ImageDecoder IsInf IsNaN ReduceMax ReduceMin "
        "RegexFullMatch StringConcat StringSplit");
    add(21,
        "Cast CastLike Constant ConstantOfShape DequantizeLinear Flatten GroupNormalization Identity If Loop "
        "Pad QLinearMatMul QuantizeLinear Reshape Scan Shape Size Squeeze Transpose Unsqueeze");
    add(22,
        "EyeLike RandomUniform RandomNormal RandomUniformLike RandomNormalLike Multinomial Bernoulli "
        "ThresholdedRelu Selu Elu Mish HardSigmoid HardSwish Softsign Softplus Sin Cos Tan Asin Acos Atan "
        "Sinh Cosh Asinh Acosh Atanh Round Det NegativeLogLikelihoodLoss AveragePool MaxPool MaxUnpool "
        "LpPool "
        "MaxRoiPool Conv ConvTranspose DeformConv GlobalAveragePool GlobalMaxPool GlobalLpPool "
        "InstanceNormalization LpNormalization Dropout RoiAlign RNN GRU LSTM GridSample");
    add(23,
        "Cast CastLike Constant ConstantOfShape DequantizeLinear Flatten Identity If Loop Pad QuantizeLinear "
        "Reshape Scan Shape Size Squeeze Transpose Unsqueeze Attention RMSNormalization RotaryEmbedding");
    return t;
  }();
  return table;
}

/// The version of `op` a node binds to at `opset`, if it is newer than 17; 0 when the op did not change.
int changedVersion(const std::string& op, int opset) {
  const auto& table = versionsAfter17();
  auto it = table.find(op);
  if (it == table.end()) return 0;
  int best = 0;
  for (int v : it->second)
    if (v <= opset) best = std::max(best, v);
  return best;
}

bool isDefaultDomain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx";
}

// Tensor element types ONNX 1.12 does not have (codes > BFLOAT16), by their newer-ONNX names.
std::string newTypeName(int code) {
  switch (code) {
    case 17:
      return "float8e4m3fn";
    case 18:
      return "float8e4m3fnuz";
    case 19:
      return "float8e5m2";
    case 20:
      return "float8e5m2fnuz";
    case 21:
      return "uint4";
    case 22:
      return "int4";
    case 23:
      return "float4e2m1";
    case 24:
      return "float8e8m0";
    default:
      return "type code " + std::to_string(code);
  }
}

const AttributeProto* findAttr(const NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
void removeAttr(NodeProto& node, const std::string& name) {
  auto* attrs = node.mutable_attribute();
  for (int i = 0; i < attrs->size(); ++i)
    if (attrs->Get(i).name() == name) {
      attrs->DeleteSubrange(i, 1);
      return;
    }
}
void setIntsAttr(NodeProto& node, const std::string& name, const std::vector<int64_t>& values) {
  removeAttr(node, name);
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(AttributeProto::INTS);
  for (auto v : values) a->add_ints(v);
}
bool hasInput(const NodeProto& node, int i) {
  return node.input_size() > i && !node.input(i).empty();
}
// Drops trailing empty (omitted optional) inputs so the node matches a schema with fewer inputs.
void trimInputs(NodeProto& node) {
  while (node.input_size() > 0 && node.input(node.input_size() - 1).empty())
    node.mutable_input()->RemoveLast();
}
std::string joinInts(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

// Float constant for a decomposition, stored in the element type of the tensor it combines with.
TensorProto scalarConstant(const std::string& name, float value, int elem_type) {
  TensorProto t;
  t.set_name(name);
  t.set_data_type(elem_type);
  if (elem_type == TensorProto::DOUBLE) {
    double d = value;
    t.set_raw_data(std::string(reinterpret_cast<const char*>(&d), sizeof d));
  } else if (elem_type == TensorProto::FLOAT16 || elem_type == TensorProto::BFLOAT16) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    uint16_t half;
    if (elem_type == TensorProto::BFLOAT16) {
      half = static_cast<uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);  // round to nearest even
    } else {
      // The constants used here (0.5, 1, sqrt 2, ...) are normal half values: rebias the exponent, round.
      const uint32_t sign = (bits >> 16) & 0x8000;
      const int exponent = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
      uint32_t mantissa = bits & 0x7fffff;
      uint32_t h = sign | (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
      if ((mantissa & 0x1fff) > 0x1000 || ((mantissa & 0x1fff) == 0x1000 && (h & 1))) ++h;
      half = static_cast<uint16_t>(h);
    }
    t.set_raw_data(std::string(reinterpret_cast<const char*>(&half), sizeof half));
  } else {
    t.set_raw_data(std::string(reinterpret_cast<const char*>(&value), sizeof value));
  }
  return t;
}

NodeProto makeNode(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                   std::vector<std::string> outputs) {
  NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (auto& i : inputs) n.add_input(i);
  for (auto& o : outputs) n.add_output(o);
  return n;
}

void collectConstants(Scope& scope, const GraphProto& g) {
  std::set<std::string> graph_inputs;
  for (const auto& in : g.input()) graph_inputs.insert(in.name());
  // An initializer that is also a graph input is only a default the caller may override: not a constant.
  for (const auto& init : g.initializer())
    if (!graph_inputs.count(init.name())) scope.initializers[init.name()] = &init;
  for (const auto& n : g.node()) {
    if (n.op_type() != "Constant" || !isDefaultDomain(n.domain()) || n.output_size() != 1) continue;
    if (const auto* a = findAttr(n, "value_ints")) {
      scope.constant_ints[n.output(0)] = {a->ints().begin(), a->ints().end()};
    } else if (const auto* a = findAttr(n, "value_int")) {
      scope.constant_ints[n.output(0)] = {a->i()};
    } else if (const auto* a = findAttr(n, "value"); a && a->has_t()) {
      const auto& t = a->t();
      if (t.data_type() != TensorProto::INT64 && t.data_type() != TensorProto::INT32) continue;
      scope.constant_ints[n.output(0)] = integerValues(t);
    }
  }
}

void collectTypes(Scope& scope, const GraphProto& g) {
  for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
    for (const auto& vi : *list)
      if (vi.has_type()) scope.types[vi.name()] = &vi.type();
  for (const auto& init : g.initializer()) {
    onnx::TypeProto t;
    t.mutable_tensor_type()->set_elem_type(init.data_type());
    auto* shape = t.mutable_tensor_type()->mutable_shape();
    for (auto d : init.dims()) shape->add_dim()->set_dim_value(d);
    scope.initializer_types[init.name()] = std::move(t);
  }
}

}  // namespace edgetune::opset_internal
