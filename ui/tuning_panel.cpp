#include "ui/tuning_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTableWidget>
#include <QUndoStack>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "core/pipeline/variant_model.h"
#include "core/util/format.h"
#include "ui/charts.h"

namespace edgetune::ui {
using nlohmann::json;
using pipeline::Variant;
using pipeline::VariantMetrics;

// ------------------------------------------------------------------------------------------------ recipes
static std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + ",") {
    if (c == ',') {
      const auto a = cur.find_first_not_of(' '), b = cur.find_last_not_of(' ');
      if (a != std::string::npos) out.push_back(cur.substr(a, b - a + 1));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

std::string exactNameRegex(const std::string& name) {
  std::string out = "^";
  for (char c : name) {
    if (std::strchr("\\^$.|?*+()[]{}", c)) out += '\\';
    out += c;
  }
  return out + "$";
}

json recipeFromKnobs(const json& knobs, const std::string& dataset_spec, const PassRegistry& registry) {
  json recipe = pipeline::emptyRecipe();
  auto add = [&](const std::string& pass, json options) {
    if (registry.contains(pass))
      recipe["passes"].push_back({{"pass", pass}, {"options", std::move(options)}});
  };
  if (knobs.value("cleanup", true)) add("cleanup", json::object());
  const std::string method = knobs.value("prune_method", std::string("none"));
  const double ratio = knobs.value("prune_ratio", 0.0);
  // Per-layer table: ratio overrides, and locked groups pruned by 0 (kept whole; ids name exactly one group,
  // where a "protect" regex over member names could also catch neighbouring groups sharing a consumer).
  json per_group = json::object();
  bool any_group_pruned = false;
  if (const auto it = knobs.find("group_ratios"); it != knobs.end() && it->is_object())
    for (const auto& [id, r] : it->items()) {
      per_group[id] = r;
      any_group_pruned = any_group_pruned || r.get<double>() > 0;
    }
  if (const auto it = knobs.find("locked_groups"); it != knobs.end() && it->is_array())
    for (const auto& id : *it) per_group[id.get<std::string>()] = 0.0;
  if (method == "prune_channels" && (ratio > 0 || any_group_pruned)) {
    json o = {{"ratio", ratio}};
    if (!per_group.empty()) o["per_group"] = per_group;
    const auto protect = splitList(knobs.value("protect", std::string()));
    if (!protect.empty()) o["protect"] = protect;
    o["round_to"] = std::max<int64_t>(1, knobs.value("round_to", int64_t{8}));
    add("prune_channels", o);
  } else if (method == "prune_magnitude" && ratio > 0) {
    json o = {{"sparsity", ratio}};
    const std::string protect = knobs.value("protect", std::string());
    if (!protect.empty()) o["exclude_regex"] = protect;
    add("prune_magnitude", o);
  }
  const std::string mode = knobs.value("quant_mode", std::string("none"));
  if (mode != "none") {
    json o = {{"mode", mode}, {"per_channel", knobs.value("per_channel", true)}};
    if (mode == "static") {
      o["data"] = dataset_spec;
      o["calibration"] = knobs.value("calibration", std::string("minmax"));
      o["samples"] = knobs.value("samples", 256);
    }
    auto exclude = splitList(knobs.value("exclude", std::string()));
    // Nodes picked in the graph are kept in float by exact name (the pass matches regexes anywhere in a
    // name).
    if (const auto it = knobs.find("exclude_nodes"); it != knobs.end() && it->is_array())
      for (const auto& n : *it) exclude.push_back(exactNameRegex(n.get<std::string>()));
    if (!exclude.empty()) o["exclude_nodes"] = exclude;
    add("quantize", o);
  }
  return recipe;
}

std::string variantNameFromKnobs(const json& knobs) {
  std::string name;
  const std::string method = knobs.value("prune_method", std::string("none"));
  const double ratio = knobs.value("prune_ratio", 0.0);
  if (method != "none" && ratio > 0)
    name += (method == "prune_channels" ? "channels " : "sparse ") +
            std::to_string(static_cast<int>(std::lround(ratio * 100))) + "%";
  const bool per_layer = !knobs.value("group_ratios", json::object()).empty() ||
                         !knobs.value("locked_groups", json::array()).empty();
  if (method == "prune_channels" && per_layer) name += (name.empty() ? "channels per-layer" : " per-layer");
  const std::string mode = knobs.value("quant_mode", std::string("none"));
  if (mode != "none")
    name += (name.empty() ? "" : " + ") + (mode == "static" || mode == "dynamic" ? "int8 " + mode : mode);
  if (name.empty()) name = knobs.value("cleanup", true) ? "cleaned" : "baseline copy";
  return name;
}

// Fraction of each baseline node's largest float weight that `after` removed or zeroed (NaN: no weight).
static std::vector<double> prunedFractions(const Model& before, const Model& after) {
  std::vector<double> out(before.graph().node_size(), std::numeric_limits<double>::quiet_NaN());
  std::unordered_map<std::string, int> after_index;
  for (int i = 0; i < after.graph().node_size(); ++i) after_index[after.graph().node(i).name()] = i;
  auto largestWeight = [](const Model& m, const onnx::NodeProto& n) -> const onnx::TensorProto* {
    const onnx::TensorProto* best = nullptr;
    int64_t best_count = 1;
    for (const auto& in : n.input()) {
      const auto* t = m.initializer(in);
      if (!t || t->data_type() != onnx::TensorProto::FLOAT || t->dims_size() < 2) continue;
      int64_t c = 1;
      for (auto d : t->dims()) c *= d;
      if (c > best_count) {
        best = t;
        best_count = c;
      }
    }
    return best;
  };
  for (int i = 0; i < before.graph().node_size(); ++i) {
    const auto& a = before.graph().node(i);
    const auto* wa = largestWeight(before, a);
    if (!wa) continue;
    int64_t count_before = 1;
    for (auto d : wa->dims()) count_before *= d;
    auto it = after_index.find(a.name());
    if (it == after_index.end()) continue;
    const auto* wb = largestWeight(after, after.graph().node(it->second));
    if (!wb) continue;
    const Tensor t = tensorFromProto(*wb);
    int64_t nonzero = 0;
    for (float v : t.values<float>()) nonzero += v != 0.0f ? 1 : 0;
    out[i] = 1.0 - static_cast<double>(nonzero) / static_cast<double>(count_before);
  }
  return out;
}

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
  auto* layout = new QVBoxLayout(this);
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
  prune_method_->addItem("none", "none");
  if (registry.contains("prune_channels")) prune_method_->addItem("structured channels", "prune_channels");
  if (registry.contains("prune_magnitude"))
    prune_method_->addItem("unstructured magnitude", "prune_magnitude");
  if (prune_method_->count() == 1) prune_method_->setToolTip("No pruning pass is built into this EdgeTune.");
  pf->addRow("Method", prune_method_);
  auto* ratio_row = new QHBoxLayout;
  ratio_ = new QSlider(Qt::Horizontal, prune_box);
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
  groups_table_ = new QTableWidget(0, 5, prune_box);
  groups_table_->setHorizontalHeaderLabels({"Group", "Kind", "Units", "Ratio %", "Lock"});
  groups_table_->setToolTip(
      "Structured-pruning groups: channels that must be removed together.\n"
      "Ratio %: overrides the global ratio for this group (empty = global).\n"
      "Lock: keep the group whole. Click a row to see its nodes in the graph.");
  groups_table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  groups_table_->setSelectionMode(QAbstractItemView::SingleSelection);
  groups_table_->verticalHeader()->setVisible(false);
  groups_table_->setWordWrap(false);
  groups_table_->setTextElideMode(Qt::ElideLeft);  // the end of a node path names the layer
  groups_table_->verticalHeader()->setDefaultSectionSize(20);
  groups_table_->horizontalHeader()->setSectionResizeMode(ColGroup, QHeaderView::Stretch);
  for (int c : {ColKind, ColUnits, ColRatio, ColLock})
    groups_table_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  groups_table_->setMinimumHeight(200);
  groups_table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed |
                                 QAbstractItemView::AnyKeyPressed);
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
  live_label_->setWordWrap(true);
  live_label_->setMinimumHeight(60);
  live_label_->setTextFormat(Qt::RichText);
  layout->addWidget(live_label_);
  apply_ = new QPushButton(QIcon(":/icons/apply.svg"), "Apply (record variant)", this);
  apply_->setToolTip("Record the current recipe and its measured metrics as a variant (Ctrl+Return)");
  apply_->setShortcut(QKeySequence("Ctrl+Return"));
  layout->addWidget(apply_);
  auto* recipe_label = new QLabel("Recipe (passes by registry name):", this);
  layout->addWidget(recipe_label);
  recipe_view_ = new QPlainTextEdit(this);
  recipe_view_->setReadOnly(true);
  recipe_view_->setMaximumHeight(140);
  QFont mono("Monospace");
  mono.setStyleHint(QFont::TypeWriter);
  mono.setPointSize(8);
  recipe_view_->setFont(mono);
  layout->addWidget(recipe_view_);
  layout->addStretch();

  debounce_.setSingleShot(true);
  debounce_.setInterval(300);
  connect(&debounce_, &QTimer::timeout, this, &TuningPanel::startMeasurement);
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
  connect(groups_table_, &QTableWidget::cellChanged, this, &TuningPanel::onGroupItemChanged);
  connect(groups_table_, &QTableWidget::itemSelectionChanged, this, [this] {
    const auto rows = groups_table_->selectionModel()->selectedRows();
    if (rows.isEmpty() || rows[0].row() >= static_cast<int>(groups_.size())) {
      emit pruneGroupSelected(QString(), {});
      return;
    }
    const PruneGroup& g = groups_[rows[0].row()];
    QStringList nodes;
    for (const auto& n : g.nodes) nodes << QString::fromStdString(n);
    emit pruneGroupSelected(QString::fromStdString(g.id), nodes);
  });
  // A structured method is the natural default once it exists: the slider then does something.
  if (prune_method_->count() > 1) prune_method_->setCurrentIndex(1);
  last_knobs_ = knobs();
  recipe_view_->setPlainText(QString::fromStdString(currentRecipe().dump(1)));
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
  json group_ratios = json::object(), locked = json::array();
  for (int row = 0; row < groups_table_->rowCount() && row < static_cast<int>(groups_.size()); ++row) {
    const std::string& id = groups_[row].id;
    const auto* ratio = groups_table_->item(row, ColRatio);
    if (ratio && !ratio->text().trimmed().isEmpty()) group_ratios[id] = ratio->text().toDouble() / 100.0;
    const auto* lock = groups_table_->item(row, ColLock);
    if (lock && lock->checkState() == Qt::Checked) locked.push_back(id);
  }
  return {{"cleanup", cleanup_->isChecked()},
          {"prune_method", prune_method_->currentData().toString().toStdString()},
          {"prune_ratio", ratio_->value() / 100.0},
          {"protect", protect_->text().toStdString()},
          {"group_ratios", group_ratios},
          {"locked_groups", locked},
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
  if (groups_.empty())
    pending_groups_ = {{"group_ratios", k.value("group_ratios", json::object())},
                       {"locked_groups", k.value("locked_groups", json::array())}};
  else
    fillGroupTable(k);
  applying_knobs_ = false;
  refreshExclusions();
  const json now = knobs();
  if (record_undo && now != last_knobs_) undo_->push(new KnobCommand(this, last_knobs_, now, false));
  last_knobs_ = now;
  updateEnabled();
  recipe_view_->setPlainText(QString::fromStdString(currentRecipe().dump(1)));
  since_change_.start();
  change_pending_timing_ = true;
  knob_to_chart_ms_ = -1;
  debounce_.start();
  emit knobsChanged(now);
}

void TuningPanel::fillGroupTable(const json& k) {
  const json ratios = k.value("group_ratios", json::object());
  const json locked = k.value("locked_groups", json::array());
  const QSignalBlocker block(groups_table_);
  for (int row = 0; row < static_cast<int>(groups_.size()); ++row) {
    const std::string& id = groups_[row].id;
    const auto it = ratios.find(id);
    groups_table_->item(row, ColRatio)
        ->setText(it != ratios.end() ? QString::number(100 * it->get<double>(), 'g', 4) : QString());
    const bool is_locked = std::find(locked.begin(), locked.end(), json(id)) != locked.end();
    groups_table_->item(row, ColLock)->setCheckState(is_locked ? Qt::Checked : Qt::Unchecked);
  }
}

void TuningPanel::onGroupItemChanged(int row, int column) {
  if (applying_knobs_ || row < 0 || row >= static_cast<int>(groups_.size())) return;
  if (column == ColRatio) {
    auto* item = groups_table_->item(row, ColRatio);
    QString text = item->text().trimmed();
    if (text.endsWith('%')) text.chop(1);
    if (!text.isEmpty()) {
      bool ok = false;
      const double percent = text.toDouble(&ok);
      if (!ok || percent < 0 || percent > 95) {
        emit statusMessage(QString("Ratio of group '%1': '%2' is not a percentage in 0..95 (empty = global)")
                               .arg(QString::fromStdString(groups_[row].id), item->text()));
        fillGroupTable(last_knobs_);
        return;
      }
      text = QString::number(percent, 'g', 4);
    }
    if (text != item->text()) {
      const QSignalBlocker block(groups_table_);
      item->setText(text);
    }
  } else if (column != ColLock) {
    return;
  }
  onWidgetChanged(false);
}

void TuningPanel::selectPruneGroup(const QString& id) {
  for (int row = 0; row < static_cast<int>(groups_.size()); ++row)
    if (QString::fromStdString(groups_[row].id) == id) {
      groups_table_->selectRow(row);
      groups_table_->scrollToItem(groups_table_->item(row, ColGroup));
      return;
    }
  groups_table_->clearSelection();
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
  o.input_shapes = measure_options_.input_shapes;  // MACs and latency at the sizes the live measurement uses
  o.metric = allocate_metric_->currentData().toString().toStdString();
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
      const QString unit = o.metric == "latency" ? " ms" : "";
      emit statusMessage(QString("Allocation (%1): %2%3 -> %4%3%5, predicted drop before recovery %6 points")
                             .arg(QString::fromStdString(o.metric))
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
  return recipeFromKnobs(knobs(), dataset_spec_, pipeline::builtinPassRegistry());
}

double TuningPanel::activeKnob() const {
  return ratio_->value() / 100.0;
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
  if (chart_) {
    chart_->setKnobLabel(pruning ? QString("pruning ratio (%1)").arg(prune_method_->currentText())
                                 : "pruning ratio (off)");
    chart_->setCurrentKnob(activeKnob());
  }
}

void TuningPanel::onWidgetChanged(bool slider) {
  if (applying_knobs_) return;
  const json now = knobs();
  if (now == last_knobs_) return;
  undo_->push(new KnobCommand(this, last_knobs_, now, slider));
  last_knobs_ = now;
  updateEnabled();
  recipe_view_->setPlainText(QString::fromStdString(currentRecipe().dump(1)));
  since_change_.start();
  change_pending_timing_ = true;
  knob_to_chart_ms_ = -1;
  debounce_.start();  // restarts: only the last change within 300 ms starts a job
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
    groups_.clear();
    QStringList unprunable;
    if (baseline_) {
      try {
        for (auto& g : findPruneGroups(*baseline_)) {
          if (g.prunable)
            groups_.push_back(std::move(g));
          else
            unprunable << QString::fromStdString(g.id + ": " + g.reason);
        }
        groups_note_->setText(QString("%1 prunable groups; %2 kept whole by necessity.")
                                  .arg(groups_.size())
                                  .arg(unprunable.size()));
        groups_note_->setToolTip(unprunable.join("\n"));
      } catch (const std::exception& e) {
        groups_note_->setText(QString("No structured groups: %1").arg(QString::fromUtf8(e.what())));
      }
    } else {
      groups_note_->setText("Open a model to list its prunable groups.");
    }
    {
      const QSignalBlocker block(groups_table_);
      groups_table_->clearContents();
      groups_table_->setRowCount(static_cast<int>(groups_.size()));
      for (int row = 0; row < static_cast<int>(groups_.size()); ++row) {
        const PruneGroup& g = groups_[row];
        QString nodes;
        for (const auto& n : g.nodes) nodes += "\n  " + QString::fromStdString(n);
        auto fixed = [](const QString& text) {
          auto* item = new QTableWidgetItem(text);
          item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
          return item;
        };
        // The first producer's name reads better than the id's "channels:" prefix.
        auto* name = fixed(QString::fromStdString(g.producers.empty() ? g.id : g.producers.front()));
        name->setToolTip(QString::fromStdString(g.id) + "\ncouples " + QString::number(g.nodes.size()) +
                         " nodes:" + nodes);
        groups_table_->setItem(row, ColGroup, name);
        groups_table_->setItem(row, ColKind, fixed(QString::fromStdString(g.kind)));
        groups_table_->setItem(row, ColUnits, fixed(QString::number(g.units)));
        auto* ratio = new QTableWidgetItem(QString());
        ratio->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsEditable);
        ratio->setToolTip("Percent of this group's units to remove (empty = the global ratio)");
        groups_table_->setItem(row, ColRatio, ratio);
        auto* lock = new QTableWidgetItem(QString());
        lock->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
        lock->setCheckState(Qt::Unchecked);
        lock->setToolTip("Keep this group whole");
        groups_table_->setItem(row, ColLock, lock);
      }
    }
    if (!pending_groups_.is_null() && !groups_.empty()) {
      fillGroupTable(pending_groups_);
      pending_groups_ = json();
    }
    last_knobs_ = knobs();  // a new model's table is not an undoable edit
  }
  if (chart_) chart_->clearPoints();
  updateEnabled();
  recipe_view_->setPlainText(QString::fromStdString(currentRecipe().dump(1)));
  if (baseline_) {
    since_change_.start();
    change_pending_timing_ = true;
    debounce_.start();
  }
}

