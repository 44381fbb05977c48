#pragma once
// The edits the studio's Pipeline dock makes to a recipe (v2), and the text it shows per step. No widgets:
// the dock's commands call these on a copy and keep the copy only when they succeed. Every edit checks the
// recipe it gives (the order of inputs and references, each step's options through the StepRegistry, the
// datasets the enabled steps read) and throws Error with one sentence naming the step, the key or the step in
// the way; the recipe is unchanged then. A successful edit forgets the recipe's file lines: they describe the
// file as read, not the edited recipe, so later messages name the file without a line.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>

#include "core/pipeline/recipe_file.h"
#include "core/pipeline/runner.h"
#include "core/pipeline/step.h"

namespace edgetune::ui {

/// Moves step `index` one place up (delta -1) or down (+1). Refuses a move past either end, and one that
/// would put a step before the step it starts from (its `input`) or a step it reads (a teacher, a
/// sensitivity sweep).
void moveStep(pipeline::RecipeFile& recipe, size_t index, int delta, const pipeline::StepRegistry& registry);

/// Enables or disables step `index` (a disabled step passes its input through). Refuses enabling a step
/// that reads a dataset the recipe does not name.
void setStepEnabled(pipeline::RecipeFile& recipe, size_t index, bool enabled,
                    const pipeline::StepRegistry& registry);

/// Replaces step `index`'s options, checked by its kind: an unknown key or a wrong value is refused with the
/// option's key ("step 'prune': option 'ratoi' ..."), as is a reference to a later step or a dataset the
/// recipe does not name.
void setStepOptions(pipeline::RecipeFile& recipe, size_t index, const nlohmann::json& options,
                    const pipeline::StepRegistry& registry);

/// Removes step `index`. Refuses when another step starts from it or reads it (naming that step); steps
/// that took the previous step's model take the one before it instead.
void deleteStep(pipeline::RecipeFile& recipe, size_t index, const pipeline::StepRegistry& registry);

/// A step's options on one line, "method: channels, ratio: 0.5", cut to `max_chars` with "...".
std::string optionsSummary(const nlohmann::json& options, size_t max_chars = 70);

/// What one step did in a run, as the dock shows it after the run.
struct StepRunSummary {
  enum class Outcome { Ran = 1, Cached, Skipped };
  Outcome outcome = Outcome::Ran;
  double seconds = 0;                 // when it ran
  std::optional<double> accuracy;     // 0..1: the report's for its model, else its own (an evaluate step)
  std::optional<int64_t> size_bytes;  // its model's file, from the report
  /// "ran 1.2 s" ("ran <0.1 s"), "cached", "skipped (disabled)".
  std::string outcomeText() const;
};

/// The summary of step `id` in `run` (none when the run has no such step).
std::optional<StepRunSummary> stepRunSummary(const pipeline::RunResult& run, const std::string& id);

}  // namespace edgetune::ui
