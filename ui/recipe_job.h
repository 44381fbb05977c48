#pragma once
// A pipeline recipe run as one studio job: the runner on a worker, per-step progress text in the jobs dock,
// cancellation from the dock, the result handed to the UI thread.
#include <filesystem>
#include <functional>
#include <memory>

#include "core/pipeline/recipe_file.h"
#include "core/pipeline/runner.h"
#include "ui/jobs.h"

namespace edgetune::ui {

/// Starts runRecipe(recipe) into `run_dir` as a job titled "Recipe NAME". Progress reads "[2/4] quantize:
/// calibrating"; cancelling the job stops the run (the finished steps stay in `run_dir`, reused next time).
/// `on_done` runs on the UI thread only when the run finished; failures and cancellation end the job as
/// Failed / Cancelled with the runner's message. `rerun_from` names a step that runs again with every step
/// depending on it although cached (RunOptions::rerun_from; "" = none).
JobHandle* startRecipeRun(JobManager& jobs, const pipeline::RecipeFile& recipe,
                          const std::filesystem::path& run_dir,
                          std::function<void(std::shared_ptr<const pipeline::RunResult>)> on_done,
                          const std::string& rerun_from = {});

}  // namespace edgetune::ui
