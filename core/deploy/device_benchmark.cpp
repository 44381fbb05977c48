// DeviceBenchmark <-> JSON.
#include "core/deploy/device_benchmark.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "core/util/error.h"

namespace edgetune::deploy {

nlohmann::json DeviceBenchmark::toJson() const {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& l : latency) {
    nlohmann::json r{{"threads", l.threads},   {"runs", l.runs},
                     {"min_ms", l.min_ms},     {"median_ms", l.median_ms},
                     {"mean_ms", l.mean_ms},   {"p90_ms", l.p90_ms},
                     {"p99_ms", l.p99_ms},     {"max_ms", l.max_ms},
                     {"stdev_ms", l.stdev_ms}, {"peak_rss_bytes", l.peak_rss_bytes}};
    if (l.speedup > 0) {
      r["baseline"] = {{"median_ms", l.baseline_median_ms}, {"p90_ms", l.baseline_p90_ms}};
      r["speedup"] = l.speedup;
    }
    results.push_back(r);
  }
  nlohmann::json j{{"device", device},
                   {"model", model},
                   {"arch", arch},
                   {"onnxruntime_version", onnxruntime_version},
                   {"runner_version", runner_version},
                   {"cpu_cores", cpu_cores},
                   {"results", results},
                   {"peak_rss_bytes", peak_rss_bytes}};
  if (!profile.empty()) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& n : profile)
      nodes.push_back({{"name", n.name},
                       {"op", n.op},
                       {"total_us", n.total_us},
                       {"calls", n.calls},
                       {"mean_us", n.mean_us}});
    j["profile"] = {{"threads", profile_threads}, {"nodes", nodes}};
  }
  if (accuracy)
    j["accuracy"] = {{"examples", accuracy->examples},
                     {"correct", accuracy->correct},
                     {"top1", accuracy->top1},
                     {"mean_latency_ms", accuracy->mean_latency_ms}};
  return j;
}

namespace {

// An integer field of the runner's JSON, range-checked: nlohmann's get<int>() on 1e30 or on 2^40 converts
// out of range (undefined behaviour), and a device must not be able to make the studio do that.
template <typename Int>
Int integerField(const nlohmann::json& object, const char* key, std::optional<Int> fallback = std::nullopt) {
  if (!object.is_object() || !object.contains(key)) {
    if (fallback) return *fallback;
    throw Error(std::string("device benchmark JSON: field '") + key + "' is missing");
  }
  const auto& v = object.at(key);
  constexpr auto lowest = static_cast<double>(std::numeric_limits<Int>::lowest());
  constexpr auto highest = static_cast<double>(std::numeric_limits<Int>::max());
  bool fits = false;
  if (v.is_number_unsigned())
    fits = v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<Int>::max());
  else if (v.is_number_integer())
    fits = v.get<int64_t>() >= static_cast<int64_t>(std::numeric_limits<Int>::lowest()) &&
           v.get<int64_t>() <= static_cast<int64_t>(std::numeric_limits<Int>::max());
  else if (v.is_number_float())
    // Strictly below `highest`: as a double, INT64_MAX rounds up to 2^63, which does not fit.
    fits = std::isfinite(v.get<double>()) && std::trunc(v.get<double>()) == v.get<double>() &&
           v.get<double>() >= lowest && v.get<double>() < highest;
  if (!fits)
    throw Error(std::string("device benchmark JSON: field '") + key + "' is " + v.dump() +
                ", not an integer in [" + std::to_string(std::numeric_limits<Int>::lowest()) + ", " +
                std::to_string(std::numeric_limits<Int>::max()) + "]");
  return v.is_number_float() ? static_cast<Int>(v.get<double>()) : v.get<Int>();
}

}  // namespace

