// Lessons (Help > Lessons): every bundled lesson and the README's example parse and point at widgets the
// studio has; the pruning lesson played on the demo sets the knobs on Next, frames the widget it names, goes
// back on Back and removes the frame on Close; bad lesson files are refused with one message naming the file
// and the field.
#include <QtTest>

#include <QDockWidget>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QTextBrowser>
#include <QUndoStack>

#include <algorithm>
#include <fstream>

#include "core/util/error.h"
#include "core/util/files.h"
#include "tests/tests_common.h"
#include "tests/ui/ui_test_common.h"
#include "ui/charts.h"
#include "ui/dialogs.h"
#include "ui/help.h"
#include "ui/lesson.h"
#include "ui/lesson_actions.h"
#include "ui/lesson_highlight.h"
#include "ui/lesson_menu.h"
#include "ui/lesson_player.h"
#include "ui/main_window.h"
#include "ui/panels.h"
#include "ui/tuning_panel.h"

using namespace edgetune;
using namespace edgetune::ui;

namespace {

// The frame covers the widget it points at, in the widget's window.
QString whyNotFramed(LessonHighlight* highlight, QWidget* target) {
  if (!target) return "no target";
  if (!target->isVisible()) return "the target is hidden";
  if (!highlight->isVisible()) return "the frame is hidden";
  if (highlight->parentWidget() != target->window()) return "the frame is in another window";
  const QRect over(target->mapTo(target->window(), QPoint(0, 0)), target->size());
  const QRect frame = highlight->frameRect();
  if (!frame.contains(over.intersected(target->window()->rect())))
    return QString("frame %1,%2 %3x%4 does not cover the target at %5,%6 %7x%8")
        .arg(frame.x())
        .arg(frame.y())
        .arg(frame.width())
        .arg(frame.height())
        .arg(over.x())
        .arg(over.y())
        .arg(over.width())
        .arg(over.height());
  if (frame.width() > over.width() + 2 * LessonHighlight::kMargin + 1 ||
      frame.height() > over.height() + 2 * LessonHighlight::kMargin + 1)
    return "the frame is larger than the target";
  return {};
}

std::string minimalLesson() {
  return R"({"format": "edgetune-lesson", "version": 1, "title": "T", "summary": "S",
             "steps": [{"title": "One", "text": "Look here.", "highlight": "knob-chart",
                        "actions": [{"set_knobs": {"prune_ratio": 0.2}}]}]})";
}

// The message parseLesson gives for `text` (a copy of the minimal lesson edited by the caller).
std::string parseError(const std::string& text) {
  return test::errorOf([&] { parseLesson(text, "teacher.json"); });
}

}  // namespace

