// MainWindow's toolbar and menus: the actions the user triggers, with the commands both of them share
// (open model, save project, the dataset dialog) and the recent-files menu.
#include "ui/main_window.h"

#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QRegularExpression>
#include <QSettings>
#include <QTableWidget>
#include <QToolBar>
#include <QUndoStack>

#include "core/pipeline/node_overlays.h"
#include "core/pipeline/variant_model.h"
#include "ui/dataset_dialog.h"
#include "ui/dialogs.h"
#include "ui/graph_view.h"
#include "ui/help.h"
#include "ui/jobs.h"
#include "ui/lesson_menu.h"
#include "ui/panels.h"
#include "ui/recipe_run_dialog.h"
#include "ui/train_panel.h"
#include "ui/tuning_panel.h"

namespace edgetune::ui {

void MainWindow::buildToolBar() {
  auto* tb = addToolBar("Main");
  tb->setObjectName("main-toolbar");
  tb->setIconSize(QSize(20, 20));
  tb->addAction(QIcon(":/icons/open.svg"), "Open model", this, &MainWindow::askAndOpenModel);
  tb->addAction(QIcon(":/icons/dataset.svg"), "Dataset", this, [this] {
    DatasetDialog* dialog = datasetDialog();
    const std::string& spec = document_->project().dataset_spec;
    dialog->setSpec(QString::fromStdString(spec.empty() ? "fashion-mnist" : spec));
    dialog->show();
    dialog->preview();
  });
  tb->addAction(QIcon(":/icons/save.svg"), "Save project", this, [this] { askAndSaveProject(false); });
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
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu("&File");
  file->addAction(QIcon(":/icons/open.svg"), "&Open model...", QKeySequence::Open, this,
                  &MainWindow::askAndOpenModel);
  file->addAction(QIcon(":/icons/dataset.svg"), "Open &dataset...", QKeySequence("Ctrl+D"), this, [this] {
    DatasetDialog* dialog = datasetDialog();
    dialog->show();
    dialog->preview();
  });
  file->addAction("Open &training dataset...", QKeySequence("Ctrl+Alt+D"), this, [this] {
    DatasetDialog* dialog = trainingDatasetDialog();
    const std::string& spec = document_->project().train_dataset_spec;
    dialog->setSpec(QString::fromStdString(spec.empty() ? "fashion-mnist:train" : spec));
    dialog->show();
    dialog->preview();
  });
  recent_menu_ = file->addMenu("Open &recent");
  refreshRecentMenu();
  file->addAction("Open &demo", this, [this] {
    if (settleUnsavedChanges("opening the demo")) openDemo();
  });
  file->addSeparator();
  file->addAction("Open &project...", QKeySequence("Ctrl+Shift+O"), this, [this] {
    if (!settleUnsavedChanges("opening another project")) return;
    const QString path = askOpenFile(this, "Open project", "EdgeTune projects (*.json)");
    if (!path.isEmpty()) loadProject(path);
  });
  file->addAction(QIcon(":/icons/save.svg"), "&Save project", QKeySequence::Save, this,
                  [this] { askAndSaveProject(false); });
  file->addAction("Save project &as...", QKeySequence("Ctrl+Shift+S"), this,
                  [this] { askAndSaveProject(true); });
  file->addAction(
      QIcon(":/icons/export.svg"), "&Export selected variant...", QKeySequence("Ctrl+E"), this, [this] {
        const auto sel = variants_->selectedVariants();
        const int i = sel.size() == 1 ? sel[0] : static_cast<int>(document_->project().variants.size()) - 1;
        if (i < 0) return;
        const QString path =
            askSaveFile(this, "Export variant as ONNX", exportSuggestion(i), "ONNX models (*.onnx)");
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
  addLayoutActions(view);

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
        document_->path().isEmpty() ? QString() : QFileInfo(document_->path()).absolutePath() + "/";
    const QString stem = QString::fromStdString(document_->project().variants[sel[0]].name)
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
  auto* separator = new QAction(this);
  separator->setSeparator(true);
  variants_->table()->addAction(separator);
  variants_->table()->addActions(variants_->tableActions());

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
  addHelpMenu(this);
  addLessonsMenu(this, menuBar()->findChild<QMenu*>("help-menu"));
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
      if (!settleUnsavedChanges("opening " + QFileInfo(path).fileName())) return;
      if (path.endsWith(".json"))
        loadProject(path);
      else
        openModel(path);
    });
  }
  recent_menu_->setEnabled(!recent.isEmpty());
}

bool MainWindow::settleUnsavedChanges(const QString& action) {
  if (!document_->isDirty()) return true;
  switch (askUnsavedChanges(this, action)) {
    case UnsavedAnswer::Save:
      askAndSaveProject(false);
      return !document_->isDirty();  // the save was cancelled or failed: stay
    case UnsavedAnswer::Discard:
      return true;
    case UnsavedAnswer::Cancel:
      return false;
  }
  return false;
}

void MainWindow::askAndOpenModel() {
  if (!settleUnsavedChanges("opening another model")) return;
  const QString path = askOpenFile(this, "Open ONNX model", "ONNX models (*.onnx);;All files (*)");
  if (!path.isEmpty()) openModel(path);
}

void MainWindow::askAndSaveProject(bool choose_file) {
  QString path = choose_file ? QString() : document_->path();
  if (path.isEmpty())
    path = askSaveFile(this, "Save project", "project.edgetune.json", "EdgeTune projects (*.json)");
  if (!path.isEmpty()) saveProject(path);
}

DatasetDialog* MainWindow::datasetDialog() {
  if (!dataset_dialog_) {
    dataset_dialog_ = new DatasetDialog(jobs_, this);
    connect(dataset_dialog_, &DatasetDialog::accepted, this, &MainWindow::openDataset);
  }
  return dataset_dialog_;
}

DatasetDialog* MainWindow::trainingDatasetDialog() {
  if (!train_dataset_dialog_) {
    train_dataset_dialog_ = new DatasetDialog(jobs_, this);
    train_dataset_dialog_->setWindowTitle("Open training dataset (training, calibration; never measured)");
    connect(train_dataset_dialog_, &DatasetDialog::accepted, this, &MainWindow::openTrainingDataset);
  }
  return train_dataset_dialog_;
}

}  // namespace edgetune::ui
