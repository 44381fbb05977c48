#include "ui/graph_node_item.h"

#include <QPainter>
#include <QStyleOptionGraphicsItem>

#include "ui/graph_colors.h"

namespace edgetune::ui {

GraphNodeItem::GraphNodeItem(int item_index, const VisibleItem& item, const QRectF& rect)
    : item_index_(item_index),
      kind_(item.kind),
      rect_(rect),
      label_(QString::fromStdString(item.label)),
      sublabel_(QString::fromStdString(item.sublabel)),
      detail_(QString::fromStdString(item.detail)),
      scope_(QString::fromStdString(item.scope)),
      node_index_(item.node_index) {
  setFlag(ItemIsSelectable);
  setAcceptHoverEvents(true);
  setZValue(1);
}

void GraphNodeItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
  const double lod = option->levelOfDetailFromTransform(p->worldTransform());
  QPen pen(border_, isSelected() ? 3.0 : (highlighted_ ? 3.0 : 1.0));
  if (highlighted_) pen.setColor(QColor(0, 160, 255));
  if (isSelected()) pen.setColor(QColor(20, 20, 20));
  p->setPen(pen);
  p->setBrush(fill_);
  switch (kind_) {
    case VisibleItem::Kind::Group: {
      // A stacked look says "there is more inside".
      p->save();
      p->setBrush(fill_.darker(115));
      p->drawRoundedRect(rect_.translated(4, 4), 8, 8);
      p->restore();
      p->drawRoundedRect(rect_, 8, 8);
      break;
    }
    case VisibleItem::Kind::Input:
    case VisibleItem::Kind::Output:
      p->drawEllipse(rect_);
      break;
    case VisibleItem::Kind::Node:
      p->drawRoundedRect(rect_, 5, 5);
      break;
  }
  if (quant_excluded_ > 0) {
    // Kept in float: a dashed violet frame and an "FP" badge on the top-right corner.
    p->save();
    p->setBrush(Qt::NoBrush);
    p->setPen(QPen(QColor(140, 60, 200), 2.0, Qt::DashLine));
    p->drawRoundedRect(rect_.adjusted(-3, -3, 3, 3), 7, 7);
    const QRectF badge(rect_.right() - 22, rect_.top() - 8, 26, 13);
    p->setPen(Qt::NoPen);
    p->setBrush(QColor(140, 60, 200));
    p->drawRoundedRect(badge, 4, 4);
    if (lod >= 0.35) {
      QFont bf = p->font();
      bf.setPointSizeF(6.5);
      bf.setBold(true);
      p->setFont(bf);
      p->setPen(Qt::white);
      p->drawText(badge, Qt::AlignCenter,
                  kind_ == VisibleItem::Kind::Group ? QString("FP%1").arg(quant_excluded_) : "FP");
    }
    p->restore();
  }
  if (lod < 0.35) return;  // text is unreadable at this zoom; skipping it keeps big graphs smooth
  p->setPen(isLightColor(fill_) ? Qt::black : Qt::white);
  QFont f = p->font();
  f.setPointSizeF(kind_ == VisibleItem::Kind::Group ? 9.5 : 8.5);
  f.setBold(true);
  p->setFont(f);
  // Two lines (op, name), or three when the node reads constants: those are its attributes, not boxes.
  const double line = detail_.isEmpty() ? rect_.height() / 2 : (rect_.height() - 4) / 3;
  const QRectF top = rect_.adjusted(3, 2, -3, -(rect_.height() - 2 - line));
  const QRectF middle(rect_.left() + 3, top.bottom(), rect_.width() - 6, line);
  p->drawText(top, Qt::AlignHCenter | (detail_.isEmpty() ? Qt::AlignBottom : Qt::AlignVCenter), label_);
  f.setBold(false);
  f.setPointSizeF(7.0);
  p->setFont(f);
  p->drawText(middle, Qt::AlignHCenter | (detail_.isEmpty() ? Qt::AlignTop : Qt::AlignVCenter), sublabel_);
  if (detail_.isEmpty()) return;
  f.setPointSizeF(6.2);
  p->setFont(f);
  p->drawText(QRectF(middle.left(), middle.bottom(), middle.width(), line),
              Qt::AlignHCenter | Qt::AlignVCenter, detail_);
}

}  // namespace edgetune::ui
