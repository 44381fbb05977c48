#include "ui/tuning_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSlider>
#include <QSpinBox>
#include <QUndoStack>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "core/pipeline/variant_model.h"
#include "ui/charts.h"

namespace edgetune::ui {
using nlohmann::json;
using pipeline::Variant;
using pipeline::VariantMetrics;

// ------------------------------------------------------------------------------------------------ undo
namespace {
/// One knob change; consecutive slider moves merge into one entry.
class KnobCommand : public QUndoCommand {
 public:
  KnobCommand(TuningPanel* panel, json before, json after, bool slider)
      : panel_(panel), before_(std::move(before)), after_(std::move(after)), slider_(slider) {
    setText(QString::fromStdString("knobs: " + variantNameFromKnobs(after_)));
  }
  void undo() override { panel_->setKnobs(before_, false); }
  void redo() override {
    if (first_) {
      first_ = false;  // the widgets already show the new state
      return;
    }
    panel_->setKnobs(after_, false);
  }
  int id() const override { return slider_ ? 4711 : -1; }
  bool mergeWith(const QUndoCommand* other) override {
    const auto* o = dynamic_cast<const KnobCommand*>(other);
    if (!o || !o->slider_) return false;
    after_ = o->after_;
    setText(o->text());
    return true;
  }

