#pragma once
// Charts (QCustomPlot): metrics against the active knob with confidence bands, the Pareto chart of variants
// and training curves. Every chart exports as PNG, SVG and CSV.
#include <QStringList>
#include <QWidget>

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/pipeline/project.h"
#include "core/tuning/sensitivity.h"

class QCustomPlot;
class QCPAxisRect;
class QCPGraph;
class QCPItemStraightLine;
class QComboBox;
class QHBoxLayout;
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
  QHBoxLayout* bar_;  // the title bar: title, then controls a chart adds, then Export
};

/// A numeric knob the live chart can put on its x axis.
struct KnobAxis {
  std::string key;  // in the knob state (TuningPanel::knobs), e.g. "prune_ratio"
  QString label;    // the axis title, with its unit
};
/// The knobs the live chart offers as x axis: pruning ratio, calibration samples, channel rounding.
const std::vector<KnobAxis>& knobAxes();

/// Accuracy (with its 95% band), size and latency against one knob, one series per configuration (every knob
/// but the x-axis knob fixed, see effectiveKnobs), so points of different quantization modes or per-layer
/// settings never share a line. A dashed series per configuration shows the accuracy after a quick recovery.
class KnobChart : public ChartWidget {
  Q_OBJECT
 public:
  explicit KnobChart(QWidget* parent = nullptr);
  /// Adds the point measured with the knob state `knobs`, or replaces the one of the same configuration and
  /// knob value (only the measured fields are drawn).
  void setPoint(const nlohmann::json& knobs, const pipeline::VariantMetrics& metrics);
  /// The accuracy of the point of `knobs` after a quick recovery (refined: each call replaces the last).
  /// Ignored if that point is not on the chart (the chart was cleared since).
  void setRecoveredPoint(const nlohmann::json& knobs, const pipeline::VariantMetrics& metrics);
  /// The knob state shown: its series is drawn bold and its x value marked with a vertical line.
  void setCurrentKnobs(const nlohmann::json& knobs);
  /// The x-axis knob (a key of knobAxes()); points whose configuration does not use it are not drawn.
  void setAxisKnob(const std::string& key);
  const std::string& axisKnob() const { return axis_key_; }
  void clearPoints();
  int pointCount() const { return static_cast<int>(points_.size()); }
  /// Legend names of the series drawn, oldest first.
  QStringList seriesNames() const;
  /// "series,x_knob,x,size_bytes,latency_ms,accuracy,accuracy_low,accuracy_high,accuracy_count,
  /// recovered_accuracy": one row per point on the current axis.
  QString csv() const override;

  /// At most this many configurations are drawn (the most recent; the current one always).
  static constexpr int kMaxSeries = 6;

 signals:
  void updated();  // after every redraw caused by setPoint or setRecoveredPoint

 private:
  struct Point {
    nlohmann::json knobs;  // effective knobs
    pipeline::VariantMetrics metrics;
    std::optional<pipeline::VariantMetrics> recovered;
  };
  struct Series {
    std::string key;
    QString name;
    std::vector<std::pair<double, const Point*>> points;  // sorted by x
  };
  std::vector<Series> series() const;
  std::optional<double> axisValue(const nlohmann::json& effective_knobs) const;
  void redraw();
  std::vector<Point> points_;  // in the order first measured
  QCPAxisRect *acc_rect_, *size_rect_, *lat_rect_;
  QComboBox* axis_combo_;
  std::string axis_key_ = "prune_ratio";
  nlohmann::json current_knobs_;
};

/// Accuracy vs latency of every variant; marker area follows size in MB; the Pareto front is drawn. Without
/// any accuracy (no dataset), size against latency.
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
  /// The y value of a variant: accuracy % or, without any accuracy on the chart, size MB.
  std::optional<double> yOf(const pipeline::VariantMetrics& m) const;
  std::vector<pipeline::Variant> variants_;
  std::vector<int> front_;
  bool by_accuracy_ = true;
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
