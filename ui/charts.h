#pragma once
// Charts (QCustomPlot): metrics against the active knob with confidence bands, the Pareto chart of variants
// and training curves. Every chart exports as PNG, SVG and CSV.
#include <QWidget>

#include <map>
#include <optional>
#include <vector>

#include "core/pipeline/project.h"
#include "core/tuning/sensitivity.h"

class QCustomPlot;
class QCPAxisRect;
class QCPGraph;
class QCPItemStraightLine;
class QToolButton;

namespace edgetune::ui {

/// Base of every chart: a QCustomPlot plus an export button (PNG / SVG / CSV).
class ChartWidget : public QWidget {
  Q_OBJECT
 public:
  explicit ChartWidget(const QString& title, QWidget* parent = nullptr);
  QCustomPlot* plot() const { return plot_; }
  const QString& title() const { return title_; }

  /// Each throws Error naming the file if it cannot be written.
  void exportPng(const QString& path, int width = 0, int height = 0) const;
  void exportSvg(const QString& path, int width = 0, int height = 0) const;
  void exportCsv(const QString& path) const;
  /// The chart's data as CSV (header "series,x,y[,low,high]").
  virtual QString csv() const;

 protected:
  QCustomPlot* plot_;
  QString title_;
};

/// Accuracy (with its 95% band), size and latency against the active knob (e.g. pruning ratio).
class KnobChart : public ChartWidget {
  Q_OBJECT
 public:
  explicit KnobChart(QWidget* parent = nullptr);
  void setKnobLabel(const QString& label);
  /// Adds or replaces the point at `knob` (only the measured fields are drawn).
  void setPoint(double knob, const pipeline::VariantMetrics& metrics);
  /// Marks the knob's current value with a vertical line.
  void setCurrentKnob(double knob);
  void clearPoints();
  int pointCount() const { return static_cast<int>(points_.size()); }
  QString csv() const override;

 signals:
  void updated();  // after every redraw caused by setPoint

 private:
  void redraw();
  std::map<double, pipeline::VariantMetrics> points_;
  QCPAxisRect *acc_rect_, *size_rect_, *lat_rect_;
  QCPGraph *acc_, *acc_low_, *acc_high_, *size_, *lat_;
  double current_knob_ = 0;
};

/// Accuracy vs latency of every variant; marker area follows size in MB; the Pareto front is drawn.
class ParetoChart : public ChartWidget {
  Q_OBJECT
 public:
  explicit ParetoChart(QWidget* parent = nullptr);
  void setVariants(const std::vector<pipeline::Variant>& variants);
  void setSelected(int variant_index);
  int selected() const { return selected_; }
  /// Indices of the variants on the Pareto front (lower latency and higher accuracy are better).
  std::vector<int> frontIndices() const { return front_; }
  QString csv() const override;
  /// Variant under a widget position (within a few pixels), or -1.
  int variantAt(const QPointF& pos) const;

 signals:
  void variantClicked(int variant_index);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void redraw();
  std::vector<pipeline::Variant> variants_;
  std::vector<int> front_;
  int selected_ = -1;
};

/// Training curves: loss and accuracy against the epoch (fractional epochs allowed): the training loss per
/// step and the validation accuracy per epoch (drawn with markers, as there are few points).
class TrainingChart : public ChartWidget {
  Q_OBJECT
 public:
  explicit TrainingChart(QWidget* parent = nullptr);
  void addPoint(double epoch, std::optional<double> loss, std::optional<double> accuracy);
  /// One training step's loss at fractional epoch `epoch` (e.g. 1.25 = a quarter into the second epoch).
  void addStepLoss(double epoch, double loss) { addPoint(epoch, loss, std::nullopt); }
  /// Several (epoch, loss) steps at once with one redraw (fast steps arrive in bursts).
  void addStepLosses(const std::vector<std::pair<double, double>>& epoch_loss);
  /// Validation accuracy (0..1) after epoch `epoch`.
  void addValidationAccuracy(double epoch, double accuracy) { addPoint(epoch, std::nullopt, accuracy); }
  void clearPoints();
  /// Points drawn so far.
  int lossPointCount() const;
  int accuracyPointCount() const;
  /// The loss values drawn, in x order (tests and CSV).
  std::vector<double> lossValues() const;
  /// The accuracy values drawn (0..1), in x order.
  std::vector<double> accuracyValues() const;

 signals:
  void pointAdded();

 private:
  QCPGraph *loss_, *acc_;
};

/// Per-group sensitivity: accuracy against the pruning ratio of that group alone, one line per group, with
/// the unpruned baseline as a dashed line. CSV: "series,x,y" with series = group id, x = ratio, y = accuracy
/// %.
class SensitivityChart : public ChartWidget {
  Q_OBJECT
 public:
  explicit SensitivityChart(QWidget* parent = nullptr);
  void setResult(const SensitivityResult& result);
  void clearCurves();
  int curveCount() const;
  const SensitivityResult& result() const { return result_; }

 private:
  SensitivityResult result_;
  QCPItemStraightLine* baseline_line_ = nullptr;
};

/// Pareto-optimal points among (latency, accuracy) pairs: no other point is at least as fast and as accurate
/// and strictly better in one. Returns indices sorted by latency.
std::vector<int> paretoFront(const std::vector<std::pair<double, double>>& latency_accuracy);

}  // namespace edgetune::ui
