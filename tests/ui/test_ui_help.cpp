// The studio explains itself: every knob of the Tuning and Training docks and every chart has a tip and a
// What's-This text; the Help menu opens the user guide on F1, What's This on Shift+F1, and lists every
// shortcut.
#include <QtTest>

#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QLineEdit>
#include <QPushButton>
#include <QTextBrowser>

#include "tests/tests_common.h"
#include "tests/ui/ui_test_common.h"
#include "ui/charts.h"
#include "ui/help.h"
#include "ui/main_window.h"
#include "ui/train_panel.h"
#include "ui/tuning_panel.h"

using namespace edgetune;
using namespace edgetune::ui;

namespace {

// The controls a user sets, not the line edit inside an editable combo box or a spin box.
std::vector<QWidget*> knobsOf(QWidget* panel) {
  std::vector<QWidget*> out;
  for (QWidget* w : panel->findChildren<QWidget*>()) {
    const bool knob = qobject_cast<QComboBox*>(w) || qobject_cast<QAbstractSpinBox*>(w) ||
                      qobject_cast<QAbstractSlider*>(w) || qobject_cast<QCheckBox*>(w) ||
                      qobject_cast<QLineEdit*>(w) || qobject_cast<QPushButton*>(w);
    const bool inner =
        qobject_cast<QComboBox*>(w->parentWidget()) || qobject_cast<QAbstractSpinBox*>(w->parentWidget());
    const bool scroll_bar = w->inherits("QScrollBar");
    if (knob && !inner && !scroll_bar) out.push_back(w);
  }
  return out;
}

QString describe(QWidget* w) {
  return QString("%1 '%2'").arg(w->metaObject()->className(), w->objectName());
}

}  // namespace

class TestUiHelp : public QObject {
  Q_OBJECT
 private slots:
  void everyKnobAndChartExplainsItself() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    int knobs = 0;
    for (QWidget* panel :
         {static_cast<QWidget*>(window.tuningPanel()), static_cast<QWidget*>(window.trainPanel())})
      for (QWidget* w : knobsOf(panel)) {
        QVERIFY2(!w->toolTip().isEmpty(), qPrintable(describe(w) + " has no tooltip"));
        QVERIFY2(w->whatsThis().size() > w->toolTip().size(),
                 qPrintable(describe(w) + " has no What's This"));
        ++knobs;
      }
    QVERIFY2(knobs >= 25, qPrintable(QString("only %1 knobs found").arg(knobs)));
    for (QWidget* chart :
         {static_cast<QWidget*>(window.knobChart()), static_cast<QWidget*>(window.paretoChart()),
          static_cast<QWidget*>(window.trainingChart()), static_cast<QWidget*>(window.sensitivityChart())}) {
      QVERIFY2(!chart->toolTip().isEmpty(), qPrintable(describe(chart)));
      QVERIFY2(chart->whatsThis().contains("%"), qPrintable(describe(chart) + ": no units"));
    }
  }

  void helpMenuGuideAndShortcuts() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    window.show();
    QCOMPARE(test::action(window, "user-guide-action")->shortcut(), QKeySequence(QKeySequence::HelpContents));
    QCOMPARE(test::action(window, "whats-this-action")->shortcut(), QKeySequence("Shift+F1"));
    test::action(window, "user-guide-action")->trigger();
    auto* guide = window.findChild<QDialog*>("user-guide");
    QVERIFY(guide && guide->isVisible());
    const QString guide_text = guide->findChild<QTextBrowser*>()->toPlainText();
    QVERIFY2(guide_text.contains("Apply (Ctrl+Return) records the current recipe"), qPrintable(guide_text));
    const QString shortcuts = shortcutList(&window);
    QVERIFY2(shortcuts.contains("Ctrl+Return\tApply (record variant)"), qPrintable(shortcuts));
    QVERIFY2(shortcuts.contains("F11\tPresentation mode"), qPrintable(shortcuts));
    test::action(window, "shortcuts-action")->trigger();
    QVERIFY(window.findChild<QDialog*>("keyboard-shortcuts"));
  }
};

QTEST_MAIN(TestUiHelp)
#include "test_ui_help.moc"
