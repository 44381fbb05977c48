// Structured pruning in the studio (offscreen): the per-layer group table (ratio overrides, locks, undo),
// group highlighting in the graph, and the sensitivity sweep job with its chart and overlay. Set
// EDGETUNE_SHOT_DIR to also save a screenshot of the main window with the table and the sensitivity chart.
#include <QtTest>

#include <QLabel>

#include <QTableWidget>
#include <QUndoStack>

#include <cmath>
#include <set>

#include <qcustomplot.h>

#include "core/passes/prune_channels.h"
#include "core/pipeline/model_card.h"
#include "core/pipeline/node_overlays.h"
#include "core/pipeline/progressive_measurement.h"
#include "core/pipeline/variant_model.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"
#include "tests/tests_common.h"
#include "tests/ui/ui_test_common.h"
#include "ui/charts.h"
#include "ui/dialogs.h"
#include "ui/graph_view.h"
#include "ui/jobs.h"
#include "ui/main_window.h"
#include "ui/tuning_panel.h"

using namespace edgetune;
using namespace edgetune::ui;
using namespace edgetune::pipeline;
using edgetune::zoo::loadModelSource;
using nlohmann::json;

namespace {
std::vector<PruneGroup> prunableGroups(const Model& m) {
  std::vector<PruneGroup> out;
  for (auto& g : findPruneGroups(m))
    if (g.prunable) out.push_back(std::move(g));
  return out;
}
// Output channels of node `name`'s weight (its input 1), or -1 if the node or weight is missing.
int64_t outChannels(const Model& m, const std::string& name) {
  for (const auto& n : m.graph().node())
    if (n.name() == name && n.input_size() > 1)
      if (const auto* w = m.initializer(n.input(1))) return w->dims(0);
  return -1;
}
// The prune_channels pass's options in `recipe`, or null when the recipe has no such pass.
json prunePassOptions(const json& recipe) {
  for (const auto& p : recipe["passes"])
    if (p["pass"] == "prune_channels") return p["options"];
  return nullptr;
}
std::set<int> nodeIndices(const Model& m, const std::vector<std::string>& names) {
  std::set<int> out;
  for (int i = 0; i < m.graph().node_size(); ++i)
    if (std::find(names.begin(), names.end(), m.graph().node(i).name()) != names.end()) out.insert(i);
  return out;
}
}  // namespace

