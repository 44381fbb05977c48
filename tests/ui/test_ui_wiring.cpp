// The studio's main window with its Training dock and Devices tab wired in (offscreen, real components): a
// zoo ResNet-8 distilled from the bundled ResNet-20 through the Training dock becomes a variant carrying the
// trained file; the baseline variant deployed with "Deploy variant" to a REAL sshd on 127.0.0.1 and
// benchmarked there gets the benchmark attached (Device ms column) and the device's per-node profile as the
// graph's "Device latency" colors; a profile naming no baseline node says so in the legend; the Pareto
// tooltip shows device latency.
#include <QtTest>

#include <QComboBox>
#include <QDockWidget>
#include <QStandardPaths>
#include <QTabBar>
#include <QTableWidget>
#include <QToolBar>
#include <QToolTip>

#include <qcustomplot.h>

#include <cmath>
#include <filesystem>

#include "core/deploy/device_benchmark.h"
#include "core/ir/model.h"
#include "core/pipeline/model_card.h"
#include "core/pipeline/node_overlays.h"
#include "core/pipeline/progressive_measurement.h"
#include "core/pipeline/variant_model.h"
#include "core/zoo/model_source.h"
#include "tests/deploy/ssh_server.h"
#include "tests/tests_common.h"
#include "tests/ui/ui_test_common.h"
#include "ui/charts.h"
#include "ui/devices_panel.h"
#include "ui/dialogs.h"
#include "ui/graph_view.h"
#include "ui/jobs.h"
#include "ui/main_window.h"
#include "ui/panels.h"
#include "ui/train_panel.h"
#include "ui/tuning_panel.h"

using namespace edgetune;
using namespace edgetune::ui;
using namespace edgetune::pipeline;
using edgetune::zoo::loadModelSource;
namespace fs = std::filesystem;

namespace {

MainWindowOptions quietOptions(const fs::path& dir) {
  return test::windowOptions(dir, 100);
}

// Opens the bundled demo model (and a dataset when `dataset` is set) and waits for both.
bool openDemo(MainWindow& window, const QString& dataset = {}) {
  window.tuningPanel()->setDebounceMs(3600000);  // no live knob measurements: these tests are about wiring
  QSignalSpy opened(&window, &MainWindow::modelOpened);
  QSignalSpy data(&window, &MainWindow::datasetOpened);
  if (!dataset.isEmpty()) {
    window.openDataset(dataset);
    if (!QTest::qWaitFor([&] { return data.count() == 1; }, 60000)) return false;
  }
  window.openModel(bundledDemoModelPath());
  return QTest::qWaitFor([&] { return opened.count() == 1; }, 60000);
}

// The title of the current tab among tabified docks, in the tab bar that holds a dock titled `title`.
QString currentDockTab(const MainWindow& window, const QString& title) {
  for (auto* bar : window.findChildren<QTabBar*>()) {
    if (bar->parentWidget() != &window) continue;  // QMainWindow's own dock tab bars, not the tab widgets'
    for (int i = 0; i < bar->count(); ++i)
      if (bar->tabText(i) == title) return bar->tabText(bar->currentIndex());
  }
  return {};
}

// The status lines the window showed while `action` ran.
QStringList statusDuring(MainWindow& window, const std::function<void()>& action) {
  QSignalSpy status(&window, &MainWindow::statusChanged);
  action();
  QStringList out;
  for (const auto& args : status) out << args.at(0).toString();
  return out;
}

}  // namespace

class TestUiWiring : public QObject {
  Q_OBJECT
  std::unique_ptr<test::TempDir> tmp_;
  std::unique_ptr<test::SshServer> server_;
  QString ssh_skip_;

 private slots:
  void initTestCase() {
    setScriptedMode(true);
    QCoreApplication::setOrganizationName("EdgeTuneTests");
    QCoreApplication::setApplicationName("test_ui_wiring");
    tmp_ = std::make_unique<test::TempDir>();
    // Nothing of the user's: EdgeTune's config (devices), QSettings and AppDataLocation go into the temp
    // folder.
    qputenv("EDGETUNE_CONFIG_DIR", QByteArray::fromStdString((tmp_->path() / "edgetune-config").string()));
    qputenv("XDG_CONFIG_HOME", QByteArray::fromStdString((tmp_->path() / "xdg-config").string()));
    qputenv("XDG_DATA_HOME", QByteArray::fromStdString((tmp_->path() / "xdg-data").string()));
    ssh_skip_ = QString::fromStdString(test::SshServer::skipReason());
    if (ssh_skip_.isEmpty()) {
      server_ = std::make_unique<test::SshServer>(tmp_->path() / "sshd");
      server_->start();
    }
  }
  void cleanupTestCase() { server_.reset(); }

