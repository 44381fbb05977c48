#include "ui/charts.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QFile>
#include <QHBoxLayout>
#include <QMenu>
#include <QMouseEvent>
#include <QSvgGenerator>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "core/util/error.h"
#include "core/util/format.h"
#include "ui/dialogs.h"
#include "ui/knob_recipe.h"

namespace edgetune::ui {
using nlohmann::json;
using pipeline::Variant;
using pipeline::VariantMetrics;

// ------------------------------------------------------------------------------------------------ base
ChartWidget::ChartWidget(const QString& title, QWidget* parent) : QWidget(parent), title_(title) {
  plot_ = new QCustomPlot(this);
  plot_->setMinimumSize(200, 150);
  auto* export_button = new QToolButton(this);
  export_button->setText("Export");
  export_button->setToolTip("Export this chart as PNG, SVG or CSV");
  export_button->setPopupMode(QToolButton::InstantPopup);
  auto* menu = new QMenu(export_button);
  auto ask = [this](const QString& filter, const QString& suffix, auto write) {
    const QString path = askSaveFile(this, "Export " + title_, title_ + suffix, filter);
    if (path.isEmpty()) return;
    try {
      write(path);
    } catch (const std::exception& e) {
      showError(this, "Export failed", e.what());
    }
  };
  menu->addAction("PNG image...", this, [=, this] {
    ask("PNG image (*.png)", ".png", [this](const QString& p) { exportPng(p); });
  });
  menu->addAction("SVG image...", this, [=, this] {
    ask("SVG image (*.svg)", ".svg", [this](const QString& p) { exportSvg(p); });
  });
  menu->addAction("CSV data...", this,
                  [=, this] { ask("CSV (*.csv)", ".csv", [this](const QString& p) { exportCsv(p); }); });
  export_button->setMenu(menu);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  bar_ = new QHBoxLayout;
  auto* label = new QLabel("<b>" + title.toHtmlEscaped() + "</b>", this);
  // The title gives way to the controls on a narrow dock (it is also the window's tab name).
  label->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  bar_->addWidget(label, 1);
  bar_->addWidget(export_button);
  layout->addLayout(bar_);
  layout->addWidget(plot_, 1);
}

void ChartWidget::exportPng(const QString& path, int width, int height) const {
  if (!plot_->savePng(path, width, height)) throw Error(path.toStdString() + ": cannot write the PNG file");
}

void ChartWidget::exportSvg(const QString& path, int width, int height) const {
  const int w = width > 0 ? width : std::max(plot_->width(), 400);
  const int h = height > 0 ? height : std::max(plot_->height(), 300);
  QSvgGenerator generator;
  generator.setFileName(path);
  generator.setSize(QSize(w, h));
  generator.setViewBox(QRect(0, 0, w, h));
  generator.setTitle(title_);
  QCPPainter painter;
  if (!painter.begin(&generator)) throw Error(path.toStdString() + ": cannot write the SVG file");
  plot_->toPainter(&painter, w, h);
  painter.end();
  if (!QFile::exists(path)) throw Error(path.toStdString() + ": cannot write the SVG file");
}

void ChartWidget::exportCsv(const QString& path) const {
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text))
    throw Error(path.toStdString() + ": cannot write the CSV file (" + file.errorString().toStdString() +
                ")");
  file.write(csv().toUtf8());
}

