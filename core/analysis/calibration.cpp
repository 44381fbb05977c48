// Calibration: streamed histograms and the MinMax / Percentile / Entropy (KL) / MSE range methods.
#include "core/analysis/calibration.h"
#include "core/runtime/executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "core/util/error.h"

namespace edgetune {

// ---------------------------------------------------------------------------------------------------------
StreamingHistogram::StreamingHistogram(int bins) {
  if (bins <= 0 || bins % 4 != 0)
    throw Error("histogram bins must be a positive multiple of 4, got " + std::to_string(bins));
  counts_.assign(static_cast<size_t>(bins), 0.0);
}

void StreamingHistogram::grow(double needed) {
  if (half_range_ == 0) {
    // First non-zero data: cover it with a little headroom so the next batch rarely forces a merge.
    half_range_ = needed * 1.0001;
    return;
  }
  const size_t n = counts_.size();
  while (half_range_ < needed) {
    // Doubling R: old bins 2m and 2m+1 become new bin n/4 + m (bin edges stay aligned because n % 4 == 0).
    std::vector<double> merged(n, 0.0);
    for (size_t m = 0; m < n / 2; ++m) merged[n / 4 + m] = counts_[2 * m] + counts_[2 * m + 1];
    counts_.swap(merged);
    half_range_ *= 2;
  }
}

void StreamingHistogram::add(std::span<const float> values) {
  if (values.empty()) return;
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (float v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) return;  // only non-finite values
  if (count_ == 0) {
    min_ = lo;
    max_ = hi;
  } else {
    min_ = std::min(min_, lo);
    max_ = std::max(max_, hi);
  }
  const double needed = std::max(std::fabs(static_cast<double>(lo)), std::fabs(static_cast<double>(hi)));
  if (needed > half_range_) grow(needed);
  const size_t n = counts_.size();
  if (half_range_ == 0) {
    // All zeros so far: they belong to the bin just above 0 whatever R becomes.
    counts_[n / 2] += static_cast<double>(values.size());
  } else {
    const double inv_width = static_cast<double>(n) / (2 * half_range_);
    for (float v : values) {
      if (!std::isfinite(v)) continue;
      auto bin = static_cast<int64_t>((static_cast<double>(v) + half_range_) * inv_width);
      bin = std::clamp<int64_t>(bin, 0, static_cast<int64_t>(n) - 1);
      counts_[static_cast<size_t>(bin)] += 1;
    }
  }
  count_ += static_cast<int64_t>(values.size());
}

double StreamingHistogram::quantile(double q) const {
  const double total = std::accumulate(counts_.begin(), counts_.end(), 0.0);
  if (total <= 0 || half_range_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const double target = q * total;
  double cumulative = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] > 0 && cumulative + counts_[i] >= target) {
      const double within = (target - cumulative) / counts_[i];
      return std::clamp(binLow(i) + within * binWidth(), static_cast<double>(min_),
                        static_cast<double>(max_));
    }
    cumulative += counts_[i];
  }
  return max_;
}

