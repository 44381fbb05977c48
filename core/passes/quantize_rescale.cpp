// foldScalarMulsIntoScales: in a Q/DQ model, Mul(DQ(q, s, z), c) for a positive scalar constant c is the
// same integers q read with scale c * s. Its readers' DequantizeLinear nodes take q and that scale, and the
// Mul and its QuantizeLinear go: one integer kernel fewer per occurrence (MobileNetV3's HardSigmoid, written
// as Mul by 1/6 + Add 1/2, spends a QLinearMul over the whole activation on it), and no rounding at all
// where requantizing at the calibrated scale would round.
#include <cmath>

#include "core/passes/graph_edit.h"
#include "core/passes/quantize_passes.h"

namespace edgetune {
namespace {

// A one-element constant initializer of a quantized scalar (float scale, uint8 / int8 value or zero point).
std::optional<float> scalarValue(const Model& model, const std::string& name) {
  if (name.empty() || !isConstantInitializer(model, name)) return std::nullopt;
  const Tensor t = tensorFromProto(*model.initializer(name));
  if (t.numel() != 1) return std::nullopt;
  switch (t.type()) {
    case DataType::Float32:
      return t.values<float>()[0];
    case DataType::UInt8:
      return static_cast<float>(t.values<uint8_t>()[0]);
    case DataType::Int8:
      return static_cast<float>(t.values<int8_t>()[0]);
    default:
      return std::nullopt;
  }
}

// Element type of a Q/DQ node's zero point: uint8 when it is absent (the operator's default), -1 when it is
// not an initializer.
int zeroPointType(const Model& model, const onnx::NodeProto& node) {
  if (node.input_size() < 3 || node.input(2).empty()) return onnx::TensorProto::UINT8;
  const auto* z = model.initializer(node.input(2));
  return z ? z->data_type() : -1;
}

// The value of a scalar constant operand: a float initializer, or a DequantizeLinear of scalar initializers.
std::optional<float> constantOperand(const Model& model, const std::string& name) {
  if (auto v = floatScalarConstant(model, name)) return v;
  const int p = model.producer(name);
  if (p < 0 || model.graph().node(p).op_type() != "DequantizeLinear") return std::nullopt;
  const auto& dq = model.graph().node(p);
  auto q = scalarValue(model, dq.input(0));
  auto s = dq.input_size() > 1 ? scalarValue(model, dq.input(1)) : std::nullopt;
  auto z =
      dq.input_size() > 2 && !dq.input(2).empty() ? scalarValue(model, dq.input(2)) : std::optional<float>(0);
  if (!q || !s || !z) return std::nullopt;
  return *s * (*q - *z);
}

// One Mul folded into its readers' scales; false when `mul` is not such a Mul.
bool foldOne(Model& model, int mul_index, std::vector<bool>& remove) {
  const auto& g = model.graph();
  const onnx::NodeProto& mul = g.node(mul_index);
  if (!isDefaultDomain(mul) || mul.op_type() != "Mul" || mul.input_size() != 2) return false;
  for (int k = 0; k < 2; ++k) {
    const int dq_index = model.producer(mul.input(k));
    if (dq_index < 0 || g.node(dq_index).op_type() != "DequantizeLinear") continue;
    const onnx::NodeProto& dq = g.node(dq_index);
    if (model.isInitializer(dq.input(0))) continue;  // a quantized constant, not an activation
    auto s_x = dq.input_size() > 1 ? scalarValue(model, dq.input(1)) : std::nullopt;
    auto c = constantOperand(model, mul.input(1 - k));
    if (!s_x || !c || !(*c > 0) || !std::isfinite(*c * *s_x) || *c * *s_x <= 0) continue;
    const std::string& y = mul.output(0);
    if (model.isGraphOutput(y) || model.consumers(y).size() != 1) return false;
    const int q_index = model.consumers(y)[0];
    const onnx::NodeProto& q = g.node(q_index);
    if (q.op_type() != "QuantizeLinear" || remove[q_index] ||
        zeroPointType(model, q) != zeroPointType(model, dq))
      return false;
    const std::string& q_y = q.output(0);
    if (model.isGraphOutput(q_y) || model.consumers(q_y).empty()) return false;
    for (int r : model.consumers(q_y))
      if (g.node(r).op_type() != "DequantizeLinear" || remove[r]) return false;

    const std::string scale = uniqueName(model, dq.input(0) + ".rescaled");
    *model.graph().add_initializer() =
        tensorToProto(scale, Tensor::from<float>({}, std::vector<float>{*c * *s_x}));
    const std::string q_x = dq.input(0);
    const std::string z_x = dq.input_size() > 2 ? dq.input(2) : std::string();
    for (int r : std::vector<int>(model.consumers(q_y))) {
      onnx::NodeProto* reader = model.graph().mutable_node(r);
      reader->set_input(0, q_x);
      reader->set_input(1, scale);
      if (z_x.empty()) {
        while (reader->input_size() > 2) reader->mutable_input()->RemoveLast();
      } else if (reader->input_size() > 2) {
        reader->set_input(2, z_x);
      } else {
        reader->add_input(z_x);
      }
    }
    remove[mul_index] = remove[q_index] = true;
    return true;
  }
  return false;
}

}  // namespace

int foldScalarMulsIntoScales(Model& model) {
  int folded = 0;
  // A folded Mul can expose another (Mul by a constant of a Mul by a constant): repeat until none is left.
  for (bool changed = true; changed;) {
    changed = false;
    model.reindex();
    std::vector<bool> remove(model.graph().node_size(), false);
    int round = 0;
    for (int i = 0; i < model.graph().node_size(); ++i) {
      if (remove[i]) continue;
      if (foldOne(model, i, remove)) {
        ++round;
        model.reindex();
      }
    }
    if (round) {
      removeNodes(model, remove);
      folded += round;
      changed = true;
    }
  }
  if (folded) finishGraphEdit(model, "quantize");
  return folded;
}

}  // namespace edgetune
