#pragma once
// The studio explains itself: a short tip and a longer What's-This text on every knob and chart, the Help
// menu (user guide on F1, What's This on Shift+F1, the keyboard shortcuts).
#include <QString>

class QMainWindow;
class QMenu;
class QWidget;

namespace edgetune::ui {

/// Gives `widget` a tooltip (one line: what it is) and a What's-This text (what it does, what it costs, what
/// to expect), shown by Shift+F1 then a click.
void explain(QWidget* widget, const QString& tip, const QString& whats_this);

class KnobChart;
class ParetoChart;
class TrainingChart;
class SensitivityChart;

/// The charts' tooltips and What's-This texts (help_texts.cpp): what each shows, in which units, and how to
/// read it.
void explainCharts(KnobChart* live, ParetoChart* pareto, TrainingChart* training,
                   SensitivityChart* sensitivity);

/// Fills the Help menu: User guide (F1), What's This (Shift+F1), Keyboard shortcuts, About.
void addHelpMenu(QMainWindow* window);

/// Every action of `window` that has a shortcut, as "shortcut  text" lines sorted by text.
QString shortcutList(const QWidget* window);

}  // namespace edgetune::ui