// ---------------------------------------------------------------------------------------------------------
namespace {

QuantRange withZero(double lo, double hi) {
  return {static_cast<float>(std::min(lo, 0.0)), static_cast<float>(std::max(hi, 0.0))};
}

// Clips the exact range to [-t, t]; a one-sided tensor (all >= 0) keeps 0 as its lower end.
QuantRange clipTo(const StreamingHistogram& h, double t) {
  return withZero(std::max(static_cast<double>(h.min()), -t), std::min(static_cast<double>(h.max()), t));
}

// |x| histogram: abs bin k holds the signed bins just above and below 0 at distance k.
std::vector<double> foldAbs(const StreamingHistogram& h) {
  const auto& c = h.counts();
  const size_t half = c.size() / 2;
  std::vector<double> abs(half);
  for (size_t k = 0; k < half; ++k) abs[k] = c[half + k] + c[half - 1 - k];
  return abs;
}

// TensorRT-style entropy calibration: pick the threshold whose clipped, `levels`-bucket quantized
// distribution diverges least (KL) from the reference distribution with outliers folded into the last bin.
double entropyThreshold(const StreamingHistogram& h, int levels) {
  const std::vector<double> abs = foldAbs(h);
  const size_t n = abs.size();
  const size_t target = static_cast<size_t>(std::max(2, levels));
  const double width = h.binWidth();
  if (n <= target) return (static_cast<double>(n)) * width;
  double best_kl = std::numeric_limits<double>::infinity();
  size_t best_i = n;
  std::vector<double> suffix(n + 1, 0.0);
  for (size_t i = n; i-- > 0;) suffix[i] = suffix[i + 1] + abs[i];
  std::vector<double> p, q;
  for (size_t i = target; i <= n; ++i) {
    p.assign(abs.begin(), abs.begin() + static_cast<std::ptrdiff_t>(i));
    p[i - 1] += suffix[i];
    // Quantize the first i bins into `target` buckets, then spread each bucket evenly over its non-empty
    // bins.
    q.assign(i, 0.0);
    const double per_bucket = static_cast<double>(i) / static_cast<double>(target);
    for (size_t b = 0; b < target; ++b) {
      const auto start = static_cast<size_t>(std::floor(static_cast<double>(b) * per_bucket));
      const auto end = std::min(i, static_cast<size_t>(std::floor(static_cast<double>(b + 1) * per_bucket)));
      double sum = 0;
      size_t nonzero = 0;
      for (size_t j = start; j < end; ++j) {
        sum += abs[j];
        if (abs[j] > 0) ++nonzero;
      }
      if (nonzero == 0) continue;
      for (size_t j = start; j < end; ++j)
        if (abs[j] > 0) q[j] = sum / static_cast<double>(nonzero);
    }
    const double p_sum = std::accumulate(p.begin(), p.end(), 0.0);
    const double q_sum = std::accumulate(q.begin(), q.end(), 0.0);
    if (p_sum <= 0 || q_sum <= 0) continue;
    double kl = 0;
    for (size_t j = 0; j < i; ++j) {
      if (p[j] <= 0) continue;
      const double pj = p[j] / p_sum;
      // An empty Q bin where P has mass: a small floor keeps the divergence finite but heavily penalized.
      const double qj = q[j] > 0 ? q[j] / q_sum : 1e-12;
      kl += pj * std::log(pj / qj);
    }
    if (kl < best_kl) {
      best_kl = kl;
      best_i = i;
    }
  }
  return static_cast<double>(best_i) * width;
}

// Expected squared error of quantizing the histogram's values into `levels` steps over [lo, hi].
double quantizationMse(const StreamingHistogram& h, double lo, double hi, int levels) {
  const double step = (hi - lo) / std::max(1, levels - 1);
  const double rounding = step * step / 12.0;
  const auto& c = h.counts();
  const double width = h.binWidth();
  double err = 0, total = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i] <= 0) continue;
    const double center = h.binLow(i) + 0.5 * width;
    double e = rounding;
    if (center < lo)
      e = (lo - center) * (lo - center);
    else if (center > hi)
      e = (center - hi) * (center - hi);
    err += c[i] * e;
    total += c[i];
  }
  return total > 0 ? err / total : 0;
}

double mseThreshold(const StreamingHistogram& h, int levels) {
  const double max_abs =
      std::max(std::fabs(static_cast<double>(h.min())), std::fabs(static_cast<double>(h.max())));
  const double width = h.binWidth();
  double best = std::numeric_limits<double>::infinity(), best_t = max_abs;
  // Candidate thresholds on abs-bin edges from a small fraction of the range up to the maximum.
  const size_t half = h.counts().size() / 2;
  const size_t stride = std::max<size_t>(1, half / 256);
  for (size_t k = std::max<size_t>(1, half / 64); k <= half; k += stride) {
    const double t = std::min(static_cast<double>(k) * width, max_abs);
    const QuantRange r = clipTo(h, t);
    const double e = quantizationMse(h, r.min, r.max, levels);
    if (e < best) {
      best = e;
      best_t = t;
    }
  }
  const QuantRange full = clipTo(h, max_abs);
  if (quantizationMse(h, full.min, full.max, levels) <= best) best_t = max_abs;
  return best_t;
}

}  // namespace