void TuningPanel::measureNow() {
  debounce_.stop();
  startMeasurement();
}

void TuningPanel::startMeasurement() {
  if (!baseline_) return;
  if (current_job_) current_job_->cancel();  // the new job replaces the previous one
  const int generation = ++generation_;
  const json knobs_now = knobs();
  const json recipe = currentRecipe();
  const double knob = activeKnob();
  live_ = VariantMetrics{};
  live_coverage_.clear();
  live_recipe_ = recipe;
  live_knobs_ = knobs_now;
  live_label_->setText("<i>measuring...</i>");
  auto baseline = baseline_;
  auto dataset = dataset_;
  const pipeline::MeasureOptions options = measure_options_;
  const QString title = "Measure " + QString::fromStdString(variantNameFromKnobs(knobs_now));
  JobHandle* job = jobs_->start(title, [=, this](JobContext& context, JobHandle& handle) {
    std::vector<PassReport> reports;
    Model model = pipeline::applyRecipe(*baseline, recipe, nullptr, &reports);
    context.throwIfCancelled();
    auto ratios = std::make_shared<std::vector<double>>(prunedFractions(*baseline, model));
    // What prune and quantize left alone is shown with the measurement, as the CLI prints it.
    QString coverage;
    for (const auto& line : pipeline::coverageLines(reports))
      coverage += "<br>" + QString::fromStdString(line).toHtmlEscaped();
    handle.postToUi([this, generation, ratios, coverage] {
      if (generation != generation_) return;
      live_coverage_ = coverage;
      emit pruningRatios(*ratios);
    });
    // Throttle accuracy updates to ~10 per second so the UI thread stays idle.
    auto last_post = std::make_shared<std::chrono::steady_clock::time_point>();
    pipeline::measureVariant(model, dataset.get(), options, context, [&](const pipeline::MeasureUpdate& u) {
      const auto now = std::chrono::steady_clock::now();
      if (u.stage == pipeline::MeasureUpdate::Stage::Accuracy && !u.accuracy_final &&
          now - *last_post < std::chrono::milliseconds(100))
        return;
      *last_post = now;
      const VariantMetrics m = u.metrics;
      handle.postToUi([this, generation, knob, m] {
        if (generation != generation_) return;
        live_ = m;
        if (chart_) chart_->setPoint(knob, m);
        if (change_pending_timing_) {
          change_pending_timing_ = false;
          knob_to_chart_ms_ = static_cast<double>(since_change_.elapsed());
          emit firstChartUpdate(knob_to_chart_ms_);
        }
        QString text = QString("<b>%1</b><br>size %2")
                           .arg(QString::fromStdString(variantNameFromKnobs(live_knobs_)).toHtmlEscaped(),
                                QString::fromStdString(formatBytes(m.size_bytes.value_or(0))));
        if (m.params) text += QString(", %1 params").arg(*m.params);
        if (m.latency_ms)
          text += QString("<br>latency %1 ms (p90 %2)")
                      .arg(*m.latency_ms, 0, 'f', 3)
                      .arg(m.latency_p90_ms.value_or(0), 0, 'f', 3);
        if (m.accuracy)
          text += QString("<br>accuracy %1% [%2, %3] on %4 examples")
                      .arg(100 * *m.accuracy, 0, 'f', 2)
                      .arg(100 * m.accuracy_low.value_or(0), 0, 'f', 2)
                      .arg(100 * m.accuracy_high.value_or(0), 0, 'f', 2)
                      .arg(m.accuracy_count.value_or(0));
        else if (!dataset_)
          text += "<br><i>open a dataset (Ctrl+D) to measure accuracy</i>";
        text += live_coverage_;
        live_label_->setText(text);
        emit measurementUpdated(m);
      });
    });
  });
  current_job_ = job;
  connect(job, &JobHandle::finished, this, [this, job](JobHandle::State state, const QString& error) {
    if (current_job_ == job) current_job_ = nullptr;
    if (state == JobHandle::State::Failed) {
      live_label_->setText("<span style='color:#b00'>" + error.toHtmlEscaped() + "</span>");
      emit statusMessage(error);
    }
  });
}

