// TFLite converters of the layout-blind ops (activations, element-wise arithmetic, BatchNormalization,
// Concat, Split, Pad, ReduceMean: they run in whatever layout their input has and remap their axes), of the
// ops that reorder elements (Reshape / Flatten / Squeeze / Unsqueeze, Transpose, Softmax, Gather) and of
// Identity.
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "core/export/tflite_converter.h"
#include "core/util/error.h"

namespace edgetune::tflite_export {
namespace {

template <class MakeOptions>
OperatorOptions options(tfl::BuiltinOptions type, MakeOptions make) {
  return {type, [make](flatbuffers::FlatBufferBuilder& b) { return make(b).Union(); }};
}

int64_t normalizeAxis(TfliteConverter& c, const onnx::NodeProto& node, int64_t axis, size_t rank) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) c.unsupported(node, "axis " + std::to_string(axis) + " is out of range");
  return axis < 0 ? axis + r : axis;
}

// The layout a multi-input op works in: that of its first run-time input of the output's rank.
Perm sharedLayout(TfliteConverter& c, const onnx::NodeProto& node, size_t rank) {
  for (const auto& in : node.input())
    if (!in.empty() && !c.isConstant(in) && c.shape(in).size() == rank) return c.layoutOf(in);
  return identityPerm(rank);
}

// An operand of a broadcasting op in layout `perm` of rank `rank`: constants are given leading 1s and
// permuted at export.
int32_t broadcastOperand(TfliteConverter& c, const onnx::NodeProto& node, const std::string& name,
                         const Perm& perm) {
  const size_t rank = perm.size();
  const auto shape = c.shape(name);
  if (shape.size() == rank) return c.input(name, perm);
  if (!c.isConstant(name)) {
    if (isIdentity(perm)) return c.input(name, identityPerm(shape.size()));
    c.unsupported(node, "broadcasting the lower-rank input '" + name + "' against an NHWC tensor");
  }
  std::vector<int64_t> expanded(rank - shape.size(), 1);
  expanded.insert(expanded.end(), shape.begin(), shape.end());
  const Tensor t = c.constant(node, name).reshaped(expanded);
  return c.constantTensor(name + (isIdentity(perm) ? "_expanded" : "_nhwc"), permuteTensor(t, perm));
}

// The options of ADD / SUB / MUL / DIV (with a fused Relu / Relu6) and POW.
OperatorOptions binaryOptions(tfl::BuiltinOptions type, tfl::ActivationFunctionType act) {
  switch (type) {
    case tfl::BuiltinOptions::AddOptions:
      return options(type, [act](auto& b) { return tfl::CreateAddOptions(b, act); });
    case tfl::BuiltinOptions::SubOptions:
      return options(type, [act](auto& b) { return tfl::CreateSubOptions(b, act); });
    case tfl::BuiltinOptions::MulOptions:
      return options(type, [act](auto& b) { return tfl::CreateMulOptions(b, act); });
    case tfl::BuiltinOptions::DivOptions:
      return options(type, [act](auto& b) { return tfl::CreateDivOptions(b, act); });
    default:
      return options(type, [](auto& b) { return tfl::CreatePowOptions(b); });
  }
}

void convertBinary(TfliteConverter& c, const onnx::NodeProto& node, tfl::BuiltinOperator op,
                   tfl::BuiltinOptions type) {
  const size_t rank = c.shape(node.output(0)).size();
  const Perm perm = sharedLayout(c, node, rank);
  const int32_t a = broadcastOperand(c, node, node.input(0), perm);
  const int32_t b = broadcastOperand(c, node, node.input(1), perm);
  tfl::ActivationFunctionType act = tfl::ActivationFunctionType::NONE;
  const int32_t out = type == tfl::BuiltinOptions::PowOptions ? c.output(node, 0, perm)
                                                              : c.outputFusingActivation(node, perm, act);
  c.builder().addOperator(op, {a, b}, {out}, binaryOptions(type, act));
}

