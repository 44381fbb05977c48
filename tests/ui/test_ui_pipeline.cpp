// The studio's Pipeline dock, offscreen at 1366x768: File > Open recipe shows the recipe one step a line;
// disabling a step, reordering with Alt+Up (and a move before a step's input refused with the reason), an
// options edit (a typo refused with its key, nothing changed), undo and redo through Edit > Undo; Run all and
// "Run from here" as jobs, the list saying which steps ran and which came from the cache; File > Save recipe
// writes the edited pipeline. Set EDGETUNE_SHOT_DIR to also save screenshots of the dock, the studio and a
// refused options edit.
#include <QtTest>

#include <QAction>
#include <QDockWidget>
#include <QLabel>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QStandardPaths>
#include <QTableWidget>
#include <QUndoStack>

#include <fstream>

#include "core/pipeline/recipe_file.h"
#include "core/util/files.h"
#include "tests/tests_common.h"
#include "tests/ui/ui_test_common.h"
#include "ui/dialogs.h"
#include "ui/jobs.h"
#include "ui/main_window.h"
#include "ui/pipeline_panel.h"
#include "ui/step_options_dialog.h"
#include "ui/tuning_panel.h"

using namespace edgetune;
using namespace edgetune::ui;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using test::action;
using test::maybeShoot;

const char* kModel = "zoo:mlp?input_channels=1&image_size=28";
const char* kDataset = "fashion-mnist?limit=200";

std::vector<std::string> ids(const PipelinePanel& panel) {
  std::vector<std::string> out;
  for (const auto& s : panel.recipe()->steps) out.push_back(s.id);
  return out;
}

QString cell(const PipelinePanel& panel, int row, int column) {
  const QTableWidgetItem* item = panel.table()->item(row, column);
  return item ? item->text() : QString();
}

int rowOf(const PipelinePanel& panel, const std::string& id) {
  const auto all = ids(panel);
  return static_cast<int>(std::find(all.begin(), all.end(), id) - all.begin());
}

// `widget` lies wholly inside `container` (not cut off by a dock too small for it).
void checkInside(QWidget& container, QWidget& widget) {
  const QRect inside(widget.mapTo(&container, QPoint(0, 0)), widget.size());
  QVERIFY2(container.rect().contains(inside), qPrintable(widget.objectName()));
}

}  // namespace

