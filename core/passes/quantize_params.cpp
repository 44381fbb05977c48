// The numbers of static INT8: scales and zero points of activations and weights, int8 weights per channel,
// int32 biases and quantized constant operands.
#include <algorithm>
#include <cmath>

#include "core/passes/quantize_static_internal.h"

namespace edgetune {

QuantParams activationParams(QuantRange range, DataType type, bool symmetric) {
  const bool is_unsigned = type == DataType::UInt8;
  const int qmin = is_unsigned ? 0 : -128, qmax = is_unsigned ? 255 : 127;
  double lo = std::min(0.0f, range.min), hi = std::max(0.0f, range.max);
  QuantParams p;
  if (symmetric) {
    const double abs_max = std::max(std::fabs(lo), std::fabs(hi));
    if (abs_max == 0) return {1.0f, is_unsigned ? 128 : 0};
    p.scale = static_cast<float>(is_unsigned ? 2 * abs_max / 255.0 : abs_max / 127.0);
    p.zero_point = is_unsigned ? 128 : 0;
    return p;
  }
  if (hi - lo == 0) return {1.0f, 0};
  p.scale = static_cast<float>((hi - lo) / (qmax - qmin));
  p.zero_point = static_cast<int32_t>(std::clamp<long>(std::lround(qmin - lo / p.scale), qmin, qmax));
  return p;
}

QuantParams weightParams(float abs_max, bool reduce_range) {
  const float qmax = reduce_range ? 63.0f : 127.0f;
  if (!(abs_max > 0)) return {1.0f, 0};
  return {abs_max / qmax, 0};
}

namespace quant_detail {

Tensor zeroPointTensor(DataType type, std::vector<int64_t> shape, const std::vector<int32_t>& values) {
  Tensor t(type, std::move(shape));
  for (size_t i = 0; i < values.size(); ++i) {
    if (type == DataType::UInt8)
      t.values<uint8_t>()[i] = static_cast<uint8_t>(values[i]);
    else if (type == DataType::Int8)
      t.values<int8_t>()[i] = static_cast<int8_t>(values[i]);
    else
      t.values<int32_t>()[i] = values[i];
  }
  return t;
}

std::pair<Tensor, std::vector<float>> quantizeWeight(const Tensor& w, int64_t axis, bool reduce_range,
                                                     const std::vector<float>& min_scales) {
  const auto& shape = w.shape();
  const auto values = w.values<float>();
  int64_t channels = 1, inner = w.numel();
  if (axis >= 0) {
    channels = shape[static_cast<size_t>(axis)];
    inner = 1;
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  }
  auto channelOf = [&](int64_t idx) { return axis < 0 ? 0 : (idx / inner) % channels; };
  std::vector<float> abs_max(static_cast<size_t>(channels), 0.0f);
  for (int64_t i = 0; i < w.numel(); ++i) {
    auto& m = abs_max[static_cast<size_t>(channelOf(i))];
    m = std::max(m, std::fabs(values[static_cast<size_t>(i)]));
  }
  std::vector<float> scales(static_cast<size_t>(channels));
  for (size_t c = 0; c < scales.size(); ++c) {
    scales[c] = weightParams(abs_max[c], reduce_range).scale;
    if (c < min_scales.size()) scales[c] = std::max(scales[c], min_scales[c]);
  }
  Tensor q(DataType::Int8, shape);
  auto qv = q.values<int8_t>();
  const float qmax = reduce_range ? 63.0f : 127.0f;
  for (int64_t i = 0; i < w.numel(); ++i) {
    const float s = scales[static_cast<size_t>(channelOf(i))];
    qv[static_cast<size_t>(i)] =
        static_cast<int8_t>(std::clamp(std::nearbyint(values[static_cast<size_t>(i)] / s), -qmax, qmax));
  }
  return {std::move(q), std::move(scales)};
}

std::vector<float> biasSafeWeightScales(const Tensor& bias, double input_scale, size_t channels) {
  // A bias b needs |b| / (s_x * s_w) < 2^31; with a tiny input scale that fails, so the weight scale of such
  // a channel is raised until the bias fits (at a small cost in weight resolution).
  const double limit = 2147483000.0 * 0.5;  // keep a 2x margin below int32's max
  std::vector<float> min_scales(channels, 0.0f);
  for (int64_t k = 0; k < bias.numel(); ++k) {
    const size_t c = channels == 1 ? 0 : static_cast<size_t>(k);
    const double need = std::fabs(bias.values<float>()[static_cast<size_t>(k)]) / (input_scale * limit);
    min_scales[c] = std::max(min_scales[c], static_cast<float>(need));
  }
  return min_scales;
}

Tensor quantizeBias(const Tensor& bias, const std::vector<float>& bias_scales) {
  Tensor bq(DataType::Int32, bias.shape());
  for (int64_t k = 0; k < bias.numel(); ++k) {
    const float s = bias_scales[bias_scales.size() == 1 ? 0 : static_cast<size_t>(k)];
    const double v = std::nearbyint(static_cast<double>(bias.values<float>()[static_cast<size_t>(k)]) / s);
    bq.values<int32_t>()[static_cast<size_t>(k)] =
        static_cast<int32_t>(std::clamp(v, -2147483647.0, 2147483647.0));
  }
  return bq;
}

Tensor quantizeConstant(const Tensor& c, DataType type, bool symmetric, QuantParams& params) {
  QuantRange r;
  for (float v : c.values<float>()) r.min = std::min(r.min, v), r.max = std::max(r.max, v);
  params = activationParams(r, type, symmetric);
  Tensor q(type, c.shape());
  const int qmin = type == DataType::UInt8 ? 0 : -128, qmax = type == DataType::UInt8 ? 255 : 127;
  for (int64_t e = 0; e < c.numel(); ++e) {
    const long v = std::clamp<long>(
        std::lround(c.values<float>()[static_cast<size_t>(e)] / params.scale) + params.zero_point, qmin,
        qmax);
    if (type == DataType::UInt8)
      q.values<uint8_t>()[static_cast<size_t>(e)] = static_cast<uint8_t>(v);
    else
      q.values<int8_t>()[static_cast<size_t>(e)] = static_cast<int8_t>(v);
  }
  return q;
}

}  // namespace quant_detail
}  // namespace edgetune
