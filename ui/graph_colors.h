#pragma once
// The graph view's colours: what the node colours can show, the op-type palette, the metric heat scale and
// the comparison colours.
#include <QColor>
#include <QList>
#include <QString>

#include "core/ir/ir_diff.h"

namespace edgetune::ui {

/// What the node colors show.
enum class GraphColorMode {
  OpType = 1,
  Params,
  Macs,
  LatencyShare,
  PruningRatio,
  QuantizationError,
  Sensitivity,
  DeviceLatency,  // share of a device's profiled kernel time (deploy benchmark with a per-node profile)
};
QString colorModeName(GraphColorMode mode);
QList<GraphColorMode> allColorModes();

/// Stable color for an op type (a fixed palette for common ops, a hash for the rest).
QColor opTypeColor(const QString& op_type);
/// Color for a normalized metric value in [0, 1] (light yellow -> orange -> dark red).
QColor heatColor(double t);
/// The outline of a node that differs in a comparison (its fill is this, lighter).
QColor diffColor(NodeDiff diff);
/// Whether text on this fill should be black (else white).
bool isLightColor(const QColor& color);

}  // namespace edgetune::ui