class TestUiLessons : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    setScriptedMode(true);
    QCoreApplication::setOrganizationName("EdgeTuneTests");
    QCoreApplication::setApplicationName("test_ui_lessons");
  }

  void everyBundledLessonParses() {
    const QStringList resources = bundledLessonResources();
    QCOMPARE(resources.size(), 4);
    for (const QString& resource : resources) {
      const Lesson lesson = readBundledLesson(resource);  // throws, and fails the test, naming the file
      QVERIFY2(lesson.steps.size() >= 4, qPrintable(resource));
      QVERIFY(!lesson.title.empty() && !lesson.summary.empty());
    }
    // The INT8 lesson says when INT8 is faster, in the words the studio uses.
    std::string int8_text;
    for (const auto& step : readBundledLesson(":/lessons/02-int8-speed.json").steps) int8_text += step.text;
    for (const char* words : {"dot-product", "AVX-512 VNNI", "AVX-VNNI", "AVX2-only", "slower"})
      QVERIFY2(test::contains(int8_text, words), words);
  }

  void enteringAStepAgainRepeatsOnlyWhatRecordsNothing() {
    using Kind = LessonAction::Kind;
    auto action = [](Kind kind, const std::string& value = {}) {
      LessonAction a;
      a.kind = kind;
      a.value = value;
      return a;
    };
    for (const LessonAction& a :
         {action(Kind::OpenDemo), action(Kind::OpenModel, "bert_spam"),
          action(Kind::OpenDataset, "fashion-mnist"), action(Kind::SetKnobs),
          action(Kind::Show, "pareto-chart"), action(Kind::Run, "measure"), action(Kind::Run, "reset_base")})
      QVERIFY2(a.repeatable(), a.describe().c_str());
    for (const LessonAction& a :
         {action(Kind::Run, "apply"), action(Kind::Run, "sensitivity"), action(Kind::Run, "use_as_base"),
          action(Kind::Train), action(Kind::AddVariant, "resnet8_fmnist_distilled")})
      QVERIFY2(!a.repeatable(), a.describe().c_str());
  }

  void readmeExampleLoads() {
    // The README's example, between its "```json" fence after "### Lessons" and the closing fence.
    const std::string readme = readFile(std::filesystem::path(EDGETUNE_SOURCE_DIR) / "README.md");
    const size_t section = readme.find("### Lessons");
    QVERIFY(section != std::string::npos);
    const size_t start = readme.find("```json\n", section);
    QVERIFY(start != std::string::npos);
    const size_t end = readme.find("```", start + 8);
    test::TempDir dir;
    const auto path = dir / "my-lesson.json";
    std::ofstream(path) << readme.substr(start + 8, end - start - 8);
    const Lesson lesson = readLessonFile(path);
    QVERIFY(!lesson.steps.empty());
  }

  void everyTargetIsOneWidgetOfTheStudio() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    for (const std::string& name : lessonTargets()) {
      const auto found = window.findChildren<QWidget*>(QString::fromStdString(name));
      QVERIFY2(found.size() == 1,
               qPrintable(QString("'%1': %2 widgets").arg(name.c_str()).arg(found.size())));
    }
    for (const QString& resource : bundledLessonResources())
      for (const auto& step : readBundledLesson(resource).steps)
        QVERIFY(step.highlight.empty() ||
                std::count(lessonTargets().begin(), lessonTargets().end(), step.highlight) == 1);
    // Help > Lessons lists the four lessons and the file opener.
    auto* lessons = window.menuBar()->findChild<QMenu*>("lessons-menu");
    QVERIFY(lessons);
    int enabled = 0;
    for (QAction* a : lessons->actions())
      if (a->objectName().startsWith("lesson:") && a->isEnabled()) ++enabled;
    QCOMPARE(enabled, 4);
    QVERIFY(test::action(window, "open-lesson-action"));
  }

  void pruningLessonOnTheDemo() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    window.resize(1366, 768);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    TuningPanel* tuning = window.tuningPanel();
    tuning->setDebounceMs(3600000);  // the knobs are what is checked here, not their measurement
    tuning->setPruneRatio(0.1);      // the lesson's first step must put it back to 0

    test::action(window, "lesson:01-pruning-and-recovery.json")->trigger();
    LessonPlayer* player = window.findChild<LessonPlayer*>();
    QVERIFY(player && player->isVisible());
    QCOMPARE(player->stepIndex(), 0);
    QVERIFY(player->findChild<QLabel*>("lesson-step")->text().contains("Step 1 of 7"));
    QVERIFY(player->findChild<QTextBrowser*>("lesson-text")->toPlainText().contains("93.67%"));
    // Step 1 opens the demo (the bundled ResNet-20) and waits for it, then sets its knobs.
    QTRY_VERIFY_WITH_TIMEOUT(window.baseline() && !player->actions()->busy(), 60000);
    QCOMPARE(QString::fromStdString(window.project().model_path), bundledDemoModelPath());
    QCOMPARE(tuning->knobs()["prune_ratio"].get<double>(), 0.0);
    QCOMPARE(tuning->knobs()["prune_method"].get<std::string>(), std::string("prune_channels"));
    QCOMPARE(player->highlightedWidget(), window.findChild<QWidget*>("live-summary"));
    QVERIFY2(whyNotFramed(player->highlight(), player->highlightedWidget()).isEmpty(),
             qPrintable(whyNotFramed(player->highlight(), player->highlightedWidget())));

    // Next (the button): 20% of the channels, the Live chart framed and in front.
    QTest::mouseClick(player->nextButton(), Qt::LeftButton);
    QCOMPARE(player->stepIndex(), 1);
    QCOMPARE(tuning->knobs()["prune_ratio"].get<double>(), 0.2);
    QCOMPARE(player->highlightedWidget(), static_cast<QWidget*>(window.knobChart()));
    QVERIFY2(whyNotFramed(player->highlight(), window.knobChart()).isEmpty(),
             qPrintable(whyNotFramed(player->highlight(), window.knobChart())));
    test::maybeShoot(window, "lesson-pruning-step2.png");
    // The dock sits beside the variants table, not behind it: a step showing the table keeps the lesson on
    // screen, its buttons inside the window.
    revealWidget(window.variantsPanel()->table());
    QVERIFY(window.variantsPanel()->table()->isVisible() && player->isVisible());
    for (QWidget* button : {player->backButton(), player->nextButton(), player->closeButton()})
      QVERIFY(window.rect().contains(QRect(button->mapTo(&window, QPoint(0, 0)), button->size())));

    // The frame follows its widget: the window grows, the chart moves, the frame goes with it.
    window.resize(1500, 900);
    QTRY_VERIFY(whyNotFramed(player->highlight(), window.knobChart()).isEmpty());

    // Next by keyboard (Alt+Right): 30%.
    window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QTest::keyClick(&window, Qt::Key_Right, Qt::AltModifier);
    QCOMPARE(player->stepIndex(), 2);
    QCOMPARE(tuning->knobs()["prune_ratio"].get<double>(), 0.3);
    QCOMPARE(player->highlightedWidget(), window.findChild<QWidget*>("live-summary"));

    // Back (Alt+Left, then the button): the earlier steps' knobs come back; the demo is not reopened.
    QSignalSpy reopened(&window, &MainWindow::modelOpened);
    QTest::keyClick(&window, Qt::Key_Left, Qt::AltModifier);
    QCOMPARE(player->stepIndex(), 1);
    QCOMPARE(tuning->knobs()["prune_ratio"].get<double>(), 0.2);
    QTest::mouseClick(player->backButton(), Qt::LeftButton);
    QCOMPARE(player->stepIndex(), 0);
    QCOMPARE(tuning->knobs()["prune_ratio"].get<double>(), 0.0);
    QVERIFY(!player->backButton()->isEnabled());
    QVERIFY(!player->actions()->busy());
    QCOMPARE(reopened.count(), 0);
    QVERIFY(whyNotFramed(player->highlight(), window.findChild<QWidget*>("live-summary")).isEmpty());
    // Each step is one undoable knob change, as if the student had turned the knob.
    window.undoStack()->undo();
    QCOMPARE(tuning->knobs()["prune_ratio"].get<double>(), 0.2);

    // Presentation mode keeps the lesson beside the graph and the charts, and gives the layout back after.
    test::action(window, "presentation-action")->trigger();
    QVERIFY(window.presentationMode());
    QVERIFY(player->isVisible() && !window.findChild<QDockWidget*>("tuning")->isVisible());
    test::action(window, "presentation-action")->trigger();
    QVERIFY(!window.presentationMode());
    QTRY_VERIFY(window.findChild<QDockWidget*>("tuning")->isVisible() && player->isVisible());

    // Close: the frame goes, the dock hides, the shortcuts are off with it.
    QTest::mouseClick(player->closeButton(), Qt::LeftButton);
    QVERIFY(!player->playing());
    QCOMPARE(player->highlightedWidget(), nullptr);
    QVERIFY(!player->highlight()->isVisible());
    QVERIFY(!window.findChild<QDockWidget*>("lesson")->isVisible());
    QTest::keyClick(&window, Qt::Key_Right, Qt::AltModifier);
    QCOMPARE(player->stepIndex(), -1);
  }

  void shortcutsDoNotClash() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    lessonPlayer(&window);
    const QString shortcuts = shortcutList(&window);
    QVERIFY2(shortcuts.contains("Alt+Right\tLesson: next step"), qPrintable(shortcuts));
    QVERIFY2(shortcuts.contains("Alt+Left\tLesson: previous step"), qPrintable(shortcuts));
    for (const char* keys : {"Alt+Left", "Alt+Right"}) {
      int owners = 0;
      for (const QAction* a : window.findChildren<QAction*>())
        if (a->shortcuts().contains(QKeySequence(keys))) ++owners;
      QVERIFY2(owners == 1, keys);
    }
  }

  void badLessonsNameTheFileAndTheField_data() {
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("message");
    QTest::newRow("invalid JSON") << "\"steps\": ["
                                  << "\"steps\": [["
                                  << "teacher.json: not valid JSON";
    QTest::newRow("unknown action") << "{\"set_knobs\""
                                    << "{\"fly\""
                                    << "steps[0].actions[0]: unknown action 'fly'";
    QTest::newRow("unknown knob")
        << "\"prune_ratio\""
        << "\"prune_speed\""
        << "steps[0].actions[0].set_knobs.prune_speed: unknown knob (accepted: cleanup";
    QTest::newRow("knob out of range") << "0.2}"
                                       << "1.5}"
                                       << "set_knobs.prune_ratio: 1.5 is out of range [0, 0.9]";
    QTest::newRow("missing text") << "\"text\": \"Look here.\","
                                  << ""
                                  << "teacher.json: steps[0].text: missing";
    QTest::newRow("missing title") << "\"title\": \"T\","
                                   << ""
                                   << "teacher.json: title: missing";
    QTest::newRow("wrong type") << "\"title\": \"One\""
                                << "\"title\": 7"
                                << "steps[0].title: must be text, not a number";
    QTest::newRow("unknown field") << "\"summary\""
                                   << "\"summery\""
                                   << "teacher.json: summery: unknown field";
    QTest::newRow("unknown widget") << "\"knob-chart\""
                                    << "\"graph\""
                                    << "steps[0].highlight: unknown widget 'graph'";
    QTest::newRow("unknown job") << "{\"set_knobs\": {\"prune_ratio\": 0.2}}"
                                 << "{\"run\": \"deploy\"}"
                                 << "steps[0].actions[0].run: unknown job 'deploy' (accepted: measure";
    QTest::newRow("unknown model") << "{\"set_knobs\": {\"prune_ratio\": 0.2}}"
                                   << "{\"open_model\": \"gpt5\"}"
                                   << "open_model: no bundled model 'gpt5' (bundled: ";
    QTest::newRow("wrong format") << "edgetune-lesson"
                                  << "edgetune-recipe"
                                  << "teacher.json: format: must be";
  }

  void badLessonsNameTheFileAndTheField() {
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(QString, message);
    std::string text = minimalLesson();
    QVERIFY(parseError(text).empty());
    const size_t at = text.find(from.toStdString());
    QVERIFY2(at != std::string::npos, qPrintable(from));
    text.replace(at, from.toStdString().size(), to.toStdString());
    const std::string error = parseError(text);
    QVERIFY2(test::contains(error, message.toStdString()), error.c_str());
  }

  void limitsOfALesson() {
    // Too many steps, too long a text, a huge file: refused with the limit, never parsed at length.
    nlohmann::json lesson = nlohmann::json::parse(minimalLesson());
    for (size_t i = 0; i < kMaxLessonSteps; ++i) lesson["steps"].push_back(lesson["steps"][0]);
    QVERIFY(test::contains(parseError(lesson.dump()), "teacher.json: steps: 41 steps, more than 40"));
    lesson = nlohmann::json::parse(minimalLesson());
    lesson["steps"][0]["text"] = std::string(kMaxLessonTextChars + 1, 'a');
    QVERIFY(test::contains(parseError(lesson.dump()), "steps[0].text: 3001 characters, more than 3000"));
    QVERIFY(test::contains(parseError(std::string(kMaxLessonBytes + 1, ' ')), "teacher.json: 262145 bytes"));
    QVERIFY(test::contains(parseError("[]"), "a lesson is a JSON object"));
    QVERIFY(test::contains(parseError(""), "not valid JSON"));

    test::TempDir dir;
    const auto huge = dir / "huge.json";
    std::ofstream(huge) << std::string(kMaxLessonBytes + 10, '[');
    const std::string error = test::errorOf([&] { readLessonFile(huge); });
    QVERIFY2(test::contains(error, huge.string()) && test::contains(error, "larger than"), error.c_str());
    QVERIFY(test::contains(test::errorOf([&] { readLessonFile(dir / "missing.json"); }), "missing.json"));
    QVERIFY(test::contains(test::errorOf([&] { readLessonFile(dir.path()); }), "is a directory"));
  }

  void aBadFileShowsOneMessageAndPlaysNothing() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    const auto bad = dir / "bad-lesson.json";
    std::string text = minimalLesson();
    text.replace(text.find("\"prune_ratio\""), 13, "\"prune_speed\"");
    std::ofstream(bad) << text;
    queueScriptedAnswer(QString::fromStdString(bad.string()));
    test::action(window, "open-lesson-action")->trigger();
    const QString error = lastScriptedError();
    QVERIFY2(error.contains(QString::fromStdString(bad.string())) && error.contains("prune_speed"),
             qPrintable(error));
    auto* player = window.findChild<LessonPlayer*>();
    QVERIFY(!player || !player->playing());

    // A good file from disk plays (a teacher's own lesson).
    const auto good = dir / "good-lesson.json";
    std::ofstream(good) << minimalLesson();
    QVERIFY(playLessonFile(&window, QString::fromStdString(good.string())));
    QVERIFY(lessonPlayer(&window)->playing());
    QCOMPARE(window.tuningPanel()->knobs()["prune_ratio"].get<double>(), 0.2);
  }
};

QTEST_MAIN(TestUiLessons)
#include "test_ui_lessons.moc"