void convertUnary(TfliteConverter& c, const onnx::NodeProto& node, tfl::BuiltinOperator op) {
  const Perm perm = c.layoutOf(node.input(0));
  const int32_t in = c.input(node.input(0), perm);
  c.builder().addOperator(op, {in}, {c.output(node, 0, perm)});
}

void convertClip(TfliteConverter& c, const onnx::NodeProto& node) {
  const auto [lo, hi] = clipBounds(c, node);
  const bool no_hi = !hi;
  if (lo && *lo == 0.0f && hi && *hi == 6.0f) return convertUnary(c, node, tfl::BuiltinOperator::RELU6);
  if (lo && *lo == 0.0f && no_hi) return convertUnary(c, node, tfl::BuiltinOperator::RELU);
  // Any other range: MAXIMUM with the low bound, then MINIMUM with the high one.
  const Perm perm = c.layoutOf(node.input(0));
  const std::vector<int64_t> ones(perm.size(), 1);
  int32_t value = c.input(node.input(0), perm);
  const std::string& y = node.output(0);
  const auto tflite_shape = permuteShape(c.shape(y), perm);
  auto bound = [&](float v, const std::string& what) {
    return c.constantTensor(y + "/" + what, Tensor::from<float>(ones, std::vector<float>{v}));
  };
  if (lo) {
    const int32_t next =
        no_hi ? c.output(node, 0, perm) : c.scratchTensor(y + "/low", DataType::Float32, tflite_shape);
    c.builder().addOperator(tfl::BuiltinOperator::MAXIMUM, {value, bound(*lo, "min")}, {next});
    value = next;
  }
  if (!no_hi)
    c.builder().addOperator(tfl::BuiltinOperator::MINIMUM, {value, bound(*hi, "max")},
                            {c.output(node, 0, perm)});
  if (!lo && no_hi) c.defineValue(y, value, perm);  // no bounds: the input itself
}

void convertPow(TfliteConverter& c, const onnx::NodeProto& node) {
  // x^2 (LayerNorm's variance) as a MUL, which every reader has.
  if (c.isConstant(node.input(1))) {
    const Tensor& e = c.constant(node, node.input(1));
    if (e.type() == DataType::Float32 && e.numel() == 1 && e.values<float>()[0] == 2.0f) {
      const Perm perm = c.layoutOf(node.input(0));
      const int32_t x = c.input(node.input(0), perm);
      c.builder().addOperator(
          tfl::BuiltinOperator::MUL, {x, x}, {c.output(node, 0, perm)},
          options(tfl::BuiltinOptions::MulOptions, [](auto& b) { return tfl::CreateMulOptions(b); }));
      return;
    }
  }
  convertBinary(c, node, tfl::BuiltinOperator::POW, tfl::BuiltinOptions::PowOptions);
}

// Inference BatchNormalization (one not folded into a Conv) as MUL by gamma / sqrt(var + eps) and ADD of
// beta - mean * that, per channel of axis 1, in the input's layout; a following Relu fuses into the ADD.
void convertBatchNormalization(TfliteConverter& c, const onnx::NodeProto& node) {
  if (node.output_size() > 1)
    c.unsupported(node, "training mode (running statistics outputs) is not supported");
  const std::string& x = node.input(0);
  const auto shape = c.shape(x);
  if (shape.size() < 2) c.unsupported(node, "the input needs a channel dimension");
  const float eps = attrFloat(node, "epsilon", 1e-5f);
  std::vector<std::span<const float>> p;
  for (int i = 1; i <= 4; ++i) {
    const Tensor& t = c.constant(node, node.input(i));
    if (t.type() != DataType::Float32 || t.numel() != shape[1])
      c.unsupported(node, "'" + node.input(i) + "' must be float32 with one value per channel");
    p.push_back(t.values<float>());
  }
  std::vector<int64_t> channel_shape(shape.size() - 1, 1);  // [C, 1, 1]: broadcasts over axis 1
  channel_shape[0] = shape[1];
  Tensor scale(DataType::Float32, channel_shape), shift(DataType::Float32, channel_shape);
  for (int64_t ch = 0; ch < shape[1]; ++ch) {
    const float s = p[0][ch] / std::sqrt(p[3][ch] + eps);
    scale.values<float>()[ch] = s;
    shift.values<float>()[ch] = p[1][ch] - p[2][ch] * s;
  }
  const std::string& y = node.output(0);
  c.defineConstant(y + "/scale", std::move(scale));
  c.defineConstant(y + "/shift", std::move(shift));
  const Perm perm = c.layoutOf(x);
  const int32_t scaled = c.scratchTensor(y + "/scaled", c.type(x), permuteShape(shape, perm));
  c.builder().addOperator(tfl::BuiltinOperator::MUL,
                          {c.input(x, perm), broadcastOperand(c, node, y + "/scale", perm)}, {scaled},
                          binaryOptions(tfl::BuiltinOptions::MulOptions, tfl::ActivationFunctionType::NONE));
  tfl::ActivationFunctionType act;
  const int32_t out = c.outputFusingActivation(node, perm, act);
  c.builder().addOperator(tfl::BuiltinOperator::ADD, {scaled, broadcastOperand(c, node, y + "/shift", perm)},
                          {out}, binaryOptions(tfl::BuiltinOptions::AddOptions, act));
}

