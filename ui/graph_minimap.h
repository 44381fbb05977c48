#pragma once
// GraphMiniMap: the whole graph scene drawn small in a corner of the graph view, the visible area as a frame;
// click or drag to move there.
#include <QGraphicsView>

namespace edgetune::ui {

class GraphMiniMap : public QGraphicsView {
 public:
  /// Shows `scene` (the main view's) and follows `main`'s viewport.
  GraphMiniMap(QGraphicsView* main, QGraphicsScene* scene);
  /// Fits the whole scene again (after a relayout or a resize).
  void refit();

 protected:
  void drawForeground(QPainter* p, const QRectF&) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;

 private:
  QGraphicsView* main_;
};

}  // namespace edgetune::ui
