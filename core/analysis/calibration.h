#pragma once
// Calibration for static quantization: streamed per-tensor histograms (fixed memory whatever the number of
// samples) and the range methods MinMax, Percentile, Entropy (KL divergence) and MSE computed from them.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/util/enum_names.h"

namespace edgetune {

/// How a tensor's quantization range is chosen from its histogram.
enum class CalibrationMethod { MinMax = 1, Percentile = 2, Entropy = 3, Mse = 4 };
/// "minmax" | "percentile" | "entropy" (also read as "kl") | "mse".
constexpr auto enumNames(CalibrationMethod) {
  using N = EnumName<CalibrationMethod>;
  return std::array{N{CalibrationMethod::MinMax, "minmax"}, N{CalibrationMethod::Percentile, "percentile"},
                    N{CalibrationMethod::Entropy, "entropy"}, N{CalibrationMethod::Entropy, "kl", true},
                    N{CalibrationMethod::Mse, "mse"}};
}

/// Histogram of one tensor's values over [-R, R]; when a value falls outside, R doubles and pairs of bins
/// merge, so memory stays `bins` doubles however many batches are added. Exact min/max are tracked too.
class StreamingHistogram {
 public:
  /// `bins` must be a positive multiple of 4 (the doubling merges bins in pairs around 0).
  explicit StreamingHistogram(int bins = 2048);

  void add(std::span<const float> values);

  int64_t count() const { return count_; }
  float min() const { return min_; }
  float max() const { return max_; }
  /// Half-width R of the covered range [-R, R] (0 before any non-zero value was seen).
  double halfRange() const { return half_range_; }
  double binWidth() const {
    return half_range_ > 0 ? 2 * half_range_ / static_cast<double>(counts_.size()) : 0;
  }
  const std::vector<double>& counts() const { return counts_; }
  /// Lower edge of bin `i`.
  double binLow(size_t i) const { return -half_range_ + static_cast<double>(i) * binWidth(); }
  /// Value below which a fraction `q` (0..1) of the samples lie (linear within a bin).
  double quantile(double q) const;
  /// Bytes held by this histogram (constant after construction).
  size_t memoryBytes() const { return sizeof(*this) + counts_.capacity() * sizeof(double); }

 private:
  void grow(double needed);
  std::vector<double> counts_;
  double half_range_ = 0;
  int64_t count_ = 0;
  float min_ = 0, max_ = 0;
};

/// A float range [min, max] that always contains 0 (so 0 is exactly representable once quantized).
struct QuantRange {
  float min = 0, max = 0;
};

struct RangeOptions {
  CalibrationMethod method = CalibrationMethod::MinMax;
  double percentile = 99.999;  // Percentile: keep this percentage of values inside the range (50..100)
  int levels = 256;            // quantization levels the range is split into (Entropy, MSE)
};

/// The range `method` picks for a histogram. MinMax uses the exact extremes; the others clip outliers.
QuantRange computeRange(const StreamingHistogram& histogram, const RangeOptions& options);

struct CalibrationOptions {
  size_t samples = 256;  // examples to run (fewer if the dataset is smaller)
  int batch_size = 32;   // used when the model's batch dimension is dynamic
  int histogram_bins = 2048;
  RangeOptions range;
  /// Upper bound for the bytes of extra outputs requested in one run; more tensors are calibrated in several
  /// passes over the data, so a large model does not keep every activation of a batch alive at once.
  int64_t max_output_bytes_per_run = 512ll << 20;
  int threads = 0;  // ONNX Runtime intra-op threads (0 = its default)
};

/// Histograms of some tensors of a float model, collected over dataset batches.
struct CalibrationData {
  std::map<std::string, StreamingHistogram> histograms;
  size_t samples = 0;
  int runs = 0;  // passes over the data (more than 1 when outputs were chunked)
  double seconds = 0;
  /// Bytes held by all histograms: constant in the number of samples.
  size_t histogramBytes() const;
  /// Ranges of every tensor under `options`.
  std::map<std::string, QuantRange> ranges(const RangeOptions& options) const;
};

/// Runs `model` in ONNX Runtime over the first `options.samples` examples of `dataset`, with `tensors` added
/// as extra graph outputs, and streams each batch into per-tensor histograms. Throws Error if the dataset
/// does not fit the model's inputs or a tensor name is unknown or not float32.
CalibrationData collectCalibration(const Model& model, const Dataset& dataset,
                                   const std::vector<std::string>& tensors, const CalibrationOptions& options,
                                   JobContext* job = nullptr);

/// A copy of `model` whose graph also outputs `tensors` (float32 intermediates), for calibration and
/// diagnosis. A tensor whose rank shape inference could not find leaves flattened, as
/// calibrationOutputName(tensor).
Model withExtraOutputs(const Model& model, const std::vector<std::string>& tensors);
/// The output name withExtraOutputs gives `tensor`: itself, or "<tensor>_calibration_flat" when its rank is
/// unknown.
std::string calibrationOutputName(const Model& model, const std::string& tensor);

/// Builds inputs for a batch of examples [begin, begin+count) bound to `inputs` (model input declarations).
std::vector<NamedTensor> datasetBatch(const Dataset& dataset, const std::vector<TensorInfo>& inputs,
                                      size_t begin, size_t count);

}  // namespace edgetune
