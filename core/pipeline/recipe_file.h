#pragma once
// Recipe v2, the pipeline recipe: a base model, the datasets by role, and an ordered list of steps, read from
// YAML or JSON (JSON is YAML). This file checks the structure (keys, types, step ids, inputs, dataset roles);
// each step kind checks its own options (step.h). Every error names the file, the line and the key.
//
//   format: edgetune-recipe
//   version: 2
//   name: paper-image
//   model: ../models/resnet18_fmnist.onnx        # relative to the recipe's folder, or zoo:ARCH?key=value
//   datasets:                                    # "{recipe_dir}" in a spec = the recipe's folder
//     train: fashion-mnist:train?subset=train&val=0.1&test=0&seed=0
//     validation: fashion-mnist:train?subset=val&val=0.1&test=0&seed=0
//     test: fashion-mnist
//   steps:
//     - prune: {method: channels, ratio: 0.5}     # short form: the kind is the only key
//     - id: int8                                   # long form: id, kind, input, enabled, options
//       kind: quantize
//       input: prune                               # an earlier step, "base"; omitted = the previous one
//       options: {mode: static}
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace edgetune::pipeline {

/// A place in a recipe file, for error messages: "paper.yaml:12".
struct SourceLine {
  std::string file;
  int line = 0;  // 1-based; 0 = unknown (a recipe built in memory)
  std::string where() const;
};

/// The dataset roles a recipe may name; steps refer to them by these names.
inline const std::vector<std::string>& datasetRoles() {
  static const std::vector<std::string> roles = {"train", "validation", "calibration", "test"};
  return roles;
}

/// One step of the pipeline as written in the file (its options are checked by the step kind).
struct StepSpec {
  std::string id;       // unique in the recipe; defaults to the kind, then "KIND-2", "KIND-3" ...
  std::string kind;     // a registered step kind: "clean", "prune", "quantize", "recover", ...
  std::string input;    // the model it starts from: "" = the previous step's, "base" = the recipe's model, or
                        // an earlier step's id (two quantization modes from one pruned model)
  bool enabled = true;  // a disabled step is skipped: the steps after it see its input's model
  nlohmann::json options = nlohmann::json::object();
  SourceLine source;                        // the step's entry
  std::map<std::string, int> option_lines;  // option key -> its line (absent when unknown)

  /// The line of `key` in the file, or the step's own line.
  SourceLine lineOf(const std::string& key) const;
};

struct RecipeFile {
  static constexpr int kVersion = 2;
  std::string name;
  std::string description;
  std::string model;                            // the base model as written: a path or "zoo:..."
  std::map<std::string, std::string> datasets;  // role -> data spec (core/data/spec.cpp's grammar)
  std::vector<StepSpec> steps;
  std::filesystem::path origin;  // the file it was read from (empty when built in memory)

  /// The model path resolved against the recipe's folder ("zoo:..." unchanged).
  std::string modelPath() const;
  /// The step with this id, or null.
  const StepSpec* step(const std::string& id) const;
  /// The id of the step whose output `steps[index]` starts from ("base" for the recipe's model); disabled
  /// steps pass their input through.
  std::string inputOf(size_t index) const;

  /// Canonical forms, long-form steps, every option as given (defaults are the step kinds' business). Both
  /// read back to an equal recipe.
  nlohmann::json toJson() const;
  std::string toYaml() const;
};

/// Reads a recipe (.yaml, .yml or .json). Throws Error "FILE:LINE: KEY: problem" for a syntax error, an
/// unknown or missing key, a wrong type, a wrong format or version, a duplicate step id, an input that is not
/// an earlier step, or a dataset role that is not one of datasetRoles().
RecipeFile readRecipeFile(const std::filesystem::path& path);
/// The same from text; `origin` names it in errors and relative model paths resolve against its folder.
RecipeFile parseRecipe(const std::string& text, const std::filesystem::path& origin);

/// Applies one "--set" assignment: "STEP.OPTION=VALUE" (VALUE read as YAML: 0.5, true, [a, b], text; OPTION
/// may be a dotted path into nested options), "STEP.enabled=false", "datasets.ROLE=SPEC" or "model=SPEC".
/// Throws Error naming the assignment for an unknown step or a malformed assignment.
void applyOverride(RecipeFile& recipe, const std::string& assignment);

/// A step's options as the recipe file writes them, one "key: value" a line at column 0 ("{}" when there are
/// none): what the studio shows for editing.
std::string optionsToYaml(const nlohmann::json& options);
/// Options typed as YAML or JSON (a map; empty text = no options), converted as in a recipe file. Throws
/// Error "WHAT:LINE: KEY: problem" for a syntax error, a duplicate key or a value that is not a map.
nlohmann::json parseOptionsText(const std::string& text, const std::string& what);

}  // namespace edgetune::pipeline