void TuningPanel::apply() {
  if (!baseline_) return;
  Variant v;
  v.name = variantNameFromKnobs(knobs());
  v.knobs = knobs();
  // The live metrics belong to the live recipe; if knobs moved since, the new job is still measuring.
  v.recipe = live_knobs_ == v.knobs ? live_recipe_ : currentRecipe();
  v.metrics = live_knobs_ == v.knobs ? live_ : VariantMetrics{};
  v.created_utc = pipeline::nowUtcIso();
  emit variantApplied(v);
}

// ------------------------------------------------------------------------------------------------ dataset
// dialog
DatasetDialog::DatasetDialog(JobManager* jobs, QWidget* parent) : QWidget(parent, Qt::Dialog), jobs_(jobs) {
  setWindowTitle("Open dataset");
  resize(760, 520);
  auto* form = new QFormLayout;
  format_ = new QComboBox(this);
  format_->addItem("Fashion-MNIST (Debian package)", "fashion-mnist");
  for (const char* f : {"idx", "cifar10", "imagefolder", "imdb", "spamassassin", "csv", "jsonl"})
    format_->addItem(f, f);
  form->addRow("Format", format_);
  auto* path_row = new QHBoxLayout;
  path_ = new QLineEdit(this);
  auto* browse = new QPushButton("Browse...", this);
  path_row->addWidget(path_, 1);
  path_row->addWidget(browse);
  form->addRow("Path", path_row);
  split_ = new QComboBox(this);
  split_->setEditable(true);
  split_->addItems({"test", "train", ""});
  form->addRow("Split", split_);
  limit_ = new QSpinBox(this);
  limit_->setRange(0, 10000000);
  limit_->setSpecialValueText("all");
  form->addRow("Limit", limit_);
  extra_ = new QLineEdit(this);
  extra_->setPlaceholderText("more keys: vocab=/path/vocab.txt&seq_len=128, mean=..&std=..");
  form->addRow("Other keys", extra_);
  spec_ = new QLineEdit(this);
  spec_->setToolTip("The dataset spec, as edgetune-cli --data takes it (editable)");
  form->addRow("Spec", spec_);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  grid_host_ = new QWidget(this);
  grid_host_->setLayout(new QGridLayout);
  auto* preview_button = new QPushButton("Preview", this);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel, this);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  auto* row = new QHBoxLayout;
  row->addWidget(preview_button);
  row->addWidget(status_, 1);
  layout->addLayout(row);
  layout->addWidget(grid_host_, 1);
  layout->addWidget(buttons);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, "Dataset folder", path_->text());
    if (!dir.isEmpty()) path_->setText(dir);
  });
  for (auto* e : {path_, extra_}) connect(e, &QLineEdit::textChanged, this, &DatasetDialog::compose);
  connect(format_, &QComboBox::currentIndexChanged, this, &DatasetDialog::compose);
  connect(split_, &QComboBox::currentTextChanged, this, &DatasetDialog::compose);
  connect(limit_, &QSpinBox::valueChanged, this, &DatasetDialog::compose);
  connect(preview_button, &QPushButton::clicked, this, [this] { preview(); });
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    emit accepted(spec());
    close();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, [this] {
    emit rejected();
    close();
  });
  compose();
}