class TestUiPipeline : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    setScriptedMode(true);
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("EdgeTuneTests");
    QCoreApplication::setApplicationName("test_ui_pipeline");
  }

  void editAndRunFromAStep() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 100));
    window.resize(1366, 768);
    window.show();
    test::openModelAndData(window, kDataset, kModel);
    QVERIFY(window.saveProject(QString::fromStdString((dir / "pipe.edgetune.json").string())));

    PipelinePanel* panel = window.pipelinePanel();
    QVERIFY(panel && !panel->hasRecipe());
    QVERIFY(panel->fileLabel()->text().contains("No pipeline"));

    // File > Open recipe: the dock shows it, one step a line.
    const fs::path path = dir / "pipe.yaml";
    {
      std::ofstream out(path);
      out << "format: edgetune-recipe\nversion: 2\nname: pipe\nmodel: \"" << kModel
          << "\"\ndatasets: {test: \"" << kDataset
          << "\"}\nsteps:\n"
             "  - clean: {}\n"
             "  - prune: {method: magnitude, sparsity: 0.5}\n"
             "  - id: int8\n    kind: quantize\n    input: prune\n    options: {mode: dynamic}\n"
             "  - evaluate: {}\n";
    }
    queueScriptedAnswer(QString::fromStdString(path.string()));
    action(window, "open-recipe-action")->trigger();
    QVERIFY(panel->hasRecipe());
    if (auto* dialog = window.findChild<QDialog*>("recipe-run-dialog")) dialog->hide();  // not knobs: offered
    window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QVERIFY(window.pipelineDock()->isVisible());
    QCOMPARE(panel->table()->rowCount(), 4);
    QCOMPARE(cell(*panel, 1, PipelinePanel::kId), QString("prune"));
    QCOMPARE(cell(*panel, 1, PipelinePanel::kKind), QString("prune"));
    QCOMPARE(cell(*panel, 2, PipelinePanel::kInput), QString("prune"));
    QCOMPARE(cell(*panel, 3, PipelinePanel::kInput), QString("int8"));
    QVERIFY(cell(*panel, 1, PipelinePanel::kOptions).contains("sparsity: 0.5"));
    QVERIFY(panel->fileLabel()->text().contains("pipe.yaml"));
    QVERIFY(!panel->fileLabel()->text().contains("modified"));
    // Every control has a tooltip and lies inside the dock, which asks for no more than a third of a 1366x768
    // screen (a tab of the bottom area, it adds only its tab to the window's height).
    const QSize least = panel->minimumSizeHint();
    QVERIFY2(least.width() <= 1366 && least.height() <= 256,
             qPrintable(QString("%1x%2").arg(least.width()).arg(least.height())));
    for (const char* name :
         {"move-up", "move-down", "toggle", "edit-options", "delete", "run-from", "run-all", "show-knobs"}) {
      QPushButton* b = panel->button(name);
      QVERIFY2(b && !b->toolTip().isEmpty(), name);
      checkInside(*panel, *b);
    }
    checkInside(*panel, *panel->table());
    checkInside(*panel, *panel->fileLabel());

    // Disable evaluate with its checkbox.
    panel->table()->item(3, PipelinePanel::kEnabled)->setCheckState(Qt::Unchecked);
    QTRY_VERIFY(!panel->recipe()->steps[3].enabled);
    QVERIFY(panel->fileLabel()->text().contains("modified"));

    // Reorder with Alt+Up: prune above clean, then int8 above clean.
    panel->selectRow(1);
    panel->table()->setFocus();
    QTest::keyClick(panel->table(), Qt::Key_Up, Qt::AltModifier);
    QCOMPARE(ids(*panel), (std::vector<std::string>{"prune", "clean", "int8", "evaluate"}));
    QCOMPARE(panel->currentRow(), 0);
    panel->selectRow(2);
    QTest::keyClick(panel->table(), Qt::Key_Up, Qt::AltModifier);
    QCOMPARE(ids(*panel), (std::vector<std::string>{"prune", "int8", "clean", "evaluate"}));
    QCOMPARE(cell(*panel, 2, PipelinePanel::kInput), QString("int8"));  // clean now follows int8
    // int8 starts from prune: it cannot go above it. Nothing changes, the reason is shown.
    const int undo_count = window.undoStack()->count();
    panel->selectRow(1);
    QVERIFY(!panel->moveStep(-1, -1));
    QCOMPARE(ids(*panel), (std::vector<std::string>{"prune", "int8", "clean", "evaluate"}));
    QVERIFY2(panel->messageLabel()->text().contains("cannot move 'int8' above 'prune'") &&
                 panel->messageLabel()->text().contains("its input"),
             qPrintable(panel->messageLabel()->text()));
    QCOMPARE(window.undoStack()->count(), undo_count);

    // Options: a typo is refused with its key and changes nothing; a good edit is applied.
    StepOptionsDialog* dialog = panel->editOptions(0);
    QVERIFY(dialog && dialog->isVisible());
    QVERIFY(dialog->editor()->toPlainText().contains("sparsity: 0.5"));
    dialog->editor()->setPlainText("method: magnitude\nsparsity: 0.5\nratoi: 3\n");
    dialog->okButton()->click();
    QVERIFY(dialog->isVisible());
    QVERIFY2(dialog->problem().contains("ratoi"), qPrintable(dialog->problem()));
    maybeShoot(*dialog, "pipeline_options_refused.png");
    QCOMPARE(panel->recipe()->steps[0].options, json({{"method", "magnitude"}, {"sparsity", 0.5}}));
    QCOMPARE(window.undoStack()->count(), undo_count);
    dialog->editor()->setPlainText("method: magnitude\nsparsity: 0.25\n");
    QPointer<StepOptionsDialog> closing = dialog;
    dialog->okButton()->click();
    QTRY_VERIFY(!closing || !closing->isVisible());
    QCOMPARE(panel->recipe()->steps[0].options["sparsity"], json(0.25));
    QVERIFY(cell(*panel, 0, PipelinePanel::kOptions).contains("sparsity: 0.25"));

    // Edit > Undo takes back the options, then the move; Redo brings both back.
    QAction* undo = nullptr;
    for (QAction* a : window.findChildren<QAction*>())
      if (a->shortcut() == QKeySequence("Ctrl+Z")) undo = a;
    QVERIFY(undo);
    QVERIFY2(undo->text().contains("pipeline: options of 'prune'"), qPrintable(undo->text()));
    undo->trigger();
    QCOMPARE(panel->recipe()->steps[0].options["sparsity"], json(0.5));
    window.undoStack()->undo();
    QCOMPARE(ids(*panel), (std::vector<std::string>{"prune", "clean", "int8", "evaluate"}));
    window.undoStack()->redo();
    window.undoStack()->redo();
    QCOMPARE(ids(*panel), (std::vector<std::string>{"prune", "int8", "clean", "evaluate"}));
    QCOMPARE(panel->recipe()->steps[0].options["sparsity"], json(0.25));

    // Run all: every enabled step runs, the disabled one is skipped; each step's model becomes a variant.
    QSignalSpy finished(&window, &MainWindow::recipeRunFinished);
    QVERIFY(panel->runAll());
    QVERIFY(!panel->button("run-all")->isEnabled());  // one run at a time from the dock
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 180000);
    QTRY_VERIFY(panel->button("run-all")->isEnabled());
    for (int r = 0; r < 3; ++r)
      QVERIFY2(cell(*panel, r, PipelinePanel::kLastRun).startsWith("ran "),
               qPrintable(cell(*panel, r, PipelinePanel::kLastRun)));
    QCOMPARE(cell(*panel, 3, PipelinePanel::kLastRun), QString("skipped (disabled)"));
    QVERIFY(cell(*panel, 0, PipelinePanel::kAccuracy).endsWith("%"));
    QVERIFY(!cell(*panel, 1, PipelinePanel::kSize).isEmpty());
    const size_t variants = window.project().variants.size();
    QCOMPARE(variants, size_t{4});  // baseline + prune, int8, clean

    // Run from clean: prune and int8 come from the cache (clean does not feed them), clean runs again.
    panel->selectRow(rowOf(*panel, "clean"));
    QVERIFY(panel->button("run-from")->toolTip().contains(": clean ("));
    QSignalSpy started(window.jobManager(), &JobManager::jobStarted);
    panel->button("run-from")->click();
    QCOMPARE(started.count(), 1);
    QVERIFY(started.first().first().value<JobHandle*>()->title().endsWith("from clean"));
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 180000);
    QCOMPARE(cell(*panel, rowOf(*panel, "prune"), PipelinePanel::kLastRun), QString("cached"));
    QCOMPARE(cell(*panel, rowOf(*panel, "int8"), PipelinePanel::kLastRun), QString("cached"));
    QVERIFY(cell(*panel, rowOf(*panel, "clean"), PipelinePanel::kLastRun).startsWith("ran "));
    QCOMPARE(window.project().variants.size(), variants);  // updated, not added again
    QTRY_VERIFY(panel->messageLabel()->text().startsWith("Run finished"));

    // Run from prune: it and what depends on it (int8 through its input, clean through int8) run again.
    // (The options dialog took the activation; offscreen, closing it does not hand it back.)
    window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    panel->table()->setFocus();
    panel->selectRow(rowOf(*panel, "prune"));
    QTest::keyClick(panel->table(), Qt::Key_F6);
    QCOMPARE(started.count(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 3, 180000);
    for (const char* id : {"prune", "int8", "clean"})
      QVERIFY2(cell(*panel, rowOf(*panel, id), PipelinePanel::kLastRun).startsWith("ran "), id);

    maybeShoot(window, "pipeline_studio.png");
    maybeShoot(*window.pipelineDock(), "pipeline_dock.png");

    // An edit clears the results (they described the pipeline before it); undo brings them back.
    QVERIFY(panel->setStepEnabled(rowOf(*panel, "evaluate"), true));
    QVERIFY(cell(*panel, 0, PipelinePanel::kLastRun).isEmpty());
    window.undoStack()->undo();
    QVERIFY(cell(*panel, 0, PipelinePanel::kLastRun).startsWith("ran "));

    // File > Save recipe writes the dock's edited pipeline (not the knobs) and names the file.
    const fs::path saved = dir / "edited.yaml";
    queueScriptedAnswer(QString::fromStdString(saved.string()));
    action(window, "save-recipe-action")->trigger();
    const pipeline::RecipeFile back = pipeline::readRecipeFile(saved);
    QCOMPARE(back.steps.size(), size_t{4});
    QCOMPARE(back.steps[1].id, std::string("int8"));
    QVERIFY(!back.steps[3].enabled);
    QCOMPARE(back.steps[0].options["sparsity"], json(0.25));
    QVERIFY(panel->fileLabel()->text().contains("edited.yaml"));
    QVERIFY(!panel->fileLabel()->text().contains("modified"));

    // Show knobs as pipeline replaces the list with the knobs' recipe; one undo brings the edited one back.
    action(window, "show-knobs-pipeline-action")->trigger();
    QVERIFY(panel->fileLabel()->text().contains("the knobs"));
    QCOMPARE(panel->recipe()->toJson(), window.currentRecipeFile().toJson());
    window.undoStack()->undo();
    QCOMPARE(ids(*panel), (std::vector<std::string>{"prune", "int8", "clean", "evaluate"}));

    // The keyboard: Delete removes a step (refused for one another step starts from), Ctrl+Space toggles.
    panel->table()->setFocus();
    panel->selectRow(0);
    QTest::keyClick(panel->table(), Qt::Key_Delete);
    QCOMPARE(panel->recipe()->steps.size(), size_t{4});
    QVERIFY(panel->messageLabel()->text().contains("cannot delete 'prune'"));
    panel->selectRow(3);
    QTest::keyClick(panel->table(), Qt::Key_Delete);
    QCOMPARE(ids(*panel), (std::vector<std::string>{"prune", "int8", "clean"}));
    panel->selectRow(1);
    QTest::keyClick(panel->table(), Qt::Key_Space, Qt::ControlModifier);
    QVERIFY(!panel->recipe()->steps[1].enabled);
    window.undoStack()->undo();
    window.undoStack()->undo();
    QCOMPARE(ids(*panel), (std::vector<std::string>{"prune", "int8", "clean", "evaluate"}));
    QVERIFY(panel->recipe()->steps[1].enabled);
  }
};

QTEST_MAIN(TestUiPipeline)
#include "test_ui_pipeline.moc"