  void docksTabsAndActions() {
    test::TempDir dir;
    MainWindow window(quietOptions(dir.path()));
    window.show();
    // Training: a dock tabified with the tuning dock, raised by Tools > Train / distill (Ctrl+T).
    QDockWidget* train = window.trainDock();
    QVERIFY(train && train->isAncestorOf(window.trainPanel()));  // inside a scroll area
    QDockWidget* tuning = nullptr;
    for (auto* d : window.findChildren<QDockWidget*>())
      if (d->objectName() == "tuning") tuning = d;
    QVERIFY(tuning);
    QVERIFY(window.tabifiedDockWidgets(tuning).contains(train));
    QCOMPARE(window.trainAction()->shortcut(), QKeySequence("Ctrl+T"));
    QCOMPARE(window.deployAction()->shortcut(), QKeySequence("Ctrl+Shift+D"));
    tuning->raise();
    QTRY_COMPARE(currentDockTab(window, "Training"), QString("Tuning"));
    window.trainAction()->trigger();
    QTRY_COMPARE(currentDockTab(window, "Training"), QString("Training"));
    // Both are in the variants table's context menu too.
    QVERIFY(window.variantsPanel()->table()->actions().contains(window.deployAction()));
    QCOMPARE(window.variantsPanel()->table()->contextMenuPolicy(), Qt::ActionsContextMenu);
    // Unsaved project: trained models go to AppDataLocation/trained.
    const QString app_data = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QVERIFY2(app_data.startsWith(QString::fromStdString(tmp_->path().string())), qPrintable(app_data));
    QCOMPARE(window.trainOutputDir(), app_data + "/trained");
    QCOMPARE(window.trainPanel()->outputDir(), app_data + "/trained");
    // Devices: a bottom tab with the runner folders next to the executable.
    window.showBottomTab("Devices");
    QTRY_VERIFY(window.devicesPanel()->isVisible());
    // The color mode is offered; with nothing measured the legend says so.
    auto* toolbar = window.findChild<QToolBar*>("main-toolbar");
    QVERIFY(toolbar);
    auto* combo = toolbar->findChild<QComboBox*>();
    QVERIFY(combo);
    const int mode = combo->findData(static_cast<int>(GraphColorMode::DeviceLatency));
    QVERIFY(mode >= 0);
    QCOMPARE(combo->itemText(mode), QString("Device latency"));
    // Negative: deploying with no model / no selection starts nothing and says why.
    const int jobs_before = static_cast<int>(window.jobManager()->jobs().size());
    QStringList said = statusDuring(window, [&] { window.deployAction()->trigger(); });
    QVERIFY2(!said.isEmpty() && said.last().contains("Select one variant"), qPrintable(said.join(" | ")));
    said = statusDuring(window, [&] { window.deployVariant(0); });
    QVERIFY2(!said.isEmpty() && said.last().contains("Open a model"), qPrintable(said.join(" | ")));
    QCOMPARE(static_cast<int>(window.jobManager()->jobs().size()), jobs_before);
    QVERIFY(window.devicesPanel()->modelPath().isEmpty());
  }

  void paretoTooltipShowsDeviceLatency() {
    ParetoChart chart;
    chart.resize(600, 400);
    chart.show();
    Variant host_only, on_device;
    host_only.name = "host only";
    host_only.metrics.latency_ms = 2.0;
    host_only.metrics.accuracy = 0.80;
    host_only.metrics.size_bytes = 1000;
    on_device = host_only;
    on_device.name = "on device";
    on_device.metrics.latency_ms = 4.0;
    on_device.metrics.accuracy = 0.90;
    on_device.device_benchmarks = nlohmann::json::array(
        {{{"device", "pi5"},
          {"results", {{{"threads", 2}, {"median_ms", 3.0}}, {{"threads", 1}, {"median_ms", 7.5}}}}}});
    chart.setVariants({host_only, on_device});
    auto* plot = chart.plot();
    plot->replot();
    auto hover = [&](const Variant& v) {
      const QPointF at(plot->xAxis->coordToPixel(*v.metrics.latency_ms),
                       plot->yAxis->coordToPixel(100 * *v.metrics.accuracy));
      QCOMPARE(chart.variantAt(at), v.name == "host only" ? 0 : 1);
      QMouseEvent move(QEvent::MouseMove, at, plot->mapToGlobal(at), Qt::NoButton, Qt::NoButton,
                       Qt::NoModifier);
      QCoreApplication::sendEvent(plot, &move);
    };
    hover(on_device);
    QTRY_VERIFY_WITH_TIMEOUT(QToolTip::text().contains("on device"), 5000);
    QVERIFY2(QToolTip::text().contains("device 7.500 ms (median, 1 thread)"), qPrintable(QToolTip::text()));
    hover(host_only);
    QTRY_VERIFY_WITH_TIMEOUT(QToolTip::text().contains("host only"), 5000);
    QVERIFY2(!QToolTip::text().contains("device "), qPrintable(QToolTip::text()));
  }

