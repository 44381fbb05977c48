// GraphView: the scene (layout jobs, grouping, search, highlights, selection, zoom, the minimap and legend
// overlays); what each node is coloured with is in graph_view_colors.cpp.
#include "ui/graph_view.h"

#include <QContextMenuEvent>
#include <QGraphicsItem>
#include <QGraphicsPathItem>
#include <QGraphicsScene>
#include <QMenu>
#include <QPainter>
#include <QScrollBar>
#include <QStyleOptionGraphicsItem>
#include <QWheelEvent>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "ui/graph_legend.h"
#include "ui/graph_minimap.h"
#include "ui/graph_node_item.h"
#include "ui/jobs.h"

namespace edgetune::ui {

// ------------------------------------------------------------------------------------------------ prepare
PreparedGraph prepareGraph(std::shared_ptr<const Model> model, std::shared_ptr<const ModelStats> stats,
                           int target_items) {
  const auto start = std::chrono::steady_clock::now();
  PreparedGraph prepared;
  prepared.model = std::move(model);
  prepared.stats = std::move(stats);
  auto structure = std::make_shared<GraphStructure>(GraphStructure::fromModel(*prepared.model));
  prepared.visible = buildVisibleGraph(*structure, defaultCollapsed(*structure, target_items));
  prepared.structure = std::move(structure);
  prepared.layout = layoutGraph(prepared.visible);
  prepared.prepare_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return prepared;
}

// ------------------------------------------------------------------------------------------------ view
GraphView::GraphView(QWidget* parent) : QGraphicsView(parent), scene_(new QGraphicsScene(this)) {
  setScene(scene_);
  setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
  setDragMode(QGraphicsView::ScrollHandDrag);
  setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
  setViewportUpdateMode(QGraphicsView::SmartViewportUpdate);
  scene_->setItemIndexMethod(QGraphicsScene::BspTreeIndex);
  legend_ = new GraphLegend(this);
  minimap_ = new GraphMiniMap(this, scene_);
  minimap_->hide();
  legend_->hide();
  connect(scene_, &QGraphicsScene::selectionChanged, this, &GraphView::onSelectionChanged);
  auto update_minimap = [this] { minimap_->viewport()->update(); };
  connect(horizontalScrollBar(), &QScrollBar::valueChanged, this, update_minimap);
  connect(verticalScrollBar(), &QScrollBar::valueChanged, this, update_minimap);
}

GraphView::~GraphView() = default;

void GraphView::setJobManager(JobManager* jobs) {
  jobs_ = jobs;
}

void GraphView::clear() {
  ++layout_generation_;
  shown_generation_ = layout_generation_;
  scene_->clear();
  items_.clear();
  prepared_ = PreparedGraph{};
  overlays_.clear();
  overlay_notes_.clear();
  diff_.clear();
  search_matches_.clear();
  highlighted_nodes_.clear();
  selected_node_ = -1;
  legend_->hide();
  minimap_->hide();
}

void GraphView::setPrepared(PreparedGraph prepared) {
  const bool same_model = prepared_.model == prepared.model;
  if (!same_model) {
    overlays_.clear();
    diff_.clear();
    highlighted_nodes_.clear();
    first_show_ = true;
  }
  shown_generation_ = layout_generation_;
  prepared_ = std::move(prepared);
  if (prepared_.stats) {
    std::vector<double> params, macs;
    for (const auto& n : prepared_.stats->nodes) {
      params.push_back(static_cast<double>(n.params));
      macs.push_back(static_cast<double>(n.macs));
    }
    overlays_[GraphColorMode::Params] = std::move(params);
    overlays_[GraphColorMode::Macs] = std::move(macs);
  }
  rebuildScene();
  emit layoutReady(prepared_.layout.seconds);
}

void GraphView::showModel(std::shared_ptr<const Model> model, std::shared_ptr<const ModelStats> stats) {
  if (!jobs_) {
    own_jobs_ = new JobManager(this);
    jobs_ = own_jobs_;
  }
  const int generation = ++layout_generation_;
  jobs_->start("Lay out graph", [this, generation, model, stats](JobContext&, JobHandle& handle) {
    auto prepared = std::make_shared<PreparedGraph>(prepareGraph(model, stats));
    handle.postToUi([this, generation, prepared] {
      if (generation == layout_generation_) {
        prepared_ = PreparedGraph{};  // a new model: reset overlays
        setPrepared(std::move(*prepared));
      }
    });
  });
}

int GraphView::nodeItemCount() const {
  int n = 0;
  for (auto* i : items_) n += i->kind() == VisibleItem::Kind::Node ? 1 : 0;
  return n;
}

int GraphView::groupItemCount() const {
  int n = 0;
  for (auto* i : items_) n += i->kind() == VisibleItem::Kind::Group ? 1 : 0;
  return n;
}

void GraphView::relayout(std::set<std::string> collapsed, const QString& focus_scope) {
  if (!prepared_.structure) return;
  if (!jobs_) {
    own_jobs_ = new JobManager(this);
    jobs_ = own_jobs_;
  }
  const int generation = ++layout_generation_;
  auto structure = prepared_.structure;
  auto model = prepared_.model;
  auto stats = prepared_.stats;
  jobs_->start("Lay out graph", [=, this](JobContext&, JobHandle& handle) {
    auto prepared = std::make_shared<PreparedGraph>();
    const auto start = std::chrono::steady_clock::now();
    prepared->model = model;
    prepared->stats = stats;
    prepared->structure = structure;
    prepared->visible = buildVisibleGraph(*structure, collapsed);
    prepared->layout = layoutGraph(prepared->visible);
    prepared->prepare_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    handle.postToUi([this, generation, prepared, focus_scope] {
      if (generation != layout_generation_) return;  // a newer layout replaces this one
      setPrepared(std::move(*prepared));
      // Keep the user's place: center on the first node of the scope that was expanded.
      if (!focus_scope.isEmpty()) {
        const std::string scope = focus_scope.toStdString();
        for (auto* item : items_) {
          const int n = item->nodeIndex();
          if (n < 0 && item->scope().isEmpty()) continue;
          const std::string key = item->kind() == VisibleItem::Kind::Group
                                      ? item->scope().toStdString()
                                      : GraphStructure::scopeKey(prepared_.structure->nodes[n], 1000);
          if (key == scope || key.rfind(scope + "/", 0) == 0) {
            centerOn(item);
            break;
          }
        }
      }
    });
  });
}

void GraphView::rebuildScene() {
  scene_->clear();
  items_.clear();
  const auto& visible = prepared_.visible;
  const auto& layout = prepared_.layout;
  items_.reserve(visible.items.size());
  // Folded Constant / Identity nodes by the node that shows them, for its tooltip.
  std::unordered_map<int, std::vector<int>> folded_into;
  for (size_t n = 0; n < prepared_.structure->nodes.size(); ++n)
    if (prepared_.structure->nodes[n].folded)
      folded_into[prepared_.structure->nodes[n].shown_in].push_back(static_cast<int>(n));
  for (size_t i = 0; i < visible.items.size(); ++i) {
    auto* item = new GraphNodeItem(static_cast<int>(i), visible.items[i], layout.item_rects[i]);
    const auto& vi = visible.items[i];
    QString tip;
    if (vi.kind == VisibleItem::Kind::Node) {
      const auto& node = prepared_.structure->nodes[vi.node_index];
      tip = QString("%1\n%2").arg(QString::fromStdString(node.op_type), QString::fromStdString(node.name));
      if (prepared_.stats && vi.node_index < static_cast<int>(prepared_.stats->nodes.size())) {
        const auto& s = prepared_.stats->nodes[vi.node_index];
        tip += QString("\nparams %1, MACs %2").arg(s.params).arg(s.macs);
      }
      if (!node.constants.empty()) tip += "\nconstants: " + QString::fromStdString(node.constants);
      if (auto it = folded_into.find(vi.node_index); it != folded_into.end()) {
        QStringList names;
        for (size_t k = 0; k < it->second.size() && k < 4; ++k)
          names << QString::fromStdString(prepared_.structure->nodes[it->second[k]].name);
        if (it->second.size() > 4) names << QString("%1 more").arg(it->second.size() - 4);
        tip += "\nalso shows (Constant / Identity): " + names.join(", ");
      }
    } else if (vi.kind == VisibleItem::Kind::Group) {
      tip = QString("%1 (%2 nodes)\ndouble-click to expand")
                .arg(QString::fromStdString(vi.scope))
                .arg(vi.member_count);
    } else {
      tip = QString::fromStdString(vi.label);
    }
    item->setToolTip(tip);
    scene_->addItem(item);
    items_.push_back(item);
  }
  const QPen edge_pen(QColor(110, 110, 110), 1.2);
  for (const auto& e : layout.edges) {
    if (e.bezier.empty()) continue;
    QPainterPath path(e.bezier[0]);
    for (size_t k = 1; k + 2 < e.bezier.size(); k += 3)
      path.cubicTo(e.bezier[k], e.bezier[k + 1], e.bezier[k + 2]);
    auto* pi = scene_->addPath(path, edge_pen);
    pi->setZValue(0);
    if (e.has_arrow) {
      const QPointF from = e.bezier.back(), tip = e.arrow_tip;
      const QPointF d = tip - from;
      const double len = std::hypot(d.x(), d.y());
      if (len > 0.1) {
        const QPointF u = d / len, n(-u.y(), u.x());
        QPolygonF arrow({tip, from + n * 3.5, from - n * 3.5});
        auto* ai = scene_->addPolygon(arrow, QPen(Qt::NoPen), QColor(110, 110, 110));
        ai->setZValue(0);
      }
    }
  }
  scene_->setSceneRect(layout.bounds.adjusted(-20, -20, 20, 20));
  recolor();
  applyHighlights();
  applyQuantExclusions();
  minimap_->setVisible(!items_.empty());
  legend_->setVisible(!items_.empty());
  positionOverlays();
  minimap_->refit();
  if (first_show_) {
    first_show_ = false;
    // Readable first view: fit small graphs, otherwise start at the top at a legible zoom.
    resetTransform();
    const QRectF r = scene_->sceneRect();
    const double fit = std::min(viewport()->width() / r.width(), viewport()->height() / r.height());
    if (fit >= 0.6) {
      fitInView(r, Qt::KeepAspectRatio);
      if (transform().m11() > 1.2) setTransform(QTransform::fromScale(1.2, 1.2));
    } else {
      const double s = std::max(fit, 0.8);
      setTransform(QTransform::fromScale(s, s));
      centerOn(r.center().x(), r.top() + viewport()->height() / (2 * s));
    }
  }
  if (selected_node_ >= 0) {
    const int keep = selected_node_;
    selected_node_ = -1;
    if (keep < static_cast<int>(prepared_.visible.item_of_node.size())) {
      const int item = prepared_.visible.item_of_node[keep];
      const QSignalBlocker block(scene_);
      items_[item]->setSelected(true);
      selected_node_ = keep;
    }
  }
}

void GraphView::expandGroup(const QString& scope) {
  if (!prepared_.structure) return;
  relayout(expandScope(*prepared_.structure, prepared_.visible.collapsed, scope.toStdString()), scope);
}

void GraphView::collapseGroup(const QString& scope) {
  if (!prepared_.structure) return;
  relayout(collapseScope(prepared_.visible.collapsed, scope.toStdString()), scope);
}

void GraphView::expandAll() {
  relayout({}, QString());
}

int GraphView::search(const QString& text) {
  search_matches_.clear();
  search_pos_ = -1;
  highlighted_nodes_.clear();
  for (auto* item : items_) item->setHighlighted(false);
  if (!prepared_.structure || text.trimmed().isEmpty()) return 0;
  const QString needle = text.trimmed();
  const auto& nodes = prepared_.structure->nodes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (QString::fromStdString(nodes[i].name).contains(needle, Qt::CaseInsensitive) ||
        QString::fromStdString(nodes[i].op_type).contains(needle, Qt::CaseInsensitive))
      search_matches_.push_back(static_cast<int>(i));
  }
  for (int n : search_matches_) items_[prepared_.visible.item_of_node[n]]->setHighlighted(true);
  if (!search_matches_.empty()) findNext();
  return static_cast<int>(search_matches_.size());
}

