// Drives the studio through its key states under a real (virtual) display, saves screenshots and prints the
// timings the issue asks for. Run by hand:  xvfb-run -a -s "-screen 0 1600x1000x24" edgetune_ui_shots OUT_DIR
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTest>

#include <cstdio>

#include "ui/charts.h"
#include "ui/dataset_dialog.h"
#include "ui/dialogs.h"
#include "ui/graph_view.h"
#include "ui/jobs.h"
#include "ui/main_window.h"
#include "ui/panels.h"
#include "ui/tuning_panel.h"

using namespace edgetune::ui;

namespace {
bool waitFor(const std::function<bool()>& done, int timeout_ms) {
  QElapsedTimer t;
  t.start();
  while (!done()) {
    if (t.elapsed() > timeout_ms) return false;
    QTest::qWait(20);
  }
  return true;
}
void shot(QWidget* w, const QString& dir, const QString& name) {
  QTest::qWait(300);
  w->grab().save(dir + "/" + name + ".png");
  std::printf("shot %s/%s.png\n", qPrintable(dir), qPrintable(name));
}
}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("EdgeTuneShots");
  QApplication::setApplicationName("edgetune_ui_shots");
  const QString out = argc > 1 ? argv[1] : "/tmp/edgetune-shots";
  QDir().mkpath(out);
  setScriptedMode(true);
  MainWindowOptions options;
  options.offer_recovery = false;
  options.recovery_path = out + "/recovery.json";
  MainWindow window(options);
  window.resize(1600, 1000);
  window.show();
  auto* tuning = window.tuningPanel();
  tuning->measureOptions().accuracy_limit = 2000;

  QSignalSpy opened(&window, &MainWindow::modelOpened);
  window.openDemo();
  waitFor([&] { return opened.count() == 1; }, 60000);
  std::printf("demo open+layout: %.3f s\n", window.lastOpenSeconds());
  waitFor([&] { return !tuning->measuring() && window.knobChart()->pointCount() > 0; }, 120000);
  shot(&window, out, "01-demo-opened");

  window.stallMonitor()->reset();
  tuning->setPruneRatio(0.3);
  auto measured = [&] {
    return tuning->liveKnobs() == tuning->knobs() && tuning->liveMetrics().accuracy_count.value_or(0) >= 2000;
  };
  waitFor([&] { return tuning->lastKnobToChartMs() >= 0 && measured(); }, 120000);
  std::printf("knob change -> first chart update: %.0f ms\n", tuning->lastKnobToChartMs());
  tuning->apply();
  tuning->setPruneRatio(0.5);
  waitFor([&] { return tuning->lastKnobToChartMs() >= 0 && measured(); }, 120000);
  std::printf("knob change -> first chart update (50%%): %.0f ms\n", tuning->lastKnobToChartMs());
  tuning->apply();
  std::printf("longest UI stall while jobs ran: %.1f ms (overall %.1f ms, busy on UI thread %.1f ms)\n",
              window.stallMonitor()->maxStallWhileJobsMs(), window.stallMonitor()->maxStallMs(),
              window.stallMonitor()->maxBusyStallMs());
  window.graphView()->setColorMode(GraphColorMode::PruningRatio);
  shot(&window, out, "02-pruned-50-overlay");
  window.graphView()->setColorMode(GraphColorMode::OpType);

  window.graphView()->search("layer2.0/conv1");
  shot(&window, out, "03-search-inspector");

  // Pareto chart tab.
  for (auto* tabs : window.findChildren<QTabWidget*>())
    for (int i = 0; i < tabs->count(); ++i)
      if (tabs->tabText(i) == "Pareto") tabs->setCurrentIndex(i);
  shot(&window, out, "04-pareto");

  QSignalSpy compared(window.compareWidget(), &CompareWidget::compared);
  window.compareVariants(0, 2);
  waitFor([&] { return compared.count() == 1; }, 60000);
  shot(&window, out, "05-compare");
  window.showCentralTab(0);
  window.showBottomTab("Jobs");
  shot(&window, out, "06-jobs");

  for (const char* source : {"zoo:resnet56", "zoo:bert?layers=4", "zoo:bert?layers=12&hidden=768&heads=12"}) {
    window.stallMonitor()->reset();
    window.openModel(source);
    const int before = opened.count();
    waitFor([&] { return opened.count() > before; }, 120000);
    std::printf(
        "%s: open+layout %.3f s, %d nodes, %d items drawn; stall during open %.1f ms (busy %.1f ms)\n",
        source, window.lastOpenSeconds(), window.baseline()->graph().node_size(),
        window.graphView()->visibleItemCount(), window.stallMonitor()->maxStallMs(),
        window.stallMonitor()->maxBusyStallMs());
    // Everything expanded (the worst case for the layout).
    QSignalSpy ready(window.graphView(), &GraphView::layoutReady);
    QElapsedTimer t;
    t.start();
    window.graphView()->expandAll();
    waitFor([&] { return ready.count() == 1; }, 120000);
    std::printf("%s: fully expanded layout %.3f s (%d items)\n", source, t.elapsed() / 1000.0,
                window.graphView()->visibleItemCount());
  }
  window.openModel("zoo:bert?layers=4");
  const int before = opened.count();
  waitFor([&] { return opened.count() > before; }, 120000);
  shot(&window, out, "07-bert4-collapsed");

  auto* dialog = new DatasetDialog(window.jobManager(), &window);
  dialog->setSpec("fashion-mnist");
  dialog->show();
  QSignalSpy preview(dialog, &DatasetDialog::previewReady);
  dialog->preview(16);
  waitFor([&] { return preview.count() == 1; }, 60000);
  shot(dialog, out, "08-dataset-dialog");
  dialog->close();

  // A model as torch.onnx exports it: cleaned on the way in, timed at its real sizes, and what dynamic INT8
  // left alone said under the measurement.
  window.openModel(QString(EDGETUNE_SOURCE_DIR) + "/tests/fixtures/torch/tiny_bert.onnx");
  const int before_export = opened.count();
  waitFor([&] { return opened.count() > before_export; }, 120000);
  nlohmann::json knobs = tuning->knobs();
  knobs["quant_mode"] = "dynamic";
  tuning->setKnobs(knobs);
  waitFor(
      [&] { return tuning->liveKnobs() == tuning->knobs() && tuning->liveMetrics().latency_ms.has_value(); },
      120000);
  shot(&window, out, "09-torch-export-dynamic-int8");
  window.close();
  return 0;
}
