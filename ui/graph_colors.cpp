#include "ui/graph_colors.h"

#include <algorithm>
#include <map>

namespace edgetune::ui {

QString colorModeName(GraphColorMode mode) {
  switch (mode) {
    case GraphColorMode::OpType:
      return "Op type";
    case GraphColorMode::Params:
      return "Parameters";
    case GraphColorMode::Macs:
      return "MACs";
    case GraphColorMode::LatencyShare:
      return "Latency share";
    case GraphColorMode::PruningRatio:
      return "Pruning ratio";
    case GraphColorMode::QuantizationError:
      return "Quantization error";
    case GraphColorMode::Sensitivity:
      return "Sensitivity";
    case GraphColorMode::DeviceLatency:
      return "Device latency";
  }
  return "?";
}

QList<GraphColorMode> allColorModes() {
  return {GraphColorMode::OpType,       GraphColorMode::Params,       GraphColorMode::Macs,
          GraphColorMode::LatencyShare, GraphColorMode::PruningRatio, GraphColorMode::QuantizationError,
          GraphColorMode::Sensitivity,  GraphColorMode::DeviceLatency};
}

QColor opTypeColor(const QString& op) {
  static const std::map<QString, QColor> fixed = {{"Conv", QColor(0x4e, 0x79, 0xa7)},
                                                  {"Gemm", QColor(0x9c, 0x75, 0x5f)},
                                                  {"MatMul", QColor(0xb0, 0x7a, 0xa1)},
                                                  {"Relu", QColor(0x59, 0xa1, 0x4f)},
                                                  {"Clip", QColor(0x59, 0xa1, 0x4f)},
                                                  {"BatchNormalization", QColor(0xed, 0xc9, 0x48)},
                                                  {"Add", QColor(0xf2, 0x8e, 0x2b)},
                                                  {"Mul", QColor(0xff, 0x9d, 0xa7)},
                                                  {"Softmax", QColor(0xe1, 0x57, 0x59)},
                                                  {"GlobalAveragePool", QColor(0x76, 0xb7, 0xb2)},
                                                  {"MaxPool", QColor(0x76, 0xb7, 0xb2)},
                                                  {"Reshape", QColor(0xba, 0xb0, 0xac)},
                                                  {"Flatten", QColor(0xba, 0xb0, 0xac)},
                                                  {"Transpose", QColor(0xba, 0xb0, 0xac)},
                                                  {"QuantizeLinear", QColor(0x8c, 0x56, 0x4b)},
                                                  {"DequantizeLinear", QColor(0x8c, 0x56, 0x4b)},
                                                  {"QLinearConv", QColor(0x2e, 0x4a, 0x7a)},
                                                  {"Gather", QColor(0xd3, 0x7f, 0xc0)}};
  if (auto it = fixed.find(op); it != fixed.end()) return it->second;
  const size_t h = qHash(op);
  return QColor::fromHsv(static_cast<int>(h % 360), 90 + static_cast<int>((h >> 9) % 60), 200);
}

QColor heatColor(double t) {
  t = std::clamp(t, 0.0, 1.0);
  // light yellow -> orange -> dark red
  const QColor a(255, 247, 188), b(254, 153, 41), c(153, 52, 4);
  auto mix = [](const QColor& x, const QColor& y, double f) {
    return QColor::fromRgbF(x.redF() + (y.redF() - x.redF()) * f, x.greenF() + (y.greenF() - x.greenF()) * f,
                            x.blueF() + (y.blueF() - x.blueF()) * f);
  };
  return t < 0.5 ? mix(a, b, t * 2) : mix(b, c, (t - 0.5) * 2);
}

QColor diffColor(NodeDiff d) {
  switch (d) {
    case NodeDiff::Removed:
      return QColor(220, 40, 40);
    case NodeDiff::ChangedShape:
      return QColor(240, 150, 0);
    case NodeDiff::ChangedPrecision:
      return QColor(140, 60, 200);
    case NodeDiff::ChangedOp:
      return QColor(30, 130, 220);
  }
  return Qt::black;
}

bool isLightColor(const QColor& c) {
  return c.lightnessF() > 0.55;
}

}  // namespace edgetune::ui