void GraphView::setHighlightedNodes(std::vector<int> node_indices) {
  const int count = static_cast<int>(prepared_.visible.item_of_node.size());
  std::erase_if(node_indices, [count](int n) { return n < 0 || n >= count; });
  highlighted_nodes_ = std::move(node_indices);
  applyHighlights();
}

void GraphView::centerOnNode(int node_index) {
  if (node_index < 0 || node_index >= static_cast<int>(prepared_.visible.item_of_node.size())) return;
  centerOn(items_[prepared_.visible.item_of_node[node_index]]);
}

void GraphView::applyHighlights() {
  for (auto* item : items_) item->setHighlighted(false);
  for (int n : highlighted_nodes_)
    if (n < static_cast<int>(prepared_.visible.item_of_node.size()))
      items_[prepared_.visible.item_of_node[n]]->setHighlighted(true);
}

void GraphView::setQuantExcludedNodes(std::vector<int> node_indices) {
  std::sort(node_indices.begin(), node_indices.end());
  node_indices.erase(std::unique(node_indices.begin(), node_indices.end()), node_indices.end());
  quant_excluded_nodes_ = std::move(node_indices);
  applyQuantExclusions();
}

bool GraphView::isQuantExcluded(int node_index) const {
  return std::binary_search(quant_excluded_nodes_.begin(), quant_excluded_nodes_.end(), node_index);
}

