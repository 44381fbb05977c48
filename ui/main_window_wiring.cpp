// MainWindow's wiring between its views: graph selection <-> prune groups and inspector, quantization
// exclusions, live measurement -> variants, variants table -> knobs / training / export, training and devices
// results -> variants.
#include "ui/main_window.h"

#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QTabWidget>

#include <algorithm>
#include <unordered_map>

#include "core/pipeline/variant_model.h"
#include "ui/charts.h"
#include "ui/devices_panel.h"
#include "ui/dialogs.h"
#include "ui/graph_view.h"
#include "ui/panels.h"
#include "ui/train_panel.h"
#include "ui/tuning_panel.h"

namespace edgetune::ui {

using pipeline::Variant;
using pipeline::VariantMetrics;

void MainWindow::connectViews() {
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
    for (size_t i = 1; i < document_->project().variants.size(); ++i) {
      auto& v = document_->project().variants[i];
      if (!v.model_file.empty() || v.base != document_->project().current_base ||
          v.knobs != tuning_->liveKnobs())
        continue;
      if (v.metrics.accuracy_count.value_or(-1) > m.accuracy_count.value_or(-1)) continue;
      if (v.metrics.accuracy_count && !m.accuracy_count) continue;
      v.metrics = m;
      changed = true;
    }
    if (changed) {
      refreshVariants();
      document_->markDirty();
    }
  });
  connect(tuning_, &TuningPanel::knobsChanged, this, [this](const nlohmann::json& k) {
    document_->project().knobs = k;
    document_->markDirty();
  });
  connect(tuning_, &TuningPanel::variantApplied, this, [this](const Variant& v) {
    if (!base_model_) {
      setStatus("The base '" + currentBase() + "' is still being prepared: apply again once it is ready",
                8000);
      return;
    }
    Variant copy = v;
    // Made from the current base; unique names: "channels 30%", "channels 30% (2)".
    copy.base = document_->project().current_base;
    if (!copy.base.empty()) copy.name = copy.base + " + " + copy.name;
    copy.name = pipeline::uniqueVariantName(document_->project().variants, copy.name);
    document_->project().variants.push_back(copy);
    refreshVariants();
    variants_->selectVariant(static_cast<int>(document_->project().variants.size()) - 1);
    setStatus("Recorded variant '" + QString::fromStdString(copy.name) + "'", 5000);
    document_->markDirty();
    autosave();
  });
  connect(pareto_, &ParetoChart::variantClicked, this, [this](int i) { variants_->selectVariant(i); });
  connect(variants_, &VariantsPanel::variantSelected, this, [this](int i) {
    pareto_->setSelected(i);
    if (i < 0 || i >= static_cast<int>(document_->project().variants.size())) return;
    setTrainSource(i);
    const Variant& v = document_->project().variants[i];
    // A variant with its own model file cannot be reproduced from knobs: re-measuring its recipe would show
    // numbers for a different model.
    if (!v.model_file.empty()) {
      setStatus("'" + QString::fromStdString(v.name) + "' carries its own model file (" +
                    QString::fromStdString(v.model_file) + "); its recipe is descriptive only",
                6000);
      return;
    }
    if (v.base != document_->project().current_base) {
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
    const QString path =
        askSaveFile(this, "Export variant as ONNX", exportSuggestion(i), "ONNX models (*.onnx)");
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
  connect(variants_, &VariantsPanel::removeRequested, this, &MainWindow::removeVariant);
}

void MainWindow::showQuantExclusions(const QStringList& names) {
  inspector_->setQuantExcludedNodes(names);
  if (!baseline_) return;
  std::vector<int> nodes;
  for (int i = 0; i < baseline_->graph().node_size(); ++i)
    if (names.contains(QString::fromStdString(baseline_->graph().node(i).name()))) nodes.push_back(i);
  graph_->setQuantExcludedNodes(std::move(nodes));
}

}  // namespace edgetune::ui
