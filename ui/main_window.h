#pragma once
// MainWindow: the studio. Opens models, datasets and projects; hosts the graph view, inspector, tuning and
// training panels, charts, variants, comparison, devices and jobs docks. The project, its file and the
// recovery autosave are a StudioDocument, deploy files a DeployController; the window's own code is split by
// what it does: main_window.cpp (frame), _actions (toolbar, menus), _wiring (views), _open, _variants,
// _base (the variant chain), _recipes and _pipeline (the Pipeline dock).
#include <QByteArray>
#include <QElapsedTimer>
#include <QFont>
#include <QMainWindow>

#include <memory>

#include "core/data/dataset.h"
#include "core/ir/analysis_cache.h"
#include "core/ir/input_shapes.h"
#include "core/ir/model.h"
#include "core/ir/stats.h"
#include "core/pipeline/project.h"
#include "core/tuning/sensitivity.h"
#include "ui/studio_document.h"

class QAction;
class QComboBox;
class QDockWidget;
class QLabel;
class QLineEdit;
class QMenu;
class QTabWidget;
class QUndoStack;

namespace edgetune::pipeline {
struct RecipeFile;
}

namespace edgetune::ui {

class CompareWidget;
class DatasetDialog;
class DeployController;
class DevicesPanel;
class GraphView;
class KeychainSecretStore;
class JobHandle;
class JobManager;
class KnobChart;
class NodeInspector;
class JobsPanel;
class ParetoChart;
class PipelinePanel;
class RecipeRunDialog;
class SensitivityChart;
class StallMonitor;
class TrainingChart;
class TrainPanel;
class TuningPanel;
class VariantsPanel;

struct MainWindowOptions {
  bool offer_recovery = true;             // ask to restore the recovery file left by a crash
  QString recovery_path;                  // empty = <AppLocalData>/recovery.edgetune.json
  size_t baseline_accuracy_limit = 2000;  // examples the baseline's accuracy is first measured on
  bool clean_on_open =
      true;  // models from files go through the clean-up on the way in (the CLI's default too)
};

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(MainWindowOptions options = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Opens an ONNX file or a "zoo:ARCH?..." source on a worker; emits modelOpened or shows the error.
  void openModel(const QString& source);
  /// Opens a dataset spec on a worker; emits datasetOpened. The test role: every reported accuracy.
  void openDataset(const QString& spec);
  /// Opens the training-role dataset (training with its seeded validation split, calibration, the quick
  /// recovery's statistics) on a worker; emits trainingDatasetOpened. "" = the test dataset serves them too.
  void openTrainingDataset(const QString& spec);
  /// Opens the bundled demo (ResNet-20 on Fashion-MNIST), building it from the zoo if the file is missing;
  /// its datasets (kDemoDatasetSpec to measure, kDemoTrainingSpec to train) when kDemoDataFolder exists.
  void openDemo();
  static constexpr const char* kDemoDataFolder = "/usr/share/datasets/fashion-mnist";
  static constexpr const char* kDemoDatasetSpec = "fashion-mnist";
  static constexpr const char* kDemoTrainingSpec = "fashion-mnist:train";
  bool saveProject(const QString& path);
  bool loadProject(const QString& path);
  /// Applies a variant's recipe on a worker and writes ONNX + model card; emits variantExported.
  void exportVariant(int index, const QString& onnx_path);
  void compareVariants(int a, int b);
  /// Runs the per-group sensitivity sweep of the baseline on the open dataset's seeded subset as a job
  /// (progress and cancel in the jobs dock); fills the sensitivity chart and the graph's sensitivity overlay
  /// (mean accuracy drop in points over the ratios, on each group's producer nodes). Emits sensitivityReady.
  void runSensitivity(SensitivityOptions options);
  void runSensitivity();  // default options, seed 1

  /// Appends a variant made elsewhere (e.g. a distilled or deployed model with its own model_file), refreshes
  /// the variants table and the Pareto chart and marks the project dirty. A variant with a model file and no
  /// measured size is measured on a worker (size, ONNX Runtime latency, accuracy on the open dataset).
  void addVariant(const pipeline::Variant& variant);
  /// Appends an on-device benchmark result (as the deploy code produces it) to variant `variant_index`'s
  /// device_benchmarks; the variants table's "Device ms" column and the Pareto tooltip show its median
  /// latency at 1 thread (bench["results"][i]["median_ms"] where threads == 1, as DeviceBenchmark::toJson()
  /// writes it). Out-of-range indices are ignored.
  void attachDeviceBenchmark(int variant_index, const nlohmann::json& bench);
  /// Writes variant `index`'s model to a temporary ONNX file on a worker (its model file, or the baseline
  /// with its recipe applied), hands it to the Devices panel and shows that tab; emits deployPrepared. A
  /// benchmark the panel then reports for that file is attached to the variant, and its per-node profile (if
  /// any) becomes the graph's "Device latency" overlay.
  void deployVariant(int index);
  /// Removes variant `index` from the project as an undoable edit (Edit > Undo puts it back where it was);
  /// its trained or exported file stays on disk. Refused, with a status message, for the baseline row, the
  /// current base and a variant another one was made from.
  void removeVariant(int index);
  /// Where trained models are written: <project folder>/trained once the project is saved, else
  /// <AppDataLocation>/trained.
  QString trainOutputDir() const;
  /// Where the export dialog starts for a variant: "<name>.onnx" beside the saved project.
  QString exportSuggestion(int variant_index) const;

  /// Variants > Use as base (Ctrl+B, also in the variants table's context menu): the knobs (Apply) and the
  /// Training dock start from variant `index`'s model and record it as the new variant's base; the baseline
  /// (or -1) is the project's model. One undoable edit. The base's model is prepared on a worker; baseChanged
  /// follows once the tuning panel has it. A variant whose chain does not resolve is refused in the status.
  void useAsBase(int index);
  /// Variants > Reset base (Ctrl+Shift+B): back to the project's model (useAsBase(-1)).
  void resetBase();
  /// The current base: a variant's name, "" = the project's model.
  QString currentBase() const { return QString::fromStdString(project().current_base); }
  /// The model the knobs and training start from (the project's model until a base is chosen; null while a
  /// new base is being prepared).
  std::shared_ptr<const Model> baseModel() const { return base_model_; }

  /// File > Save recipe...: the current knobs on the current base, with the base's chain before them, as a
  /// pipeline recipe (v2 YAML, written atomically), which `edgetune-cli run` replays to the same models.
  bool saveRecipe(const QString& path);
  /// Variants > Save recipe of variant...: the recipe that makes variant `index` (its chain, then its own
  /// steps); a variant that cannot be replayed is refused with the reason.
  bool saveVariantRecipe(int index, const QString& path);
  /// File > Open recipe...: reads and checks a recipe (a problem goes to the status line with its file:line,
  /// and nothing changes); loads it into the knobs when they can express it, else offers to run it.
  bool openRecipe(const QString& path);
  /// Runs a recipe as one job in the jobs dock; when it finishes, each step's model becomes a variant (and
  /// the Pipeline dock shows what each step did, when it shows this recipe). `rerun_from`: a step that runs
  /// again with its dependants although cached ("" = none).
  JobHandle* runRecipe(const pipeline::RecipeFile& recipe, const std::string& rerun_from = {});
  /// The recipe of the current knobs, model and dataset; throws Error when they make none.
  pipeline::RecipeFile currentRecipeFile() const;
  /// Where a recipe runs: <project folder>/runs/NAME, or <AppDataLocation>/runs/NAME while unsaved.
  QString recipeRunDir(const pipeline::RecipeFile& recipe) const;
  /// Run > Run recipe...: the dialog (made on first use) showing recipe file `path`, or the current knobs.
  RecipeRunDialog* showRecipeRunDialog(const QString& path = {});
  /// The Pipeline dock (main_window_pipeline.cpp): the recipe last opened, saved, or shown from the knobs,
  /// editable step by step; File > Save recipe saves it while there is one.
  PipelinePanel* pipelinePanel() const { return pipeline_panel_; }
  QDockWidget* pipelineDock() const { return pipeline_dock_; }
  /// Run > Show knobs as pipeline: the current knobs' recipe in the Pipeline dock (one undo step).
  void showKnobsAsPipeline();

  /// View > Reset layout (main_window_layout.cpp): every dock back where a new window has it, presentation
  /// mode off.
  void resetLayout();
  /// View > Presentation mode (F11): full screen, fonts 1.5x, only the graph and the charts, for a projector;
  /// off restores the layout, fonts and window state from before.
  void setPresentationMode(bool on);
  bool presentationMode() const { return !layout_before_presentation_.isEmpty(); }
  QAction* presentationAction() const { return presentation_action_; }

  GraphView* graphView() const { return graph_; }
  NodeInspector* inspector() const { return inspector_; }
  TuningPanel* tuningPanel() const { return tuning_; }
  KnobChart* knobChart() const { return knob_chart_; }
  ParetoChart* paretoChart() const { return pareto_; }
  TrainingChart* trainingChart() const { return training_; }
  SensitivityChart* sensitivityChart() const { return sensitivity_; }
  VariantsPanel* variantsPanel() const { return variants_; }
  CompareWidget* compareWidget() const { return compare_; }
  JobsPanel* jobsPanel() const { return jobs_panel_; }
  TrainPanel* trainPanel() const { return train_panel_; }
  QDockWidget* trainDock() const { return train_dock_; }
  DevicesPanel* devicesPanel() const { return devices_; }
  /// Tools > Train / distill... (raises the Training dock) and Deploy variant... (deployVariant on the
  /// selection).
  QAction* trainAction() const { return train_action_; }
  QAction* deployAction() const { return deploy_action_; }
  QAction* useAsBaseAction() const { return use_as_base_action_; }
  QAction* resetBaseAction() const { return reset_base_action_; }
  JobManager* jobManager() const { return jobs_; }
  StallMonitor* stallMonitor() const { return stalls_; }
  QUndoStack* undoStack() const { return undo_; }
  const pipeline::Project& project() const { return document_->project(); }
  /// True while the project has changes not saved to its file.
  bool isModified() const { return document_->isDirty(); }
  /// The project's file ("" while it was never saved).
  QString projectPath() const { return document_->path(); }
  std::shared_ptr<const Model> baseline() const { return baseline_; }
  std::shared_ptr<const Dataset> dataset() const { return dataset_; }
  std::shared_ptr<const Dataset> trainingDataset() const { return train_dataset_; }
  /// The status bar's data line ("test: X · train: Y").
  QString datasetRolesText() const;
  QString recoveryPath() const { return document_->recoveryPath(); }
  /// Seconds from openModel to the laid-out graph on screen (last open).
  double lastOpenSeconds() const { return last_open_seconds_; }
  /// Writes the recovery file now (what the autosave timer does).
  void autosave();
  /// Blocks until the last autosave is on disk (tests, shutdown).
  void waitForAutosave();
  /// Shows one of the central tabs: 0 graph, 1 compare.
  void showCentralTab(int index);
  void showBottomTab(const QString& title);

 signals:
  void modelOpened(double seconds);
  void datasetOpened(const QString& name);
  void trainingDatasetOpened(const QString& name);
  void variantExported(const QString& path);
  void sensitivityReady(int curves);
  /// A variant added with addVariant finished measuring (its index at that time).
  void variantMeasured(int variant_index);
  /// deployVariant wrote variant `variant_index`'s model to `onnx_path` and gave it to the Devices panel.
  void deployPrepared(int variant_index, const QString& onnx_path);
  /// A device benchmark was attached to variant `variant_index` (its index at that time).
  void deviceBenchmarkAttached(int variant_index);
  void statusChanged(const QString& text);
  /// A recipe run finished and `variants` of its steps were added to (or updated in) the project.
  void recipeRunFinished(int variants);
  /// The base `name` ("" = the project's model) is in the tuning panel and the Training dock.
  void baseChanged(const QString& name);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  /// The docks, central tabs and status bar (main_window.cpp).
  void buildUi();
  /// The toolbar and the menus (main_window_actions.cpp).
  void buildToolBar();
  /// Makes `name` the current base without an undo entry (what the undo command and project loading call).
  void applyBase(const std::string& name);
  /// Hands the ready base model to the tuning panel and the Training dock.
  void installBaseModel(std::shared_ptr<const Model> model);
  /// The base in the title, the status bar and the variants table.
  void showBase();
  void buildMenus();
  /// The dataset dialog (made on first use; the toolbar and File > Open dataset share it).
  DatasetDialog* datasetDialog();
  DatasetDialog* trainingDatasetDialog();
  /// The status bar's data line: which dataset has which role.
  void showDatasetRoles();
  /// Open model (toolbar, File menu): asks for a file and opens it.
  void askAndOpenModel();
  /// Save project (toolbar, File menu): to its file, asking for one when it has none or `choose_file` (Save
  /// as).
  void askAndSaveProject(bool choose_file);
  /// Before an action that drops the project's unsaved changes: asks Save / Discard / Cancel. True when the
  /// action may go on (nothing unsaved, saved, or discarded on purpose).
  bool settleUnsavedChanges(const QString& action);
  /// How the views follow each other: selection, overlays, knobs, variants, training, devices
  /// (main_window_wiring.cpp).
  void connectViews();
  void setStatus(const QString& text, int timeout_ms = 0);
  void addRecent(const QString& path);
  void refreshRecentMenu();
  void refreshVariants();
  void measureBaseline();
  void measureVariantAt(int index);
  /// Maps the tuning panel's excluded node names onto the graph and the inspector.
  void showQuantExclusions(const QStringList& names);
  /// The dataset if it fits the baseline's inputs, else null (with the reason in `problem`).
  std::shared_ptr<const Dataset> datasetForModel(QString* problem = nullptr) const;
  void updateTitle();
  void offerRecovery();
  /// Gives the training panel the current baseline, its source and the dataset.
  void updateTrainContext();
  /// Hands variant `index`'s model to the training panel (materialized on a worker).
  void setTrainSource(int index);
  /// The deploy file of variant `name` is written: hand it to the Devices panel.
  void onDeployPrepared(const QString& path, const QString& name, const QString& model_file);
  /// A benchmark from the Devices panel: attach it to the variant deployed, show its per-node profile.
  void onBenchmarkReady(const QString& device, const nlohmann::json& bench);
  /// Index of the variant with this name and model file, or -1.
  int findVariant(const std::string& name, const std::string& model_file) const;
  /// The name a saved or run recipe gets: the project file's, else the model's.
  std::string recipeName() const;
  // The Pipeline dock's hooks (main_window_pipeline.cpp).
  void setupPipelineDock();
  /// What File > Save recipe writes: the Pipeline dock's recipe, else the knobs' (throws Error when none).
  pipeline::RecipeFile recipeToSave() const;
  /// File > Save recipe's suggestion: the Pipeline dock's file, else NAME.yaml next to the project.
  QString suggestedRecipePath() const;
  /// After the recipe was written to `path`: the dock shows it (read back), named by its file, unmodified.
  void pipelineSaved(const QString& path);
  /// Shows `recipe` (from `file`, "" = not saved) in the Pipeline dock and raises it (one undo step).
  void showInPipelineDock(const pipeline::RecipeFile& recipe, const QString& file);

  MainWindowOptions options_;
  JobManager* jobs_;
  /// Analyses of the models the studio shows (statistics, prune groups), shared by its jobs and panels: an
  /// opened model is analysed once, on a worker; an edit makes a new revision that nothing cached matches.
  std::shared_ptr<AnalysisCache> analyses_ = std::make_shared<AnalysisCache>();
  StallMonitor* stalls_;
  QUndoStack* undo_;
  GraphView* graph_;
  NodeInspector* inspector_;
  TuningPanel* tuning_;
  KnobChart* knob_chart_;
  ParetoChart* pareto_;
  TrainingChart* training_;
  SensitivityChart* sensitivity_;
  QTabWidget* chart_tabs_;
  VariantsPanel* variants_;
  CompareWidget* compare_;
  JobsPanel* jobs_panel_;
  TrainPanel* train_panel_;
  QDockWidget* train_dock_;
  QDockWidget* tuning_dock_;
  DevicesPanel* devices_;
  std::unique_ptr<KeychainSecretStore>
      secrets_;  // device passwords; outlives devices_ (deleted first in ~MainWindow)
  QAction* train_action_ = nullptr;
  QAction* deploy_action_ = nullptr;
  QAction* use_as_base_action_ = nullptr;
  QAction* reset_base_action_ = nullptr;
  DeployController* deploy_;  // the temporary files handed to the Devices panel, and which variant each is
  int train_source_generation_ = 0;
  DatasetDialog* dataset_dialog_ = nullptr;
  DatasetDialog* train_dataset_dialog_ = nullptr;
  RecipeRunDialog* recipe_dialog_ = nullptr;
  PipelinePanel* pipeline_panel_ = nullptr;
  QDockWidget* pipeline_dock_ = nullptr;
  // main_window_layout.cpp: what presentation mode replaced.
  QByteArray layout_before_presentation_;
  QFont font_before_presentation_;
  Qt::WindowStates window_state_before_presentation_;
  QAction* presentation_action_ = nullptr;
  /// Sizes the window to the screen it is on (1500 x 950 at most).
  void fitToScreen();
  /// Puts every dock where a new window has it: Tuning and Training tabbed on the left, Charts and Inspector
  /// on the right, Variants and jobs with Pipeline at the bottom.
  void placeDocks();
  void addLayoutActions(QMenu* view);
  QTabWidget* central_tabs_;
  QTabWidget* bottom_tabs_;
  QLineEdit* search_;
  QComboBox* color_mode_;
  QLabel* model_label_;
  QLabel* base_label_;
  QLabel* dataset_label_;
  QLabel* stall_label_;
  QMenu* recent_menu_;

  StudioDocument* document_;  // the project, its file, the dirty flag and the recovery file
  std::shared_ptr<const Model> baseline_;
  std::shared_ptr<const Model> base_model_;  // the current base's model (baseline_ for the project's model)
  int base_generation_ = 0;
  std::shared_ptr<const ModelStats> stats_;
  InputShapes input_shapes_;      // concrete sizes of the baseline's inputs (dataset, else the defaults)
  QString input_shapes_problem_;  // why they could not be resolved (a dynamic image size with no dataset)
  QString clean_summary_;         // what the clean-up on the way in did
  std::shared_ptr<const Dataset> dataset_;
  std::shared_ptr<const Dataset> train_dataset_;  // null: dataset_ serves the training role too
  QElapsedTimer open_clock_;
  double last_open_seconds_ = 0;
  int open_generation_ = 0;
  bool keep_variants_on_open_ = false;
};

/// The bundled demo model's path (may not exist) and the zoo source used when it is missing.
QString bundledDemoModelPath();
QString demoZooSource();

}  // namespace edgetune::ui
