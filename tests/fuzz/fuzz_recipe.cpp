// The recipe reader (core/pipeline/recipe_file.h: YAML, and JSON as YAML) with the whole-recipe check
// `edgetune-cli run --dry-run` makes, and the promises of the canonical forms: toYaml() and toJson() read
// back to an equal recipe, a step's options written by optionsToYaml read back as the same options.
// The input is the recipe file; its last line is also tried as a --set assignment.
#include <cmath>
#include <filesystem>
#include <string>

#include "core/pipeline/recipe_file.h"
#include "core/pipeline/runner.h"
#include "core/pipeline/step.h"
#include "fuzz_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;
using nlohmann::json;

namespace {

// JSON has no NaN or infinity: a recipe holding one (YAML's .nan, .inf) cannot round-trip through JSON.
bool allFinite(const json& value) {
  if (value.is_number_float()) return std::isfinite(value.get<double>());
  if (value.is_structured())
    for (const auto& item : value)
      if (!allFinite(item)) return false;
  return true;
}

// The canonical JSON as text: dump() compares NaN equal to itself where operator== would not.
std::string canonical(const RecipeFile& recipe) {
  return recipe.toJson().dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const StepRegistry registry = StepRegistry::withBuiltins();
  // Relative model paths resolve against this folder; nothing is read from it.
  static const std::filesystem::path origin = "/recipes/fuzz.yaml";
  const std::string text(fuzz::bytesOf(data, size));
  (void)fuzz::accepted([&] { (void)parseOptionsText(text, "options"); });

  RecipeFile recipe;
  if (!fuzz::accepted([&] { recipe = parseRecipe(text, origin); })) return 0;
  (void)recipe.modelPath();
  for (size_t i = 0; i < recipe.steps.size(); ++i) (void)recipe.inputOf(i);
  (void)describePipeline(recipe, registry);
  if (fuzz::accepted([&] { validateRecipe(recipe, registry); }))
    for (const StepSpec& step : recipe.steps) (void)stepsDependingOn(recipe, registry, step.id);

  const std::string expected = canonical(recipe);
  RecipeFile again;
  fuzz::require(fuzz::accepted([&] { again = parseRecipe(recipe.toYaml(), origin); }), "toYaml() reads back");
  fuzz::require(canonical(again) == expected, "toYaml() reads back to an equal recipe");
  if (allFinite(recipe.toJson())) {
    fuzz::require(fuzz::accepted([&] { again = parseRecipe(recipe.toJson().dump(2), origin); }),
                  "toJson() reads back");
    fuzz::require(canonical(again) == expected, "toJson() reads back to an equal recipe");
  }
  for (const StepSpec& step : recipe.steps) {
    json options;
    fuzz::require(fuzz::accepted([&] { options = parseOptionsText(optionsToYaml(step.options), step.id); }),
                  "optionsToYaml() reads back");
    fuzz::require(options.dump() == step.options.dump(), "optionsToYaml() reads back to the same options");
  }

  std::string assignment = text;
  if (!assignment.empty() && assignment.back() == '\n') assignment.pop_back();
  if (const size_t line_break = assignment.rfind('\n'); line_break != std::string::npos)
    assignment.erase(0, line_break + 1);
  (void)fuzz::accepted([&] { applyOverride(recipe, assignment); });
  return 0;
}
