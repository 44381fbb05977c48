#pragma once
// GraphView: the layered drawing of an ONNX graph (Graphviz layout computed off the UI thread) with zoom,
// pan, fit, a minimap, search, collapsible name-scope groups, op-type or metric coloring with a legend, and
// diff highlighting. The boxes, legend, minimap and colours are in graph_node_item, graph_legend,
// graph_minimap and graph_colors; the diff itself is core/ir/ir_diff.
#include <QGraphicsView>
#include <QMenu>
#include <QPointer>

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "core/ir/ir_diff.h"
#include "core/ir/model.h"
#include "core/ir/stats.h"
#include "ui/graph_colors.h"
#include "ui/graph_model.h"

namespace edgetune::ui {

class JobManager;
class GraphNodeItem;
class GraphLegend;
class GraphMiniMap;

/// Everything the view needs for one model, prepared on a worker thread (structure, first collapse, layout).
struct PreparedGraph {
  std::shared_ptr<const Model> model;
  std::shared_ptr<const ModelStats> stats;
  std::shared_ptr<const GraphStructure> structure;
  VisibleGraph visible;
  GraphLayout layout;
  double prepare_seconds = 0;  // structure + visible graph + layout
};
/// Builds a PreparedGraph (call on a worker: it runs Graphviz).
PreparedGraph prepareGraph(std::shared_ptr<const Model> model, std::shared_ptr<const ModelStats> stats,
                           int target_items = 90);

class GraphView : public QGraphicsView {
  Q_OBJECT
 public:
  explicit GraphView(QWidget* parent = nullptr);
  ~GraphView() override;

  /// Jobs (relayouts after expand/collapse) are started here; without one, the view makes its own manager.
  void setJobManager(JobManager* jobs);

  /// Shows a prepared graph (UI thread; builds scene items only).
  void setPrepared(PreparedGraph prepared);
  /// Prepares `model` on a worker and shows it when done (emits layoutReady).
  void showModel(std::shared_ptr<const Model> model, std::shared_ptr<const ModelStats> stats);
  void clear();

  const Model* model() const { return prepared_.model.get(); }
  const GraphStructure* structure() const { return prepared_.structure.get(); }
  const VisibleGraph& visibleGraph() const { return prepared_.visible; }
  int visibleItemCount() const { return static_cast<int>(prepared_.visible.items.size()); }
  int nodeItemCount() const;   // scene items showing single ONNX nodes
  int groupItemCount() const;  // scene items showing collapsed scopes
  bool isLayoutRunning() const { return layout_generation_ != shown_generation_; }

  /// Expands / collapses a name scope and re-lays out off the UI thread.
  void expandGroup(const QString& scope);
  void collapseGroup(const QString& scope);
  void expandAll();

  /// Selects the matching nodes (name or op type contains `text`, any case), zooms to the first and returns
  /// how many ONNX nodes match. Matches inside collapsed groups highlight the group.
  int search(const QString& text);
  /// Centers on the next match of the last search; returns its ONNX node index (-1 if none).
  int findNext();
  /// Zooms in until node `node_index`'s box is readable (at most 1.5x) and centres it; Find uses it.
  void zoomToReadable(int node_index);

  void setColorMode(GraphColorMode mode);
  GraphColorMode colorMode() const { return color_mode_; }
  /// Per-ONNX-node values for a metric overlay (NaN = not measured), e.g. pruning ratio or sensitivity.
  void setOverlayValues(GraphColorMode mode, std::vector<double> values);
  bool hasOverlay(GraphColorMode mode) const;
  /// A short note shown after the legend's title while `mode` is shown (e.g. why no node has a value); ""
  /// clears.
  void setOverlayNote(GraphColorMode mode, const QString& note);
  /// The legend's title as shown now (mode name, note or "not measured yet").
  QString legendTitle() const;
  /// The fill color of the scene item showing ONNX node `node_index` (a collapsed group for its members);
  /// invalid if there is none.
  QColor nodeFill(int node_index) const;
  /// The fill of items with no value in a metric color mode.
  static QColor noValueColor() { return QColor(215, 215, 215); }
  /// The values set for `mode` (empty if none).
  std::vector<double> overlayValues(GraphColorMode mode) const {
    auto it = overlays_.find(mode);
    return it == overlays_.end() ? std::vector<double>{} : it->second;
  }
  /// Highlights nodes that differ in a comparison (empty map clears).
  void setDiff(std::map<int, NodeDiff> diff);

