#pragma once
// One training run of the studio as the background job does it (and the quick learning-rate check): train the
// student (fine-tune or distill), write it under a fresh name, measure what was written in ONNX Runtime and
// describe it as a variant. The Training panel (train_panel.cpp) checks the user's choices and fills a
// TrainJobPlan on the UI thread; the job runs on a worker and hands its result back through a
// TrainJobOutcome.
#include <QPointer>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/pipeline/project.h"
#include "ui/jobs.h"
#include "ui/train_settings.h"

#ifdef EDGETUNE_HAVE_TRAINING
#include "core/train/rate_check.h"
#include "core/train/trainer.h"
#endif

namespace edgetune::ui {

class TrainingChart;

/// Everything a run needs, fixed before it starts (the worker never reads the panel's widgets).
struct TrainJobPlan {
  TrainSettings settings;
  /// The model to train (a variant or the current base); null: load `settings.student` on the worker.
  std::shared_ptr<const Model> fixed_source;
  std::string label;      // the source's short name, in messages and file names
  std::string name;       // the trained variant's name ("distill resnet8 T=4 a=0.9, 3 ep")
  std::string made_from;  // the trained variant's base ("" = the project's model)
  nlohmann::json source_recipe, source_knobs;  // what made the source, kept in the trained variant
  /// The dataset spec's seeded split (empty for a dataset made in memory: split by index instead).
  std::string train_spec, validation_spec;
  size_t validation_count = 0;
  std::filesystem::path out_dir;
  std::string baseline_path;  // the teacher's file ("" or "zoo:..." = write the baseline out for the run)
  std::shared_ptr<const Model> baseline;
  std::shared_ptr<const Dataset> dataset;
};

/// What a run hands back to the UI thread; written by the worker before the job's finished() is delivered.
struct TrainJobOutcome {
  std::mutex mutex;
  std::string output_path;  // set once the file exists (removed again by the UI if the job did not succeed)
  pipeline::Variant variant;
};

/// The checks a user can fail before any work starts (inputs fit the dataset's features, class counts
/// agree), with messages that name the model, the dataset and the fix. Throws Error.
void checkTrainable(const Model& model, const std::string& label, const Dataset& dataset);

#ifdef EDGETUNE_HAVE_TRAINING
/// The training split and the validation subset a plan names (validation null when it holds none).
struct TrainingSplits {
  std::shared_ptr<const Dataset> train, validation;
};
TrainingSplits openTrainingSplits(const TrainJobPlan& plan);

/// The trainer's options for the panel's settings (epochs, batch, rate, optimizer, augmentation, seed).
TrainOptions trainOptionsOf(const TrainSettings& settings);

/// The quick learning-rate check on the plan's source and training split: `steps` steps at each rate around
/// the plan's rate (core/train/rate_check.h). Throws Error or CancelledError.
RateCheck runRateCheckJob(const TrainJobPlan& plan, size_t steps, JobContext& job);

/// The job's work (see the file comment). Step losses and validation accuracy go to `chart` through the
/// handle's UI queue; nothing is left in `plan.out_dir` unless the run completes. Throws Error or
/// CancelledError.
void runTrainJob(const TrainJobPlan& plan, JobContext& job, JobHandle& handle, QPointer<TrainingChart> chart,
                 TrainJobOutcome& outcome);
#endif

}  // namespace edgetune::ui
