#pragma once
// The model a variant stands for: its own file, or its v1 pass list applied to its base's model (the
// project's model, or another variant's resolved the same way). Shared by the studio and the CLI; everything
// here may run on a worker thread.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/passes/pass.h"
#include "core/pipeline/project.h"

namespace edgetune::pipeline {

/// The registry v1 pass lists (variants' recipes, the studio's knobs) are built from: every built-in pass.
const PassRegistry& builtinPassRegistry();

/// A copy of `baseline` with `recipe` applied (progress through `job`). Throws Error for bad recipes.
/// `reports` (may be null) receives each pass's report, e.g. for the coverage of prune and quantize.
Model applyRecipe(const Model& baseline, const nlohmann::json& recipe, JobContext* job = nullptr,
                  std::vector<PassReport>* reports = nullptr);

/// The coverage lines of `reports` as the CLI prints them ("quantized 97.1% of MACs ...", "left alone ..."),
/// so the studio says what was left out, as the CLI does.
std::vector<std::string> coverageLines(const std::vector<PassReport>& reports);

/// The model of `variant`: its own model file when it has one (the recipe is then descriptive only), else its
/// recipe applied to its base's model: `project_model` for base "", else the base in `variants` resolved the
/// same way. Throws Error naming the file, the recipe problem, a base not in `variants` or a cycle.
Model variantModel(const Model& project_model, const std::vector<Variant>& variants, const Variant& variant,
                   JobContext* job = nullptr);

}  // namespace edgetune::pipeline