class TestUiPruning : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    setScriptedMode(true);
    QCoreApplication::setOrganizationName("EdgeTuneTests");
    QCoreApplication::setApplicationName("test_ui_pruning");
    baseline_ = std::make_shared<Model>(loadModelSource(demoZooSource().toStdString()));
  }

  void tableRowsAreThePrunableGroups() {
    JobManager jobs;
    QUndoStack undo;
    TuningPanel panel(&jobs, &undo, nullptr);
    QCOMPARE(panel.pruneGroupTable()->rowCount(), 0);  // no model yet
    panel.setDebounceMs(3600000);                      // no measurement jobs: this test is about the table
    const int undo_before = undo.count();
    panel.setContext(baseline_, nullptr, "");
    const auto expected = prunableGroups(*baseline_);
    QVERIFY(expected.size() >= 3);
    QCOMPARE(panel.pruneGroupTable()->rowCount(), static_cast<int>(expected.size()));
    for (size_t i = 0; i < expected.size(); ++i) {
      QCOMPARE(panel.pruneGroups()[i].id, expected[i].id);
      QCOMPARE(panel.pruneGroupTable()->item(static_cast<int>(i), TuningPanel::ColUnits)->text().toLongLong(),
               expected[i].units);
      QVERIFY(panel.pruneGroupTable()
                  ->item(static_cast<int>(i), TuningPanel::ColGroup)
                  ->toolTip()
                  .contains(QString::fromStdString(expected[i].id)));
    }
    // A fresh model's table is no undoable edit, and the default knobs carry no per-layer state.
    QCOMPARE(undo.count(), undo_before);
    QVERIFY(panel.knobs()["group_ratios"].empty());
    QVERIFY(panel.knobs()["locked_groups"].empty());
    jobs.cancelAllAndWait();
  }

  // A project's knobs are set before its model is open (load order); the table picks them up once it is.
  void groupKnobsSetBeforeTheModelApplyOnOpen() {
    JobManager jobs;
    QUndoStack undo;
    TuningPanel panel(&jobs, &undo, nullptr);
    panel.setDebounceMs(3600000);
    const auto groups = prunableGroups(*baseline_);
    json k = panel.knobs();
    k["group_ratios"] = {{groups[1].id, 0.4}};
    k["locked_groups"] = {groups[2].id};
    panel.setKnobs(k, false);
    panel.setContext(baseline_, nullptr, "");
    QCOMPARE(panel.pruneGroupTable()->item(1, TuningPanel::ColRatio)->text(), QString("40"));
    QCOMPARE(panel.pruneGroupTable()->item(2, TuningPanel::ColLock)->checkState(), Qt::Checked);
    QCOMPARE(panel.knobs()["group_ratios"], k["group_ratios"]);
    QCOMPARE(panel.knobs()["locked_groups"], k["locked_groups"]);
    // recipeFromKnobs: locks become ratio 0 and win over overrides; a lock alone (nothing pruned) adds no
    // pass.
    json only_lock = {
        {"prune_method", "prune_channels"}, {"prune_ratio", 0.0}, {"locked_groups", {groups[0].id}}};
    QVERIFY(prunePassOptions(recipeFromKnobs(only_lock, "", builtinPassRegistry())).is_null());
    only_lock["prune_ratio"] = 0.2;
    QCOMPARE(
        prunePassOptions(recipeFromKnobs(only_lock, "", builtinPassRegistry()))["per_group"][groups[0].id]
            .get<double>(),
        0.0);
    jobs.cancelAllAndWait();
  }

  void editingARatioChangesTheRecipeAndUndoRestoresIt() {
    JobManager jobs;
    QUndoStack undo;
    TuningPanel panel(&jobs, &undo, nullptr);
    panel.setDebounceMs(3600000);
    panel.setContext(baseline_, nullptr, "");
    QCOMPARE(panel.knobs()["prune_method"].get<std::string>(), std::string("prune_channels"));
    const std::string id = panel.pruneGroups()[1].id;
    QVERIFY(prunePassOptions(panel.currentRecipe()).is_null());  // global ratio 0: nothing pruned yet
    const int undo_before = undo.count();

    panel.pruneGroupTable()->item(1, TuningPanel::ColRatio)->setText("50%");
    QCOMPARE(panel.knobs()["group_ratios"][id].get<double>(), 0.5);
    QCOMPARE(panel.pruneGroupTable()->item(1, TuningPanel::ColRatio)->text(), QString("50"));  // normalized
    const json o = prunePassOptions(panel.currentRecipe());
    QVERIFY(o.is_object());
    QCOMPARE(o["per_group"][id].get<double>(), 0.5);
    QCOMPARE(o["per_group"].size(), size_t{1});
    QCOMPARE(undo.count(), undo_before + 1);
    // The recipe is valid for the pass: it applies and prunes that group's producer.
    const Model pruned = applyRecipe(*baseline_, panel.currentRecipe());
    const std::string producer = panel.pruneGroups()[1].producers.front();
    QVERIFY(outChannels(pruned, producer) < outChannels(*baseline_, producer));

    undo.undo();
    QVERIFY(prunePassOptions(panel.currentRecipe()).is_null());
    QVERIFY(panel.knobs()["group_ratios"].empty());
    QCOMPARE(panel.pruneGroupTable()->item(1, TuningPanel::ColRatio)->text(), QString());
    undo.redo();
    QCOMPARE(panel.knobs()["group_ratios"][id].get<double>(), 0.5);
    QCOMPARE(panel.pruneGroupTable()->item(1, TuningPanel::ColRatio)->text(), QString("50"));

    // Negative: text that is no percentage in 0..95 is rejected and reverted without an undo entry.
    QSignalSpy status(&panel, &TuningPanel::statusMessage);
    const int undo_now = undo.count();
    for (const char* bad : {"abc", "120", "-5"}) {
      panel.pruneGroupTable()->item(1, TuningPanel::ColRatio)->setText(bad);
      QCOMPARE(panel.pruneGroupTable()->item(1, TuningPanel::ColRatio)->text(), QString("50"));
    }
    QCOMPARE(status.count(), 3);
    QVERIFY(status.last().at(0).toString().contains(QString::fromStdString(id)));
    QCOMPARE(undo.count(), undo_now);
    // Clearing the cell returns the group to the global ratio.
    panel.pruneGroupTable()->item(1, TuningPanel::ColRatio)->setText("");
    QVERIFY(panel.knobs()["group_ratios"].empty());

    // setKnobs (variant click, project load) fills the table; ids of another model are ignored.
    json k = panel.knobs();
    k["group_ratios"] = {{id, 0.25}, {"channels:no-such-node", 0.5}};
    panel.setKnobs(k, true);
    QCOMPARE(panel.pruneGroupTable()->item(1, TuningPanel::ColRatio)->text(), QString("25"));
    QCOMPARE(panel.knobs()["group_ratios"].size(), size_t{1});
    jobs.cancelAllAndWait();
  }

  void lockingAGroupKeepsItsChannels() {
    JobManager jobs;
    QUndoStack undo;
    TuningPanel panel(&jobs, &undo, nullptr);
    panel.setDebounceMs(3600000);
    panel.setContext(baseline_, nullptr, "");
    panel.setPruneRatio(0.5);
    // A channel group with one producer and enough channels that 50% (rounded to 8) removes some.
    int row = -1;
    for (size_t i = 0; i < panel.pruneGroups().size() && row < 0; ++i) {
      const auto& g = panel.pruneGroups()[i];
      if (g.kind == "channels" && g.producers.size() == 1 && g.units >= 32) row = static_cast<int>(i);
    }
    QVERIFY(row >= 0);
    const PruneGroup group = panel.pruneGroups()[row];
    const std::string producer = group.producers.front();
    const int64_t channels = outChannels(*baseline_, producer);
    QCOMPARE(channels, group.units);

    const Model unlocked = applyRecipe(*baseline_, panel.currentRecipe());
    QVERIFY(outChannels(unlocked, producer) < channels);

    panel.pruneGroupTable()->item(row, TuningPanel::ColLock)->setCheckState(Qt::Checked);
    QCOMPARE(panel.knobs()["locked_groups"], json::array({group.id}));
    const json o = prunePassOptions(panel.currentRecipe());
    QVERIFY(o.is_object());
    QCOMPARE(o["per_group"][group.id].get<double>(), 0.0);
    const Model locked = applyRecipe(*baseline_, panel.currentRecipe());
    QCOMPARE(outChannels(locked, producer), channels);               // the locked layer keeps every channel
    QVERIFY(locked.parameterCount() < baseline_->parameterCount());  // the other groups were still pruned
    QVERIFY(locked.parameterCount() > unlocked.parameterCount());

    // A lock beats an explicit ratio on the same row, and undo unlocks.
    panel.pruneGroupTable()->item(row, TuningPanel::ColRatio)->setText("75");
    QCOMPARE(prunePassOptions(panel.currentRecipe())["per_group"][group.id].get<double>(), 0.0);
    undo.undo();
    undo.undo();
    QCOMPARE(panel.pruneGroupTable()->item(row, TuningPanel::ColLock)->checkState(), Qt::Unchecked);
    QVERIFY(panel.knobs()["locked_groups"].empty());
    jobs.cancelAllAndWait();
  }

  void roundingKnobFeedsThePruningPass() {
    JobManager jobs;
    QUndoStack undo;
    TuningPanel panel(&jobs, &undo, nullptr);
    panel.setDebounceMs(3600000);
    panel.setContext(baseline_, nullptr, "");
    QCOMPARE(panel.knobs()["round_to"].get<int>(), 8);  // default: multiples of 8
    panel.setPruneRatio(0.3);
    QCOMPARE(prunePassOptions(panel.currentRecipe())["round_to"].get<int64_t>(), int64_t{8});
    // A single-producer channel group whose 30% cut is not already a multiple of 8.
    int row = -1;
    for (size_t i = 0; i < panel.pruneGroups().size() && row < 0; ++i) {
      const auto& g = panel.pruneGroups()[i];
      if (g.kind == "channels" && g.producers.size() == 1 && keptUnits(g.units, 0.3, 1) % 8 != 0)
        row = static_cast<int>(i);
    }
    QVERIFY(row >= 0);
    const PruneGroup group = panel.pruneGroups()[row];
    const std::string producer = group.producers.front();
    const int64_t rounded = outChannels(applyRecipe(*baseline_, panel.currentRecipe()), producer);
    QCOMPARE(rounded % 8, int64_t{0});
    QCOMPARE(rounded, keptUnits(group.units, 0.3, 8));

    // 1 = no rounding: the pass keeps the exact count; one undo entry, undo restores 8.
    const int undo_before = undo.count();
    panel.setRoundTo(1);
    QCOMPARE(undo.count(), undo_before + 1);
    QCOMPARE(panel.knobs()["round_to"].get<int>(), 1);
    QCOMPARE(prunePassOptions(panel.currentRecipe())["round_to"].get<int64_t>(), int64_t{1});
    const int64_t exact = outChannels(applyRecipe(*baseline_, panel.currentRecipe()), producer);
    QCOMPARE(exact, keptUnits(group.units, 0.3, 1));
    QVERIFY(exact != rounded);
    undo.undo();
    QCOMPARE(panel.roundToSpinBox()->value(), 8);
    undo.redo();
    QCOMPARE(panel.roundToSpinBox()->value(), 1);

    // Saved with the project and restored into a fresh panel.
    test::TempDir dir;
    Project project;
    project.knobs = panel.knobs();
    project.save(dir / "p.edgetune.json");
    const Project loaded = Project::load(dir / "p.edgetune.json");
    TuningPanel other(&jobs, &undo, nullptr);
    other.setDebounceMs(3600000);
    other.setKnobs(loaded.knobs, false);
    QCOMPARE(other.roundToSpinBox()->value(), 1);
    // Negative: the spin box has no 0, and a hand-edited 0 in a recipe's knobs is clamped to 1 (no rounding).
    QCOMPARE(other.roundToSpinBox()->minimum(), 1);
    json k = panel.knobs();
    k["round_to"] = 0;
    QCOMPARE(prunePassOptions(recipeFromKnobs(k, "", builtinPassRegistry()))["round_to"].get<int64_t>(),
             int64_t{1});
    // Only structured pruning rounds: the spin box is off for unstructured magnitude pruning.
    k = panel.knobs();
    k["prune_method"] = "prune_magnitude";
    panel.setKnobs(k, true);
    QVERIFY(!panel.roundToSpinBox()->isEnabled());
    jobs.cancelAllAndWait();
  }

  void groupsHighlightInTheGraphAndSensitivityRuns() {
    test::TempDir dir;
    MainWindowOptions options = test::windowOptions(dir.path(), 100);
    MainWindow window(options);
    window.resize(1600, 1000);
    window.show();
    window.tuningPanel()->measureOptions().accuracy_limit = 100;
    window.tuningPanel()->measureOptions().latency_runs = 3;
    QSignalSpy opened(&window, &MainWindow::modelOpened);
    window.openModel(demoZooSource());
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 1, 60000);
    const Model& model = *window.baseline();
    TuningPanel* tuning = window.tuningPanel();
    GraphView* graph = window.graphView();
    QVERIFY(tuning->pruneGroups().size() >= 3);
    QVERIFY(!tuning->allocateButton()->isEnabled());  // no sensitivity sweep yet

    // Clicking a row outlines exactly the nodes its group couples.
    QTableWidget* table = tuning->pruneGroupTable();
    const int row = 2;
    table->scrollToItem(table->item(row, TuningPanel::ColGroup));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                      table->visualItemRect(table->item(row, TuningPanel::ColGroup)).center());
    const PruneGroup& g2 = tuning->pruneGroups()[row];
    std::set<int> shown(graph->highlightedNodes().begin(), graph->highlightedNodes().end());
    QCOMPARE(shown, nodeIndices(model, g2.nodes));
    QCOMPARE(shown.size(), g2.nodes.size());
    QVERIFY(graph->highlightedItemCount() >= 1);

    // Clicking a graph node that produces another group's channels selects that group and outlines its nodes.
    const PruneGroup& g0 = tuning->pruneGroups()[0];
    const int producer = *nodeIndices(model, {g0.producers.front()}).begin();
    graph->selectNode(producer);
    QCOMPARE(table->currentRow(), 0);
    shown = std::set<int>(graph->highlightedNodes().begin(), graph->highlightedNodes().end());
    QCOMPARE(shown, nodeIndices(model, g0.nodes));
    // A node no group couples clears the outline.
    std::set<std::string> coupled;
    for (const auto& g : tuning->pruneGroups()) coupled.insert(g.nodes.begin(), g.nodes.end());
    int outside = -1;
    for (int i = 0; i < model.graph().node_size() && outside < 0; ++i)
      if (!coupled.count(model.graph().node(i).name())) outside = i;
    QVERIFY(outside >= 0);
    graph->selectNode(outside);
    QVERIFY(graph->highlightedNodes().empty());
    QVERIFY(table->selectionModel()->selectedRows().isEmpty());

    // Negative: without a dataset the sweep does not start and says why.
    SensitivityOptions sweep;
    sweep.ratios = {0.25, 0.5};
    sweep.limit = 64;
    sweep.batch_size = 32;
    sweep.seed = 1;
    QSignalSpy ready(&window, &MainWindow::sensitivityReady);
    QSignalSpy status(&window, &MainWindow::statusChanged);
    const int jobs_before = static_cast<int>(window.jobManager()->jobs().size());
    window.runSensitivity(sweep);
    int sweeps = 0;
    for (auto* j : window.jobManager()->jobs()) sweeps += j->title() == "Sensitivity sweep" ? 1 : 0;
    QCOMPARE(sweeps, 0);
    QVERIFY(window.jobManager()->jobs().size() >= jobs_before);
    QVERIFY(status.count() > 0);
    QVERIFY2(status.last().at(0).toString().contains("dataset"), qPrintable(status.last().at(0).toString()));

    QSignalSpy data(&window, &MainWindow::datasetOpened);
    window.openDataset("fashion-mnist?limit=300");
    QTRY_VERIFY_WITH_TIMEOUT(data.count() == 1, 60000);

    // Cancel from the jobs dock: the job ends Cancelled and fills nothing.
    window.runSensitivity();  // default: 9 ratios on 500 examples, long enough to cancel
    JobHandle* slow = window.jobManager()->jobs().last();
    QCOMPARE(slow->title(), QString("Sensitivity sweep"));
    QSignalSpy slow_done(slow, &JobHandle::finished);
    slow->cancel();
    QTRY_VERIFY_WITH_TIMEOUT(slow_done.count() == 1, 60000);
    QCOMPARE(slow->state(), JobHandle::State::Cancelled);
    QCOMPARE(ready.count(), 0);
    QCOMPARE(window.sensitivityChart()->curveCount(), 0);
    QVERIFY(!tuning->allocateButton()->isEnabled());

    window.runSensitivity(sweep);
    JobHandle* job = window.jobManager()->jobs().last();
    QSignalSpy progress(job, &JobHandle::progressChanged);
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1, 120000);
    QCOMPARE(job->state(), JobHandle::State::Succeeded);
    QVERIFY(progress.count() > 0);
    const int groups = static_cast<int>(tuning->pruneGroups().size());
    QCOMPARE(ready.first().at(0).toInt(), groups);
    SensitivityChart* chart = window.sensitivityChart();
    QCOMPARE(chart->curveCount(), groups);
    for (int i = 0; i < groups; ++i) {
      QCOMPARE(chart->plot()->graph(i)->name(), QString::fromStdString(chart->result().curves[i].group));
      QCOMPARE(chart->plot()->graph(i)->dataCount(), 3);  // ratio 0 (baseline) + the two swept ratios
    }
    QCOMPARE(chart->result().examples, size_t{64});
    // The graph's sensitivity overlay has values exactly on the groups' producer nodes, and is shown.
    QVERIFY(graph->hasOverlay(GraphColorMode::Sensitivity));
    std::vector<std::string> all_producers;
    for (const auto& g : tuning->pruneGroups())
      all_producers.insert(all_producers.end(), g.producers.begin(), g.producers.end());
    const std::set<int> producer_nodes = nodeIndices(model, all_producers);
    const auto overlay = graph->overlayValues(GraphColorMode::Sensitivity);
    QCOMPARE(static_cast<int>(overlay.size()), model.graph().node_size());
    for (int i = 0; i < model.graph().node_size(); ++i)
      QCOMPARE(!std::isnan(overlay[i]), producer_nodes.count(i) == 1);
    QCOMPARE(graph->colorMode(), GraphColorMode::Sensitivity);
    // Exportable like the other charts.
    const QString csv_path = QString::fromStdString((dir / "sensitivity.csv").string());
    chart->exportCsv(csv_path);
    chart->exportPng(QString::fromStdString((dir / "sensitivity.png").string()), 800, 500);
    QVERIFY(std::filesystem::file_size(dir / "sensitivity.png") > 1000);
    const QString csv = QString::fromStdString(readFile(dir / "sensitivity.csv"));
    QCOMPARE(csv.count('\n'), 1 + 3 * groups);
    QVERIFY(csv.contains(QString::fromStdString(g0.id) + ",0.5,"));

    // "Allocate" turns the sweep into per-group ratios meeting a MACs target, as one undoable knob change.
    QVERIFY(tuning->allocateButton()->isEnabled());
    tuning->setAllocationTarget("macs", 0.6);
    const json knobs_before = tuning->knobs();
    const int undo_before = window.undoStack()->count();
    QSignalSpy allocated(tuning, &TuningPanel::allocationFinished);
    QTest::mouseClick(tuning->allocateButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(allocated.count() == 1, 60000);
    QCOMPARE(allocated.first().at(1).toString(), QString());
    const json allocation = allocated.first().at(0).value<json>();
    QVERIFY2(allocation["reached"].get<bool>(), allocation.dump().c_str());
    QVERIFY(!allocation["ratios"].empty());
    QCOMPARE(tuning->knobs()["group_ratios"], allocation["ratios"]);
    QCOMPARE(tuning->knobs()["prune_method"], json("prune_channels"));
    QCOMPARE(window.undoStack()->count(), undo_before + 1);
    {
      PruneChannelsOptions o;
      o.ratio = 0;
      o.round_to = tuning->knobs()["round_to"].get<int64_t>();
      o.per_group = allocation["ratios"].get<std::map<std::string, double>>();
      Model pruned = model;
      const auto r = pruneChannels(pruned, o);
      QVERIFY(r.macs_after <= 0.6 * r.macs_before);
      QCOMPARE(static_cast<double>(r.macs_after), allocation["metric_after"].get<double>());
    }
    const json pass = prunePassOptions(tuning->currentRecipe());
    QCOMPARE(pass["per_group"], allocation["ratios"]);
    window.undoStack()->undo();
    QCOMPARE(tuning->knobs()["group_ratios"], knobs_before["group_ratios"]);
    window.undoStack()->redo();
    QCOMPARE(tuning->knobs()["group_ratios"], allocation["ratios"]);

    // The sweep is saved with the project: loading it restores the chart and the overlay without a new sweep.
    QVERIFY(window.project().sensitivity.has_value());
    const QString project_path = QString::fromStdString((dir / "swept.edgetune.json").string());
    QVERIFY(window.saveProject(project_path));
    QVERIFY(json::parse(readFile(dir / "swept.edgetune.json")).contains("sensitivity"));
    window.autosave();
    window.waitForAutosave();
    QVERIFY(json::parse(readFile(dir / "recovery.json")).contains("sensitivity"));
    MainWindowOptions options2 = options;
    options2.recovery_path = QString::fromStdString((dir / "recovery2.json").string());
    MainWindow second(options2);
    QSignalSpy second_opened(&second, &MainWindow::modelOpened);
    QVERIFY(second.loadProject(project_path));
    QTRY_VERIFY_WITH_TIMEOUT(second_opened.count() == 1, 60000);
    QCOMPARE(second.sensitivityChart()->curveCount(), groups);
    QCOMPARE(second.sensitivityChart()->result().examples, size_t{64});
    // (SensitivityResult::fromJson keeps the measured fields; region details and timings are not read back.)
    for (int i = 0; i < groups; ++i) {
      const auto& c = second.sensitivityChart()->result().curves[i];
      QCOMPARE(c.group, chart->result().curves[i].group);
      QCOMPARE(c.ratios, chart->result().curves[i].ratios);
      QCOMPARE(c.accuracy, chart->result().curves[i].accuracy);
      QCOMPARE(c.kept_units, chart->result().curves[i].kept_units);
    }
    QVERIFY(second.graphView()->hasOverlay(GraphColorMode::Sensitivity));
    const auto restored = second.graphView()->overlayValues(GraphColorMode::Sensitivity);
    QCOMPARE(restored.size(), overlay.size());
    for (size_t i = 0; i < overlay.size(); ++i) {
      QCOMPARE(std::isnan(restored[i]), std::isnan(overlay[i]));
      if (!std::isnan(overlay[i])) QCOMPARE(restored[i], overlay[i]);
    }
    for (auto* j : second.jobManager()->jobs()) QVERIFY(j->title() != "Sensitivity sweep");
    QVERIFY(second.tuningPanel()->allocateButton()->isEnabled());  // the restored sweep can be allocated from
    // Opening another model drops the sweep (it belonged to the old one).
    QSignalSpy reopened(&window, &MainWindow::modelOpened);
    window.openModel(QString("zoo:resnet20?input_channels=1&image_size=28&classes=10&seed=7"));
    QTRY_VERIFY_WITH_TIMEOUT(reopened.count() == 1, 60000);
    QVERIFY(!window.project().sensitivity.has_value());
    QCOMPARE(window.sensitivityChart()->curveCount(), 0);

    second.jobManager()->cancelAllAndWait();
    window.jobManager()->cancelAllAndWait();
  }

  // The trained bundled demo pruned to 90% of its channels: the line under the measurement says that the
  // accuracy fell and that recovery training is what brings it back (#17: no silent collapse to chance).
  void heavyPruningIsExplained() {
    if (!QFileInfo::exists(bundledDemoModelPath())) QSKIP("the bundled demo model is not built");
    test::TempDir dir;
    MainWindow window(test::windowOptions(dir.path(), 300));
    window.show();
    TuningPanel* tuning = window.tuningPanel();
    tuning->measureOptions().accuracy_limit = 300;
    tuning->measureOptions().latency_runs = 3;
    test::openModelAndData(window, "fashion-mnist?limit=300", bundledDemoModelPath());
    QTRY_VERIFY_WITH_TIMEOUT(window.project().variants[0].metrics.accuracy.has_value(), 120000);
    json knobs = tuning->knobs();
    knobs["prune_method"] = "prune_channels";
    knobs["prune_ratio"] = 0.9;
    knobs["quant_mode"] = "none";
    tuning->setKnobs(knobs, false);
    tuning->measureNow();
    auto* summary = tuning->findChild<QLabel*>("live-summary");
    QVERIFY(summary);
    QTRY_VERIFY_WITH_TIMEOUT(!tuning->measuring() && tuning->liveMetrics().accuracy.has_value(), 120000);
    const QString text = summary->text();
    QVERIFY2(*tuning->liveMetrics().accuracy < *window.project().variants[0].metrics.accuracy - 0.05,
             qPrintable(text));
    QVERIFY2(text.contains("Accuracy fell") && text.contains("recovery training"), qPrintable(text));
  }

  // The trained bundled demo: pruning a group hard costs accuracy, so the curves fall and the overlay varies.
  void trainedDemoCurvesFall() {
    if (!QFileInfo::exists(bundledDemoModelPath())) QSKIP("the bundled demo model is not built");
    test::TempDir dir;
    MainWindowOptions options = test::windowOptions(dir.path(), 200);
    MainWindow window(options);
    window.resize(1600, 1000);
    window.show();
    window.tuningPanel()->measureOptions().accuracy_limit = 200;
    window.tuningPanel()->measureOptions().latency_runs = 3;
    QSignalSpy opened(&window, &MainWindow::modelOpened);
    QSignalSpy data(&window, &MainWindow::datasetOpened);
    window.openModel(bundledDemoModelPath());
    window.openDataset("fashion-mnist?limit=1000");
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 1 && data.count() == 1, 60000);
    SensitivityOptions sweep;
    sweep.ratios = {0.25, 0.5, 0.75, 0.9};
    sweep.limit = 300;
    sweep.seed = 1;
    QSignalSpy ready(&window, &MainWindow::sensitivityReady);
    window.runSensitivity(sweep);
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1, 180000);
    const SensitivityResult& r = window.sensitivityChart()->result();
    QVERIFY(r.baseline_accuracy > 0.5);
    double worst = 1;
    for (const auto& c : r.curves) worst = std::min(worst, c.accuracy.back());
    QVERIFY2(worst < r.baseline_accuracy - 0.05,
             qPrintable(QString("worst %1 vs baseline %2").arg(worst).arg(r.baseline_accuracy)));
    double lo = INFINITY, hi = -INFINITY;
    for (double v : window.graphView()->overlayValues(GraphColorMode::Sensitivity))
      if (!std::isnan(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    QVERIFY(hi > lo);  // groups differ in sensitivity

    if (const QByteArray shots = qgetenv("EDGETUNE_SHOT_DIR"); !shots.isEmpty()) {
      QDir().mkpath(QString::fromUtf8(shots));
      TuningPanel* tuning = window.tuningPanel();
      tuning->setPruneRatio(0.3);
      tuning->pruneGroupTable()->item(3, TuningPanel::ColRatio)->setText("50");
      tuning->pruneGroupTable()->item(0, TuningPanel::ColLock)->setCheckState(Qt::Checked);
      tuning->selectPruneGroup(QString::fromStdString(tuning->pruneGroups()[3].id));
      QTest::qWait(1500);
      const QString path = QString::fromUtf8(shots) + "/pruning_table_sensitivity.png";
      QVERIFY(window.grab().save(path));
      qInfo("screenshot: %s", qPrintable(path));
    }
    window.jobManager()->cancelAllAndWait();
  }

 private:
  std::shared_ptr<const Model> baseline_;
};

QTEST_MAIN(TestUiPruning)
#include "test_ui_pruning.moc"
