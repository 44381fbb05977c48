#include "ui/panels.h"

#include <qcustomplot.h>
#include <QAction>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <cmath>

#include "core/ir/stats.h"
#include "core/pipeline/variant_model.h"
#include "core/util/format.h"
#include "ui/graph_view.h"

namespace edgetune::ui {
using pipeline::Variant;

// ------------------------------------------------------------------------------------------------ weights
WeightSummary summarizeWeights(const std::string& name, const onnx::TensorProto& proto, int bins) {
  WeightSummary s;
  s.name = name;
  s.shape.assign(proto.dims().begin(), proto.dims().end());
  if (proto.data_type() != onnx::TensorProto::FLOAT) return s;
  const Tensor t = tensorFromProto(proto);
  const auto values = t.values<float>();
  s.count = static_cast<int64_t>(values.size());
  if (values.empty()) return s;
  double lo = values[0], hi = values[0], sum = 0, sum2 = 0;
  for (float v : values) {
    lo = std::min<double>(lo, v);
    hi = std::max<double>(hi, v);
    sum += v;
    sum2 += static_cast<double>(v) * v;
    s.zeros += v == 0.0f ? 1 : 0;
  }
  s.min = lo;
  s.max = hi;
  s.mean = sum / s.count;
  s.stdev = std::sqrt(std::max(0.0, sum2 / s.count - s.mean * s.mean));
  if (hi <= lo) hi = lo + 1e-6;
  s.bin_counts.assign(bins, 0);
  for (int b = 0; b <= bins; ++b) s.bin_edges.push_back(lo + (hi - lo) * b / bins);
  for (float v : values) {
    int b = static_cast<int>((v - lo) / (hi - lo) * bins);
    s.bin_counts[std::clamp(b, 0, bins - 1)]++;
  }
  return s;
}

// ------------------------------------------------------------------------------------------------ inspector
NodeInspector::NodeInspector(QWidget* parent) : QWidget(parent) {
  header_ = new QLabel("Select a node in the graph.", this);
  header_->setWordWrap(true);
  header_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  tree_ = new QTreeWidget(this);
  tree_->setHeaderLabels({"Property", "Value"});
  tree_->setColumnWidth(0, 130);
  tree_->setAlternatingRowColors(true);
  histogram_ = new QCustomPlot(this);
  histogram_->setMinimumHeight(170);
  histogram_->xAxis->setLabel("weight value");
  quant_button_ = new QPushButton("Exclude from quantization", this);
  quant_button_->setToolTip(
      "Keep this node in float when the tuning panel quantizes (an undoable knob change)");
  quant_button_->setEnabled(false);
  connect(quant_button_, &QPushButton::clicked, this, [this] {
    if (node_ >= 0) emit quantExclusionRequested(node_, !shownNodeExcluded());
  });
  histogram_->yAxis->setLabel("count");
  weight_label_ = new QLabel(this);
  weight_label_->setWordWrap(true);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(header_);
  layout->addWidget(quant_button_);
  layout->addWidget(tree_, 2);
  layout->addWidget(weight_label_);
  layout->addWidget(histogram_, 1);
}

void NodeInspector::setModel(std::shared_ptr<const Model> model, std::shared_ptr<const ModelStats> stats) {
  model_ = std::move(model);
  stats_ = std::move(stats);
  showNode(-1);
}

void NodeInspector::setQuantExcludedNodes(const QStringList& names) {
  quant_excluded_ = names;
  updateQuantButton();
}

bool NodeInspector::shownNodeExcluded() const {
  if (!model_ || node_ < 0 || node_ >= model_->graph().node_size()) return false;
  return quant_excluded_.contains(QString::fromStdString(model_->graph().node(node_).name()));
}

void NodeInspector::updateQuantButton() {
  const bool has_node = model_ && node_ >= 0 && node_ < model_->graph().node_size();
  quant_button_->setEnabled(has_node);
  quant_button_->setText(shownNodeExcluded() ? "Include again in quantization" : "Exclude from quantization");
}

QString NodeInspector::paramsText() const {
  const auto found = tree_->findItems("Parameters", Qt::MatchExactly | Qt::MatchRecursive, 0);
  return found.isEmpty() ? QString() : found.first()->text(1);
}

void NodeInspector::showGroup(const QString& scope, int node_count) {
  node_ = -1;
  updateQuantButton();
  tree_->clear();
  histogram_->clearPlottables();
  histogram_->replot();
  weight_label_->clear();
  header_->setText(QString("<b>Group</b> %1<br>%2 nodes; double-click it in the graph to expand.")
                       .arg(scope.toHtmlEscaped())
                       .arg(node_count));
  if (!model_ || !stats_) return;
  int64_t params = 0, macs = 0;
  const std::string prefix = "/" + scope.toStdString() + "/";
  for (const auto& n : stats_->nodes)
    if (n.name.rfind(prefix, 0) == 0) {
      params += n.params;
      macs += n.macs;
    }
  new QTreeWidgetItem(tree_, {"Parameters", QString::number(params)});
  new QTreeWidgetItem(tree_, {"MACs", QString::number(macs)});
}

void NodeInspector::showNode(int node_index) {
  node_ = node_index;
  sparsity_ = -1;
  updateQuantButton();
  tree_->clear();
  histogram_->clearPlottables();
  weight_label_->clear();
  if (!model_ || node_index < 0 || node_index >= model_->graph().node_size()) {
    header_->setText("Select a node in the graph.");
    histogram_->replot();
    return;
  }
  const auto& node = model_->graph().node(node_index);
  header_->setText(
      QString("<b>%1</b><br>%2")
          .arg(QString::fromStdString(node.op_type()), QString::fromStdString(node.name()).toHtmlEscaped()));
  auto shapeText = [this](const std::string& tensor) {
    if (tensor.empty()) return QString("(none)");
    const auto vi = model_->valueInfo(tensor);
    if (!vi || !vi->has_shape) return QString("?");
    return QString::fromStdString(dataTypeName(vi->type) + " " + shapeToString(vi->shape));
  };
  auto* inputs = new QTreeWidgetItem(tree_, {"Inputs"});
  for (const auto& in : node.input()) {
    const bool init = model_->isInitializer(in);
    new QTreeWidgetItem(inputs, {QString::fromStdString(in) + (init ? " (weight)" : ""), shapeText(in)});
  }
  auto* outputs = new QTreeWidgetItem(tree_, {"Outputs"});
  for (const auto& out : node.output())
    new QTreeWidgetItem(outputs, {QString::fromStdString(out), shapeText(out)});
  auto* attrs = new QTreeWidgetItem(tree_, {"Attributes"});
  for (const auto& a : node.attribute()) {
    QString value;
    switch (a.type()) {
      case onnx::AttributeProto::INT:
        value = QString::number(a.i());
        break;
      case onnx::AttributeProto::FLOAT:
        value = QString::number(a.f());
        break;
      case onnx::AttributeProto::STRING:
        value = QString::fromStdString(a.s());
        break;
      case onnx::AttributeProto::INTS: {
        QStringList parts;
        for (auto v : a.ints()) parts << QString::number(v);
        value = "[" + parts.join(", ") + "]";
        break;
      }
      case onnx::AttributeProto::FLOATS: {
        QStringList parts;
        for (auto v : a.floats()) parts << QString::number(v);
        value = "[" + parts.join(", ") + "]";
        break;
      }
      case onnx::AttributeProto::TENSOR:
        value = "tensor";
        break;
      default:
        value = "(graph or other)";
        break;
    }
    new QTreeWidgetItem(attrs, {QString::fromStdString(a.name()), value});
  }
  if (stats_ && node_index < static_cast<int>(stats_->nodes.size())) {
    const auto& s = stats_->nodes[node_index];
    new QTreeWidgetItem(tree_, {"Parameters", QString::number(s.params)});
    new QTreeWidgetItem(tree_, {"MACs", QString::number(s.macs)});
    new QTreeWidgetItem(tree_, {"Weight bytes", QString::fromStdString(formatBytes(s.weight_bytes))});
    new QTreeWidgetItem(tree_, {"Activation bytes", QString::fromStdString(formatBytes(s.activation_bytes))});
  }
  tree_->expandAll();
  // Histogram of the largest float weight this node reads.
  const onnx::TensorProto* best = nullptr;
  std::string best_name;
  int64_t best_count = 0;
  for (const auto& in : node.input()) {
    const auto* init = model_->initializer(in);
    if (!init || init->data_type() != onnx::TensorProto::FLOAT) continue;
    int64_t count = 1;
    for (auto d : init->dims()) count *= d;
    if (count > best_count) {
      best = init;
      best_name = in;
      best_count = count;
    }
  }
  if (!best || best_count < 2) {
    weight_label_->setText("No float weights.");
    histogram_->replot();
    return;
  }
  const WeightSummary w = summarizeWeights(best_name, *best);
  sparsity_ = w.count ? static_cast<double>(w.zeros) / w.count : 0;
  new QTreeWidgetItem(tree_, {"Sparsity", QString("%1% zeros").arg(100 * sparsity_, 0, 'f', 2)});
  weight_label_->setText(QString("<b>%1</b> %2: %3 values, mean %4, std %5, sparsity %6%")
                             .arg(QString::fromStdString(best_name).toHtmlEscaped(),
                                  QString::fromStdString(shapeToString(w.shape)))
                             .arg(w.count)
                             .arg(w.mean, 0, 'g', 3)
                             .arg(w.stdev, 0, 'g', 3)
                             .arg(100 * sparsity_, 0, 'f', 2));
  auto* bars = new QCPBars(histogram_->xAxis, histogram_->yAxis);
  bars->setName(QString::fromStdString(best_name));
  QVector<double> keys, values;
  for (size_t b = 0; b < w.bin_counts.size(); ++b) {
    keys << (w.bin_edges[b] + w.bin_edges[b + 1]) / 2;
    values << static_cast<double>(w.bin_counts[b]);
  }
  bars->setData(keys, values, true);
  bars->setWidth(w.bin_edges.size() > 1 ? (w.bin_edges[1] - w.bin_edges[0]) : 1);
  bars->setBrush(QColor(78, 121, 167));
  bars->setPen(QPen(QColor(50, 80, 120)));
  histogram_->rescaleAxes();
  histogram_->yAxis->setRangeLower(0);
  histogram_->replot();
}

// ------------------------------------------------------------------------------------------------ jobs
static QString formatEta(double seconds) {
  if (seconds < 0) return "ETA --";
  if (seconds < 60) return QString("ETA %1 s").arg(seconds, 0, 'f', seconds < 10 ? 1 : 0);
  return QString("ETA %1:%2")
      .arg(static_cast<int>(seconds) / 60)
      .arg(static_cast<int>(seconds) % 60, 2, 10, QChar('0'));
}

JobsPanel::JobsPanel(JobManager* jobs, StallMonitor* stalls, QWidget* parent)
    : QWidget(parent), jobs_(jobs), stalls_(stalls) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  auto* inner = new QWidget(scroll);
  rows_ = new QVBoxLayout(inner);
  rows_->setContentsMargins(0, 0, 0, 0);
  rows_->addStretch();
  scroll->setWidget(inner);
  layout->addWidget(scroll, 1);
  auto* bottom = new QHBoxLayout;
  stall_label_ = new QLabel(this);
  stall_label_->setToolTip("Longest gap of the UI thread's 10 ms heartbeat (target < 100 ms)");
  auto* clear = new QPushButton("Clear finished", this);
  connect(clear, &QPushButton::clicked, jobs_, &JobManager::clearFinished);
  bottom->addWidget(stall_label_, 1);
  bottom->addWidget(clear);
  layout->addLayout(bottom);
  connect(jobs_, &JobManager::jobsChanged, this, &JobsPanel::rebuild);
  auto* timer = new QTimer(this);
  connect(timer, &QTimer::timeout, this, &JobsPanel::refreshStall);
  timer->start(500);
  refreshStall();
}