// HardSigmoid max(0, min(1, alpha x + beta)) as MUL by 6 alpha, ADD of 6 beta with a fused RELU6, MUL by 1/6.
void convertHardSigmoid(TfliteConverter& c, const onnx::NodeProto& node) {
  const std::string &x = node.input(0), &y = node.output(0);
  const float alpha = attrFloat(node, "alpha", 0.2f), beta = attrFloat(node, "beta", 0.5f);
  const Perm perm = c.layoutOf(x);
  const auto tshape = permuteShape(c.shape(x), perm);
  const std::vector<int64_t> ones(perm.size(), 1);
  auto scalar = [&](const std::string& what, float v) {
    return c.constantTensor(y + "/" + what, Tensor::from<float>(ones, std::vector<float>{v}));
  };
  const int32_t scaled = c.scratchTensor(y + "/scaled", DataType::Float32, tshape);
  const int32_t clipped = c.scratchTensor(y + "/relu6", DataType::Float32, tshape);
  c.builder().addOperator(tfl::BuiltinOperator::MUL, {c.input(x, perm), scalar("alpha6", 6.0f * alpha)},
                          {scaled},
                          binaryOptions(tfl::BuiltinOptions::MulOptions, tfl::ActivationFunctionType::NONE));
  c.builder().addOperator(tfl::BuiltinOperator::ADD, {scaled, scalar("beta6", 6.0f * beta)}, {clipped},
                          binaryOptions(tfl::BuiltinOptions::AddOptions, tfl::ActivationFunctionType::RELU6));
  c.builder().addOperator(tfl::BuiltinOperator::MUL, {clipped, scalar("sixth", 1.0f / 6.0f)},
                          {c.output(node, 0, perm)},
                          binaryOptions(tfl::BuiltinOptions::MulOptions, tfl::ActivationFunctionType::NONE));
}

// Split along an axis of the input's layout: SPLIT for equal parts, SPLIT_V for given sizes.
void convertSplit(TfliteConverter& c, const onnx::NodeProto& node) {
  const std::string& x = node.input(0);
  const auto shape = c.shape(x);
  const int64_t axis = normalizeAxis(c, node, attrInt(node, "axis", 0), shape.size());
  std::vector<int32_t> sizes;
  for (int i = 0; i < node.output_size(); ++i)
    sizes.push_back(static_cast<int32_t>(c.shape(node.output(i))[static_cast<size_t>(axis)]));
  const Perm perm = c.layoutOf(x);
  const int32_t input = c.input(x, perm);
  const int32_t tflite_axis = tfliteAxis(perm, axis);
  std::vector<int32_t> outputs;
  for (int i = 0; i < node.output_size(); ++i) outputs.push_back(c.output(node, i, perm));
  const auto count = static_cast<int32_t>(sizes.size());
  const int32_t axis_t = c.int32Constant(node.output(0) + "/split_axis", {tflite_axis}, {});
  if (std::all_of(sizes.begin(), sizes.end(), [&](int32_t s) { return s == sizes[0]; })) {
    c.builder().addOperator(tfl::BuiltinOperator::SPLIT, {axis_t, input}, outputs,
                            options(tfl::BuiltinOptions::SplitOptions,
                                    [=](auto& b) { return tfl::CreateSplitOptions(b, count); }));
    return;
  }
  const int32_t sizes_t = c.int32Constant(node.output(0) + "/split_sizes", sizes);
  c.builder().addOperator(tfl::BuiltinOperator::SPLIT_V, {input, sizes_t, axis_t}, outputs,
                          options(tfl::BuiltinOptions::SplitVOptions,
                                  [=](auto& b) { return tfl::CreateSplitVOptions(b, count); }));
}

