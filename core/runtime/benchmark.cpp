#include "core/runtime/benchmark.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include "core/util/error.h"

namespace edgetune {
namespace {

int64_t statusField(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t key_len = std::strlen(key);
  while (std::getline(in, line))
    if (line.compare(0, key_len, key) == 0) return std::stoll(line.substr(key_len)) * 1024;  // reported in kB
  return 0;
}

}  // namespace

int64_t currentRssBytes() {
  return statusField("VmRSS:");
}
int64_t peakRssBytes() {
  return statusField("VmHWM:");
}
void resetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  if (out) out << "5";
}

double percentile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  // Nearest-rank: the smallest sample with at least q% of the samples at or below it.
  size_t rank = static_cast<size_t>(std::ceil(q / 100.0 * static_cast<double>(samples.size())));
  rank = std::clamp<size_t>(rank, 1, samples.size());
  return samples[rank - 1];
}

std::vector<NamedTensor> makeRandomInputs(const std::vector<TensorInfo>& inputs,
                                          const BenchmarkOptions& options, int64_t int_high) {
  std::mt19937_64 rng(options.seed);
  std::vector<NamedTensor> result;
  for (const auto& in : inputs) {
    std::vector<int64_t> shape = in.shape;
    if (auto given = options.input_shapes.dims.find(in.name); given != options.input_shapes.dims.end()) {
      shape = given->second;
    } else {
      const bool tokens = in.type == DataType::Int64 || in.type == DataType::Int32;
      for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] >= 0) continue;
        if (d == 0)
          shape[d] = options.batch_size;
        else if (tokens)
          shape[d] = options.sequence_length;
        else
          throw Error("input '" + in.name + "': dimension " + std::to_string(d) +
                      " is dynamic and has no size; give it with --shape " + in.name + "=...");
      }
    }
    Tensor t(in.type, shape);
    switch (in.type) {
      case DataType::Float32: {
        std::normal_distribution<float> dist(0.f, 1.f);
        for (auto& v : t.values<float>()) v = dist(rng);
        break;
      }
      case DataType::Int64: {
        std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(int_high - 1, 0));
        for (auto& v : t.values<int64_t>()) v = dist(rng);
        break;
      }
      case DataType::Int32: {
        std::uniform_int_distribution<int32_t> dist(0,
                                                    static_cast<int32_t>(std::max<int64_t>(int_high - 1, 0)));
        for (auto& v : t.values<int32_t>()) v = dist(rng);
        break;
      }
      default:
        throw Error("input '" + in.name + "': cannot make random data of type " + dataTypeName(in.type));
    }
    result.push_back({in.name, std::move(t)});
  }
  return result;
}

