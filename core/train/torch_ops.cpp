// ONNX operators as libtorch kernels. Attributes and constant inputs are parsed once here, so a forward pass
// only dispatches tensors. Semantics follow the ONNX operator specification (opsets 7..18 where they differ).
#include "core/train/torch_ops.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <unordered_map>

#include "core/ir/model.h"
#include "core/util/error.h"

namespace edgetune::torch_ops {
namespace {

using at::Tensor;
using Tensors = std::vector<at::Tensor>;
using Ints = std::vector<int64_t>;

// ---------- helpers ----------

const onnx::AttributeProto* findAttr(const onnx::NodeProto& node, const char* name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

[[noreturn]] void fail(const NodeContext& c, const std::string& problem) {
  throw Error(describeNode(*c.node) + ": " + problem);
}

bool hasInput(const NodeContext& c, int i) {
  return i < c.node->input_size() && !c.node->input(i).empty();
}
bool present(const Tensors& in, size_t i) {
  return i < in.size() && in[i].defined();
}

Ints toInts(const Tensor& t) {
  Tensor c = t.to(at::kLong).contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  return Ints(p, p + c.numel());
}

// Integer list given either as a constant input (read once now) or only known when running.
struct IntsSource {
  bool present = false;
  std::optional<Ints> constant;
  int input = -1;
  Ints get(const Tensors& in) const { return constant ? *constant : toInts(in[input]); }
};
IntsSource intsInput(const NodeContext& c, int i) {
  IntsSource s;
  if (!hasInput(c, i)) return s;
  s.present = true;
  s.input = i;
  if (const Tensor* t = c.constant_input(i)) s.constant = toInts(*t);
  return s;
}
IntsSource intsAttr(const NodeContext& c, const char* name) {
  IntsSource s;
  if (const auto* a = findAttr(*c.node, name)) {
    s.present = true;
    s.constant = Ints(a->ints().begin(), a->ints().end());
  }
  return s;
}

int64_t normAxis(int64_t axis, int64_t rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw Error("axis " + std::to_string(axis) + " is out of range for a tensor of rank " +
                std::to_string(rank));
  return a;
}

Ints product(const at::IntArrayRef sizes, int64_t from, int64_t to) {
  int64_t p = 1;
  for (int64_t i = from; i < to; ++i) p *= sizes[i];
  return {p};
}

// ONNX pads [b1..bn, e1..en] over the last n dims -> torch's pad list (last dim first: b_n, e_n, b_n-1, ...).
Ints torchPadList(const Ints& pads) {
  const size_t n = pads.size() / 2;
  Ints out;
  for (size_t i = n; i-- > 0;) {
    out.push_back(pads[i]);
    out.push_back(pads[i + n]);
  }
  return out;
}

bool symmetric(const Ints& pads) {
  const size_t n = pads.size() / 2;
  for (size_t i = 0; i < n; ++i)
    if (pads[i] != pads[i + n]) return false;
  return true;
}

// Spatial attributes shared by Conv and the pools.
struct Window {
  std::string auto_pad = "NOTSET";
  Ints kernel, strides, dilations, pads;
  void read(const NodeContext& c) {
    auto_pad = attrString(*c.node, "auto_pad", "NOTSET");
    if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID")
      fail(c, "auto_pad '" + auto_pad + "' is not a valid value");
    kernel = attrInts(*c.node, "kernel_shape");
    strides = attrInts(*c.node, "strides");
    dilations = attrInts(*c.node, "dilations");
    pads = attrInts(*c.node, "pads");
  }
  // Fills defaults for `n` spatial dims and resolves auto_pad against the input's spatial sizes.
  void resolve(size_t n, at::IntArrayRef input_sizes, Ints& k, Ints& s, Ints& d, Ints& p) const {
    k = kernel;
    s = strides.empty() ? Ints(n, 1) : strides;
    d = dilations.empty() ? Ints(n, 1) : dilations;
    p = pads.empty() ? Ints(2 * n, 0) : pads;
    if (k.size() != n || s.size() != n || d.size() != n || p.size() != 2 * n)
      throw Error("kernel_shape/strides/dilations/pads do not match " + std::to_string(n) +
                  " spatial dimensions");
    if (auto_pad == "VALID") {
      std::fill(p.begin(), p.end(), 0);
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      for (size_t i = 0; i < n; ++i) {
        const int64_t in = input_sizes[input_sizes.size() - n + i];
        const int64_t out = (in + s[i] - 1) / s[i];
        const int64_t total = std::max<int64_t>(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in);
        const int64_t small = total / 2;
        p[i] = auto_pad == "SAME_UPPER" ? small : total - small;
        p[i + n] = total - p[i];
      }
    }
  }
};

// ---------- element-wise ----------

using Unary = Tensor (*)(const Tensor&);
using Binary = Tensor (*)(const Tensor&, const Tensor&);

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

bool integral(const Tensor& t) {
  return at::isIntegralType(t.scalar_type(), /*includeBool=*/true);
}

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

// ---------- convolution, normalization, linear ----------

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

// ---------- pooling ----------

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

Tensor avgPool(const Tensor& x, size_t n, const Ints& k, const Ints& s, const Ints& p, bool ceil_mode,
               bool count_include_pad, c10::optional<int64_t> divisor) {
  if (n == 3) return at::avg_pool3d(x, k, s, p, ceil_mode, count_include_pad, divisor);
  return from2d(at::avg_pool2d(as2d(x, n), lift(k, n, 1), lift(s, n, 1), lift(p, n, 0), ceil_mode,
                               count_include_pad, divisor),
                n);
}

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

// ---------- shape and indexing ----------

CompiledOp compileFlatten(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", 1);
  return {[axis](const Tensors& in, bool) {
    const Tensor& x = in[0];
    const int64_t a = axis < 0 ? axis + x.dim() : axis;
    if (a < 0 || a > x.dim()) throw Error("axis " + std::to_string(axis) + " is out of range");
    return Tensors{x.reshape({product(x.sizes(), 0, a)[0], product(x.sizes(), a, x.dim())[0]})};
  }};
}

CompiledOp compileReshape(const NodeContext& c) {
  IntsSource shape = intsInput(c, 1);
  if (!shape.present) fail(c, "the shape input is missing");
  const bool allow_zero = attrInt(*c.node, "allowzero", 0);
  return {[shape, allow_zero](const Tensors& in, bool) {
    Ints s = shape.get(in);
    const Tensor& x = in[0];
    if (!allow_zero)
      for (size_t i = 0; i < s.size(); ++i)
        if (s[i] == 0) {
          if (static_cast<int64_t>(i) >= x.dim()) throw Error("shape has a 0 beyond the input's rank");
          s[i] = x.size(static_cast<int64_t>(i));
        }
    return Tensors{x.reshape(s)};
  }};
}

CompiledOp compileTranspose(const NodeContext& c) {
  const Ints perm = attrInts(*c.node, "perm");
  return {[perm](const Tensors& in, bool) {
    Ints p = perm;
    if (p.empty())
      for (int64_t i = in[0].dim() - 1; i >= 0; --i) p.push_back(i);
    return Tensors{in[0].permute(p)};
  }};
}

CompiledOp compileConcat(const NodeContext& c) {
  if (!findAttr(*c.node, "axis")) fail(c, "the axis attribute is missing");
  const int64_t axis = attrInt(*c.node, "axis", 0);
  return {[axis](const Tensors& in, bool) { return Tensors{at::cat(in, normAxis(axis, in[0].dim()))}; }};
}

CompiledOp compileSplit(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", 0);
  IntsSource split = c.opset >= 13 ? intsInput(c, 1) : intsAttr(c, "split");
  const int64_t parts =
      findAttr(*c.node, "num_outputs") ? attrInt(*c.node, "num_outputs", 1) : c.node->output_size();
  return {[axis, split, parts](const Tensors& in, bool) {
    const int64_t a = normAxis(axis, in[0].dim());
    Ints sizes;
    if (split.present) {
      sizes = split.get(in);
    } else {
      const int64_t dim = in[0].size(a);
      const int64_t chunk = (dim + parts - 1) / parts;
      for (int64_t i = 0; i < parts; ++i)
        sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - chunk * i)));
    }
    return at::split_with_sizes(in[0], sizes, a);
  }};
}

