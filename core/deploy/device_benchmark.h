#pragma once
// DeviceBenchmark: what edgetune-runner measured on a device (latency per thread count, peak memory, per-node
// profile, accuracy), parsed from its JSON; toJson()/fromJson() round-trip for storing it in a variant.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgetune::deploy {

/// Latency at one intra-op thread count, milliseconds per run (batch 1).
struct DeviceLatency {
  int threads = 1;
  int runs = 0;
  double min_ms = 0, median_ms = 0, mean_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0, stdev_ms = 0;
  int64_t peak_rss_bytes = 0;
  // With a baseline (the runner's --baseline): its latency from runs alternating with this model's in one
  // process, and its median over this one's. 0 = not measured.
  double baseline_median_ms = 0, baseline_p90_ms = 0, speedup = 0;
};

/// Summed ONNX Runtime kernel time of one graph node over the profiled runs.
struct NodeProfile {
  std::string name;  // ORT's node name (the ONNX node name, or ORT's name for fused nodes)
  std::string op;
  int64_t total_us = 0;
  int64_t calls = 0;
  double mean_us = 0;
};

struct DeviceAccuracy {
  int64_t examples = 0;
  int64_t correct = 0;
  double top1 = 0;
  double mean_latency_ms = 0;
};

struct DeviceBenchmark {
  std::string device;  // device name (set by the host, not the runner)
  std::string model;   // model path on the device
  std::string arch;
  std::string onnxruntime_version;
  int runner_version = 0;
  int cpu_cores = 0;
  std::vector<DeviceLatency> latency;
  int64_t peak_rss_bytes = 0;
  int profile_threads = 0;
  std::vector<NodeProfile> profile;  // slowest first; empty unless profiled
  std::optional<DeviceAccuracy> accuracy;

  nlohmann::json toJson() const;
  /// Reads toJson()'s output or the runner's JSON; throws Error naming the missing/bad field.
  static DeviceBenchmark fromJson(const nlohmann::json& json);
  std::string toTable() const;
};

/// Parses the runner's stdout (one JSON object). Throws Error with the runner's own message if it reported
/// {"error": ...}, or naming the problem if the output is not the runner's JSON.
DeviceBenchmark parseRunnerOutput(const std::string& stdout_text);

}  // namespace edgetune::deploy
