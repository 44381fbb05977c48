#include "ui/recipe_job.h"

#include "ui/recipe_bridge.h"

namespace edgetune::ui {

JobHandle* startRecipeRun(JobManager& jobs, const pipeline::RecipeFile& recipe,
                          const std::filesystem::path& run_dir,
                          std::function<void(std::shared_ptr<const pipeline::RunResult>)> on_done,
                          const std::string& rerun_from) {
  QString title = "Recipe " + QString::fromStdString(recipe.name.empty() ? "(unnamed)" : recipe.name);
  if (!rerun_from.empty()) title += " from " + QString::fromStdString(rerun_from);
  return jobs.start(title, [recipe, run_dir, on_done, rerun_from](JobContext& job, JobHandle& handle) {
    // The job's own context runs the pipeline: cancelling from the dock reaches every step, and each step's
    // progress arrives as "[2/4] quantize: calibrating". The events add what progress does not say (a cached
    // or skipped step, a step done).
    const size_t step_count = recipe.steps.size();
    pipeline::RunOptions options;
    options.run_dir = run_dir;
    options.job = &job;
    options.rerun_from = rerun_from;
    options.on_event = [&job, step_count](const pipeline::StepEvent& event) {
      if (event.type != pipeline::StepEvent::Type::Progress)
        job.report(event.overall.fraction, stepProgressText(event, step_count));
    };
    auto result = std::make_shared<const pipeline::RunResult>(
        pipeline::runRecipe(recipe, pipeline::StepRegistry::withBuiltins(), options));
    handle.postToUi([on_done, result] { on_done(result); });
  });
}

}  // namespace edgetune::ui
