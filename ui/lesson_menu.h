#pragma once
// Help > Lessons: the bundled lessons (resources/lessons/*.json, compiled into the studio) and "Open lesson
// file..." for a teacher's own; the Lesson dock that plays them, made on first use.
#include <QString>
#include <QStringList>

#include "ui/lesson.h"

class QMenu;

namespace edgetune::ui {

class LessonPlayer;
class MainWindow;

/// Adds the Lessons submenu to `help` (before its first separator).
void addLessonsMenu(MainWindow* window, QMenu* help);

/// The bundled lessons' resource paths (":/lessons/NN-name.json"), in their numbered order.
QStringList bundledLessonResources();
/// Reads and checks one bundled lesson; throws Error naming it.
Lesson readBundledLesson(const QString& resource);

/// The Lesson dock's player (the dock is made, beside the Variants and jobs dock, on first use).
LessonPlayer* lessonPlayer(MainWindow* window);
/// Plays `lesson` in the Lesson dock. A lesson that opens a model first settles the project's unsaved
/// changes (Save / Discard / Cancel); false when the user cancelled.
bool playLesson(MainWindow* window, Lesson lesson);
/// Reads lesson file `path` and plays it; a bad file shows one message box naming the file and the problem
/// (and plays nothing). False when nothing plays.
bool playLessonFile(MainWindow* window, const QString& path);

}  // namespace edgetune::ui
