#include "ui/graph_minimap.h"

#include <QMouseEvent>
#include <QWheelEvent>

namespace edgetune::ui {

GraphMiniMap::GraphMiniMap(QGraphicsView* main, QGraphicsScene* scene)
    : QGraphicsView(scene, main), main_(main) {
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setInteractive(false);
  setRenderHint(QPainter::Antialiasing, false);
  setFrameShape(QFrame::Box);
  setStyleSheet("background: rgba(250,250,250,235);");
  setCursor(Qt::PointingHandCursor);
}

void GraphMiniMap::refit() {
  if (!scene()) return;
  fitInView(scene()->sceneRect(), Qt::KeepAspectRatio);
  viewport()->update();
}

void GraphMiniMap::drawForeground(QPainter* p, const QRectF&) {
  const QRectF visible = main_->mapToScene(main_->viewport()->rect()).boundingRect();
  p->setPen(QPen(QColor(0, 120, 215), 0));
  p->setBrush(QColor(0, 120, 215, 40));
  p->drawRect(visible);
}

void GraphMiniMap::mousePressEvent(QMouseEvent* e) {
  main_->centerOn(mapToScene(e->pos()));
}

void GraphMiniMap::mouseMoveEvent(QMouseEvent* e) {
  if (e->buttons() & Qt::LeftButton) main_->centerOn(mapToScene(e->pos()));
}

void GraphMiniMap::wheelEvent(QWheelEvent* e) {
  e->accept();
}

}  // namespace edgetune::ui