CompiledOp compileSlice(const NodeContext& c) {
  IntsSource starts, ends, axes, steps;
  if (c.opset >= 10) {
    starts = intsInput(c, 1);
    ends = intsInput(c, 2);
    axes = intsInput(c, 3);
    steps = intsInput(c, 4);
  } else {
    starts = intsAttr(c, "starts");
    ends = intsAttr(c, "ends");
    axes = intsAttr(c, "axes");
  }
  if (!starts.present || !ends.present) fail(c, "starts and ends are required");
  return {[=](const Tensors& in, bool) {
    Tensor x = in[0];
    const Ints st = starts.get(in), en = ends.get(in);
    Ints ax = axes.present ? axes.get(in) : Ints{};
    Ints sp = steps.present ? steps.get(in) : Ints{};
    if (st.size() != en.size()) throw Error("starts and ends differ in length");
    for (size_t i = 0; i < st.size(); ++i) {
      const int64_t axis = normAxis(ax.empty() ? static_cast<int64_t>(i) : ax.at(i), x.dim());
      const int64_t step = sp.empty() ? 1 : sp.at(i);
      if (step == 0) throw Error("slice step is 0");
      const int64_t dim = x.size(axis);
      int64_t s = st[i] < 0 ? st[i] + dim : st[i];
      int64_t e = en[i] < 0 ? en[i] + dim : en[i];
      if (step > 0) {
        s = std::clamp<int64_t>(s, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
        x = x.slice(axis, s, std::max(s, e), step);
      } else {
        s = std::clamp<int64_t>(s, 0, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
        Tensor index = s > e ? at::arange(s, e, step, at::kLong) : at::empty({0}, at::kLong);
        x = x.index_select(axis, index);
      }
    }
    return Tensors{x};
  }};
}

CompiledOp compileGather(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", 0);
  return {[axis](const Tensors& in, bool) {
    const Tensor& data = in[0];
    const int64_t a = normAxis(axis, data.dim());
    const Tensor& indices = in[1];
    if (indices.dim() == 0) return Tensors{data.select(a, indices.item<int64_t>())};
    // Negative indices count from the end; remainder maps [-dim, dim) onto [0, dim).
    Tensor idx = at::remainder(indices.to(at::kLong), data.size(a));
    Ints shape(data.sizes().begin(), data.sizes().begin() + a);
    shape.insert(shape.end(), indices.sizes().begin(), indices.sizes().end());
    shape.insert(shape.end(), data.sizes().begin() + a + 1, data.sizes().end());
    return Tensors{data.index_select(a, idx.reshape({-1})).reshape(shape)};
  }};
}

CompiledOp compileGatherElements(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", 0);
  return {[axis](const Tensors& in, bool) {
    const int64_t a = normAxis(axis, in[0].dim());
    return Tensors{at::gather(in[0], a, at::remainder(in[1].to(at::kLong), in[0].size(a)))};
  }};
}

CompiledOp compileUnsqueeze(const NodeContext& c) {
  IntsSource axes = c.opset >= 13 ? intsInput(c, 1) : intsAttr(c, "axes");
  if (!axes.present) fail(c, "axes are required");
  return {[axes](const Tensors& in, bool) {
    Ints ax = axes.get(in);
    const int64_t rank = in[0].dim() + static_cast<int64_t>(ax.size());
    for (auto& a : ax) a = normAxis(a, rank);
    std::sort(ax.begin(), ax.end());
    Tensor x = in[0];
    for (int64_t a : ax) x = x.unsqueeze(a);
    return Tensors{x};
  }};
}

CompiledOp compileSqueeze(const NodeContext& c) {
  IntsSource axes = c.opset >= 13 ? intsInput(c, 1) : intsAttr(c, "axes");
  return {[axes](const Tensors& in, bool) {
    if (!axes.present) return Tensors{in[0].squeeze()};
    Ints ax = axes.get(in);
    for (auto& a : ax) a = normAxis(a, in[0].dim());
    std::sort(ax.rbegin(), ax.rend());
    Tensor x = in[0];
    for (int64_t a : ax) {
      if (x.size(a) != 1)
        throw Error("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(x.size(a)));
      x = x.squeeze(a);
    }
    return Tensors{x};
  }};
}

CompiledOp compileShape(const NodeContext& c) {
  const int64_t start = attrInt(*c.node, "start", 0);
  const bool has_end = findAttr(*c.node, "end") != nullptr;
  const int64_t end = attrInt(*c.node, "end", 0);
  return {[start, has_end, end](const Tensors& in, bool) {
    const int64_t rank = in[0].dim();
    auto clampAxis = [rank](int64_t a) { return std::clamp<int64_t>(a < 0 ? a + rank : a, 0, rank); };
    const int64_t s = clampAxis(start), e = has_end ? clampAxis(end) : rank;
    Ints dims(in[0].sizes().begin() + s, in[0].sizes().begin() + std::max(s, e));
    return Tensors{at::tensor(dims, at::kLong)};
  }};
}

CompiledOp compileSize(const NodeContext&) {
  return {[](const Tensors& in, bool) { return Tensors{at::scalar_tensor(in[0].numel(), at::kLong)}; }};
}

Tensor tensorAttr(const onnx::TensorProto& proto) {
  return toTorch(tensorFromProto(proto));
}

CompiledOp compileConstant(const NodeContext& c) {
  Tensor value;
  const auto& n = *c.node;
  if (const auto* a = findAttr(n, "value"))
    value = tensorAttr(a->t());
  else if (const auto* a = findAttr(n, "value_float"))
    value = at::scalar_tensor(a->f(), at::kFloat);
  else if (const auto* a = findAttr(n, "value_floats"))
    value = at::tensor(std::vector<float>(a->floats().begin(), a->floats().end()), at::kFloat);
  else if (const auto* a = findAttr(n, "value_int"))
    value = at::scalar_tensor(a->i(), at::kLong);
  else if (const auto* a = findAttr(n, "value_ints"))
    value = at::tensor(Ints(a->ints().begin(), a->ints().end()), at::kLong);
  else
    fail(c, "only tensor, float(s) and int(s) constant values are supported");
  return {[value](const Tensors&, bool) { return Tensors{value}; }};
}

CompiledOp compileConstantOfShape(const NodeContext& c) {
  Tensor value = at::zeros({1}, at::kFloat);
  if (const auto* a = findAttr(*c.node, "value")) value = tensorAttr(a->t());
  const at::Scalar fill = value.reshape({-1})[0].item();
  const at::ScalarType type = value.scalar_type();
  IntsSource shape = intsInput(c, 0);
  return {
      [fill, type, shape](const Tensors& in, bool) { return Tensors{at::full(shape.get(in), fill, type)}; }};
}

CompiledOp compileExpand(const NodeContext& c) {
  IntsSource shape = intsInput(c, 1);
  return {[shape](const Tensors& in, bool) {
    Ints target = shape.get(in);
    const Tensor& x = in[0];
    // ONNX Expand broadcasts both ways: the result has the larger of each pair of aligned dimensions.
    const int64_t rank = std::max<int64_t>(x.dim(), static_cast<int64_t>(target.size()));
    Ints out(rank, 1);
    for (int64_t i = 0; i < rank; ++i) {
      const int64_t xi = i - (rank - x.dim()), ti = i - (rank - static_cast<int64_t>(target.size()));
      const int64_t a = xi >= 0 ? x.size(xi) : 1, b = ti >= 0 ? target[ti] : 1;
      if (a != b && a != 1 && b != 1)
        throw Error("cannot expand dimension of size " + std::to_string(a) + " to " + std::to_string(b));
      out[i] = a == 1 ? b : a;
    }
    return Tensors{x.expand(out)};
  }};
}

CompiledOp compileTile(const NodeContext& c) {
  IntsSource repeats = intsInput(c, 1);
  return {[repeats](const Tensors& in, bool) { return Tensors{in[0].repeat(repeats.get(in))}; }};
}

CompiledOp compileRange(const NodeContext&) {
  return {[](const Tensors& in, bool) {
    return Tensors{at::arange(in[0].item(), in[1].item(), in[2].item(), in[0].scalar_type())};
  }};
}

CompiledOp compileWhere(const NodeContext&) {
  return {[](const Tensors& in, bool) {
    const Tensor cond = in[0].scalar_type() == at::kBool ? in[0] : in[0].to(at::kBool);
    return Tensors{at::where(cond, in[1], in[2])};
  }};
}

CompiledOp compileCast(const NodeContext& c) {
  const at::ScalarType to = toScalarType(dataTypeFromOnnx(static_cast<int>(attrInt(*c.node, "to", 1))));
  return {[to](const Tensors& in, bool) { return Tensors{in[0].to(to)}; }};
}

CompiledOp compileCastLike(const NodeContext&) {
  return {[](const Tensors& in, bool) { return Tensors{in[0].to(in[1].scalar_type())}; }};
}

CompiledOp compileSoftmax(const NodeContext& c, bool log) {
  const bool legacy = c.opset < 13;  // before 13: the input is coerced to 2-D at `axis`
  const int64_t axis = attrInt(*c.node, "axis", legacy ? 1 : -1);
  return {[legacy, axis, log](const Tensors& in, bool) {
    const Tensor& x = in[0];
    const int64_t a = normAxis(axis, x.dim());
    if (!legacy) return Tensors{log ? at::log_softmax(x, a) : at::softmax(x, a)};
    Tensor flat = x.reshape({product(x.sizes(), 0, a)[0], product(x.sizes(), a, x.dim())[0]});
    return Tensors{(log ? at::log_softmax(flat, 1) : at::softmax(flat, 1)).reshape(x.sizes())};
  }};
}

enum class Reduce { Mean, Sum, Max, Min, Prod, L1, L2, SumSquare, LogSum, LogSumExp };

CompiledOp compileReduce(const NodeContext& c, Reduce kind) {
  // ReduceSum takes axes as an input from opset 13, the other reductions from opset 18.
  const bool axes_as_input = kind == Reduce::Sum ? c.opset >= 13 : c.opset >= 18;
  IntsSource axes = axes_as_input ? intsInput(c, 1) : intsAttr(c, "axes");
  const bool keep = attrInt(*c.node, "keepdims", 1);
  const bool noop_empty = attrInt(*c.node, "noop_with_empty_axes", 0);
  return {[axes, keep, noop_empty, kind](const Tensors& in, bool) {
    const Tensor& x = in[0];
    Ints dims = axes.present ? axes.get(in) : Ints{};
    if (dims.empty()) {
      if (noop_empty) return Tensors{x};
      for (int64_t i = 0; i < x.dim(); ++i) dims.push_back(i);
    }
    for (auto& d : dims) d = normAxis(d, x.dim());
    Tensor y;
    switch (kind) {
      case Reduce::Mean:
        y = at::mean(x, dims, keep);
        break;
      case Reduce::Sum:
        y = at::sum(x, dims, keep);
        break;
      case Reduce::Max:
        y = at::amax(x, dims, keep);
        break;
      case Reduce::Min:
        y = at::amin(x, dims, keep);
        break;
      case Reduce::SumSquare:
        y = at::sum(x * x, dims, keep);
        break;
      case Reduce::L1:
        y = at::sum(at::abs(x), dims, keep);
        break;
      case Reduce::L2:
        y = at::sqrt(at::sum(x * x, dims, keep));
        break;
      case Reduce::LogSum:
        y = at::log(at::sum(x, dims, keep));
        break;
      case Reduce::LogSumExp:
        y = at::logsumexp(x, dims, keep);
        break;
      case Reduce::Prod: {
        std::sort(dims.rbegin(), dims.rend());
        y = x;
        for (int64_t d : dims) y = at::prod(y, d, keep);
        break;
      }
    }
    return Tensors{y.scalar_type() == x.scalar_type() ? y : y.to(x.scalar_type())};
  }};
}

CompiledOp compileArg(const NodeContext& c, bool max) {
  const int64_t axis = attrInt(*c.node, "axis", 0);
  const bool keep = attrInt(*c.node, "keepdims", 1);
  const bool last = attrInt(*c.node, "select_last_index", 0);
  return {[axis, keep, last, max](const Tensors& in, bool) {
    const int64_t a = normAxis(axis, in[0].dim());
    if (!last) return Tensors{max ? at::argmax(in[0], a, keep) : at::argmin(in[0], a, keep)};
    Tensor flipped = in[0].flip(a);
    Tensor idx = max ? at::argmax(flipped, a, keep) : at::argmin(flipped, a, keep);
    return Tensors{(in[0].size(a) - 1) - idx};
  }};
}

CompiledOp compileTopK(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", -1);
  const bool largest = attrInt(*c.node, "largest", 1) != 0, sorted = attrInt(*c.node, "sorted", 1) != 0;
  IntsSource k;
  if (c.opset >= 10) {
    k = intsInput(c, 1);
  } else if (findAttr(*c.node, "k")) {  // TopK-1: k is an attribute
    k.present = true;
    k.constant = Ints{attrInt(*c.node, "k", 1)};
  }
  if (!k.present) fail(c, "k is missing");
  return {[axis, largest, sorted, k](const Tensors& in, bool) {
    auto [values, indices] = at::topk(in[0], k.get(in).at(0), normAxis(axis, in[0].dim()), largest, sorted);
    return Tensors{values, indices};
  }};
}

CompiledOp compileCumSum(const NodeContext& c) {
  const bool exclusive = attrInt(*c.node, "exclusive", 0) != 0, reverse = attrInt(*c.node, "reverse", 0) != 0;
  IntsSource axis = intsInput(c, 1);
  if (!axis.present) fail(c, "the axis input is missing");
  return {[exclusive, reverse, axis](const Tensors& in, bool) {
    const int64_t a = normAxis(axis.get(in).at(0), in[0].dim());
    Tensor x = reverse ? in[0].flip(a) : in[0];
    Tensor y = at::cumsum(x, a, x.scalar_type());
    if (exclusive) y = y - x;  // the sum of the elements before, not including, each one
    return Tensors{reverse ? y.flip(a) : y};
  }};
}

CompiledOp compileOneHot(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", -1);
  return {[axis](const Tensors& in, bool) {
    const int64_t depth = toInts(in[1]).at(0);
    Tensor idx = in[0].to(at::kLong);
    idx = at::where(idx < 0, idx + depth, idx);  // negative indices count from the end
    // Out-of-range indices give an all-"off" row, as ONNX specifies.
    Tensor valid = (idx >= 0).logical_and(idx < depth);
    Tensor hot = at::one_hot(idx.clamp(0, depth - 1), depth).to(at::kBool).logical_and(valid.unsqueeze(-1));
    hot = hot.movedim(-1, normAxis(axis, in[0].dim() + 1));
    const Tensor& values = in[2];
    return Tensors{at::where(hot, values.reshape({-1})[1], values.reshape({-1})[0])};
  }};
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

CompiledOp compilePad(const NodeContext& c) {
  const std::string mode = attrString(*c.node, "mode", "constant");
  std::string torch_mode;
  if (mode == "constant")
    torch_mode = "constant";
  else if (mode == "reflect")
    torch_mode = "reflect";
  else if (mode == "edge")
    torch_mode = "replicate";
  else if (mode == "wrap")
    torch_mode = "circular";
  else
    fail(c, "pad mode '" + mode + "' is not supported");
  IntsSource pads, axes;
  std::optional<double> value;
  int value_input = -1;
  if (c.opset < 11) {
    pads = intsAttr(c, "pads");
    value = attrFloat(*c.node, "value", 0.f);
  } else {
    pads = intsInput(c, 1);
    axes = intsInput(c, 3);
    if (hasInput(c, 2)) {
      if (const Tensor* t = c.constant_input(2))
        value = t->item<double>();
      else
        value_input = 2;
    } else {
      value = 0.0;
    }
  }
  if (!pads.present) fail(c, "pads are required");
  return {[=](const Tensors& in, bool) {
    const Tensor& x = in[0];
    const int64_t rank = x.dim();
    Ints p = pads.get(in);
    Ints full(2 * rank, 0);
    if (axes.present) {
      Ints ax = axes.get(in);
      if (p.size() != 2 * ax.size()) throw Error("pads do not match axes");
      for (size_t i = 0; i < ax.size(); ++i) {
        const int64_t a = normAxis(ax[i], rank);
        full[a] = p[i];
        full[a + rank] = p[i + ax.size()];
      }
    } else {
      if (static_cast<int64_t>(p.size()) != 2 * rank)
        throw Error("pads has " + std::to_string(p.size()) + " values for a tensor of rank " +
                    std::to_string(rank));
      full = p;
    }
    // torch pads the last k dims; start at the outermost padded axis.
    int64_t first = rank;
    for (int64_t i = 0; i < rank; ++i)
      if (full[i] != 0 || full[i + rank] != 0) {
        first = i;
        break;
      }
    if (first == rank) return Tensors{x};
    Ints sub;
    for (int64_t i = first; i < rank; ++i) sub.push_back(full[i]);
    for (int64_t i = first; i < rank; ++i) sub.push_back(full[i + rank]);
    const Ints tp = torchPadList(sub);
    if (torch_mode == "constant") {
      const double v = value_input >= 0 ? in[value_input].item<double>() : *value;
      return Tensors{at::constant_pad_nd(x, tp, v)};
    }
    return Tensors{at::pad(x, tp, torch_mode)};
  }};
}

// ---------- resizing and masks ----------

// Resize as ONNX Runtime computes it, one axis at a time (nearest and linear are separable): each output
// coordinate maps to an input coordinate by the coordinate_transformation_mode, in float32 as ORT does, then
// picks (nearest) or blends (linear) input rows with index_select, so the gradient reaches the input.
struct ResizeAxis {
  std::string transform, nearest_mode;
  bool linear = false;
  // Input coordinate of output index `x` for an axis of `in` -> `out` elements at `scale`.
  float source(int64_t x, int64_t in, int64_t out, float scale) const {
    const float xf = static_cast<float>(x);
    if (transform == "asymmetric") return xf / scale;
    if (transform == "pytorch_half_pixel") return out > 1 ? (xf + 0.5f) / scale - 0.5f : 0.f;
    if (transform == "align_corners")
      return out == 1 ? 0.f : xf * static_cast<float>(in - 1) / static_cast<float>(out - 1);
    if (transform == "tf_half_pixel_for_nn") return (xf + 0.5f) / scale;
    if (transform == "half_pixel_symmetric") {
      const float adjustment = static_cast<float>(out) / (scale * static_cast<float>(in));
      const float center = static_cast<float>(in) / 2.f;
      return center * (1.f - adjustment) + (xf + 0.5f) / scale - 0.5f;
    }
    return (xf + 0.5f) / scale - 0.5f;  // half_pixel
  }
  int64_t nearest(float v, bool down) const {
    // "simple" is what ONNX Runtime does for Upsample and Resize-10: truncate when enlarging, ceil when
    // shrinking.
    if (nearest_mode == "simple") return down ? static_cast<int64_t>(std::ceil(v)) : static_cast<int64_t>(v);
    if (nearest_mode == "floor") return static_cast<int64_t>(std::floor(v));
    if (nearest_mode == "ceil") return static_cast<int64_t>(std::ceil(v));
    const bool tie = v == std::floor(v) + 0.5f;
    if (tie) return static_cast<int64_t>(nearest_mode == "round_prefer_ceil" ? std::ceil(v) : std::floor(v));
    return static_cast<int64_t>(std::round(v));
  }
  Tensor apply(const Tensor& x, int64_t axis, int64_t out, float scale) const {
    const int64_t in = x.size(axis);
    if (in == out && scale == 1.f) return x;
    if (!linear) {
      Ints index(static_cast<size_t>(out));
      for (int64_t i = 0; i < out; ++i)
        index[i] = std::clamp<int64_t>(nearest(source(i, in, out, scale), scale < 1.f), 0, in - 1);
      return x.index_select(axis, at::tensor(index, at::kLong));
    }
    Ints lo(static_cast<size_t>(out)), hi(static_cast<size_t>(out));
    std::vector<float> weight(static_cast<size_t>(out));
    for (int64_t i = 0; i < out; ++i) {
      const float v = std::clamp(source(i, in, out, scale), 0.f, static_cast<float>(in - 1));
      lo[i] = static_cast<int64_t>(std::floor(v));
      hi[i] = std::min(lo[i] + 1, in - 1);
      weight[i] = v - static_cast<float>(lo[i]);
    }
    Ints shape(x.dim(), 1);
    shape[axis] = out;
    Tensor w = at::tensor(weight, x.options().requires_grad(false)).reshape(shape);
    Tensor a = x.index_select(axis, at::tensor(lo, at::kLong));
    Tensor b = x.index_select(axis, at::tensor(hi, at::kLong));
    return a + (b - a) * w;
  }
};

CompiledOp compileResize(const NodeContext& c) {
  const std::string mode = attrString(*c.node, "mode", "nearest");
  if (mode != "nearest" && mode != "linear")
    fail(c, "mode '" + mode + "' is not supported by the training engine (nearest and linear are)");
  if (attrInt(*c.node, "antialias", 0)) fail(c, "antialias is not supported by the training engine");
  const std::string policy = attrString(*c.node, "keep_aspect_ratio_policy", "stretch");
  if (policy != "stretch") fail(c, "keep_aspect_ratio_policy '" + policy + "' is not supported (stretch is)");
  ResizeAxis how;
  how.linear = mode == "linear";
  // Upsample (opsets 7-9) and Resize-10 map coordinates asymmetrically and pick "simple" nearest neighbours.
  const bool upsample = c.node->op_type() == "Upsample";
  const bool legacy = upsample || c.opset < 11;
  how.transform = legacy ? "asymmetric" : attrString(*c.node, "coordinate_transformation_mode", "half_pixel");
  if (how.transform == "tf_crop_and_resize")
    fail(c, "coordinate_transformation_mode 'tf_crop_and_resize' is not supported");
  static const std::set<std::string> transforms = {"half_pixel",           "pytorch_half_pixel",
                                                   "align_corners",        "asymmetric",
                                                   "tf_half_pixel_for_nn", "half_pixel_symmetric"};
  if (!transforms.count(how.transform))
    fail(c, "coordinate_transformation_mode '" + how.transform + "' is not valid");
  how.nearest_mode = legacy ? "simple" : attrString(*c.node, "nearest_mode", "round_prefer_floor");
  const Ints axes_attr = attrInts(*c.node, "axes");
  // Upsample-7: scales attribute; Upsample-9 and Resize-10: (X, scales); from 11: (X, roi, scales, sizes),
  // where an empty scales tensor means "use sizes".
  std::vector<float> scales_attr;
  if (upsample && c.opset < 9)
    if (const auto* a = findAttr(*c.node, "scales"))
      scales_attr.assign(a->floats().begin(), a->floats().end());
  const int scales_input = legacy ? (upsample && c.opset < 9 ? -1 : 1) : 2, sizes_input = legacy ? -1 : 3;
  const bool has_sizes = sizes_input >= 0 && hasInput(c, sizes_input);
  const bool has_scales = !scales_attr.empty() || (scales_input >= 0 && hasInput(c, scales_input));
  if (!has_sizes && !has_scales) fail(c, "neither scales nor sizes is given");
  return {[=](const Tensors& in, bool) {
    const Tensor& x = in[0];
    const int64_t rank = x.dim();
    Ints axes = axes_attr;
    if (axes.empty())
      for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
    for (auto& a : axes) a = normAxis(a, rank);
    std::vector<float> scales = scales_attr;
    Ints sizes;
    if (scales.empty() && scales_input >= 0 && present(in, scales_input) && in[scales_input].numel() > 0) {
      Tensor t = in[scales_input].to(at::kFloat).contiguous();
      scales.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    } else if (has_sizes && present(in, sizes_input)) {
      sizes = toInts(in[sizes_input]);
    }
    if (scales.empty() && sizes.empty()) throw Error("neither scales nor sizes has values");
    const size_t n = scales.empty() ? sizes.size() : scales.size();
    if (n != axes.size())
      throw Error("scales/sizes have " + std::to_string(n) + " values for " + std::to_string(axes.size()) +
                  " axes");
    Tensor y = x;
    for (size_t i = 0; i < n; ++i) {
      const int64_t axis = axes[i], len = x.size(axis);
      int64_t out;
      float scale;
      if (!scales.empty()) {
        scale = scales[i];
        if (!(scale > 0.f)) throw Error("scale " + std::to_string(scale) + " is not positive");
        out = static_cast<int64_t>(static_cast<float>(len) * scale);
      } else {
        out = sizes[i];
        scale = static_cast<float>(out) / static_cast<float>(len);
      }
      y = how.apply(y, axis, out, scale);
    }
    return Tensors{y};
  }};
}

CompiledOp compileTrilu(const NodeContext& c) {
  const bool upper = attrInt(*c.node, "upper", 1) != 0;
  IntsSource k = intsInput(c, 1);
  return {[upper, k](const Tensors& in, bool) {
    const int64_t diagonal = k.present ? k.get(in).at(0) : 0;
    return Tensors{upper ? at::triu(in[0], diagonal) : at::tril(in[0], diagonal)};
  }};
}

// Index tensors for the first `k` axes of `data` from ONNX indices [..., k] (negative indices count from the
// end).
c10::List<c10::optional<Tensor>> leadingIndices(const Tensor& data, const Tensor& indices) {
  const int64_t k = indices.size(-1);
  if (k > data.dim())
    throw Error("indices address " + std::to_string(k) + " axes of a tensor of rank " +
                std::to_string(data.dim()));
  Tensor flat = indices.to(at::kLong).reshape({-1, k});
  c10::List<c10::optional<Tensor>> list;
  for (int64_t i = 0; i < k; ++i) list.push_back(at::remainder(flat.select(1, i), data.size(i)));
  return list;
}

CompiledOp compileGatherND(const NodeContext& c) {
  if (attrInt(*c.node, "batch_dims", 0) != 0) fail(c, "batch_dims other than 0 is not supported");
  return {[](const Tensors& in, bool) {
    const Tensor& data = in[0];
    const Tensor& indices = in[1];
    Ints shape(indices.sizes().begin(), indices.sizes().end() - 1);
    shape.insert(shape.end(), data.sizes().begin() + indices.size(-1), data.sizes().end());
    return Tensors{data.index(leadingIndices(data, indices)).reshape(shape)};
  }};
}

CompiledOp compileScatterND(const NodeContext& c) {
  const std::string reduction = attrString(*c.node, "reduction", "none");
  if (reduction != "none" && reduction != "add")
    fail(c, "reduction '" + reduction + "' is not supported (none, add are)");
  const bool accumulate = reduction == "add";
  return {[accumulate](const Tensors& in, bool) {
    const Tensor& data = in[0];
    const Tensor& indices = in[1];
    const int64_t k = indices.size(-1);
    Ints update_shape{-1};
    update_shape.insert(update_shape.end(), data.sizes().begin() + k, data.sizes().end());
    Tensor updates = in[2].to(data.scalar_type()).reshape(update_shape);
    return Tensors{at::index_put(data, leadingIndices(data, indices), updates, accumulate)};
  }};
}

// ---------- quantization (fake quantization with a straight-through gradient) ----------

// Reshapes a per-axis scale / zero point [C] so it broadcasts along `axis` of a rank-`rank` tensor.
Tensor alongAxis(const Tensor& t, int64_t axis, int64_t rank) {
  if (t.dim() == 0 || t.numel() == 1) return t.reshape({});
  Ints shape(rank, 1);
  shape[normAxis(axis, rank)] = t.numel();
  return t.reshape(shape);
}

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

// ---------- the registry ----------

using Compiler = CompiledOp (*)(const NodeContext&);

const std::unordered_map<std::string, Compiler>& registry() {
  static const std::unordered_map<std::string, Compiler> table = {
      // element-wise unary
      {"Relu", [](const NodeContext&) { return unary([](const Tensor& x) { return at::relu(x); }); }},
      {"Sigmoid", [](const NodeContext&) { return unary([](const Tensor& x) { return at::sigmoid(x); }); }},
      {"Tanh", [](const NodeContext&) { return unary([](const Tensor& x) { return at::tanh(x); }); }},
      {"Erf", [](const NodeContext&) { return unary([](const Tensor& x) { return at::erf(x); }); }},
      {"Sqrt", [](const NodeContext&) { return unary([](const Tensor& x) { return at::sqrt(x); }); }},
      {"Exp", [](const NodeContext&) { return unary([](const Tensor& x) { return at::exp(x); }); }},
      {"Log", [](const NodeContext&) { return unary([](const Tensor& x) { return at::log(x); }); }},
      {"Neg", [](const NodeContext&) { return unary([](const Tensor& x) { return at::neg(x); }); }},
      {"Abs", [](const NodeContext&) { return unary([](const Tensor& x) { return at::abs(x); }); }},
      {"Reciprocal",
       [](const NodeContext&) { return unary([](const Tensor& x) { return at::reciprocal(x); }); }},
      {"Floor", [](const NodeContext&) { return unary([](const Tensor& x) { return at::floor(x); }); }},
      {"Ceil", [](const NodeContext&) { return unary([](const Tensor& x) { return at::ceil(x); }); }},
      {"Round", [](const NodeContext&) { return unary([](const Tensor& x) { return at::round(x); }); }},
      {"Sin", [](const NodeContext&) { return unary([](const Tensor& x) { return at::sin(x); }); }},
      {"Cos", [](const NodeContext&) { return unary([](const Tensor& x) { return at::cos(x); }); }},
      {"Not", [](const NodeContext&) { return unary([](const Tensor& x) { return at::logical_not(x); }); }},
      {"Softplus", [](const NodeContext&) { return unary([](const Tensor& x) { return at::softplus(x); }); }},
      {"Softsign",
       [](const NodeContext&) { return unary([](const Tensor& x) { return x / (at::abs(x) + 1); }); }},
      {"HardSwish",
       [](const NodeContext&) { return unary([](const Tensor& x) { return at::hardswish(x); }); }},
      {"Identity", [](const NodeContext&) { return unary([](const Tensor& x) { return x; }); }},
      {"Sign", [](const NodeContext&) { return unary([](const Tensor& x) { return at::sign(x); }); }},
      {"IsNaN", [](const NodeContext&) { return unary([](const Tensor& x) { return at::isnan(x); }); }},
      {"IsInf", compileIsInf},
      {"Celu", compileCelu},
      {"ThresholdedRelu", compileThresholdedRelu},
      {"Mish",
       [](const NodeContext&) {
         return unary([](const Tensor& x) { return x * at::tanh(at::softplus(x)); });
       }},
      {"HardSigmoid", compileHardSigmoid},
      {"LeakyRelu", compileLeakyRelu},
      {"Elu", compileElu},
      {"Selu", compileSelu},
      {"Gelu", compileGelu},
      {"Clip", compileClip},
      {"PRelu",
       [](const NodeContext&) {
         return binary([](const Tensor& x, const Tensor& slope) { return at::where(x >= 0, x, x * slope); });
       }},
      // element-wise binary / variadic
      {"Add",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::add(a, b); });
       }},
      {"Sub",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::sub(a, b); });
       }},
      {"Mul",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::mul(a, b); });
       }},
      {"Div", compileDiv},
      {"Pow", compilePow},
      {"Mod", compileMod},
      {"Equal",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::eq(a, b); });
       }},
      {"Less",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::lt(a, b); });
       }},
      {"LessOrEqual",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::le(a, b); });
       }},
      {"Greater",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::gt(a, b); });
       }},
      {"GreaterOrEqual",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::ge(a, b); });
       }},
      {"And",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::logical_and(a, b); });
       }},
      {"Or",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::logical_or(a, b); });
       }},
      {"Xor",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::logical_xor(a, b); });
       }},
      {"Sum",
       [](const NodeContext&) {
         return variadic([](const Tensor& a, const Tensor& b) { return at::add(a, b); }, false);
       }},
      {"Mean",
       [](const NodeContext&) {
         return variadic([](const Tensor& a, const Tensor& b) { return at::add(a, b); }, true);
       }},
      {"Max",
       [](const NodeContext&) {
         return variadic([](const Tensor& a, const Tensor& b) { return at::maximum(a, b); }, false);
       }},
      {"Min",
       [](const NodeContext&) {
         return variadic([](const Tensor& a, const Tensor& b) { return at::minimum(a, b); }, false);
       }},
      {"Where", compileWhere},
      // linear algebra, convolution, normalization
      {"MatMul",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::matmul(a, b); });
       }},
      {"Gemm", compileGemm},
      {"Einsum", compileEinsum},
      {"Conv", compileConv},
      {"ConvTranspose", compileConvTranspose},
      {"BatchNormalization", compileBatchNorm},
      {"InstanceNormalization", compileInstanceNorm},
      {"LayerNormalization", compileLayerNorm},
      {"Dropout", compileDropout},
      // pooling
      {"MaxPool", compileMaxPool},
      {"AveragePool", compileAveragePool},
      {"GlobalAveragePool", [](const NodeContext&) { return compileGlobalPool(false); }},
      {"GlobalMaxPool", [](const NodeContext&) { return compileGlobalPool(true); }},
      // shape and indexing
      {"Flatten", compileFlatten},
      {"Reshape", compileReshape},
      {"Transpose", compileTranspose},
      {"Concat", compileConcat},
      {"Split", compileSplit},
      {"Slice", compileSlice},
      {"Gather", compileGather},
      {"GatherElements", compileGatherElements},
      {"Unsqueeze", compileUnsqueeze},
      {"Squeeze", compileSqueeze},
      {"Shape", compileShape},
      {"Size", compileSize},
      {"Constant", compileConstant},
      {"ConstantOfShape", compileConstantOfShape},
      {"Expand", compileExpand},
      {"Tile", compileTile},
      {"Range", compileRange},
      {"Pad", compilePad},
      {"Cast", compileCast},
      {"Resize", compileResize},
      {"Upsample", compileResize},
      {"Trilu", compileTrilu},
      {"GatherND", compileGatherND},
      {"ScatterND", compileScatterND},
      {"CastLike", compileCastLike},
      // reductions and normalizers
      {"Softmax", [](const NodeContext& c) { return compileSoftmax(c, false); }},
      {"LogSoftmax", [](const NodeContext& c) { return compileSoftmax(c, true); }},
      {"ReduceMean", [](const NodeContext& c) { return compileReduce(c, Reduce::Mean); }},
      {"ReduceSum", [](const NodeContext& c) { return compileReduce(c, Reduce::Sum); }},
      {"ReduceMax", [](const NodeContext& c) { return compileReduce(c, Reduce::Max); }},
      {"ReduceMin", [](const NodeContext& c) { return compileReduce(c, Reduce::Min); }},
      {"ReduceProd", [](const NodeContext& c) { return compileReduce(c, Reduce::Prod); }},
      {"ReduceL2", [](const NodeContext& c) { return compileReduce(c, Reduce::L2); }},
      {"ReduceSumSquare", [](const NodeContext& c) { return compileReduce(c, Reduce::SumSquare); }},
      {"ReduceL1", [](const NodeContext& c) { return compileReduce(c, Reduce::L1); }},
      {"ReduceLogSum", [](const NodeContext& c) { return compileReduce(c, Reduce::LogSum); }},
      {"ReduceLogSumExp", [](const NodeContext& c) { return compileReduce(c, Reduce::LogSumExp); }},
      {"TopK", compileTopK},
      {"CumSum", compileCumSum},
      {"OneHot", compileOneHot},
      {"ArgMax", [](const NodeContext& c) { return compileArg(c, true); }},
      {"ArgMin", [](const NodeContext& c) { return compileArg(c, false); }},
      // quantization
      {"QuantizeLinear", compileQuantize},
      {"DequantizeLinear", compileDequantize},
  };
  return table;
}

}  // namespace

