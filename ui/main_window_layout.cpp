// MainWindow's layout on screens of every size: the first size from the screen it opens on, View > Reset
// layout, and the presentation mode a teacher puts on a projector.
#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QMenu>
#include <QScreen>
#include <QTabWidget>

#include <algorithm>

namespace edgetune::ui {

namespace {

// Presentation mode's fonts: readable from the back of a classroom.
constexpr double kPresentationFontScale = 1.5;

}  // namespace

void MainWindow::fitToScreen() {
  // 1500 x 950 where there is room; on a 1366 x 768 laptop, what its screen leaves after the panels.
  const QScreen* on = screen() ? screen() : QGuiApplication::primaryScreen();
  const QRect available = on ? on->availableGeometry() : QRect(0, 0, 1500, 950);
  resize(std::min(1500, available.width()), std::min(950, available.height()));
}

void MainWindow::placeDocks() {
  const auto place = [this](const char* name, Qt::DockWidgetArea area) {
    QDockWidget* dock = findChild<QDockWidget*>(name);
    if (!dock) return dock;
    dock->setFloating(false);
    addDockWidget(area, dock);  // moves it there if it was elsewhere
    dock->show();
    return dock;
  };
  QDockWidget* tuning = place("tuning", Qt::LeftDockWidgetArea);
  QDockWidget* training = place("training", Qt::LeftDockWidgetArea);
  QDockWidget* inspector = place("inspector", Qt::RightDockWidgetArea);
  QDockWidget* charts = place("charts", Qt::RightDockWidgetArea);
  QDockWidget* bottom = place("bottom", Qt::BottomDockWidgetArea);
  QDockWidget* pipeline = place("pipeline", Qt::BottomDockWidgetArea);
  tabifyDockWidget(tuning, training);
  tabifyDockWidget(inspector, charts);
  if (pipeline) tabifyDockWidget(bottom, pipeline);
  tuning->raise();
  charts->raise();
  bottom->raise();
  resizeDocks({bottom}, {210}, Qt::Vertical);
  resizeDocks({tuning, charts}, {320, 440}, Qt::Horizontal);
}

void MainWindow::resetLayout() {
  if (presentationMode()) setPresentationMode(false);
  placeDocks();
  setStatus("Layout reset", 4000);
}

void MainWindow::setPresentationMode(bool on) {
  if (on == presentationMode()) return;
  if (on) {
    layout_before_presentation_ = saveState();
    font_before_presentation_ = QApplication::font();
    window_state_before_presentation_ = windowState();
    QFont large = font_before_presentation_;
    large.setPointSizeF(large.pointSizeF() * kPresentationFontScale);
    QApplication::setFont(large);
    // The graph (central) and the charts: what the class looks at. Everything else is one F11 away.
    for (QDockWidget* dock : findChildren<QDockWidget*>())
      if (dock->objectName() != "charts") dock->hide();
    if (QDockWidget* charts = findChild<QDockWidget*>("charts")) {
      charts->show();
      charts->raise();
      resizeDocks({charts}, {width() / 2}, Qt::Horizontal);
    }
    showFullScreen();
  } else {
    QApplication::setFont(font_before_presentation_);
    restoreState(layout_before_presentation_);
    layout_before_presentation_.clear();
    setWindowState(window_state_before_presentation_);
  }
  if (presentation_action_->isChecked() != on) presentation_action_->setChecked(on);
}

void MainWindow::addLayoutActions(QMenu* view) {
  view->addSeparator();
  presentation_action_ = view->addAction("&Presentation mode");
  presentation_action_->setObjectName("presentation-action");
  presentation_action_->setCheckable(true);
  presentation_action_->setShortcut(QKeySequence("F11"));
  presentation_action_->setToolTip(
      "Full screen with large fonts, showing only the graph and the charts: for teaching on a projector (F11 "
      "again to leave)");
  connect(presentation_action_, &QAction::toggled, this, &MainWindow::setPresentationMode);
  auto* reset = view->addAction("&Reset layout", this, &MainWindow::resetLayout);
  reset->setObjectName("reset-layout-action");
  reset->setToolTip("Put every panel back where a new window has it");
}

}  // namespace edgetune::ui