DeviceBenchmark DeviceBenchmark::fromJson(const nlohmann::json& j) {
  DeviceBenchmark b;
  try {
    b.device = j.value("device", std::string());
    b.model = j.value("model", std::string());
    b.arch = j.value("arch", std::string());
    b.onnxruntime_version = j.value("onnxruntime_version", std::string());
    b.runner_version = integerField<int>(j, "runner_version", 0);
    b.cpu_cores = integerField<int>(j, "cpu_cores", 0);
    for (const auto& r : j.at("results")) {
      DeviceLatency l;
      l.threads = integerField<int>(r, "threads");
      l.runs = integerField<int>(r, "runs");
      l.min_ms = r.at("min_ms").get<double>();
      l.median_ms = r.at("median_ms").get<double>();
      l.mean_ms = r.at("mean_ms").get<double>();
      l.p90_ms = r.at("p90_ms").get<double>();
      l.p99_ms = r.at("p99_ms").get<double>();
      l.max_ms = r.at("max_ms").get<double>();
      l.stdev_ms = r.value("stdev_ms", 0.0);
      l.peak_rss_bytes = integerField<int64_t>(r, "peak_rss_bytes", 0);
      if (r.contains("speedup")) {
        l.speedup = r.at("speedup").get<double>();
        l.baseline_median_ms = r.at("baseline").at("median_ms").get<double>();
        l.baseline_p90_ms = r.at("baseline").at("p90_ms").get<double>();
      }
      b.latency.push_back(l);
    }
    b.peak_rss_bytes = integerField<int64_t>(j, "peak_rss_bytes", 0);
    if (j.contains("profile")) {
      const auto& p = j["profile"];
      b.profile_threads = integerField<int>(p, "threads", 0);
      for (const auto& n : p.at("nodes"))
        b.profile.push_back({n.at("name").get<std::string>(), n.value("op", std::string()),
                             integerField<int64_t>(n, "total_us"), integerField<int64_t>(n, "calls", 0),
                             n.value("mean_us", 0.0)});
    }
    if (j.contains("accuracy")) {
      const auto& a = j["accuracy"];
      b.accuracy = DeviceAccuracy{integerField<int64_t>(a, "examples"), integerField<int64_t>(a, "correct"),
                                  a.at("top1").get<double>(), a.value("mean_latency_ms", 0.0)};
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("device benchmark JSON: ") + e.what());
  }
  return b;
}

DeviceBenchmark parseRunnerOutput(const std::string& stdout_text) {
  // The JSON is the last non-empty line (ONNX Runtime may print warnings before it).
  std::istringstream in(stdout_text);
  std::string last;
  for (std::string line; std::getline(in, line);)
    if (line.find('{') != std::string::npos) last = line;
  nlohmann::json j = nlohmann::json::parse(last, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    std::string shown = stdout_text.substr(0, 300);
    throw Error("the device runner did not print its JSON report; it printed: " +
                (shown.empty() ? "(nothing)" : shown));
  }
  // A device is not trusted: "error" may hold anything, and is shown as text either way.
  if (j.contains("error"))
    throw Error("the device runner failed: " +
                (j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump()).substr(0, 300));
  return DeviceBenchmark::fromJson(j);
}

std::string DeviceBenchmark::toTable() const {
  std::ostringstream out;
  char line[200];
  out << "Device " << device << " (" << arch << ", " << cpu_cores << " cores, ONNX Runtime "
      << onnxruntime_version << ")\n";
  out << "threads   median_ms    p90_ms    p99_ms    min_ms   peak_MiB\n";
  for (const auto& l : latency) {
    std::snprintf(line, sizeof(line), "%7d %11.3f %9.3f %9.3f %9.3f %10.1f\n", l.threads, l.median_ms,
                  l.p90_ms, l.p99_ms, l.min_ms, static_cast<double>(l.peak_rss_bytes) / (1024.0 * 1024.0));
    out << line;
  }
  if (accuracy) {
    std::snprintf(line, sizeof(line), "accuracy: %.2f%% top-1 on %lld examples\n", 100.0 * accuracy->top1,
                  static_cast<long long>(accuracy->examples));
    out << line;
  }
  if (!profile.empty()) {
    out << "slowest nodes (" << profile_threads << " thread(s)):\n";
    for (size_t i = 0; i < profile.size() && i < 10; ++i) {
      std::snprintf(line, sizeof(line), "  %-40s %-18s %10.1f us/run\n", profile[i].name.c_str(),
                    profile[i].op.c_str(), profile[i].mean_us);
      out << line;
    }
  }
  return out.str();
}

}  // namespace edgetune::deploy
