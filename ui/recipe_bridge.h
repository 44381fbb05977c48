#pragma once
// The studio's knobs as a pipeline recipe (v2) and back. The tuning panel builds a v1 pass list
// (TuningPanel::currentRecipe()); a saved or run recipe is the pipeline's v2 file, which `edgetune-cli run`
// replays to the same bytes. No widgets here: everything may run on a worker thread.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "core/pipeline/project.h"
#include "core/pipeline/recipe_file.h"
#include "core/pipeline/runner.h"

namespace edgetune::ui {

/// The v2 recipe for the studio's state: `v1_recipe` is the tuning panel's pass list, `model_source` the
/// project's model (a file path, made absolute, or "zoo:..."), `dataset_spec` the opened dataset (the test
/// role, and the calibration role of a static quantize). Passes map one to one onto steps:
///   cleanup (and the single clean-up passes) -> clean {fold_batchnorm}; prune_channels -> prune {method:
///   channels, ...}; prune_magnitude -> prune {method: magnitude, ...}; quantize -> quantize {..., data:
///   calibration} with its v1 data spec as datasets.calibration.
/// Throws Error naming the pass for a pass with no step, options a step cannot express, or a static
/// quantization without calibration data.
pipeline::RecipeFile recipeFileFromStudio(const nlohmann::json& v1_recipe, const std::string& model_source,
                                          const std::string& dataset_spec, const std::string& name);

/// The v2 recipe that makes `variant` from `project`'s model, so `edgetune-cli run` replays its chain: the
/// steps of each variant it is made from, the one made from the project's model first, then its own. A
/// variant's steps are its pass list (mapped as recipeFileFromStudio does); a trained variant (a model file
/// of its own) gives the training step that made it, a `recover` step from what the Training dock recorded
/// (the same settings; the train and validation roles are the dataset specs the dock trained and validated
/// on, so the replay gives the same bytes). Throws Error, one sentence naming the variant, when a variant in
/// the chain cannot be replayed (a model file with no record of its training, a student trained from another
/// model, a recipe run's output) or its base is missing.
pipeline::RecipeFile recipeFileForVariant(const pipeline::Project& project, const pipeline::Variant& variant,
                                          const std::string& name);

/// A recipe as the studio can edit it: the knobs that reproduce its steps, or why there are none.
struct RecipeKnobs {
  bool editable = false;
  nlohmann::json knobs;      // when editable: `base_knobs` with the recipe's settings
  std::string reason;        // when not: one sentence ("step 'recover' (recover) has no knob")
  std::string dataset_spec;  // the dataset the studio must have open (the calibration data, else the test
                             // set; "" = none needed)
};

/// Maps a recipe whose steps are clean, prune and quantize (each at most once, in that order, each from the
/// previous one, all enabled) back onto the knobs, starting from `base_knobs` (TuningPanel::knobs()). Checked
/// by the round trip: the knobs must give back the same steps with the same options (defaults included).
RecipeKnobs knobsFromRecipeFile(const pipeline::RecipeFile& recipe, const nlohmann::json& base_knobs);

/// Whether two recipes have the same steps (ids, kinds, inputs, enabled, options with the kinds' defaults)
/// and the datasets those steps read; on a difference `why` says what differs.
bool sameSteps(const pipeline::RecipeFile& a, const pipeline::RecipeFile& b, std::string* why = nullptr);

/// The recipe as YAML for a file at `path`: a model inside the file's folder is written relative to it (as
/// Project::save does), one elsewhere as an absolute path.
std::string recipeYamlFor(const pipeline::RecipeFile& recipe, const std::filesystem::path& path);

/// One variant per enabled step of `run` that gave a model: name = step id, model_file = its model.onnx,
/// recipe = the step's spec (with the chain of steps that made it, as descriptive "passes"), metrics from
/// the run's report when it measured the step.
std::vector<pipeline::Variant> variantsFromRun(const pipeline::RecipeFile& recipe,
                                               const pipeline::RunResult& run);

/// What the jobs dock says while a recipe runs: "[2/4] quantize: calibrating" (the report: "[report] ...").
std::string stepProgressText(const pipeline::StepEvent& event, size_t step_count);

}  // namespace edgetune::ui
