#pragma once
// Training panel: fine-tunes (labels only) or distills (teacher = the baseline) the current base, a variant
// or a model-zoo student with the libtorch training engine as ONE background job with live curves, then
// writes the trained model as ONNX, measures it in ONNX Runtime and offers it as a new variant. Without the
// training engine it says so.
#include <QPointer>
#include <QString>
#include <QWidget>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/pipeline/project.h"
#include "ui/jobs.h"
#include "ui/train_job.h"
#include "ui/train_settings.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace edgetune::ui {

class TrainingChart;

/// The Training panel (see the file comment). Lives on the UI thread; the work runs through the JobManager.
class TrainPanel : public QWidget {
  Q_OBJECT
 public:
  TrainPanel(JobManager* jobs, TrainingChart* chart, QWidget* parent = nullptr);
  /// Cancels a run still going (its output is then not kept).
  ~TrainPanel() override;

  /// The baseline (the distillation teacher) and its file (empty or "zoo:..." when it has none: the teacher
  /// is then written to a temporary file for the run), and the dataset the run splits into training /
  /// validation.
  void setContext(std::shared_ptr<const Model> baseline, const QString& baseline_path,
                  std::shared_ptr<const Dataset> dataset, const std::string& dataset_spec);
  /// The model "Selected variant" trains (e.g. the baseline with a pruning recipe applied), a label for
  /// names, the recipe and knobs that made it (recorded in the trained variant; empty = none) and the
  /// variant's name, which the trained variant records as its base ("" = the project's model). Null clears
  /// it.
  void setSourceModel(std::shared_ptr<const Model> model, const QString& label,
                      const nlohmann::json& recipe = {}, const nlohmann::json& knobs = {},
                      const std::string& variant_name = {});
  /// The current base (what "Current base" trains; the trained variant records `base_name` as its base, "" =
  /// the project's model). Null: the baseline from setContext.
  void setBaseModel(std::shared_ptr<const Model> model, const QString& base_name);
  /// Folder trained models are written to (created when needed). Default: <temp>/edgetune-trained.
  void setOutputDir(const QString& dir);
  QString outputDir() const { return output_dir_; }

  TrainSettings settings() const;
  void setSettings(const TrainSettings& settings);

  bool running() const { return !job_.isNull() || !rate_job_.isNull(); }
  static constexpr int kRateCheckSteps = 20;
  JobHandle* currentJob() const { return job_.data(); }
  /// The ONNX file of the last successful run ("" until one succeeds).
  QString lastOutputPath() const { return last_output_; }
  /// The variant of the last successful run.
  const pipeline::Variant& lastVariant() const { return last_variant_; }
  /// The message shown for the last refused start or failed run ("" after a success).
  QString lastError() const { return last_error_; }
  /// True when the training engine is part of this build.
  static bool trainingAvailable();

 public slots:
  /// Starts one training job. Returns false (with the reason shown in the panel) if a run is already going,
  /// the training engine is not built, or something needed is missing or does not fit.
  bool start();
  /// Cancels the running job (no output file is left behind).
  void cancel();
  /// The quick learning-rate check: kRateCheckSteps steps at five rates around the rate box's value on the
  /// chosen source and training split, as one background job; when it ends the rate box takes the suggested
  /// rate and the panel lists what each rate did. Returns false (with the reason shown) like start().
  bool checkRate();

 signals:
  /// A run finished: the trained model is at `onnx_path`; `variant` carries its metrics and training
  /// settings.
  void trainedVariant(const edgetune::pipeline::Variant& variant, const QString& onnx_path);
  /// A run failed (or a start was refused) with one clear message.
  void trainingFailed(const QString& message);
  void runningChanged(bool running);
  void statusMessage(const QString& text);
  /// The learning-rate check ended: the rate it suggests (0 = none lowered the loss) and its report.
  void rateChecked(double suggested_rate, const QString& report);

 private:
  /// Tooltips and What's-This texts of every setting (help_texts.cpp).
  void explainKnobs();
  void fail(const QString& message);
  void updateEnabled();
  void followDefaultLearningRate();
  void onFinished(JobHandle::State state, const QString& error);
  /// The checks and choices shared by start() and checkRate(); nullopt (with the reason shown) if refused.
  std::optional<TrainJobPlan> makePlan();
  void onRateCheckFinished(JobHandle::State state, const QString& error);

  JobManager* jobs_;
  QPointer<TrainingChart> chart_;
  std::shared_ptr<const Model> baseline_;
  QString baseline_path_;
  std::shared_ptr<const Dataset> dataset_;
  std::string dataset_spec_;
  std::shared_ptr<const Model> source_model_;
  QString source_label_;
  nlohmann::json source_recipe_, source_knobs_;
  std::string source_variant_;
  std::shared_ptr<const Model> base_model_;
  QString base_name_;
  QString output_dir_;
  double default_learning_rate_ = 0;  // the default the rate box shows until the user changes it
  bool applying_settings_ = false;

  QComboBox* mode_;
  QComboBox* source_;
  QComboBox* student_;
  QSpinBox* epochs_;
  QSpinBox* batch_;
  QDoubleSpinBox* learning_rate_;
  QComboBox* optimizer_;
  QDoubleSpinBox* temperature_;
  QDoubleSpinBox* alpha_;
  QCheckBox* augment_;
  QSpinBox* steps_;
  QSpinBox* validation_size_;
  QPushButton* check_rate_;
  QLabel* rate_report_;
  QPushButton* start_;
  QPushButton* cancel_;
  QLabel* status_;
  QLabel* error_;

  QPointer<JobHandle> job_;  // guarded: the JobManager may delete its handles first at shutdown
  std::shared_ptr<TrainJobOutcome> outcome_;
  QPointer<JobHandle> rate_job_;
  struct RateCheckOutcome {
    std::mutex mutex;
    double suggested_rate = 0;
    std::string report;
  };
  std::shared_ptr<RateCheckOutcome> rate_outcome_;
  QString last_output_;
  pipeline::Variant last_variant_;
  QString last_error_;
};

}  // namespace edgetune::ui
