// ONNX operators as libtorch kernels: softmax and reductions (Reduce*, ArgMax/ArgMin, TopK, CumSum).
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/train/torch_ops_kernels.h"

namespace edgetune::torch_ops::kernels {

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

}  // namespace edgetune::torch_ops::kernels