BenchmarkResult benchmark(Executor& executor, const std::vector<NamedTensor>& inputs,
                          const BenchmarkOptions& options, JobContext* job) {
  if (options.runs < 1 || options.runs > kMaxBenchmarkRuns)
    throw Error("benchmark: --runs must be in 1.." + std::to_string(kMaxBenchmarkRuns));
  if (options.warmup_runs < 0 || options.warmup_runs > kMaxBenchmarkRuns)
    throw Error("benchmark: --warmup must be in 0.." + std::to_string(kMaxBenchmarkRuns));
  using clock = std::chrono::steady_clock;
  const int total = options.warmup_runs + options.runs;
  for (int i = 0; i < options.warmup_runs; ++i) {
    if (job) {
      job->throwIfCancelled();
      job->report(static_cast<double>(i) / total, "warm-up");
    }
    executor.run(inputs);
  }
  resetPeakRss();
  BenchmarkResult r;
  r.batch_size =
      options.input_shapes.empty() ? options.batch_size : static_cast<int>(options.input_shapes.batch());
  r.input_shapes = options.input_shapes.describe();
  r.runs = options.runs;
  r.samples_ms.reserve(options.runs);
  for (int i = 0; i < options.runs; ++i) {
    if (job) {
      job->throwIfCancelled();
      job->report(static_cast<double>(options.warmup_runs + i) / total, "timed runs");
    }
    auto t0 = clock::now();
    executor.run(inputs);
    auto t1 = clock::now();
    r.samples_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  r.peak_rss_bytes = peakRssBytes();
  const auto& s = r.samples_ms;
  r.min_ms = *std::min_element(s.begin(), s.end());
  r.max_ms = *std::max_element(s.begin(), s.end());
  r.median_ms = percentile(s, 50);
  r.p90_ms = percentile(s, 90);
  r.p99_ms = percentile(s, 99);
  r.mean_ms = std::accumulate(s.begin(), s.end(), 0.0) / static_cast<double>(s.size());
  double var = 0;
  for (double x : s) var += (x - r.mean_ms) * (x - r.mean_ms);
  r.stdev_ms = s.size() > 1 ? std::sqrt(var / static_cast<double>(s.size() - 1)) : 0.0;
  if (job) job->report(1.0, "done");
  return r;
}

BenchmarkResult benchmarkModel(const Model& model, const OrtOptions& ort, const BenchmarkOptions& options,
                               JobContext* job) {
  int64_t before = currentRssBytes();
  auto executor = makeOrtExecutor(model, ort);
  int64_t after = currentRssBytes();
  auto inputs = makeRandomInputs(executor->inputs(), options);
  BenchmarkResult r = benchmark(*executor, inputs, options, job);
  r.model = model.origin();
  r.threads = ort.intra_op_threads;
  r.session_rss_bytes = std::max<int64_t>(0, after - before);
  return r;
}

std::vector<std::vector<double>> interleavedSamples(const std::vector<Executor*>& executors,
                                                    const std::vector<std::vector<NamedTensor>>& inputs,
                                                    const BenchmarkOptions& options, JobContext* job) {
  if (inputs.size() != executors.size())
    throw Error("interleaved timing: one input set per executor is needed");
  std::vector<std::vector<double>> times(executors.size());
  const int rounds = options.warmup_runs + options.runs;
  for (int round = 0; round < rounds; ++round) {
    if (job) {
      job->throwIfCancelled();
      job->report(static_cast<double>(round) / rounds,
                  round < options.warmup_runs ? "warm-up" : "timed rounds");
    }
    for (size_t i = 0; i < executors.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      executors[i]->run(inputs[i]);
      const auto t1 = std::chrono::steady_clock::now();
      if (round >= options.warmup_runs)
        times[i].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
  }
  if (job) job->report(1.0, "done");
  return times;
}

std::vector<double> interleavedMedians(const std::vector<Executor*>& executors,
                                       const std::vector<std::vector<NamedTensor>>& inputs,
                                       const BenchmarkOptions& options) {
  std::vector<double> medians;
  for (const auto& t : interleavedSamples(executors, inputs, options)) medians.push_back(percentile(t, 50));
  return medians;
}

std::vector<double> interleavedMedians(const std::vector<const Model*>& models, const OrtOptions& ort,
                                       const BenchmarkOptions& options) {
  OrtOptions o = ort;
  o.allow_spinning = false;
  std::vector<std::unique_ptr<Executor>> owned;
  std::vector<Executor*> executors;
  std::vector<std::vector<NamedTensor>> inputs;
  for (const Model* m : models) {
    owned.push_back(makeOrtExecutor(*m, o));
    executors.push_back(owned.back().get());
    inputs.push_back(makeRandomInputs(executors.back()->inputs(), options));
  }
  return interleavedMedians(executors, inputs, options);
}

nlohmann::json BenchmarkResult::toJson() const {
  return {{"model", model},
          {"threads", threads},
          {"batch_size", batch_size},
          {"runs", runs},
          {"min_ms", min_ms},
          {"median_ms", median_ms},
          {"mean_ms", mean_ms},
          {"p90_ms", p90_ms},
          {"p99_ms", p99_ms},
          {"max_ms", max_ms},
          {"stdev_ms", stdev_ms},
          {"peak_rss_bytes", peak_rss_bytes},
          {"session_rss_bytes", session_rss_bytes},
          {"samples_ms", samples_ms},
          {"input_shapes", input_shapes}};
}

BenchmarkResult BenchmarkResult::fromJson(const nlohmann::json& j) {
  BenchmarkResult r;
  j.at("model").get_to(r.model);
  j.at("threads").get_to(r.threads);
  j.at("batch_size").get_to(r.batch_size);
  j.at("runs").get_to(r.runs);
  j.at("min_ms").get_to(r.min_ms);
  j.at("median_ms").get_to(r.median_ms);
  j.at("mean_ms").get_to(r.mean_ms);
  j.at("p90_ms").get_to(r.p90_ms);
  j.at("p99_ms").get_to(r.p99_ms);
  j.at("max_ms").get_to(r.max_ms);
  j.at("stdev_ms").get_to(r.stdev_ms);
  j.at("peak_rss_bytes").get_to(r.peak_rss_bytes);
  j.at("session_rss_bytes").get_to(r.session_rss_bytes);
  if (j.contains("samples_ms")) j.at("samples_ms").get_to(r.samples_ms);  // a recipe step may leave them out
  j.at("input_shapes").get_to(r.input_shapes);
  return r;
}

std::string BenchmarkResult::toTable() const {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(3);
  out << "model        " << model << "\n"
      << "threads      " << threads << "   batch " << batch_size << "   runs " << runs << "\n";
  if (!input_shapes.empty()) out << "inputs       " << input_shapes << "\n";
  out << "latency ms   min " << min_ms << "   median " << median_ms << "   p90 " << p90_ms << "   p99 "
      << p99_ms << "   stdev " << stdev_ms << "\n";
  out.precision(1);
  out << "memory MB    peak RSS " << static_cast<double>(peak_rss_bytes) / 1e6 << "   session "
      << static_cast<double>(session_rss_bytes) / 1e6 << "\n";
  return out.str();
}

}  // namespace edgetune
