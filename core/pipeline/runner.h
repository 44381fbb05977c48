#pragma once
// The pipeline runner: replays a recipe step by step into a run folder, caching every step by content, then
// measures the models it made (report.h).
//
// RUN_DIR/
//   recipe.json                  the recipe as run (after --set), canonical
//   steps/NN-ID/model.onnx       the model after the step (when it gave one)
//   steps/NN-ID/step.json        kind, options with defaults, cache key, result, lines, seconds
//   steps/NN-ID/...              the step's own files (exports, checkpoints)
//   final.onnx                   the last enabled step's model
//   report.json report.md plot_*.png plot_*.svg
//   run.lock                     held while a run uses the folder (a second run into it is refused)
//
// A step's cache key is the SHA-256 of: the key format's version, the kind, its options with defaults, the
// hash of its input model, the specs of the datasets it reads, and the keys of the steps it references. A
// step whose folder holds a step.json with the same key is not run again (a crash, a Ctrl-C or an edit of a
// later step loses nothing done). The report is cached the same way, keyed by every measured model's hash and
// its options.
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/jobs/job.h"
#include "core/pipeline/recipe_file.h"
#include "core/pipeline/report.h"
#include "core/pipeline/step.h"

namespace edgetune::pipeline {

/// What the runner tells its caller as it goes (the CLI's progress bars, the studio's jobs dock).
struct StepEvent {
  enum class Type { Started = 1, Progress, Finished, Cached, Skipped };
  Type type = Type::Started;
  size_t index = 0;  // in recipe.steps; steps.size() for the report
  std::string id, kind;
  Progress step;     // this step's own progress
  Progress overall;  // the whole run's, with its ETA
};

struct RunOptions {
  std::filesystem::path run_dir;  // created if missing
  bool use_cache = true;
  bool report = true;  // measure and write the report after the steps
  ReportOptions report_options;
  JobContext* job = nullptr;  // overall progress and cancellation (may be null)
  std::function<void(const StepEvent&)> on_event;
  /// A step id ("" = none): that step and every step that depends on it (stepsDependingOn) run again even
  /// when their cache matches, from an empty step folder (a training step's checkpoint is not resumed); the
  /// other steps still come from the cache. The report is measured again only if a model changed (it is
  /// keyed by the models' contents). runRecipe throws Error for an unknown or disabled step.
  std::string rerun_from;
};

/// One step as it ran (or was found in the cache).
struct StepRecord {
  std::string id, kind;
  std::string input;  // the step id (or "base") whose model it started from
  bool enabled = true;
  bool cached = false;
  std::string cache_key;
  std::filesystem::path model_path;  // empty when the step gave no model
  nlohmann::json options;            // with defaults
  nlohmann::json result;
  std::vector<std::string> lines;
  std::vector<std::filesystem::path> artifacts;
  double seconds = 0;  // when it ran (0 when cached)
};

struct RunResult {
  std::filesystem::path run_dir;
  std::vector<StepRecord> steps;
  std::filesystem::path final_model;  // the last enabled step's model (the base when no step gave one)
  bool report_written = false;
  bool report_cached = false;
  RunReport report;
};

/// Checks the whole recipe without running it: every kind is registered, every step's options are valid,
/// inputs and references name earlier steps, every dataset role a step reads is named. Throws Error
/// "FILE:LINE: ..." for the first problem.
void validateRecipe(const RecipeFile& recipe, const StepRegistry& registry);

/// The pipeline, one line per step: "3. int8  quantize  <- prune  {mode: static, ...}" (disabled steps
/// marked).
std::vector<std::string> describePipeline(const RecipeFile& recipe, const StepRegistry& registry);

/// The ids of step `id` and of every step that depends on it, in recipe order: through its input (past
/// disabled steps, which pass their input through) or a reference (a teacher, a sensitivity sweep), directly
/// or through other steps. Throws Error naming `id` when the recipe has no such step.
std::vector<std::string> stepsDependingOn(const RecipeFile& recipe, const StepRegistry& registry,
                                          const std::string& id);

/// Runs the recipe (validateRecipe first). Throws Error naming the step for a step that fails, CancelledError
/// when cancelled; the steps finished before stay in the run folder and are reused by the next run.
RunResult runRecipe(const RecipeFile& recipe, const StepRegistry& registry, const RunOptions& options);

}  // namespace edgetune::pipeline
