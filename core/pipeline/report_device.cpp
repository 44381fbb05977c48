// The run report's device part: what deploy and benchmark steps measured with edgetune-runner on a device,
// taken from their step results, and the speed-up over the base there: measured interleaved with the base in
// one run when the step asked for it (compare_base), else from a separate measurement of the base on the same
// device if the recipe has one. The Markdown says which.
#include "core/pipeline/report.h"
#include "core/util/error.h"

namespace edgetune::pipeline {

nlohmann::json DeviceMeasurement::toJson() const {
  return {{"step_id", step_id}, {"model_id", model_id}, {"bench", bench.toJson()}, {"speedups", speedups}};
}

DeviceMeasurement DeviceMeasurement::fromJson(const nlohmann::json& json) {
  DeviceMeasurement m;
  json.at("step_id").get_to(m.step_id);
  json.at("model_id").get_to(m.model_id);
  m.bench = deploy::DeviceBenchmark::fromJson(json.at("bench"));
  json.at("speedups").get_to(m.speedups);
  return m;
}

std::optional<DeviceMeasurement> deviceMeasurementOf(const std::string& step_id, const std::string& model_id,
                                                     const nlohmann::json& result) {
  const nlohmann::json* bench = nullptr;
  if (result.contains("bench") && result.at("bench").is_object())
    bench = &result.at("bench");  // deploy with bench / profile / eval
  else if (result.value("where", "") == "device" && result.contains("benchmark"))
    bench = &result.at("benchmark");
  if (!bench) return std::nullopt;
  DeviceMeasurement m;
  m.step_id = step_id;
  m.model_id = model_id;
  try {
    m.bench = deploy::DeviceBenchmark::fromJson(*bench);
  } catch (const Error& e) {
    throw Error("step '" + step_id + "': its device measurement: " + e.what());
  }
  if (m.bench.device.empty()) m.bench.device = result.value("device", "");
  m.speedups.assign(m.bench.latency.size(), 0.0);
  return m;
}

void addDeviceSpeedups(std::vector<DeviceMeasurement>& measurements) {
  for (auto& m : measurements) {
    const DeviceMeasurement* base = nullptr;
    for (const auto& other : measurements)
      if (other.model_id == "base" && other.bench.device == m.bench.device) base = &other;
    m.speedups.assign(m.bench.latency.size(), 0.0);
    for (size_t i = 0; i < m.bench.latency.size(); ++i) m.speedups[i] = m.bench.latency[i].speedup;
    if (!base) continue;
    for (size_t i = 0; i < m.bench.latency.size(); ++i)
      for (const auto& b : base->bench.latency)
        if (m.speedups[i] == 0 && b.threads == m.bench.latency[i].threads && m.bench.latency[i].median_ms > 0)
          m.speedups[i] = b.median_ms / m.bench.latency[i].median_ms;
  }
}

}  // namespace edgetune::pipeline
