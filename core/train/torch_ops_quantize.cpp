// ONNX operators as libtorch kernels: quantization (fake quantization with a straight-through gradient).
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/train/torch_ops_kernels.h"

namespace edgetune::torch_ops::kernels {

namespace {

// Reshapes a per-axis scale / zero point [C] so it broadcasts along `axis` of a rank-`rank` tensor.
Tensor alongAxis(const Tensor& t, int64_t axis, int64_t rank) {
  if (t.dim() == 0 || t.numel() == 1) return t.reshape({});
  Ints shape(rank, 1);
  shape[normAxis(axis, rank)] = t.numel();
  return t.reshape(shape);
}

}  // namespace

CompiledOp compileQuantize(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", 1);
  DataType out_type = DataType::UInt8;
  if (const auto* a = findAttr(*c.node, "output_dtype"); a && a->i() != 0)
    out_type = dataTypeFromOnnx(a->i());
  if (hasInput(c, 2)) {
    const Tensor* zp = c.constant_input(2);
    if (!zp) fail(c, "the zero point must be a constant");
    out_type = fromScalarType(zp->scalar_type());
  }
  double lo, hi;
  if (out_type == DataType::UInt8)
    lo = 0, hi = 255;
  else if (out_type == DataType::Int8)
    lo = -128, hi = 127;
  else
    fail(c, "quantizing to " + dataTypeName(out_type) + " is not supported (uint8 and int8 are)");
  return {[axis, lo, hi](const Tensors& in, bool) {
    // The result stays a float tensor holding integer values so gradients flow: round() passes its gradient
    // straight through, clamp() zeroes it outside the representable range.
    const Tensor& x = in[0];
    const Tensor scale = alongAxis(in[1], axis, x.dim());
    Tensor q = x / scale;
    q = q + (at::round(q) - q).detach();
    if (present(in, 2)) q = q + alongAxis(in[2], axis, x.dim()).to(q.scalar_type());
    return Tensors{at::clamp(q, lo, hi)};
  }};
}

CompiledOp compileDequantize(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", 1);
  return {[axis](const Tensors& in, bool) {
    const Tensor& scale = in[1];
    Tensor x = in[0].scalar_type() == scale.scalar_type() ? in[0] : in[0].to(scale.scalar_type());
    if (present(in, 2)) x = x - alongAxis(in[2], axis, x.dim()).to(scale.scalar_type());
    return Tensors{x * alongAxis(scale, axis, x.dim())};
  }};
}

}  // namespace edgetune::torch_ops::kernels
