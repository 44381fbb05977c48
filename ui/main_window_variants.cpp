// MainWindow's variant operations: add, measure, export, compare, the sensitivity sweep, and deploying a
// variant to a device (through the DeployController) with the benchmark it reports attached back.
#include "ui/main_window.h"

#include <QComboBox>
#include <QTabWidget>
#include <QUndoCommand>
#include <QUndoStack>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>

#include "core/deploy/device_benchmark.h"
#include "core/deploy/profile_overlay.h"
#include "core/pipeline/model_card.h"
#include "core/pipeline/node_overlays.h"
#include "core/pipeline/progressive_measurement.h"
#include "core/pipeline/variant_model.h"
#include "core/tuning/sensitivity.h"
#include "core/util/error.h"
#include "ui/charts.h"
#include "ui/deploy_controller.h"
#include "ui/devices_panel.h"
#include "ui/dialogs.h"
#include "ui/graph_view.h"
#include "ui/jobs.h"
#include "ui/panels.h"
#include "ui/tuning_panel.h"

namespace edgetune::ui {

using pipeline::Variant;
using pipeline::VariantMetrics;

namespace {

// Removing a variant is a project edit: undo puts it back at its row. Found by name on redo, since rows added
// after it (measured variants are not undoable edits) move the others.
class RemoveVariantCommand : public QUndoCommand {
 public:
  RemoveVariantCommand(std::vector<Variant>* variants, int row, std::function<void()> changed)
      : variants_(variants),
        row_(row),
        variant_((*variants)[static_cast<size_t>(row)]),
        changed_(std::move(changed)) {
    setText(QString::fromStdString("remove variant '" + variant_.name + "'"));
  }
  void undo() override {
    const auto at = std::min(static_cast<size_t>(row_), variants_->size());
    variants_->insert(variants_->begin() + static_cast<std::ptrdiff_t>(at), variant_);
    changed_();
  }
  void redo() override {
    const auto it = std::find_if(variants_->begin(), variants_->end(),
                                 [&](const Variant& v) { return v.name == variant_.name; });
    if (it == variants_->end()) return;
    row_ = static_cast<int>(it - variants_->begin());
    variants_->erase(it);
    changed_();
  }

