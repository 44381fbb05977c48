#pragma once
// LessonPlayer: the Lesson dock. Shows a lesson's title, "step n of N", the step's words and what the studio
// is doing for it; Back / Next (Alt+Left / Alt+Right) move between steps, Close ends the lesson. Entering a
// step runs its actions (LessonActionRunner) and frames the widget it points at (LessonHighlight); leaving it
// removes the frame.
#include <QPointer>
#include <QWidget>

#include "ui/lesson.h"
#include "ui/lesson_highlight.h"

class QLabel;
class QPushButton;
class QTextBrowser;

namespace edgetune::ui {

class LessonActionRunner;
class MainWindow;

class LessonPlayer : public QWidget {
  Q_OBJECT
 public:
  explicit LessonPlayer(MainWindow* window, QWidget* parent = nullptr);
  ~LessonPlayer() override;

  /// Plays `lesson` from its first step (a lesson playing before is closed).
  void play(Lesson lesson);
  bool playing() const { return !lesson_.steps.empty(); }
  const Lesson& lesson() const { return lesson_; }
  /// The step shown (0-based; -1 when no lesson plays).
  int stepIndex() const { return step_; }
  /// The widget the current step points at (null: none, or not found in this studio).
  QWidget* highlightedWidget() const;
  LessonHighlight* highlight() const { return highlight_; }
  LessonActionRunner* actions() const { return actions_; }
  QPushButton* backButton() const { return back_; }
  QPushButton* nextButton() const { return next_; }
  QPushButton* closeButton() const { return close_; }

 public slots:
  void next();
  void back();
  /// Ends the lesson: stops waiting for its actions, removes the frame; emits closed.
  void closeLesson();

 signals:
  void stepEntered(int index);
  void closed();

 private:
  /// Explains the buttons (help_texts.cpp).
  void explainButtons();
  void enter(int index);

  MainWindow* window_;
  Lesson lesson_;
  int step_ = -1;
  std::vector<bool> entered_;  // per step: its one-time jobs already ran in this playthrough
  LessonActionRunner* actions_;
  QPointer<LessonHighlight> highlight_;  // a child of the target's window, not of the dock
  QLabel* title_;
  QLabel* counter_;
  QTextBrowser* text_;
  QLabel* doing_;
  QLabel* problem_;
  QPushButton* back_;
  QPushButton* next_;
  QPushButton* close_;
};

}  // namespace edgetune::ui