int JobsPanel::rowCount() const {
  return static_cast<int>(row_widgets_.size());
}

QPushButton* JobsPanel::cancelButton(JobHandle* job) const {
  for (const auto& [j, w] : row_widgets_)
    if (j == job) return w->findChild<QPushButton*>("cancel");
  return nullptr;
}

void JobsPanel::refreshStall() {
  if (!stalls_) return;
  stall_label_->setText(QString("UI stall: max %1 ms (while jobs ran: %2 ms; busy on the UI thread: %3 ms)")
                            .arg(stalls_->maxStallMs(), 0, 'f', 0)
                            .arg(stalls_->maxStallWhileJobsMs(), 0, 'f', 0)
                            .arg(stalls_->maxBusyStallMs(), 0, 'f', 0));
}

void JobsPanel::rebuild() {
  // Keep rows of jobs that still exist; add rows for new ones (newest on top).
  const auto jobs = jobs_->jobs();
  for (auto it = row_widgets_.begin(); it != row_widgets_.end();) {
    if (!jobs.contains(it->first)) {
      it->second->deleteLater();
      it = row_widgets_.erase(it);
    } else {
      ++it;
    }
  }
  for (JobHandle* job : jobs) {
    bool known = false;
    for (const auto& rw : row_widgets_) known = known || rw.first == job;
    if (known) continue;
    auto* row = new QWidget;
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(2, 1, 2, 1);
    auto* title = new QLabel(job->title(), row);
    title->setMinimumWidth(150);
    auto* bar = new QProgressBar(row);
    bar->setRange(0, 1000);
    bar->setTextVisible(true);
    bar->setFormat("%p%");
    auto* message = new QLabel(row);
    message->setMinimumWidth(180);
    auto* eta = new QLabel(formatEta(-1), row);
    eta->setMinimumWidth(70);
    auto* cancel = new QPushButton("Cancel", row);
    cancel->setObjectName("cancel");
    h->addWidget(title);
    h->addWidget(bar, 1);
    h->addWidget(message);
    h->addWidget(eta);
    h->addWidget(cancel);
    connect(cancel, &QPushButton::clicked, job, &JobHandle::cancel);
    connect(job, &JobHandle::progressChanged, row, [bar, message, eta](double f, const QString& m, double e) {
      bar->setValue(static_cast<int>(f * 1000));
      message->setText(m);
      eta->setText(formatEta(e));
    });
    connect(job, &JobHandle::finished, row,
            [bar, message, eta, cancel](JobHandle::State s, const QString& error) {
              cancel->setEnabled(false);
              eta->clear();
              if (s == JobHandle::State::Succeeded) {
                bar->setValue(1000);
                message->setText("done");
              } else if (s == JobHandle::State::Cancelled) {
                message->setText("cancelled");
              } else {
                message->setText("failed: " + error);
                message->setToolTip(error);
              }
            });
    if (!job->isRunning()) cancel->setEnabled(false);
    rows_->insertWidget(0, row);
    row_widgets_.push_back({job, row});
  }
  // Keep the dock short: only the 30 most recent finished jobs stay.
  int finished = 0;
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it)
    if (!(*it)->isRunning() && ++finished > 30) {
      QTimer::singleShot(0, jobs_, &JobManager::clearFinished);
      break;
    }
}

