#pragma once
// GraphLegend: the overlay in the graph view's top-left corner saying what the node colours mean (a list of
// swatches, or the heat scale of a metric with its low and high ends).
#include <QColor>
#include <QString>
#include <QWidget>

#include <utility>
#include <vector>

namespace edgetune::ui {

/// The legend overlay in the view's top-left corner.
class GraphLegend : public QWidget {
 public:
  explicit GraphLegend(QWidget* parent);
  void setEntries(QString title, std::vector<std::pair<QColor, QString>> entries);
  const QString& title() const { return title_; }
  void setGradient(QString title, QString low, QString high);

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  void relayout();
  QString title_, low_, high_;
  std::vector<std::pair<QColor, QString>> entries_;
  bool gradient_ = false;
};

}  // namespace edgetune::ui
