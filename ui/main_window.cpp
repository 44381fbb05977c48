#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QToolBar>
#include <QUndoCommand>
#include <QUndoStack>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <unordered_map>

#include "core/deploy/device_benchmark.h"
#include "core/deploy/profile_overlay.h"
#include "core/ir/stats.h"
#include "core/passes/canonicalize.h"
#include "core/pipeline/model_card.h"
#include "core/pipeline/node_overlays.h"
#include "core/pipeline/progressive_measurement.h"
#include "core/pipeline/runner.h"
#include "core/pipeline/variant_model.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/util/format.h"
#include "core/util/resources.h"
#include "core/zoo/model_source.h"
#include "ui/charts.h"
#include "ui/devices_panel.h"
#include "ui/dialogs.h"
#include "ui/graph_view.h"
#include "ui/jobs.h"
#include "ui/keychain_store.h"
#include "ui/panels.h"
#include "ui/pipeline_panel.h"
#include "ui/recipe_bridge.h"
#include "ui/recipe_job.h"
#include "ui/recipe_run_dialog.h"
#include "ui/train_panel.h"
#include "ui/tuning_panel.h"

#include <qcustomplot.h>

// The icons live in the static library edgetune_ui: its resources must be registered explicitly.
static void initStudioResources() {
  Q_INIT_RESOURCE(edgetune);
}

namespace edgetune::ui {

using pipeline::Project;
using pipeline::Variant;
using pipeline::VariantMetrics;

namespace {

// Changing the base is a project edit like a knob change: undo puts the previous base back.
class BaseCommand : public QUndoCommand {
 public:
  BaseCommand(std::string before, std::string after, std::function<void(const std::string&)> apply)
      : before_(std::move(before)), after_(std::move(after)), apply_(std::move(apply)) {
    setText(QString::fromStdString("base: " + (after_.empty() ? std::string("the original model") : after_)));
  }
  void undo() override { apply_(before_); }
  void redo() override { apply_(after_); }

 private:
  std::string before_, after_;
  std::function<void(const std::string&)> apply_;
};

// The baseline row: the project's model itself (no passes, no file, no base).
bool isProjectModel(const Variant& v) {
  return v.base.empty() && v.model_file.empty() &&
         (!v.recipe.is_object() || v.recipe.value("passes", nlohmann::json::array()).empty());
}

}  // namespace

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
  recovery_path_ = options_.recovery_path;
  if (recovery_path_.isEmpty()) {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
    QDir().mkpath(dir);
    recovery_path_ = dir + "/recovery.edgetune.json";
  }
  secrets_ = std::make_unique<KeychainSecretStore>();
  buildUi();
  buildMenus();
  setupPipelineDock();
  setAcceptDrops(true);
  setWindowIcon(QIcon(":/icons/edgetune.svg"));
  resize(1500, 950);
  updateTitle();
  autosave_timer_.setInterval(20000);
  connect(&autosave_timer_, &QTimer::timeout, this, [this] {
    if (dirty_) autosave();
  });
  autosave_timer_.start();
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
  variants_ = new VariantsPanel(this);
  jobs_panel_ = new JobsPanel(jobs_, stalls_, this);

