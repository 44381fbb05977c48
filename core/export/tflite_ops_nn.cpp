// TFLite converters of the layer ops: Conv (plain, depthwise, grouped), MaxPool / AveragePool,
// GlobalAveragePool, Gemm and MatMul. Convolutions and pools run in NHWC; their weights are permuted here
// (Conv OIHW -> OHWI, depthwise [C*M, 1, kH, kW] -> [1, kH, kW, C*M]).
#include <array>
#include <cmath>
#include <cstring>

#include "core/export/tflite_converter.h"
#include "core/util/error.h"

namespace edgetune::tflite_export {
namespace {

const Perm kNhwc = {0, 2, 3, 1};

// How a window op pads: TFLite SAME or VALID, or an explicit PAD before a VALID op.
struct WindowPadding {
  tfl::Padding padding = tfl::Padding::VALID;
  bool explicit_pad = false;
  std::array<int64_t, 4> pads{};  // top, left, bottom, right
};

struct Window {
  std::array<int64_t, 2> kernel{}, strides{1, 1}, dilations{1, 1};
  std::array<int64_t, 4> pads{};  // ONNX order: top, left, bottom, right
};

Window readWindow(TfliteConverter& c, const onnx::NodeProto& node, std::array<int64_t, 2> kernel,
                  const std::vector<int64_t>& in_shape) {
  Window w;
  w.kernel = kernel;
  const auto strides = attrInts(node, "strides", {1, 1});
  const auto dilations = attrInts(node, "dilations", {1, 1});
  if (strides.size() != 2 || dilations.size() != 2) c.unsupported(node, "only 2-D windows are supported");
  w.strides = {strides[0], strides[1]};
  w.dilations = {dilations[0], dilations[1]};
  const std::string auto_pad = attrString(node, "auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    const auto pads = attrInts(node, "pads", {0, 0, 0, 0});
    if (pads.size() != 4) c.unsupported(node, "'pads' must have 4 values");
    w.pads = {pads[0], pads[1], pads[2], pads[3]};
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (int i = 0; i < 2; ++i) {
      const int64_t in = in_shape[static_cast<size_t>(2 + i)];
      const int64_t out = (in + w.strides[i] - 1) / w.strides[i];
      const int64_t eff = (w.kernel[i] - 1) * w.dilations[i] + 1;
      const int64_t total = std::max<int64_t>((out - 1) * w.strides[i] + eff - in, 0);
      const int64_t small = total / 2, large = total - small;
      w.pads[i] = auto_pad == "SAME_UPPER" ? small : large;
      w.pads[i + 2] = auto_pad == "SAME_UPPER" ? large : small;
    }
  } else if (auto_pad != "VALID") {
    c.unsupported(node, "auto_pad '" + auto_pad + "' is not supported");
  }
  return w;
}

// TFLite's SAME padding for one spatial axis: the total split with the extra pixel at the end.
std::pair<int64_t, int64_t> tfliteSamePads(int64_t in, int64_t kernel, int64_t stride, int64_t dilation) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t eff = (kernel - 1) * dilation + 1;
  const int64_t total = std::max<int64_t>((out - 1) * stride + eff - in, 0);
  return {total / 2, total - total / 2};
}

// SAME where the ONNX pads are exactly TFLite's SAME, VALID without pads, else an explicit PAD. `pad_ok` says
// whether zero padding gives the op's result (false for MaxPool, and for AveragePool that excludes padding).
// Checks that the TFLite output size is the ONNX one (ceil_mode and odd pads would differ).
WindowPadding choosePadding(TfliteConverter& c, const onnx::NodeProto& node, const Window& w,
                            const std::vector<int64_t>& in_shape, const std::vector<int64_t>& out_shape,
                            bool same_ok, bool pad_ok) {
  WindowPadding p;
  const bool zero = w.pads == std::array<int64_t, 4>{0, 0, 0, 0};
  bool same = true;
  for (int i = 0; i < 2; ++i) {
    const auto [before, after] =
        tfliteSamePads(in_shape[static_cast<size_t>(2 + i)], w.kernel[i], w.strides[i], w.dilations[i]);
    same = same && w.pads[i] == before && w.pads[i + 2] == after;
  }
  if (zero) {
    p.padding = tfl::Padding::VALID;
  } else if (same && same_ok) {
    p.padding = tfl::Padding::SAME;
  } else if (pad_ok) {
    p.explicit_pad = true;
    p.pads = w.pads;
  } else {
    c.unsupported(node,
                  "its padding is neither none nor TFLite's SAME, and zero padding would change the result");
  }
  for (int i = 0; i < 2; ++i) {
    const int64_t in =
        in_shape[static_cast<size_t>(2 + i)] + (p.explicit_pad ? w.pads[i] + w.pads[i + 2] : 0);
    const int64_t eff = (w.kernel[i] - 1) * w.dilations[i] + 1;
    const int64_t out = p.padding == tfl::Padding::SAME ? (in + w.strides[i] - 1) / w.strides[i]
                                                        : (in - eff) / w.strides[i] + 1;
    if (out != out_shape[static_cast<size_t>(2 + i)])
      c.unsupported(node, "TFLite would compute a spatial size of " + std::to_string(out) + " instead of " +
                              std::to_string(out_shape[static_cast<size_t>(2 + i)]) + " (ceil_mode?)");
  }
  return p;
}

// PAD of an NHWC tensor by (top, left, bottom, right).
int32_t padNhwc(TfliteConverter& c, const std::string& name, int32_t input, const std::vector<int64_t>& nchw,
                const std::array<int64_t, 4>& pads) {
  const std::vector<int64_t> padded = {nchw[0], nchw[2] + pads[0] + pads[2], nchw[3] + pads[1] + pads[3],
                                       nchw[1]};
  const int32_t out = c.scratchTensor(name + "/padded", DataType::Float32, padded);
  const std::vector<int32_t> values = {0,
                                       0,
                                       static_cast<int32_t>(pads[0]),
                                       static_cast<int32_t>(pads[2]),
                                       static_cast<int32_t>(pads[1]),
                                       static_cast<int32_t>(pads[3]),
                                       0,
                                       0};
  const int32_t paddings = c.int32Constant(name + "/paddings", values, {4, 2});
  c.builder().addOperator(tfl::BuiltinOperator::PAD, {input, paddings}, {out},
                          {tfl::BuiltinOptions::PadOptions, [](flatbuffers::FlatBufferBuilder& b) {
                             return tfl::CreatePadOptions(b).Union();
                           }});
  return out;
}

const Tensor& floatConstant(TfliteConverter& c, const onnx::NodeProto& node, const std::string& name) {
  const Tensor& t = c.constant(node, name);
  if (t.type() != DataType::Float32)
    c.unsupported(node, "'" + name + "' is " + dataTypeName(t.type()) + " (float32 weights are supported)");
  return t;
}

// Rows [begin, begin + count) of a tensor (along its first dimension).
Tensor leadingSlice(const Tensor& t, int64_t begin, int64_t count) {
  std::vector<int64_t> shape = t.shape();
  const size_t row_bytes = t.byteSize() / static_cast<size_t>(shape[0]);
  shape[0] = count;
  Tensor out(t.type(), shape);
  std::memcpy(out.raw(), static_cast<const std::byte*>(t.raw()) + static_cast<size_t>(begin) * row_bytes,
              static_cast<size_t>(count) * row_bytes);
  return out;
}

Tensor biasOrZeros(TfliteConverter& c, const onnx::NodeProto& node, int index, int64_t channels) {
  if (node.input_size() > index && !node.input(index).empty()) {
    const Tensor& b = floatConstant(c, node, node.input(index));
    if (b.numel() != channels) c.unsupported(node, "its bias does not have one value per output channel");
    return b.reshaped({channels});
  }
  return Tensor(DataType::Float32, {channels});
}

OperatorOptions conv2dOptions(tfl::Padding padding, const Window& w, tfl::ActivationFunctionType act) {
  return {tfl::BuiltinOptions::Conv2DOptions, [=](flatbuffers::FlatBufferBuilder& b) {
            return tfl::CreateConv2DOptions(
                       b, padding, static_cast<int32_t>(w.strides[1]), static_cast<int32_t>(w.strides[0]),
                       act, static_cast<int32_t>(w.dilations[1]), static_cast<int32_t>(w.dilations[0]))
                .Union();
          }};
}

void convertConv(TfliteConverter& c, const onnx::NodeProto& node) {
  const std::string& x = node.input(0);
  const auto in_shape = c.shape(x);
  const auto out_shape = c.shape(node.output(0));
  if (in_shape.size() != 4) c.unsupported(node, "only 2-D convolutions (a 4-D input) are supported");
  const Tensor& weights = floatConstant(c, node, node.input(1));
  const auto& ws = weights.shape();  // [O, I / group, kH, kW]
  if (ws.size() != 4)
    c.unsupported(node, "its weights have " + std::to_string(ws.size()) + " dimensions, not 4");
  const int64_t group = attrInt(node, "group", 1), out_channels = ws[0], in_channels = in_shape[1];
  const Window w = readWindow(c, node, {ws[2], ws[3]}, in_shape);
  const WindowPadding pad = choosePadding(c, node, w, in_shape, out_shape, true, true);
  int32_t input = c.input(x, kNhwc);
  if (pad.explicit_pad) input = padNhwc(c, node.output(0), input, in_shape, pad.pads);
  const Tensor bias = biasOrZeros(c, node, 2, out_channels);
  const std::string& wname = node.input(1);

  if (group == 1) {
    const int32_t wt = c.constantTensor(wname + "_ohwi", permuteTensor(weights, kNhwc));
    const int32_t bt = c.constantTensor(node.output(0) + "/bias", bias);
    tfl::ActivationFunctionType act;
    const int32_t out = c.outputFusingActivation(node, kNhwc, act);
    c.builder().addOperator(tfl::BuiltinOperator::CONV_2D, {input, wt, bt}, {out},
                            conv2dOptions(pad.padding, w, act));
    return;
  }
  if (group == in_channels && ws[1] == 1 && out_channels % in_channels == 0) {
    // Depthwise: the filter is [1, kH, kW, C * M], output channel c*M+m reads input channel c.
    const int32_t wt = c.constantTensor(wname + "_1hwc", permuteTensor(weights, {1, 2, 3, 0}));
    const int32_t bt = c.constantTensor(node.output(0) + "/bias", bias);
    tfl::ActivationFunctionType act;
    const int32_t out = c.outputFusingActivation(node, kNhwc, act);
    const auto multiplier = static_cast<int32_t>(out_channels / in_channels);
    const auto padding = pad.padding;
    const bool dilated = w.dilations != std::array<int64_t, 2>{1, 1};
    c.builder().addOperator(tfl::BuiltinOperator::DEPTHWISE_CONV_2D, {input, wt, bt}, {out},
                            {tfl::BuiltinOptions::DepthwiseConv2DOptions,
                             [=](flatbuffers::FlatBufferBuilder& b) {
                               return tfl::CreateDepthwiseConv2DOptions(
                                          b, padding, static_cast<int32_t>(w.strides[1]),
                                          static_cast<int32_t>(w.strides[0]), multiplier, act,
                                          static_cast<int32_t>(w.dilations[1]),
                                          static_cast<int32_t>(w.dilations[0]))
                                   .Union();
                             }},
                            dilated ? 2 : 1);
    return;
  }
  if (group < 1 || in_channels % group != 0 || out_channels % group != 0)
    c.unsupported(node, "group " + std::to_string(group) + " does not divide the channels");
  // Grouped: SPLIT the channels, one CONV_2D per group, CONCATENATION of the results (readers such as Arm NN
  // 20.08 have no grouped CONV_2D).
  const int64_t in_per_group = in_channels / group, out_per_group = out_channels / group;
  const std::string& y = node.output(0);
  std::vector<int32_t> parts;
  for (int64_t g = 0; g < group; ++g)
    parts.push_back(
        c.scratchTensor(y + "/group" + std::to_string(g) + "/input", DataType::Float32,
                        {in_shape[0], in_shape[2] + (pad.explicit_pad ? pad.pads[0] + pad.pads[2] : 0),
                         in_shape[3] + (pad.explicit_pad ? pad.pads[1] + pad.pads[3] : 0), in_per_group}));
  const int32_t axis = c.int32Constant(y + "/split_axis", {3}, {});
  const auto splits = static_cast<int32_t>(group);
  c.builder().addOperator(tfl::BuiltinOperator::SPLIT, {axis, input}, parts,
                          {tfl::BuiltinOptions::SplitOptions, [=](flatbuffers::FlatBufferBuilder& b) {
                             return tfl::CreateSplitOptions(b, splits).Union();
                           }});
  std::vector<int32_t> results;
  for (int64_t g = 0; g < group; ++g) {
    const std::string scope = y + "/group" + std::to_string(g);
    const Tensor wg = leadingSlice(weights, g * out_per_group, out_per_group);
    const int32_t wt = c.constantTensor(scope + "/weights_ohwi", permuteTensor(wg, kNhwc));
    const int32_t bt =
        c.constantTensor(scope + "/bias", leadingSlice(bias, g * out_per_group, out_per_group));
    const int32_t r = c.scratchTensor(scope + "/output", DataType::Float32,
                                      {out_shape[0], out_shape[2], out_shape[3], out_per_group});
    c.builder().addOperator(tfl::BuiltinOperator::CONV_2D, {parts[static_cast<size_t>(g)], wt, bt}, {r},
                            conv2dOptions(pad.padding, w, tfl::ActivationFunctionType::NONE));
    results.push_back(r);
  }
  tfl::ActivationFunctionType act;
  const int32_t out = c.outputFusingActivation(node, kNhwc, act);
  c.builder().addOperator(
      tfl::BuiltinOperator::CONCATENATION, results, {out},
      {tfl::BuiltinOptions::ConcatenationOptions, [act](flatbuffers::FlatBufferBuilder& b) {
         return tfl::CreateConcatenationOptions(b, 3, act).Union();
       }});
}

// True when `name` is the output of a Relu (or a Clip with a non-negative low bound): zero padding then
// cannot win a max, so a MaxPool with pads other than SAME (torchvision's 3x3/2 pad 1) stays exact.
bool nonNegative(TfliteConverter& c, const std::string& name) {
  const int producer = c.model().producer(name);
  if (producer < 0) return false;
  const auto& n = c.model().graph().node(producer);
  if (n.op_type() == "Relu") return true;
  if (n.op_type() != "Clip") return false;
  if (c.model().opsetVersion() < 11) return attrFloat(n, "min", -1.0f) >= 0.0f;
  if (n.input_size() < 2 || n.input(1).empty() || !c.isConstant(n.input(1))) return false;
  const Tensor& lo = c.constant(n, n.input(1));
  return lo.type() == DataType::Float32 && lo.numel() == 1 && lo.values<float>()[0] >= 0.0f;
}

void convertPool(TfliteConverter& c, const onnx::NodeProto& node, tfl::BuiltinOperator op) {
  const std::string& x = node.input(0);
  const auto in_shape = c.shape(x);
  const auto out_shape = c.shape(node.output(0));
  if (in_shape.size() != 4) c.unsupported(node, "only 2-D pooling (a 4-D input) is supported");
  if (node.output_size() > 1 && !node.output(1).empty())
    c.unsupported(node, "the Indices output is not supported");
  const auto kernel = attrInts(node, "kernel_shape");
  if (kernel.size() != 2) c.unsupported(node, "only 2-D kernels are supported");
  const Window w = readWindow(c, node, {kernel[0], kernel[1]}, in_shape);
  if (w.dilations != std::array<int64_t, 2>{1, 1}) c.unsupported(node, "dilated pooling is not supported");
  // TFLite's SAME average excludes the padding (count_include_pad = 0); zero padding includes it.
  const bool average = op == tfl::BuiltinOperator::AVERAGE_POOL_2D;
  const bool include_pad = average && attrInt(node, "count_include_pad", 0) != 0;
  const bool zero_pad_exact = average ? include_pad : nonNegative(c, x);
  const WindowPadding pad = choosePadding(c, node, w, in_shape, out_shape, !include_pad, zero_pad_exact);
  int32_t input = c.input(x, kNhwc);
  if (pad.explicit_pad) input = padNhwc(c, node.output(0), input, in_shape, pad.pads);
  const int32_t out = c.output(node, 0, kNhwc);
  const auto padding = pad.padding;
  c.builder().addOperator(op, {input}, {out},
                          {tfl::BuiltinOptions::Pool2DOptions, [=](flatbuffers::FlatBufferBuilder& b) {
                             return tfl::CreatePool2DOptions(b, padding, static_cast<int32_t>(w.strides[1]),
                                                             static_cast<int32_t>(w.strides[0]),
                                                             static_cast<int32_t>(w.kernel[1]),
                                                             static_cast<int32_t>(w.kernel[0]))
                                 .Union();
                           }});
}

void convertGlobalAveragePool(TfliteConverter& c, const onnx::NodeProto& node) {
  if (c.shape(node.input(0)).size() != 4) c.unsupported(node, "only 4-D inputs are supported");
  const int32_t input = c.input(node.input(0), kNhwc);
  const int32_t axes = c.int32Constant(node.output(0) + "/axes", {1, 2});
  const int32_t out = c.output(node, 0, kNhwc);
  c.builder().addOperator(tfl::BuiltinOperator::MEAN, {input, axes}, {out},
                          {tfl::BuiltinOptions::ReducerOptions, [](flatbuffers::FlatBufferBuilder& b) {
                             return tfl::CreateReducerOptions(b, true).Union();
                           }});
}

// FULLY_CONNECTED y = act(x W^T + b) with `weights` [N, K] (ONNX feature order; permuted to the input's
// flatten order when it has one).
void fullyConnected(TfliteConverter& c, const onnx::NodeProto& node, const std::string& x, int32_t input,
                    Tensor weights, const Tensor& bias, int32_t out,
                    tfl::ActivationFunctionType act = tfl::ActivationFunctionType::NONE) {
  if (const auto* order = c.flattenOrder(x)) {
    const int64_t n = weights.shape()[0], k = weights.shape()[1];
    // The Flatten's feature count and the weights' must agree before the columns are reordered (ONNX
    // shape inference does not catch it when a dimension is 0).
    if (static_cast<int64_t>(order->size()) != k)
      c.unsupported(node, "its input '" + x + "' flattens to " + std::to_string(order->size()) +
                              " features, the weights expect " + std::to_string(k));
    Tensor permuted(DataType::Float32, {n, k});
    const auto src = weights.values<float>();
    auto dst = permuted.values<float>();
    for (int64_t row = 0; row < n; ++row)
      for (int64_t col = 0; col < k; ++col) dst[row * k + col] = src[row * k + (*order)[col]];
    weights = std::move(permuted);
  }
  const int32_t wt = c.constantTensor(node.output(0) + "/weights", weights);
  const int32_t bt = c.constantTensor(node.output(0) + "/bias", bias);
  c.builder().addOperator(
      tfl::BuiltinOperator::FULLY_CONNECTED, {input, wt, bt}, {out},
      {tfl::BuiltinOptions::FullyConnectedOptions, [act](flatbuffers::FlatBufferBuilder& b) {
         return tfl::CreateFullyConnectedOptions(b, act).Union();
       }});
}

Tensor transposed2d(const Tensor& t) {
  return permuteTensor(t, {1, 0});
}

int32_t rowInput(TfliteConverter& c, const std::string& x) {
  return c.flattenOrder(x) ? c.flattenedInput(x) : c.input(x, identityPerm(2));
}

void convertGemm(TfliteConverter& c, const onnx::NodeProto& node) {
  const std::string& a = node.input(0);
  if (attrInt(node, "transA", 0) != 0) c.unsupported(node, "transA = 1 is not supported");
  if (c.shape(a).size() != 2) c.unsupported(node, "input A must be 2-D");
  if (!c.isConstant(node.input(1))) c.unsupported(node, "input B must be a constant (the weights)");
  Tensor weights = floatConstant(c, node, node.input(1));
  if (attrInt(node, "transB", 0) == 0) weights = transposed2d(weights);  // FULLY_CONNECTED wants [N, K]
  const float alpha = attrFloat(node, "alpha", 1.0f), beta = attrFloat(node, "beta", 1.0f);
  const int64_t n = weights.shape()[0];
  if (alpha != 1.0f)
    for (float& v : weights.values<float>()) v *= alpha;
  Tensor bias(DataType::Float32, {n});
  if (node.input_size() > 2 && !node.input(2).empty()) {
    const Tensor& cst = floatConstant(c, node, node.input(2));
    const auto values = cst.values<float>();
    auto dst = bias.values<float>();
    if (values.size() == 1) {
      std::fill(dst.begin(), dst.end(), values[0] * beta);
    } else if (static_cast<int64_t>(values.size()) == n) {
      for (int64_t i = 0; i < n; ++i) dst[i] = values[i] * beta;
    } else {
      c.unsupported(node,
                    "input C must be a scalar or one value per output (shape " + cst.shapeString() + ")");
    }
  }
  const int32_t input = rowInput(c, a);
  tfl::ActivationFunctionType act;
  const int32_t out = c.outputFusingActivation(node, identityPerm(2), act);
  fullyConnected(c, node, a, input, std::move(weights), bias, out, act);
}

void convertMatMul(TfliteConverter& c, const onnx::NodeProto& node) {
  const std::string &a = node.input(0), &b = node.input(1);
  const auto a_shape = c.shape(a), out_shape = c.shape(node.output(0));
  if (c.isConstant(b) && c.shape(b).size() == 2 && c.type(b) == DataType::Float32 && !c.isConstant(a)) {
    const Tensor weights = transposed2d(c.constant(node, b));
    const int64_t n = weights.shape()[0], k = weights.shape()[1];
    const Tensor bias(DataType::Float32, {n});
    if (a_shape.size() == 2) {
      const int32_t input = rowInput(c, a);
      tfl::ActivationFunctionType act;
      const int32_t out = c.outputFusingActivation(node, identityPerm(2), act);
      fullyConnected(c, node, a, input, weights, bias, out, act);
      return;
    }
    // [..., K] x [K, N]: rows through a 2-D FULLY_CONNECTED, reshaped around it.
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < a_shape.size(); ++i) rows *= a_shape[i];
    const std::string& y = node.output(0);
    const int32_t flat = c.scratchTensor(y + "/rows", DataType::Float32, {rows, k});
    const int32_t flat_shape =
        c.int32Constant(y + "/rows_shape", {static_cast<int32_t>(rows), static_cast<int32_t>(k)});
    const std::vector<int32_t> rows_shape = {static_cast<int32_t>(rows), static_cast<int32_t>(k)};
    c.builder().addOperator(tfl::BuiltinOperator::RESHAPE,
                            {c.input(a, identityPerm(a_shape.size())), flat_shape}, {flat},
                            {tfl::BuiltinOptions::ReshapeOptions, [=](flatbuffers::FlatBufferBuilder& fb) {
                               return tfl::CreateReshapeOptionsDirect(fb, &rows_shape).Union();
                             }});
    const int32_t product = c.scratchTensor(y + "/rows_out", DataType::Float32, {rows, n});
    fullyConnected(c, node, a, flat, weights, bias, product);
    std::vector<int32_t> dims(out_shape.begin(), out_shape.end());
    const int32_t dims_t = c.int32Constant(y + "/shape", dims);
    const int32_t out = c.output(node, 0, identityPerm(out_shape.size()));
    c.builder().addOperator(tfl::BuiltinOperator::RESHAPE, {product, dims_t}, {out},
                            {tfl::BuiltinOptions::ReshapeOptions, [=](flatbuffers::FlatBufferBuilder& fb) {
                               return tfl::CreateReshapeOptionsDirect(fb, &dims).Union();
                             }});
    return;
  }
  // Two run-time operands (attention scores): BATCH_MATMUL in the ONNX layout.
  const int32_t lhs = c.input(a, identityPerm(a_shape.size()));
  const int32_t rhs = c.input(b, identityPerm(c.shape(b).size()));
  const int32_t out = c.output(node, 0, identityPerm(out_shape.size()));
  c.builder().addOperator(tfl::BuiltinOperator::BATCH_MATMUL, {lhs, rhs}, {out},
                          {tfl::BuiltinOptions::BatchMatMulOptions, [](flatbuffers::FlatBufferBuilder& fb) {
                             return tfl::CreateBatchMatMulOptions(fb).Union();
                           }});
}

}  // namespace

void addNnConverters(std::map<std::string, OpConverter>& table) {
  table["Conv"] = convertConv;
  table["MaxPool"] = [](TfliteConverter& c, const onnx::NodeProto& n) {
    convertPool(c, n, tfl::BuiltinOperator::MAX_POOL_2D);
  };
  table["AveragePool"] = [](TfliteConverter& c, const onnx::NodeProto& n) {
    convertPool(c, n, tfl::BuiltinOperator::AVERAGE_POOL_2D);
  };
  table["GlobalAveragePool"] = convertGlobalAveragePool;
  table["Gemm"] = convertGemm;
  table["MatMul"] = convertMatMul;
}

}  // namespace edgetune::tflite_export
