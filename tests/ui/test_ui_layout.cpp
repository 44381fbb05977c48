// The studio on a laptop screen: at 1366 x 768 the window is not forced larger and every primary control is
// on screen and not scrolled away (Apply, the knobs, the charts, the graph, the variants, the status bar);
// View > Reset layout puts moved and closed panels back; presentation mode shows the graph and charts in
// large fonts and gives everything back when it ends.
#include <QtTest>

#include <QApplication>
#include <QDockWidget>
#include <QMenuBar>
#include <QPushButton>
#include <QScrollArea>
#include <QStatusBar>
#include <QTableWidget>
#include <QToolBar>

#include "tests/tests_common.h"
#include "tests/ui/ui_test_common.h"
#include "ui/charts.h"
#include "ui/graph_view.h"
#include "ui/main_window.h"
#include "ui/panels.h"
#include "ui/tuning_panel.h"

using namespace edgetune;
using namespace edgetune::ui;

namespace {

// Shown, wholly inside the window, and not clipped by an ancestor (a scroll area, a squeezed dock).
QString whyNotVisible(QWidget* widget, QWidget& window) {
  if (!widget) return "missing";
  if (!widget->isVisible()) return "hidden";
  const QRect in_window(widget->mapTo(&window, QPoint(0, 0)), widget->size());
  if (!window.rect().contains(in_window))
    return QString("at %1,%2 %3x%4, outside the %5x%6 window")
        .arg(in_window.x())
        .arg(in_window.y())
        .arg(in_window.width())
        .arg(in_window.height())
        .arg(window.width())
        .arg(window.height());
  // Clipped by an ancestor: a scroll area's viewport, a dock or tab too small for it.
  for (QWidget* ancestor = widget->parentWidget(); ancestor && ancestor != &window;
       ancestor = ancestor->parentWidget()) {
    const QRect in_ancestor(widget->mapTo(ancestor, QPoint(0, 0)), widget->size());
    if (!ancestor->rect().contains(in_ancestor))
      return QString("cut off by its %1 (scrolled away or squeezed)")
          .arg(ancestor->metaObject()->className());
  }
  return {};
}

QPushButton* applyButton(MainWindow& window) {
  for (QPushButton* b : window.tuningPanel()->findChildren<QPushButton*>())
    if (b->text().startsWith("Apply")) return b;
  return nullptr;
}

}  // namespace

class TestUiLayout : public QObject {
  Q_OBJECT
 private slots:
  void fitsALaptopScreen() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    const QSize minimum = window.minimumSizeHint();
    QVERIFY2(minimum.width() <= 1366 && minimum.height() <= 768,
             qPrintable(QString("minimum size %1x%2").arg(minimum.width()).arg(minimum.height())));
    window.resize(1366, 768);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.size(), QSize(1366, 768));
    test::maybeShoot(window, "layout-1366x768.png");
    const std::vector<std::pair<const char*, QWidget*>> controls = {
        {"Apply", applyButton(window)},
        {"the tuning knobs", window.tuningPanel()->findChild<QScrollArea*>("tuning-knobs-scroll")},
        {"the live chart", window.knobChart()},
        {"the graph", window.graphView()},
        {"the variants table", window.variantsPanel()->table()},
        {"the status bar", window.statusBar()},
        {"the tool bar", window.findChild<QToolBar*>("main-toolbar")},
        {"the menu bar", window.menuBar()},
    };
    for (const auto& [what, widget] : controls) {
      const QString why = whyNotVisible(widget, window);
      QVERIFY2(why.isEmpty(), qPrintable(QString(what) + ": " + why));
    }
  }

  void resetLayoutPutsPanelsBack() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    window.resize(1366, 768);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* tuning = window.findChild<QDockWidget*>("tuning");
    auto* charts = window.findChild<QDockWidget*>("charts");
    auto* bottom = window.findChild<QDockWidget*>("bottom");
    tuning->close();
    charts->setFloating(true);
    window.addDockWidget(Qt::LeftDockWidgetArea, bottom);
    QVERIFY(!tuning->isVisible());
    test::action(window, "reset-layout-action")->trigger();
    QVERIFY(tuning->isVisible() && !tuning->isFloating());
    QVERIFY(!charts->isFloating());
    QCOMPARE(window.dockWidgetArea(charts), Qt::RightDockWidgetArea);
    QCOMPARE(window.dockWidgetArea(bottom), Qt::BottomDockWidgetArea);
    QCOMPARE(window.dockWidgetArea(tuning), Qt::LeftDockWidgetArea);
    QVERIFY(whyNotVisible(applyButton(window), window).isEmpty());
  }

  void presentationModeShowsTheGraphAndChartsLarge() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    window.resize(1366, 768);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const double font_before = QApplication::font().pointSizeF();
    QAction* presentation = test::action(window, "presentation-action");
    QCOMPARE(presentation->shortcut(), QKeySequence("F11"));
    presentation->trigger();
    QVERIFY(window.presentationMode());
    QCOMPARE(QApplication::font().pointSizeF(), font_before * 1.5);
    QVERIFY(window.graphView()->isVisible());
    QVERIFY(window.knobChart()->isVisible());
    QVERIFY(!window.findChild<QDockWidget*>("tuning")->isVisible());
    QVERIFY(!window.findChild<QDockWidget*>("bottom")->isVisible());
    presentation->trigger();
    QVERIFY(!window.presentationMode());
    QCOMPARE(QApplication::font().pointSizeF(), font_before);
    QTRY_VERIFY(window.findChild<QDockWidget*>("tuning")->isVisible());
    QVERIFY(window.findChild<QDockWidget*>("bottom")->isVisible());
  }
};

QTEST_MAIN(TestUiLayout)
#include "test_ui_layout.moc"
