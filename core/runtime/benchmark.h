#pragma once
// Latency benchmark harness: warm-up, N timed runs, percentiles and peak memory; table and JSON output.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/ir/input_shapes.h"
#include "core/jobs/job.h"
#include "core/runtime/executor.h"

namespace edgetune {

/// The most timed (and warm-up) runs a benchmark takes: minutes of a tiny model, far beyond what a stable
/// median needs, and a bound that keeps the run counts and the samples they record within range.
inline constexpr int kMaxBenchmarkRuns = 100'000;

struct BenchmarkOptions {
  int warmup_runs = 10;
  int runs = 50;
  /// Concrete input sizes (resolveInputShapes): they win over the two fallbacks below, which apply only to
  /// inputs it does not name.
  InputShapes input_shapes;
  int batch_size = 1;  // fallback for a leading dynamic dimension
  int64_t sequence_length =
      kDefaultSequenceLength;  // fallback for other dynamic dimensions of integer inputs
  uint64_t seed = 1;
};

/// Summary of one benchmark; all latencies in milliseconds for one run of `batch_size` examples.
struct BenchmarkResult {
  std::string model;
  int threads = 0;
  int batch_size = 1;
  std::string input_shapes;  // the sizes timed, "input_ids=1x128 ..." (empty when every input was static)
  int runs = 0;
  double min_ms = 0, median_ms = 0, mean_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0, stdev_ms = 0;
  int64_t peak_rss_bytes = 0;     // process peak resident memory during the timed runs
  int64_t session_rss_bytes = 0;  // resident memory added by creating the session (when measured)
  std::vector<double> samples_ms;

  nlohmann::json toJson() const;
  /// Reads toJson()'s output back (a step's recorded result; samples_ms may be absent); throws
  /// nlohmann::json's exception for a missing or mistyped field.
  static BenchmarkResult fromJson(const nlohmann::json& json);
  std::string toTable() const;
};

/// Random inputs matching an executor's input declarations (float: N(0,1); integers: [0, int_high)), at the
/// sizes options.input_shapes gives. A float input with a dynamic non-leading dimension that no shape names
/// throws Error (an image model is never timed at 1x1 by accident).
std::vector<NamedTensor> makeRandomInputs(const std::vector<TensorInfo>& inputs,
                                          const BenchmarkOptions& options, int64_t int_high = 2);

/// Times `executor` on `inputs` (warm-up first). Cancellable through `job`.
BenchmarkResult benchmark(Executor& executor, const std::vector<NamedTensor>& inputs,
                          const BenchmarkOptions& options, JobContext* job = nullptr);

/// Creates an ONNX Runtime session for `model` (measuring its memory) and benchmarks it on random inputs.
BenchmarkResult benchmarkModel(const Model& model, const OrtOptions& ort, const BenchmarkOptions& options,
                               JobContext* job = nullptr);

/// Median latency (ms) of each model, timed in interleaved rounds in one process: every round runs each model
/// once (after options.warmup_runs untimed rounds), so all of them see the same machine state and their
/// ratios are comparable even on a busy machine. Sessions are created with spinning off (ort.allow_spinning
/// is ignored): an idle session's spinning threads would otherwise compete with the one being timed.
std::vector<double> interleavedMedians(const std::vector<const Model*>& models, const OrtOptions& ort,
                                       const BenchmarkOptions& options);
/// The same loop over executors that already exist, each with its own inputs (e.g. real data); options.runs
/// and options.warmup_runs are used. The caller creates the sessions (with allow_spinning off when they are
/// ORT).
std::vector<double> interleavedMedians(const std::vector<Executor*>& executors,
                                       const std::vector<std::vector<NamedTensor>>& inputs,
                                       const BenchmarkOptions& options);
/// The same interleaved loop, returning every timed sample (ms) of each executor, in run order (for
/// percentiles beyond the median). Cancellable between rounds through `job`, which also sees the progress.
std::vector<std::vector<double>> interleavedSamples(const std::vector<Executor*>& executors,
                                                    const std::vector<std::vector<NamedTensor>>& inputs,
                                                    const BenchmarkOptions& options,
                                                    JobContext* job = nullptr);

/// Statistics helpers (exposed for tests): nearest-rank percentile of unsorted samples, q in [0, 100].
double percentile(std::vector<double> samples, double q);

/// Current and peak resident set size of this process, from /proc/self/status (bytes; 0 if unavailable).
int64_t currentRssBytes();
int64_t peakRssBytes();
/// Resets the kernel's peak-RSS counter for this process (no-op where unsupported).
void resetPeakRss();

}  // namespace edgetune