bool isSupported(const onnx::NodeProto& node) {
  if (!node.domain().empty() && node.domain() != "ai.onnx") return false;
  return registry().count(node.op_type()) > 0;
}

CompiledOp compile(const NodeContext& context) {
  auto it = registry().find(context.node->op_type());
  if (it == registry().end() || !isSupported(*context.node))
    throw Error(describeNode(*context.node) + ": operator " + context.node->op_type() +
                " is not supported by the training engine");
  try {
    return it->second(context);
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind(describeNode(*context.node), 0) == 0) throw;
    throw Error(describeNode(*context.node) + ": " + what);
  }
}

at::ScalarType toScalarType(DataType type) {
  switch (type) {
    case DataType::Float32:
      return at::kFloat;
    case DataType::UInt8:
      return at::kByte;
    case DataType::Int8:
      return at::kChar;
    case DataType::Int16:
      return at::kShort;
    case DataType::Int32:
      return at::kInt;
    case DataType::Int64:
      return at::kLong;
    case DataType::Bool:
      return at::kBool;
    case DataType::Float16:
      return at::kHalf;
    case DataType::Float64:
      return at::kDouble;
    case DataType::UInt16:
      break;
  }
  throw Error("element type " + dataTypeName(type) + " is not supported by the training engine");
}

