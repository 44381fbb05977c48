#include "core/pipeline/node_overlays.h"

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/analysis/channel_dependencies.h"
#include "core/analysis/quant_error.h"
#include "core/passes/prune_channels.h"
#include "core/runtime/benchmark.h"
#include "core/util/files.h"

namespace edgetune::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

std::vector<double> sensitivityOverlay(const Model& model, const SensitivityResult& result,
                                       AnalysisCache* analyses) {
  std::vector<double> overlay(model.graph().node_size(), std::numeric_limits<double>::quiet_NaN());
  std::unordered_map<std::string, int> index;
  for (int i = 0; i < model.graph().node_size(); ++i) index[model.graph().node(i).name()] = i;
  std::unordered_map<std::string, std::vector<std::string>> producers;
  const auto groups = analyze<PruneGroupsAnalysis>(analyses, model);
  for (const auto& g : *groups) producers[g.id] = g.producers;
  for (const auto& c : result.curves) {
    if (c.accuracy.empty()) continue;
    double drop = 0;
    for (double a : c.accuracy) drop += 100 * (result.baseline_accuracy - a);
    drop /= static_cast<double>(c.accuracy.size());
    for (const auto& p : producers[c.group])
      if (auto it = index.find(p); it != index.end()) {
        double& v = overlay[it->second];
        v = std::isnan(v) ? drop : std::max(v, drop);
      }
  }
  return overlay;
}

std::vector<double> measureLatencyShares(const Model& model, int runs, JobContext* job) {
  const fs::path dir = fs::temp_directory_path() / ("edgetune-profile-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(reinterpret_cast<uintptr_t>(&model)));
  fs::create_directories(dir);
  OrtOptions ort;
  ort.optimization = GraphOptimization::Disabled;
  ort.enable_profiling = true;
  ort.profile_prefix = (dir / "profile").string();
  {
    auto executor = makeOrtExecutor(model, ort);
    BenchmarkOptions bench;
    bench.warmup_runs = 1;
    bench.runs = runs;
    benchmark(*executor, makeRandomInputs(executor->inputs(), bench), bench, job);
  }  // the session writes its profile when it ends
  std::unordered_map<std::string, double> time_us;
  double total = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    const json events = json::parse(readFile(entry.path()), nullptr, false);
    if (!events.is_array()) continue;
    for (const auto& e : events) {
      if (e.value("cat", std::string()) != "Node") continue;
      std::string name = e.value("name", std::string());
      const std::string suffix = "_kernel_time";
      if (name.size() <= suffix.size() ||
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      name.resize(name.size() - suffix.size());
      const double dur = e.value("dur", 0.0);
      time_us[name] += dur;
      total += dur;
    }
  }
  fs::remove_all(dir);
  std::vector<double> shares(model.graph().node_size(), std::numeric_limits<double>::quiet_NaN());
  if (total <= 0) return shares;
  for (int i = 0; i < model.graph().node_size(); ++i)
    if (auto it = time_us.find(model.graph().node(i).name()); it != time_us.end())
      shares[i] = it->second / total;
  return shares;
}

std::vector<double> quantizationErrorPerNode(const Model& index_model, const Model& float_model,
                                             const Model& quantized, const Dataset& dataset, size_t samples,
                                             JobContext* job) {
  const QuantErrorReport report = diagnoseQuantization(float_model, quantized, dataset, samples, 16, job);
  std::unordered_map<std::string, double> by_producer;
  for (const auto& t : report.tensors)
    if (!t.producer.empty())
      by_producer[t.producer] =
          std::max(by_producer.count(t.producer) ? by_producer[t.producer] : -1e9, -t.snr_db);
  std::vector<double> out(index_model.graph().node_size(), std::numeric_limits<double>::quiet_NaN());
  for (int i = 0; i < index_model.graph().node_size(); ++i)
    if (auto it = by_producer.find(index_model.graph().node(i).name()); it != by_producer.end())
      out[i] = it->second;
  return out;
}

}  // namespace edgetune::pipeline
