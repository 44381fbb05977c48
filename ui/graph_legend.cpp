#include "ui/graph_legend.h"

#include <QPainter>

#include <algorithm>

#include "ui/graph_colors.h"

namespace edgetune::ui {

GraphLegend::GraphLegend(QWidget* parent) : QWidget(parent) {
  setAttribute(Qt::WA_TransparentForMouseEvents);
}

void GraphLegend::setEntries(QString title, std::vector<std::pair<QColor, QString>> entries) {
  title_ = std::move(title);
  entries_ = std::move(entries);
  gradient_ = false;
  relayout();
}

void GraphLegend::setGradient(QString title, QString low, QString high) {
  title_ = std::move(title);
  low_ = std::move(low);
  high_ = std::move(high);
  gradient_ = true;
  entries_.clear();
  relayout();
}

void GraphLegend::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.setPen(QColor(180, 180, 180));
  p.setBrush(QColor(255, 255, 255, 230));
  p.drawRoundedRect(rect().adjusted(0, 0, -1, -1), 6, 6);
  p.setPen(Qt::black);
  QFont f = font();
  f.setBold(true);
  p.setFont(f);
  p.drawText(QRect(8, 4, width() - 16, 18), Qt::AlignLeft | Qt::AlignVCenter,
             QFontMetrics(f).elidedText(title_, Qt::ElideRight, width() - 16));
  f.setBold(false);
  p.setFont(f);
  if (gradient_) {
    QLinearGradient g(8, 0, width() - 8, 0);
    for (int i = 0; i <= 10; ++i) g.setColorAt(i / 10.0, heatColor(i / 10.0));
    p.setPen(Qt::NoPen);
    p.setBrush(g);
    p.drawRect(QRect(8, 26, width() - 16, 12));
    p.setPen(Qt::black);
    p.drawText(QRect(8, 40, width() - 16, 16), Qt::AlignLeft, low_);
    p.drawText(QRect(8, 40, width() - 16, 16), Qt::AlignRight, high_);
    p.setBrush(QColor(200, 200, 200));
    p.drawRect(QRect(8, 60, 12, 12));
    p.drawText(QRect(26, 58, width() - 30, 16), Qt::AlignLeft | Qt::AlignVCenter, "not measured");
    return;
  }
  int y = 24;
  for (const auto& [color, text] : entries_) {
    p.setPen(color.darker(140));
    p.setBrush(color);
    p.drawRect(QRect(8, y + 2, 12, 12));
    p.setPen(Qt::black);
    p.drawText(QRect(26, y, width() - 30, 16), Qt::AlignLeft | Qt::AlignVCenter, text);
    y += 17;
  }
}

void GraphLegend::relayout() {
  const int rows = gradient_ ? 0 : static_cast<int>(entries_.size());
  int w = 170;
  for (const auto& e : entries_) w = std::max(w, fontMetrics().horizontalAdvance(e.second) + 40);
  // A metric title may carry a note ("'pruned' on pi5", why nothing is colored): wider, up to a limit, then
  // elided.
  QFont bold = font();
  bold.setBold(true);
  const int title_w = QFontMetrics(bold).horizontalAdvance(title_) + 18;
  resize(std::min(std::max(w, title_w), gradient_ ? 460 : 260), gradient_ ? 80 : 28 + rows * 17);
  update();
}

}  // namespace edgetune::ui