void DatasetDialog::compose() {
  if (composing_) return;
  const QString format = format_->currentData().toString();
  path_->setEnabled(format != "fashion-mnist");
  QString spec;
  QStringList keys;
  if (format == "fashion-mnist") {
    spec = split_->currentText() == "train" ? "fashion-mnist:train" : "fashion-mnist";
  } else {
    spec = format + ":" + path_->text();
    if (!split_->currentText().isEmpty()) keys << "split=" + split_->currentText();
  }
  if (limit_->value() > 0) keys << QString("limit=%1").arg(limit_->value());
  if (!extra_->text().trimmed().isEmpty()) keys << extra_->text().trimmed();
  if (!keys.isEmpty()) spec += "?" + keys.join("&");
  spec_->setText(spec);
}

void DatasetDialog::setSpec(const QString& spec) {
  composing_ = true;
  spec_->setText(spec);
  composing_ = false;
}

QString DatasetDialog::spec() const {
  return spec_->text().trimmed();
}

void DatasetDialog::preview(int count) {
  const int generation = ++generation_;
  const std::string spec = this->spec().toStdString();
  status_->setText("Loading " + QString::fromStdString(spec) + "...");
  jobs_->start("Preview dataset", [=, this](JobContext& job, JobHandle& handle) {
    try {
      auto dataset = openDataset(spec);
      job.throwIfCancelled();
      struct Sample {
        QImage image;
        QString text;
      };
      auto samples = std::make_shared<std::vector<Sample>>();
      const auto classes = dataset->classNames();
      const auto features = dataset->features();
      const size_t n = std::min<size_t>(count, dataset->size());
      for (size_t i = 0; i < n; ++i) {
        const Example ex = dataset->get(i);
        Sample s;
        const QString label = ex.label >= 0 && ex.label < static_cast<int64_t>(classes.size())
                                  ? QString::fromStdString(classes[ex.label])
                                  : QString::number(ex.label);
        const Tensor& f = ex.features.at(0);
        if (f.type() == DataType::Float32 && f.shape().size() == 3) {
          // An image [C, H, W]: min-max scaled to 8 bits for display (normalization makes raw values odd).
          const int c = static_cast<int>(f.shape()[0]), h = static_cast<int>(f.shape()[1]),
                    w = static_cast<int>(f.shape()[2]);
          const auto v = f.values<float>();
          float lo = v[0], hi = v[0];
          for (float x : v) {
            lo = std::min(lo, x);
            hi = std::max(hi, x);
          }
          QImage img(w, h, QImage::Format_RGB32);
          for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
              auto px = [&](int ch) {
                return static_cast<int>(255 * (v[(ch * h + y) * w + x] - lo) / std::max(hi - lo, 1e-6f));
              };
              const int r = px(0), g = c >= 3 ? px(1) : r, b = c >= 3 ? px(2) : r;
              img.setPixel(x, y, qRgb(r, g, b));
            }
          s.image = img.scaled(72, 72, Qt::KeepAspectRatio, Qt::FastTransformation);
          s.text = label;
        } else {
          // Text: the ids cannot be decoded without the vocab here; show the token count and the label.
          int64_t tokens = 0;
          for (size_t k = 0; k < features.size() && k < ex.features.size(); ++k)
            if (features[k].name == "attention_mask" && ex.features[k].type() == DataType::Int64)
              for (auto m : ex.features[k].values<int64_t>()) tokens += m;
          s.text = QString("%1 tokens\nlabel: %2").arg(tokens).arg(label);
        }
        samples->push_back(std::move(s));
      }
      const QString summary = QString("%1: %2 examples, %3 classes")
                                  .arg(QString::fromStdString(dataset->name()))
                                  .arg(dataset->size())
                                  .arg(classes.size());
      handle.postToUi([this, generation, samples, summary] {
        if (generation != generation_) return;
        auto* grid = static_cast<QGridLayout*>(grid_host_->layout());
        while (auto* item = grid->takeAt(0)) {
          delete item->widget();
          delete item;
        }
        int i = 0;
        for (const auto& s : *samples) {
          auto* cell = new QLabel(grid_host_);
          cell->setAlignment(Qt::AlignCenter);
          if (!s.image.isNull()) {
            cell->setPixmap(QPixmap::fromImage(s.image));
            cell->setToolTip(s.text);
            auto* caption = new QLabel(s.text, grid_host_);
            caption->setAlignment(Qt::AlignCenter);
            grid->addWidget(cell, (i / 8) * 2, i % 8);
            grid->addWidget(caption, (i / 8) * 2 + 1, i % 8);
          } else {
            cell->setText(s.text);
            cell->setFrameShape(QFrame::Box);
            grid->addWidget(cell, (i / 8) * 2, i % 8);
          }
          ++i;
        }
        preview_count_ = i;
        status_->setText(summary);
        emit previewReady(i);
      });
    } catch (const std::exception& e) {
      const QString message = QString::fromUtf8(e.what());
      handle.postToUi([this, generation, message] {
        if (generation != generation_) return;
        preview_count_ = 0;
        status_->setText("<span style='color:#b00'>" + message.toHtmlEscaped() + "</span>");
        emit previewReady(0);
      });
    }
  });
}

}  // namespace edgetune::ui
