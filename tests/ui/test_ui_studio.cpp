// The studio end to end (offscreen): open the demo model and Fashion-MNIST, set pruning to 30%, wait for the
// chart's point, apply, export, re-open the exported file; undo/redo, project save/load, recovery file.
#include <QtTest>

#include <QUndoStack>

#include <fstream>

#include "core/util/files.h"
#include "tests/tests_common.h"
#include "ui/charts.h"
#include "ui/dialogs.h"
#include "ui/graph_view.h"
#include "ui/jobs.h"
#include "ui/main_window.h"
#include "ui/panels.h"
#include "ui/tuning_panel.h"
#include "ui/workbench.h"

using namespace edgetune;
using namespace edgetune::ui;

class TestUiStudio : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    setScriptedMode(true);
    QCoreApplication::setOrganizationName("EdgeTuneTests");
    QCoreApplication::setApplicationName("test_ui_studio");
  }

  void recipeFromKnobsUsesRegistryNames() {
    const auto& registry = studioPassRegistry();
    nlohmann::json knobs = {{"cleanup", true}, {"prune_method", "prune_channels"}, {"prune_ratio", 0.3},
                            {"quant_mode", "none"}};
    const auto recipe = recipeFromKnobs(knobs, "fashion-mnist", registry);
    QCOMPARE(recipe["passes"][0]["pass"].get<std::string>(), std::string("cleanup"));
    if (registry.contains("prune_channels")) {
      QCOMPARE(recipe["passes"].size(), size_t{2});
      QCOMPARE(recipe["passes"][1]["options"]["ratio"].get<double>(), 0.3);
    }
    // Ratio 0 adds no pruning pass; a pass the registry does not know is left out.
    knobs["prune_ratio"] = 0.0;
    QCOMPARE(recipeFromKnobs(knobs, "", registry)["passes"].size(), size_t{1});
    PassRegistry empty;
    QCOMPARE(recipeFromKnobs(knobs, "", empty)["passes"].size(), size_t{0});
    // Every recipe the panel makes parses back through the registry.
    Recipe::fromJson(recipe, registry);
  }

  void endToEnd() {
    test::TempDir dir;
    MainWindowOptions options;
    options.offer_recovery = false;
    options.recovery_path = QString::fromStdString((dir / "recovery.json").string());
    options.baseline_accuracy_limit = 300;
    MainWindow window(options);
    window.resize(1400, 900);
    window.show();
    window.tuningPanel()->measureOptions().accuracy_limit = 600;
    window.tuningPanel()->measureOptions().latency_runs = 5;

    QSignalSpy opened(&window, &MainWindow::modelOpened);
    QSignalSpy data(&window, &MainWindow::datasetOpened);
    window.openDataset("fashion-mnist?limit=1000");
    window.openModel(demoZooSource());
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 1, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(data.count() == 1, 60000);
    QVERIFY(window.graphView()->visibleItemCount() > 20);
    QCOMPARE(window.project().variants.size(), size_t{1});

    // Click a node: the inspector shows it.
    window.graphView()->selectNode(0);
    QCOMPARE(window.inspector()->shownNode(), 0);

    if (!studioPassRegistry().contains("prune_channels")) QSKIP("prune_channels pass not built");
    KnobChart* chart = window.knobChart();
    TuningPanel* tuning = window.tuningPanel();
    QTRY_VERIFY_WITH_TIMEOUT(!tuning->measuring() && chart->pointCount() >= 1, 120000);
    const int points_before = chart->pointCount();
    tuning->setPruneRatio(0.3);
    QCOMPARE(tuning->knobs()["prune_ratio"].get<double>(), 0.3);
    // The chart gets its 30% point: size first, then latency and accuracy with an interval.
    QTRY_VERIFY_WITH_TIMEOUT(chart->pointCount() == points_before + 1, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(tuning->lastKnobToChartMs() >= 0, 60000);
    const double knob_to_chart_ms = tuning->lastKnobToChartMs();
    QTRY_VERIFY_WITH_TIMEOUT(tuning->liveMetrics().accuracy_count.value_or(0) >= 600, 120000);
    const auto live = tuning->liveMetrics();
    QVERIFY(*live.accuracy_low <= *live.accuracy && *live.accuracy <= *live.accuracy_high);
    QVERIFY(*live.params < window.baseline()->parameterCount());  // pruning removed weights
    QVERIFY(chart->csv().contains("\n0.3,"));

    // Undo/redo of the knob change.
    QVERIFY(window.undoStack()->canUndo());
    window.undoStack()->undo();
    QCOMPARE(tuning->knobs()["prune_ratio"].get<double>(), 0.0);
    window.undoStack()->redo();
    QCOMPARE(tuning->knobs()["prune_ratio"].get<double>(), 0.3);
    QTRY_VERIFY_WITH_TIMEOUT(tuning->liveMetrics().accuracy_count.value_or(0) >= 600, 120000);

    // Apply records a variant with the measured metrics.
    tuning->apply();
    QCOMPARE(window.project().variants.size(), size_t{2});
    const Variant applied = window.project().variants[1];
    QCOMPARE(*applied.metrics.params, *live.params);
    QVERIFY(applied.metrics.latency_ms.has_value());

    // Export it and re-open the exported file.
    const QString exported = QString::fromStdString((dir / "pruned.onnx").string());
    QSignalSpy exported_spy(&window, &MainWindow::variantExported);
    window.exportVariant(1, exported);
    QTRY_VERIFY_WITH_TIMEOUT(exported_spy.count() == 1, 60000);
    QVERIFY(std::filesystem::exists(dir / "pruned.card.json"));
    const auto card = nlohmann::json::parse(readFile(dir / "pruned.card.json"));
    QCOMPARE(card["variant"].get<std::string>(), applied.name);
    QVERIFY(QString::fromStdString(readFile(dir / "pruned.card.md")).contains("Top-1 accuracy"));

    // Compare baseline with the pruned variant: pruned convs show as changed shapes.
    QSignalSpy compared(window.compareWidget(), &CompareWidget::compared);
    window.compareVariants(0, 1);
    QTRY_VERIFY_WITH_TIMEOUT(compared.count() == 1, 60000);
    QVERIFY2(window.compareWidget()->summary().contains("changed shape"), qPrintable(window.compareWidget()->summary()));
    QVERIFY(!window.compareWidget()->summary().contains(" 0 changed shape"));

    // Project save/load round trip keeps the variants and knobs.
    const QString project = QString::fromStdString((dir / "demo.edgetune.json").string());
    QVERIFY(window.saveProject(project));
    window.autosave();
    window.waitForAutosave();
    QVERIFY(std::filesystem::exists(dir / "recovery.json"));

    MainWindow second(options);
    QSignalSpy second_opened(&second, &MainWindow::modelOpened);
    QVERIFY(second.loadProject(project));
    QTRY_VERIFY_WITH_TIMEOUT(second_opened.count() == 1, 60000);
    QCOMPARE(second.project().variants.size(), size_t{2});
    QCOMPARE(second.project().variants[1].name, applied.name);
    QCOMPARE(second.tuningPanel()->knobs()["prune_ratio"].get<double>(), 0.3);

    // Re-open the exported model in the first window.
    window.openModel(exported);
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 2, 60000);
    QCOMPARE(window.baseline()->parameterCount(), *applied.metrics.params);

    // A clean close removes the recovery file.
    window.close();
    QVERIFY(!std::filesystem::exists(dir / "recovery.json"));
    // The UI thread stayed responsive while all of this ran (reported, not a timed assertion).
    qInfo("knob->chart %.0f ms, longest UI stall while jobs ran %.0f ms (busy on the UI thread %.1f ms)",
          knob_to_chart_ms, window.stallMonitor()->maxStallWhileJobsMs(), window.stallMonitor()->maxBusyStallMs());
    QVERIFY(window.stallMonitor()->beats() > 0);
  }

  void badModelShowsOneClearError() {
    test::TempDir dir;
    MainWindowOptions options;
    options.offer_recovery = false;
    options.recovery_path = QString::fromStdString((dir / "recovery.json").string());
    MainWindow window(options);
    std::ofstream(dir / "junk.onnx") << "this is not a model";
    const QString path = QString::fromStdString((dir / "junk.onnx").string());
    QSignalSpy status(&window, &MainWindow::statusChanged);
    window.openModel(path);
    QTRY_VERIFY_WITH_TIMEOUT(lastScriptedError().contains("junk.onnx"), 30000);
    QVERIFY(window.baseline() == nullptr);
    window.openDataset("idx:/nonexistent/folder?split=test");
    QTRY_VERIFY_WITH_TIMEOUT(lastScriptedError().contains("/nonexistent/folder"), 30000);
    QVERIFY(window.dataset() == nullptr);
  }
};

QTEST_MAIN(TestUiStudio)
#include "test_ui_studio.moc"