// ------------------------------------------------------------------------------------------------ variants
VariantsPanel::VariantsPanel(QWidget* parent) : QWidget(parent) {
  table_ = new QTableWidget(0, ColCount, this);
  table_->setObjectName("variants-table");  // what lessons point at (lesson.h)
  table_->setHorizontalHeaderLabels(
      {"Variant", "Size", "Accuracy", "95% CI", "Latency ms", "Device ms", "Made from", "Recipe"});
  table_->horizontalHeaderItem(ColFrom)->setToolTip(
      "The variant this one was made from (its base); the bold row is the current base (Ctrl+B)");
  table_->horizontalHeaderItem(ColDeviceMs)
      ->setToolTip("On-device median latency at 1 thread (latest device benchmark)");
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  compare_ = new QPushButton("Compare two", this);
  compare_->setToolTip("Select two variants (Ctrl+click) and compare them");
  export_ = new QPushButton(QIcon(":/icons/export.svg"), "Export...", this);
  remove_ = new QPushButton("Remove", this);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(compare_);
  buttons->addWidget(export_);
  buttons->addWidget(remove_);
  buttons->addStretch();
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(table_, 1);
  layout->addLayout(buttons);
  remove_->setToolTip("Remove the selected variant from the project (Delete; Edit > Undo brings it back)");
  compare_action_ = new QAction("&Compare the two selected", this);
  export_action_ = new QAction(QIcon(":/icons/export.svg"), "&Export as ONNX...", this);
  remove_action_ = new QAction("&Delete variant", this);
  remove_action_->setShortcut(QKeySequence::Delete);
  remove_action_->setShortcutContext(
      Qt::WidgetWithChildrenShortcut);  // Delete in the table, not in a text field
  table_->addAction(remove_action_);
  auto update_buttons = [this] {
    const auto sel = selectedVariants();
    compare_->setEnabled(sel.size() == 2);
    export_->setEnabled(sel.size() == 1);
    remove_->setEnabled(sel.size() == 1 && sel[0] > 0);
    compare_action_->setEnabled(compare_->isEnabled());
    export_action_->setEnabled(export_->isEnabled());
    remove_action_->setEnabled(remove_->isEnabled());
    if (sel.size() == 1) emit variantSelected(sel[0]);
  };
  connect(table_, &QTableWidget::itemSelectionChanged, this, update_buttons);
  const auto compare = [this] {
    const auto sel = selectedVariants();
    if (sel.size() == 2) emit compareRequested(sel[0], sel[1]);
  };
  const auto export_one = [this] {
    const auto sel = selectedVariants();
    if (sel.size() == 1) emit exportRequested(sel[0]);
  };
  const auto remove = [this] {
    const auto sel = selectedVariants();
    if (sel.size() == 1 && sel[0] > 0) emit removeRequested(sel[0]);
  };
  connect(compare_, &QPushButton::clicked, this, compare);
  connect(compare_action_, &QAction::triggered, this, compare);
  connect(export_, &QPushButton::clicked, this, export_one);
  connect(export_action_, &QAction::triggered, this, export_one);
  connect(remove_, &QPushButton::clicked, this, remove);
  connect(remove_action_, &QAction::triggered, this, remove);
  update_buttons();
}

