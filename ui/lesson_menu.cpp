#include "ui/lesson_menu.h"

#include <QAction>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QMenu>

#include <algorithm>

#include "core/util/error.h"
#include "ui/dialogs.h"
#include "ui/lesson_player.h"
#include "ui/main_window.h"

namespace edgetune::ui {

QStringList bundledLessonResources() {
  QStringList out;
  for (const QString& name : QDir(":/lessons").entryList({"*.json"}, QDir::Files, QDir::Name))
    out << ":/lessons/" + name;
  return out;
}

Lesson readBundledLesson(const QString& resource) {
  QFile file(resource);
  if (!file.open(QIODevice::ReadOnly)) throw Error(resource.toStdString() + ": not in this build");
  // A resource cannot be a FIFO or grow, but the parser still checks the size.
  const QByteArray bytes = file.read(static_cast<qint64>(kMaxLessonBytes) + 1);
  return parseLesson(bytes.toStdString(), resource.toStdString());
}

LessonPlayer* lessonPlayer(MainWindow* window) {
  if (auto* player = window->findChild<LessonPlayer*>()) return player;
  auto* dock = new QDockWidget("Lesson", window);
  dock->setObjectName("lesson");
  // The lesson ends with its Close button (which also removes the frame), not with the dock's own X.
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
  auto* player = new LessonPlayer(window, dock);
  dock->setWidget(player);
  // Beside the Variants and jobs tabs, not over the knobs or charts a lesson points at, nor as one more tab
  // of them (a step that shows the variants table would then hide the lesson). splitDockWidget cannot do
  // that: a dock split from a tabbed one joins its tabs.
  window->addDockWidget(Qt::BottomDockWidgetArea, dock, Qt::Horizontal);
  if (auto* bottom = window->findChild<QDockWidget*>("bottom"))
    window->resizeDocks({bottom, dock}, {window->width() / 2, window->width() / 2}, Qt::Horizontal);
  QObject::connect(player, &LessonPlayer::closed, dock, &QDockWidget::hide);
  // Presentation mode (F11) keeps only the graph and the charts; a lesson shown on a projector needs its
  // steps too. Connected after the window's own handler, so this runs once the other docks are hidden.
  if (QAction* presentation = window->presentationAction())
    QObject::connect(presentation, &QAction::toggled, dock, [dock, player](bool on) {
      if (on && player->playing()) dock->show();
    });
  return player;
}

bool playLesson(MainWindow* window, Lesson lesson) {
  const bool opens_model = std::any_of(lesson.steps.begin(), lesson.steps.end(), [](const LessonStep& s) {
    return std::any_of(s.actions.begin(), s.actions.end(), [](const LessonAction& a) {
      return a.kind == LessonAction::Kind::OpenDemo || a.kind == LessonAction::Kind::OpenModel;
    });
  });
  if (opens_model && window->isModified()) {
    switch (askUnsavedChanges(window, "starting the lesson (it opens another model)")) {
      case UnsavedAnswer::Save: {
        QString path = window->projectPath();
        if (path.isEmpty())
          path = askSaveFile(window, "Save project", "project.edgetune.json", "EdgeTune projects (*.json)");
        if (path.isEmpty() || !window->saveProject(path)) return false;
        break;
      }
      case UnsavedAnswer::Discard:
        break;
      case UnsavedAnswer::Cancel:
        return false;
    }
  }
  LessonPlayer* player = lessonPlayer(window);
  auto* dock = qobject_cast<QDockWidget*>(player->parentWidget());
  if (dock) {
    dock->show();
    dock->raise();
  }
  player->play(std::move(lesson));
  return true;
}

bool playLessonFile(MainWindow* window, const QString& path) {
  Lesson lesson;
  try {
    lesson = readLessonFile(path.toStdString());
  } catch (const std::exception& e) {
    showError(window, "Cannot open the lesson", QString::fromStdString(e.what()));
    return false;
  }
  return playLesson(window, std::move(lesson));
}

void addLessonsMenu(MainWindow* window, QMenu* help) {
  auto* lessons = new QMenu("&Lessons", help);
  lessons->setObjectName("lessons-menu");
  for (const QString& resource : bundledLessonResources()) {
    QAction* action = lessons->addAction(QFileInfo(resource).baseName());
    action->setObjectName("lesson:" + QFileInfo(resource).fileName());
    try {
      const Lesson lesson = readBundledLesson(resource);
      action->setText(QString::fromStdString(lesson.title).replace('&', "&&"));
      action->setToolTip(QString::fromStdString(lesson.summary));
      action->setStatusTip(QString::fromStdString(lesson.summary));
      QObject::connect(action, &QAction::triggered, window, [window, lesson] { playLesson(window, lesson); });
    } catch (const std::exception& e) {
      // A bundled lesson is checked by test_ui_lessons; should one still be broken, say so in the menu.
      action->setEnabled(false);
      action->setToolTip(QString::fromStdString(e.what()));
    }
  }
  lessons->addSeparator();
  QAction* open = lessons->addAction("&Open lesson file...", window, [window] {
    const QString path = askOpenFile(window, "Open lesson", "EdgeTune lessons (*.json);;All files (*)");
    if (!path.isEmpty()) playLessonFile(window, path);
  });
  open->setObjectName("open-lesson-action");
  QAction* before = nullptr;
  for (QAction* a : help->actions())
    if (a->isSeparator()) {
      before = a;
      break;
    }
  help->insertMenu(before, lessons);
}

}  // namespace edgetune::ui
