#pragma once
// LiveMeasurement: the tuning panel's background measurement of the current knobs. Each start replaces the
// running job: the recipe is applied, size comes at once, then ONNX Runtime latency, then accuracy refined on
// a growing seeded subset; the knob chart gets a point per update and a summary line follows it.
#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include <nlohmann/json.hpp>

#include <memory>
#include <vector>

#include "core/analysis/speedup_check.h"
#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/pipeline/progressive_measurement.h"
#include "core/pipeline/project.h"

namespace edgetune::ui {

class JobHandle;
class JobManager;
class KnobChart;
class QuickRecovery;

class LiveMeasurement : public QObject {
  Q_OBJECT
 public:
  /// `chart` (may be null) gets one point per update, as the configuration of the knobs given to start().
  LiveMeasurement(JobManager* jobs, KnobChart* chart, QObject* parent = nullptr);

  /// Measures `recipe` (made from `knobs`) applied to `baseline`, with accuracy on `dataset` (may be null).
  /// Cancels the measurement running before.
  void start(std::shared_ptr<const Model> baseline, std::shared_ptr<const Dataset> dataset,
             const nlohmann::json& knobs, const nlohmann::json& recipe);
  /// A knob changed: the time to the next job's first chart point is measured from now.
  void markKnobChange();
  /// The model or dataset changed: as markKnobChange, but the last measured time stays until then.
  void markContextChange();

  /// Metrics of the model the knobs start from (the current base), measured the same way: the line under each
  /// measurement says what changed against it ("accuracy fell to chance: ... recovery training").
  void setReference(const pipeline::VariantMetrics& reference) { reference_ = reference; }

  /// Where the quick recovery re-estimates statistics (the training data; null = the measured dataset).
  void setStatisticsDataset(std::shared_ptr<const Dataset> dataset) {
    statistics_dataset_ = std::move(dataset);
  }

  pipeline::MeasureOptions& options() { return options_; }
  /// Metrics of the latest measurement (partial while it runs), and the knobs and recipe they belong to.
  const pipeline::VariantMetrics& metrics() const { return metrics_; }
  const nlohmann::json& knobs() const { return knobs_; }
  const nlohmann::json& recipe() const { return recipe_; }
  bool running() const { return job_ != nullptr; }
  /// The background estimate of the accuracy after a quick recovery (pruned configurations only).
  QuickRecovery* quickRecovery() const { return quick_; }
  /// Milliseconds from the last knob change to the first chart point of its job (-1 until then).
  double lastKnobToChartMs() const { return knob_to_chart_ms_; }
  /// Milliseconds from the last knob change to its first latency and first accuracy estimate (-1 until then).
  double lastKnobToLatencyMs() const { return knob_to_latency_ms_; }
  double lastKnobToAccuracyMs() const { return knob_to_accuracy_ms_; }

 signals:
  /// The summary to show (HTML): "measuring...", the metrics so far, or the error.
  void summaryChanged(const QString& html);
  void firstChartUpdate(double ms);
  void measurementUpdated(const edgetune::pipeline::VariantMetrics& metrics);
  /// Per-baseline-node kept-channel fraction lost (0..1, NaN for nodes without weights) of the recipe.
  void pruningRatios(const std::vector<double>& ratio_per_node);
  void failed(const QString& error);

 private:
  QString summary(const pipeline::VariantMetrics& m, bool have_dataset) const;
  /// After a measurement of a pruned configuration: the quick-recovery estimate starts.
  void startQuickRecovery();

  JobManager* jobs_;
  KnobChart* chart_;
  pipeline::MeasureOptions options_;
  JobHandle* job_ = nullptr;
  int generation_ = 0;
  pipeline::VariantMetrics metrics_;
  pipeline::VariantMetrics reference_;
  size_t classes_ = 0;        // of the dataset of the running measurement
  std::string dataset_name_;  // of the dataset of the running measurement
  CpuIntegerSupport cpu_;     // this machine's, for what INT8 speed to expect
  nlohmann::json recipe_, knobs_;
  QString coverage_;  // coverage lines of the recipe's prune / quantize passes (HTML)
  QuickRecovery* quick_;
  // What the quick recovery of the finished measurement starts from (set when the recipe pruned).
  std::shared_ptr<const Model> baseline_, pruned_;
  std::shared_ptr<const Dataset> dataset_, statistics_dataset_;
  QString recovered_;  // the summary's quick-recovery line (HTML)
  QElapsedTimer since_change_;
  bool change_pending_timing_ = false;
  double knob_to_chart_ms_ = -1;
  double knob_to_latency_ms_ = -1, knob_to_accuracy_ms_ = -1;
};

}  // namespace edgetune::ui