void GraphView::applyQuantExclusions() {
  std::vector<int> per_item(items_.size(), 0);
  for (int n : quant_excluded_nodes_)
    if (n >= 0 && n < static_cast<int>(prepared_.visible.item_of_node.size())) {
      const int item = prepared_.visible.item_of_node[n];
      if (item >= 0 && item < static_cast<int>(per_item.size())) ++per_item[item];
    }
  for (size_t i = 0; i < items_.size(); ++i) items_[i]->setQuantExcluded(per_item[i]);
}

int GraphView::quantExcludedItemCount() const {
  int count = 0;
  for (const auto* item : items_) count += item->quantExcluded() > 0 ? 1 : 0;
  return count;
}

std::unique_ptr<QMenu> GraphView::nodeContextMenu(int node_index) {
  auto menu = std::make_unique<QMenu>(this);
  if (!prepared_.structure || node_index < 0 ||
      node_index >= static_cast<int>(prepared_.structure->nodes.size()))
    return menu;
  const bool excluded = isQuantExcluded(node_index);
  auto* toggle =
      menu->addAction(excluded ? "Include again in quantization" : "Exclude from quantization", this,
                      [this, node_index, excluded] { emit quantExclusionRequested(node_index, !excluded); });
  toggle->setObjectName(excluded ? "includeInQuantization" : "excludeFromQuantization");
  toggle->setToolTip(excluded ? "Quantize this node again" : "Keep this node in float when quantizing");
  const auto& node = prepared_.structure->nodes[node_index];
  bool first = true;
  // Offer to collapse each enclosing scope, innermost first.
  for (size_t d = node.scope.size(); d >= 1; --d) {
    const QString scope = QString::fromStdString(GraphStructure::scopeKey(node, d));
    if (prepared_.structure->scope_sizes.at(scope.toStdString()) > 1) {
      if (first) menu->addSeparator();
      first = false;
      menu->addAction("Collapse " + scope, this, [this, scope] { collapseGroup(scope); });
    }
  }
  return menu;
}