static QString recipeSummary(const nlohmann::json& recipe) {
  QStringList parts;
  for (const auto& p : recipe.value("passes", nlohmann::json::array())) {
    QString s = QString::fromStdString(p.value("pass", std::string("?")));
    const auto o = p.value("options", nlohmann::json::object());
    if (o.contains("ratio")) s += QString(" %1%").arg(100 * o["ratio"].get<double>(), 0, 'f', 0);
    if (o.contains("sparsity")) s += QString(" %1%").arg(100 * o["sparsity"].get<double>(), 0, 'f', 0);
    if (o.contains("mode")) s += " " + QString::fromStdString(o["mode"].get<std::string>());
    parts << s;
  }
  return parts.isEmpty() ? "baseline" : parts.join(" -> ");
}

void VariantsPanel::setVariants(const std::vector<Variant>& variants, const std::string& current_base) {
  const QSignalBlocker block(table_);
  table_->setRowCount(static_cast<int>(variants.size()));
  // The baseline row stands for the project's model.
  current_base_row_ = current_base.empty() ? 0 : pipeline::findVariantNamed(variants, current_base);
  for (size_t i = 0; i < variants.size(); ++i) {
    const auto& v = variants[i];
    const auto& m = v.metrics;
    const int r = static_cast<int>(i);
    auto* name = new QTableWidgetItem(QString::fromStdString(v.name));
    if (!v.model_file.empty()) name->setToolTip("Model file: " + QString::fromStdString(v.model_file));
    if (r == current_base_row_) {
      QFont bold = name->font();
      bold.setBold(true);
      name->setFont(bold);
      name->setToolTip((name->toolTip().isEmpty() ? QString() : name->toolTip() + "\n") +
                       "The current base: Apply and the Training dock start from this model");
    }
    table_->setItem(r, ColName, name);
    table_->setItem(
        r, 1, new QTableWidgetItem(m.size_bytes ? QString::fromStdString(formatBytes(*m.size_bytes)) : "-"));
    table_->setItem(
        r, 2, new QTableWidgetItem(m.accuracy ? QString("%1%").arg(100 * *m.accuracy, 0, 'f', 2) : "-"));
    table_->setItem(
        r, 3,
        new QTableWidgetItem(m.accuracy_low && m.accuracy_high ? QString("%1..%2 (n=%3)")
                                                                     .arg(100 * *m.accuracy_low, 0, 'f', 2)
                                                                     .arg(100 * *m.accuracy_high, 0, 'f', 2)
                                                                     .arg(m.accuracy_count.value_or(0))
                                                               : "-"));
    table_->setItem(r, ColLatencyMs,
                    new QTableWidgetItem(m.latency_ms ? QString::number(*m.latency_ms, 'f', 3) : "-"));
    const auto device_ms = pipeline::deviceLatencyMs(v);
    auto* device = new QTableWidgetItem(device_ms ? QString::number(*device_ms, 'f', 3) : "-");
    if (!v.device_benchmarks.empty())
      device->setToolTip(QString("%1 device benchmark(s); latest:\n%2")
                             .arg(v.device_benchmarks.size())
                             .arg(QString::fromStdString(v.device_benchmarks.back().dump(1)).left(1500)));
    table_->setItem(r, ColDeviceMs, device);
    table_->setItem(r, ColFrom,
                    new QTableWidgetItem(i == 0 && v.base.empty() ? QString("-")
                                         : v.base.empty()         ? QString("original model")
                                                                  : QString::fromStdString(v.base)));
    table_->setItem(
        r, ColRecipe,
        new QTableWidgetItem(v.model_file.empty() ? recipeSummary(v.recipe)
                                                  : "own model file (" + recipeSummary(v.recipe) + ")"));
  }
  table_->resizeColumnsToContents();
}