  /// Outlines the items showing these ONNX nodes (e.g. every node a structured-pruning group couples); an
  /// empty list clears. Kept across relayouts; a search replaces it.
  void setHighlightedNodes(std::vector<int> node_indices);
  const std::vector<int>& highlightedNodes() const { return highlighted_nodes_; }
  /// Scene items currently outlined (a collapsed group counts once for all its highlighted members).
  int highlightedItemCount() const;

  /// Marks the items showing these ONNX nodes as kept in float (a dashed violet frame and an "FP" badge; a
  /// collapsed group shows how many of its members are). Kept across relayouts; an empty list clears.
  void setQuantExcludedNodes(std::vector<int> node_indices);
  const std::vector<int>& quantExcludedNodes() const { return quant_excluded_nodes_; }
  bool isQuantExcluded(int node_index) const;
  /// Scene items currently marked as kept in float.
  int quantExcludedItemCount() const;
  /// The context menu of ONNX node `node_index` (what right-clicking it shows, minus the view-wide entries):
  /// "Exclude from quantization" / "Include again in quantization" (emits quantExclusionRequested) and
  /// "Collapse <scope>" entries.
  std::unique_ptr<QMenu> nodeContextMenu(int node_index);

  /// Scrolls the item showing ONNX node `node_index` into the middle of the view (no selection change).
  void centerOnNode(int node_index);
  /// Selects and centers the item showing ONNX node `node_index`.
  void selectNode(int node_index);
  int selectedNode() const { return selected_node_; }

  void fitAll();
  void zoomBy(double factor);
  double zoomLevel() const { return transform().m11(); }

 signals:
  void nodeSelected(int node_index);  // -1 when nothing (or a group) is selected
  void groupSelected(const QString& scope);
  void layoutReady(double seconds);  // after a layout is shown
  /// The user asked to keep node `node_index` in float (`exclude`) or to quantize it again.
  void quantExclusionRequested(int node_index, bool exclude);

 protected:
  void wheelEvent(QWheelEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void contextMenuEvent(QContextMenuEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void drawBackground(QPainter* painter, const QRectF& rect) override;

 private:
  void relayout(std::set<std::string> collapsed, const QString& focus_scope);
  void rebuildScene();
  void recolor();
  void onSelectionChanged();
  double nodeValue(int node_index) const;
  void positionOverlays();
  GraphNodeItem* itemAt(const QPoint& pos) const;

  QGraphicsScene* scene_;
  JobManager* jobs_ = nullptr;
  JobManager* own_jobs_ = nullptr;
  PreparedGraph prepared_;
  std::vector<GraphNodeItem*> items_;
  GraphColorMode color_mode_ = GraphColorMode::OpType;
  std::map<GraphColorMode, std::vector<double>> overlays_;
  std::map<GraphColorMode, QString> overlay_notes_;
  std::map<int, NodeDiff> diff_;
  std::vector<int> search_matches_;
  std::vector<int> highlighted_nodes_;
  void applyHighlights();
  void applyQuantExclusions();
  std::vector<int> quant_excluded_nodes_;  // sorted
  int search_pos_ = -1;
  int selected_node_ = -1;
  int layout_generation_ = 0, shown_generation_ = 0;
  bool first_show_ = true;
  GraphLegend* legend_;
  GraphMiniMap* minimap_;
};

}  // namespace edgetune::ui
