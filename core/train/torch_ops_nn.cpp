// ONNX operators as libtorch kernels: convolution, normalization, linear layers and pooling.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/train/torch_ops_kernels.h"

namespace edgetune::torch_ops::kernels {

CompiledOp compileConv(const NodeContext& c) {
  Window w;
  w.read(c);
  const int64_t group = attrInt(*c.node, "group", 1);
  return {[w, group](const Tensors& in, bool) {
    const Tensor& x = in[0];
    const Tensor& weight = in[1];
    const size_t n = static_cast<size_t>(weight.dim() - 2);
    Window ww = w;
    if (ww.kernel.empty()) ww.kernel = Ints(weight.sizes().begin() + 2, weight.sizes().end());
    Ints k, s, d, p;
    ww.resolve(n, x.sizes(), k, s, d, p);
    Tensor bias = present(in, 2) ? in[2] : Tensor();
    if (symmetric(p))
      return Tensors{
          at::convolution(x, weight, bias, s, Ints(p.begin(), p.begin() + n), d, false, Ints(n, 0), group)};
    // Asymmetric padding: pad explicitly, then convolve without padding.
    Tensor padded = at::constant_pad_nd(x, torchPadList(p), 0);
    return Tensors{at::convolution(padded, weight, bias, s, Ints(n, 0), d, false, Ints(n, 0), group)};
  }};
}

CompiledOp compileConvTranspose(const NodeContext& c) {
  Window w;
  w.read(c);
  if (w.auto_pad != "NOTSET") fail(c, "auto_pad '" + w.auto_pad + "' is not supported for ConvTranspose");
  if (findAttr(*c.node, "output_shape")) fail(c, "the output_shape attribute is not supported");
  const int64_t group = attrInt(*c.node, "group", 1);
  const Ints output_padding = attrInts(*c.node, "output_padding");
  return {[w, group, output_padding](const Tensors& in, bool) {
    const Tensor& weight = in[1];
    const size_t n = static_cast<size_t>(weight.dim() - 2);
    Window ww = w;
    if (ww.kernel.empty()) ww.kernel = Ints(weight.sizes().begin() + 2, weight.sizes().end());
    Ints k, s, d, p;
    ww.resolve(n, in[0].sizes(), k, s, d, p);
    Ints op = output_padding.empty() ? Ints(n, 0) : output_padding;
    Tensor bias = present(in, 2) ? in[2] : Tensor();
    if (symmetric(p))
      return Tensors{
          at::convolution(in[0], weight, bias, s, Ints(p.begin(), p.begin() + n), d, true, op, group)};
    Tensor y = at::convolution(in[0], weight, bias, s, Ints(n, 0), d, true, op, group);
    for (size_t i = 0; i < n; ++i) {
      const int64_t axis = y.dim() - static_cast<int64_t>(n) + static_cast<int64_t>(i);
      y = y.narrow(axis, p[i], y.size(axis) - p[i] - p[i + n]);
    }
    return Tensors{y};
  }};
}

CompiledOp compileBatchNorm(const NodeContext& c) {
  const double eps = attrFloat(*c.node, "epsilon", 1e-5f);
  const double momentum = attrFloat(*c.node, "momentum", 0.9f);
  // A node exported in training mode (torch.onnx.export(training=TRAIN)) wires its running-statistics
  // outputs; ONNX Runtime then normalizes with batch statistics even at inference (it goes by those outputs,
  // not by the opset-14 training_mode attribute). Do the same, so both runtimes compute the same function of
  // the graph.
  bool node_training = false;
  for (int i = 1; i < c.node->output_size(); ++i) node_training = node_training || !c.node->output(i).empty();
  return {[eps, momentum, node_training](const Tensors& in, bool training) {
    const Tensor& x = in[0];
    const Tensor& mean = in[3];
    const Tensor& var = in[4];
    if (!training && !node_training)
      return Tensors{at::batch_norm(x, in[1], in[2], mean, var, false, 0.0, eps, false), mean, var};
    // Batch statistics; running statistics follow ONNX: running = momentum * running + (1 - momentum) *
    // batch, with the population (biased) variance of the batch.
    auto [y, batch_mean, batch_invstd] = at::native_batch_norm(x, in[1], in[2], {}, {}, true, 0.0, eps);
    if (!training) {
      // Inference of a training-mode node: report the updated statistics as ONNX Runtime does, keep ours.
      at::NoGradGuard no_grad;
      Tensor batch_var = batch_invstd.pow(-2) - eps;
      return Tensors{y, mean * momentum + batch_mean * (1.0 - momentum),
                     var * momentum + batch_var * (1.0 - momentum)};
    }
    {
      at::NoGradGuard no_grad;
      Tensor batch_var = batch_invstd.pow(-2) - eps;
      mean.mul_(momentum).add_(batch_mean, 1.0 - momentum);
      var.mul_(momentum).add_(batch_var, 1.0 - momentum);
    }
    return Tensors{y, mean, var};
  }};
}

CompiledOp compileInstanceNorm(const NodeContext& c) {
  const double eps = attrFloat(*c.node, "epsilon", 1e-5f);
  return {[eps](const Tensors& in, bool) {
    return Tensors{at::instance_norm(in[0], in[1], in[2], {}, {}, true, 0.0, eps, false)};
  }};
}

CompiledOp compileLayerNorm(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", -1);
  const double eps = attrFloat(*c.node, "epsilon", 1e-5f);
  return {[axis, eps](const Tensors& in, bool) {
    const Tensor& x = in[0];
    const int64_t a = normAxis(axis, x.dim());
    Ints shape(x.sizes().begin() + a, x.sizes().end());
    Tensor scale = in[1];
    Tensor bias = present(in, 2) ? in[2] : Tensor();
    if (scale.sizes() != at::IntArrayRef(shape)) scale = scale.expand(shape);
    if (bias.defined() && bias.sizes() != at::IntArrayRef(shape)) bias = bias.expand(shape);
    auto [y, mean, rstd] = at::native_layer_norm(x, shape, scale, bias, eps);
    return Tensors{y, mean, rstd};
  }};
}

CompiledOp compileGemm(const NodeContext& c) {
  const double alpha = attrFloat(*c.node, "alpha", 1.0f), beta = attrFloat(*c.node, "beta", 1.0f);
  const bool trans_a = attrInt(*c.node, "transA", 0), trans_b = attrInt(*c.node, "transB", 0);
  return {[=](const Tensors& in, bool) {
    Tensor a = trans_a ? in[0].t() : in[0];
    Tensor b = trans_b ? in[1].t() : in[1];
    if (present(in, 2) && beta != 0.0) return Tensors{at::addmm(in[2], a, b, beta, alpha)};
    Tensor y = at::mm(a, b);
    return Tensors{alpha == 1.0 ? y : y * alpha};
  }};
}

CompiledOp compileEinsum(const NodeContext& c) {
  const std::string equation = attrString(*c.node, "equation");
  return {[equation](const Tensors& in, bool) { return Tensors{at::einsum(equation, in)}; }};
}

namespace {

// Runs a 1-D pool as a 2-D one (torch's avg_pool1d lacks divisor_override).
Tensor as2d(const Tensor& x, size_t n) {
  return n == 1 ? x.unsqueeze(-2) : x;
}

Tensor from2d(const Tensor& y, size_t n) {
  return n == 1 ? y.squeeze(-2) : y;
}

Ints lift(const Ints& v, size_t n, int64_t one) {
  return n == 1 ? Ints{one, v[0]} : v;
}

}  // namespace

CompiledOp compileMaxPool(const NodeContext& c) {
  Window w;
  w.read(c);
  if (w.kernel.empty()) fail(c, "the kernel_shape attribute is missing");
  if (c.node->output_size() > 1 && !c.node->output(1).empty()) fail(c, "the Indices output is not supported");
  const bool ceil_mode = attrInt(*c.node, "ceil_mode", 0);
  return {[w, ceil_mode](const Tensors& in, bool) {
    const size_t n = w.kernel.size();
    Ints k, s, d, p;
    w.resolve(n, in[0].sizes(), k, s, d, p);
    Tensor x = in[0];
    bool fits = symmetric(p);
    for (size_t i = 0; i < n && fits; ++i) fits = p[i] * 2 <= k[i];
    Ints tp(n, 0);
    if (fits) {
      tp.assign(p.begin(), p.begin() + n);
    } else {
      x = at::constant_pad_nd(x, torchPadList(p), -std::numeric_limits<double>::infinity());
    }
    if (n == 3) return Tensors{at::max_pool3d(x, k, s, tp, d, ceil_mode)};
    return Tensors{from2d(
        at::max_pool2d(as2d(x, n), lift(k, n, 1), lift(s, n, 1), lift(tp, n, 0), lift(d, n, 1), ceil_mode),
        n)};
  }};
}

namespace {

Tensor avgPool(const Tensor& x, size_t n, const Ints& k, const Ints& s, const Ints& p, bool ceil_mode,
               bool count_include_pad, c10::optional<int64_t> divisor) {
  if (n == 3) return at::avg_pool3d(x, k, s, p, ceil_mode, count_include_pad, divisor);
  return from2d(at::avg_pool2d(as2d(x, n), lift(k, n, 1), lift(s, n, 1), lift(p, n, 0), ceil_mode,
                               count_include_pad, divisor),
                n);
}

}  // namespace

CompiledOp compileAveragePool(const NodeContext& c) {
  Window w;
  w.read(c);
  if (w.kernel.empty()) fail(c, "the kernel_shape attribute is missing");
  for (int64_t d : w.dilations)
    if (d != 1) fail(c, "dilations other than 1 are not supported");
  const bool ceil_mode = attrInt(*c.node, "ceil_mode", 0);
  const bool count_include_pad = attrInt(*c.node, "count_include_pad", 0);
  return {[w, ceil_mode, count_include_pad](const Tensors& in, bool) {
    const size_t n = w.kernel.size();
    Ints k, s, d, p;
    w.resolve(n, in[0].sizes(), k, s, d, p);
    bool fits = symmetric(p);
    for (size_t i = 0; i < n && fits; ++i) fits = p[i] * 2 <= k[i];
    if (fits)
      return Tensors{avgPool(in[0], n, k, s, Ints(p.begin(), p.begin() + n), ceil_mode, count_include_pad,
                             c10::nullopt)};
    // Asymmetric padding: sum over the explicitly padded input, divided by the count of positions that count
    // (a mask of ones over the input, padded with ones when padding counts, zeros when it does not).
    const Ints tp = torchPadList(p);
    Tensor sum = avgPool(at::constant_pad_nd(in[0], tp, 0), n, k, s, Ints(n, 0), ceil_mode, true, 1);
    Ints mask_shape(in[0].sizes().end() - static_cast<int64_t>(n), in[0].sizes().end());
    mask_shape.insert(mask_shape.begin(), {1, 1});
    Tensor mask =
        at::constant_pad_nd(at::ones(mask_shape, in[0].options()), tp, count_include_pad ? 1.0 : 0.0);
    Tensor count = avgPool(mask, n, k, s, Ints(n, 0), ceil_mode, true, 1);
    return Tensors{sum / count};
  }};
}

CompiledOp compileGlobalPool(bool max) {
  return {[max](const Tensors& in, bool) {
    const Tensor& x = in[0];
    Ints dims;
    for (int64_t i = 2; i < x.dim(); ++i) dims.push_back(i);
    return Tensors{max ? at::amax(x, dims, true) : at::mean(x, dims, true)};
  }};
}

}  // namespace edgetune::torch_ops::kernels
