#include "core/pipeline/variant_model.h"

#include <filesystem>

#include "core/util/error.h"

namespace edgetune::pipeline {
using nlohmann::json;

const PassRegistry& builtinPassRegistry() {
  static const PassRegistry registry = PassRegistry::withBuiltins();
  return registry;
}

Model applyRecipe(const Model& baseline, const json& recipe, JobContext* job,
                  std::vector<PassReport>* reports) {
  Model model = baseline;
  Recipe parsed = Recipe::fromJson(recipe, builtinPassRegistry(), "recipe");
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

}  // namespace edgetune::pipeline