 private:
  std::vector<Variant>* variants_;
  int row_;
  Variant variant_;
  std::function<void()> changed_;
};

}  // namespace

void MainWindow::removeVariant(int index) {
  std::vector<Variant>& variants = document_->project().variants;
  if (index <= 0 || index >= static_cast<int>(variants.size())) return;
  const std::string name = variants[static_cast<size_t>(index)].name;
  if (name == document_->project().current_base) {
    setStatus(
        "'" + QString::fromStdString(name) + "' is the current base: reset the base first (Ctrl+Shift+B)",
        8000);
    return;
  }
  for (const auto& other : variants)
    if (other.base == name) {
      setStatus("'" + QString::fromStdString(name) + "' is the base of '" +
                    QString::fromStdString(other.name) + "': remove that one first",
                8000);
      return;
    }
  undo_->push(new RemoveVariantCommand(&variants, index, [this] {
    refreshVariants();
    document_->markDirty();
  }));
  setStatus("Removed '" + QString::fromStdString(name) + "' (Ctrl+Z brings it back)", 6000);
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
  const std::shared_ptr<AnalysisCache> analyses = analyses_;
  sensitivity_->clearCurves();
  chart_tabs_->setCurrentWidget(sensitivity_);
  showBottomTab("Jobs");
  jobs_->start("Sensitivity sweep", [=, this](JobContext& job, JobHandle& handle) {
    auto result = std::make_shared<SensitivityResult>(
        analyzeSensitivity(*model, *dataset, options, &job, analyses.get()));
    // Overlay: each group's mean accuracy drop (points) on its producer nodes.
    auto overlay =
        std::make_shared<std::vector<double>>(pipeline::sensitivityOverlay(*model, *result, analyses.get()));
    handle.postToUi([=, this] {
      if (model != baseline_) return;
      sensitivity_->setResult(*result);
      // "Allocate" in the pruning section reads it; the sweep is of the project's model, so its groups are
      // the knobs' only while that is the base (installBaseModel hands it over again on a reset).
      if (document_->project().current_base.empty()) tuning_->setSensitivity(result);
      document_->project().sensitivity =
          *result;  // saved with the project: re-opening restores chart and overlay
      document_->markDirty();
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

void MainWindow::exportVariant(int index, const QString& onnx_path) {
  if (!baseline_ || index < 0 || index >= static_cast<int>(document_->project().variants.size())) return;
  const Variant variant = document_->project().variants[index];
  const std::vector<Variant> variants = document_->project().variants;
  auto baseline = baseline_;
  const std::string source = document_->project().model_path, spec = document_->project().dataset_spec,
                    out = onnx_path.toStdString();
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
  document_->project().variants.push_back(variant);
  document_->project().variants.back().name = pipeline::uniqueVariantName(
      {document_->project().variants.begin(), document_->project().variants.end() - 1}, variant.name);
  if (document_->project().variants.back().created_utc.empty())
    document_->project().variants.back().created_utc = pipeline::nowUtcIso();
  if (!document_->project().variants.back().device_benchmarks.is_array())
    document_->project().variants.back().device_benchmarks = nlohmann::json::array();
  refreshVariants();
  document_->markDirty();
  setStatus("Added variant '" + QString::fromStdString(document_->project().variants.back().name) + "'",
            5000);
  if (!variant.model_file.empty() && !variant.metrics.size_bytes)
    measureVariantAt(static_cast<int>(document_->project().variants.size()) - 1);
}

void MainWindow::attachDeviceBenchmark(int variant_index, const nlohmann::json& bench) {
  if (variant_index < 0 || variant_index >= static_cast<int>(document_->project().variants.size())) return;
  auto& benches = document_->project().variants[variant_index].device_benchmarks;
  if (!benches.is_array()) benches = nlohmann::json::array();
  benches.push_back(bench);
  refreshVariants();
  document_->markDirty();
  if (const auto ms = pipeline::deviceLatencyMs(document_->project().variants[variant_index]))
    setStatus(QString("'%1' on the device: %2 ms median at 1 thread")
                  .arg(QString::fromStdString(document_->project().variants[variant_index].name))
                  .arg(*ms, 0, 'f', 3),
              8000);
}

void MainWindow::measureVariantAt(int index) {
  if (!baseline_ || index < 0 || index >= static_cast<int>(document_->project().variants.size())) return;
  const Variant variant = document_->project().variants[index];
  const std::vector<Variant> variants = document_->project().variants;
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
          for (size_t i = 0; i < document_->project().variants.size(); ++i) {
            auto& v = document_->project().variants[i];
            if (v.name != variant.name || v.model_file != variant.model_file) continue;
            v.metrics = m;
            refreshVariants();
            document_->markDirty();
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

void MainWindow::deployVariant(int index) {
  if (!baseline_ || index < 0 || index >= static_cast<int>(document_->project().variants.size())) {
    setStatus(!baseline_ ? "Open a model first" : "Select one variant to deploy", 6000);
    return;
  }
  QString problem;
  if (!deploy_->prepare(baseline_, document_->project().variants, document_->project().variants[index],
                        &problem))
    setStatus(problem, 10000);
}

void MainWindow::onDeployPrepared(const QString& path, const QString& name, const QString& model_file) {
  devices_->setModel(path, name);
  showBottomTab("Devices");
  setStatus("'" + name + "' is ready to deploy: pick a device and press Deploy", 8000);
  emit deployPrepared(findVariant(name.toStdString(), model_file.toStdString()), path);
}

int MainWindow::findVariant(const std::string& name, const std::string& model_file) const {
  for (size_t i = 0; i < document_->project().variants.size(); ++i)
    if (document_->project().variants[i].name == name &&
        document_->project().variants[i].model_file == model_file)
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
  const DeployController::Target* target = deploy_->targetOfFile(ran);
  if (!target) {
    setStatus("Benchmark from " + device + " is for a model that is not one of this project's variants",
              8000);
    return;
  }
  const int index = findVariant(target->name, target->model_file);
  if (index < 0) {
    setStatus("Benchmark from " + device + ": variant '" + QString::fromStdString(target->name) +
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
  const QString variant_name = QString::fromStdString(target->name);
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
  if (!baseline_ || a < 0 || b < 0 || a >= static_cast<int>(document_->project().variants.size()) ||
      b >= static_cast<int>(document_->project().variants.size()))
    return;
  compare_->compare(baseline_, document_->project().variants, a, b);
  showCentralTab(1);
}

void MainWindow::refreshVariants() {
  const std::vector<Variant>& variants = document_->project().variants;
  variants_->setVariants(variants, document_->project().current_base);
  pareto_->setVariants(variants);
  // The knobs start from the current base: live measurements are explained against what it measured.
  const int base = document_->project().current_base.empty()
                       ? 0
                       : pipeline::findVariantNamed(variants, document_->project().current_base);
  if (base >= 0 && base < static_cast<int>(variants.size()))
    tuning_->setReferenceMetrics(variants[static_cast<size_t>(base)].metrics);
}

}  // namespace edgetune::ui
