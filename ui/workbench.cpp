#include "ui/workbench.h"

#include <unistd.h>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>

#include "core/analysis/evaluate.h"
#include "core/analysis/quant_error.h"
#include "core/ir/stats.h"
#include "core/passes/prune_channels.h"
#include "core/passes/prune_magnitude.h"
#include "core/passes/quantize_passes.h"
#include "core/runtime/benchmark.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/zoo.h"

namespace edgetune::ui {
namespace fs = std::filesystem;
using nlohmann::json;

const PassRegistry& studioPassRegistry() {
  // The pruning and quantization families register themselves in withBuiltins() once the lead wires them;
  // until then the studio adds them here (contains() keeps this from registering a name twice).
  static const PassRegistry registry = [] {
    PassRegistry r = PassRegistry::withBuiltins();
    if (!r.contains("prune_channels") && !r.contains("prune_magnitude")) registerPrunePasses(r);
    if (!r.contains("quantize")) registerQuantizePasses(r);
    return r;
  }();
  return registry;
}

Model applyRecipe(const Model& baseline, const json& recipe, JobContext* job,
                  std::vector<PassReport>* reports) {
  Model model = baseline;
  Recipe parsed = Recipe::fromJson(recipe, studioPassRegistry(), "recipe");
  if (parsed.size() == 0) return model;
  PassContext context(job);
  std::vector<PassReport> done = parsed.apply(model, context);
  if (reports) *reports = std::move(done);
  return model;
}

std::vector<std::string> coverageLines(const std::vector<PassReport>& reports) {
  std::vector<std::string> lines;
  for (const auto& r : reports) {
    if (!r.coverage) continue;
    const std::string verb = r.pass_name == "quantize" ? "quantized" : "pruned";
    for (auto& line : r.coverage->lines(verb)) lines.push_back(std::move(line));
  }
  return lines;
}

Model variantModel(const Model& baseline, const Variant& variant, JobContext* job) {
  if (variant.model_file.empty()) return applyRecipe(baseline, variant.recipe, job);
  if (!std::filesystem::exists(variant.model_file))
    throw Error("variant '" + variant.name + "': model file " + variant.model_file + " does not exist");
  return Model::load(variant.model_file);
}

std::vector<double> sensitivityOverlay(const Model& model, const SensitivityResult& result) {
  std::vector<double> overlay(model.graph().node_size(), std::numeric_limits<double>::quiet_NaN());
  std::unordered_map<std::string, int> index;
  for (int i = 0; i < model.graph().node_size(); ++i) index[model.graph().node(i).name()] = i;
  std::unordered_map<std::string, std::vector<std::string>> producers;
  for (const auto& g : findPruneGroups(model)) producers[g.id] = g.producers;
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

VariantMetrics measureVariant(const Model& model, const Dataset* dataset, const MeasureOptions& options,
                              JobContext& job, const std::function<void(const MeasureUpdate&)>& on_update) {
  MeasureUpdate update;
  // Size: what the exported file will take.
  update.metrics.size_bytes = static_cast<int64_t>(model.serialize().size());
  update.metrics.params = model.parameterCount();
  update.stage = MeasureUpdate::Stage::Size;
  job.report(0.02, "size measured");
  if (on_update) on_update(update);
  job.throwIfCancelled();

  // Latency: a short ONNX Runtime benchmark, enough for a stable median on small models.
  OrtOptions ort;
  ort.intra_op_threads = 1;
  auto executor = makeOrtExecutor(model, ort);
  BenchmarkOptions bench;
  bench.runs = options.latency_runs;
  bench.warmup_runs = options.latency_warmup;
  bench.input_shapes = options.input_shapes;
  auto inputs = makeRandomInputs(executor->inputs(), bench);
  SubProgress latency_progress(&job, 0.02, 0.1);
  BenchmarkResult result = benchmark(*executor, inputs, bench, &job);
  update.metrics.latency_ms = result.median_ms;
  update.metrics.latency_p90_ms = result.p90_ms;
  update.stage = MeasureUpdate::Stage::Latency;
  job.report(0.1, "latency measured");
  if (on_update) on_update(update);
  job.throwIfCancelled();

  if (!dataset) return update.metrics;
  // Accuracy: a seeded shuffled order so the running estimate is unbiased from the first batch.
  EvalOptions eval;
  eval.shuffle = true;
  eval.seed = options.accuracy_seed;
  eval.limit = options.accuracy_limit;
  eval.batch_size = options.batch_size;
  update.stage = MeasureUpdate::Stage::Accuracy;
  EvalResult final_result = evaluate(*executor, *dataset, eval, nullptr, [&](const EvalResult& r) {
    job.throwIfCancelled();
    update.metrics.accuracy = r.top1;
    update.metrics.accuracy_low = r.top1_ci.low;
    update.metrics.accuracy_high = r.top1_ci.high;
    update.metrics.accuracy_count = static_cast<int64_t>(r.count);
    update.accuracy_final = r.count >= r.total;
    const double fraction = r.total ? static_cast<double>(r.count) / static_cast<double>(r.total) : 1.0;
    job.report(0.1 + 0.9 * fraction, "accuracy on " + std::to_string(r.count) + " examples");
    if (on_update) on_update(update);
  });
  (void)final_result;
  return update.metrics;
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

std::string formatBytes(int64_t bytes) {
  char buf[64];
  if (bytes >= 1000 * 1000)
    std::snprintf(buf, sizeof buf, "%.2f MB", bytes / 1e6);
  else if (bytes >= 1000)
    std::snprintf(buf, sizeof buf, "%.1f KB", bytes / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  return buf;
}

json exportVariant(const Model& model, const Variant& variant, const std::string& baseline_source,
                   const std::string& dataset_spec, const fs::path& onnx_path) {
  if (!isZooSource(baseline_source) && fs::exists(onnx_path) && samePath(onnx_path, baseline_source))
    throw Error(onnx_path.string() + ": refusing to overwrite the baseline model; choose another file name");
  model.save(onnx_path);
  json card = {{"format", "edgetune-model-card"},
               {"version", 1},
               {"model_file", onnx_path.filename().string()},
               {"variant", variant.name},
               {"baseline", baseline_source},
               {"dataset", dataset_spec},
               {"recipe", variant.recipe},
               {"metrics", variant.metrics.toJson()},
               {"parameters", model.parameterCount()},
               {"created_utc", variant.created_utc},
               {"exported_utc", nowUtcIso()}};
  fs::path json_path = onnx_path, md_path = onnx_path;
  json_path.replace_extension(".card.json");
  md_path.replace_extension(".card.md");
  writeFileAtomic(json_path, card.dump(2) + "\n");
  writeFileAtomic(md_path, modelCardMarkdown(card));
  return card;
}

std::string modelCardMarkdown(const json& card) {
  std::ostringstream md;
  md << "# Model card: " << card.value("variant", std::string("variant")) << "\n\n";
  md << "| | |\n|---|---|\n";
  md << "| Model file | `" << card.value("model_file", std::string()) << "` |\n";
  md << "| Baseline | `" << card.value("baseline", std::string()) << "` |\n";
  md << "| Dataset | `" << card.value("dataset", std::string("(none)")) << "` |\n";
  md << "| Parameters | " << card.value("parameters", int64_t{0}) << " |\n";
  md << "| Exported (UTC) | " << card.value("exported_utc", std::string()) << " |\n\n";
  md << "## Metrics\n\n";
  const json metrics = card.value("metrics", json::object());
  if (metrics.empty()) md << "Not measured.\n";
  char buf[128];
  if (metrics.contains("size_bytes"))
    md << "- Size: " << formatBytes(metrics["size_bytes"].get<int64_t>()) << "\n";
  if (metrics.contains("accuracy")) {
    std::snprintf(buf, sizeof buf, "%.2f%%", 100 * metrics["accuracy"].get<double>());
    md << "- Top-1 accuracy: " << buf;
    if (metrics.contains("accuracy_low") && metrics.contains("accuracy_high")) {
      std::snprintf(buf, sizeof buf, " (95%% CI %.2f%%..%.2f%%", 100 * metrics["accuracy_low"].get<double>(),
                    100 * metrics["accuracy_high"].get<double>());
      md << buf;
      if (metrics.contains("accuracy_count"))
        md << ", " << metrics["accuracy_count"].get<int64_t>() << " examples";
      md << ")";
    }
    md << "\n";
  }
  if (metrics.contains("latency_ms")) {
    std::snprintf(buf, sizeof buf, "%.3f ms", metrics["latency_ms"].get<double>());
    md << "- Latency (ONNX Runtime, host, batch 1, median): " << buf << "\n";
  }
  md << "\n## Recipe\n\n";
  const json passes = card.value("recipe", json::object()).value("passes", json::array());
  if (passes.empty()) md << "Baseline (no passes).\n";
  for (const auto& p : passes)
    md << "1. `" << p.value("pass", std::string("?")) << "` " << p.value("options", json::object()).dump()
       << "\n";
  md << "\n```json\n" << card.value("recipe", json::object()).dump(2) << "\n```\n";
  return md.str();
}

}  // namespace edgetune::ui