 private:
  TuningPanel* panel_;
  json before_, after_;
  bool slider_;
  bool first_ = true;
};
}  // namespace

// ------------------------------------------------------------------------------------------------ panel
TuningPanel::TuningPanel(JobManager* jobs, QUndoStack* undo, KnobChart* chart, QWidget* parent)
    : QWidget(parent), jobs_(jobs), undo_(undo), chart_(chart) {
  const PassRegistry& registry = pipeline::builtinPassRegistry();
  // The knobs scroll; the live summary and Apply stay pinned below them, so on a 768-pixel-high screen the
  // one button that records a variant is never scrolled away.
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea(this);
  scroll->setObjectName("tuning-knobs-scroll");
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  auto* knob_widgets = new QWidget(scroll);
  auto* layout = new QVBoxLayout(knob_widgets);
  layout->setContentsMargins(4, 4, 4, 4);

  auto* clean_box = new QGroupBox("Clean-up", this);
  auto* cl = new QVBoxLayout(clean_box);
  cleanup_ = new QCheckBox("Fold constants and BatchNorm, drop Identity/Dropout", clean_box);
  cleanup_->setChecked(true);
  cl->addWidget(cleanup_);
  layout->addWidget(clean_box);

  auto* prune_box = new QGroupBox("Pruning", this);
  auto* pf = new QFormLayout(prune_box);
  prune_method_ = new QComboBox(prune_box);
  prune_method_->setObjectName("prune-method");  // objectNames: what lessons point at (lesson.h)
  prune_method_->addItem("none", "none");
  if (registry.contains("prune_channels")) prune_method_->addItem("structured channels", "prune_channels");
  if (registry.contains("prune_magnitude"))
    prune_method_->addItem("unstructured magnitude", "prune_magnitude");
  if (prune_method_->count() == 1) prune_method_->setToolTip("No pruning pass is built into this EdgeTune.");
  pf->addRow("Method", prune_method_);
  auto* ratio_row = new QHBoxLayout;
  ratio_ = new QSlider(Qt::Horizontal, prune_box);
  ratio_->setObjectName("prune-ratio");
  ratio_->setRange(0, 90);
  ratio_->setSingleStep(5);
  ratio_->setPageStep(10);
  ratio_->setTickInterval(10);
  ratio_->setTickPosition(QSlider::TicksBelow);
  ratio_label_ = new QLabel("0%", prune_box);
  ratio_label_->setMinimumWidth(36);
  ratio_row->addWidget(ratio_, 1);
  ratio_row->addWidget(ratio_label_);
  pf->addRow("Global ratio", ratio_row);
  protect_ = new QLineEdit(prune_box);
  protect_->setPlaceholderText("regex of node names to keep whole, e.g. fc|conv1");
  pf->addRow("Protect", protect_);
  round_to_ = new QSpinBox(prune_box);
  round_to_->setObjectName("round-to");
  round_to_->setRange(1, 256);
  round_to_->setValue(8);
  round_to_->setKeyboardTracking(
      false);  // one change (and one undo entry) per committed value, not per digit
  round_to_->setPrefix("multiple of ");
  round_to_->setSpecialValueText("no rounding");
  round_to_->setToolTip(
      "Kept channel counts are rounded to a multiple of this (fast int8/SIMD kernels like\n"
      "multiples of 8); 1 = no rounding. Structured channel pruning only.");
  pf->addRow("Round channels", round_to_);
  groups_table_ = new PruneGroupTable(prune_box);
  groups_table_->setObjectName("prune-groups");
  groups_note_ = new QLabel("Open a model to list its prunable groups.", prune_box);
  groups_note_->setWordWrap(true);
  pf->addRow(new QLabel("Per-layer groups:", prune_box));
  pf->addRow(groups_table_);
  pf->addRow(groups_note_);
  auto* allocate_row = new QHBoxLayout;
  allocate_metric_ = new QComboBox(prune_box);
  allocate_metric_->addItem("latency", "latency");
  allocate_metric_->addItem("MACs", "macs");
  allocate_metric_->addItem("parameters", "params");
  allocate_keep_ = new QSpinBox(prune_box);
  allocate_keep_->setRange(5, 95);
  allocate_keep_->setValue(50);
  allocate_keep_->setSuffix("% of original");
  allocate_ = new QPushButton("Allocate", prune_box);
  allocate_->setObjectName("allocate-button");
  allocate_->setToolTip(
      "Fill the per-layer ratios from the sensitivity sweep: insensitive groups are pruned more,\n"
      "until the chosen metric is at most this share of the original (latency is measured).\n"
      "Run a sensitivity sweep first (Ctrl+Shift+Y).");
  allocate_row->addWidget(allocate_metric_);
  allocate_row->addWidget(allocate_keep_, 1);
  allocate_row->addWidget(allocate_);
  pf->addRow("Allocate", allocate_row);
  layout->addWidget(prune_box);

  auto* quant_box = new QGroupBox("Quantization", this);
  auto* qf = new QFormLayout(quant_box);
  quant_mode_ = new QComboBox(quant_box);
  quant_mode_->setObjectName("quant-mode");
  quant_mode_->addItem("none", "none");
  if (registry.contains("quantize")) {
    quant_mode_->addItem("INT8 static (calibrated)", "static");
    quant_mode_->addItem("INT8 dynamic", "dynamic");
    quant_mode_->addItem("INT8 weight-only", "weight-only");
    quant_mode_->addItem("FP16", "fp16");
  } else {
    quant_mode_->setToolTip("No quantization pass is built into this EdgeTune.");
  }
  qf->addRow("Mode", quant_mode_);
  calibration_ = new QComboBox(quant_box);
  calibration_->setObjectName("calibration");
  for (const char* c : {"minmax", "percentile", "entropy", "mse"}) calibration_->addItem(c, c);
  qf->addRow("Calibration", calibration_);
  samples_ = new QSpinBox(quant_box);
  samples_->setRange(8, 10000);
  samples_->setValue(256);
  qf->addRow("Samples", samples_);
  per_channel_ = new QCheckBox("per-channel weights", quant_box);
  per_channel_->setChecked(true);
  qf->addRow("", per_channel_);
  exclude_ = new QLineEdit(quant_box);
  exclude_->setPlaceholderText("node-name regexes kept in float, comma separated");
  qf->addRow("Exclude", exclude_);
  excluded_label_ = new QLabel(quant_box);
  excluded_label_->setWordWrap(true);
  excluded_label_->setToolTip(
      "Nodes kept in float, picked in the graph (right-click a node, or the inspector's\n"
      "\"Exclude from quantization\" button)");
  qf->addRow("Kept float", excluded_label_);
  layout->addWidget(quant_box);

  live_label_ = new QLabel("Open a model to start.", this);
  live_label_->setObjectName("live-summary");
  live_label_->setWordWrap(true);
  live_label_->setMinimumHeight(60);
  live_label_->setTextFormat(Qt::RichText);
  live_ = new LiveMeasurement(jobs_, chart_, this);
  connect(live_, &LiveMeasurement::summaryChanged, live_label_, &QLabel::setText);
  connect(live_, &LiveMeasurement::firstChartUpdate, this, &TuningPanel::firstChartUpdate);
  connect(live_, &LiveMeasurement::measurementUpdated, this, &TuningPanel::measurementUpdated);
  connect(live_, &LiveMeasurement::pruningRatios, this, &TuningPanel::pruningRatios);
  connect(live_, &LiveMeasurement::failed, this, &TuningPanel::statusMessage);
  apply_ = new QPushButton(QIcon(":/icons/apply.svg"), "Apply (record variant)", this);
  apply_->setObjectName("apply-button");
  // Ctrl+Return belongs to Run > Apply alone: a second owner made Qt call the shortcut ambiguous and do
  // nothing.
  apply_->setToolTip("Record the current recipe and its measured metrics as a variant (Ctrl+Return)");
  auto* recipe_label = new QLabel("Recipe (passes by registry name):", this);
  layout->addWidget(recipe_label);
  recipe_view_ = new QPlainTextEdit(this);
  recipe_view_->setObjectName("recipe-view");
  recipe_view_->setReadOnly(true);
  recipe_view_->setMaximumHeight(140);
  QFont mono("Monospace");
  mono.setStyleHint(QFont::TypeWriter);
  mono.setPointSize(8);
  recipe_view_->setFont(mono);
  layout->addWidget(recipe_view_);
  layout->addStretch();
  scroll->setWidget(knob_widgets);
  // Only the height scrolls: the dock stays as wide as the knobs need.
  scroll->setMinimumWidth(knob_widgets->minimumSizeHint().width() +
                          scroll->verticalScrollBar()->sizeHint().width());
  outer->addWidget(scroll, 1);
  auto* pinned = new QVBoxLayout;
  pinned->setContentsMargins(4, 0, 4, 4);
  pinned->addWidget(live_label_);
  pinned->addWidget(apply_);
  outer->addLayout(pinned);

  debounce_.setSingleShot(true);
  debounce_.setInterval(300);
  connect(&debounce_, &QTimer::timeout, this, [this] {
    if (!measured_latest_) startMeasurement();  // a change came after the leading-edge measurement
  });
  connect(ratio_, &QSlider::valueChanged, this, [this](int v) {
    ratio_label_->setText(QString("%1%").arg(v));
    onWidgetChanged(true);
  });
  connect(cleanup_, &QCheckBox::toggled, this, [this] { onWidgetChanged(false); });
  connect(prune_method_, &QComboBox::currentIndexChanged, this, [this] { onWidgetChanged(false); });
  connect(protect_, &QLineEdit::editingFinished, this, [this] { onWidgetChanged(false); });
  connect(quant_mode_, &QComboBox::currentIndexChanged, this, [this] { onWidgetChanged(false); });
  connect(calibration_, &QComboBox::currentIndexChanged, this, [this] { onWidgetChanged(false); });
  connect(samples_, &QSpinBox::editingFinished, this, [this] { onWidgetChanged(false); });
  connect(per_channel_, &QCheckBox::toggled, this, [this] { onWidgetChanged(false); });
  connect(exclude_, &QLineEdit::editingFinished, this, [this] { onWidgetChanged(false); });
  connect(round_to_, &QSpinBox::valueChanged, this, [this] { onWidgetChanged(false); });
  connect(apply_, &QPushButton::clicked, this, &TuningPanel::apply);
  connect(allocate_, &QPushButton::clicked, this, &TuningPanel::allocate);
  connect(groups_table_, &PruneGroupTable::groupsEdited, this, [this] { onWidgetChanged(false); });
  connect(groups_table_, &PruneGroupTable::ratioRefused, this, [this](const QString& message) {
    emit statusMessage(message);
    groups_table_->showKnobs(last_knobs_);
  });
  connect(groups_table_, &PruneGroupTable::groupSelected, this, &TuningPanel::pruneGroupSelected);
  // A structured method is the natural default once it exists: the slider then does something.
  if (prune_method_->count() > 1) prune_method_->setCurrentIndex(1);
  last_knobs_ = knobs();
  recipe_view_->setPlainText(QString::fromStdString(currentRecipe().dump(1)));
  explainKnobs();
  updateEnabled();
  refreshExclusions();
}

QStringList TuningPanel::quantExcludedNodes() const {
  QStringList out;
  for (const auto& n : excluded_nodes_) out << QString::fromStdString(n);
  return out;
}

bool TuningPanel::isExcludedFromQuantization(const QString& node) const {
  return std::binary_search(excluded_nodes_.begin(), excluded_nodes_.end(), node.toStdString());
}

void TuningPanel::setExcludedFromQuantization(const QString& node, bool excluded) {
  const std::string name = node.toStdString();
  if (name.empty() || isExcludedFromQuantization(node) == excluded) return;
  if (excluded) {
    excluded_nodes_.insert(std::upper_bound(excluded_nodes_.begin(), excluded_nodes_.end(), name), name);
  } else {
    excluded_nodes_.erase(std::lower_bound(excluded_nodes_.begin(), excluded_nodes_.end(), name));
  }
  refreshExclusions();
  onWidgetChanged(false);
  if (quant_mode_->currentData().toString() == "none")
    emit statusMessage(QString("%1 '%2' (takes effect once a quantization mode is chosen)")
                           .arg(excluded ? "Kept in float:" : "Quantized again:", node));
}

void TuningPanel::refreshExclusions() {
  excluded_label_->setText(
      excluded_nodes_.empty()
          ? QString("<i>none</i>")
          : QString("%1: %2").arg(excluded_nodes_.size()).arg(quantExcludedNodes().join(", ")));
  emit quantExclusionsChanged(quantExcludedNodes());
}

void TuningPanel::setRoundTo(int multiple) {
  round_to_->setValue(multiple);
}

json TuningPanel::knobs() const {
  return {{"cleanup", cleanup_->isChecked()},
          {"prune_method", prune_method_->currentData().toString().toStdString()},
          {"prune_ratio", ratio_->value() / 100.0},
          {"protect", protect_->text().toStdString()},
          {"group_ratios", groups_table_->groupRatios()},
          {"locked_groups", groups_table_->lockedGroups()},
          {"quant_mode", quant_mode_->currentData().toString().toStdString()},
          {"calibration", calibration_->currentData().toString().toStdString()},
          {"samples", samples_->value()},
          {"per_channel", per_channel_->isChecked()},
          {"exclude", exclude_->text().toStdString()},
          {"exclude_nodes", excluded_nodes_},
          {"round_to", round_to_->value()}};
}

void TuningPanel::setKnobs(const json& k, bool record_undo) {
  // Re-selecting the state already shown (e.g. clicking the variant just applied) must not restart the job.
  json merged = knobs();
  for (auto it = k.begin(); it != k.end(); ++it) merged[it.key()] = it.value();
  if (merged == knobs()) return;
  applying_knobs_ = true;
  auto select = [](QComboBox* combo, const std::string& value) {
    const int i = combo->findData(QString::fromStdString(value));
    if (i >= 0) combo->setCurrentIndex(i);
  };
  cleanup_->setChecked(k.value("cleanup", true));
  select(prune_method_, k.value("prune_method", std::string("none")));
  ratio_->setValue(static_cast<int>(std::lround(100 * k.value("prune_ratio", 0.0))));
  protect_->setText(QString::fromStdString(k.value("protect", std::string())));
  select(quant_mode_, k.value("quant_mode", std::string("none")));
  select(calibration_, k.value("calibration", std::string("minmax")));
  samples_->setValue(k.value("samples", 256));
  per_channel_->setChecked(k.value("per_channel", true));
  exclude_->setText(QString::fromStdString(k.value("exclude", std::string())));
  round_to_->setValue(k.value("round_to", 8));
  {
    excluded_nodes_.clear();
    const json names = k.value("exclude_nodes", json::array());
    if (names.is_array())
      for (const auto& n : names)
        if (n.is_string()) excluded_nodes_.push_back(n.get<std::string>());
    std::sort(excluded_nodes_.begin(), excluded_nodes_.end());
    excluded_nodes_.erase(std::unique(excluded_nodes_.begin(), excluded_nodes_.end()), excluded_nodes_.end());
  }
  if (groups_table_->groups().empty())
    pending_groups_ = {{"group_ratios", k.value("group_ratios", json::object())},
                       {"locked_groups", k.value("locked_groups", json::array())}};
  else
    groups_table_->showKnobs(k);
  applying_knobs_ = false;
  refreshExclusions();
  const json now = knobs();
  if (record_undo && now != last_knobs_) undo_->push(new KnobCommand(this, last_knobs_, now, false));
  last_knobs_ = now;
  updateEnabled();
  recipe_view_->setPlainText(QString::fromStdString(currentRecipe().dump(1)));
  live_->markKnobChange();
  scheduleMeasurement();
  emit knobsChanged(now);
}

void TuningPanel::selectPruneGroup(const QString& id) {
  groups_table_->selectGroup(id);
}

void TuningPanel::setSensitivity(std::shared_ptr<const SensitivityResult> sensitivity) {
  sensitivity_ = std::move(sensitivity);
  updateEnabled();
}

void TuningPanel::setAllocationTarget(const QString& metric, double keep_fraction) {
  const int i = allocate_metric_->findData(metric);
  if (i >= 0) allocate_metric_->setCurrentIndex(i);
  allocate_keep_->setValue(static_cast<int>(std::lround(100 * keep_fraction)));
}

void TuningPanel::allocate() {
  if (!baseline_ || !sensitivity_) {
    emit statusMessage(!baseline_ ? "Open a model first" : "Run a sensitivity sweep first (Ctrl+Shift+Y)");
    return;
  }
  if (allocate_job_) return;
  AllocationOptions o;
  o.input_shapes = live_->options().input_shapes;  // MACs and latency at the sizes the live measurement uses
  o.metric = fromString<AllocationMetric>(allocate_metric_->currentData().toString().toStdString());
  o.keep_fraction = allocate_keep_->value() / 100.0;
  o.round_to = round_to_->value();
  auto model = baseline_;
  auto sensitivity = sensitivity_;
  const QString title = QString("Allocate pruning (%1 <= %2%)")
                            .arg(allocate_metric_->currentText())
                            .arg(allocate_keep_->value());
  allocate_job_ = jobs_->start(title, [=, this](JobContext& context, JobHandle& handle) {
    context.report(0.05,
                   "allocating from " + std::to_string(sensitivity->curves.size()) + " sensitivity curves");
    const Allocation a = allocateRatios(*model, *sensitivity, o, &context);
    handle.postToUi([=, this] {
      if (model != baseline_) return;  // another model was opened meanwhile
      json k = knobs();
      k["prune_method"] = "prune_channels";
      k["prune_ratio"] = 0.0;
      k["group_ratios"] = a.ratios;
      k["locked_groups"] = json::array();
      setKnobs(k, true);
      const QString unit = o.metric == AllocationMetric::Latency ? " ms" : "";
      emit statusMessage(QString("Allocation (%1): %2%3 -> %4%3%5, predicted drop before recovery %6 points")
                             .arg(QString::fromStdString(toString(o.metric)))
                             .arg(a.metric_before, 0, 'g', 4)
                             .arg(unit)
                             .arg(a.metric_after, 0, 'g', 4)
                             .arg(a.reached ? "" : " (target NOT reached)")
                             .arg(100 * a.predicted_accuracy_drop, 0, 'f', 1));
      emit allocationFinished(a.toJson(), QString());
    });
  });
  connect(allocate_job_, &JobHandle::finished, this, [this](JobHandle::State state, const QString& error) {
    allocate_job_ = nullptr;
    updateEnabled();
    if (state == JobHandle::State::Failed) {
      emit statusMessage("Allocation failed: " + error);
      emit allocationFinished(json(), error);
    } else if (state == JobHandle::State::Cancelled) {
      emit allocationFinished(json(), "cancelled");
    }
  });
  updateEnabled();
}

void TuningPanel::setPruneRatio(double ratio) {
  ratio_->setValue(static_cast<int>(std::lround(ratio * 100)));
}

json TuningPanel::currentRecipe() const {
  return recipeFromKnobs(knobs(), training_spec_.empty() ? dataset_spec_ : training_spec_,
                         pipeline::builtinPassRegistry());
}

void TuningPanel::updateEnabled() {
  const bool pruning = prune_method_->currentData().toString() != "none";
  ratio_->setEnabled(pruning);
  protect_->setEnabled(pruning);
  round_to_->setEnabled(prune_method_->currentData().toString() == "prune_channels");
  groups_table_->setEnabled(prune_method_->currentData().toString() == "prune_channels");
  allocate_->setEnabled(baseline_ && sensitivity_ && !allocate_job_ &&
                        prune_method_->findData("prune_channels") >= 0);
  const QString mode = quant_mode_->currentData().toString();
  const bool static_mode = mode == "static";
  calibration_->setEnabled(static_mode);
  samples_->setEnabled(static_mode);
  per_channel_->setEnabled(mode != "none" && mode != "fp16");
  exclude_->setEnabled(mode != "none");
  apply_->setEnabled(baseline_ != nullptr);
  if (chart_) chart_->setCurrentKnobs(knobs());
}

void TuningPanel::onWidgetChanged(bool slider) {
  if (applying_knobs_) return;
  const json now = knobs();
  if (now == last_knobs_) return;
  undo_->push(new KnobCommand(this, last_knobs_, now, slider));
  last_knobs_ = now;
  updateEnabled();
  recipe_view_->setPlainText(QString::fromStdString(currentRecipe().dump(1)));
  live_->markKnobChange();
  scheduleMeasurement();
  emit knobsChanged(now);
}

void TuningPanel::setContext(std::shared_ptr<const Model> baseline, std::shared_ptr<const Dataset> dataset,
                             const std::string& dataset_spec) {
  const bool model_changed = baseline != baseline_;
  baseline_ = std::move(baseline);
  dataset_ = std::move(dataset);
  dataset_spec_ = dataset_spec;
  if (model_changed && chart_) chart_->clearPoints();
  if (model_changed) {
    sensitivity_.reset();  // a sweep of another model
    const PruneGroupTable::Note note = groups_table_->listGroups(baseline_.get(), analyses_.get());
    groups_note_->setText(note.text);
    if (note.tooltip) groups_note_->setToolTip(*note.tooltip);
    if (!pending_groups_.is_null() && !groups_table_->groups().empty()) {
      groups_table_->showKnobs(pending_groups_);
      pending_groups_ = json();
    }
    last_knobs_ = knobs();  // a new model's table is not an undoable edit
  }
  if (chart_) chart_->clearPoints();
  updateEnabled();
  recipe_view_->setPlainText(QString::fromStdString(currentRecipe().dump(1)));
  if (baseline_) {
    live_->markContextChange();
    scheduleMeasurement();
  }
}

void TuningPanel::setTrainingData(std::shared_ptr<const Dataset> dataset, const std::string& spec) {
  training_spec_ = spec;
  live_->setStatisticsDataset(std::move(dataset));
  recipe_view_->setPlainText(QString::fromStdString(currentRecipe().dump(1)));
  // Static quantization calibrates on this data: its measurement changes.
  if (baseline_ && knobs().value("quant_mode", std::string()) == "static") {
    live_->markContextChange();
    scheduleMeasurement();
  }
}

void TuningPanel::measureNow() {
  debounce_.stop();
  startMeasurement();
}

void TuningPanel::scheduleMeasurement() {
  // Leading and trailing edge: a change after a quiet spell is measured at once, so size and MACs (analytic,
  // ~20 ms for the demo) reach the chart without waiting; changes that follow within the interval (a slider
  // drag) only restart the timer, and the last of them is measured when it fires.
  measured_latest_ = false;
  const bool quiet = !debounce_.isActive();
  debounce_.start();
  if (quiet) startMeasurement();
}

void TuningPanel::startMeasurement() {
  measured_latest_ = true;
  if (!baseline_) return;
  live_->start(baseline_, dataset_, knobs(), currentRecipe());
}

void TuningPanel::apply() {
  if (!baseline_) return;
  Variant v;
  v.name = variantNameFromKnobs(knobs());
  v.knobs = knobs();
  // The live metrics belong to the live recipe; if knobs moved since, the new job is still measuring.
  v.recipe = live_->knobs() == v.knobs ? live_->recipe() : currentRecipe();
  v.metrics = live_->knobs() == v.knobs ? live_->metrics() : VariantMetrics{};
  v.created_utc = pipeline::nowUtcIso();
  emit variantApplied(v);
}

void TuningPanel::setReferenceMetrics(const pipeline::VariantMetrics& metrics) {
  live_->setReference(metrics);
}

}  // namespace edgetune::ui