  void distillFromTrainingDockBecomesVariant() {
    if (!TrainPanel::trainingAvailable()) QSKIP("training engine not built");
    test::TempDir dir;
    MainWindow window(quietOptions(dir.path()));
    window.resize(1400, 900);
    window.show();
    QVERIFY(openDemo(window, "fashion-mnist?limit=600"));
    // A saved project: trained models go to <project folder>/trained.
    const fs::path project_dir = dir / "project";
    fs::create_directories(project_dir);
    QVERIFY(window.saveProject(QString::fromStdString((project_dir / "p.edgetune.json").string())));
    const QString trained_dir = QString::fromStdString((project_dir / "trained").string());
    QCOMPARE(window.trainOutputDir(), trained_dir);
    QCOMPARE(window.trainPanel()->outputDir(), trained_dir);

    window.trainAction()->trigger();
    QTRY_COMPARE(currentDockTab(window, "Training"), QString("Training"));
    TrainSettings s;
    s.mode = TrainSettings::Mode::Distill;
    s.source = TrainSettings::Source::Student;
    s.student = "zoo:resnet8?input_channels=1&image_size=28&classes=10";
    s.epochs = 1;
    s.batch_size = 32;
    s.steps_per_epoch = 4;
    s.validation_size = 100;
    window.trainPanel()->setSettings(s);
    // Starting shows the Training curves and the Jobs tab (the Pareto tab and Variants tab are up before).
    window.showBottomTab("Variants");
    QVERIFY(!window.jobsPanel()->isVisible());
    QVERIFY(!window.trainingChart()->isVisible());
    QSignalSpy measured(&window, &MainWindow::variantMeasured);
    QVERIFY2(window.trainPanel()->start(), qPrintable(window.trainPanel()->lastError()));
    QTRY_VERIFY(window.trainingChart()->isVisible());
    QTRY_VERIFY(window.jobsPanel()->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(!window.trainPanel()->running(), 240000);
    QVERIFY2(window.trainPanel()->lastError().isEmpty(), qPrintable(window.trainPanel()->lastError()));

    // The new variant carries the trained file, written into the project's trained folder.
    QTRY_COMPARE_WITH_TIMEOUT(window.project().variants.size(), size_t{2}, 10000);
    const Variant v = window.project().variants[1];
    QVERIFY(!v.model_file.empty());
    QVERIFY2(fs::exists(v.model_file), v.model_file.c_str());
    QCOMPARE(QString::fromStdString(fs::path(v.model_file).parent_path().string()), trained_dir);
    QCOMPARE(QString::fromStdString(v.model_file), window.trainPanel()->lastOutputPath());
    QVERIFY2(v.name.find("resnet8") != std::string::npos, v.name.c_str());
    QCOMPARE(window.variantsPanel()->table()->rowCount(), 2);
    // Its measured parameters are the file's (the student's), not the baseline's.
    const Model file_model = Model::load(v.model_file);
    QVERIFY(v.metrics.params.has_value());
    QCOMPARE(*v.metrics.params, file_model.parameterCount());
    QVERIFY(*v.metrics.params != window.baseline()->parameterCount());
    QVERIFY(v.metrics.size_bytes.value_or(0) > 0 && v.metrics.latency_ms.value_or(0) > 0);
    QVERIFY(window.windowTitle().contains("*"));

    // Selecting the trained variant hands its model to the panel ("Selected variant" source), via a worker.
    auto selectedSourceText = [&] {
      for (auto* combo : window.trainPanel()->findChildren<QComboBox*>())
        for (int i = 0; i < combo->count(); ++i)
          if (combo->itemText(i).startsWith("Selected variant")) return combo->itemText(i);
      return QString();
    };
    QCOMPARE(selectedSourceText(), QString("Selected variant: baseline"));  // set when the model opened
    window.variantsPanel()->selectVariant(1);
    QTRY_COMPARE_WITH_TIMEOUT(selectedSourceText(), "Selected variant: " + QString::fromStdString(v.name),
                              30000);

    // Export goes through the trained file too.
    const QString exported = QString::fromStdString((dir / "exported.onnx").string());
    QSignalSpy exported_spy(&window, &MainWindow::variantExported);
    window.exportVariant(1, exported);
    QTRY_VERIFY_WITH_TIMEOUT(exported_spy.count() == 1, 60000);
    QCOMPARE(Model::load(exported.toStdString()).parameterCount(), file_model.parameterCount());
  }

  void deployBaselineWithBenchmarkAndProfile() {
    if (!ssh_skip_.isEmpty()) QSKIP(qPrintable(ssh_skip_));
    test::TempDir dir;
    MainWindow window(quietOptions(dir.path()));
    window.resize(1400, 900);
    window.show();
    QVERIFY(openDemo(window));
    DevicesPanel* devices = window.devicesPanel();
    devices->setDeviceStoreFile(QString::fromStdString((dir / "devices.json").string()));
    devices->setRunnerDirs({QString(EDGETUNE_BINARY_DIR) + "/bin"});
    devices->setRemoteRoot(QString::fromStdString((dir / "device-home" / "edgetune").string()));
    devices->setConnectTimeoutMs(10000);
    int host_prompts = 0;
    devices->setHostKeyPrompt([&](const QString&, const QString&) {
      ++host_prompts;
      return true;
    });
    devices->setPasswordPrompt([](const QString&, bool*) -> std::optional<QString> { return std::nullopt; });
    QVERIFY(devices->addDevice(server_->device(dir / "known_hosts")));
    QCOMPARE(devices->selectedDevice(), QString("loopback"));

    // Deploy variant: the baseline, exported to a temporary ONNX handed to the Devices panel.
    window.variantsPanel()->selectVariant(0);
    QSignalSpy prepared(&window, &MainWindow::deployPrepared);
    window.deployAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(prepared.count() == 1, 60000);
    QCOMPARE(prepared.at(0).at(0).toInt(), 0);
    const QString onnx = prepared.at(0).at(1).toString();
    QCOMPARE(devices->modelPath(), onnx);
    QVERIFY(fs::exists(onnx.toStdString()));
    QCOMPARE(Model::load(onnx.toStdString()).parameterCount(), window.baseline()->parameterCount());
    QTRY_VERIFY(devices->isVisible());  // the Devices tab is shown

    devices->setBenchmarkEnabled(true);
    devices->setBenchmarkThreads("1");
    devices->setBenchmarkRuns(3);
    devices->setProfileEnabled(true);
    QSignalSpy ready(devices, &DevicesPanel::benchmarkReady);
    QSignalSpy attached(&window, &MainWindow::deviceBenchmarkAttached);
    QSignalSpy finished(devices, &DevicesPanel::deployFinished);
    QVERIFY(devices->deploySelected());
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 180000);
    QVERIFY2(finished.at(0).at(1).toBool(), qPrintable(finished.at(0).at(2).toString()));
    QCOMPARE(ready.count(), 1);
    QTRY_COMPARE(attached.count(), 1);
    QCOMPARE(attached.at(0).at(0).toInt(), 0);
    QCOMPARE(host_prompts, 1);

    // The benchmark is on the baseline variant; the table's Device ms column shows its 1-thread median.
    const Variant& base = window.project().variants[0];
    QCOMPARE(base.device_benchmarks.size(), size_t{1});
    QCOMPARE(window.project().variants.size(), size_t{1});
    const auto bench = deploy::DeviceBenchmark::fromJson(base.device_benchmarks[0]);
    QCOMPARE(bench.device, std::string("loopback"));
    QVERIFY(!bench.profile.empty());
    QVERIFY(deviceLatencyMs(base).has_value());
    QCOMPARE(*deviceLatencyMs(base), bench.latency.at(0).median_ms);
    const QString shown = window.variantsPanel()->table()->item(0, VariantsPanel::ColDeviceMs)->text();
    bool is_number = false;
    const double shown_ms = shown.toDouble(&is_number);
    QVERIFY2(is_number && shown_ms > 0, qPrintable(shown));

    // The device's per-node profile colors the baseline's graph: at least one Conv item has a heat color.
    GraphView* graph = window.graphView();
    QCOMPARE(graph->colorMode(), GraphColorMode::DeviceLatency);
    QVERIFY(graph->hasOverlay(GraphColorMode::DeviceLatency));
    QVERIFY2(graph->legendTitle().contains("on loopback"), qPrintable(graph->legendTitle()));
    const Model& model = *window.baseline();
    const auto shares = graph->overlayValues(GraphColorMode::DeviceLatency);
    QCOMPARE(shares.size(), static_cast<size_t>(model.graph().node_size()));
    int colored_convs = 0;
    for (int i = 0; i < model.graph().node_size(); ++i) {
      if (model.graph().node(i).op_type() != "Conv" || std::isnan(shares[i])) continue;
      const QColor fill = graph->nodeFill(i);
      if (fill.isValid() && fill != GraphView::noValueColor()) ++colored_convs;
    }
    QVERIFY(colored_convs > 0);
    if (qEnvironmentVariableIsSet("EDGETUNE_SHOT_DIR"))  // a look at the window, by hand
      window.grab().save(qEnvironmentVariable("EDGETUNE_SHOT_DIR") + "/wiring_device_latency.png");
    // Back to op-type colors: the same item is no longer a heat color.
    graph->setColorMode(GraphColorMode::OpType);
    QVERIFY(!graph->legendTitle().contains("Device latency"));
  }