QuantRange computeRange(const StreamingHistogram& h, const RangeOptions& options) {
  if (h.count() == 0 || h.halfRange() == 0) return withZero(h.min(), h.max());
  switch (options.method) {
    case CalibrationMethod::MinMax:
      return withZero(h.min(), h.max());
    case CalibrationMethod::Percentile: {
      if (!(options.percentile >= 50 && options.percentile <= 100))
        throw Error("percentile must be within [50, 100], got " + std::to_string(options.percentile));
      const double tail = (100.0 - options.percentile) / 100.0;
      // One-sided tensors (after Relu) spend the whole tail on the top; two-sided ones split it.
      if (h.min() >= 0) return withZero(0, h.quantile(1.0 - tail));
      return withZero(h.quantile(tail / 2), h.quantile(1.0 - tail / 2));
    }
    case CalibrationMethod::Entropy: {
      // Symmetric int8 has 128 levels per side; a one-sided tensor gets all 256 levels on its side.
      const int side_levels = h.min() >= 0 ? options.levels : options.levels / 2;
      return clipTo(h, entropyThreshold(h, side_levels));
    }
    case CalibrationMethod::Mse:
      return clipTo(h, mseThreshold(h, options.levels));
  }
  return withZero(h.min(), h.max());
}

// ---------------------------------------------------------------------------------------------------------
size_t CalibrationData::histogramBytes() const {
  size_t bytes = 0;
  for (const auto& [name, h] : histograms) bytes += h.memoryBytes();
  return bytes;
}

std::map<std::string, QuantRange> CalibrationData::ranges(const RangeOptions& options) const {
  std::map<std::string, QuantRange> out;
  for (const auto& [name, h] : histograms) out[name] = computeRange(h, options);
  return out;
}

std::string calibrationOutputName(const Model& model, const std::string& tensor) {
  auto info = model.valueInfo(tensor);
  if (info && info->has_shape) return tensor;
  for (const auto* list : {&model.graph().value_info(), &model.graph().input(), &model.graph().output()})
    for (const auto& vi : *list)
      if (vi.name() == tensor && vi.type().tensor_type().has_shape()) return tensor;
  return tensor + "_calibration_flat";
}

Model withExtraOutputs(const Model& model, const std::vector<std::string>& tensors) {
  onnx::ModelProto proto = model.proto();
  auto* graph = proto.mutable_graph();
  std::set<std::string> existing;
  for (const auto& o : graph->output()) existing.insert(o.name());
  for (const auto& name : tensors) {
    if (existing.count(name)) continue;
    auto info = model.valueInfo(name);
    if (!info && model.producer(name) < 0 && !model.isInitializer(name)) {
      bool is_input = false;
      for (const auto& in : model.inputs()) is_input |= in.name == name;
      if (!is_input) throw Error(model.origin() + ": no tensor named '" + name + "'");
    }
    if (info && info->type != DataType::Float32)
      throw Error(model.origin() + ": tensor '" + name + "' is " + dataTypeName(info->type) +
                  ", not float32");
    // Reuse the inferred declaration (the checker wants a shape); fall back to a rank-only declaration.
    const onnx::ValueInfoProto* declared = nullptr;
    for (const auto* list : {&model.graph().value_info(), &model.graph().input()})
      for (const auto& vi : *list)
        if (vi.name() == name) declared = &vi;
    auto* out = graph->add_output();
    const bool declared_shape = declared && declared->type().tensor_type().has_shape();
    if (declared_shape) {
      *out = *declared;
    } else if (info && info->has_shape) {
      out->set_name(name);
      auto* tt = out->mutable_type()->mutable_tensor_type();
      tt->set_elem_type(onnx::TensorProto::FLOAT);
      for (size_t d = 0; d < info->shape.size(); ++d)
        tt->mutable_shape()->add_dim()->set_dim_param("d" + std::to_string(d));
    } else {
      // Not even the rank is known (a Reshape to a computed shape, as torch.onnx writes ShuffleNet's channel
      // shuffle with a dynamic batch): a graph output needs a shape, so the values leave flattened, which is
      // all a histogram needs.
      const std::string flat = calibrationOutputName(model, name);
      const std::string shape_name = flat + "_shape";
      onnx::TensorProto* shape = graph->add_initializer();
      shape->set_name(shape_name);
      shape->set_data_type(onnx::TensorProto::INT64);
      shape->add_dims(1);
      shape->add_int64_data(-1);
      onnx::NodeProto* reshape = graph->add_node();
      reshape->set_op_type("Reshape");
      reshape->set_name(flat + "_Reshape");
      reshape->add_input(name);
      reshape->add_input(shape_name);
      reshape->add_output(flat);
      out->set_name(flat);
      auto* tt = out->mutable_type()->mutable_tensor_type();
      tt->set_elem_type(onnx::TensorProto::FLOAT);
      tt->mutable_shape()->add_dim()->set_dim_param("values");
    }
    existing.insert(name);
  }
  return Model::fromProto(std::move(proto), model.origin());
}

