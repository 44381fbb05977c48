#pragma once
// Tuning panel: pruning / quantization / clean-up knobs (with undo) turned into a recipe (knob_recipe.h).
// Each change is debounced and restarts the live measurement (live_measurement.h); the per-layer groups are a
// PruneGroupTable, and "Allocate" fills it from a sensitivity sweep as a job.
#include <QTimer>
#include <QWidget>

#include <nlohmann/json.hpp>

#include <memory>

#include "core/data/dataset.h"
#include "core/ir/analysis_cache.h"
#include "core/ir/model.h"
#include "core/passes/prune_channels.h"
#include "core/pipeline/progressive_measurement.h"
#include "core/pipeline/project.h"
#include "core/tuning/allocation.h"
#include "ui/jobs.h"
#include "ui/knob_recipe.h"
#include "ui/live_measurement.h"
#include "ui/prune_group_table.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSlider;
class QSpinBox;
class QUndoStack;

namespace edgetune::ui {

class KnobChart;

class TuningPanel : public QWidget {
  Q_OBJECT
 public:
  TuningPanel(JobManager* jobs, QUndoStack* undo, KnobChart* chart, QWidget* parent = nullptr);

  /// The baseline every recipe applies to, and the dataset accuracy is measured on (may be null).
  void setContext(std::shared_ptr<const Model> baseline, std::shared_ptr<const Dataset> dataset,
                  const std::string& dataset_spec);
  /// The training-role data (null / "" = the dataset of setContext): static quantization calibrates on it and
  /// the quick recovery re-estimates statistics on it, so the measured dataset stays a test set.
  void setTrainingData(std::shared_ptr<const Dataset> dataset, const std::string& spec);
  /// Where the panel gets analyses of its baseline (its prune groups); the studio's one cache, so the
  /// groups the open job computed are not computed again on the UI thread. Null: analyse each time.
  void setAnalysisCache(std::shared_ptr<AnalysisCache> analyses) { analyses_ = std::move(analyses); }

  /// The knob state: {"cleanup", "prune_method", "prune_ratio", "protect", "group_ratios" (group id -> ratio
  /// overriding the global one), "locked_groups" (group ids kept whole), "quant_mode", "calibration",
  /// "samples", "per_channel", "exclude" (comma-separated regexes), "exclude_nodes" (node names kept in
  /// float, picked in the graph), "round_to" (kept channels rounded to a multiple of this; 1 = no rounding)}.
  nlohmann::json knobs() const;
  /// Sets the widgets (no undo entry when `record_undo` is false, e.g. from undo/redo or project load).
  void setKnobs(const nlohmann::json& knobs, bool record_undo = false);
  nlohmann::json currentRecipe() const;

  /// Convenience for tests and scripts: sets the pruning ratio slider (0..0.9) as a user would.
  void setPruneRatio(double ratio);
  void setDebounceMs(int ms) { debounce_.setInterval(ms); }
  int debounceMs() const { return debounce_.interval(); }
  /// Convenience for tests and scripts: sets the "round channels to a multiple of" spin box as a user would.
  void setRoundTo(int multiple);
  QSpinBox* roundToSpinBox() const { return round_to_; }

  /// Quantization exclusions picked node by node (sorted names). Toggling one is an undoable knob change that
  /// restarts the measurement; quantExclusionsChanged reports every change (also from undo/redo and loads).
  QStringList quantExcludedNodes() const;
  bool isExcludedFromQuantization(const QString& node) const;
  void setExcludedFromQuantization(const QString& node, bool excluded);
  pipeline::MeasureOptions& measureOptions() { return live_->options(); }
  /// The current base's metrics, which each live measurement is explained against.
  void setReferenceMetrics(const pipeline::VariantMetrics& metrics);

  /// The baseline's prunable structured-pruning groups, one per row of the per-layer table (same order).
  const std::vector<PruneGroup>& pruneGroups() const { return groups_table_->groups(); }
  /// The per-layer table: columns group, kind, units, ratio % (editable; empty = global), lock (checkable).
  PruneGroupTable* pruneGroupTable() const { return groups_table_; }
  using enum PruneGroupTable::Column;
  /// Selects the row of group `id` (as clicking it would; emits pruneGroupSelected). Unknown ids clear.
  void selectPruneGroup(const QString& id);

