#pragma once
// LessonActionRunner: does what a lesson step asks of the studio, in order, through the MainWindow's public
// API. Opening a model or a dataset, Apply (which waits for the knobs' measurement), a base change and
// training finish later: the runner waits for each before the next action, polling the studio's state, so the
// UI thread never blocks.
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <functional>
#include <vector>

#include "ui/lesson.h"

namespace edgetune::ui {

class MainWindow;

class LessonActionRunner : public QObject {
  Q_OBJECT
 public:
  explicit LessonActionRunner(MainWindow* window, QObject* parent = nullptr);

  /// Starts `actions`, stopping what the previous call still had to do. With `first_time` false only the
  /// repeatable ones run (LessonAction::repeatable: a step entered again does not record a second variant).
  void run(const std::vector<LessonAction>& actions, bool first_time);
  /// Stops waiting and drops the actions not started; jobs already started keep running in the jobs dock.
  void cancel();
  bool busy() const { return !queue_.empty() || static_cast<bool>(waiting_); }

 signals:
  /// What is being done ("opening resnet18_fmnist"); "" once every action is done.
  void doing(const QString& text);
  /// An action could not be done (the rest of the step's actions are dropped).
  void failed(const QString& problem);

 private:
  /// Starts the actions in the queue until one has to wait.
  void proceed();
  /// Starts `action`; returns what it waits for (empty: done at once).
  std::function<bool()> start(const LessonAction& action);
  void poll();

  MainWindow* window_;
  std::vector<LessonAction> queue_;
  std::function<bool()> waiting_;  // true once the running action is done
  QTimer poll_;
  int models_opened_ = 0;    // MainWindow::modelOpened so far
  int datasets_opened_ = 0;  // MainWindow::datasetOpened so far
  int training_opened_ = 0;  // MainWindow::trainingDatasetOpened so far
};

}  // namespace edgetune::ui