std::vector<NamedTensor> datasetBatch(const Dataset& dataset, const std::vector<TensorInfo>& inputs,
                                      size_t begin, size_t count) {
  return bindInputs(inputs, makeBatch(dataset, begin, count), dataset.name());
}

namespace {

// Bytes of one example of `tensor` (dynamic dimensions other than the batch count as 1), or a guess of 1 MB.
int64_t bytesPerExample(const Model& model, const std::string& tensor) {
  auto info = model.valueInfo(tensor);
  if (!info || !info->has_shape || info->shape.empty()) return 1 << 20;
  int64_t n = 4;
  for (size_t d = 1; d < info->shape.size(); ++d) n *= std::max<int64_t>(1, info->shape[d]);
  return n;
}

int fixedBatch(const std::vector<TensorInfo>& inputs) {
  if (inputs.empty() || inputs[0].shape.empty()) return 0;
  return inputs[0].shape[0] > 0 ? static_cast<int>(inputs[0].shape[0]) : 0;
}

}  // namespace

CalibrationData collectCalibration(const Model& model, const Dataset& dataset,
                                   const std::vector<std::string>& tensors, const CalibrationOptions& options,
                                   JobContext* job) {
  const auto start = std::chrono::steady_clock::now();
  if (options.batch_size <= 0) throw Error("calibration batch size must be positive");
  CalibrationData data;
  const size_t samples = std::min(options.samples, dataset.size());
  if (samples == 0) throw Error(dataset.name() + ": no examples to calibrate on");
  // Check the fit once, before any work, so the message names the dataset and the model input.
  {
    OrtOptions probe;
    probe.intra_op_threads = options.threads;
    auto executor = makeOrtExecutor(model, probe);
    checkInputsFit(executor->inputs(), dataset.features(), dataset.name());
  }
  for (const auto& t : tensors) data.histograms.emplace(t, StreamingHistogram(options.histogram_bins));

  // Group tensors so one run's extra outputs stay under the byte budget.
  const int64_t batch_guess = options.batch_size;
  std::vector<std::vector<std::string>> groups(1);
  int64_t group_bytes = 0;
  for (const auto& t : tensors) {
    const int64_t bytes = bytesPerExample(model, t) * batch_guess;
    if (!groups.back().empty() && group_bytes + bytes > options.max_output_bytes_per_run) {
      groups.emplace_back();
      group_bytes = 0;
    }
    groups.back().push_back(t);
    group_bytes += bytes;
  }

  size_t done_units = 0;
  const size_t total_units = samples * groups.size();
  for (const auto& group : groups) {
    Model extended = withExtraOutputs(model, group);
    std::vector<std::string> fetch;
    for (const auto& t : group) fetch.push_back(calibrationOutputName(model, t));
    OrtOptions ort;
    ort.intra_op_threads = options.threads;
    auto executor = makeOrtExecutor(extended, ort);
    const auto inputs = executor->inputs();
    const int fixed = fixedBatch(inputs);
    const size_t batch = static_cast<size_t>(fixed > 0 ? fixed : options.batch_size);
    for (size_t begin = 0; begin + (fixed > 0 ? batch : 1) <= samples; begin += batch) {
      if (job) job->throwIfCancelled();
      const size_t count = std::min(batch, samples - begin);
      auto outputs = executor->run(datasetBatch(dataset, inputs, begin, count), fetch);
      for (size_t i = 0; i < group.size(); ++i) {
        if (outputs[i].type() != DataType::Float32)
          throw Error(model.origin() + ": tensor '" + group[i] + "' is not float32");
        data.histograms.at(group[i]).add(outputs[i].values<float>());
      }
      done_units += count;
      if (job) job->report(static_cast<double>(done_units) / static_cast<double>(total_units), "calibrating");
    }
    ++data.runs;
  }
  data.samples = samples;
  data.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return data;
}

}  // namespace edgetune