  /// The sensitivity sweep of the baseline (null: none yet), which "Allocate" reads. Cleared when the model
  /// changes.
  void setSensitivity(std::shared_ptr<const SensitivityResult> sensitivity);
  /// Allocation target: metric "params", "macs" or "latency" and the fraction of the original to keep (0..1).
  void setAllocationTarget(const QString& metric, double keep_fraction);
  QPushButton* allocateButton() const { return allocate_; }
  bool allocating() const { return allocate_job_ != nullptr; }

  /// Metrics of the latest measurement (partial while it runs).
  const pipeline::VariantMetrics& liveMetrics() const { return live_->metrics(); }
  bool measuring() const { return live_->running(); }
  /// The knob state liveMetrics() belong to.
  const nlohmann::json& liveKnobs() const { return live_->knobs(); }
  /// Milliseconds from the last knob change to the first chart point of its job (-1 until then).
  double lastKnobToChartMs() const { return live_->lastKnobToChartMs(); }
  double lastKnobToLatencyMs() const { return live_->lastKnobToLatencyMs(); }
  double lastKnobToAccuracyMs() const { return live_->lastKnobToAccuracyMs(); }

 public slots:
  /// Records the current knob state and its measured metrics as a variant (emits variantApplied).
  void apply();
  /// Starts measuring the current knobs now (F5).
  void measureNow();
  /// Chooses per-group ratios from the sensitivity curves that reach the allocation target (a background job:
  /// the latency metric times candidates in ONNX Runtime) and puts them in the per-layer table as one
  /// undoable change; emits allocationFinished.
  void allocate();

 signals:
  void variantApplied(const edgetune::pipeline::Variant& variant);
  void knobsChanged(const nlohmann::json& knobs);
  void firstChartUpdate(double ms);
  void measurementUpdated(const edgetune::pipeline::VariantMetrics& metrics);
  /// Per-baseline-node kept-channel fraction lost (0..1, NaN for nodes without weights) of the measured
  /// recipe.
  void pruningRatios(const std::vector<double>& ratio_per_node);
  void statusMessage(const QString& text);
  /// The nodes kept in float by name changed (sorted).
  void quantExclusionsChanged(const QStringList& nodes);
  /// An allocation finished: its JSON (ratios, metric before/after, reached), or an error message.
  void allocationFinished(const nlohmann::json& allocation, const QString& error);
  /// A group was picked in the per-layer table (empty id and nodes when the selection was cleared).
  void pruneGroupSelected(const QString& id, const QStringList& nodes);

 private:
  /// Tooltips and What's-This texts of every knob (help_texts.cpp).
  void explainKnobs();
  void onWidgetChanged(bool slider);
  void startMeasurement();
  /// After a knob or context change: measure now if nothing changed in the last debounce interval, else when
  /// the changes stop (see the comment in tuning_panel.cpp).
  void scheduleMeasurement();
  void updateEnabled();
  void refreshExclusions();

  JobManager* jobs_;
  QUndoStack* undo_;
  KnobChart* chart_;
  std::shared_ptr<const Model> baseline_;
  std::shared_ptr<AnalysisCache> analyses_;
  std::shared_ptr<const Dataset> dataset_;
  std::string dataset_spec_;
  std::string training_spec_;  // calibration data ("" = dataset_spec_)

  QCheckBox* cleanup_;
  QComboBox* prune_method_;
  QSlider* ratio_;
  QLabel* ratio_label_;
  QLineEdit* protect_;
  QComboBox* quant_mode_;
  QComboBox* calibration_;
  QSpinBox* samples_;
  QCheckBox* per_channel_;
  QLineEdit* exclude_;
  QLabel* excluded_label_;
  QSpinBox* round_to_;
  std::vector<std::string> excluded_nodes_;  // sorted
  PruneGroupTable* groups_table_;
  QLabel* groups_note_;
  QComboBox* allocate_metric_;
  QSpinBox* allocate_keep_;
  QPushButton* allocate_;
  std::shared_ptr<const SensitivityResult> sensitivity_;
  JobHandle* allocate_job_ = nullptr;
  nlohmann::json pending_groups_;  // group knobs set before a model was open, applied once it is
  QLabel* live_label_;
  QPlainTextEdit* recipe_view_;
  QPushButton* apply_;

  QTimer debounce_;
  bool measured_latest_ = true;  // the latest knobs and context have a measurement started
  bool applying_knobs_ = false;
  nlohmann::json last_knobs_;
  LiveMeasurement* live_;
};

}  // namespace edgetune::ui
