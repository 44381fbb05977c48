// ONNX operators as libtorch kernels: resizing.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/train/torch_ops_kernels.h"

namespace edgetune::torch_ops::kernels {

namespace {

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

}  // namespace

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

}  // namespace edgetune::torch_ops::kernels
