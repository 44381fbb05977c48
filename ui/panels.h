#pragma once
// Docked panels: the node inspector, the jobs dock, the variants table and the variant comparison.
#include <QWidget>

#include <memory>
#include <vector>

#include "core/ir/model.h"
#include "core/ir/stats.h"
#include "core/pipeline/project.h"
#include "ui/jobs.h"

class QCustomPlot;
class QLabel;
class QTableWidget;
class QTreeWidget;
class QVBoxLayout;
class QPushButton;

namespace edgetune::ui {

class GraphView;

/// Weight statistics of one initializer (float32 only).
struct WeightSummary {
  std::string name;
  std::vector<int64_t> shape;
  int64_t count = 0;
  int64_t zeros = 0;
  double min = 0, max = 0, mean = 0, stdev = 0;
  std::vector<double> bin_edges;  // bins + 1
  std::vector<int64_t> bin_counts;
};
WeightSummary summarizeWeights(const std::string& name, const onnx::TensorProto& tensor, int bins = 40);

/// Node inspector: op, name, attributes, input/output shapes, parameters, MACs, weight histogram, sparsity.
class NodeInspector : public QWidget {
  Q_OBJECT
 public:
  explicit NodeInspector(QWidget* parent = nullptr);
  void setModel(std::shared_ptr<const Model> model, std::shared_ptr<const ModelStats> stats);
  void showNode(int node_index);  // -1 clears
  void showGroup(const QString& scope, int node_count);
  int shownNode() const { return node_; }
  /// The "parameters" row as shown (for tests).
  QString paramsText() const;
  /// Sparsity of the histogrammed weight, 0..1 (-1 if none).
  double shownSparsity() const { return sparsity_; }
  QCustomPlot* histogram() const { return histogram_; }
  /// Names of the nodes kept in float (the tuning panel's exclusions): sets the button's label.
  void setQuantExcludedNodes(const QStringList& names);
  /// "Exclude from quantization" / "Include again in quantization" for the shown node.
  QPushButton* quantExclusionButton() const { return quant_button_; }
  bool shownNodeExcluded() const;

 signals:
  void quantExclusionRequested(int node_index, bool exclude);

 private:
  void updateQuantButton();
  QPushButton* quant_button_;
  QStringList quant_excluded_;
  std::shared_ptr<const Model> model_;
  std::shared_ptr<const ModelStats> stats_;
  int node_ = -1;
  double sparsity_ = -1;
  QLabel* header_;
  QTreeWidget* tree_;
  QCustomPlot* histogram_;
  QLabel* weight_label_;
};

/// Jobs dock: each job with progress bar, message, ETA and a cancel button; the UI stall figure below.
class JobsPanel : public QWidget {
  Q_OBJECT
 public:
  JobsPanel(JobManager* jobs, StallMonitor* stalls, QWidget* parent = nullptr);
  /// The cancel button of a job's row (for tests).
  QPushButton* cancelButton(JobHandle* job) const;
  int rowCount() const;

 private:
  void rebuild();
  void refreshStall();
  JobManager* jobs_;
  StallMonitor* stalls_;
  QVBoxLayout* rows_;
  QLabel* stall_label_;
  std::vector<std::pair<JobHandle*, QWidget*>> row_widgets_;
};

/// The variants table (baseline + applied recipes) with compare and export actions. Each row says what the
/// variant was made from; the current base's row is bold.
class VariantsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit VariantsPanel(QWidget* parent = nullptr);
  /// `current_base`: the name of the variant new ones are made from ("" = the project's model, the baseline
  /// row).
  void setVariants(const std::vector<pipeline::Variant>& variants, const std::string& current_base = {});
  /// The row shown as the current base.
  int currentBaseRow() const { return current_base_row_; }
  void selectVariant(int index);
  std::vector<int> selectedVariants() const;
  QTableWidget* table() const { return table_; }
  /// Compare, Export... and Delete (the Delete key on the table), enabled as the buttons are: for the table's
  /// context menu, after the main window's own actions.
  QList<QAction*> tableActions() const { return {compare_action_, export_action_, remove_action_}; }
  enum Column {
    ColName = 0,
    ColSize,
    ColAccuracy,
    ColInterval,
    ColLatencyMs,
    ColDeviceMs,
    ColFrom,
    ColRecipe,
    ColCount
  };

 signals:
  void compareRequested(int a, int b);
  void exportRequested(int index);
  void removeRequested(int index);
  void variantSelected(int index);

 private:
  QTableWidget* table_;
  QPushButton *compare_, *export_, *remove_;
  QAction *compare_action_, *export_action_, *remove_action_;
  int current_base_row_ = 0;
};

/// Side-by-side comparison of two variants: metric deltas and a graph of the first with changed nodes marked.
class CompareWidget : public QWidget {
  Q_OBJECT
 public:
  CompareWidget(JobManager* jobs, QWidget* parent = nullptr);
  /// Materializes variants `a` and `b` of `variants` on a worker (through their chains, from `baseline`),
  /// then shows the diff.
  void compare(std::shared_ptr<const Model> baseline, const std::vector<pipeline::Variant>& variants, int a,
               int b);
  GraphView* graph() const { return graph_; }
  QTableWidget* metrics() const { return metrics_; }
  const QString& summary() const { return summary_text_; }

 signals:
  void compared();

 private:
  JobManager* jobs_;
  GraphView* graph_;
  QTableWidget* metrics_;
  QLabel* summary_;
  QString summary_text_;
  int generation_ = 0;
};

}  // namespace edgetune::ui