int GraphView::highlightedItemCount() const {
  std::set<int> items;
  for (int n : highlighted_nodes_)
    if (n < static_cast<int>(prepared_.visible.item_of_node.size()))
      items.insert(prepared_.visible.item_of_node[n]);
  return static_cast<int>(items.size());
}

int GraphView::findNext() {
  if (search_matches_.empty()) return -1;
  search_pos_ = (search_pos_ + 1) % static_cast<int>(search_matches_.size());
  const int node = search_matches_[search_pos_];
  selectNode(node);
  zoomToReadable(node);
  return node;
}

void GraphView::zoomToReadable(int node_index) {
  if (node_index < 0 || node_index >= static_cast<int>(prepared_.visible.item_of_node.size())) return;
  const QGraphicsItem* item = items_[prepared_.visible.item_of_node[node_index]];
  // A match drawn a few pixels wide in a fitted 5,000-node graph is found but not seen: zoom until its box is
  // readable, never past 1.5x (a box larger than the view hides its neighbours).
  constexpr double kReadableWidthPx = 140;
  const double width_px = item->sceneBoundingRect().width() * transform().m11();
  if (width_px > 0 && width_px < kReadableWidthPx)
    zoomBy(std::min(kReadableWidthPx / width_px, 1.5 / transform().m11()));
  centerOn(item);
}

