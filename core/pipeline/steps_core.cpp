// The table of core step kinds (every build has them), and the helpers the kinds share.
#include <algorithm>

#include "core/pipeline/recipe_file.h"
#include "core/pipeline/step_kinds.h"
#include "core/runtime/benchmark.h"
#include "core/util/thread_list.h"

namespace edgetune::pipeline {

void registerCoreSteps(StepRegistry& registry) {
  struct Kind {
    const char* kind;
    const char* summary;
    std::unique_ptr<Step> (*make)();
  };
  static const Kind kinds[] = {
      {"clean",
       "Output-preserving clean-up: Identity/Dropout, constants, dead nodes (BatchNorm folding optional)",
       makeCleanStep},
      {"prune",
       "Prune channels (per-group ratios, or allocated from a sensitivity step) or weights by magnitude",
       makePruneStep},
      {"sensitivity", "Accuracy of each prune group pruned alone at several ratios (input passes through)",
       makeSensitivityStep},
      {"quantize",
       "Quantize: static INT8 (calibrated, QDQ or QOperator), dynamic INT8, weight-only INT8 or FP16",
       makeQuantizeStep},
      {"export",
       "Write the model for deployment (ONNX, BatchNorm folded) into the step's folder, with its SHA-256",
       makeExportStep},
      {"evaluate", "Accuracy in ONNX Runtime on a dataset role (input passes through)", makeEvaluateStep},
      {"benchmark", "Latency per thread count in ONNX Runtime on the host, or on a device over SSH",
       makeBenchmarkStep},
      {"deploy",
       "Verified upload of the model to a device over SSH (key login), optionally benchmarked there",
       makeDeployStep},
  };
  for (const auto& k : kinds) registry.add(k.kind, k.summary, k.make);
}

void checkRole(const std::string& kind, const std::string& key, const std::string& role, bool may_be_empty) {
  if (role.empty() && may_be_empty) return;
  const auto& roles = pipeline::datasetRoles();
  if (std::find(roles.begin(), roles.end(), role) != roles.end()) return;
  std::string list;
  for (const auto& r : roles) list += (list.empty() ? "" : ", ") + r;
  throwOptionError(kind, key,
                   "is '" + role + "': a dataset role of the recipe's datasets is expected (" + list + ")");
}

void checkTimingOptions(const std::string& kind, const std::vector<int>& threads, int min_threads, int runs,
                        int warmup) {
  if (threads.empty()) throwOptionError(kind, "threads", "is empty (expected thread counts, e.g. [1, 2])");
  for (int t : threads)
    if (t < min_threads || t > kMaxThreadCount)
      throwOptionError(kind, "threads",
                       "holds " + std::to_string(t) + " (expected counts in " + std::to_string(min_threads) +
                           ".." + std::to_string(kMaxThreadCount) + ")");
  if (runs < 1 || runs > kMaxBenchmarkRuns)
    throwOptionError(kind, "runs", "must be in 1.." + std::to_string(kMaxBenchmarkRuns));
  if (warmup < 0 || warmup > kMaxBenchmarkRuns)
    throwOptionError(kind, "warmup", "must be in 0.." + std::to_string(kMaxBenchmarkRuns));
}

std::optional<InputShapes> resolveShapesOrNote(const Model& model, const std::vector<std::string>& shapes,
                                               const Dataset* example_source,
                                               std::vector<std::string>& lines) {
  const ExampleShapes example = example_source ? exampleShapesOf(*example_source) : ExampleShapes{};
  try {
    return resolveInputShapes(model, parseShapeSpecs(shapes), example_source ? &example : nullptr);
  } catch (const Error& e) {
    if (!shapes.empty()) throw;  // a shape the user gave is wrong: say so, do not guess
    lines.push_back(std::string("sizes: ") + e.what() + "; MACs are counted with symbolic dimensions as 1");
    return std::nullopt;
  }
}

}  // namespace edgetune::pipeline