void convertConcat(TfliteConverter& c, const onnx::NodeProto& node) {
  const size_t rank = c.shape(node.output(0)).size();
  const int64_t axis = normalizeAxis(c, node, attrInt(node, "axis", 0), rank);
  const Perm perm = sharedLayout(c, node, rank);
  std::vector<int32_t> inputs;
  for (const auto& in : node.input()) inputs.push_back(c.input(in, perm));
  const int32_t tflite_axis = tfliteAxis(perm, axis);
  c.builder().addOperator(tfl::BuiltinOperator::CONCATENATION, inputs, {c.output(node, 0, perm)},
                          options(tfl::BuiltinOptions::ConcatenationOptions,
                                  [=](auto& b) { return tfl::CreateConcatenationOptions(b, tflite_axis); }));
}

// The ONNX feature index of each TFLite feature of `shape` (ONNX order) stored in layout `perm` and flattened
// after the first dimension.
std::vector<int64_t> flattenOrderOf(const std::vector<int64_t>& shape, const Perm& perm) {
  const size_t rank = shape.size();
  const auto tshape = permuteShape(shape, perm);
  std::vector<int64_t> onnx_strides(rank, 1);
  for (size_t i = rank; i-- > 1;) onnx_strides[i - 1] = onnx_strides[i] * shape[i];
  int64_t features = 1;
  for (size_t i = 1; i < rank; ++i) features *= shape[i];
  std::vector<int64_t> order(static_cast<size_t>(features));
  std::vector<int64_t> index(rank, 0);  // TFLite multi-index over dimensions 1..
  for (int64_t k = 0; k < features; ++k) {
    int64_t onnx = 0;
    for (size_t i = 1; i < rank; ++i) onnx += index[i] * onnx_strides[static_cast<size_t>(perm[i])];
    order[static_cast<size_t>(k)] = onnx;
    for (size_t i = rank; i-- > 1;) {
      if (++index[i] < tshape[i]) break;
      index[i] = 0;
    }
  }
  return order;
}

// True when every reader of `name` is a Gemm or MatMul that becomes a FULLY_CONNECTED with `name` as its rows
// and constant weights, which can take the features in any order by permuting the weights.
bool onlyFeedsFullyConnected(TfliteConverter& c, const std::string& name) {
  const Model& m = c.model();
  if (m.isGraphOutput(name)) return false;
  const auto& readers = m.consumers(name);
  if (readers.empty()) return false;
  for (int i : readers) {
    const auto& n = m.graph().node(i);
    const bool rows =
        n.input(0) == name && n.input_size() > 1 && n.input(1) != name && c.isConstant(n.input(1));
    if (!rows) return false;
    if (n.op_type() == "Gemm" && attrInt(n, "transA", 0) == 0) continue;
    if (n.op_type() == "MatMul" && c.shape(n.input(1)).size() == 2) continue;
    return false;
  }
  return true;
}