void GraphView::selectNode(int node_index) {
  if (node_index < 0 || node_index >= static_cast<int>(prepared_.visible.item_of_node.size())) return;
  auto* item = items_[prepared_.visible.item_of_node[node_index]];
  {
    const QSignalBlocker block(scene_);
    scene_->clearSelection();
    item->setSelected(true);
  }
  centerOn(item);
  selected_node_ = item->kind() == VisibleItem::Kind::Node ? node_index : -1;
  if (item->kind() == VisibleItem::Kind::Group) emit groupSelected(item->scope());
  emit nodeSelected(node_index);
}

void GraphView::onSelectionChanged() {
  const auto selected = scene_->selectedItems();
  for (auto* gi : selected) {
    auto* item = dynamic_cast<GraphNodeItem*>(gi);
    if (!item) continue;
    if (item->kind() == VisibleItem::Kind::Node) {
      selected_node_ = item->nodeIndex();
      emit nodeSelected(selected_node_);
    } else if (item->kind() == VisibleItem::Kind::Group) {
      selected_node_ = -1;
      emit groupSelected(item->scope());
      emit nodeSelected(-1);
    }
    return;
  }
}

void GraphView::fitAll() {
  if (scene_->items().isEmpty()) return;
  fitInView(scene_->sceneRect(), Qt::KeepAspectRatio);
}

void GraphView::zoomBy(double factor) {
  const double current = transform().m11();
  const double target = std::clamp(current * factor, 0.02, 6.0);
  scale(target / current, target / current);
  minimap_->viewport()->update();
}

void GraphView::wheelEvent(QWheelEvent* event) {
  const double steps = event->angleDelta().y() / 120.0;
  if (steps == 0) return;
  zoomBy(std::pow(1.15, steps));
  event->accept();
}

GraphNodeItem* GraphView::itemAt(const QPoint& pos) const {
  for (auto* gi : items(pos))
    if (auto* item = dynamic_cast<GraphNodeItem*>(gi)) return item;
  return nullptr;
}

void GraphView::mouseDoubleClickEvent(QMouseEvent* event) {
  auto* item = itemAt(event->pos());
  if (item && item->kind() == VisibleItem::Kind::Group) {
    expandGroup(item->scope());
    return;
  }
  QGraphicsView::mouseDoubleClickEvent(event);
}

void GraphView::contextMenuEvent(QContextMenuEvent* event) {
  auto* item = itemAt(event->pos());
  std::unique_ptr<QMenu> menu;
  if (item && item->kind() == VisibleItem::Kind::Node) {
    menu = nodeContextMenu(item->nodeIndex());
  } else {
    menu = std::make_unique<QMenu>(this);
    if (item && item->kind() == VisibleItem::Kind::Group) {
      const QString scope = item->scope();
      menu->addAction("Expand " + scope, this, [this, scope] { expandGroup(scope); });
    }
  }
  if (!menu->isEmpty()) menu->addSeparator();
  menu->addAction("Fit", this, &GraphView::fitAll);
  menu->addAction("Expand all", this, &GraphView::expandAll);
  menu->exec(event->globalPos());
}

void GraphView::resizeEvent(QResizeEvent* event) {
  QGraphicsView::resizeEvent(event);
  positionOverlays();
  minimap_->refit();
}

void GraphView::positionOverlays() {
  legend_->move(8, 8);
  legend_->raise();
  const QRectF r = scene_->sceneRect();
  const int w = std::clamp(viewport()->width() / 5, 120, 220);
  const int h = r.width() > 0
                    ? std::clamp(static_cast<int>(w * r.height() / r.width()), 60, viewport()->height() / 3)
                    : 100;
  minimap_->setGeometry(viewport()->width() - w - 8, viewport()->height() - h - 8, w, h);
  minimap_->raise();
}

void GraphView::drawBackground(QPainter* painter, const QRectF& rect) {
  painter->fillRect(rect, QColor(250, 250, 252));
}

}  // namespace edgetune::ui