  auto dock = [this](const QString& title, QWidget* w, Qt::DockWidgetArea area, const QString& name) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(name);
    d->setWidget(w);
    addDockWidget(area, d);
    return d;
  };
  auto* tuning_dock = dock("Tuning", tuning_, Qt::LeftDockWidgetArea, "tuning");
  tuning_dock->setMinimumWidth(300);
  tuning_dock_ = tuning_dock;
  // Training shares the left side with tuning (one tab each); its curves go to the Training chart tab.
  train_panel_ = new TrainPanel(jobs_, training_, this);
  train_panel_->setOutputDir(trainOutputDir());
  train_dock_ = dock("Training", train_panel_, Qt::LeftDockWidgetArea, "training");
  tabifyDockWidget(tuning_dock, train_dock_);
  tuning_dock->raise();
  auto* right_tabs = new QTabWidget(this);
  right_tabs->addTab(knob_chart_, "Live");
  right_tabs->addTab(pareto_, "Pareto");
  right_tabs->addTab(training_, "Training");
  right_tabs->addTab(sensitivity_, "Sensitivity");
  chart_tabs_ = right_tabs;
  auto* charts_dock = dock("Charts", right_tabs, Qt::RightDockWidgetArea, "charts");
  charts_dock->setMinimumWidth(380);
  auto* inspector_dock = dock("Inspector", inspector_, Qt::RightDockWidgetArea, "inspector");
  tabifyDockWidget(inspector_dock, charts_dock);
  charts_dock->raise();
  bottom_tabs_ = new QTabWidget(this);
  bottom_tabs_->addTab(variants_, "Variants");
  bottom_tabs_->addTab(jobs_panel_, "Jobs");
  // Devices: runner builds are looked up next to the studio's executable (x86-64) and in its aarch64 folder.
  devices_ = new DevicesPanel(jobs_, secrets_.get(), this);
  const QString app_dir = QString::fromStdString(programDir().string());
  devices_->setRunnerDirs({app_dir, app_dir + "/aarch64"});
  bottom_tabs_->addTab(devices_, "Devices");
  auto* bottom_dock = dock("Variants and jobs", bottom_tabs_, Qt::BottomDockWidgetArea, "bottom");
  bottom_dock->setMinimumHeight(170);
  resizeDocks({bottom_dock}, {210}, Qt::Vertical);
  resizeDocks({tuning_dock, charts_dock}, {320, 440}, Qt::Horizontal);

  auto* tb = addToolBar("Main");
  tb->setObjectName("main-toolbar");
  tb->setIconSize(QSize(20, 20));
  tb->addAction(QIcon(":/icons/open.svg"), "Open model", this, [this] {
    const QString path = askOpenFile(this, "Open ONNX model", "ONNX models (*.onnx);;All files (*)");
    if (!path.isEmpty()) openModel(path);
  });
  tb->addAction(QIcon(":/icons/dataset.svg"), "Dataset", this, [this] {
    if (!dataset_dialog_) {
      dataset_dialog_ = new DatasetDialog(jobs_, this);
      connect(dataset_dialog_, &DatasetDialog::accepted, this, &MainWindow::openDataset);
    }
    dataset_dialog_->setSpec(
        QString::fromStdString(project_.dataset_spec.empty() ? "fashion-mnist" : project_.dataset_spec));
    dataset_dialog_->show();
    dataset_dialog_->preview();
  });
  tb->addAction(QIcon(":/icons/save.svg"), "Save project", this, [this] {
    QString path = project_path_;
    if (path.isEmpty())
      path = askSaveFile(this, "Save project", "project.edgetune.json", "EdgeTune projects (*.json)");
    if (!path.isEmpty()) saveProject(path);
  });
  tb->addSeparator();
  tb->addAction(QIcon(":/icons/fit.svg"), "Fit graph", graph_, &GraphView::fitAll);
  search_ = new QLineEdit(this);
  search_->setPlaceholderText("Find node (Ctrl+F)");
  search_->setClearButtonEnabled(true);
  search_->setMaximumWidth(240);
  tb->addWidget(search_);
  connect(search_, &QLineEdit::returnPressed, this, [this] {
    static QString last;
    if (search_->text() == last && last.size()) {
      graph_->findNext();
      return;
    }
    last = search_->text();
    const int n = graph_->search(last);
    setStatus(n ? QString("%1 nodes match '%2' (Enter for next)").arg(n).arg(last)
                : "No node matches '" + last + "'",
              5000);
  });
  tb->addWidget(new QLabel(" Color: ", this));
  color_mode_ = new QComboBox(this);
  for (auto mode : allColorModes()) color_mode_->addItem(colorModeName(mode), static_cast<int>(mode));
  tb->addWidget(color_mode_);
  connect(color_mode_, &QComboBox::currentIndexChanged, this,
          [this] { graph_->setColorMode(static_cast<GraphColorMode>(color_mode_->currentData().toInt())); });
  tb->addSeparator();
  tb->addAction(QIcon(":/icons/evaluate.svg"), "Measure (F5)", tuning_, &TuningPanel::measureNow);
  tb->addAction(QIcon(":/icons/apply.svg"), "Apply", tuning_, &TuningPanel::apply);
  tb->addAction("Run sensitivity", this, qOverload<>(&MainWindow::runSensitivity))
      ->setToolTip("Sweep each prune group alone over pruning ratios on the dataset's seeded subset");

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

  // Wiring between views.
  connect(graph_, &GraphView::nodeSelected, this, [this](int node) {
    if (node >= 0) inspector_->showNode(node);
    // A node that a structured-pruning group couples selects that group (its row, and its nodes highlighted):
    // the group it produces channels for first, else the only group it belongs to.
    if (node < 0 || !baseline_ || node >= baseline_->graph().node_size()) return;
    const std::string& name = baseline_->graph().node(node).name();
    const PruneGroup* producing = nullptr;
    std::vector<const PruneGroup*> member_of;
    for (const auto& g : tuning_->pruneGroups()) {
      if (!producing && std::find(g.producers.begin(), g.producers.end(), name) != g.producers.end())
        producing = &g;
      if (std::find(g.nodes.begin(), g.nodes.end(), name) != g.nodes.end()) member_of.push_back(&g);
    }
    const PruneGroup* group = producing ? producing : (member_of.size() == 1 ? member_of[0] : nullptr);
    tuning_->selectPruneGroup(group ? QString::fromStdString(group->id) : QString());
  });
  connect(
      tuning_, &TuningPanel::pruneGroupSelected, this, [this](const QString& id, const QStringList& nodes) {
        if (!baseline_) return;
        std::unordered_map<std::string, int> index;
        for (int i = 0; i < baseline_->graph().node_size(); ++i) index[baseline_->graph().node(i).name()] = i;
        std::vector<int> highlighted;
        for (const auto& n : nodes)
          if (auto it = index.find(n.toStdString()); it != index.end()) highlighted.push_back(it->second);
        // Bring the group into view unless the user is looking at one of its nodes already (a graph click).
        if (!highlighted.empty() &&
            std::find(highlighted.begin(), highlighted.end(), graph_->selectedNode()) == highlighted.end())
          graph_->centerOnNode(*std::min_element(highlighted.begin(), highlighted.end()));
        graph_->setHighlightedNodes(highlighted);
        if (!id.isEmpty())
          setStatus(QString("Group %1 couples %2 nodes (outlined in the graph)").arg(id).arg(nodes.size()),
                    6000);
      });
  // Quantization exclusions picked node by node: graph context menu and inspector button -> tuning knobs ->
  // marks in the graph and the inspector's button label.
  auto request_exclusion = [this](int node, bool exclude) {
    if (!baseline_ || node < 0 || node >= baseline_->graph().node_size()) return;
    const QString name = QString::fromStdString(baseline_->graph().node(node).name());
    tuning_->setExcludedFromQuantization(name, exclude);
    setStatus(QString("%1 '%2'").arg(exclude ? "Kept in float:" : "Quantized again:", name), 5000);
  };
  connect(graph_, &GraphView::quantExclusionRequested, this, request_exclusion);
  connect(inspector_, &NodeInspector::quantExclusionRequested, this, request_exclusion);
  connect(tuning_, &TuningPanel::quantExclusionsChanged, this, &MainWindow::showQuantExclusions);
  connect(graph_, &GraphView::groupSelected, this, [this](const QString& scope) {
    const auto* s = graph_->structure();
    inspector_->showGroup(scope, s ? s->scope_sizes.at(scope.toStdString()) : 0);
  });
  connect(tuning_, &TuningPanel::pruningRatios, this, [this](const std::vector<double>& r) {
    // Indexed by the base's nodes: the graph shows the project's model, so only a base with the same nodes
    // (a pruned one) maps onto it.
    if (baseline_ && static_cast<int>(r.size()) == baseline_->graph().node_size())
      graph_->setOverlayValues(GraphColorMode::PruningRatio, r);
  });
  connect(tuning_, &TuningPanel::statusMessage, this, [this](const QString& m) { setStatus(m, 8000); });
  connect(tuning_, &TuningPanel::firstChartUpdate, this, [this](double ms) {
    stall_label_->setToolTip(QString("Longest UI-thread stall (10 ms heartbeat); target < 100 ms.\n"
                                     "Last knob change -> first chart point: %1 ms")
                                 .arg(ms, 0, 'f', 0));
  });
  // A variant applied before its measurement finished picks up the numbers as they arrive.
  connect(tuning_, &TuningPanel::measurementUpdated, this, [this](const VariantMetrics& m) {
    bool changed = false;
    for (size_t i = 1; i < project_.variants.size(); ++i) {
      auto& v = project_.variants[i];
      if (!v.model_file.empty() || v.base != project_.current_base || v.knobs != tuning_->liveKnobs())
        continue;
      if (v.metrics.accuracy_count.value_or(-1) > m.accuracy_count.value_or(-1)) continue;
      if (v.metrics.accuracy_count && !m.accuracy_count) continue;
      v.metrics = m;
      changed = true;
    }
    if (changed) {
      refreshVariants();
      markDirty();
    }
  });
  connect(tuning_, &TuningPanel::knobsChanged, this, [this](const nlohmann::json& k) {
    project_.knobs = k;
    markDirty();
  });
  connect(tuning_, &TuningPanel::variantApplied, this, [this](const Variant& v) {
    if (!base_model_) {
      setStatus("The base '" + currentBase() + "' is still being prepared: apply again once it is ready",
                8000);
      return;
    }
    Variant copy = v;
    // Made from the current base; unique names: "channels 30%", "channels 30% (2)".
    copy.base = project_.current_base;
    if (!copy.base.empty()) copy.name = copy.base + " + " + copy.name;
    copy.name = pipeline::uniqueVariantName(project_.variants, copy.name);
    project_.variants.push_back(copy);
    refreshVariants();
    variants_->selectVariant(static_cast<int>(project_.variants.size()) - 1);
    setStatus("Recorded variant '" + QString::fromStdString(copy.name) + "'", 5000);
    markDirty();
    autosave();
  });
  connect(pareto_, &ParetoChart::variantClicked, this, [this](int i) { variants_->selectVariant(i); });
  connect(variants_, &VariantsPanel::variantSelected, this, [this](int i) {
    pareto_->setSelected(i);
    if (i < 0 || i >= static_cast<int>(project_.variants.size())) return;
    setTrainSource(i);
    const Variant& v = project_.variants[i];
    // A variant with its own model file cannot be reproduced from knobs: re-measuring its recipe would show
    // numbers for a different model.
    if (!v.model_file.empty()) {
      setStatus("'" + QString::fromStdString(v.name) + "' carries its own model file (" +
                    QString::fromStdString(v.model_file) + "); its recipe is descriptive only",
                6000);
      return;
    }
    if (v.base != project_.current_base) {
      setStatus(
          "'" + QString::fromStdString(v.name) + "' is made from " +
              (v.base.empty() ? QString("the original model") : "'" + QString::fromStdString(v.base) + "'") +
              ": use that as the base to edit its knobs",
          6000);
      return;
    }
    if (!v.knobs.empty()) tuning_->setKnobs(v.knobs, true);
  });
  connect(variants_, &VariantsPanel::compareRequested, this, &MainWindow::compareVariants);
  connect(variants_, &VariantsPanel::exportRequested, this, [this](int i) {
    const QString suggested = QString::fromStdString(project_.variants[i].name)
                                  .replace(QRegularExpression("[^A-Za-z0-9_.-]+"), "_") +
                              ".onnx";
    const QString path = askSaveFile(this, "Export variant as ONNX", suggested, "ONNX models (*.onnx)");
    if (!path.isEmpty()) exportVariant(i, path);
  });
  // Training: a finished run becomes a variant carrying the trained file (what export, compare and measure
  // use).
  connect(train_panel_, &TrainPanel::trainedVariant, this,
          [this](const Variant& v, const QString& onnx_path) {
            Variant copy = v;
            copy.model_file = onnx_path.toStdString();
            addVariant(copy);
            autosave();
          });
  connect(train_panel_, &TrainPanel::runningChanged, this, [this](bool running) {
    if (!running) return;
    chart_tabs_->setCurrentWidget(training_);
    showBottomTab("Jobs");
  });
  connect(train_panel_, &TrainPanel::statusMessage, this, [this](const QString& m) { setStatus(m, 8000); });
  connect(train_panel_, &TrainPanel::trainingFailed, this,
          [this](const QString& m) { setStatus("Training: " + m, 10000); });
  // Devices: a benchmark of a deployed variant is attached to it.
  connect(devices_, &DevicesPanel::benchmarkReady, this, &MainWindow::onBenchmarkReady);
  connect(devices_, &DevicesPanel::deployFinished, this,
          [this](const QString& device, bool ok, const QString& message) {
            setStatus(ok ? "Deployed to " + device + (message.isEmpty() ? QString() : ": " + message)
                         : "Deploy to " + device + " failed: " + message,
                      10000);
          });
  connect(variants_, &VariantsPanel::removeRequested, this, [this](int i) {
    if (i <= 0 || i >= static_cast<int>(project_.variants.size())) return;
    const std::string name = project_.variants[i].name;
    if (name == project_.current_base) {
      setStatus(
          "'" + QString::fromStdString(name) + "' is the current base: reset the base first (Ctrl+Shift+B)",
          8000);
      return;
    }
    for (const auto& other : project_.variants)
      if (other.base == name) {
        setStatus("'" + QString::fromStdString(name) + "' is the base of '" +
                      QString::fromStdString(other.name) + "': remove that one first",
                  8000);
        return;
      }
    project_.variants.erase(project_.variants.begin() + i);
    refreshVariants();
    markDirty();
  });
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu("&File");
  file->addAction(QIcon(":/icons/open.svg"), "&Open model...", QKeySequence::Open, this, [this] {
    const QString path = askOpenFile(this, "Open ONNX model", "ONNX models (*.onnx);;All files (*)");
    if (!path.isEmpty()) openModel(path);
  });
  file->addAction(QIcon(":/icons/dataset.svg"), "Open &dataset...", QKeySequence("Ctrl+D"), this, [this] {
    if (!dataset_dialog_) {
      dataset_dialog_ = new DatasetDialog(jobs_, this);
      connect(dataset_dialog_, &DatasetDialog::accepted, this, &MainWindow::openDataset);
    }
    dataset_dialog_->show();
    dataset_dialog_->preview();
  });
  recent_menu_ = file->addMenu("Open &recent");
  refreshRecentMenu();
  file->addAction("Open &demo", this, &MainWindow::openDemo);
  file->addSeparator();
  file->addAction("Open &project...", QKeySequence("Ctrl+Shift+O"), this, [this] {
    const QString path = askOpenFile(this, "Open project", "EdgeTune projects (*.json)");
    if (!path.isEmpty()) loadProject(path);
  });
  file->addAction(QIcon(":/icons/save.svg"), "&Save project", QKeySequence::Save, this, [this] {
    QString path = project_path_;
    if (path.isEmpty())
      path = askSaveFile(this, "Save project", "project.edgetune.json", "EdgeTune projects (*.json)");
    if (!path.isEmpty()) saveProject(path);
  });
  file->addAction("Save project &as...", QKeySequence("Ctrl+Shift+S"), this, [this] {
    const QString path =
        askSaveFile(this, "Save project", "project.edgetune.json", "EdgeTune projects (*.json)");
    if (!path.isEmpty()) saveProject(path);
  });
  file->addAction(QIcon(":/icons/export.svg"), "&Export selected variant...", QKeySequence("Ctrl+E"), this,
                  [this] {
                    const auto sel = variants_->selectedVariants();
                    const int i = sel.size() == 1 ? sel[0] : static_cast<int>(project_.variants.size()) - 1;
                    if (i < 0) return;
                    const QString path =
                        askSaveFile(this, "Export variant as ONNX", "variant.onnx", "ONNX models (*.onnx)");
                    if (!path.isEmpty()) exportVariant(i, path);
                  });
  file->addSeparator();
  auto* open_recipe = file->addAction("Open re&cipe...", QKeySequence("Ctrl+Alt+O"), this, [this] {
    const QString path = askOpenFile(this, "Open recipe", "Recipes (*.yaml *.yml *.json);;All files (*)");
    if (!path.isEmpty()) openRecipe(path);
  });
  open_recipe->setObjectName("open-recipe-action");
  auto* save_recipe = file->addAction("Save rec&ipe...", QKeySequence("Ctrl+Alt+S"), this, [this] {
    const QString path = askSaveFile(this, "Save recipe", suggestedRecipePath(), "Recipes (*.yaml *.yml)");
    if (!path.isEmpty()) saveRecipe(path);
  });
  save_recipe->setObjectName("save-recipe-action");
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);

  auto* edit = menuBar()->addMenu("&Edit");
  auto* undo = undo_->createUndoAction(this, "&Undo");
  undo->setShortcut(QKeySequence("Ctrl+Z"));
  auto* redo = undo_->createRedoAction(this, "&Redo");
  redo->setShortcuts({QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")});
  edit->addAction(undo);
  edit->addAction(redo);
  edit->addSeparator();
  edit->addAction("&Find node...", QKeySequence::Find, this, [this] {
    search_->setFocus();
    search_->selectAll();
  });
  edit->addAction("Find &next", QKeySequence::FindNext, graph_, &GraphView::findNext);

  auto* view = menuBar()->addMenu("&View");
  view->addAction(QIcon(":/icons/fit.svg"), "&Fit graph", QKeySequence("Ctrl+0"), graph_, &GraphView::fitAll);
  view->addAction("Zoom &in", QKeySequence::ZoomIn, this, [this] { graph_->zoomBy(1.25); });
  view->addAction("Zoom &out", QKeySequence::ZoomOut, this, [this] { graph_->zoomBy(0.8); });
  view->addAction("&Expand all groups", graph_, &GraphView::expandAll);
  view->addSeparator();
  view->addAction("&Graph", QKeySequence("Ctrl+1"), this, [this] { showCentralTab(0); });
  view->addAction("&Compare", QKeySequence("Ctrl+2"), this, [this] { showCentralTab(1); });

  auto* run = menuBar()->addMenu("&Run");
  run->addAction(QIcon(":/icons/evaluate.svg"), "&Measure current recipe", QKeySequence("F5"), tuning_,
                 &TuningPanel::measureNow);
  run->addAction(QIcon(":/icons/apply.svg"), "&Apply (record variant)", QKeySequence("Ctrl+Return"), tuning_,
                 &TuningPanel::apply);
  run->addAction("Run &sensitivity", QKeySequence("Ctrl+Shift+Y"), this,
                 qOverload<>(&MainWindow::runSensitivity));
  run->addAction("Re-measure &baseline", QKeySequence("Shift+F5"), this, &MainWindow::measureBaseline);
  run->addAction("Measure &latency per node", this, [this] {
    if (!baseline_) return;
    auto model = baseline_;
    jobs_->start("Latency per node", [=, this](JobContext& job, JobHandle& handle) {
      auto shares = std::make_shared<std::vector<double>>(pipeline::measureLatencyShares(*model, 20, &job));
      handle.postToUi([=, this] {
        if (model != baseline_) return;
        graph_->setOverlayValues(GraphColorMode::LatencyShare, *shares);
        color_mode_->setCurrentIndex(color_mode_->findData(static_cast<int>(GraphColorMode::LatencyShare)));
        setStatus("Latency share per node measured (ONNX Runtime profiler, optimizations off)", 8000);
      });
    });
  });
  run->addAction("Diagnose &quantization error", this, [this] {
    const nlohmann::json recipe = tuning_->currentRecipe();
    auto dataset = datasetForModel();
    bool has_quantize = false;
    nlohmann::json float_recipe = recipe;
    float_recipe["passes"] = nlohmann::json::array();
    for (const auto& p : recipe["passes"]) {
      if (p.value("pass", std::string()) == "quantize")
        has_quantize = true;
      else
        float_recipe["passes"].push_back(p);
    }
    if (!base_model_ || !dataset || !has_quantize) {
      setStatus(
          "Quantization error needs a model, a fitting dataset and a quantization mode in the tuning panel",
          8000);
      return;
    }
    auto model = base_model_;  // the knobs apply to the current base
    jobs_->start("Quantization error", [=, this](JobContext& job, JobHandle& handle) {
      const Model float_model = pipeline::applyRecipe(*model, float_recipe, nullptr);
      const Model quantized = pipeline::applyRecipe(*model, recipe, nullptr);
      auto errors = std::make_shared<std::vector<double>>(
          pipeline::quantizationErrorPerNode(*model, float_model, quantized, *dataset, 64, &job));
      handle.postToUi([=, this] {
        if (model != base_model_) return;
        graph_->setOverlayValues(GraphColorMode::QuantizationError, *errors);
        color_mode_->setCurrentIndex(
            color_mode_->findData(static_cast<int>(GraphColorMode::QuantizationError)));
        setStatus("Quantization error per node (noise-to-signal dB, higher is worse)", 8000);
      });
    });
  });
  run->addSeparator();
  auto* run_recipe =
      run->addAction("Run &recipe...", QKeySequence("Ctrl+R"), this, [this] { showRecipeRunDialog(); });
  run_recipe->setObjectName("run-recipe-action");
  run_recipe->setToolTip(
      "Run the current knobs or a recipe file as one pipeline job; each step becomes a variant");
  run->addSeparator();
  run->addAction("&Cancel all jobs", QKeySequence("Ctrl+."), this, [this] {
    for (auto* j : jobs_->jobs()) j->cancel();
  });

  // Variants form chains: the selected one becomes what the knobs and the Training dock start from.
  auto* variants_menu = menuBar()->addMenu("Varia&nts");
  use_as_base_action_ = variants_menu->addAction("Use as &base", QKeySequence("Ctrl+B"), this, [this] {
    const auto sel = variants_->selectedVariants();
    if (sel.size() != 1) {
      setStatus("Select one variant to use as the base", 6000);
      return;
    }
    useAsBase(sel[0]);
  });
  use_as_base_action_->setObjectName("use-as-base-action");
  use_as_base_action_->setToolTip(
      "Apply and the Training dock start from the selected variant's model (quantize a recovered variant, "
      "distill into a pruned one)");
  reset_base_action_ = variants_menu->addAction("&Reset base to the original model",
                                                QKeySequence("Ctrl+Shift+B"), this, &MainWindow::resetBase);
  reset_base_action_->setObjectName("reset-base-action");
  variants_menu->addSeparator();
  auto* save_variant_recipe = variants_menu->addAction("Save recipe of &variant...", this, [this] {
    const auto sel = variants_->selectedVariants();
    if (sel.size() != 1) {
      setStatus("Select one variant to save its recipe", 6000);
      return;
    }
    const QString folder =
        project_path_.isEmpty() ? QString() : QFileInfo(project_path_).absolutePath() + "/";
    const QString stem = QString::fromStdString(project_.variants[sel[0]].name)
                             .replace(QRegularExpression("[^A-Za-z0-9_.-]+"), "_");
    const QString path =
        askSaveFile(this, "Save recipe of variant", folder + stem + ".yaml", "Recipes (*.yaml *.yml)");
    if (!path.isEmpty()) saveVariantRecipe(sel[0], path);
  });
  save_variant_recipe->setObjectName("save-variant-recipe-action");

  auto* tools = menuBar()->addMenu("&Tools");
  train_action_ = tools->addAction("&Train / distill...", QKeySequence("Ctrl+T"), this, [this] {
    train_dock_->show();
    train_dock_->raise();
    train_panel_->setFocus();
  });
  train_action_->setObjectName("train-action");
  train_action_->setToolTip("Fine-tune or distill the selected variant or a zoo student (Training dock)");
  deploy_action_ = tools->addAction("&Deploy variant...", QKeySequence("Ctrl+Shift+D"), this, [this] {
    const auto sel = variants_->selectedVariants();
    if (sel.size() != 1) {
      setStatus("Select one variant to deploy", 6000);
      return;
    }
    deployVariant(sel[0]);
  });
  deploy_action_->setObjectName("deploy-action");
  deploy_action_->setToolTip(
      "Send the selected variant to a device (Devices tab), optionally with a benchmark");
  tools->addSeparator();
  // The studio's --no-clean: applies to the next model opened.
  auto* clean_on_open = tools->addAction("&Clean up models on open");
  clean_on_open->setObjectName("clean-on-open-action");
  clean_on_open->setCheckable(true);
  clean_on_open->setChecked(options_.clean_on_open);
  clean_on_open->setToolTip(
      "Remove Identity/Dropout, fold constants and drop dead code when a model file is opened (outputs "
      "unchanged; "
      "the file is never changed). Off: the model is used exactly as exported.");
  connect(clean_on_open, &QAction::toggled, this, [this](bool on) {
    options_.clean_on_open = on;
    setStatus(
        on ? "Models opened from now on are cleaned up first" : "Models opened from now on are used as given",
        6000);
  });
  // The same two from the variants table's context menu.
  auto* train_from = new QAction("Train / distill from this variant...", this);
  connect(train_from, &QAction::triggered, this, [this] {
    const auto sel = variants_->selectedVariants();
    if (sel.size() == 1) setTrainSource(sel[0]);
    train_action_->trigger();
  });
  variants_->table()->setContextMenuPolicy(Qt::ActionsContextMenu);
  variants_->table()->addAction(use_as_base_action_);
  variants_->table()->addAction(reset_base_action_);
  variants_->table()->addAction(deploy_action_);
  variants_->table()->addAction(train_from);

  auto* debug = menuBar()->addMenu("&Debug");
  debug->addAction("UI &stall report", this, [this] {
    const QString text = QString(
                             "Longest UI-thread stall: %1 ms overall, %2 ms while jobs ran; longest stall "
                             "spent computing on the UI thread: %3 ms (%4 heartbeats).")
                             .arg(stalls_->maxStallMs(), 0, 'f', 1)
                             .arg(stalls_->maxStallWhileJobsMs(), 0, 'f', 1)
                             .arg(stalls_->maxBusyStallMs(), 0, 'f', 1)
                             .arg(stalls_->beats());
    if (scriptedMode())
      setStatus(text);
    else
      QMessageBox::information(this, "UI stall report", text);
  });
  debug->addAction("&Reset stall measurement", this, [this] { stalls_->reset(); });
}

void MainWindow::setStatus(const QString& text, int timeout_ms) {
  statusBar()->showMessage(text, timeout_ms);
  emit statusChanged(text);
}

void MainWindow::updateTitle() {
  QString name = project_path_.isEmpty() ? "untitled" : QFileInfo(project_path_).fileName();
  const QString base = project_.current_base.empty() ? QString() : " [base: " + currentBase() + "]";
  setWindowTitle(QString("%1%2%3 - EdgeTune Studio").arg(name, dirty_ ? "*" : "", base));
}

void MainWindow::markDirty() {
  dirty_ = true;
  updateTitle();
}

void MainWindow::showCentralTab(int index) {
  central_tabs_->setCurrentIndex(index);
}

void MainWindow::showBottomTab(const QString& title) {
  for (int i = 0; i < bottom_tabs_->count(); ++i)
    if (bottom_tabs_->tabText(i) == title) bottom_tabs_->setCurrentIndex(i);
}

void MainWindow::openModel(const QString& source) {
  const int generation = ++open_generation_;
  open_clock_.start();
  setStatus("Opening " + source + "...");
  const std::string src = source.toStdString();
  // A project being loaded brings its sensitivity sweep: its overlay is computed with the layout, off the UI
  // thread.
  std::shared_ptr<const SensitivityResult> saved_sensitivity;
  if (keep_variants_on_open_ && project_.sensitivity)
    saved_sensitivity = std::make_shared<SensitivityResult>(*project_.sensitivity);
  const std::shared_ptr<const Dataset> open_dataset = dataset_;  // read here, not on the worker
  jobs_->start("Open " + QFileInfo(source).fileName(), [=, this](JobContext& job, JobHandle& handle) {
    job.report(0.05, "loading");
    auto loaded = std::make_shared<Model>(zoo::loadModelSource(src));
    // As in the CLI: exports are cleaned on the way in (Identity, Dropout, constants, dead code); BatchNorm
    // stays so the Training dock can train it and the "bn" pruning criterion can read it.
    CanonicalizeReport clean;
    if (options_.clean_on_open && !zoo::isZooSource(src)) {
      job.report(0.2, "clean-up");
      CanonicalizeOptions canonical;
      canonical.fold_batchnorm = false;
      PassContext context(&job);
      clean = canonicalize(*loaded, canonical, context);
    }
    std::shared_ptr<const Model> model = loaded;
    QString clean_summary = clean.ran ? QString::fromStdString(clean.summary()) : QString();
    for (const auto& line : loaded->conversion().lines)  // a newer opset converted down on load
      clean_summary = QString::fromStdString(line) + (clean_summary.isEmpty() ? "" : "; ") + clean_summary;
    job.report(0.4, "statistics");
    InputShapes shapes;
    QString shapes_problem;
    try {
      const ExampleShapes example = open_dataset ? exampleShapesOf(*open_dataset) : ExampleShapes{};
      shapes = resolveInputShapes(*model, {}, open_dataset ? &example : nullptr);
    } catch (const std::exception& e) {
      shapes_problem = QString::fromUtf8(e.what());
    }
    auto stats =
        std::make_shared<ModelStats>(computeStats(*model, shapes_problem.isEmpty() ? &shapes : nullptr));
    job.report(0.6, "graph layout");
    auto prepared = std::make_shared<PreparedGraph>(prepareGraph(model, stats));
    const double layout_seconds = prepared->layout.seconds;
    std::shared_ptr<std::vector<double>> sensitivity_overlay;
    if (saved_sensitivity) {
      job.report(0.9, "sensitivity overlay");
      try {
        sensitivity_overlay =
            std::make_shared<std::vector<double>>(pipeline::sensitivityOverlay(*model, *saved_sensitivity));
      } catch (const std::exception&) {
        sensitivity_overlay
            .reset();  // groups not found in this model: the chart alone is still worth showing
      }
    }
    handle.postToUi([=, this] {
      if (generation != open_generation_) return;
      baseline_ = model;
      stats_ = stats;
      input_shapes_ = shapes;
      input_shapes_problem_ = shapes_problem;
      clean_summary_ = clean_summary;
      tuning_->measureOptions().input_shapes = shapes;
      graph_->clear();
      graph_->setPrepared(std::move(*prepared));
      inspector_->setModel(model, stats);
      project_.model_path = src;
      if (!keep_variants_on_open_) {
        Variant base;
        base.name = "baseline";
        base.recipe = pipeline::emptyRecipe();
        base.created_utc = pipeline::nowUtcIso();
        project_.variants = {base};
        project_.current_base.clear();
        project_.sensitivity.reset();  // a sweep of another model
        deploy_targets_.clear();  // files of the previous model's variants: their benchmarks are not these
        sensitivity_->clearCurves();
      }
      keep_variants_on_open_ = false;
      if (saved_sensitivity && project_.sensitivity) {
        sensitivity_->setResult(*saved_sensitivity);
        if (sensitivity_overlay) graph_->setOverlayValues(GraphColorMode::Sensitivity, *sensitivity_overlay);
      }
      showQuantExclusions(tuning_->quantExcludedNodes());
      refreshVariants();
      QString problem;
      base_model_ = baseline_;
      ++base_generation_;
      tuning_->setContext(baseline_, datasetForModel(&problem), project_.dataset_spec);
      if (saved_sensitivity && project_.sensitivity) tuning_->setSensitivity(saved_sensitivity);
      updateTrainContext();
      train_panel_->setSourceModel(baseline_, "baseline", pipeline::emptyRecipe(), {});
      train_panel_->setBaseModel(baseline_, {});
      // A loaded project's base is prepared from this model.
      if (!project_.current_base.empty()) applyBase(project_.current_base);
      showBase();
      dataset_label_->setText(dataset_ ? QString::fromStdString(dataset_->name()) +
                                             (problem.isEmpty() ? "" : " (does not fit)")
                                       : "no dataset");
      dataset_label_->setToolTip(problem);
      last_open_seconds_ = open_clock_.elapsed() / 1000.0;
      model_label_->setToolTip(
          (clean_summary_.isEmpty() ? QString("Used exactly as given (no clean-up)") : clean_summary_) +
          "\n" +
          (input_shapes_problem_.isEmpty()
               ? "Input sizes: " + QString::fromStdString(input_shapes_.describe()) +
                     QString::fromStdString(input_shapes_.notes.empty() ? ""
                                                                        : "\n" + input_shapes_.notes.front())
               : input_shapes_problem_));
      model_label_->setText(
          QString("%1: %2 nodes, %3 params, %4")
              .arg(zoo::isZooSource(src) ? QString::fromStdString(src) : QFileInfo(source).fileName())
              .arg(stats->node_count)
              .arg(stats->params)
              .arg(QString::fromStdString(formatBytes(stats->serialized_bytes))));
      if (!zoo::isZooSource(src)) addRecent(source);
      setStatus(
          QString("Opened %1 in %2 s (layout %3 s, %4 items drawn)%5%6%7")
              .arg(source)
              .arg(last_open_seconds_, 0, 'f', 2)
              .arg(layout_seconds, 0, 'f', 2)
              .arg(graph_->visibleItemCount())
              .arg(clean_summary_.isEmpty() ? QString() : "; " + clean_summary_)
              .arg(input_shapes_problem_.isEmpty() ? QString() : "; latency off: " + input_shapes_problem_)
              .arg(problem.isEmpty() ? QString() : "; accuracy off: " + problem));
      markDirty();
      measureBaseline();
      emit modelOpened(last_open_seconds_);
    });
  });
  connect(jobs_->jobs().last(), &JobHandle::finished, this,
          [this, source](JobHandle::State s, const QString& error) {
            if (s == JobHandle::State::Failed) {
              setStatus("Could not open " + source + ": " + error);
              showError(this, "Cannot open model", error);
            }
          });
}

std::shared_ptr<const Dataset> MainWindow::datasetForModel(QString* problem) const {
  if (!dataset_ || !baseline_) return dataset_;
  std::vector<TensorInfo> inputs;
  for (const auto& vi : baseline_->inputs()) inputs.push_back({vi.name, vi.type, vi.shape});
  try {
    checkInputsFit(inputs, dataset_->features(), dataset_->name());
    return dataset_;
  } catch (const std::exception& e) {
    if (problem) *problem = QString::fromUtf8(e.what());
    return nullptr;
  }
}

void MainWindow::runSensitivity() {
  SensitivityOptions options;
  options.seed = 1;
  runSensitivity(options);
}

void MainWindow::runSensitivity(SensitivityOptions options) {
  if (options.input_shapes.empty()) options.input_shapes = input_shapes_;
  QString problem;
  auto dataset = datasetForModel(&problem);
  if (!baseline_ || !dataset) {
    setStatus(
        !baseline_ ? "Open a model first" : (problem.isEmpty() ? "Open a dataset first (Ctrl+D)" : problem),
        8000);
    return;
  }
  auto model = baseline_;
  sensitivity_->clearCurves();
  chart_tabs_->setCurrentWidget(sensitivity_);
  showBottomTab("Jobs");
  jobs_->start("Sensitivity sweep", [=, this](JobContext& job, JobHandle& handle) {
    auto result = std::make_shared<SensitivityResult>(analyzeSensitivity(*model, *dataset, options, &job));
    // Overlay: each group's mean accuracy drop (points) on its producer nodes.
    auto overlay = std::make_shared<std::vector<double>>(pipeline::sensitivityOverlay(*model, *result));
    handle.postToUi([=, this] {
      if (model != baseline_) return;
      sensitivity_->setResult(*result);
      // "Allocate" in the pruning section reads it; the sweep is of the project's model, so its groups are
      // the knobs' only while that is the base (installBaseModel hands it over again on a reset).
      if (project_.current_base.empty()) tuning_->setSensitivity(result);
      project_.sensitivity = *result;  // saved with the project: re-opening restores chart and overlay
      markDirty();
      graph_->setOverlayValues(GraphColorMode::Sensitivity, *overlay);
      const int i = color_mode_->findData(static_cast<int>(GraphColorMode::Sensitivity));
      if (i >= 0) color_mode_->setCurrentIndex(i);
      setStatus(QString("Sensitivity: %1 groups on %2 examples, baseline %3% (%4 s)")
                    .arg(result->curves.size())
                    .arg(result->examples)
                    .arg(100 * result->baseline_accuracy, 0, 'f', 2)
                    .arg(result->seconds, 0, 'f', 1),
                10000);
      emit sensitivityReady(static_cast<int>(result->curves.size()));
    });
  });
}

void MainWindow::measureBaseline() {
  if (!baseline_ || project_.variants.empty()) return;
  auto model = baseline_;
  auto dataset = datasetForModel();
  pipeline::MeasureOptions options;
  options.accuracy_limit = options_.baseline_accuracy_limit;
  options.input_shapes = input_shapes_;
  const int generation = open_generation_;
  jobs_->start("Measure baseline", [=, this](JobContext& job, JobHandle& handle) {
    Model cleaned = *model;
    const VariantMetrics m = pipeline::measureVariant(cleaned, dataset.get(), options, job, {});
    handle.postToUi([=, this] {
      if (generation != open_generation_ || project_.variants.empty()) return;
      project_.variants[0].metrics = m;
      refreshVariants();
    });
  });
}

void MainWindow::openDataset(const QString& spec) {
  const std::string s = spec.toStdString();
  setStatus("Opening dataset " + spec + "...");
  auto* job = jobs_->start("Open dataset", [=, this](JobContext&, JobHandle& handle) {
    auto dataset = edgetune::openDataset(s);
    handle.postToUi([=, this] {
      dataset_ = dataset;
      project_.dataset_spec = s;
      QString problem;
      auto fitting = datasetForModel(&problem);
      dataset_label_->setText(QString::fromStdString(dataset->name()) +
                              (problem.isEmpty() ? "" : " (does not fit)"));
      dataset_label_->setToolTip(problem);
      if (!problem.isEmpty()) setStatus("Dataset opened, but accuracy is off: " + problem);
      if (baseline_ && fitting) {
        // A model with a dynamic image size takes it from the dataset now.
        try {
          const ExampleShapes example = exampleShapesOf(*fitting);
          input_shapes_ = resolveInputShapes(*baseline_, {}, &example);
          input_shapes_problem_.clear();
          tuning_->measureOptions().input_shapes = input_shapes_;
        } catch (const std::exception& e) {
          input_shapes_problem_ = QString::fromUtf8(e.what());
        }
      }
      tuning_->setContext(base_model_ ? base_model_ : baseline_, fitting, s);
      updateTrainContext();
      markDirty();
      measureBaseline();
      emit datasetOpened(QString::fromStdString(dataset->name()));
    });
  });
  connect(job, &JobHandle::finished, this, [this](JobHandle::State st, const QString& error) {
    if (st == JobHandle::State::Failed) {
      setStatus("Dataset: " + error);
      showError(this, "Cannot open dataset", error);
    }
  });
}

void MainWindow::openDemo() {
  const QString bundled = bundledDemoModelPath();
  if (QFileInfo::exists("/usr/share/datasets/fashion-mnist")) openDataset("fashion-mnist");
  if (QFileInfo::exists(bundled)) {
    openModel(bundled);
    return;
  }
  openModel(demoZooSource());
  connect(
      this, &MainWindow::modelOpened, this,
      [this] {
        setStatus("Bundled demo model not found (" + bundledDemoModelPath() +
                  "): built an untrained ResNet-20 for 1x28x28 Fashion-MNIST from the zoo instead.");
      },
      Qt::SingleShotConnection);
}

bool MainWindow::saveProject(const QString& path) {
  try {
    project_.knobs = tuning_->knobs();
    project_.save(path.toStdString());
    project_path_ = path;
    train_panel_->setOutputDir(trainOutputDir());
    dirty_ = false;
    updateTitle();
    addRecent(path);
    setStatus("Saved " + path, 5000);
    return true;
  } catch (const std::exception& e) {
    showError(this, "Cannot save project", e.what());
    return false;
  }
}

bool MainWindow::loadProject(const QString& path) {
  try {
    Project p = Project::load(path.toStdString());
    project_ = p;
    project_path_ = path;
    train_panel_->setOutputDir(trainOutputDir());
    refreshVariants();
    tuning_->setKnobs(p.knobs.empty() ? tuning_->knobs() : p.knobs, false);
    if (!p.dataset_spec.empty()) openDataset(QString::fromStdString(p.dataset_spec));
    if (!p.model_path.empty()) {
      keep_variants_on_open_ = true;
      openModel(QString::fromStdString(p.model_path));
    }
    dirty_ = false;
    updateTitle();
    addRecent(path);
    return true;
  } catch (const std::exception& e) {
    showError(this, "Cannot open project", e.what());
    return false;
  }
}

void MainWindow::exportVariant(int index, const QString& onnx_path) {
  if (!baseline_ || index < 0 || index >= static_cast<int>(project_.variants.size())) return;
  const Variant variant = project_.variants[index];
  const std::vector<Variant> variants = project_.variants;
  auto baseline = baseline_;
  const std::string source = project_.model_path, spec = project_.dataset_spec, out = onnx_path.toStdString();
  auto* job = jobs_->start(
      "Export " + QString::fromStdString(variant.name), [=, this](JobContext& job, JobHandle& handle) {
        Model model = pipeline::variantModel(*baseline, variants, variant, &job);
        pipeline::exportVariant(model, variant, source, spec, out);
        handle.postToUi([this, onnx_path] {
          setStatus("Exported " + onnx_path + " with its model card (.card.json, .card.md)", 8000);
          emit variantExported(onnx_path);
        });
      });
  connect(job, &JobHandle::finished, this, [this](JobHandle::State st, const QString& error) {
    if (st == JobHandle::State::Failed) showError(this, "Export failed", error);
  });
}

void MainWindow::addVariant(const Variant& variant) {
  project_.variants.push_back(variant);
  project_.variants.back().name =
      pipeline::uniqueVariantName({project_.variants.begin(), project_.variants.end() - 1}, variant.name);
  if (project_.variants.back().created_utc.empty())
    project_.variants.back().created_utc = pipeline::nowUtcIso();
  if (!project_.variants.back().device_benchmarks.is_array())
    project_.variants.back().device_benchmarks = nlohmann::json::array();
  refreshVariants();
  markDirty();
  setStatus("Added variant '" + QString::fromStdString(project_.variants.back().name) + "'", 5000);
  if (!variant.model_file.empty() && !variant.metrics.size_bytes)
    measureVariantAt(static_cast<int>(project_.variants.size()) - 1);
}

void MainWindow::attachDeviceBenchmark(int variant_index, const nlohmann::json& bench) {
  if (variant_index < 0 || variant_index >= static_cast<int>(project_.variants.size())) return;
  auto& benches = project_.variants[variant_index].device_benchmarks;
  if (!benches.is_array()) benches = nlohmann::json::array();
  benches.push_back(bench);
  refreshVariants();
  markDirty();
  if (const auto ms = pipeline::deviceLatencyMs(project_.variants[variant_index]))
    setStatus(QString("'%1' on the device: %2 ms median at 1 thread")
                  .arg(QString::fromStdString(project_.variants[variant_index].name))
                  .arg(*ms, 0, 'f', 3),
              8000);
}

void MainWindow::measureVariantAt(int index) {
  if (!baseline_ || index < 0 || index >= static_cast<int>(project_.variants.size())) return;
  const Variant variant = project_.variants[index];
  const std::vector<Variant> variants = project_.variants;
  auto baseline = baseline_;
  auto dataset = datasetForModel();
  pipeline::MeasureOptions options;
  options.accuracy_limit = options_.baseline_accuracy_limit;
  options.input_shapes = input_shapes_;
  auto* job = jobs_->start(
      "Measure " + QString::fromStdString(variant.name), [=, this](JobContext& job, JobHandle& handle) {
        const Model model = pipeline::variantModel(*baseline, variants, variant, &job);
        const VariantMetrics m = pipeline::measureVariant(model, dataset.get(), options, job, {});
        handle.postToUi([=, this] {
          // The list may have changed meanwhile: find the variant again by name and
          // model file.
          for (size_t i = 0; i < project_.variants.size(); ++i) {
            auto& v = project_.variants[i];
            if (v.name != variant.name || v.model_file != variant.model_file) continue;
            v.metrics = m;
            refreshVariants();
            markDirty();
            emit variantMeasured(static_cast<int>(i));
            return;
          }
        });
      });
  connect(job, &JobHandle::finished, this,
          [this, name = variant.name](JobHandle::State st, const QString& error) {
            if (st == JobHandle::State::Failed)
              setStatus("Cannot measure '" + QString::fromStdString(name) + "': " + error, 10000);
          });
}

void MainWindow::showQuantExclusions(const QStringList& names) {
  inspector_->setQuantExcludedNodes(names);
  if (!baseline_) return;
  std::vector<int> nodes;
  for (int i = 0; i < baseline_->graph().node_size(); ++i)
    if (names.contains(QString::fromStdString(baseline_->graph().node(i).name()))) nodes.push_back(i);
  graph_->setQuantExcludedNodes(std::move(nodes));
}

QString MainWindow::trainOutputDir() const {
  if (!project_path_.isEmpty()) return QFileInfo(project_path_).absoluteDir().filePath("trained");
  return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath("trained");
}

void MainWindow::updateTrainContext() {
  // The teacher's file: the opened ONNX path, or a zoo source (the panel writes such a teacher to a temporary
  // file). The dataset goes as opened: the panel explains itself when it does not fit the model.
  train_panel_->setContext(baseline_, QString::fromStdString(project_.model_path), dataset_,
                           project_.dataset_spec);
}

void MainWindow::setTrainSource(int index) {
  const int generation = ++train_source_generation_;
  if (!baseline_ || index < 0 || index >= static_cast<int>(project_.variants.size())) {
    train_panel_->setSourceModel(nullptr, {});
    return;
  }
  const Variant variant = project_.variants[index];
  const std::vector<Variant> variants = project_.variants;
  const QString label = QString::fromStdString(variant.name);
  if (isProjectModel(variant)) {  // the baseline itself: nothing to materialize
    train_panel_->setSourceModel(baseline_, label, variant.recipe, variant.knobs, {});
    return;
  }
  auto baseline = baseline_;
  auto* job =
      jobs_->start("Prepare '" + label + "' for training", [=, this](JobContext& job, JobHandle& handle) {
        auto model =
            std::make_shared<const Model>(pipeline::variantModel(*baseline, variants, variant, &job));
        handle.postToUi([=, this] {
          if (generation != train_source_generation_ || baseline != baseline_)
            return;  // another selection since
          train_panel_->setSourceModel(model, label, variant.recipe, variant.knobs, variant.name);
        });
      });
  connect(job, &JobHandle::finished, this, [this, label](JobHandle::State st, const QString& error) {
    if (st == JobHandle::State::Failed) setStatus("Cannot train from '" + label + "': " + error, 10000);
  });
}

void MainWindow::deployVariant(int index) {
  if (!baseline_ || index < 0 || index >= static_cast<int>(project_.variants.size())) {
    setStatus(!baseline_ ? "Open a model first" : "Select one variant to deploy", 6000);
    return;
  }
  if (!deploy_dir_)
    deploy_dir_ = std::make_unique<QTemporaryDir>(QDir::temp().filePath("edgetune-deploy-XXXXXX"));
  if (!deploy_dir_->isValid()) {
    setStatus("Cannot create a temporary folder for the deploy: " + deploy_dir_->errorString(), 10000);
    deploy_dir_.reset();
    return;
  }
  const Variant variant = project_.variants[index];
  const std::vector<Variant> variants = project_.variants;
  // One file per variant, named after it: the runner reports the path on the device, which ends in this name.
  const std::string stem = fileNameFrom(variant.name, "variant");
  std::string file_name = stem + ".onnx";
  for (int n = 2;; ++n) {
    auto it = deploy_targets_.find(file_name);
    if (it == deploy_targets_.end() ||
        (it->second.name == variant.name && it->second.model_file == variant.model_file))
      break;
    file_name = stem + "-" + std::to_string(n) + ".onnx";
  }
  const QString path = deploy_dir_->filePath(QString::fromStdString(file_name));
  const QString label = QString::fromStdString(variant.name);
  auto baseline = baseline_;
  auto* job =
      jobs_->start("Prepare '" + label + "' for deploy", [=, this](JobContext& job, JobHandle& handle) {
        const Model model = pipeline::variantModel(*baseline, variants, variant, &job);
        model.save(path.toStdString());  // atomic: the panel never sees half a file
        handle.postToUi([=, this] {
          deploy_targets_[file_name] = {variant.name, variant.model_file};
          devices_->setModel(path, label);
          showBottomTab("Devices");
          setStatus("'" + label + "' is ready to deploy: pick a device and press Deploy", 8000);
          const int now = findVariant(variant.name, variant.model_file);
          emit deployPrepared(now, path);
        });
      });
  connect(job, &JobHandle::finished, this, [this, label](JobHandle::State st, const QString& error) {
    if (st == JobHandle::State::Failed) {
      setStatus("Cannot deploy '" + label + "': " + error, 10000);
      showError(this, "Cannot prepare the variant for deployment", error);
    }
  });
}

std::string MainWindow::recipeName() const {
  QString name = project_path_.isEmpty() ? QString() : QFileInfo(project_path_).fileName();
  if (name.endsWith(".edgetune.json")) name.chop(static_cast<int>(std::strlen(".edgetune.json")));
  if (name.isEmpty() && !project_.model_path.empty() && !zoo::isZooSource(project_.model_path))
    name = QFileInfo(QString::fromStdString(project_.model_path)).completeBaseName();
  if (name.isEmpty() && zoo::isZooSource(project_.model_path)) name = "zoo";
  return fileNameFrom(name.toStdString(), "studio");  // a run folder is named after it
}

pipeline::RecipeFile MainWindow::currentRecipeFile() const {
  if (project_.model_path.empty()) throw Error("open a model first: a recipe starts from one");
  // The knobs as the variant Apply would record: made from the current base.
  Variant knobs;
  knobs.name = "the current knobs";
  knobs.base = project_.current_base;
  knobs.recipe = tuning_->currentRecipe();
  return recipeFileForVariant(project_, knobs, recipeName());
}

QString MainWindow::recipeRunDir(const pipeline::RecipeFile& recipe) const {
  const QString name = QString::fromStdString(recipe.name.empty() ? std::string("recipe") : recipe.name);
  const QString root = project_path_.isEmpty()
                           ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
                           : QFileInfo(project_path_).absolutePath();
  return QDir(root).filePath("runs/" + name);
}

bool MainWindow::saveRecipe(const QString& path) {
  try {
    const pipeline::RecipeFile recipe = recipeToSave();
    writeFileAtomic(path.toStdString(), recipeYamlFor(recipe, path.toStdString()));
    pipelineSaved(path);
    setStatus(QString("Saved recipe %1 (%2 steps): run it with edgetune-cli run %1")
                  .arg(path)
                  .arg(recipe.steps.size()),
              10000);
    return true;
  } catch (const std::exception& e) {
    setStatus("Cannot save recipe: " + QString::fromUtf8(e.what()));
    showError(this, "Cannot save recipe", e.what());
    return false;
  }
}

bool MainWindow::saveVariantRecipe(int index, const QString& path) {
  try {
    if (project_.model_path.empty()) throw Error("open a model first: a recipe starts from one");
    if (index < 0 || index >= static_cast<int>(project_.variants.size())) throw Error("no such variant");
    const Variant& variant = project_.variants[index];
    const pipeline::RecipeFile recipe = recipeFileForVariant(project_, variant, recipeName());
    writeFileAtomic(path.toStdString(), recipeYamlFor(recipe, path.toStdString()));
    setStatus(QString("Saved the recipe of '%1' %2 (%3 steps): run it with edgetune-cli run %2")
                  .arg(QString::fromStdString(variant.name), path)
                  .arg(recipe.steps.size()),
              10000);
    return true;
  } catch (const std::exception& e) {
    setStatus("Cannot save the recipe: " + QString::fromUtf8(e.what()));
    showError(this, "Cannot save recipe", e.what());
    return false;
  }
}

void MainWindow::useAsBase(int index) {
  if (!baseline_) {
    setStatus("Open a model first", 6000);
    return;
  }
  if (index >= static_cast<int>(project_.variants.size()) || index < -1) return;
  std::string name;
  if (index >= 0 && !isProjectModel(project_.variants[index])) {
    name = project_.variants[index].name;
    try {
      pipeline::baseChain(project_.variants, project_.variants[index]);
    } catch (const std::exception& e) {
      setStatus(
          "Cannot use '" + QString::fromStdString(name) + "' as the base: " + QString::fromUtf8(e.what()),
          10000);
      return;
    }
  }
  if (name == project_.current_base) {
    setStatus(name.empty() ? "The base is the original model already"
                           : "'" + QString::fromStdString(name) + "' is the base already",
              5000);
    return;
  }
  undo_->push(new BaseCommand(project_.current_base, name, [this](const std::string& n) { applyBase(n); }));
}

void MainWindow::resetBase() {
  useAsBase(-1);
}

void MainWindow::applyBase(const std::string& name) {
  const int generation = ++base_generation_;
  const int index = name.empty() ? -1 : pipeline::findVariantNamed(project_.variants, name);
  if (!name.empty() && index < 0) {
    setStatus("'" + QString::fromStdString(name) + "' is no longer a variant: the base is the original model",
              8000);
    return applyBase({});
  }
  project_.current_base = name;
  markDirty();
  showBase();
  if (!baseline_) return;
  if (name.empty()) {
    installBaseModel(baseline_);
    return;
  }
  base_model_.reset();  // Apply waits for the new base
  const Variant variant = project_.variants[index];
  const std::vector<Variant> variants = project_.variants;
  auto baseline = baseline_;
  const QString label = QString::fromStdString(name);
  setStatus("Preparing base '" + label + "'...");
  auto* job = jobs_->start("Prepare base '" + label + "'", [=, this](JobContext& job, JobHandle& handle) {
    auto model = std::make_shared<const Model>(pipeline::variantModel(*baseline, variants, variant, &job));
    handle.postToUi([=, this] {
      if (generation != base_generation_ || baseline != baseline_) return;  // another base or model since
      installBaseModel(model);
    });
  });
  connect(job, &JobHandle::finished, this,
          [this, label, generation](JobHandle::State st, const QString& error) {
            if (st != JobHandle::State::Failed || generation != base_generation_) return;
            setStatus("Cannot use '" + label + "' as the base: " + error + "; the base is the original model",
                      10000);
            applyBase({});
          });
}

void MainWindow::installBaseModel(std::shared_ptr<const Model> model) {
  base_model_ = std::move(model);
  QString problem;
  tuning_->setContext(base_model_, datasetForModel(&problem), project_.dataset_spec);
  // The sensitivity sweep is of the project's model: its groups are the knobs' again only there.
  if (project_.current_base.empty() && project_.sensitivity)
    tuning_->setSensitivity(std::make_shared<SensitivityResult>(*project_.sensitivity));
  train_panel_->setBaseModel(base_model_, currentBase());
  setStatus(project_.current_base.empty()
                ? QString("The knobs and the Training dock start from the original model")
                : "The knobs and the Training dock start from '" + currentBase() +
                      "' (new variants are made from it; Ctrl+Shift+B goes back to the original model)",
            8000);
  emit baseChanged(currentBase());
}

void MainWindow::showBase() {
  base_label_->setText(project_.current_base.empty() ? QString("base: original model")
                                                     : "base: " + currentBase());
  updateTitle();
  refreshVariants();
}

bool MainWindow::openRecipe(const QString& path) {
  pipeline::RecipeFile recipe;
  try {
    recipe = pipeline::readRecipeFile(path.toStdString());
    pipeline::validateRecipe(recipe, pipeline::StepRegistry::withBuiltins());
  } catch (const std::exception& e) {
    setStatus("Cannot open recipe: " + QString::fromUtf8(e.what()));
    showError(this, "Cannot open recipe", e.what());
    return false;
  }
  showInPipelineDock(recipe, path);
  RecipeKnobs mapped = knobsFromRecipeFile(recipe, tuning_->knobs());
  if (mapped.editable && baseline_) {
    // The widgets have their own resolution (whole percents, spin box ranges, the model's groups): the knobs
    // as set must still give this recipe, else it is run as is rather than edited approximately.
    const nlohmann::json before = tuning_->knobs();
    tuning_->setKnobs(mapped.knobs, false);
    std::string why;
    try {
      const pipeline::RecipeFile again = recipeFileFromStudio(
          recipeFromKnobs(tuning_->knobs(), mapped.dataset_spec, pipeline::builtinPassRegistry()),
          recipe.modelPath(), mapped.dataset_spec, recipe.name);
      if (!sameSteps(recipe, again, &why)) why = "the knobs cannot express it: " + why;
    } catch (const std::exception& e) {
      why = std::string("the knobs cannot express it: ") + e.what();
    }
    tuning_->setKnobs(before, false);
    if (!why.empty()) {
      mapped.editable = false;
      mapped.reason = why;
    }
  }
  if (!mapped.editable) {
    setStatus("Recipe " + path +
              " runs as is but is not editable as knobs: " + QString::fromStdString(mapped.reason));
    showRecipeRunDialog(path);
    return true;
  }
  QString note;
  const std::string model = recipe.modelPath();
  const bool same_model =
      !project_.model_path.empty() &&
      (zoo::isZooSource(model) ? model == project_.model_path : samePath(model, project_.model_path));
  if (!mapped.dataset_spec.empty() && mapped.dataset_spec != project_.dataset_spec)
    openDataset(QString::fromStdString(mapped.dataset_spec));
  if (!baseline_ && project_.model_path.empty()) {
    openModel(QString::fromStdString(model));
    note = "; opening its model " + QString::fromStdString(model);
  } else if (!same_model) {
    note = "; the knobs apply to the open model, not the recipe's " + QString::fromStdString(model);
  }
  if (!project_.current_base.empty())
    note +=
        "; the knobs apply to the current base '" + currentBase() + "' (Ctrl+Shift+B: the original model)";
  tuning_->setKnobs(mapped.knobs, true);
  setStatus(QString("Opened recipe %1: %2 steps in the knobs%3").arg(path).arg(recipe.steps.size()).arg(note),
            10000);
  return true;
}

RecipeRunDialog* MainWindow::showRecipeRunDialog(const QString& path) {
  if (!recipe_dialog_) {
    recipe_dialog_ =
        new RecipeRunDialog([this] { return currentRecipeFile(); },
                            [this](const pipeline::RecipeFile& r) { return recipeRunDir(r); }, this);
    connect(recipe_dialog_, &RecipeRunDialog::runRequested, this,
            [this](const pipeline::RecipeFile& recipe) { runRecipe(recipe); });
  }
  if (path.isEmpty())
    recipe_dialog_->useKnobs();
  else
    recipe_dialog_->useFile(path);
  recipe_dialog_->show();
  recipe_dialog_->raise();
  return recipe_dialog_;
}

JobHandle* MainWindow::runRecipe(const pipeline::RecipeFile& recipe, const std::string& rerun_from) {
  const QString run_dir = recipeRunDir(recipe);
  showBottomTab("Jobs");
  setStatus("Running recipe " + QString::fromStdString(recipe.name) + " into " + run_dir + "...");
  auto* job = startRecipeRun(
      *jobs_, recipe, run_dir.toStdString(),
      [this, recipe, run_dir](std::shared_ptr<const pipeline::RunResult> run) {
        pipeline_panel_->showRun(recipe, *run);
        const std::string model = recipe.modelPath();
        const bool same_model = baseline_ && (zoo::isZooSource(model) ? model == project_.model_path
                                                                      : samePath(model, project_.model_path));
        if (!same_model) {
          setStatus("Recipe " + QString::fromStdString(recipe.name) + " finished in " + run_dir +
                        "; its model is not the open one, so no variants were added (open " +
                        QString::fromStdString(model) + " to compare them)",
                    15000);
          emit recipeRunFinished(0);
          return;
        }
        const std::vector<Variant> variants = variantsFromRun(recipe, *run);
        for (const Variant& v : variants) {
          // A re-run finds its steps again: update them instead of listing them twice.
          const auto same_file = std::find_if(project_.variants.begin(), project_.variants.end(),
                                              [&](const Variant& e) { return e.model_file == v.model_file; });
          if (same_file != project_.variants.end()) {
            const int i = static_cast<int>(same_file - project_.variants.begin());
            project_.variants[i].metrics = v.metrics;
            project_.variants[i].recipe = v.recipe;
            if (!v.metrics.size_bytes) measureVariantAt(i);
          } else {
            addVariant(v);
          }
        }
        refreshVariants();
        markDirty();
        setStatus(QString("Recipe %1 finished: %2 variants from its steps (run folder %3%4)")
                      .arg(QString::fromStdString(recipe.name))
                      .arg(variants.size())
                      .arg(run_dir)
                      .arg(run->report_written ? ", report.md there" : ""),
                  15000);
        emit recipeRunFinished(static_cast<int>(variants.size()));
      },
      rerun_from);
  connect(job, &JobHandle::finished, this,
          [this, name = recipe.name](JobHandle::State st, const QString& error) {
            if (st == JobHandle::State::Failed) {
              setStatus("Recipe " + QString::fromStdString(name) + " failed: " + error);
              showError(this, "Recipe failed", error);
            } else if (st == JobHandle::State::Cancelled) {
              setStatus("Recipe " + QString::fromStdString(name) +
                            " cancelled: the steps done are kept in its run folder and reused next time",
                        10000);
            }
          });
  return job;
}

int MainWindow::findVariant(const std::string& name, const std::string& model_file) const {
  for (size_t i = 0; i < project_.variants.size(); ++i)
    if (project_.variants[i].name == name && project_.variants[i].model_file == model_file)
      return static_cast<int>(i);
  return -1;
}

void MainWindow::onBenchmarkReady(const QString& device, const nlohmann::json& json) {
  deploy::DeviceBenchmark bench;
  try {
    bench = deploy::DeviceBenchmark::fromJson(json);
  } catch (const std::exception& e) {
    setStatus("Benchmark from " + device + " not understood: " + QString::fromUtf8(e.what()), 10000);
    return;
  }
  // Which variant: the one whose temporary file the device ran (its path there ends in the file's name); when
  // the benchmark does not say, the file the panel holds now.
  const std::string ran =
      std::filesystem::path(bench.model.empty() ? devices_->modelPath().toStdString() : bench.model)
          .filename()
          .string();
  auto target = deploy_targets_.find(ran);
  if (target == deploy_targets_.end()) {
    setStatus("Benchmark from " + device + " is for a model that is not one of this project's variants",
              8000);
    return;
  }
  const int index = findVariant(target->second.name, target->second.model_file);
  if (index < 0) {
    setStatus("Benchmark from " + device + ": variant '" + QString::fromStdString(target->second.name) +
                  "' is no longer in the project",
              8000);
    return;
  }
  attachDeviceBenchmark(index, json);
  emit deviceBenchmarkAttached(index);
  if (bench.profile.empty() || !baseline_) return;
  // The per-node profile lands on the baseline's graph by node name: exact for the baseline and for variants
  // that keep its node names (pruned ones); a quantized or trained model names its nodes differently.
  std::vector<double> shares = deploy::deviceLatencyShare(*baseline_, bench);
  const auto matched = std::count_if(shares.begin(), shares.end(), [](double v) { return !std::isnan(v); });
  const QString variant_name = QString::fromStdString(target->second.name);
  graph_->setOverlayValues(GraphColorMode::DeviceLatency, std::move(shares));
  if (matched == 0) {
    graph_->setOverlayNote(GraphColorMode::DeviceLatency,
                           "no profiled node of '" + variant_name + "' matches the baseline's node names");
    setStatus("Device profile of '" + variant_name + "' on " + device +
                  ": no profiled node matches the baseline's node names, so the graph cannot show it",
              10000);
    return;
  }
  graph_->setOverlayNote(GraphColorMode::DeviceLatency, "'" + variant_name + "' on " + device);
  const int mode = color_mode_->findData(static_cast<int>(GraphColorMode::DeviceLatency));
  if (mode >= 0) color_mode_->setCurrentIndex(mode);
  setStatus(QString("Device latency per node ('%1' on %2): %3 of %4 nodes profiled")
                .arg(variant_name, device)
                .arg(matched)
                .arg(baseline_->graph().node_size()),
            10000);
}

void MainWindow::compareVariants(int a, int b) {
  if (!baseline_ || a < 0 || b < 0 || a >= static_cast<int>(project_.variants.size()) ||
      b >= static_cast<int>(project_.variants.size()))
    return;
  compare_->compare(baseline_, project_.variants, a, b);
  showCentralTab(1);
}

void MainWindow::refreshVariants() {
  variants_->setVariants(project_.variants, project_.current_base);
  pareto_->setVariants(project_.variants);
}

void MainWindow::addRecent(const QString& path) {
  QSettings settings;
  QStringList recent = settings.value("recentFiles").toStringList();
  const QString abs = QFileInfo(path).absoluteFilePath();
  recent.removeAll(abs);
  recent.prepend(abs);
  while (recent.size() > 10) recent.removeLast();
  settings.setValue("recentFiles", recent);
  refreshRecentMenu();
}

void MainWindow::refreshRecentMenu() {
  recent_menu_->clear();
  const QStringList recent = QSettings().value("recentFiles").toStringList();
  for (const QString& path : recent) {
    recent_menu_->addAction(path, this, [this, path] {
      if (path.endsWith(".json"))
        loadProject(path);
      else
        openModel(path);
    });
  }
  recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::autosave() {
  Project p = project_;
  p.knobs = tuning_->knobs();
  nlohmann::json j = p.toJson();
  j["recovery_of"] = project_path_.toStdString();
  const std::string text = j.dump(2), path = recovery_path_.toStdString();
  // fsync can take hundreds of ms on a busy disk: write on a worker, one autosave at a time.
  if (!autosave_done_.isFinished()) {
    // The previous write is still going: try again shortly instead of blocking the UI thread.
    QTimer::singleShot(500, this, &MainWindow::autosave);
    return;
  }
  autosave_done_ = QtConcurrent::run([text, path] {
    try {
      std::filesystem::create_directories(std::filesystem::path(path).parent_path());
      writeFileAtomic(path, text);
    } catch (const std::exception& e) {
      qWarning("autosave failed: %s", e.what());
    }
  });
}

void MainWindow::waitForAutosave() {
  autosave_done_.waitForFinished();
}

void MainWindow::offerRecovery() {
  if (!QFileInfo::exists(recovery_path_)) return;
  const auto answer = QMessageBox::question(
      this, "Recover unsaved work?",
      "EdgeTune did not close cleanly last time. Restore the automatically saved project?",
      QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes);
  if (answer == QMessageBox::Yes) {
    loadProject(recovery_path_);
    project_path_.clear();
    train_panel_->setOutputDir(trainOutputDir());
    markDirty();
  } else {
    QFile::remove(recovery_path_);
  }
}

void MainWindow::closeEvent(QCloseEvent* event) {
  jobs_->cancelAllAndWait();
  waitForAutosave();
  // A clean exit leaves no recovery file; a crash leaves the last autosave behind.
  QFile::remove(recovery_path_);
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