// Reshape, Flatten, Squeeze and Unsqueeze: a RESHAPE to the inferred output shape. Read in place when the
// stored layout holds the ONNX element order; a 2-D flatten that only feeds FullyConnected layers keeps the
// NHWC order (its weights are permuted instead); otherwise the value is transposed back to the ONNX layout.
void convertReshape(TfliteConverter& c, const onnx::NodeProto& node) {
  const std::string& x = node.input(0);
  const std::string& y = node.output(0);
  const auto in_shape = c.shape(x), out_shape = c.shape(y);
  if (c.isConstant(x)) {
    c.defineConstant(y, c.constant(node, x).reshaped(out_shape));
    return;
  }
  const Perm perm = c.layoutOf(x);
  int32_t input;
  bool nhwc_flatten = false;
  if (sameElementOrder(in_shape, perm)) {
    input = c.input(x, perm);
  } else if (out_shape.size() == 2 && perm[0] == 0 && out_shape[0] == in_shape[0] &&
             onlyFeedsFullyConnected(c, y)) {
    input = c.input(x, perm);
    nhwc_flatten = true;
  } else {
    input = c.input(x, identityPerm(in_shape.size()));
  }
  std::vector<int32_t> dims(out_shape.begin(), out_shape.end());
  const int32_t shape_t = c.int32Constant(y + "/shape", dims);
  const int32_t out = c.output(node, 0, identityPerm(out_shape.size()));
  c.builder().addOperator(tfl::BuiltinOperator::RESHAPE, {input, shape_t}, {out},
                          options(tfl::BuiltinOptions::ReshapeOptions,
                                  [dims](auto& b) { return tfl::CreateReshapeOptionsDirect(b, &dims); }));
  if (nhwc_flatten) c.setFlattenOrder(y, flattenOrderOf(in_shape, perm));
}

// Transpose: a new view of the same TFLite tensor (its layout absorbs the permutation), so no operator.
void convertTranspose(TfliteConverter& c, const onnx::NodeProto& node) {
  const std::string& x = node.input(0);
  const size_t rank = c.shape(x).size();
  Perm p;
  for (int64_t a : attrInts(node, "perm")) p.push_back(static_cast<int>(normalizeAxis(c, node, a, rank)));
  if (p.empty())
    for (size_t i = rank; i-- > 0;) p.push_back(static_cast<int>(i));
  if (p.size() != rank) c.unsupported(node, "'perm' does not match the input's rank");
  if (c.isConstant(x)) {
    c.defineConstant(node.output(0), permuteTensor(c.constant(node, x), p));
    return;
  }
  // ONNX output dimension j is input dimension p[j]; the stored dimension i, which holds input dimension
  // layout[i], is output dimension p^-1(layout[i]).
  Perm inverse(rank);
  for (size_t j = 0; j < rank; ++j) inverse[static_cast<size_t>(p[j])] = static_cast<int>(j);
  const Perm layout = c.layoutOf(x);
  Perm out_layout(rank);
  for (size_t i = 0; i < rank; ++i) out_layout[i] = inverse[static_cast<size_t>(layout[i])];
  c.defineValue(node.output(0), c.input(x, layout), out_layout);
}

void convertIdentity(TfliteConverter& c, const onnx::NodeProto& node) {
  const std::string& x = node.input(0);
  if (c.isConstant(x)) return c.defineConstant(node.output(0), c.constant(node, x));
  const Perm perm = c.layoutOf(x);
  c.defineValue(node.output(0), c.input(x, perm), perm);
}

