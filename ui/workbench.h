#pragma once
// Non-widget helpers the studio's views share: model sources, applying recipes, measuring variants, model
// cards. Everything here may run on a worker thread (no widgets, no UI state).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/analysis/sensitivity.h"
#include "core/data/dataset.h"
#include "core/ir/input_shapes.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/passes/pass.h"
#include "core/zoo/model_source.h"
#include "ui/project.h"

namespace edgetune::ui {

// Model sources (an ONNX path or "zoo:ARCH?key=value&...") are parsed in core, the same as in the CLI.
using zoo::isZooSource;
using zoo::loadModelSource;

/// The registry the studio builds recipes from (every built-in pass).
const PassRegistry& studioPassRegistry();

/// A copy of `baseline` with `recipe` applied (progress through `job`). Throws Error for bad recipes.
/// `reports` (may be null) receives each pass's report, e.g. for the coverage of prune and quantize.
Model applyRecipe(const Model& baseline, const nlohmann::json& recipe, JobContext* job = nullptr,
                  std::vector<PassReport>* reports = nullptr);

/// The coverage lines of `reports` as the CLI prints them ("quantized 97.1% of MACs ...", "left alone ..."),
/// so the studio says what was left out, as the CLI does.
std::vector<std::string> coverageLines(const std::vector<PassReport>& reports);

/// The model of `variant`: its own model file when it has one (the recipe is then descriptive only), else
/// `baseline` with its recipe applied. Throws Error naming the file or the recipe problem.
Model variantModel(const Model& baseline, const Variant& variant, JobContext* job = nullptr);

/// Per-node overlay of a sensitivity result on `model` (indexed like its nodes): each group's mean accuracy
/// drop in points over the ratios, on the group's producer nodes (the most sensitive group where several
/// share one); NaN elsewhere.
std::vector<double> sensitivityOverlay(const Model& model, const SensitivityResult& result);

/// One stage of a progressive measurement, reported as it completes.
struct MeasureUpdate {
  enum class Stage { Size = 1, Latency = 2, Accuracy = 3 };
  Stage stage = Stage::Size;
  VariantMetrics metrics;       // everything measured so far
  bool accuracy_final = false;  // the whole dataset has been evaluated
};

struct MeasureOptions {
  int latency_runs = 20;
  int latency_warmup = 3;
  uint64_t accuracy_seed = 1;
  size_t accuracy_limit = 0;  // 0 = the whole dataset (refined until cancelled)
  int batch_size = 64;
  InputShapes
      input_shapes;  // the sizes latency is timed at (resolveInputShapes; the same as the CLI's bench)
};

/// Measures a variant progressively: size at once, ONNX Runtime latency next, then accuracy on a growing
/// seeded subset (the same order for every variant, so estimates compare). `dataset` may be null (no
/// accuracy). Stops early with CancelledError when `job` is cancelled.
VariantMetrics measureVariant(const Model& model, const Dataset* dataset, const MeasureOptions& options,
                              JobContext& job, const std::function<void(const MeasureUpdate&)>& on_update);

/// Each node's share (0..1) of one inference, from ONNX Runtime's profiler with graph optimizations off (so
/// profiled nodes map 1:1 to the model's nodes); NaN for nodes the profiler did not report. `runs`
/// inferences.
std::vector<double> measureLatencyShares(const Model& model, int runs, JobContext* job = nullptr);

/// Per-node quantization error of `quantized` against `float_model` (noise-to-signal in dB = -SNR, higher is
/// worse), indexed like `index_model`'s nodes by producer name; NaN where unknown.
std::vector<double> quantizationErrorPerNode(const Model& index_model, const Model& float_model,
                                             const Model& quantized, const Dataset& dataset, size_t samples,
                                             JobContext* job = nullptr);

/// Saves `model` as ONNX at `onnx_path` with its model card beside it (`<stem>.card.json`, `<stem>.card.md`).
/// Refuses to overwrite the baseline's own file. Returns the card JSON.
nlohmann::json exportVariant(const Model& model, const Variant& variant, const std::string& baseline_source,
                             const std::string& dataset_spec, const std::filesystem::path& onnx_path);

/// The model card as Markdown (what exportVariant writes).
std::string modelCardMarkdown(const nlohmann::json& card);

/// "12.3 MB", "845 KB".
std::string formatBytes(int64_t bytes);

}  // namespace edgetune::ui