void VariantsPanel::selectVariant(int index) {
  if (index < 0 || index >= table_->rowCount()) return;
  table_->selectRow(index);
}

std::vector<int> VariantsPanel::selectedVariants() const {
  std::vector<int> rows;
  for (const auto& idx : table_->selectionModel()->selectedRows()) rows.push_back(idx.row());
  std::sort(rows.begin(), rows.end());
  return rows;
}

// ------------------------------------------------------------------------------------------------ compare
CompareWidget::CompareWidget(JobManager* jobs, QWidget* parent) : QWidget(parent), jobs_(jobs) {
  metrics_ = new QTableWidget(0, 4, this);
  metrics_->setHorizontalHeaderLabels({"Metric", "A", "B", "B - A"});
  metrics_->verticalHeader()->hide();
  metrics_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  metrics_->horizontalHeader()->setStretchLastSection(true);
  summary_ = new QLabel("Select two variants in the Variants table and press Compare.", this);
  summary_->setWordWrap(true);
  graph_ = new GraphView(this);
  graph_->setJobManager(jobs);
  auto* left = new QWidget(this);
  auto* lv = new QVBoxLayout(left);
  lv->setContentsMargins(0, 0, 0, 0);
  lv->addWidget(summary_);
  lv->addWidget(metrics_, 1);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(left);
  split->addWidget(graph_);
  split->setStretchFactor(1, 2);
  left->setMinimumWidth(330);
  metrics_->setColumnWidth(0, 100);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addWidget(split);
}