void convertPad(TfliteConverter& c, const onnx::NodeProto& node) {
  if (attrString(node, "mode", "constant") != "constant")
    c.unsupported(node, "only mode 'constant' is supported");
  const std::string& x = node.input(0);
  const size_t rank = c.shape(x).size();
  std::vector<int64_t> pads;
  if (c.model().opsetVersion() < 11) {
    pads = attrInts(node, "pads");
    if (attrFloat(node, "value", 0.0f) != 0.0f) c.unsupported(node, "only zero padding is supported");
  } else {
    const Tensor& p = c.constant(node, node.input(1));
    if (p.type() != DataType::Int64) c.unsupported(node, "'pads' must be int64");
    pads.assign(p.values<int64_t>().begin(), p.values<int64_t>().end());
    if (node.input_size() > 2 && !node.input(2).empty()) {
      const Tensor& v = c.constant(node, node.input(2));
      if (v.type() != DataType::Float32 || v.values<float>()[0] != 0.0f)
        c.unsupported(node, "only zero padding is supported");
    }
    if (node.input_size() > 3 && !node.input(3).empty())
      c.unsupported(node, "the 'axes' input is not supported");
  }
  if (pads.size() != 2 * rank) c.unsupported(node, "'pads' must have 2 values per dimension");
  const Perm perm = c.layoutOf(x);
  std::vector<int32_t> values;
  for (size_t i = 0; i < rank; ++i) {
    const auto axis = static_cast<size_t>(perm[i]);
    values.push_back(static_cast<int32_t>(pads[axis]));
    values.push_back(static_cast<int32_t>(pads[axis + rank]));
  }
  const int32_t input = c.input(x, perm);
  const int32_t paddings =
      c.int32Constant(node.output(0) + "/paddings", values, {static_cast<int32_t>(rank), 2});
  c.builder().addOperator(
      tfl::BuiltinOperator::PAD, {input, paddings}, {c.output(node, 0, perm)},
      options(tfl::BuiltinOptions::PadOptions, [](auto& b) { return tfl::CreatePadOptions(b); }));
}

void convertSoftmax(TfliteConverter& c, const onnx::NodeProto& node) {
  const std::string& x = node.input(0);
  const size_t rank = c.shape(x).size();
  const bool old = c.model().opsetVersion() < 13;  // before 13: over all dimensions from `axis` on
  const int64_t axis = normalizeAxis(c, node, attrInt(node, "axis", old ? 1 : -1), rank);
  if (old && axis != static_cast<int64_t>(rank) - 1)
    c.unsupported(node,
                  "softmax over several trailing dimensions (opset < 13, axis " + std::to_string(axis) + ")");
  Perm perm = c.layoutOf(x);
  if (tfliteAxis(perm, axis) != static_cast<int>(rank) - 1) {
    perm = identityPerm(rank);
    if (axis != static_cast<int64_t>(rank) - 1)
      c.unsupported(node, "softmax over axis " + std::to_string(axis) + " (TFLite normalizes the last one)");
  }
  const int32_t input = c.input(x, perm);
  c.builder().addOperator(tfl::BuiltinOperator::SOFTMAX, {input}, {c.output(node, 0, perm)},
                          options(tfl::BuiltinOptions::SoftmaxOptions,
                                  [](auto& b) { return tfl::CreateSoftmaxOptions(b, 1.0f); }));
}

void convertGather(TfliteConverter& c, const onnx::NodeProto& node) {
  const std::string &data = node.input(0), &indices = node.input(1);
  const size_t rank = c.shape(data).size();
  const auto axis = static_cast<int32_t>(normalizeAxis(c, node, attrInt(node, "axis", 0), rank));
  const int32_t data_t = c.input(data, identityPerm(rank));
  int32_t indices_t;
  if (c.isConstant(indices)) {
    const Tensor& t = c.constant(node, indices);
    if (t.type() != DataType::Int64 && t.type() != DataType::Int32)
      c.unsupported(node, "indices must be integers");
    std::vector<int32_t> values;
    const int64_t dim = c.shape(data)[static_cast<size_t>(axis)];
    for (int64_t i = 0; i < t.numel(); ++i) {
      const int64_t v = t.type() == DataType::Int64 ? t.values<int64_t>()[i] : t.values<int32_t>()[i];
      values.push_back(static_cast<int32_t>(v < 0 ? v + dim : v));  // TFLite has no negative indices
    }
    indices_t =
        c.int32Constant(indices + "_int32", values, std::vector<int32_t>(t.shape().begin(), t.shape().end()));
  } else {
    indices_t = c.input(indices, identityPerm(c.shape(indices).size()));
  }
  const int32_t out = c.output(node, 0, identityPerm(c.shape(node.output(0)).size()));
  c.builder().addOperator(tfl::BuiltinOperator::GATHER, {data_t, indices_t}, {out},
                          options(tfl::BuiltinOptions::GatherOptions,
                                  [=](auto& b) { return tfl::CreateGatherOptions(b, axis); }));
}

