// MainWindow: opening models (clean-up, statistics and layout on a worker), datasets, the demo and projects;
// saving projects and restoring the recovery file the StudioDocument autosaves.
#include "ui/main_window.h"

#include <QComboBox>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QUndoStack>

#include "core/analysis/channel_dependencies.h"
#include "core/data/dataset.h"
#include "core/ir/stats.h"
#include "core/passes/canonicalize.h"
#include "core/pipeline/node_overlays.h"
#include "core/pipeline/progressive_measurement.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "core/zoo/model_source.h"
#include "ui/charts.h"
#include "ui/deploy_controller.h"
#include "ui/dialogs.h"
#include "ui/graph_view.h"
#include "ui/jobs.h"
#include "ui/panels.h"
#include "ui/train_panel.h"
#include "ui/tuning_panel.h"

namespace edgetune::ui {

using pipeline::Project;
using pipeline::Variant;
using pipeline::VariantMetrics;

void MainWindow::openModel(const QString& source) {
  const int generation = ++open_generation_;
  open_clock_.start();
  setStatus("Opening " + source + "...");
  const std::string src = source.toStdString();
  // A project being loaded brings its sensitivity sweep: its overlay is computed with the layout, off the UI
  // thread.
  std::shared_ptr<const SensitivityResult> saved_sensitivity;
  if (keep_variants_on_open_ && document_->project().sensitivity)
    saved_sensitivity = std::make_shared<SensitivityResult>(*document_->project().sensitivity);
  const std::shared_ptr<const Dataset> open_dataset = dataset_;  // read here, not on the worker
  const std::shared_ptr<AnalysisCache> analyses = analyses_;
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
    const std::shared_ptr<const ModelStats> stats =
        analyses->get<StatsAnalysis>(*model, shapes_problem.isEmpty() ? &shapes : nullptr);
    // The tuning panel lists the prune groups when the model arrives: analysed here, its lookup is a hit.
    job.report(0.5, "prune groups");
    try {
      analyses->get<PruneGroupsAnalysis>(*model);
    } catch (const std::exception&) {
      // The panel analyses again and shows the reason in its note.
    }
    job.report(0.6, "graph layout");
    auto prepared = std::make_shared<PreparedGraph>(prepareGraph(model, stats));
    const double layout_seconds = prepared->layout.seconds;
    std::shared_ptr<std::vector<double>> sensitivity_overlay;
    if (saved_sensitivity) {
      job.report(0.9, "sensitivity overlay");
      try {
        sensitivity_overlay = std::make_shared<std::vector<double>>(
            pipeline::sensitivityOverlay(*model, *saved_sensitivity, analyses.get()));
      } catch (const std::exception&) {
        sensitivity_overlay
            .reset();  // groups not found in this model: the chart alone is still worth showing
      }
    }
    handle.postToUi([=, this] {
      if (generation != open_generation_) return;
      // Edits of the previous model or project (knobs, base, removed variants) cannot be undone into this
      // one.
      undo_->clear();
      baseline_ = model;
      stats_ = stats;
      input_shapes_ = shapes;
      input_shapes_problem_ = shapes_problem;
      clean_summary_ = clean_summary;
      tuning_->measureOptions().input_shapes = shapes;
      graph_->clear();
      graph_->setPrepared(std::move(*prepared));
      inspector_->setModel(model, stats);
      document_->project().model_path = src;
      if (!keep_variants_on_open_) {
        Variant base;
        base.name = "baseline";
        base.recipe = pipeline::emptyRecipe();
        base.created_utc = pipeline::nowUtcIso();
        document_->project().variants = {base};
        document_->project().current_base.clear();
        // Another model is another project: saving must not replace the previous project's file.
        document_->setPath({});
        document_->project().sensitivity.reset();  // a sweep of another model
        deploy_->clearTargets();  // files of the previous model's variants: their benchmarks are not these
        sensitivity_->clearCurves();
      }
      keep_variants_on_open_ = false;
      if (saved_sensitivity && document_->project().sensitivity) {
        sensitivity_->setResult(*saved_sensitivity);
        if (sensitivity_overlay) graph_->setOverlayValues(GraphColorMode::Sensitivity, *sensitivity_overlay);
      }
      showQuantExclusions(tuning_->quantExcludedNodes());
      refreshVariants();
      QString problem;
      base_model_ = baseline_;
      ++base_generation_;
      tuning_->setContext(baseline_, datasetForModel(&problem), document_->project().dataset_spec);
      if (saved_sensitivity && document_->project().sensitivity) tuning_->setSensitivity(saved_sensitivity);
      updateTrainContext();
      train_panel_->setSourceModel(baseline_, "baseline", pipeline::emptyRecipe(), {});
      train_panel_->setBaseModel(baseline_, {});
      // A loaded project's base is prepared from this model.
      if (!document_->project().current_base.empty()) applyBase(document_->project().current_base);
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
      document_->markDirty();
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

void MainWindow::measureBaseline() {
  if (!baseline_ || document_->project().variants.empty()) return;
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
      if (generation != open_generation_ || document_->project().variants.empty()) return;
      document_->project().variants[0].metrics = m;
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
      document_->project().dataset_spec = s;
      QString problem;
      auto fitting = datasetForModel(&problem);
      showDatasetRoles();
      if (!problem.isEmpty()) dataset_label_->setToolTip(problem);
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
      document_->markDirty();
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

void MainWindow::openTrainingDataset(const QString& spec) {
  const std::string s = spec.toStdString();
  if (s.empty()) {
    train_dataset_.reset();
    document_->project().train_dataset_spec.clear();
    tuning_->setTrainingData(nullptr, {});
    updateTrainContext();
    showDatasetRoles();
    document_->markDirty();
    return;
  }
  setStatus("Opening training dataset " + spec + "...");
  auto* job = jobs_->start("Open training dataset", [=, this](JobContext&, JobHandle& handle) {
    auto dataset = edgetune::openDataset(s);
    handle.postToUi([=, this] {
      train_dataset_ = dataset;
      document_->project().train_dataset_spec = s;
      tuning_->setTrainingData(dataset, s);
      updateTrainContext();
      showDatasetRoles();
      document_->markDirty();
      emit trainingDatasetOpened(QString::fromStdString(dataset->name()));
    });
  });
  connect(job, &JobHandle::finished, this, [this](JobHandle::State st, const QString& error) {
    if (st == JobHandle::State::Failed) {
      setStatus("Training dataset: " + error);
      showError(this, "Cannot open training dataset", error);
    }
  });
}

void MainWindow::showDatasetRoles() {
  QString text = dataset_ ? "test: " + QString::fromStdString(dataset_->name()) : QString("no dataset");
  QString tip = dataset_ ? "Every accuracy is measured on " + QString::fromStdString(dataset_->name()) + ". "
                         : QString("Open a dataset (Ctrl+D) to measure accuracy. ");
  if (train_dataset_) {
    text += " · train: " + QString::fromStdString(train_dataset_->name());
    tip += "Training (with its seeded validation split), calibration and the quick recovery use " +
           QString::fromStdString(train_dataset_->name()) + ".";
  } else if (dataset_) {
    text += " (also trains and calibrates)";
    tip +=
        "It also serves training, calibration and the quick recovery: open a training dataset "
        "(Ctrl+Alt+D) so the test set is only measured.";
  }
  dataset_label_->setText(text);
  dataset_label_->setToolTip(tip);
}

QString MainWindow::datasetRolesText() const {
  return dataset_label_->text();
}

void MainWindow::openDemo() {
  const QString bundled = bundledDemoModelPath();
  // The test set is only measured; training and calibration use the training set.
  if (QFileInfo::exists(kDemoDataFolder)) {
    openDataset(kDemoDatasetSpec);
    openTrainingDataset(kDemoTrainingSpec);
  }
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
    document_->project().knobs = tuning_->knobs();
    document_->saveAs(path);
    train_panel_->setOutputDir(trainOutputDir());
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
    document_->load(path);
    const Project p = document_->project();  // what was loaded, whatever the steps below change
    train_panel_->setOutputDir(trainOutputDir());
    refreshVariants();
    tuning_->setKnobs(p.knobs.empty() ? tuning_->knobs() : p.knobs, false);
    if (!p.dataset_spec.empty()) openDataset(QString::fromStdString(p.dataset_spec));
    openTrainingDataset(QString::fromStdString(p.train_dataset_spec));
    if (!p.model_path.empty()) {
      keep_variants_on_open_ = true;
      openModel(QString::fromStdString(p.model_path));
    }
    document_->markClean();
    addRecent(path);
    return true;
  } catch (const std::exception& e) {
    showError(this, "Cannot open project", e.what());
    return false;
  }
}

void MainWindow::autosave() {
  document_->autosave();
}

void MainWindow::waitForAutosave() {
  document_->waitForAutosave();
}

void MainWindow::offerRecovery() {
  if (!QFileInfo::exists(document_->recoveryPath())) return;
  const auto answer = QMessageBox::question(
      this, "Recover unsaved work?",
      "EdgeTune did not close cleanly last time. Restore the automatically saved project?",
      QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes);
  if (answer == QMessageBox::Yes) {
    loadProject(document_->recoveryPath());
    document_->setPath({});
    train_panel_->setOutputDir(trainOutputDir());
    document_->markDirty();
  } else {
    document_->removeRecovery();
  }
}

}  // namespace edgetune::ui
