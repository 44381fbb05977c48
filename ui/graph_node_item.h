#pragma once
// GraphNodeItem: one box of the graph drawing (an ONNX node, a collapsed scope, a graph input or output) with
// its fill, selection and highlight outline and the "kept in float" badge.
#include <QColor>
#include <QGraphicsItem>
#include <QRectF>
#include <QString>

#include "ui/graph_model.h"

namespace edgetune::ui {

/// A node, group, input or output box.
class GraphNodeItem : public QGraphicsItem {
 public:
  GraphNodeItem(int item_index, const VisibleItem& item, const QRectF& rect);
  QRectF boundingRect() const override { return rect_.adjusted(-4, -9, 5, 4); }
  void paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) override;

  int itemIndex() const { return item_index_; }
  VisibleItem::Kind kind() const { return kind_; }
  const QString& scope() const { return scope_; }
  int nodeIndex() const { return node_index_; }
  void setFill(const QColor& fill, const QColor& border) {
    fill_ = fill;
    border_ = border;
    update();
  }
  void setHighlighted(bool on) {
    if (highlighted_ == on) return;
    highlighted_ = on;
    update();
  }
  const QRectF& rect() const { return rect_; }
  const QColor& fill() const { return fill_; }
  /// Members kept in float by a quantization exclusion (0 = none; a node item counts 1).
  void setQuantExcluded(int count) {
    if (quant_excluded_ == count) return;
    quant_excluded_ = count;
    update();
  }
  int quantExcluded() const { return quant_excluded_; }

 private:
  int item_index_;
  VisibleItem::Kind kind_;
  QRectF rect_;
  QString label_, sublabel_, detail_, scope_;
  int node_index_;
  QColor fill_ = Qt::white, border_ = Qt::darkGray;
  bool highlighted_ = false;
  int quant_excluded_ = 0;
};

}  // namespace edgetune::ui
