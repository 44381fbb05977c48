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
  /// Constant and Identity nodes are not boxes: a constant is drawn inside the node that reads it and an
  /// Identity's edge goes straight from its source to its readers (torch exports are full of both).
  bool folded = false;
  /// The drawn node that shows this one: itself, or for a folded node the first drawn node that reads it.
  int shown_in = -1;
  /// The weights and constants the node reads, by the schema's input names: "W 64x3x3x3  B 64", "shape [1,
  /// -1]".
  std::string constants;
};

/// The model's node/edge structure and its scope tree (scope keys join components with '/').
struct GraphStructure {
  std::vector<GraphNode> nodes;                   // graph order
  std::vector<std::pair<int, int>> edges;         // producer node -> consumer node (deduplicated)
  std::vector<std::string> inputs, outputs;       // graph inputs (not initializers) and outputs
  std::vector<std::pair<int, int>> input_edges;   // (input index, node)
  std::vector<std::pair<int, int>> output_edges;  // (node, output index)
  std::map<std::string, int> scope_sizes;         // scope key -> number of drawn nodes inside (any depth)
  int folded_count = 0;                           // Constant / Identity nodes drawn inside their readers

  static GraphStructure fromModel(const Model& model);
  /// More nodes directly in one scope than this are split into groups of kChunkNodes ("nodes 1-100").
  static constexpr int kMaxDirectNodes = 150;
  static constexpr size_t kChunkNodes = 100;
  static void chunkLargeScopes(GraphStructure& graph);
  /// Fills scope_sizes from the drawn nodes' scopes.
  void countScopes();
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
  std::string detail;    // Kind::Node: the constants it reads (a third line), may be shortened
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
