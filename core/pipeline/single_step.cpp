#include "core/pipeline/single_step.h"

#include <cstdlib>
#include <string>
#include <system_error>

#include "core/util/error.h"

namespace edgetune::pipeline {
namespace fs = std::filesystem;

SingleStepResult::SingleStepResult(SingleStepResult&& other) noexcept
    : output(std::move(other.output)),
      options(std::move(other.options)),
      work_dir(std::move(other.work_dir)),
      temporary_(other.temporary_) {
  other.temporary_ = false;
}

SingleStepResult& SingleStepResult::operator=(SingleStepResult&& other) noexcept {
  if (this != &other) {
    removeTemporary();
    output = std::move(other.output);
    options = std::move(other.options);
    work_dir = std::move(other.work_dir);
    temporary_ = other.temporary_;
    other.temporary_ = false;
  }
  return *this;
}

SingleStepResult::~SingleStepResult() {
  removeTemporary();
}

void SingleStepResult::removeTemporary() {
  if (!temporary_) return;
  std::error_code ec;  // a folder the system cleans later is no reason to fail
  fs::remove_all(work_dir, ec);
  temporary_ = false;
}

namespace {

fs::path makeTemporaryFolder(const std::string& kind) {
  std::string pattern = (fs::temp_directory_path() / ("edgetune-" + kind + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) throw Error(pattern + ": cannot create a temporary folder for the step");
  return pattern;
}

}  // namespace

SingleStepResult runSingleStep(const Model& input, const SingleStep& step, const StepRegistry& registry) {
  const std::unique_ptr<Step> kind = registry.create(step.kind, step.options);
  // The checks validateRecipe makes, for what the caller handed in instead of a recipe.
  for (const auto& role : kind->datasetRoles())
    if (!step.datasets.count(role))
      throw Error("step '" + step.kind + "' reads the '" + role + "' dataset, but none was given");
  MappedStepContext::ModelMap models = step.models;
  models["base"] = std::shared_ptr<const Model>(&input, [](const Model*) {});  // the caller's, not owned
  for (const auto& ref : kind->references())
    if (!models.count(ref) && !step.results.count(ref))
      throw Error("step '" + step.kind + "' reads '" + ref + "', which was not given");

  SingleStepResult result;
  result.options = kind->optionsJson();
  if (step.work_dir.empty()) {
    result.work_dir = makeTemporaryFolder(step.kind);
    result.temporary_ = true;
  } else {
    result.work_dir = step.work_dir;
    fs::create_directories(result.work_dir);
  }
  MappedStepContext context(
      models, step.results, [&](const std::string& role) { return step.datasets.count(role) > 0; },
      [&](const std::string& role) { return step.datasets.at(role); });
  context.enter(step.kind, "base", step.job, result.work_dir);
  context.setLineSink(step.on_line);
  if (step.login_prompts) context.setLoginPrompts(&*step.login_prompts);
  result.output = kind->run(context);
  return result;
}

}  // namespace edgetune::pipeline
