// FP16 conversion. ONNX Runtime's CPU provider inserts Casts around ops it has no float16 kernel for, so the
// converted model always runs; the gain on x86 is the smaller file (weights at 2 bytes).
#include "core/passes/fp16.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "core/passes/graph_edit.h"
#include "core/util/error.h"

namespace edgetune {

uint16_t floatToHalf(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);   // NaN
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow (or inf) -> inf
  if (abs < 0x38800000u) {
    // Subnormal half (or zero): shift the mantissa with the implicit bit, round to nearest even.
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t exponent = abs >> 23;
    const uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exponent;  // 14 - (exponent - 127) + 13 - 1 ... aligned to half subnormals
    uint32_t half = mantissa >> (shift);
    const uint32_t rest = mantissa & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = ((abs - 0x38000000u) >> 13);
  const uint32_t rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1))) ++half;
  return static_cast<uint16_t>(sign | half);
}

float halfToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? std::nanf("") : INFINITY;
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
  uint32_t out;
  std::memcpy(&out, &magnitude, 4);
  out |= sign;
  float result;
  std::memcpy(&result, &out, 4);
  return result;
}

namespace {

constexpr float kHalfMax = 65504.0f;

onnx::TensorProto toHalf(const onnx::TensorProto& src) {
  const Tensor t = tensorFromProto(src);
  onnx::TensorProto out;
  out.set_name(src.name());
  for (auto d : t.shape()) out.add_dims(d);
  out.set_data_type(onnx::TensorProto::FLOAT16);
  std::string raw(static_cast<size_t>(t.numel()) * 2, '\0');
  auto values = t.values<float>();
  for (size_t i = 0; i < values.size(); ++i) {
    const uint16_t h = floatToHalf(std::clamp(values[i], -kHalfMax, kHalfMax));
    std::memcpy(raw.data() + 2 * i, &h, 2);
  }
  out.set_raw_data(std::move(raw));
  return out;
}

// Inputs that ONNX requires to stay float32 whatever the data type (Resize's roi and scales).
bool mustStayFloat(const onnx::NodeProto& node, int slot) {
  return (node.op_type() == "Resize" && (slot == 1 || slot == 2)) ||
         (node.op_type() == "Upsample" && slot == 1);
}

onnx::NodeProto makeCast(const std::string& name, const std::string& in, const std::string& out, int to) {
  onnx::NodeProto n;
  n.set_op_type("Cast");
  n.set_name(name);
  n.add_input(in);
  n.add_output(out);
  auto* a = n.add_attribute();
  a->set_name("to");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(to);
  return n;
}

}  // namespace

PassReport convertToFp16(Model& model, const Fp16Options& options) {
  PassReport report;
  report.pass_name = "fp16";
  model.reindex();
  auto& g = model.graph();
  const std::set<std::string> excluded(options.exclude_ops.begin(), options.exclude_ops.end());
  std::vector<onnx::NodeProto> before, after;  // Casts for graph inputs (before) and everything else (after)

  // Initializers: convert unless some reader needs float32 (then that reader keeps the float copy).
  std::set<std::string> keep_float;
  for (const auto& n : g.node())
    for (int k = 0; k < n.input_size(); ++k)
      if (mustStayFloat(n, k) || excluded.count(n.op_type())) keep_float.insert(n.input(k));
  int converted = 0;
  for (auto& init : *g.mutable_initializer()) {
    if (init.data_type() != onnx::TensorProto::FLOAT || keep_float.count(init.name())) continue;
    init = toHalf(init);
    ++converted;
  }
  // Constant / ConstantOfShape values and Cast targets.
  for (auto& n : *g.mutable_node()) {
    if (excluded.count(n.op_type())) continue;
    for (auto& a : *n.mutable_attribute()) {
      if ((n.op_type() == "Constant" || n.op_type() == "ConstantOfShape") && a.name() == "value" &&
          a.t().data_type() == onnx::TensorProto::FLOAT)
        *a.mutable_t() = toHalf(a.t());
      if (n.op_type() == "Cast" && a.name() == "to" && a.i() == onnx::TensorProto::FLOAT)
        a.set_i(onnx::TensorProto::FLOAT16);
    }
  }
  // Excluded ops: Cast their float16 inputs up and their outputs back down.
  int cast_count = 0;
  for (auto& n : *g.mutable_node()) {
    if (!excluded.count(n.op_type())) continue;
    for (int k = 0; k < n.input_size(); ++k) {
      auto info = model.valueInfo(n.input(k));
      if (n.input(k).empty() || !info || info->type != DataType::Float32 || model.isInitializer(n.input(k)))
        continue;
      const std::string up = uniqueName(model, n.input(k) + "_fp32_" + std::to_string(cast_count));
      after.push_back(makeCast(up + "_Cast", n.input(k), up, onnx::TensorProto::FLOAT));
      n.set_input(k, up);
      ++cast_count;
    }
    for (int k = 0; k < n.output_size(); ++k) {
      auto info = model.valueInfo(n.output(k));
      if (!info || info->type != DataType::Float32) continue;
      const std::string orig = n.output(k), fp32 = uniqueName(model, orig + "_fp32");
      n.set_output(k, fp32);
      after.push_back(makeCast(fp32 + "_Cast", fp32, orig, onnx::TensorProto::FLOAT16));
      ++cast_count;
    }
  }
  // Graph inputs and outputs.
  for (auto& in : *g.mutable_input()) {
    if (in.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT || model.isInitializer(in.name()))
      continue;
    if (options.keep_io_types) {
      const std::string half = uniqueName(model, in.name() + "_fp16");
      replaceAllUses(model, in.name(), half);
      before.push_back(makeCast(half + "_Cast", in.name(), half, onnx::TensorProto::FLOAT16));
      ++cast_count;
    } else {
      in.mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT16);
    }
  }
  for (auto& out : *g.mutable_output()) {
    if (out.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT) continue;
    if (options.keep_io_types) {
      const std::string half = uniqueName(model, out.name() + "_fp16");
      for (auto& n : *g.mutable_node())
        for (int k = 0; k < n.output_size(); ++k)
          if (n.output(k) == out.name()) n.set_output(k, half);
      replaceAllUses(model, out.name(), half);
      after.push_back(makeCast(half + "_Cast", half, out.name(), onnx::TensorProto::FLOAT));
      ++cast_count;
    } else {
      out.mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT16);
    }
  }
  if (converted == 0 && cast_count == 0)
    throw Error(model.origin() + ": fp16: the model has no float32 tensors");

  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (auto& n : before) *nodes.Add() = std::move(n);
  for (const auto& n : g.node()) *nodes.Add() = n;
  for (auto& n : after) *nodes.Add() = std::move(n);
  g.mutable_node()->Swap(&nodes);
  g.clear_value_info();  // stale float32 types; shape inference recomputes them
  model.reindex();
  {
    const auto order = model.topologicalOrder();
    google::protobuf::RepeatedPtrField<onnx::NodeProto> sorted;
    for (int i : order) *sorted.Add() = g.node(i);
    g.mutable_node()->Swap(&sorted);
  }
  report.nodes_added = cast_count;
  finishGraphEdit(model, "fp16");
  report.lines.push_back("converted " + std::to_string(converted) + " initializers to float16, added " +
                         std::to_string(cast_count) + " Cast nodes");
  report.details["initializers_converted"] = converted;
  report.details["casts_added"] = cast_count;
  return report;
}

}  // namespace edgetune
