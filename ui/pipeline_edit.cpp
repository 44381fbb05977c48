#include "ui/pipeline_edit.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "core/passes/pass.h"
#include "core/util/error.h"

namespace edgetune::ui {
using nlohmann::json;
using pipeline::RecipeFile;
using pipeline::StepRegistry;
using pipeline::StepSpec;

namespace {

void checkIndex(const RecipeFile& recipe, size_t index) {
  if (index >= recipe.steps.size())
    throw Error("no step " + std::to_string(index + 1) + " (the pipeline has " +
                std::to_string(recipe.steps.size()) + ")");
}

// Validates the edited copy. Its file lines are dropped first: they point into the file as read, which the
// edited recipe no longer is.
void checkEdited(RecipeFile& edited, const StepRegistry& registry) {
  for (auto& step : edited.steps) {
    step.source.line = 0;
    step.option_lines.clear();
  }
  pipeline::validateRecipe(edited, registry);
}

std::vector<std::string> referencesOf(const StepSpec& spec, const StepRegistry& registry) {
  try {
    return registry.create(spec.kind, spec.options)->references();
  } catch (const Error&) {
    return {};  // a step that does not build is refused by the validation after the edit
  }
}

// Why `later` must stay after `earlier` ("" when it need not): it starts from it or reads it.
std::string dependency(const StepSpec& later, const StepSpec& earlier, const StepRegistry& registry) {
  if (later.input == earlier.id) return "'" + later.id + "' starts from '" + earlier.id + "' (its input)";
  const auto refs = referencesOf(later, registry);
  if (std::find(refs.begin(), refs.end(), earlier.id) != refs.end())
    return "'" + later.id + "' (" + later.kind + ") reads '" + earlier.id +
           "' (a teacher or sensitivity option of it)";
  return {};
}

std::string scalarText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

}  // namespace

void moveStep(RecipeFile& recipe, size_t index, int delta, const StepRegistry& registry) {
  checkIndex(recipe, index);
  if (delta != -1 && delta != 1) throw Error("a step moves one place at a time");
  const std::string& id = recipe.steps[index].id;
  if (delta < 0 && index == 0) throw Error("'" + id + "' is already the first step");
  if (delta > 0 && index + 1 == recipe.steps.size()) throw Error("'" + id + "' is already the last step");
  const size_t target = delta < 0 ? index - 1 : index + 1;
  const size_t first = std::min(index, target);
  const StepSpec& earlier = recipe.steps[first];
  const StepSpec& later = recipe.steps[first + 1];
  if (const std::string why = dependency(later, earlier, registry); !why.empty())
    throw Error("cannot move '" + id + "' " + (delta < 0 ? "above '" : "below '") + recipe.steps[target].id +
                "': " + why + ", which must come first");
  RecipeFile edited = recipe;
  std::swap(edited.steps[index], edited.steps[target]);
  checkEdited(edited, registry);
  recipe = std::move(edited);
}

void setStepEnabled(RecipeFile& recipe, size_t index, bool enabled, const StepRegistry& registry) {
  checkIndex(recipe, index);
  RecipeFile edited = recipe;
  edited.steps[index].enabled = enabled;
  checkEdited(edited, registry);
  recipe = std::move(edited);
}

void setStepOptions(RecipeFile& recipe, size_t index, const json& options, const StepRegistry& registry) {
  checkIndex(recipe, index);
  const StepSpec& spec = recipe.steps[index];
  if (!options.is_object()) throw Error("the options of '" + spec.id + "' are a map of key: value");
  try {
    registry.create(spec.kind, options);
  } catch (const OptionError& e) {
    // The kind names itself ("step 'quantize': option ..."); a step with an id of its own is named by both.
    std::string message = e.what();
    const std::string prefix = "step '" + spec.kind + "'";
    if (spec.id != spec.kind && message.rfind(prefix, 0) == 0)
      message = "step '" + spec.id + "' (" + spec.kind + ")" + message.substr(prefix.size());
    throw OptionError(message, e.key());
  }
  RecipeFile edited = recipe;
  edited.steps[index].options = options;
  checkEdited(edited, registry);
  recipe = std::move(edited);
}

void deleteStep(RecipeFile& recipe, size_t index, const StepRegistry& registry) {
  checkIndex(recipe, index);
  const StepSpec& doomed = recipe.steps[index];
  for (size_t i = index + 1; i < recipe.steps.size(); ++i)
    if (const std::string why = dependency(recipe.steps[i], doomed, registry); !why.empty())
      throw Error("cannot delete '" + doomed.id + "': " + why + "; change or delete that step first");
  RecipeFile edited = recipe;
  edited.steps.erase(edited.steps.begin() + static_cast<std::ptrdiff_t>(index));
  checkEdited(edited, registry);
  recipe = std::move(edited);
}

std::string optionsSummary(const json& options, size_t max_chars) {
  std::string out;
  if (options.is_object()) {
    for (const auto& [key, value] : options.items())
      out += (out.empty() ? "" : ", ") + key + ": " + scalarText(value);
  } else if (!options.is_null()) {
    out = scalarText(options);
  }
  if (out.size() > max_chars && max_chars > 3) out = out.substr(0, max_chars - 3) + "...";
  return out;
}

std::string StepRunSummary::outcomeText() const {
  switch (outcome) {
    case Outcome::Cached:
      return "cached";
    case Outcome::Skipped:
      return "skipped (disabled)";
    case Outcome::Ran:
      break;
  }
  if (seconds < 0.05) return "ran <0.1 s";
  char text[32];
  std::snprintf(text, sizeof text, "ran %.1f s", seconds);
  return text;
}

std::optional<StepRunSummary> stepRunSummary(const pipeline::RunResult& run, const std::string& id) {
  const auto record = std::find_if(run.steps.begin(), run.steps.end(),
                                   [&](const pipeline::StepRecord& r) { return r.id == id; });
  if (record == run.steps.end()) return std::nullopt;
  StepRunSummary summary;
  summary.outcome = !record->enabled ? StepRunSummary::Outcome::Skipped
                    : record->cached ? StepRunSummary::Outcome::Cached
                                     : StepRunSummary::Outcome::Ran;
  summary.seconds = record->seconds;
  if (record->result.is_object() && record->result.contains("top1") && record->result["top1"].is_number())
    summary.accuracy = record->result["top1"].get<double>();  // a step that measures its input
  for (const auto& m : run.report.models) {
    if (m.step_id != id || !record->enabled || record->model_path.empty()) continue;
    summary.size_bytes = m.file_bytes;
    if (m.has_accuracy) summary.accuracy = m.accuracy;
  }
  return summary;
}

}  // namespace edgetune::ui
