#include "ui/train_job.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "core/pipeline/progressive_measurement.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"
#include "ui/charts.h"

#ifdef EDGETUNE_HAVE_TRAINING
#include "core/train/recovery.h"
#include "core/train/trainer.h"
#endif

namespace edgetune::ui {
namespace fs = std::filesystem;
using pipeline::Variant;
using pipeline::VariantMetrics;

void checkTrainable(const Model& model, const std::string& label, const Dataset& dataset) {
  std::vector<TensorInfo> inputs;
  for (const auto& vi : model.inputs()) inputs.push_back({vi.name, vi.type, vi.shape});
  try {
    checkInputsFit(inputs, dataset.features(), dataset.name());
  } catch (const Error& e) {
    throw Error("'" + label + "' cannot train on this dataset: " + e.what());
  }
  const int64_t classes = modelClassCount(model);
  if (classes >= 0 && static_cast<size_t>(classes) != dataset.numClasses())
    throw Error("'" + label + "' has " + std::to_string(classes) + " classes but dataset '" + dataset.name() +
                "' has " + std::to_string(dataset.numClasses()) +
                ": pick a model with classes=" + std::to_string(dataset.numClasses()));
}

#ifdef EDGETUNE_HAVE_TRAINING

namespace {

// A file name in `dir` that does not exist yet ("name.onnx", "name-2.onnx", ...): a run never replaces
// anything.
fs::path freshPath(const fs::path& dir, const std::string& stem) {
  fs::path p = dir / (stem + ".onnx");
  for (int i = 2; fs::exists(p); ++i) p = dir / (stem + "-" + std::to_string(i) + ".onnx");
  return p;
}

// Removes a file when the run does not complete (failure, cancel), so no half-finished result stays behind.
struct RemoveUnlessKept {
  fs::path path;
  bool keep = false;
  ~RemoveUnlessKept() {
    if (!keep && !path.empty()) {
      std::error_code ec;
      fs::remove(path, ec);
    }
  }
};

}  // namespace

TrainingSplits openTrainingSplits(const TrainJobPlan& plan) {
  TrainingSplits splits;
  if (!plan.train_spec.empty()) {
    splits.train = openDataset(plan.train_spec);
    if (plan.validation_count > 0) splits.validation = openDataset(plan.validation_spec);
    return splits;
  }
  // A dataset with no spec (made in memory) gets the same seeded split of its own examples; its variant
  // cannot name them, so a recipe replays it on the whole set.
  SplitIndices split =
      splitIndicesByCount(plan.dataset->size(), plan.validation_count, 0, plan.settings.seed);
  splits.train = std::make_shared<SubsetDataset>(plan.dataset, std::move(split.train), "training split");
  if (plan.validation_count > 0)
    splits.validation =
        std::make_shared<SubsetDataset>(plan.dataset, std::move(split.validation), "validation subset");
  return splits;
}

TrainOptions trainOptionsOf(const TrainSettings& s) {
  TrainOptions t;
  t.epochs = s.epochs;
  t.batch_size = s.batch_size;
  t.learning_rate = s.learning_rate;
  t.optimizer = fromString<OptimizerKind>(s.optimizer);
  t.augment.enabled = s.augment;
  t.max_steps_per_epoch = static_cast<size_t>(s.steps_per_epoch);
  t.seed = s.seed;
  return t;
}

RateCheck runRateCheckJob(const TrainJobPlan& plan, size_t steps, JobContext& job) {
  job.report(0, "preparing " + plan.label);
  const Model model = plan.fixed_source ? *plan.fixed_source : zoo::loadModelSource(plan.settings.student);
  if (!plan.fixed_source) checkTrainable(model, plan.label, *plan.dataset);
  const TrainingSplits splits = openTrainingSplits(plan);
  job.throwIfCancelled();
  // Labels only: the check asks which step size the weights survive; a teacher would only slow it down.
  return checkLearningRates(model, *splits.train, trainOptionsOf(plan.settings),
                            ratesAround(plan.settings.learning_rate), steps, &job);
}

void runTrainJob(const TrainJobPlan& plan, JobContext& job, JobHandle& handle, QPointer<TrainingChart> chart,
                 TrainJobOutcome& outcome) {
  const TrainSettings& s = plan.settings;
  const std::string& label = plan.label;
  const std::shared_ptr<const Dataset>& dataset = plan.dataset;
  const fs::path& out_dir = plan.out_dir;
  job.report(0, "preparing " + label);
  Model student = plan.fixed_source ? *plan.fixed_source : zoo::loadModelSource(s.student);
  if (!plan.fixed_source) checkTrainable(student, label, *dataset);
  job.throwIfCancelled();

  auto [train, validation] = openTrainingSplits(plan);
  job.throwIfCancelled();

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (!fs::is_directory(out_dir)) throw Error(out_dir.string() + ": cannot create the output folder");

  // The teacher is read from a file; a baseline without one (a zoo model) is written out for the run.
  RemoveUnlessKept teacher_file;
  std::string teacher_path;
  if (s.mode == TrainSettings::Mode::Distill) {
    if (!plan.baseline_path.empty() && !zoo::isZooSource(plan.baseline_path) &&
        fs::is_regular_file(plan.baseline_path)) {
      teacher_path = plan.baseline_path;
    } else {
      teacher_file.path = freshPath(out_dir, ".teacher-" + std::to_string(handle.id()));
      plan.baseline->save(teacher_file.path);
      teacher_path = teacher_file.path.string();
    }
  }

  RecoveryOptions options;
  TrainOptions& t = options.train;
  t = trainOptionsOf(s);
  if (s.mode == TrainSettings::Mode::Distill) {
    t.distill.teacher_path = teacher_path;
    t.distill.temperature = s.temperature;
    t.distill.alpha = s.alpha;
  }
  options.masks_from_zeros = true;  // a pruned variant stays pruned

  const std::unique_ptr<JobContext> training = job.child(0.0, 0.88);
  // Live curves: step losses go to the UI in bursts at most every 50 ms (and at each epoch's end), so tiny
  // fast models do not flood the event loop with redraws; validation accuracy follows each epoch.
  std::vector<std::pair<double, double> > pending;
  auto last_flush = std::chrono::steady_clock::now();
  t.on_step = [&](const StepStats& st) {
    pending.emplace_back(
        static_cast<double>(st.epoch - 1) +
            static_cast<double>(st.step) / static_cast<double>(std::max<size_t>(1, st.steps_per_epoch)),
        st.loss);
    const auto now = std::chrono::steady_clock::now();
    if (st.step < st.steps_per_epoch && now - last_flush < std::chrono::milliseconds(50)) return;
    last_flush = now;
    handle.postToUi([chart, points = std::move(pending)] {
      if (chart) chart->addStepLosses(points);
    });
    pending.clear();
  };
  auto on_epoch = [&handle, chart](const EpochStats& e) {
    if (e.validation_accuracy < 0) return;
    const double x = e.epoch, acc = e.validation_accuracy;
    handle.postToUi([chart, x, acc] {
      if (chart) chart->addValidationAccuracy(x, acc);
    });
  };
  RecoveryResult result = recoverPruned(student, *train, validation.get(), options, training.get(), on_epoch);
  job.throwIfCancelled();

  // Written atomically under a name no file has yet, so neither the baseline nor the input is ever
  // replaced.
  RemoveUnlessKept output;
  output.path = freshPath(out_dir, fileNameFrom("trained-" + trainModeName(s.mode) + "-" + label, "model"));
  job.report(0.89, "writing " + output.path.filename().string());
  result.model.save(output.path);
  {
    std::lock_guard lock(outcome.mutex);
    outcome.output_path = output.path.string();
  }

  const std::unique_ptr<JobContext> measuring = job.child(0.9, 1.0);
  pipeline::MeasureOptions measure;
  measure.latency_runs = 10;
  measure.latency_warmup = 2;
  measure.accuracy_limit = 0;                      // the whole validation subset
  const Model trained = Model::load(output.path);  // measure what was written, as ONNX Runtime will load it
  // Latency at the sizes the rest of the studio uses: the training data's, else the defaults.
  const ExampleShapes example = exampleShapesOf(*dataset);
  measure.input_shapes = resolveInputShapes(trained, {}, &example);
  VariantMetrics metrics = pipeline::measureVariant(trained, validation.get(), measure, *measuring, {});
  job.throwIfCancelled();

  nlohmann::json training_json = s.toJson();
  training_json["source_label"] = label;
  training_json["onnx_path"] = output.path.string();
  training_json["dataset"] = dataset->name();
  if (!plan.train_spec.empty()) training_json["train_spec"] = plan.train_spec;
  if (validation && !plan.validation_spec.empty()) training_json["validation_spec"] = plan.validation_spec;
  if (!teacher_path.empty() && teacher_file.path.empty()) training_json["teacher"] = teacher_path;
  training_json["history"] = nlohmann::json::array();
  for (const auto& e : result.history)
    training_json["history"].push_back({{"epoch", e.epoch},
                                        {"train_loss", e.train_loss},
                                        {"train_accuracy", e.train_accuracy},
                                        {"validation_accuracy", e.validation_accuracy},
                                        {"learning_rate", e.learning_rate},
                                        {"seconds", e.seconds}});
  if (result.accuracy_before >= 0) training_json["accuracy_before"] = result.accuracy_before;
  Variant variant;
  variant.name = plan.name;
  variant.base = plan.made_from;
  variant.recipe = plan.source_recipe;
  variant.recipe["training"] = training_json;
  variant.knobs = plan.source_knobs;
  variant.knobs["training"] = training_json;
  variant.metrics = metrics;
  variant.created_utc = pipeline::nowUtcIso();
  if (result.accuracy_before >= 0) {
    const double acc = result.accuracy_before;
    handle.postToUi([chart, acc] {
      if (chart) chart->addValidationAccuracy(0, acc);
    });
  }
  {
    std::lock_guard lock(outcome.mutex);
    outcome.variant = variant;
  }
  output.keep = true;
  job.report(1.0, "done");
}

#endif  // EDGETUNE_HAVE_TRAINING

}  // namespace edgetune::ui
