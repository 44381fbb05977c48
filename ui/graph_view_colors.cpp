// GraphView's colours: what each node is painted with in the current colour mode (latency, MACs, params,
// sensitivity, pruning ratios, the IR diff), the overlays that feed the modes, and the legend's scale. The
// view's scene, layout and interaction are in graph_view.cpp.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ui/graph_legend.h"
#include "ui/graph_node_item.h"
#include "ui/graph_view.h"

namespace edgetune::ui {

double GraphView::nodeValue(int node_index) const {
  auto it = overlays_.find(color_mode_);
  if (it == overlays_.end() || node_index < 0 || node_index >= static_cast<int>(it->second.size()))
    return std::numeric_limits<double>::quiet_NaN();
  return it->second[node_index];
}

void GraphView::recolor() {
  const auto& visible = prepared_.visible;
  // Group values: sums for additive metrics, means for ratios and errors.
  const bool additive = color_mode_ == GraphColorMode::Params || color_mode_ == GraphColorMode::Macs ||
                        color_mode_ == GraphColorMode::LatencyShare ||
                        color_mode_ == GraphColorMode::DeviceLatency;
  std::vector<double> value(visible.items.size(), std::numeric_limits<double>::quiet_NaN());
  std::vector<int> count(visible.items.size(), 0);
  std::vector<QString> op_of_item(visible.items.size());
  std::map<QString, int> op_counts;
  for (size_t n = 0; n < visible.item_of_node.size(); ++n) {
    const int item = visible.item_of_node[n];
    const GraphNode& node = prepared_.structure->nodes[n];
    // A folded Constant / Identity is part of its reader: it adds cost to a sum but is no op type of its own.
    if (!node.folded) {
      const QString op = QString::fromStdString(node.op_type);
      op_counts[op]++;
      if (op_of_item[item].isEmpty()) op_of_item[item] = op;
    }
    if (color_mode_ == GraphColorMode::OpType || (node.folded && !additive)) continue;
    const double v = nodeValue(static_cast<int>(n));
    if (std::isnan(v)) continue;
    value[item] = (std::isnan(value[item]) ? 0.0 : value[item]) + v;
    count[item]++;
  }
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (size_t i = 0; i < value.size(); ++i) {
    if (std::isnan(value[i])) continue;
    if (!additive && count[i] > 0) value[i] /= count[i];
    lo = std::min(lo, value[i]);
    hi = std::max(hi, value[i]);
  }
  std::map<int, NodeDiff> item_diff;
  for (auto [node, kind] : diff_)
    if (node >= 0 && node < static_cast<int>(visible.item_of_node.size()))
      item_diff.emplace(visible.item_of_node[node], kind);
  for (auto* item : items_) {
    const int i = item->itemIndex();
    QColor fill;
    const auto kind = item->kind();
    if (kind == VisibleItem::Kind::Input || kind == VisibleItem::Kind::Output)
      fill = QColor(235, 235, 235);
    else if (color_mode_ == GraphColorMode::OpType)
      fill = kind == VisibleItem::Kind::Group ? QColor(225, 232, 245) : opTypeColor(op_of_item[i]);
    else if (std::isnan(value[i]))
      fill = noValueColor();
    else
      fill = heatColor(hi > lo ? (value[i] - lo) / (hi - lo) : (hi > 0 ? 1.0 : 0.0));
    QColor border(90, 90, 90);
    if (auto it = item_diff.find(i); it != item_diff.end()) {
      border = diffColor(it->second);
      if (color_mode_ == GraphColorMode::OpType) fill = diffColor(it->second).lighter(170);
    }
    item->setFill(fill, border);
  }
  // Legend.
  if (!diff_.empty()) {
    legend_->setEntries("Changes", {{diffColor(NodeDiff::Removed).lighter(170), "removed"},
                                    {diffColor(NodeDiff::ChangedShape).lighter(170), "changed shape"},
                                    {diffColor(NodeDiff::ChangedPrecision).lighter(170), "changed precision"},
                                    {diffColor(NodeDiff::ChangedOp).lighter(170), "changed op"}});
  } else if (color_mode_ == GraphColorMode::OpType) {
    std::vector<std::pair<int, QString>> ops;
    for (const auto& [op, c] : op_counts) ops.push_back({-c, op});
    std::sort(ops.begin(), ops.end());
    std::vector<std::pair<QColor, QString>> entries;
    for (size_t k = 0; k < ops.size() && k < 10; ++k)
      entries.push_back(
          {opTypeColor(ops[k].second), QString("%1 (%2)").arg(ops[k].second).arg(-ops[k].first)});
    if (ops.size() > 10)
      entries.push_back({QColor(225, 232, 245), QString("... %1 more op types").arg(ops.size() - 10)});
    if (!visible.collapsed.empty()) entries.push_back({QColor(225, 232, 245), "group (double-click)"});
    if (prepared_.structure->folded_count > 0)
      entries.push_back(
          {QColor(255, 255, 255),
           QString("%1 Constant / Identity shown in their readers").arg(prepared_.structure->folded_count)});
    legend_->setEntries("Op type", std::move(entries));
  } else {
    auto fmt = [&](double v) {
      if (!std::isfinite(v)) return QString("-");
      if (color_mode_ == GraphColorMode::PruningRatio || color_mode_ == GraphColorMode::LatencyShare ||
          color_mode_ == GraphColorMode::DeviceLatency)
        return QString::number(100 * v, 'f', 1) + "%";
      if (std::abs(v) >= 1e6) return QString::number(v / 1e6, 'f', 2) + " M";
      if (std::abs(v) >= 1e3) return QString::number(v / 1e3, 'f', 1) + " K";
      return QString::number(v, 'g', 3);
    };
    const bool any = std::isfinite(lo);
    const auto note = overlay_notes_.find(color_mode_);
    const QString suffix = note != overlay_notes_.end() && !note->second.isEmpty() ? " (" + note->second + ")"
                           : any                                                   ? QString()
                                 : QString(" (not measured yet)");
    legend_->setGradient(colorModeName(color_mode_) + suffix, fmt(lo), fmt(hi));
  }
  positionOverlays();
}

void GraphView::setColorMode(GraphColorMode mode) {
  color_mode_ = mode;
  recolor();
}

void GraphView::setOverlayValues(GraphColorMode mode, std::vector<double> values) {
  overlays_[mode] = std::move(values);
  if (mode == color_mode_) recolor();
}

void GraphView::setOverlayNote(GraphColorMode mode, const QString& note) {
  overlay_notes_[mode] = note;
  if (mode == color_mode_) recolor();
}

QString GraphView::legendTitle() const {
  return legend_->title();
}

QColor GraphView::nodeFill(int node_index) const {
  const auto& of = prepared_.visible.item_of_node;
  if (node_index < 0 || node_index >= static_cast<int>(of.size())) return {};
  const int item = of[node_index];
  for (const auto* it : items_)
    if (it->itemIndex() == item) return it->fill();
  return {};
}

bool GraphView::hasOverlay(GraphColorMode mode) const {
  auto it = overlays_.find(mode);
  if (it == overlays_.end()) return false;
  for (double v : it->second)
    if (!std::isnan(v)) return true;
  return false;
}

void GraphView::setDiff(std::map<int, NodeDiff> diff) {
  diff_ = std::move(diff);
  recolor();
}

}  // namespace edgetune::ui
