#pragma once
// LessonHighlight: a coloured frame drawn over the widget a lesson step points at. It is a child of the
// target's window, above the other widgets and transparent to the mouse (the student can still use the
// target), and follows the target as it moves, resizes, hides or changes tab.
#include <QPointer>
#include <QWidget>

namespace edgetune::ui {

class LessonHighlight : public QWidget {
  Q_OBJECT
 public:
  explicit LessonHighlight(QWidget* parent = nullptr);

  /// Points at `target` (null: hides the frame). The frame shows while the target is visible.
  void setTarget(QWidget* target);
  QWidget* target() const { return target_; }
  /// The frame's rectangle in its window's coordinates (empty while hidden).
  QRect frameRect() const { return isVisible() ? geometry() : QRect(); }

  /// How far the frame reaches outside the target, in pixels.
  static constexpr int kMargin = 4;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  /// Places the frame over the target (or hides it) and raises it above its siblings.
  void follow();
  void watch(bool on);

  QPointer<QWidget> target_;
  QList<QPointer<QWidget>> watched_;  // the target and its ancestors: their moves move the target
};

/// Brings `widget` in front: selects the tabs that hold it, shows and raises the docks it is in, scrolls it
/// into view in scroll areas.
void revealWidget(QWidget* widget);

}  // namespace edgetune::ui
