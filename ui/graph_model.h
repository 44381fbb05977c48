#pragma once
// The graph the studio draws: ONNX nodes grouped by name scope, a collapsed "visible" graph, and its Graphviz
// layout. No widgets: built and laid out on worker threads, drawn by GraphView.
#include <QPointF>
#include <QRectF>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/ir/model.h"

namespace edgetune::ui {

/// One ONNX node as the graph view knows it.
struct GraphNode {
  std::string name;
  std::string op_type;
  std::vector<std::string> scope;  // "/layer1/layer1.0/conv1/Conv" -> {"layer1", "layer1.0", "conv1"}
};

/// The model's node/edge structure and its scope tree (scope keys join components with '/').
struct GraphStructure {
  std::vector<GraphNode> nodes;                   // graph order
  std::vector<std::pair<int, int>> edges;         // producer node -> consumer node (deduplicated)
  std::vector<std::string> inputs, outputs;       // graph inputs (not initializers) and outputs
  std::vector<std::pair<int, int>> input_edges;   // (input index, node)
  std::vector<std::pair<int, int>> output_edges;  // (node, output index)
  std::map<std::string, int> scope_sizes;         // scope key -> number of nodes inside (at any depth)

  static GraphStructure fromModel(const Model& model);
  /// Key of a node's scope prefix of `depth` components ("layer1/layer1.0").
  static std::string scopeKey(const GraphNode& node, size_t depth);
};

/// Something drawn: an ONNX node, a collapsed scope, a graph input or output.
struct VisibleItem {
  enum class Kind { Node = 1, Group, Input, Output };
  Kind kind = Kind::Node;
  int node_index = -1;   // Kind::Node
  std::string scope;     // Kind::Group: the scope key
  int member_count = 1;  // nodes inside a group
  std::string label;     // op type, scope name, or tensor name
  std::string sublabel;  // short node name, or "N nodes"
  double width_pt = 0, height_pt = 0;
};

/// The graph after collapsing some scopes: items and deduplicated item->item edges.
struct VisibleGraph {
  std::vector<VisibleItem> items;
  std::vector<std::pair<int, int>> edges;
  std::vector<int> item_of_node;  // for every ONNX node, the item that shows it
  std::set<std::string> collapsed;
};

VisibleGraph buildVisibleGraph(const GraphStructure& graph, const std::set<std::string>& collapsed);

/// Scopes to collapse so the first view has at most about `target_items` items: start from the top-level
/// scopes and expand the largest group while the count stays under the target. Empty for small models.
std::set<std::string> defaultCollapsed(const GraphStructure& graph, int target_items = 90);

/// `collapsed` with `scope` expanded (its child scopes of more than one node become collapsed).
std::set<std::string> expandScope(const GraphStructure& graph, std::set<std::string> collapsed,
                                  const std::string& scope);
/// `collapsed` with `scope` collapsed (collapsed scopes inside it are dropped).
std::set<std::string> collapseScope(std::set<std::string> collapsed, const std::string& scope);

/// Positions from Graphviz (points, y pointing down, origin at the top-left of the drawing).
struct LayoutEdge {
  int from = -1, to = -1;
  std::vector<QPointF> bezier;  // 1 + 3n cubic Bezier control points
  bool has_arrow = false;
  QPointF arrow_tip;
};
struct GraphLayout {
  std::vector<QRectF> item_rects;  // parallel to VisibleGraph::items
  std::vector<LayoutEdge> edges;
  QRectF bounds;
  double seconds = 0;
};

/// Lays out `graph` top-to-bottom with Graphviz dot. Safe to call from any thread: Graphviz is not
/// thread-safe, so layouts run one at a time (a process-wide mutex).
GraphLayout layoutGraph(const VisibleGraph& graph);

}  // namespace edgetune::ui
