#include "core/pipeline/variant_model.h"

#include <filesystem>
#include <optional>

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

namespace {
Model ownModelFile(const Variant& variant) {
  if (!std::filesystem::exists(variant.model_file))
    throw Error("variant '" + variant.name + "': model file " + variant.model_file + " does not exist");
  return Model::load(variant.model_file);
}
}  // namespace

Model variantModel(const Model& project_model, const std::vector<Variant>& variants, const Variant& variant,
                   JobContext* job) {
  if (!variant.model_file.empty()) return ownModelFile(variant);
  // The chain is checked whole (a cycle or a missing base is an error even past a model file), then built
  // from the nearest variant that has a model of its own (or the project's model) outwards.
  const std::vector<const Variant*> bases = baseChain(variants, variant);
  std::vector<const Variant*> to_apply = {&variant};
  std::optional<Model> model;
  for (const Variant* base : bases) {
    if (!base->model_file.empty()) {
      model = ownModelFile(*base);
      break;
    }
    to_apply.push_back(base);
  }
  if (!model) model = project_model;
  for (auto it = to_apply.rbegin(); it != to_apply.rend(); ++it) {
    try {
      model = applyRecipe(*model, (*it)->recipe, job);
    } catch (const Error& e) {  // a CancelledError is no Error: it passes unchanged
      throw Error("variant '" + (*it)->name + "': " + e.what());
    }
  }
  return std::move(*model);
}

}  // namespace edgetune::pipeline