void CompareWidget::compare(std::shared_ptr<const Model> baseline, const std::vector<Variant>& variants,
                            int index_a, int index_b) {
  const Variant& a = variants.at(static_cast<size_t>(index_a));
  const Variant& b = variants.at(static_cast<size_t>(index_b));
  const int generation = ++generation_;
  summary_->setText(
      QString("Comparing %1 with %2...").arg(QString::fromStdString(a.name), QString::fromStdString(b.name)));
  // Metric deltas are known at once.
  metrics_->setRowCount(0);
  auto add_row = [this](const QString& name, std::optional<double> va, std::optional<double> vb, int digits,
                        double scale) {
    const int r = metrics_->rowCount();
    metrics_->insertRow(r);
    metrics_->setItem(r, 0, new QTableWidgetItem(name));
    metrics_->setItem(r, 1, new QTableWidgetItem(va ? QString::number(*va * scale, 'f', digits) : "-"));
    metrics_->setItem(r, 2, new QTableWidgetItem(vb ? QString::number(*vb * scale, 'f', digits) : "-"));
    auto* delta = new QTableWidgetItem(
        va && vb ? QString("%1%2").arg((*vb - *va) >= 0 ? "+" : "").arg((*vb - *va) * scale, 0, 'f', digits)
                 : "-");
    metrics_->setItem(r, 3, delta);
  };
  auto as_double = [](const std::optional<int64_t>& v) {
    return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
  };
  add_row("Size (MB)", as_double(a.metrics.size_bytes), as_double(b.metrics.size_bytes), 3, 1e-6);
  add_row("Parameters", as_double(a.metrics.params), as_double(b.metrics.params), 0, 1);
  add_row("Accuracy (%)", a.metrics.accuracy, b.metrics.accuracy, 2, 100);
  add_row("Latency (ms)", a.metrics.latency_ms, b.metrics.latency_ms, 3, 1);
  const Variant variant_a = a, variant_b = b;
  const std::vector<Variant> all = variants;
  const QString name_a = QString::fromStdString(a.name), name_b = QString::fromStdString(b.name);
  jobs_->start("Compare " + name_a + " / " + name_b, [=, this](JobContext& job, JobHandle& handle) {
    auto model_a = std::make_shared<Model>(pipeline::variantModel(*baseline, all, variant_a, &job));
    auto model_b = std::make_shared<Model>(pipeline::variantModel(*baseline, all, variant_b, &job));
    auto diff = std::make_shared<GraphDiff>(diffModels(*model_a, *model_b));
    auto stats = std::make_shared<ModelStats>(computeStats(*model_a));
    auto prepared = std::make_shared<PreparedGraph>(prepareGraph(model_a, stats));
    handle.postToUi([=, this] {
      if (generation != generation_) return;
      graph_->setPrepared(std::move(*prepared));
      graph_->setDiff(diff->before_nodes);
      summary_text_ =
          QString(
              "Graph of %1 with what %2 changes: %3 removed, %4 changed shape, %5 changed precision, "
              "%6 changed op, %7 added.")
              .arg(name_a, name_b)
              .arg(diff->removed)
              .arg(diff->changed_shape)
              .arg(diff->changed_precision)
              .arg(diff->changed_op)
              .arg(diff->added.size());
      summary_->setText(summary_text_);
      emit compared();
    });
  });
}

}  // namespace edgetune::ui
