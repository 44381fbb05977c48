// MainWindow: the studio's frame (see main_window.h). This file builds the docks, central tabs and status bar
// and handles closing and drops; the toolbar and menus, the wiring between views, opening, variants, the base
// chain and recipes live in the main_window_*.cpp files named after them.
#include "ui/main_window.h"

#include <QCloseEvent>
#include <QDockWidget>
#include <QFileInfo>
#include <QLabel>
#include <QMimeData>
#include <QScrollArea>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QUndoStack>
#include <QUrl>

#include "core/util/error.h"
#include "core/util/resources.h"
#include "ui/charts.h"
#include "ui/deploy_controller.h"
#include "ui/devices_panel.h"
#include "ui/dialogs.h"
#include "ui/graph_view.h"
#include "ui/help.h"
#include "ui/jobs.h"
#include "ui/keychain_store.h"
#include "ui/panels.h"
#include "ui/train_panel.h"
#include "ui/tuning_panel.h"

// The icons live in the static library edgetune_ui: its resources must be registered explicitly.
static void initStudioResources() {
  Q_INIT_RESOURCE(edgetune);
}

namespace edgetune::ui {

QString bundledDemoModelPath() {
  return QString::fromStdString((resourcesDir() / "models" / "resnet20_fmnist.onnx").string());
}

QString demoZooSource() {
  return "zoo:resnet20?input_channels=1&image_size=28&classes=10";
}

MainWindow::MainWindow(MainWindowOptions options, QWidget* parent)
    : QMainWindow(parent), options_(std::move(options)) {
  initStudioResources();
  jobs_ = new JobManager(this);
  stalls_ = new StallMonitor(this);
  undo_ = new QUndoStack(this);
  connect(jobs_, &JobManager::jobsChanged, this,
          [this] { stalls_->setJobsRunning(jobs_->runningCount() > 0); });
  document_ = new StudioDocument(options_.recovery_path, this);
  connect(document_, &StudioDocument::changed, this, &MainWindow::updateTitle);
  deploy_ = new DeployController(jobs_, this);
  connect(deploy_, &DeployController::prepared, this, &MainWindow::onDeployPrepared);
  connect(deploy_, &DeployController::failed, this, [this](const QString& name, const QString& error) {
    setStatus("Cannot deploy '" + name + "': " + error, 10000);
    showError(this, "Cannot prepare the variant for deployment", error);
  });
  secrets_ = std::make_unique<KeychainSecretStore>();
  buildUi();
  buildMenus();
  setupPipelineDock();
  placeDocks();
  setAcceptDrops(true);
  setWindowIcon(QIcon(":/icons/edgetune.svg"));
  fitToScreen();
  updateTitle();
  document_->setSnapshot([this] {
    pipeline::Project p = document_->project();
    p.knobs = tuning_->knobs();
    return p;
  });
  if (options_.offer_recovery) QTimer::singleShot(0, this, &MainWindow::offerRecovery);
}

MainWindow::~MainWindow() {
  jobs_->cancelAllAndWait();
  waitForAutosave();
  // The Devices panel uses the secret store: it goes before the store (a member) does.
  delete devices_;
  devices_ = nullptr;
}

void MainWindow::buildUi() {
  graph_ = new GraphView(this);
  graph_->setJobManager(jobs_);
  compare_ = new CompareWidget(jobs_, this);
  central_tabs_ = new QTabWidget(this);
  central_tabs_->addTab(graph_, "Graph");
  central_tabs_->addTab(compare_, "Compare");
  setCentralWidget(central_tabs_);

  knob_chart_ = new KnobChart(this);
  pareto_ = new ParetoChart(this);
  training_ = new TrainingChart(this);
  sensitivity_ = new SensitivityChart(this);
  inspector_ = new NodeInspector(this);
  tuning_ = new TuningPanel(jobs_, undo_, knob_chart_, this);
  tuning_->setAnalysisCache(analyses_);
  explainCharts(knob_chart_, pareto_, training_, sensitivity_);
  variants_ = new VariantsPanel(this);
  jobs_panel_ = new JobsPanel(jobs_, stalls_, this);

  auto dock = [this](const QString& title, QWidget* w, Qt::DockWidgetArea area, const QString& name) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(name);
    d->setWidget(w);
    addDockWidget(area, d);
    return d;
  };
  // Tall panels scroll instead of making the window taller than a 768-pixel laptop screen.
  auto scrolling = [this](QWidget* w) {
    auto* area = new QScrollArea(this);
    area->setWidgetResizable(true);
    area->setFrameShape(QFrame::NoFrame);
    area->setWidget(w);
    return area;
  };
  auto* tuning_dock = dock("Tuning", tuning_, Qt::LeftDockWidgetArea, "tuning");
  tuning_dock->setMinimumWidth(300);
  tuning_dock_ = tuning_dock;
  // Training shares the left side with tuning (one tab each); its curves go to the Training chart tab.
  train_panel_ = new TrainPanel(jobs_, training_, this);
  train_panel_->setOutputDir(trainOutputDir());
  train_dock_ = dock("Training", scrolling(train_panel_), Qt::LeftDockWidgetArea, "training");
  auto* right_tabs = new QTabWidget(this);
  right_tabs->addTab(knob_chart_, "Live");
  right_tabs->addTab(pareto_, "Pareto");
  right_tabs->addTab(training_, "Training");
  right_tabs->addTab(sensitivity_, "Sensitivity");
  chart_tabs_ = right_tabs;
  auto* charts_dock = dock("Charts", right_tabs, Qt::RightDockWidgetArea, "charts");
  charts_dock->setMinimumWidth(380);
  dock("Inspector", scrolling(inspector_), Qt::RightDockWidgetArea, "inspector");
  bottom_tabs_ = new QTabWidget(this);
  bottom_tabs_->addTab(variants_, "Variants");
  bottom_tabs_->addTab(jobs_panel_, "Jobs");
  // Devices: runner builds are looked up next to the studio's executable (x86-64) and in its aarch64 folder.
  devices_ = new DevicesPanel(jobs_, secrets_.get(), this);
  const QString app_dir = QString::fromStdString(programDir().string());
  devices_->setRunnerDirs({app_dir, app_dir + "/aarch64"});
  bottom_tabs_->addTab(scrolling(devices_), "Devices");
  auto* bottom_dock = dock("Variants and jobs", bottom_tabs_, Qt::BottomDockWidgetArea, "bottom");
  bottom_dock->setMinimumHeight(170);