DataType fromScalarType(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return DataType::Float32;
    case at::kByte:
      return DataType::UInt8;
    case at::kChar:
      return DataType::Int8;
    case at::kShort:
      return DataType::Int16;
    case at::kInt:
      return DataType::Int32;
    case at::kLong:
      return DataType::Int64;
    case at::kBool:
      return DataType::Bool;
    case at::kHalf:
      return DataType::Float16;
    case at::kDouble:
      return DataType::Float64;
    default:
      break;
  }
  throw Error(std::string("torch element type ") + c10::toString(type) + " has no EdgeTune equivalent");
}

at::Tensor toTorch(const edgetune::Tensor& tensor, bool copy) {
  auto& mutable_tensor =
      const_cast<edgetune::Tensor&>(tensor);  // from_blob wants a non-const pointer; we never write
  at::Tensor view = at::from_blob(mutable_tensor.raw(), tensor.shape(), toScalarType(tensor.type()));
  return copy ? view.clone() : view;
}

edgetune::Tensor fromTorch(const at::Tensor& tensor, DataType as_type) {
  at::Tensor t = tensor.detach();
  const at::ScalarType target = toScalarType(as_type);
  if (t.scalar_type() != target) {
    // Quantized values are carried as floats; round before narrowing so 2.9999 becomes 3, not 2.
    if (at::isFloatingType(t.scalar_type()) && at::isIntegralType(target, false)) t = at::round(t);
    t = t.to(target);
  }
  t = t.contiguous();
  edgetune::Tensor out(as_type, Ints(t.sizes().begin(), t.sizes().end()));
  if (out.byteSize()) std::memcpy(out.raw(), t.data_ptr(), out.byteSize());
  return out;
}

edgetune::Tensor fromTorch(const at::Tensor& tensor) {
  return fromTorch(tensor, fromScalarType(tensor.scalar_type()));
}

}  // namespace edgetune::torch_ops
