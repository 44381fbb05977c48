#include "ui/recipe_job.h"

#include <chrono>
#include <stop_token>
#include <thread>

#include "ui/recipe_bridge.h"

namespace edgetune::ui {

JobHandle* startRecipeRun(JobManager& jobs, const pipeline::RecipeFile& recipe,
                          const std::filesystem::path& run_dir,
                          std::function<void(std::shared_ptr<const pipeline::RunResult>)> on_done) {
  const QString title = "Recipe " + QString::fromStdString(recipe.name.empty() ? "(unnamed)" : recipe.name);
  return jobs.start(title, [recipe, run_dir, on_done](JobContext& job, JobHandle& handle) {
    // The runner reports through a context of its own, so the dock shows the per-step text below instead of
    // the runner's "step: message"; a watcher carries a cancel from the dock over to it.
    JobContext run_job;
    std::jthread watcher([&job, &run_job](std::stop_token stop) {
      while (!stop.stop_requested()) {
        if (job.cancelled()) {
          run_job.cancel();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    const size_t step_count = recipe.steps.size();
    pipeline::RunOptions options;
    options.run_dir = run_dir;
    options.job = &run_job;
    options.on_event = [&job, step_count](const pipeline::StepEvent& event) {
      job.report(event.overall.fraction, stepProgressText(event, step_count));
    };
    auto result = std::make_shared<const pipeline::RunResult>(
        pipeline::runRecipe(recipe, pipeline::StepRegistry::withBuiltins(), options));
    handle.postToUi([on_done, result] { on_done(result); });
  });
}

}  // namespace edgetune::ui