  model_label_ = new QLabel("no model", this);
  base_label_ = new QLabel(this);
  base_label_->setObjectName("base-label");
  base_label_->setToolTip("What Apply and the Training dock start from (Variants > Use as base, Ctrl+B)");
  dataset_label_ = new QLabel("no dataset", this);
  stall_label_ = new QLabel(this);
  stall_label_->setToolTip("Longest UI-thread stall (10 ms heartbeat); target < 100 ms");
  statusBar()->addPermanentWidget(model_label_);
  statusBar()->addPermanentWidget(base_label_);
  statusBar()->addPermanentWidget(dataset_label_);
  statusBar()->addPermanentWidget(stall_label_);
  auto* stall_timer = new QTimer(this);
  connect(stall_timer, &QTimer::timeout, this, [this] {
    stall_label_->setText(QString("UI stall max %1 ms").arg(stalls_->maxStallWhileJobsMs(), 0, 'f', 0));
  });
  stall_timer->start(1000);
  buildToolBar();
  connectViews();
}

void MainWindow::setStatus(const QString& text, int timeout_ms) {
  statusBar()->showMessage(text, timeout_ms);
  emit statusChanged(text);
}

void MainWindow::updateTitle() {
  QString name = document_->path().isEmpty() ? "untitled" : QFileInfo(document_->path()).fileName();
  const QString base =
      document_->project().current_base.empty() ? QString() : " [base: " + currentBase() + "]";
  setWindowTitle(QString("%1%2%3 - EdgeTune Studio").arg(name, document_->isDirty() ? "*" : "", base));
}

void MainWindow::showCentralTab(int index) {
  central_tabs_->setCurrentIndex(index);
}

void MainWindow::showBottomTab(const QString& title) {
  for (int i = 0; i < bottom_tabs_->count(); ++i)
    if (bottom_tabs_->tabText(i) == title) bottom_tabs_->setCurrentIndex(i);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!settleUnsavedChanges("quitting")) {
    event->ignore();
    return;
  }
  jobs_->cancelAllAndWait();
  waitForAutosave();
  // A clean exit leaves no recovery file; a crash leaves the last autosave behind.
  document_->removeRecovery();
  event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  for (const QUrl& url : event->mimeData()->urls()) {
    const QString path = url.toLocalFile();
    if (path.endsWith(".onnx", Qt::CaseInsensitive) || path.endsWith(".json", Qt::CaseInsensitive)) {
      event->acceptProposedAction();
      return;
    }
  }
}

void MainWindow::dropEvent(QDropEvent* event) {
  for (const QUrl& url : event->mimeData()->urls()) {
    const QString path = url.toLocalFile();
    if (path.endsWith(".onnx", Qt::CaseInsensitive))
      openModel(path);
    else if (path.endsWith(".json", Qt::CaseInsensitive))
      loadProject(path);
  }
  event->acceptProposedAction();
}

}  // namespace edgetune::ui
