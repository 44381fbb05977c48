#include "ui/lesson_highlight.h"

#include <QDockWidget>
#include <QEvent>
#include <QPainter>
#include <QScrollArea>
#include <QStackedWidget>
#include <QTabWidget>

namespace edgetune::ui {

LessonHighlight::LessonHighlight(QWidget* parent) : QWidget(parent) {
  setObjectName("lesson-highlight");
  // The student keeps using what the frame points at: clicks go through to the widgets below.
  setAttribute(Qt::WA_TransparentForMouseEvents);
  setFocusPolicy(Qt::NoFocus);
  hide();
}

void LessonHighlight::setTarget(QWidget* target) {
  watch(false);
  target_ = target;
  watch(true);
  follow();
}

void LessonHighlight::watch(bool on) {
  for (const auto& w : watched_)
    if (w) w->removeEventFilter(this);
  watched_.clear();
  if (!on) return;
  // Moving or resizing any ancestor (a dock, a splitter, a scroll area's contents) moves the target without
  // an event on the target itself.
  for (QWidget* w = target_; w; w = w->parentWidget()) {
    w->installEventFilter(this);
    watched_.push_back(w);
  }
}

bool LessonHighlight::eventFilter(QObject* watched, QEvent* event) {
  switch (event->type()) {
    case QEvent::Move:
    case QEvent::Resize:
    case QEvent::Show:
    case QEvent::Hide:
    case QEvent::ParentChange:
    case QEvent::ZOrderChange:
      follow();
      if (event->type() == QEvent::ParentChange) watch(true);  // a dock floated: new ancestors
      break;
    default:
      break;
  }
  return QWidget::eventFilter(watched, event);
}

void LessonHighlight::follow() {
  if (!target_ || !target_->isVisible()) {
    hide();
    return;
  }
  QWidget* window = target_->window();
  if (parentWidget() != window) setParent(window);  // a floating dock is a window of its own
  const QRect over(target_->mapTo(window, QPoint(0, 0)), target_->size());
  const QRect frame = over.adjusted(-kMargin, -kMargin, kMargin, kMargin).intersected(window->rect());
  if (geometry() != frame) setGeometry(frame);
  show();
  raise();
}

void LessonHighlight::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.setRenderHint(QPainter::Antialiasing);
  QPen pen(QColor(255, 120, 0), 3);
  painter.setPen(pen);
  painter.setBrush(QColor(255, 120, 0, 24));  // a faint tint: the target stays readable
  painter.drawRoundedRect(QRectF(rect()).adjusted(1.5, 1.5, -1.5, -1.5), 6, 6);
}

void revealWidget(QWidget* widget) {
  for (QWidget* w = widget; w; w = w->parentWidget()) {
    QWidget* parent = w->parentWidget();
    if (auto* stack = qobject_cast<QStackedWidget*>(parent)) {
      if (auto* tabs = qobject_cast<QTabWidget*>(stack->parentWidget()))
        tabs->setCurrentWidget(w);
      else
        stack->setCurrentWidget(w);
    }
    if (auto* dock = qobject_cast<QDockWidget*>(w)) {
      dock->show();
      dock->raise();  // a tabified dock's tab comes to the front
    }
  }
  for (QWidget* w = widget->parentWidget(); w; w = w->parentWidget())
    if (auto* area = qobject_cast<QScrollArea*>(w)) area->ensureWidgetVisible(widget, 8, 8);
}

}  // namespace edgetune::ui
