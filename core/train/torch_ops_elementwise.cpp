// ONNX operators as libtorch kernels: element-wise (unary, binary, variadic, activations, dropout).
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/train/torch_ops_kernels.h"

namespace edgetune::torch_ops::kernels {

CompiledOp unary(Unary f) {
  return {[f](const Tensors& in, bool) { return Tensors{f(in[0])}; }};
}

CompiledOp binary(Binary f) {
  return {[f](const Tensors& in, bool) { return Tensors{f(in[0], in[1])}; }};
}

CompiledOp variadic(Binary f, bool mean) {
  return {[f, mean](const Tensors& in, bool) {
    Tensor y = in[0];
    for (size_t i = 1; i < in.size(); ++i) y = f(y, in[i]);
    if (mean) y = y / static_cast<double>(in.size());
    return Tensors{y};
  }};
}

namespace {

bool integral(const Tensor& t) {
  return at::isIntegralType(t.scalar_type(), /*includeBool=*/true);
}

}  // namespace

CompiledOp compileDiv(const NodeContext&) {
  return binary([](const Tensor& a, const Tensor& b) {
    // ONNX integer division truncates; torch's true division would produce floats.
    return integral(a) && integral(b) ? at::div(a, b, "trunc") : at::div(a, b);
  });
}

CompiledOp compilePow(const NodeContext& c) {
  const Tensor* e = c.constant_input(1);
  if (e && e->numel() == 1 && !e->is_complex()) {
    const double exponent = e->item<double>();
    return {[exponent](const Tensors& in, bool) {
      if (exponent == 2.0 && !integral(in[0])) return Tensors{in[0] * in[0]};
      Tensor y = at::pow(in[0], exponent);
      return Tensors{y.scalar_type() == in[0].scalar_type() ? y : y.to(in[0].scalar_type())};
    }};
  }
  return {[](const Tensors& in, bool) {
    Tensor y = at::pow(in[0], in[1]);
    return Tensors{y.scalar_type() == in[0].scalar_type() ? y : y.to(in[0].scalar_type())};
  }};
}

CompiledOp compileMod(const NodeContext& c) {
  if (attrInt(*c.node, "fmod", 0))
    return binary([](const Tensor& a, const Tensor& b) { return at::fmod(a, b); });
  return binary([](const Tensor& a, const Tensor& b) { return at::remainder(a, b); });
}

CompiledOp compileClip(const NodeContext& c) {
  std::optional<double> lo, hi;
  int lo_input = -1, hi_input = -1;
  if (c.opset < 11) {
    if (findAttr(*c.node, "min")) lo = attrFloat(*c.node, "min", 0);
    if (findAttr(*c.node, "max")) hi = attrFloat(*c.node, "max", 0);
  } else {
    if (hasInput(c, 1)) {
      if (const Tensor* t = c.constant_input(1))
        lo = t->item<double>();
      else
        lo_input = 1;
    }
    if (hasInput(c, 2)) {
      if (const Tensor* t = c.constant_input(2))
        hi = t->item<double>();
      else
        hi_input = 2;
    }
  }
  return {[lo, hi, lo_input, hi_input](const Tensors& in, bool) {
    std::optional<double> l = lo_input >= 0 ? std::optional<double>(in[lo_input].item<double>()) : lo;
    std::optional<double> h = hi_input >= 0 ? std::optional<double>(in[hi_input].item<double>()) : hi;
    const Tensor& x = in[0];
    if (!l && !h) return Tensors{x};
    auto scalar = [&](std::optional<double> v) -> c10::optional<at::Scalar> {
      if (!v) return c10::nullopt;
      if (integral(x)) return at::Scalar(static_cast<int64_t>(*v));
      return at::Scalar(*v);
    };
    return Tensors{at::clamp(x, scalar(l), scalar(h))};
  }};
}

CompiledOp compileHardSigmoid(const NodeContext& c) {
  const double alpha = attrFloat(*c.node, "alpha", 0.2f), beta = attrFloat(*c.node, "beta", 0.5f);
  if (std::fabs(alpha - 1.0 / 6.0) < 1e-6 && beta == 0.5)
    return unary([](const Tensor& x) { return at::hardsigmoid(x); });
  return {
      [alpha, beta](const Tensors& in, bool) { return Tensors{at::clamp(in[0] * alpha + beta, 0.0, 1.0)}; }};
}

CompiledOp compileLeakyRelu(const NodeContext& c) {
  const double alpha = attrFloat(*c.node, "alpha", 0.01f);
  return {[alpha](const Tensors& in, bool) { return Tensors{at::leaky_relu(in[0], alpha)}; }};
}

CompiledOp compileElu(const NodeContext& c) {
  const double alpha = attrFloat(*c.node, "alpha", 1.0f);
  return {[alpha](const Tensors& in, bool) { return Tensors{at::elu(in[0], alpha)}; }};
}

CompiledOp compileSelu(const NodeContext& c) {
  const double alpha = attrFloat(*c.node, "alpha", 1.67326319217681884765625f);
  const double gamma = attrFloat(*c.node, "gamma", 1.05070102214813232421875f);
  return {[alpha, gamma](const Tensors& in, bool) { return Tensors{at::elu(in[0], alpha, gamma, 1.0)}; }};
}

CompiledOp compileGelu(const NodeContext& c) {
  const std::string approximate = attrString(*c.node, "approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    fail(c, "approximate '" + approximate + "' is not valid");
  return {[approximate](const Tensors& in, bool) { return Tensors{at::gelu(in[0], approximate)}; }};
}

CompiledOp compileIsInf(const NodeContext& c) {
  const bool negative = attrInt(*c.node, "detect_negative", 1) != 0;
  const bool positive = attrInt(*c.node, "detect_positive", 1) != 0;
  return {[negative, positive](const Tensors& in, bool) {
    Tensor y = at::zeros(in[0].sizes(), in[0].options().dtype(at::kBool));
    if (negative) y = y.logical_or(at::isneginf(in[0]));
    if (positive) y = y.logical_or(at::isposinf(in[0]));
    return Tensors{y};
  }};
}

CompiledOp compileCelu(const NodeContext& c) {
  const double alpha = attrFloat(*c.node, "alpha", 1.0f);
  return {[alpha](const Tensors& in, bool) { return Tensors{at::celu(in[0], alpha)}; }};
}

CompiledOp compileThresholdedRelu(const NodeContext& c) {
  const double alpha = attrFloat(*c.node, "alpha", 1.0f);
  return {[alpha](const Tensors& in, bool) {
    return Tensors{at::where(in[0] > alpha, in[0], at::zeros_like(in[0]))};
  }};
}

CompiledOp compileDropout(const NodeContext& c) {
  std::optional<double> ratio;
  int ratio_input = -1;
  if (c.opset < 12) {
    ratio = attrFloat(*c.node, "ratio", 0.5f);
  } else if (hasInput(c, 1)) {
    if (const Tensor* t = c.constant_input(1))
      ratio = t->item<double>();
    else
      ratio_input = 1;
  } else {
    ratio = 0.5;
  }
  const bool wants_mask = c.node->output_size() > 1 && !c.node->output(1).empty();
  CompiledOp op{[ratio, ratio_input, wants_mask](const Tensors& in, bool training) {
    const Tensor& x = in[0];
    const double p = ratio_input >= 0 ? in[ratio_input].item<double>() : *ratio;
    // The graph's mode decides, not the node's training_mode input: dropout is active only while training.
    if (!training || p == 0.0)
      return Tensors{x, wants_mask ? at::ones(x.sizes(), x.options().dtype(at::kBool)) : Tensor()};
    if (!wants_mask) return Tensors{at::dropout(x, p, true)};
    Tensor mask = at::bernoulli(at::full(x.sizes(), 1.0 - p, x.options())).to(at::kBool);
    return Tensors{x * mask / (1.0 - p), mask};
  }};
  op.foldable = false;
  return op;
}

}  // namespace edgetune::torch_ops::kernels