QString ChartWidget::csv() const {
  QString out = "series,x,y\n";
  for (int i = 0; i < plot_->graphCount(); ++i) {
    auto* g = plot_->graph(i);
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
      out += QString("%1,%2,%3\n").arg(g->name()).arg(it->key, 0, 'g', 10).arg(it->value, 0, 'g', 10);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ knob chart
const std::vector<KnobAxis>& knobAxes() {
  static const std::vector<KnobAxis> axes = {
      {"prune_ratio", "pruning ratio (fraction removed)"},
      {"samples", "calibration samples (examples)"},
      {"round_to", "channel rounding (multiple of)"},
  };
  return axes;
}

// A colour per configuration (Tableau 10, whose first colours read well on white and in print).
static QColor seriesColor(int i) {
  static const QColor palette[] = {{31, 119, 180}, {214, 39, 40}, {44, 160, 44},   {148, 103, 189},
                                   {255, 127, 14}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                   {188, 189, 34}, {23, 190, 207}};
  return palette[i % 10];
}

KnobChart::KnobChart(QWidget* parent) : ChartWidget("Accuracy, size and latency vs knob", parent) {
  setObjectName("knob-chart");  // the charts' objectNames: what lessons point at (lesson.h)
  axis_combo_ = new QComboBox(this);
  for (const auto& axis : knobAxes()) axis_combo_->addItem(axis.label, QString::fromStdString(axis.key));
  axis_combo_->setToolTip("The knob on the x axis; every other knob is fixed along one line");
  // Sized to its current label only: the longest label would make the chart dock too wide for a laptop.
  axis_combo_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  axis_combo_->setMinimumContentsLength(16);
  bar_->insertWidget(bar_->count() - 1, new QLabel("x axis:", this));
  bar_->insertWidget(bar_->count() - 1, axis_combo_);
  connect(axis_combo_, &QComboBox::currentIndexChanged, this,
          [this] { setAxisKnob(axis_combo_->currentData().toString().toStdString()); });
  // The legend moves from the default axis rect (deleted by clear()) to a row of its own.
  QCPLegend* legend = plot_->legend;
  plot_->axisRect()->insetLayout()->take(legend);
  plot_->plotLayout()->clear();
  auto make_rect = [this](const QString& ylabel) {
    auto* rect = new QCPAxisRect(plot_);
    rect->axis(QCPAxis::atLeft)->setLabel(ylabel);
    rect->setupFullAxesBox(true);
    return rect;
  };
  acc_rect_ = make_rect("accuracy %");
  size_rect_ = make_rect("size MB");
  lat_rect_ = make_rect("latency ms");
  plot_->plotLayout()->addElement(0, 0, acc_rect_);
  plot_->plotLayout()->addElement(1, 0, size_rect_);
  plot_->plotLayout()->addElement(2, 0, lat_rect_);
  // The legend names each configuration, in a row of its own under the three panels.
  legend->setVisible(true);
  legend->setFont(QFont(font().family(), 8));
  legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  legend->setWrap(2);
  legend->setBorderPen(Qt::NoPen);
  plot_->plotLayout()->addElement(3, 0, legend);
  plot_->plotLayout()->setRowStretchFactor(3, 0.001);
  // Align the left margins so the three x axes line up.
  auto* group = new QCPMarginGroup(plot_);
  for (auto* r : {acc_rect_, size_rect_, lat_rect_}) r->setMarginGroup(QCP::msLeft | QCP::msRight, group);
  redraw();
}

std::optional<double> KnobChart::axisValue(const json& k) const {
  if (const auto it = k.find(axis_key_); it != k.end() && it->is_number()) return it->get<double>();
  // Nothing pruned is the start (ratio 0) of every pruning line.
  if (axis_key_ == "prune_ratio") return 0.0;
  return std::nullopt;
}

std::vector<KnobChart::Series> KnobChart::series() const {
  // A configuration is the effective knobs without the axis knob; for the pruning-ratio axis the points
  // without pruning also start every pruning line whose other knobs they share.
  auto keyOf = [this](json k, bool drop_pruning) {
    k.erase(axis_key_);
    if (drop_pruning)
      for (const char* key : {"prune_method", "protect", "round_to", "group_ratios", "locked_groups"})
        k.erase(key);
    return k.dump();
  };
  std::vector<Series> out;
  std::map<std::string, size_t> index;
  for (const Point& p : points_) {
    const auto x = axisValue(p.knobs);
    if (!x) continue;
    const std::string key = keyOf(p.knobs, false);
    auto [it, added] = index.try_emplace(key, out.size());
    if (added) out.push_back({key, QString::fromStdString(configurationName(p.knobs, axis_key_)), {}});
    out[it->second].points.push_back({*x, &p});
  }
  if (axis_key_ == "prune_ratio") {
    std::map<std::string, const Point*> unpruned;  // by the knobs besides pruning
    for (const Point& p : points_)
      if (p.knobs.value("prune_method", std::string("none")) == "none") unpruned[keyOf(p.knobs, true)] = &p;
    std::vector<bool> joined(out.size(), false);
    for (auto& s : out) {
      const json first = s.points.front().second->knobs;
      // A per-layer line's ratio 0 still prunes the layers set apart: it does not start at "no pruning".
      if (first.value("prune_method", std::string("none")) == "none" || first.contains("group_ratios") ||
          first.contains("locked_groups"))
        continue;
      const auto it = unpruned.find(keyOf(first, true));
      if (it == unpruned.end()) continue;
      s.points.push_back({0.0, it->second});
      joined[index.at(keyOf(it->second->knobs, false))] = true;
    }
    std::vector<Series> kept;
    for (size_t i = 0; i < out.size(); ++i)
      if (!joined[i]) kept.push_back(std::move(out[i]));
    out = std::move(kept);
  }
  for (auto& s : out)
    std::stable_sort(s.points.begin(), s.points.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  // The most recent configurations, and always the current one.
  const std::string current =
      current_knobs_.is_null() ? std::string() : keyOf(effectiveKnobs(current_knobs_), false);
  while (static_cast<int>(out.size()) > kMaxSeries) {
    const auto victim =
        std::find_if(out.begin(), out.end(), [&](const Series& s) { return s.key != current; });
    out.erase(victim);
  }
  return out;
}

void KnobChart::setPoint(const json& knobs, const VariantMetrics& metrics) {
  json effective = effectiveKnobs(knobs);
  const auto it =
      std::find_if(points_.begin(), points_.end(), [&](const Point& p) { return p.knobs == effective; });
  if (it != points_.end())
    it->metrics = metrics;
  else
    points_.push_back({std::move(effective), metrics, std::nullopt});
  redraw();
  emit updated();
}

void KnobChart::setRecoveredPoint(const json& knobs, const VariantMetrics& metrics) {
  const json effective = effectiveKnobs(knobs);
  const auto it =
      std::find_if(points_.begin(), points_.end(), [&](const Point& p) { return p.knobs == effective; });
  if (it == points_.end()) return;
  it->recovered = metrics;
  redraw();
  emit updated();
}

void KnobChart::setCurrentKnobs(const json& knobs) {
  current_knobs_ = knobs;
  redraw();
}

void KnobChart::setAxisKnob(const std::string& key) {
  const auto& axes = knobAxes();
  const auto axis = std::find_if(axes.begin(), axes.end(), [&](const KnobAxis& a) { return a.key == key; });
  if (axis == axes.end()) return;
  axis_key_ = key;
  const int i = axis_combo_->findData(QString::fromStdString(key));
  if (i != axis_combo_->currentIndex()) axis_combo_->setCurrentIndex(i);  // re-enters with the same key
  lat_rect_->axis(QCPAxis::atBottom)->setLabel(axis->label);
  redraw();
}

void KnobChart::clearPoints() {
  points_.clear();
  redraw();
}

QStringList KnobChart::seriesNames() const {
  QStringList out;
  for (const auto& s : series()) out << s.name;
  return out;
}

void KnobChart::redraw() {
  plot_->clearGraphs();
  for (int i = plot_->itemCount() - 1; i >= 0; --i) plot_->removeItem(i);
  const auto& axes = knobAxes();
  const auto axis =
      std::find_if(axes.begin(), axes.end(), [&](const KnobAxis& a) { return a.key == axis_key_; });
  lat_rect_->axis(QCPAxis::atBottom)->setLabel(axis->label);
  const std::vector<Series> all = series();
  const json current = current_knobs_.is_null() ? json() : effectiveKnobs(current_knobs_);
  const std::optional<double> current_x = current.is_null() ? std::nullopt : axisValue(current);
  std::string current_key;
  if (!current.is_null()) {
    json k = current;
    k.erase(axis_key_);
    current_key = k.dump();
  }
  auto addGraph = [this](QCPAxisRect* rect) {
    return plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
  };
  double lo = current_x.value_or(0), hi = current_x.value_or(0);
  bool any_recovered = false;
  for (size_t si = 0; si < all.size(); ++si) {
    const Series& s = all[si];
    const QColor color = seriesColor(static_cast<int>(si));
    const bool bold = s.key == current_key;
    QVector<double> ak, av, al, ah, sk, sv, lk, lv, rk, rv;
    for (const auto& [x, p] : s.points) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      const VariantMetrics& m = p->metrics;
      if (m.accuracy) {
        ak << x;
        av << 100 * *m.accuracy;
        al << 100 * m.accuracy_low.value_or(*m.accuracy);
        ah << 100 * m.accuracy_high.value_or(*m.accuracy);
      }
      if (m.size_bytes) {
        sk << x;
        sv << *m.size_bytes / 1e6;
      }
      if (m.latency_ms) {
        lk << x;
        lv << *m.latency_ms;
      }
      if (p->recovered && p->recovered->accuracy) {
        rk << x;
        rv << 100 * *p->recovered->accuracy;
      }
    }
    const QPen pen(color, bold ? 2.5 : 1.2);
    const QCPScatterStyle marker(QCPScatterStyle::ssCircle, color, bold ? Qt::white : color, bold ? 7 : 5);
    auto line = [&](QCPAxisRect* rect, const QVector<double>& k, const QVector<double>& v,
                    const QString& name) {
      auto* g = addGraph(rect);
      g->setName(name);
      g->setPen(pen);
      g->setScatterStyle(marker);
      g->setData(k, v, true);
      return g;
    };
    if (bold && !ak.isEmpty()) {  // the 95% band of the current configuration only: several bands hide lines
      QColor band = color;
      band.setAlpha(50);
      auto* low = addGraph(acc_rect_);
      low->setName(s.name + " accuracy_low");
      low->setPen(QPen(band));
      low->setData(ak, al, true);
      low->removeFromLegend();
      auto* high = addGraph(acc_rect_);
      high->setName(s.name + " accuracy_high");
      high->setPen(QPen(band));
      high->setBrush(band);
      high->setChannelFillGraph(low);
      high->setData(ak, ah, true);
      high->removeFromLegend();
    }
    line(acc_rect_, ak, av, s.name);  // the legend entry of the configuration
    line(size_rect_, sk, sv, s.name + " size_mb")->removeFromLegend();
    line(lat_rect_, lk, lv, s.name + " latency_ms")->removeFromLegend();
    if (!rk.isEmpty()) {
      any_recovered = true;
      auto* g = line(acc_rect_, rk, rv, s.name + " after quick recovery");
      g->setPen(QPen(color, bold ? 2 : 1, Qt::DashLine));
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangle, color, Qt::white, 6));
      g->removeFromLegend();
    }
  }
  if (any_recovered) {  // one legend entry explains every dashed line
    auto* key = addGraph(acc_rect_);
    key->setName("dashed: after quick recovery (channel statistics re-estimated)");
    key->setPen(QPen(QColor(90, 90, 90), 1, Qt::DashLine));
  }
  const double pad = std::max(axis_key_ == "prune_ratio" ? 0.05 : 1.0, (hi - lo) * 0.08);
  for (auto* rect : {acc_rect_, size_rect_, lat_rect_})
    rect->axis(QCPAxis::atBottom)->setRange(lo - pad, hi + pad);
  auto fit = [this](QCPAxisRect* rect, double min_span) {
    QCPRange range;
    bool found = false;
    for (int i = 0; i < plot_->graphCount(); ++i) {
      auto* g = plot_->graph(i);
      if (g->valueAxis() != rect->axis(QCPAxis::atLeft)) continue;
      bool f = false;
      const QCPRange r = g->getValueRange(f);
      if (!f) continue;
      if (found)
        range.expand(r);
      else
        range = r;
      found = true;
    }
    if (!found) range = QCPRange(0, 1);
    const double span = std::max(range.size(), min_span);
    const double mid = range.center();
    rect->axis(QCPAxis::atLeft)->setRange(mid - span * 0.6, mid + span * 0.6);
  };
  fit(acc_rect_, 2.0);
  fit(size_rect_, 0.01);
  fit(lat_rect_, 0.05);
  // The current knob position as a dashed line in every panel.
  if (current_x)
    for (auto* rect : {acc_rect_, size_rect_, lat_rect_}) {
      auto* marker = new QCPItemStraightLine(plot_);
      marker->setClipAxisRect(rect);
      marker->point1->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
      marker->point2->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
      marker->point1->setCoords(*current_x, 0);
      marker->point2->setCoords(*current_x, 1);
      marker->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashLine));
    }
  if (points_.empty() || all.empty()) {
    auto* hint = new QCPItemText(plot_);
    hint->setClipAxisRect(acc_rect_);
    hint->position->setAxisRect(acc_rect_);
    hint->position->setType(QCPItemPosition::ptAxisRectRatio);
    hint->position->setCoords(0.5, 0.5);
    hint->setText(points_.empty() ? "Turn a knob: each measurement adds a point"
                                  : "No point measured uses this knob: choose another x axis");
    hint->setColor(QColor(120, 120, 120));
    hint->setPositionAlignment(Qt::AlignCenter);
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

QString KnobChart::csv() const {
  QString out =
      "series,x_knob,x,size_bytes,latency_ms,accuracy,accuracy_low,accuracy_high,accuracy_count,"
      "recovered_accuracy\n";
  auto opt = [](const auto& v) { return v ? QString::number(*v, 'g', 10) : QString(); };
  for (const auto& s : series()) {
    QString name = s.name;
    name.replace('"', "\"\"");
    for (const auto& [x, p] : s.points) {
      const VariantMetrics& m = p->metrics;
      const std::optional<double> recovered = p->recovered ? p->recovered->accuracy : std::nullopt;
      out += QString("\"%1\",%2,%3,%4,%5,%6,%7,%8,%9,%10\n")
                 .arg(name, QString::fromStdString(axis_key_))
                 .arg(x, 0, 'g', 10)
                 .arg(opt(m.size_bytes), opt(m.latency_ms), opt(m.accuracy), opt(m.accuracy_low),
                      opt(m.accuracy_high), opt(m.accuracy_count), opt(recovered));
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ pareto
std::vector<int> paretoFront(const std::vector<std::pair<double, double>>& pts) {
  std::vector<int> order(pts.size());
  for (size_t i = 0; i < pts.size(); ++i) order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return pts[a].first != pts[b].first ? pts[a].first < pts[b].first : pts[a].second > pts[b].second;
  });
  std::vector<int> front;
  double best_acc = -std::numeric_limits<double>::infinity();
  for (int i : order) {
    if (pts[i].second > best_acc) {
      front.push_back(i);
      best_acc = pts[i].second;
    }
  }
  return front;
}

ParetoChart::ParetoChart(QWidget* parent)
    : ChartWidget("Variants: accuracy vs latency (marker = MB)", parent) {
  setObjectName("pareto-chart");
  plot_->xAxis->setLabel("latency ms (host, batch 1)");
  plot_->yAxis->setLabel("accuracy %");
  plot_->setMouseTracking(true);
  plot_->installEventFilter(this);
  redraw();
}

void ParetoChart::setVariants(const std::vector<Variant>& variants) {
  variants_ = variants;
  if (selected_ >= static_cast<int>(variants_.size())) selected_ = -1;
  redraw();
}

void ParetoChart::setSelected(int index) {
  selected_ = index;
  redraw();
}

std::optional<double> ParetoChart::yOf(const VariantMetrics& m) const {
  if (by_accuracy_) return m.accuracy ? std::optional<double>(100 * *m.accuracy) : std::nullopt;
  return m.size_bytes ? std::optional<double>(*m.size_bytes / 1e6) : std::nullopt;
}

void ParetoChart::redraw() {
  plot_->clearGraphs();
  plot_->clearItems();
  // Without any accuracy (no dataset), size against latency still shows the trade-off.
  by_accuracy_ = std::any_of(variants_.begin(), variants_.end(),
                             [](const Variant& v) { return v.metrics.latency_ms && v.metrics.accuracy; });
  plot_->yAxis->setLabel(by_accuracy_ ? "accuracy %" : "size MB (no dataset: open one for accuracy)");
  std::vector<std::pair<double, double>> pts;  // (latency, higher is better)
  std::vector<int> measured;
  double max_mb = 0;
  for (size_t i = 0; i < variants_.size(); ++i) {
    const auto& m = variants_[i].metrics;
    const auto y = yOf(m);
    if (!m.latency_ms || !y) continue;
    pts.push_back({*m.latency_ms, by_accuracy_ ? *y : -*y});
    measured.push_back(static_cast<int>(i));
    max_mb = std::max(max_mb, m.size_bytes.value_or(0) / 1e6);
  }
  front_.clear();
  for (int k : paretoFront(pts)) front_.push_back(measured[k]);
  if (!front_.empty()) {
    auto* line = plot_->addGraph();
    line->setName("pareto_front");
    line->setPen(QPen(QColor(255, 127, 14), 2, Qt::DashLine));
    QVector<double> x, y;
    for (int i : front_) {
      x << *variants_[i].metrics.latency_ms;
      y << *yOf(variants_[i].metrics);
    }
    line->setData(x, y, true);
    line->setLineStyle(QCPGraph::lsStepLeft);
  }
  for (size_t k = 0; k < measured.size(); ++k) {
    const int i = measured[k];
    const auto& m = variants_[i].metrics;
    auto* g = plot_->addGraph();
    g->setName(QString::fromStdString(variants_[i].name));
    g->setLineStyle(QCPGraph::lsNone);
    const double mb = m.size_bytes.value_or(0) / 1e6;
    // Marker area proportional to MB: diameter ~ sqrt(MB), between 8 and 34 px.
    const double d = max_mb > 0 ? 8 + 26 * std::sqrt(mb / max_mb) : 12;
    const bool on_front = std::find(front_.begin(), front_.end(), i) != front_.end();
    QColor color = on_front ? QColor(255, 127, 14) : QColor(31, 119, 180);
    color.setAlpha(170);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle,
                                       i == selected_ ? QPen(Qt::black, 3) : QPen(color.darker(130), 1),
                                       QBrush(color), d));
    g->addData(*m.latency_ms, *yOf(m));
    auto* label = new QCPItemText(plot_);
    label->position->setCoords(*m.latency_ms, *yOf(m));
    label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
    label->setPadding(QMargins(static_cast<int>(d / 2) + 2, 0, 0, static_cast<int>(d / 2)));
    label->setText(QString::fromStdString(variants_[i].name));
    label->setFont(QFont(font().family(), 8));
    label->setClipToAxisRect(true);
  }
  plot_->rescaleAxes();
  if (measured.empty()) {
    plot_->xAxis->setRange(0, 1);
    plot_->yAxis->setRange(0, 100);
    auto* hint = new QCPItemText(plot_);
    hint->position->setType(QCPItemPosition::ptAxisRectRatio);
    hint->position->setCoords(0.5, 0.5);
    hint->setText("Variants appear here once their latency is measured");
    hint->setColor(QColor(120, 120, 120));
    hint->setPositionAlignment(Qt::AlignCenter);
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const auto pad = [](QCPAxis* axis, double frac, double min_span) {
    QCPRange r = axis->range();
    const double span = std::max(r.size(), min_span);
    axis->setRange(r.center() - span * (0.5 + frac), r.center() + span * (0.5 + frac));
  };
  pad(plot_->xAxis, 0.3, 0.1);
  pad(plot_->yAxis, 0.25, 4.0);
  // Accuracy lives in [0, 100] and sizes above 0; padding must not invent negative values.
  QCPRange y = plot_->yAxis->range();
  if (y.lower < 0) y = QCPRange(0, y.upper - y.lower);
  if (by_accuracy_ && y.upper > 100) y = QCPRange(std::max(0.0, y.lower - (y.upper - 100)), 100);
  plot_->yAxis->setRange(y);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

int ParetoChart::variantAt(const QPointF& pos) const {
  int best = -1;
  double best_d = 18;
  for (size_t i = 0; i < variants_.size(); ++i) {
    const auto& m = variants_[i].metrics;
    const auto y = yOf(m);
    if (!m.latency_ms || !y) continue;
    const double px = plot_->xAxis->coordToPixel(*m.latency_ms), py = plot_->yAxis->coordToPixel(*y);
    const double d = std::hypot(px - pos.x(), py - pos.y());
    if (d < best_d) {
      best_d = d;
      best = static_cast<int>(i);
    }
  }
  return best;
}

bool ParetoChart::eventFilter(QObject* watched, QEvent* event) {
  if (watched == plot_ && event->type() == QEvent::MouseMove) {
    auto* e = static_cast<QMouseEvent*>(event);
    const int i = variantAt(e->position());
    if (i >= 0) {
      const auto& v = variants_[i];
      const auto& m = v.metrics;
      QString tip = QString("<b>%1</b>").arg(QString::fromStdString(v.name).toHtmlEscaped());
      tip += m.accuracy ? QString("<br>accuracy %1%").arg(100 * *m.accuracy, 0, 'f', 2)
                        : QString("<br>accuracy not measured (no dataset)");
      if (m.accuracy_low && m.accuracy_high)
        tip += QString(" (95% CI %1..%2)")
                   .arg(100 * *m.accuracy_low, 0, 'f', 2)
                   .arg(100 * *m.accuracy_high, 0, 'f', 2);
      tip += QString("<br>latency %1 ms<br>size %2")
                 .arg(m.latency_ms.value_or(0), 0, 'f', 3)
                 .arg(QString::fromStdString(formatBytes(m.size_bytes.value_or(0))));
      // Measured on a device (deploy benchmark): its 1-thread median beside the host's numbers.
      if (const auto device_ms = pipeline::deviceLatencyMs(v))
        tip += QString("<br>device %1 ms (median, 1 thread)").arg(*device_ms, 0, 'f', 3);
      QToolTip::showText(e->globalPosition().toPoint(), tip, plot_);
    } else {
      QToolTip::hideText();
    }
  } else if (watched == plot_ && event->type() == QEvent::MouseButtonPress) {
    auto* e = static_cast<QMouseEvent*>(event);
    const int i = variantAt(e->position());
    if (i >= 0) {
      setSelected(i);
      emit variantClicked(i);
    }
  }
  return ChartWidget::eventFilter(watched, event);
}

QString ParetoChart::csv() const {
  QString out = "variant,latency_ms,accuracy,accuracy_low,accuracy_high,size_bytes,on_pareto_front\n";
  auto opt = [](const auto& v) { return v ? QString::number(*v, 'g', 10) : QString(); };
  for (size_t i = 0; i < variants_.size(); ++i) {
    const auto& m = variants_[i].metrics;
    QString name = QString::fromStdString(variants_[i].name);
    name.replace('"', "\"\"");
    const bool on_front = std::find(front_.begin(), front_.end(), static_cast<int>(i)) != front_.end();
    out += QString("\"%1\",%2,%3,%4,%5,%6,%7\n")
               .arg(name, opt(m.latency_ms), opt(m.accuracy), opt(m.accuracy_low), opt(m.accuracy_high),
                    opt(m.size_bytes), on_front ? "1" : "0");
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ training
TrainingChart::TrainingChart(QWidget* parent) : ChartWidget("Training curves", parent) {
  setObjectName("training-chart");
  plot_->xAxis->setLabel("epoch");
  plot_->yAxis->setLabel("loss");
  plot_->yAxis2->setVisible(true);
  plot_->yAxis2->setLabel("accuracy %");
  loss_ = plot_->addGraph(plot_->xAxis, plot_->yAxis);
  loss_->setName("train loss");
  loss_->setPen(QPen(QColor(214, 39, 40), 2));
  acc_ = plot_->addGraph(plot_->xAxis, plot_->yAxis2);
  acc_->setName("validation accuracy");
  acc_->setPen(QPen(QColor(31, 119, 180), 2));
  // Validation accuracy comes once per epoch: markers keep a one- or two-epoch run visible.
  acc_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
  plot_->legend->setVisible(true);
  plot_->xAxis->setRange(0, 1);
}

void TrainingChart::addPoint(double epoch, std::optional<double> loss, std::optional<double> accuracy) {
  if (loss && std::isfinite(*loss)) loss_->addData(epoch, *loss);
  if (accuracy && std::isfinite(*accuracy)) acc_->addData(epoch, 100 * *accuracy);
  plot_->rescaleAxes();
  // Loss starts at 0 so its fall reads true; accuracy keeps the full 0..100 scale.
  const QCPRange loss_range = plot_->yAxis->range();
  plot_->yAxis->setRange(0, std::max(loss_range.upper * 1.05, 1e-3));
  plot_->yAxis2->setRange(0, 100);
  if (plot_->xAxis->range().size() <= 0) plot_->xAxis->setRange(0, std::max(1.0, epoch));
  plot_->replot(QCustomPlot::rpQueuedReplot);  // coalesces a burst of steps into one repaint
  emit pointAdded();
}

void TrainingChart::addStepLosses(const std::vector<std::pair<double, double>>& epoch_loss) {
  if (epoch_loss.empty()) return;
  for (size_t i = 0; i + 1 < epoch_loss.size(); ++i)
    if (std::isfinite(epoch_loss[i].second)) loss_->addData(epoch_loss[i].first, epoch_loss[i].second);
  addPoint(epoch_loss.back().first, epoch_loss.back().second, std::nullopt);  // the last one redraws
}

void TrainingChart::clearPoints() {
  loss_->data()->clear();
  acc_->data()->clear();
  plot_->xAxis->setRange(0, 1);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

int TrainingChart::lossPointCount() const {
  return loss_->data()->size();
}
int TrainingChart::accuracyPointCount() const {
  return acc_->data()->size();
}

std::vector<double> TrainingChart::lossValues() const {
  std::vector<double> out;
  for (auto it = loss_->data()->constBegin(); it != loss_->data()->constEnd(); ++it) out.push_back(it->value);
  return out;
}

std::vector<double> TrainingChart::accuracyValues() const {
  std::vector<double> out;
  for (auto it = acc_->data()->constBegin(); it != acc_->data()->constEnd(); ++it)
    out.push_back(it->value / 100);
  return out;
}

// ------------------------------------------------------------------------------------------------
// sensitivity
SensitivityChart::SensitivityChart(QWidget* parent)
    : ChartWidget("Per-group sensitivity: accuracy vs pruning ratio", parent) {
  setObjectName("sensitivity-chart");
  plot_->xAxis->setLabel("pruning ratio of the group alone");
  plot_->yAxis->setLabel("accuracy %");
  plot_->xAxis->setRange(0, 1);
  plot_->yAxis->setRange(0, 100);
  QFont small = plot_->legend->font();
  small.setPointSizeF(7);
  plot_->legend->setFont(small);
  plot_->legend->setBrush(QColor(255, 255, 255, 170));  // translucent: steep curves stay visible beneath it
  plot_->legend->setVisible(false);
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignLeft | Qt::AlignBottom);
  baseline_line_ = new QCPItemStraightLine(plot_);
  baseline_line_->setPen(QPen(Qt::gray, 1, Qt::DashLine));
  baseline_line_->setVisible(false);
}

void SensitivityChart::clearCurves() {
  plot_->clearGraphs();
  baseline_line_->setVisible(false);
  plot_->legend->setVisible(false);
  result_ = SensitivityResult{};
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

int SensitivityChart::curveCount() const {
  return plot_->graphCount();
}

void SensitivityChart::setResult(const SensitivityResult& result) {
  plot_->clearGraphs();
  result_ = result;
  const int n = static_cast<int>(result.curves.size());
  double lo = 100 * result.baseline_accuracy;
  for (int i = 0; i < n; ++i) {
    const auto& c = result.curves[i];
    auto* g = plot_->addGraph();
    g->setName(QString::fromStdString(c.group));
    // Hues spread over the circle so neighbouring groups stay distinguishable.
    g->setPen(QPen(QColor::fromHsv((i * 360 / std::max(n, 1) + i * 37) % 360, 200, 200), 1.6));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
    // The unpruned point (ratio 0) anchors every line at the baseline.
    g->addData(0, 100 * result.baseline_accuracy);
    for (size_t k = 0; k < c.ratios.size() && k < c.accuracy.size(); ++k) {
      g->addData(c.ratios[k], 100 * c.accuracy[k]);
      lo = std::min(lo, 100 * c.accuracy[k]);
    }
  }
  baseline_line_->point1->setCoords(0, 100 * result.baseline_accuracy);
  baseline_line_->point2->setCoords(1, 100 * result.baseline_accuracy);
  baseline_line_->setVisible(n > 0);
  plot_->legend->setVisible(n > 0 && n <= 24);
  plot_->xAxis->setRange(0, 1);
  plot_->yAxis->setRange(std::max(0.0, lo - 5), std::min(100.0, 100 * result.baseline_accuracy + 5));
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace edgetune::ui
