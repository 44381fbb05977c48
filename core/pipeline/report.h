#pragma once
// The run report: the paper's table, measured. For the base model and every step that gave a model: file size
// and ratio, parameters, MACs, accuracy on the test set with its 95% interval and the drop from the base,
// latency median / p90 on each thread count with the speed-up timed interleaved with the base in one run,
// peak memory, and the CPU it was measured on. Written as report.json (machines), report.md (people) and
// plots (accuracy / size / latency per step, and accuracy against latency: the Pareto view) in PNG and SVG.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/deploy/device_benchmark.h"
#include "core/ir/input_shapes.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"

namespace edgetune::pipeline {

struct ReportOptions {
  std::vector<int> threads = {1, 2};  // ONNX Runtime intra-op thread counts timed
  int latency_runs = 50;  // interleaved rounds per thread count (each round runs base and variant)
  int warmup_runs = 10;
  size_t test_limit = 0;  // test examples evaluated (0 = the whole test set)
  int eval_batch_size = 64;
  InputShapes
      input_shapes;  // sizes for dynamic inputs (resolveInputShapes); empty = batch 1 and the defaults
};

/// A model to measure: the base ("base") or a step's output, saved at `path` (its file size is what counts).
struct ReportEntry {
  std::string step_id;  // "base" or the step's id
  std::string kind;     // "base" or the step's kind
  std::filesystem::path path;
};

/// What was measured for one entry.
struct ModelMeasurement {
  std::string step_id, kind;
  int64_t file_bytes = 0;
  double size_ratio = 1;  // base file size / this one (> 1 = smaller)
  int64_t params = 0, macs = 0;
  bool has_accuracy = false;                   // false without a test set
  double accuracy = 0;                         // top-1 on the test set, 0..1
  double accuracy_low = 0, accuracy_high = 0;  // Wilson 95% interval
  double accuracy_drop_points = 0;             // (base - this) * 100
  size_t test_examples = 0;
  struct Latency {
    int threads = 1;
    double median_ms = 0, p90_ms = 0;
    double base_median_ms = 0;  // the base, timed in the same interleaved rounds
    double speedup = 1;         // base_median_ms / median_ms
  };
  std::vector<Latency> latency;
  int64_t session_peak_rss_bytes = 0;  // resident memory after creating the session and running it once

  nlohmann::json toJson() const;
  static ModelMeasurement fromJson(const nlohmann::json& json);
};

/// The CPU the numbers were measured on (model name and the SIMD flags ONNX Runtime's kernels depend on).
struct CpuInfo {
  std::string model_name;
  std::vector<std::string>
      flags;  // of: sse4_2 avx avx2 fma avx512f avx512bw avx512vl avx512_vnni avx_vnni amx_int8 ...
  int cores = 0;
  static CpuInfo ofThisMachine();
  nlohmann::json toJson() const;
};

/// What a deploy or benchmark step measured on a device: edgetune-runner's numbers as the step recorded them.
struct DeviceMeasurement {
  std::string step_id;   // the deploy or benchmark step
  std::string model_id;  // whose model ran: "base" or a step id (the step's input)
  deploy::DeviceBenchmark bench;
  /// Per entry of bench.latency: the base's median over this one's on the same device and thread count. From
  /// the runner's interleaved timing when the step asked for it (bench.latency[i].speedup), else from a
  /// separate measurement of the base there if the recipe has one; 0 = none.
  std::vector<double> speedups;

  nlohmann::json toJson() const;
  static DeviceMeasurement fromJson(const nlohmann::json& json);
};

/// The device measurement in a step's result, if it holds one: a deploy step's "bench", a benchmark step's
/// "benchmark" when it ran "where": "device". Throws Error naming the step for a malformed one.
std::optional<DeviceMeasurement> deviceMeasurementOf(const std::string& step_id, const std::string& model_id,
                                                     const nlohmann::json& result);

/// Fills every measurement's speedups from the base's measurement on the same device (the last one taken).
void addDeviceSpeedups(std::vector<DeviceMeasurement>& measurements);

struct RunReport {
  std::string recipe_name;
  std::string test_dataset;  // its spec ("" = none)
  CpuInfo cpu;
  std::vector<ModelMeasurement> models;   // base first, then the steps in recipe order
  std::vector<DeviceMeasurement> device;  // what deploy / benchmark steps measured on devices, in step order
  // How the latencies were measured (for the sentence under the table).
  int latency_runs = 0, warmup_runs = 0;
  std::string input_shapes;  // the sizes measured, InputShapes::describe() of the base ("input=1x1x28x28")
  nlohmann::json toJson() const;
  static RunReport fromJson(const nlohmann::json& json);
  /// The paper's table as Markdown: one row per model, the final one in bold, then the CPU and how it was
  /// measured; then, when a step measured on a device, the same from the device.
  std::string toMarkdown() const;
};

/// Measures every entry (entries[0] must be the base; the runner caches whole reports). `test` may be null
/// (no accuracy columns). Cancellable through `job`.
RunReport measureModels(const std::vector<ReportEntry>& entries, const Dataset* test,
                        const ReportOptions& options, JobContext* job = nullptr);

/// Writes report.json, report.md and the plots (plot_accuracy, plot_size, plot_latency, plot_pareto; .png and
/// .svg) into `dir`, each through a temporary file and a rename.
void writeReport(const RunReport& report, const std::filesystem::path& dir);

}  // namespace edgetune::pipeline
