#include "ui/charts.h"

#include <qcustomplot.h>
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

namespace edgetune::ui {
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
  auto* bar = new QHBoxLayout;
  auto* label = new QLabel("<b>" + title.toHtmlEscaped() + "</b>", this);
  bar->addWidget(label);
  bar->addStretch();
  bar->addWidget(export_button);
  layout->addLayout(bar);
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
KnobChart::KnobChart(QWidget* parent) : ChartWidget("Accuracy, size and latency vs knob", parent) {
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
  // Align the left margins so the three x axes line up.
  auto* group = new QCPMarginGroup(plot_);
  for (auto* r : {acc_rect_, size_rect_, lat_rect_}) r->setMarginGroup(QCP::msLeft | QCP::msRight, group);
  auto make_graph = [this](QCPAxisRect* rect, const QString& name, const QColor& color) {
    auto* g = plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    g->setName(name);
    g->setPen(QPen(color, 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, Qt::white, 7));
    return g;
  };
  acc_low_ = plot_->addGraph(acc_rect_->axis(QCPAxis::atBottom), acc_rect_->axis(QCPAxis::atLeft));
  acc_low_->setName("accuracy_low");
  acc_low_->setPen(QPen(QColor(31, 119, 180, 60)));
  acc_high_ = plot_->addGraph(acc_rect_->axis(QCPAxis::atBottom), acc_rect_->axis(QCPAxis::atLeft));
  acc_high_->setName("accuracy_high");
  acc_high_->setPen(QPen(QColor(31, 119, 180, 60)));
  acc_high_->setBrush(QColor(31, 119, 180, 50));
  acc_high_->setChannelFillGraph(acc_low_);
  acc_ = make_graph(acc_rect_, "accuracy", QColor(31, 119, 180));
  size_ = make_graph(size_rect_, "size_mb", QColor(44, 160, 44));
  lat_ = make_graph(lat_rect_, "latency_ms", QColor(214, 39, 40));
  setKnobLabel("knob");
  redraw();
}

void KnobChart::setKnobLabel(const QString& label) {
  lat_rect_->axis(QCPAxis::atBottom)->setLabel(label);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void KnobChart::setPoint(double knob, const VariantMetrics& metrics) {
  points_[knob] = metrics;
  redraw();
  emit updated();
}

void KnobChart::setCurrentKnob(double knob) {
  current_knob_ = knob;
  redraw();
}

void KnobChart::clearPoints() {
  points_.clear();
  redraw();
}

void KnobChart::redraw() {
  QVector<double> ak, av, al, ah, sk, sv, lk, lv;
  for (const auto& [k, m] : points_) {
    if (m.accuracy) {
      ak << k;
      av << 100 * *m.accuracy;
      al << 100 * m.accuracy_low.value_or(*m.accuracy);
      ah << 100 * m.accuracy_high.value_or(*m.accuracy);
    }
    if (m.size_bytes) {
      sk << k;
      sv << *m.size_bytes / 1e6;
    }
    if (m.latency_ms) {
      lk << k;
      lv << *m.latency_ms;
    }
  }
  acc_->setData(ak, av, true);
  acc_low_->setData(ak, al, true);
  acc_high_->setData(ak, ah, true);
  size_->setData(sk, sv, true);
  lat_->setData(lk, lv, true);
  double lo = current_knob_, hi = current_knob_;
  for (const auto& [k, m] : points_) {
    lo = std::min(lo, k);
    hi = std::max(hi, k);
  }
  const double pad = std::max(0.05, (hi - lo) * 0.08);
  for (auto* rect : {acc_rect_, size_rect_, lat_rect_}) {
    rect->axis(QCPAxis::atBottom)->setRange(lo - pad, hi + pad);
  }
  auto fit = [](QCPGraph* g, QCPAxisRect* rect, double min_span, QCPGraph* extra_low = nullptr,
                QCPGraph* extra_high = nullptr) {
    bool found = false;
    QCPRange range = g->getValueRange(found);
    if (extra_low) {
      bool f2 = false;
      QCPRange r2 = extra_low->getValueRange(f2);
      if (f2) range.expand(r2);
      r2 = extra_high->getValueRange(f2);
      if (f2) range.expand(r2);
    }
    if (!found) range = QCPRange(0, 1);
    const double span = std::max(range.size(), min_span);
    const double mid = range.center();
    rect->axis(QCPAxis::atLeft)->setRange(mid - span * 0.6, mid + span * 0.6);
  };
  fit(acc_, acc_rect_, 2.0, acc_low_, acc_high_);
  fit(size_, size_rect_, 0.01);
  fit(lat_, lat_rect_, 0.05);
  // The current knob position as a dashed line in every panel.
  for (int i = plot_->itemCount() - 1; i >= 0; --i) plot_->removeItem(i);
  for (auto* rect : {acc_rect_, size_rect_, lat_rect_}) {
    auto* line = new QCPItemStraightLine(plot_);
    line->setClipAxisRect(rect);
    line->point1->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    line->point2->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    line->point1->setCoords(current_knob_, 0);
    line->point2->setCoords(current_knob_, 1);
    line->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashLine));
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

QString KnobChart::csv() const {
  QString out = "knob,size_bytes,latency_ms,accuracy,accuracy_low,accuracy_high,accuracy_count\n";
  auto opt = [](const auto& v) { return v ? QString::number(*v, 'g', 10) : QString(); };
  for (const auto& [k, m] : points_)
    out += QString("%1,%2,%3,%4,%5,%6,%7\n")
               .arg(k, 0, 'g', 10)
               .arg(opt(m.size_bytes), opt(m.latency_ms), opt(m.accuracy), opt(m.accuracy_low),
                    opt(m.accuracy_high), opt(m.accuracy_count));
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

void ParetoChart::redraw() {
  plot_->clearGraphs();
  plot_->clearItems();
  std::vector<std::pair<double, double>> pts;
  std::vector<int> measured;
  double max_mb = 0;
  for (size_t i = 0; i < variants_.size(); ++i) {
    const auto& m = variants_[i].metrics;
    if (!m.latency_ms || !m.accuracy) continue;
    pts.push_back({*m.latency_ms, 100 * *m.accuracy});
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
      y << 100 * *variants_[i].metrics.accuracy;
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
    g->addData(*m.latency_ms, 100 * *m.accuracy);
    auto* label = new QCPItemText(plot_);
    label->position->setCoords(*m.latency_ms, 100 * *m.accuracy);
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
    hint->setText("Variants appear here once their latency and accuracy are measured");
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
  // Accuracy lives in [0, 100]; padding must not invent negative accuracies.
  QCPRange y = plot_->yAxis->range();
  if (y.lower < 0) y = QCPRange(0, y.upper - y.lower);
  if (y.upper > 100) y = QCPRange(std::max(0.0, y.lower - (y.upper - 100)), 100);
  plot_->yAxis->setRange(y);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

int ParetoChart::variantAt(const QPointF& pos) const {
  int best = -1;
  double best_d = 18;
  for (size_t i = 0; i < variants_.size(); ++i) {
    const auto& m = variants_[i].metrics;
    if (!m.latency_ms || !m.accuracy) continue;
    const double px = plot_->xAxis->coordToPixel(*m.latency_ms),
                 py = plot_->yAxis->coordToPixel(100 * *m.accuracy);
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
      QString tip = QString("<b>%1</b><br>accuracy %2%")
                        .arg(QString::fromStdString(v.name).toHtmlEscaped())
                        .arg(100 * m.accuracy.value_or(0), 0, 'f', 2);
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
