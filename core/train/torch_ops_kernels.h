#pragma once
// Internal to core/train/torch_ops*.cpp: the helpers every kernel family uses (attribute and constant-input
// parsing, axes, pads, conv/pool windows) and the compile function of every ONNX operator the interpreter
// runs, grouped by the file that defines them. torch_ops.cpp holds the dispatch table from op names to these.
// Includes ATen; never include this from Qt code.
#include <ATen/ATen.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/ir/model.h"
#include "core/train/torch_ops.h"
#include "core/util/error.h"

namespace edgetune::torch_ops::kernels {

using at::Tensor;
using Tensors = std::vector<at::Tensor>;
using Ints = std::vector<int64_t>;

inline const onnx::AttributeProto* findAttr(const onnx::NodeProto& node, const char* name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

[[noreturn]] inline void fail(const NodeContext& c, const std::string& problem) {
  throw Error(describeNode(*c.node) + ": " + problem);
}

inline bool hasInput(const NodeContext& c, int i) {
  return i < c.node->input_size() && !c.node->input(i).empty();
}
inline bool present(const Tensors& in, size_t i) {
  return i < in.size() && in[i].defined();
}

inline Ints toInts(const Tensor& t) {
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
inline IntsSource intsInput(const NodeContext& c, int i) {
  IntsSource s;
  if (!hasInput(c, i)) return s;
  s.present = true;
  s.input = i;
  if (const Tensor* t = c.constant_input(i)) s.constant = toInts(*t);
  return s;
}
inline IntsSource intsAttr(const NodeContext& c, const char* name) {
  IntsSource s;
  if (const auto* a = findAttr(*c.node, name)) {
    s.present = true;
    s.constant = Ints(a->ints().begin(), a->ints().end());
  }
  return s;
}

inline int64_t normAxis(int64_t axis, int64_t rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw Error("axis " + std::to_string(axis) + " is out of range for a tensor of rank " +
                std::to_string(rank));
  return a;
}

inline Ints product(const at::IntArrayRef sizes, int64_t from, int64_t to) {
  int64_t p = 1;
  for (int64_t i = from; i < to; ++i) p *= sizes[i];
  return {p};
}

// ONNX pads [b1..bn, e1..en] over the last n dims -> torch's pad list (last dim first: b_n, e_n, b_n-1, ...).
inline Ints torchPadList(const Ints& pads) {
  const size_t n = pads.size() / 2;
  Ints out;
  for (size_t i = n; i-- > 0;) {
    out.push_back(pads[i]);
    out.push_back(pads[i + n]);
  }
  return out;
}

inline bool symmetric(const Ints& pads) {
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

// --- torch_ops_elementwise.cpp: element-wise (unary, binary, variadic, activations, dropout) ---

using Unary = Tensor (*)(const Tensor&);
using Binary = Tensor (*)(const Tensor&, const Tensor&);

CompiledOp unary(Unary f);
CompiledOp binary(Binary f);
CompiledOp variadic(Binary f, bool mean);
CompiledOp compileDiv(const NodeContext&);
CompiledOp compilePow(const NodeContext&);
CompiledOp compileMod(const NodeContext&);
CompiledOp compileClip(const NodeContext&);
CompiledOp compileHardSigmoid(const NodeContext&);
CompiledOp compileLeakyRelu(const NodeContext&);
CompiledOp compileElu(const NodeContext&);
CompiledOp compileSelu(const NodeContext&);
CompiledOp compileGelu(const NodeContext&);
CompiledOp compileIsInf(const NodeContext&);
CompiledOp compileCelu(const NodeContext&);
CompiledOp compileThresholdedRelu(const NodeContext&);
CompiledOp compileDropout(const NodeContext&);

// --- torch_ops_nn.cpp: convolution, normalization, linear layers and pooling ---

CompiledOp compileConv(const NodeContext&);
CompiledOp compileConvTranspose(const NodeContext&);
CompiledOp compileBatchNorm(const NodeContext&);
CompiledOp compileInstanceNorm(const NodeContext&);
CompiledOp compileLayerNorm(const NodeContext&);
CompiledOp compileGemm(const NodeContext&);
CompiledOp compileEinsum(const NodeContext&);
CompiledOp compileMaxPool(const NodeContext&);
CompiledOp compileAveragePool(const NodeContext&);
CompiledOp compileGlobalPool(bool max);

// --- torch_ops_shape.cpp: shape, indexing, constants and padding ---

CompiledOp compileFlatten(const NodeContext&);
CompiledOp compileReshape(const NodeContext&);
CompiledOp compileTranspose(const NodeContext&);
CompiledOp compileConcat(const NodeContext&);
CompiledOp compileSplit(const NodeContext&);
CompiledOp compileSlice(const NodeContext&);
CompiledOp compileGather(const NodeContext&);
CompiledOp compileGatherElements(const NodeContext&);
CompiledOp compileUnsqueeze(const NodeContext&);
CompiledOp compileSqueeze(const NodeContext&);
CompiledOp compileShape(const NodeContext&);
CompiledOp compileSize(const NodeContext&);
CompiledOp compileConstant(const NodeContext&);
CompiledOp compileConstantOfShape(const NodeContext&);
CompiledOp compileExpand(const NodeContext&);
CompiledOp compileTile(const NodeContext&);
CompiledOp compileRange(const NodeContext&);
CompiledOp compileWhere(const NodeContext&);
CompiledOp compileCast(const NodeContext&);
CompiledOp compileCastLike(const NodeContext&);
CompiledOp compileOneHot(const NodeContext&);
CompiledOp compilePad(const NodeContext&);
CompiledOp compileTrilu(const NodeContext&);
CompiledOp compileGatherND(const NodeContext&);
CompiledOp compileScatterND(const NodeContext&);

// --- torch_ops_reduce.cpp: softmax and reductions (Reduce*, ArgMax/ArgMin, TopK, CumSum) ---

enum class Reduce { Mean, Sum, Max, Min, Prod, L1, L2, SumSquare, LogSum, LogSumExp };

CompiledOp compileSoftmax(const NodeContext&, bool log);
CompiledOp compileReduce(const NodeContext&, Reduce kind);
CompiledOp compileArg(const NodeContext&, bool max);
CompiledOp compileTopK(const NodeContext&);
CompiledOp compileCumSum(const NodeContext&);

// --- torch_ops_resize.cpp: resizing ---

CompiledOp compileResize(const NodeContext&);

// --- torch_ops_quantize.cpp: quantization (fake quantization with a straight-through gradient) ---

CompiledOp compileQuantize(const NodeContext&);
CompiledOp compileDequantize(const NodeContext&);

}  // namespace edgetune::torch_ops::kernels