  // Without an sshd: benchmarks as the Devices panel reports them, for a profile that names no baseline node
  // and for a model that is not one of the project's variants.
  void unmatchedProfileAndUnknownModel() {
    test::TempDir dir;
    MainWindow window(quietOptions(dir.path()));
    window.resize(1400, 900);
    window.show();
    QVERIFY(openDemo(window));
    window.variantsPanel()->selectVariant(0);
    QSignalSpy prepared(&window, &MainWindow::deployPrepared);
    window.deployAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(prepared.count() == 1, 60000);
    const std::string file_name = fs::path(prepared.at(0).at(1).toString().toStdString()).filename().string();

    deploy::DeviceBenchmark bench;
    bench.device = "pi5";
    bench.model = "/home/pi/edgetune/models/baseline/" + file_name;
    deploy::DeviceLatency l;
    l.threads = 1;
    l.runs = 3;
    l.median_ms = 4.25;
    bench.latency = {l};
    bench.profile = {{"not_a_node_of_the_model", "Conv", 1200, 3, 400},
                     {"another_stranger", "Relu", 300, 3, 100}};
    bench.profile_threads = 1;

    // A model that is not a variant of this project: nothing attached, one clear status line.
    deploy::DeviceBenchmark stranger = bench;
    stranger.model = "/home/pi/edgetune/models/x/someone_elses.onnx";
    QStringList said =
        statusDuring(window, [&] { emit window.devicesPanel()->benchmarkReady("pi5", stranger.toJson()); });
    QVERIFY2(!said.isEmpty() && said.last().contains("not one of this project's variants"),
             qPrintable(said.join(" | ")));
    QVERIFY(window.project().variants[0].device_benchmarks.empty());

    // The deployed baseline's benchmark whose profile matches no node: attached, but the graph says why it is
    // blank.
    QSignalSpy attached(&window, &MainWindow::deviceBenchmarkAttached);
    said = statusDuring(window, [&] { emit window.devicesPanel()->benchmarkReady("pi5", bench.toJson()); });
    QCOMPARE(attached.count(), 1);
    QCOMPARE(window.project().variants[0].device_benchmarks.size(), size_t{1});
    QCOMPARE(window.variantsPanel()->table()->item(0, VariantsPanel::ColDeviceMs)->text(), QString("4.250"));
    QVERIFY2(said.join(" | ").contains("no profiled node matches"), qPrintable(said.join(" | ")));
    GraphView* graph = window.graphView();
    QVERIFY(!graph->hasOverlay(GraphColorMode::DeviceLatency));
    QCOMPARE(graph->colorMode(), GraphColorMode::OpType);  // not switched to an empty overlay
    graph->setColorMode(GraphColorMode::DeviceLatency);
    QVERIFY2(graph->legendTitle().contains("matches the baseline's node names"),
             qPrintable(graph->legendTitle()));
    for (int i = 0; i < window.baseline()->graph().node_size(); ++i) {
      const QColor fill = graph->nodeFill(i);
      QVERIFY(!fill.isValid() || fill == GraphView::noValueColor());
    }
  }
};

QTEST_MAIN(TestUiWiring)
#include "test_ui_wiring.moc"
