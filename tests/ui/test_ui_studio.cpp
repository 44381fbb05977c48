// The studio end to end (offscreen): open the demo model and Fashion-MNIST, set pruning to 30%, wait for the
// chart's point, apply, export, re-open the exported file; undo/redo, project save/load, recovery file.
#include <QtTest>

#include <QMenu>
#include <QPushButton>
#include <QTableWidget>
#include <QToolTip>
#include <QUndoStack>

#include <qcustomplot.h>
#include <regex>

#include <fstream>

#include "core/passes/canonicalize.h"
#include "core/passes/quantize_passes.h"
#include "core/pipeline/model_card.h"
#include "core/pipeline/node_overlays.h"
#include "core/pipeline/progressive_measurement.h"
#include "core/pipeline/variant_model.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"
#include "tests/tests_common.h"
#include "tests/ui/ui_test_common.h"
#include "ui/charts.h"
#include "ui/dialogs.h"
#include "ui/graph_view.h"
#include "ui/jobs.h"
#include "ui/main_window.h"
#include "ui/panels.h"
#include "ui/tuning_panel.h"

using namespace edgetune;
using namespace edgetune::ui;
using namespace edgetune::pipeline;
using edgetune::zoo::loadModelSource;

class TestUiStudio : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    setScriptedMode(true);
    QCoreApplication::setOrganizationName("EdgeTuneTests");
    QCoreApplication::setApplicationName("test_ui_studio");
  }

  void recipeFromKnobsUsesRegistryNames() {
    const auto& registry = builtinPassRegistry();
    nlohmann::json knobs = {
        {"cleanup", true}, {"prune_method", "prune_channels"}, {"prune_ratio", 0.3}, {"quant_mode", "none"}};
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
    MainWindowOptions options = test::windowOptions(dir.path(), 300);
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

    if (!builtinPassRegistry().contains("prune_channels")) QSKIP("prune_channels pass not built");
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
    QVERIFY(chart->csv().contains(",prune_ratio,0.3,"));

    // Undo/redo of the knob change.
    QVERIFY(window.undoStack()->canUndo());
    window.undoStack()->undo();
    QCOMPARE(tuning->knobs()["prune_ratio"].get<double>(), 0.0);
    window.undoStack()->redo();
    QCOMPARE(tuning->knobs()["prune_ratio"].get<double>(), 0.3);
    QTRY_VERIFY_WITH_TIMEOUT(tuning->liveMetrics().accuracy_count.value_or(0) >= 600, 120000);

    // Apply (Ctrl+Return, the Run menu's shortcut: one owner, so Qt does not find it ambiguous) records a
    // variant with the measured metrics.
    window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QTest::keyClick(&window, Qt::Key_Return, Qt::ControlModifier);
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
    QVERIFY2(window.compareWidget()->summary().contains("changed shape"),
             qPrintable(window.compareWidget()->summary()));
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
    QCOMPARE(Model::load(exported.toStdString()).parameterCount(),
             *applied.metrics.params);  // the file is the variant
    // The studio cleaned it on the way in (here: equal BatchNorm scales of the untrained zoo model merged).
    Model reloaded = Model::load(exported.toStdString());
    PassContext context;
    CanonicalizeOptions keep_bn;
    keep_bn.fold_batchnorm = false;
    canonicalize(reloaded, keep_bn, context);
    QCOMPARE(window.baseline()->parameterCount(), reloaded.parameterCount());

    // A clean close removes the recovery file.
    window.close();
    QVERIFY(!std::filesystem::exists(dir / "recovery.json"));
    // The UI thread stayed responsive while all of this ran (reported, not a timed assertion).
    qInfo("knob->chart %.0f ms, longest UI stall while jobs ran %.0f ms (busy on the UI thread %.1f ms)",
          knob_to_chart_ms, window.stallMonitor()->maxStallWhileJobsMs(),
          window.stallMonitor()->maxBusyStallMs());
    QVERIFY(window.stallMonitor()->beats() > 0);
  }

  void quantExclusionsPickedInTheGraph() {
    if (!builtinPassRegistry().contains("quantize")) QSKIP("quantize pass not built");
    test::TempDir dir;
    MainWindowOptions options = test::windowOptions(dir.path());
    MainWindow window(options);
    window.resize(1400, 900);
    window.show();
    TuningPanel* tuning = window.tuningPanel();
    tuning->measureOptions().latency_runs = 3;
    GraphView* graph = window.graphView();
    QSignalSpy opened(&window, &MainWindow::modelOpened);
    window.openModel(demoZooSource());
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 1, 60000);
    const Model& model = *window.baseline();
    nlohmann::json k = tuning->knobs();
    k["prune_method"] = "none";
    k["quant_mode"] = "weight-only";
    tuning->setKnobs(k, true);
    // Size of the all-int8 recipe, measured by the live job.
    QTRY_VERIFY_WITH_TIMEOUT(tuning->liveKnobs() == tuning->knobs() && tuning->liveMetrics().size_bytes,
                             60000);
    const int64_t all_int8_bytes = *tuning->liveMetrics().size_bytes;

    int conv = -1;
    for (int i = 0; i < model.graph().node_size(); ++i)
      if (model.graph().node(i).name() == "/layer3/layer3.0/conv2/Conv") conv = i;
    QVERIFY(conv >= 0);
    const QString name = QString::fromStdString(model.graph().node(conv).name());

    // Right-click menu of the node: "Exclude from quantization".
    const int undo_before = window.undoStack()->count();
    auto menu = graph->nodeContextMenu(conv);
    auto* exclude = menu->findChild<QAction*>("excludeFromQuantization");
    QVERIFY(exclude);
    QVERIFY(!menu->findChild<QAction*>("includeInQuantization"));
    exclude->trigger();
    QCOMPARE(tuning->quantExcludedNodes(), QStringList{name});
    QCOMPARE(tuning->knobs()["exclude_nodes"], nlohmann::json::array({name.toStdString()}));
    QCOMPARE(window.undoStack()->count(), undo_before + 1);
    QVERIFY(graph->isQuantExcluded(conv));
    QCOMPARE(graph->quantExcludedNodes(), std::vector<int>{conv});
    QCOMPARE(graph->quantExcludedItemCount(), 1);
    // The recipe keeps exactly that node in float: an anchored, escaped name next to the regex field's
    // entries.
    nlohmann::json quant;
    const nlohmann::json recipe = tuning->currentRecipe();
    for (const auto& p : recipe["passes"])
      if (p["pass"] == "quantize") quant = p["options"];
    QVERIFY2(quant.is_object() &&
                 quant["exclude_nodes"] == nlohmann::json::array({exactNameRegex(name.toStdString())}),
             recipe.dump().c_str());
    const Model quantized = applyRecipe(model, tuning->currentRecipe());
    int float_convs = 0, convs = 0;
    for (const auto& n : quantized.graph().node()) {
      if (n.op_type() != "Conv") continue;
      ++convs;
      const auto* w = quantized.initializer(n.input(1));
      if (w && w->data_type() == onnx::TensorProto::FLOAT) {
        ++float_convs;
        QCOMPARE(QString::fromStdString(n.name()), name);
      }
    }
    QVERIFY(convs > 10);
    QCOMPARE(float_convs, 1);
    // The measurement restarted like for any knob: the new size includes the float weights.
    QTRY_VERIFY_WITH_TIMEOUT(tuning->liveKnobs() == tuning->knobs() && tuning->liveMetrics().size_bytes,
                             60000);
    QVERIFY(*tuning->liveMetrics().size_bytes > all_int8_bytes);

    // Undo / redo of the exclusion, with the graph mark following.
    window.undoStack()->undo();
    QVERIFY(tuning->quantExcludedNodes().isEmpty());
    QVERIFY(!graph->isQuantExcluded(conv));
    QCOMPARE(graph->quantExcludedItemCount(), 0);
    window.undoStack()->redo();
    QCOMPARE(tuning->quantExcludedNodes(), QStringList{name});
    QVERIFY(graph->isQuantExcluded(conv));
    if (const QByteArray shots = qgetenv("EDGETUNE_SHOT_DIR"); !shots.isEmpty()) {
      graph->centerOnNode(conv);
      QTest::qWait(200);
      graph->grab().save(QString::fromUtf8(shots) + "/studio_quant_exclusion.png");
    }
    // The menu now offers to include it again.
    QVERIFY(graph->nodeContextMenu(conv)->findChild<QAction*>("includeInQuantization"));

    // Saved with the project.
    const QString project = QString::fromStdString((dir / "q.edgetune.json").string());
    QVERIFY(window.saveProject(project));
    QCOMPARE(Project::load(project.toStdString()).knobs["exclude_nodes"],
             nlohmann::json::array({name.toStdString()}));

    // The inspector's button toggles it back.
    graph->selectNode(conv);
    QPushButton* button = window.inspector()->quantExclusionButton();
    QCOMPARE(button->text(), QString("Include again in quantization"));
    QTest::mouseClick(button, Qt::LeftButton);
    QVERIFY(tuning->quantExcludedNodes().isEmpty());
    QVERIFY(!graph->isQuantExcluded(conv));
    QCOMPARE(button->text(), QString("Exclude from quantization"));

    // Negative: names are matched exactly, metacharacters included.
    const std::regex exact(exactNameRegex("/a.b/Conv(1)"));
    QVERIFY(std::regex_search("/a.b/Conv(1)", exact));
    QVERIFY(!std::regex_search("/axb/Conv(1)", exact));
    QVERIFY(!std::regex_search("/a.b/Conv(1)_2", exact));
    window.jobManager()->cancelAllAndWait();
  }

  void variantsWithTheirOwnModelFile() {
    test::TempDir dir;
    MainWindowOptions options = test::windowOptions(dir.path(), 100);
    MainWindow window(options);
    window.resize(1400, 900);
    window.show();
    window.tuningPanel()->setDebounceMs(3600000);  // no live jobs: this test is about stored variants
    QSignalSpy opened(&window, &MainWindow::modelOpened);
    QSignalSpy data(&window, &MainWindow::datasetOpened);
    window.openDataset("fashion-mnist?limit=200");
    QTRY_VERIFY_WITH_TIMEOUT(data.count() == 1, 60000);
    window.openModel(demoZooSource());
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 1, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(window.project().variants[0].metrics.accuracy.has_value(), 60000);
    if (!builtinPassRegistry().contains("prune_channels")) QSKIP("prune_channels pass not built");

    // A model file no recipe in the variant reproduces (stands in for distilled weights): the baseline
    // pruned.
    const nlohmann::json prune = {{"format", "edgetune-recipe"},
                                  {"version", 1},
                                  {"passes", {{{"pass", "prune_channels"}, {"options", {{"ratio", 0.5}}}}}}};
    const Model trained = applyRecipe(*window.baseline(), prune);
    const auto model_path = dir / "models" / "distilled.onnx";
    std::filesystem::create_directories(model_path.parent_path());
    trained.save(model_path);
    Variant v;
    v.name = "distilled";
    v.recipe = emptyRecipe();  // descriptive only
    v.model_file = model_path.string();
    QSignalSpy measured(&window, &MainWindow::variantMeasured);
    window.addVariant(v);
    QCOMPARE(window.project().variants.size(), size_t{2});
    QCOMPARE(window.variantsPanel()->table()->rowCount(), 2);
    QVERIFY(window.windowTitle().contains("*"));
    QTRY_VERIFY_WITH_TIMEOUT(measured.count() == 1, 60000);
    const Variant stored = window.project().variants[1];
    QCOMPARE(*stored.metrics.params,
             trained.parameterCount());  // the file was measured, not the empty recipe
    QVERIFY(*stored.metrics.params < window.baseline()->parameterCount());
    QVERIFY(stored.metrics.latency_ms && stored.metrics.accuracy);

    // Device benchmarks: the table shows the 1-thread median.
    const nlohmann::json bench = {
        {"device", "pi5"},
        {"results", {{{"threads", 4}, {"median_ms", 1.5}}, {{"threads", 1}, {"median_ms", 5.25}}}}};
    window.attachDeviceBenchmark(1, bench);
    window.attachDeviceBenchmark(7, bench);  // out of range: ignored
    QCOMPARE(window.project().variants[1].device_benchmarks, nlohmann::json::array({bench}));
    QTableWidget* table = window.variantsPanel()->table();
    QCOMPARE(table->item(1, VariantsPanel::ColDeviceMs)->text(), QString("5.250"));
    QCOMPARE(table->item(0, VariantsPanel::ColDeviceMs)->text(), QString("-"));
    QCOMPARE(deviceLatencyMs(window.project().variants[1]).value_or(-1), 5.25);
    Variant no_single_thread;
    no_single_thread.device_benchmarks =
        nlohmann::json::array({{{"results", {{{"threads", 4}, {"median_ms", 1.5}}}}}});
    QVERIFY(!deviceLatencyMs(no_single_thread));

    // The Pareto chart's tooltip for that variant carries the device latency.
    window.showBottomTab("Variants");
    auto* plot = window.paretoChart()->plot();
    plot->replot();
    const QPointF at(plot->xAxis->coordToPixel(*stored.metrics.latency_ms),
                     plot->yAxis->coordToPixel(100 * *stored.metrics.accuracy));
    QMouseEvent move(QEvent::MouseMove, at, plot->mapToGlobal(at), Qt::NoButton, Qt::NoButton,
                     Qt::NoModifier);
    QCoreApplication::sendEvent(plot, &move);
    QTRY_VERIFY_WITH_TIMEOUT(QToolTip::text().contains("device 5.250 ms"), 5000);

    // Selecting it does not load its (descriptive) knobs into the tuning panel.
    const nlohmann::json knobs_before = window.tuningPanel()->knobs();
    window.variantsPanel()->selectVariant(1);
    QCOMPARE(window.tuningPanel()->knobs(), knobs_before);

    // Export and compare build the model from the file.
    const QString exported = QString::fromStdString((dir / "exported.onnx").string());
    QSignalSpy exported_spy(&window, &MainWindow::variantExported);
    window.exportVariant(1, exported);
    QTRY_VERIFY_WITH_TIMEOUT(exported_spy.count() == 1, 60000);
    QCOMPARE(Model::load(exported.toStdString()).parameterCount(), trained.parameterCount());
    QSignalSpy compared(window.compareWidget(), &CompareWidget::compared);
    window.compareVariants(0, 1);
    QTRY_VERIFY_WITH_TIMEOUT(compared.count() == 1, 60000);
    QVERIFY2(!window.compareWidget()->summary().contains(" 0 changed shape"),
             qPrintable(window.compareWidget()->summary()));

    // Saved relative to the project, with the benchmarks; loading restores both.
    const QString project = QString::fromStdString((dir / "p.edgetune.json").string());
    QVERIFY(window.saveProject(project));
    const auto saved = nlohmann::json::parse(readFile(dir / "p.edgetune.json"));
    QCOMPARE(saved["variants"][1]["model_file"].get<std::string>(), std::string("models/distilled.onnx"));
    QCOMPARE(saved["variants"][1]["device_benchmarks"], nlohmann::json::array({bench}));
    QVERIFY(!saved["variants"][0].contains("model_file"));
    MainWindow second(options);
    QSignalSpy second_opened(&second, &MainWindow::modelOpened);
    QVERIFY(second.loadProject(project));
    QTRY_VERIFY_WITH_TIMEOUT(second_opened.count() == 1, 60000);
    QCOMPARE(second.project().variants.size(), size_t{2});
    QCOMPARE(std::filesystem::path(second.project().variants[1].model_file), model_path.lexically_normal());
    QCOMPARE(second.project().variants[1].device_benchmarks, nlohmann::json::array({bench}));
    QCOMPARE(second.variantsPanel()->table()->item(1, VariantsPanel::ColDeviceMs)->text(), QString("5.250"));

    // Negative: a missing model file is one clear error naming it; a malformed benchmark list is rejected.
    Variant missing = v;
    missing.model_file = (dir / "gone.onnx").string();
    try {
      variantModel(*window.baseline(), window.project().variants, missing);
      QFAIL("a missing model file must throw");
    } catch (const edgetune::Error& e) {
      QVERIFY2(QString(e.what()).contains("gone.onnx"), e.what());
    }
    nlohmann::json bad = v.toJson();
    bad["device_benchmarks"] = "fast";
    QVERIFY_THROWS_EXCEPTION(edgetune::Error, Variant::fromJson(bad, "p.json: variants[1]"));
    second.jobManager()->cancelAllAndWait();
    window.jobManager()->cancelAllAndWait();
  }

  // Studio timings on this machine, reported (no wall-clock limits): open + lay out the bundled models, knob
  // change to first chart point (not held back by the debounce), and the longest UI stall while a measurement
  // and a sensitivity sweep run.
  void studioTimings() {
    const QString models = QString(EDGETUNE_RESOURCES_DIR) + "/models/";
    test::TempDir dir;
    MainWindowOptions options = test::windowOptions(dir.path(), 200);
    MainWindow window(options);
    window.resize(1500, 950);
    window.show();
    QSignalSpy opened(&window, &MainWindow::modelOpened);
    QSignalSpy status(&window, &MainWindow::statusChanged);
    for (const char* file : {"bert_spam.onnx", "resnet20_fmnist.onnx"}) {
      const QString path = models + file;
      if (!QFileInfo::exists(path)) {
        qInfo("%s: not present, skipped", file);
        continue;
      }
      window.jobManager()->cancelAllAndWait();
      const int before = opened.count();
      window.openModel(path);
      QTRY_VERIFY_WITH_TIMEOUT(opened.count() == before + 1, 120000);
      QString layout;
      for (const auto& s : status)
        if (s.at(0).toString().startsWith("Opened " + path)) layout = s.at(0).toString();
      qInfo("open %s: %.2f s to the laid-out graph (%d nodes, %d items drawn) [%s]", file,
            window.lastOpenSeconds(), window.baseline()->graph().node_size(),
            window.graphView()->visibleItemCount(), qPrintable(layout));
    }
    if (!QFileInfo::exists(models + "resnet20_fmnist.onnx") ||
        !QFileInfo::exists("/usr/share/datasets/fashion-mnist"))
      QSKIP("bundled ResNet-20 or Fashion-MNIST missing");
    QSignalSpy data(&window, &MainWindow::datasetOpened);
    window.openDataset("fashion-mnist?limit=1000");
    QTRY_VERIFY_WITH_TIMEOUT(data.count() == 1, 60000);
    TuningPanel* tuning = window.tuningPanel();
    tuning->measureOptions().accuracy_limit = 500;
    QTRY_VERIFY_WITH_TIMEOUT(!tuning->measuring(), 120000);
    window.jobManager()->cancelAllAndWait();
    QTest::qWait(tuning->debounceMs() + 50);  // a user's single change, not the tail of the dataset's
    tuning->setPruneRatio(0.3);
    QVERIFY2(tuning->measuring(), "a change after a quiet spell must start its measurement at once");
    QTRY_VERIFY_WITH_TIMEOUT(tuning->lastKnobToChartMs() >= 0, 60000);
    const double knob_to_chart_ms = tuning->lastKnobToChartMs();
    // A change after a quiet spell is measured at once (the debounce only gathers a drag's later changes).
    qInfo("knob change -> first chart point (size, MACs): %.0f ms", knob_to_chart_ms);
    QTRY_VERIFY_WITH_TIMEOUT(!tuning->measuring(), 120000);
    qInfo(
        "knob change -> host latency: %.0f ms, -> first accuracy estimate: %.0f ms (ResNet-20, 30%% "
        "channels)",
        tuning->lastKnobToLatencyMs(), tuning->lastKnobToAccuracyMs());
    QVERIFY(tuning->lastKnobToLatencyMs() >= knob_to_chart_ms);
    QVERIFY(tuning->lastKnobToAccuracyMs() >= 0);

    window.stallMonitor()->reset();
    QSignalSpy ready(&window, &MainWindow::sensitivityReady);
    tuning->setPruneRatio(0.5);
    tuning->measureNow();
    SensitivityOptions sweep;
    sweep.ratios = {0.25, 0.5, 0.75};
    sweep.limit = 300;
    sweep.seed = 1;
    window.runSensitivity(sweep);
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1, 300000);
    QTRY_VERIFY_WITH_TIMEOUT(!tuning->measuring(), 300000);
    qInfo(
        "longest UI stall while a measurement and a sensitivity sweep ran: %.0f ms (overall %.0f ms, busy on "
        "the "
        "UI thread %.1f ms, %lld heartbeats)",
        window.stallMonitor()->maxStallWhileJobsMs(), window.stallMonitor()->maxStallMs(),
        window.stallMonitor()->maxBusyStallMs(), static_cast<long long>(window.stallMonitor()->beats()));
    QVERIFY(window.stallMonitor()->beats() > 0);
    window.jobManager()->cancelAllAndWait();
  }

  void torchExportIsCleanedAndSizedOnTheWayIn() {
    // tiny_bert as torch.onnx wrote it: Identity/Dropout/Constant nodes, dynamic batch and sequence axes.
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path()));
    QSignalSpy opened(&window, &MainWindow::modelOpened);
    QSignalSpy status(&window, &MainWindow::statusChanged);
    const std::string path = test::fixture("torch/tiny_bert.onnx").string();
    window.openModel(QString::fromStdString(path));
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 1, 60000);
    QVERIFY(window.baseline()->graph().node_size() < Model::load(path).graph().node_size());
    bool said = false;
    for (const auto& args : status) said = said || args.at(0).toString().contains("clean: ");
    QVERIFY(said);
    // Latency is timed at the sizes the CLI uses (the model's 64 positions), not at sequence length 1.
    const auto& shapes = window.tuningPanel()->measureOptions().input_shapes;
    QCOMPARE(shapes.dims.at("input_ids"), (std::vector<int64_t>{1, 64}));
    QTRY_VERIFY_WITH_TIMEOUT(window.project().variants.at(0).metrics.latency_ms.has_value(), 60000);
    window.jobManager()->cancelAllAndWait();
  }

  // Quitting or opening another model with unsaved changes asks first: Cancel keeps everything, Save writes
  // the project, Discard goes on; another model is a new project (saving does not replace the old file).
  void unsavedChangesAreNeverDroppedSilently() {
    test::TempDir dir;
    MainWindowOptions options = test::windowOptions(dir.path());
    MainWindow window(options);
    window.show();
    QSignalSpy opened(&window, &MainWindow::modelOpened);
    window.openModel(demoZooSource());
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 1, 60000);
    Variant extra;
    extra.name = "kept";
    extra.recipe = emptyRecipe();
    window.addVariant(extra);
    QVERIFY(window.isModified());

    queueScriptedAnswer("cancel");
    QVERIFY(!window.close());  // the close event was refused
    QVERIFY(window.isVisible());
    QCOMPARE(window.project().variants.size(), size_t{2});

    const QString project = QString::fromStdString((dir / "kept.edgetune.json").string());
    queueScriptedAnswer("save");
    queueScriptedAnswer(project);  // the never-saved project asks where to go
    QVERIFY(window.close());
    QVERIFY(std::filesystem::exists(dir / "kept.edgetune.json"));
    QVERIFY(!window.isModified());
    QVERIFY(readFile(dir / "kept.edgetune.json").find("\"kept\"") != std::string::npos);

    window.show();
    window.addVariant(extra);
    queueScriptedAnswer("discard");
    QVERIFY(window.close());

    // Opening another model starts a new project: its Save asks for a new file instead of replacing kept's.
    QCOMPARE(window.projectPath(), project);
    window.openModel(demoZooSource());
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 2, 60000);
    QCOMPARE(window.project().variants.size(), size_t{1});
    QVERIFY(window.projectPath().isEmpty());
  }

  void datasetRolesKeepTheTestSetForMeasuring() {
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 300));
    window.resize(1400, 900);
    window.show();
    QSignalSpy opened(&window, &MainWindow::modelOpened);
    QSignalSpy data(&window, &MainWindow::datasetOpened);
    QSignalSpy train(&window, &MainWindow::trainingDatasetOpened);
    window.openModel(demoZooSource());
    window.openDataset("fashion-mnist?limit=300");
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 1 && data.count() == 1, 60000);
    QVERIFY2(window.datasetRolesText().contains("(also trains and calibrates)"),
             qPrintable(window.datasetRolesText()));

    // Static INT8 calibrates on the one dataset there is ...
    nlohmann::json knobs = window.tuningPanel()->knobs();
    knobs["quant_mode"] = "static";
    window.tuningPanel()->setKnobs(knobs);
    auto calibrationData = [&] {
      const nlohmann::json recipe = window.tuningPanel()->currentRecipe();  // a range-for would not keep it
      for (const auto& step : recipe["passes"])
        if (step.contains("options") && step["options"].contains("data"))
          return QString::fromStdString(step["options"]["data"].get<std::string>());
      return QString();
    };
    QCOMPARE(calibrationData(), QString("fashion-mnist?limit=300"));

    // ... and on the training set once there is one; accuracy stays measured on the test set.
    window.openTrainingDataset("fashion-mnist:train?limit=300");
    QTRY_VERIFY_WITH_TIMEOUT(train.count() == 1, 60000);
    QVERIFY(window.trainingDataset() != nullptr);
    QVERIFY2(window.datasetRolesText().contains("train: "), qPrintable(window.datasetRolesText()));
    QCOMPARE(calibrationData(), QString("fashion-mnist:train?limit=300"));
    QCOMPARE(window.project().train_dataset_spec, std::string("fashion-mnist:train?limit=300"));
    QVERIFY(window.dataset() != window.trainingDataset());

    // Clearing the role gives it back to the test set.
    window.openTrainingDataset("");
    QVERIFY(window.trainingDataset() == nullptr);
    QVERIFY(window.datasetRolesText().contains("(also trains and calibrates)"));
    QCOMPARE(calibrationData(), QString("fashion-mnist?limit=300"));
  }

  void badModelShowsOneClearError() {
    test::TempDir dir;
    MainWindowOptions options = test::windowOptions(dir.path());
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