void convertReduceMean(TfliteConverter& c, const onnx::NodeProto& node) {
  const std::string& x = node.input(0);
  const size_t rank = c.shape(x).size();
  std::vector<int64_t> axes = attrInts(node, "axes");
  if (axes.empty())
    for (size_t i = 0; i < rank; ++i) axes.push_back(static_cast<int64_t>(i));
  const bool keep = attrInt(node, "keepdims", 1) != 0;
  const Perm perm = c.layoutOf(x);
  std::vector<int32_t> tflite_axes;
  std::vector<bool> reduced(rank, false);
  for (int64_t a : axes) {
    const int64_t axis = normalizeAxis(c, node, a, rank);
    reduced[static_cast<size_t>(axis)] = true;
    tflite_axes.push_back(tfliteAxis(perm, axis));
  }
  // Without keepdims the remaining stored dimensions keep their order; renumber their ONNX axes.
  Perm out_perm = perm;
  if (!keep) {
    out_perm.clear();
    for (int axis : perm) {
      if (reduced[static_cast<size_t>(axis)]) continue;
      int before = 0;
      for (int k = 0; k < axis; ++k) before += reduced[static_cast<size_t>(k)] ? 0 : 1;
      out_perm.push_back(before);
    }
  }
  const int32_t input = c.input(x, perm);
  const int32_t axes_t = c.int32Constant(node.output(0) + "/axes", tflite_axes);
  c.builder().addOperator(tfl::BuiltinOperator::MEAN, {input, axes_t}, {c.output(node, 0, out_perm)},
                          options(tfl::BuiltinOptions::ReducerOptions,
                                  [=](auto& b) { return tfl::CreateReducerOptions(b, keep); }));
}

}  // namespace

void addTensorConverters(std::map<std::string, OpConverter>& table) {
  auto binary = [](tfl::BuiltinOperator op, tfl::BuiltinOptions type) {
    return [op, type](TfliteConverter& c, const onnx::NodeProto& n) { convertBinary(c, n, op, type); };
  };
  table["Add"] = binary(tfl::BuiltinOperator::ADD, tfl::BuiltinOptions::AddOptions);
  table["Sub"] = binary(tfl::BuiltinOperator::SUB, tfl::BuiltinOptions::SubOptions);
  table["Mul"] = binary(tfl::BuiltinOperator::MUL, tfl::BuiltinOptions::MulOptions);
  table["Div"] = binary(tfl::BuiltinOperator::DIV, tfl::BuiltinOptions::DivOptions);
  table["Pow"] = convertPow;
  auto unary = [](tfl::BuiltinOperator op) {
    return [op](TfliteConverter& c, const onnx::NodeProto& n) { convertUnary(c, n, op); };
  };
  table["Relu"] = unary(tfl::BuiltinOperator::RELU);
  table["Sigmoid"] = unary(tfl::BuiltinOperator::LOGISTIC);
  table["Tanh"] = unary(tfl::BuiltinOperator::TANH);
  table["HardSwish"] = unary(tfl::BuiltinOperator::HARD_SWISH);
  table["Sqrt"] = unary(tfl::BuiltinOperator::SQRT);
  table["Clip"] = convertClip;
  table["HardSigmoid"] = convertHardSigmoid;
  table["BatchNormalization"] = convertBatchNormalization;
  table["Split"] = convertSplit;
  table["Concat"] = convertConcat;
  for (const char* op : {"Reshape", "Flatten", "Squeeze", "Unsqueeze"}) table[op] = convertReshape;
  table["Transpose"] = convertTranspose;
  table["Identity"] = convertIdentity;
  table["Pad"] = convertPad;
  table["Softmax"] = convertSoftmax;
  table["Gather"] = convertGather;
  table["ReduceMean"] = convertReduceMean;
}

}  // namespace edgetune::tflite_export
