#include "ui/graph_model.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <unordered_map>

#include "core/ir/input_names.h"

namespace edgetune::ui {

namespace {

std::vector<std::string> splitScope(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string::npos) slash = name.size();
    if (slash > start) parts.push_back(name.substr(start, slash - start));
    start = slash + 1;
  }
  if (!parts.empty()) parts.pop_back();  // the last component names the node itself ("Conv")
  return parts;
}

// Child scopes of `scope` ("" = the root) and the number of nodes directly inside it.
void scopeChildren(const GraphStructure& graph, const std::string& scope, std::set<std::string>& child_scopes,
                   int& direct_nodes) {
  direct_nodes = 0;
  const size_t depth =
      scope.empty() ? 0 : static_cast<size_t>(std::count(scope.begin(), scope.end(), '/') + 1);
  for (const auto& node : graph.nodes) {
    if (node.folded || node.scope.size() < depth) continue;
    if (depth > 0 && GraphStructure::scopeKey(node, depth) != scope) continue;
    if (node.scope.size() == depth) {
      ++direct_nodes;
      continue;
    }
    const std::string child = GraphStructure::scopeKey(node, depth + 1);
    // A scope holding a single node is drawn as that node; it never becomes a box.
    if (graph.scope_sizes.at(child) > 1)
      child_scopes.insert(child);
    else
      ++direct_nodes;
  }
}

double textWidthPt(const std::string& text, double char_pt) {
  return static_cast<double>(text.size()) * char_pt;
}

}  // namespace

std::string GraphStructure::scopeKey(const GraphNode& node, size_t depth) {
  std::string key;
  for (size_t i = 0; i < depth && i < node.scope.size(); ++i) {
    if (i) key += '/';
    key += node.scope[i];
  }
  return key;
}

namespace {

// What a tensor is once Identity nodes are seen through: made by a drawn node, fed as a graph input, or a
// constant (an initializer or a Constant node's value).
struct TensorSource {
  enum class Kind { Unknown, Node, Input, Constant } kind = Kind::Unknown;
  int index = -1;                             // Kind::Node: node index; Kind::Input: input index
  const onnx::TensorProto* tensor = nullptr;  // Kind::Constant, when its value is known
};

const onnx::TensorProto* constantValue(const onnx::NodeProto& node) {
  for (const auto& a : node.attribute())
    if (a.name() == "value" && a.has_t()) return &a.t();
  return nullptr;  // value_float / value_ints / sparse_value: a constant without a tensor to describe
}

// "64x3x3x3" for a tensor, "[1, -1]" for a small integer one whose values say more than its shape.
std::string describeConstant(const onnx::TensorProto* tensor) {
  if (!tensor) return "const";
  int64_t elements = 1;
  for (auto d : tensor->dims()) elements = d > 0 && elements < (int64_t{1} << 40) ? elements * d : 0;
  const bool integer =
      tensor->data_type() == onnx::TensorProto::INT64 || tensor->data_type() == onnx::TensorProto::INT32;
  if (integer && elements > 0 && elements <= 4) {
    std::vector<int64_t> values;
    try {
      const Tensor t = tensorFromProto(*tensor);
      if (t.type() == DataType::Int64)
        for (auto v : t.values<int64_t>()) values.push_back(v);
      else
        for (auto v : t.values<int32_t>()) values.push_back(v);
    } catch (const std::exception&) {
      values.clear();  // data that does not match its dims: the shape says enough
    }
    if (static_cast<int64_t>(values.size()) == elements) {
      std::string text;
      for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + std::to_string(values[i]);
      return tensor->dims_size() == 0 ? text : "[" + text + "]";
    }
  }
  if (tensor->dims_size() == 0) return "scalar";
  std::string text;
  for (int i = 0; i < tensor->dims_size(); ++i) text += (i ? "x" : "") + std::to_string(tensor->dims(i));
  return text;
}

}  // namespace

GraphStructure GraphStructure::fromModel(const Model& model) {
  GraphStructure g;
  const auto& graph = model.graph();
  const int count = graph.node_size();
  g.nodes.reserve(count);
  for (int i = 0; i < count; ++i) {
    const auto& n = graph.node(i);
    GraphNode node;
    node.name = n.name().empty() ? (n.output_size() ? n.output(0) : "node" + std::to_string(i)) : n.name();
    node.op_type = n.op_type();
    node.scope = splitScope(node.name);
    node.shown_in = i;
    g.nodes.push_back(std::move(node));
  }
  std::unordered_map<std::string, int> input_index;
  for (const auto& in : model.inputs()) {
    input_index[in.name] = static_cast<int>(g.inputs.size());
    g.inputs.push_back(in.name);
  }
  std::unordered_map<std::string, int> output_index;
  for (const auto& out : model.outputs()) {
    output_index[out.name] = static_cast<int>(g.outputs.size());
    g.outputs.push_back(out.name);
  }

  // Fold Constant and Identity nodes, in topological order so a source is known before its readers.
  std::vector<int> order;
  try {
    order = model.topologicalOrder();
  } catch (const std::exception&) {
    // A cycle or a dangling input (the validator reports it): nothing is folded, every node stays drawn.
  }
  std::unordered_map<std::string, TensorSource> alias;  // outputs of folded nodes
  auto resolve = [&](const std::string& tensor) {
    TensorSource s;
    if (auto it = alias.find(tensor); it != alias.end()) return it->second;
    if (const auto* init = model.initializer(tensor)) {
      s.kind = TensorSource::Kind::Constant;
      s.tensor = init;
    } else if (auto in = input_index.find(tensor); in != input_index.end()) {
      s.kind = TensorSource::Kind::Input;
      s.index = in->second;
    } else if (const int p = model.producer(tensor); p >= 0) {
      s.kind = TensorSource::Kind::Node;
      s.index = p;
    }
    return s;
  };
  for (int i : order) {
    const auto& n = graph.node(i);
    if (!n.domain().empty() && n.domain() != "ai.onnx") continue;
    if (n.output_size() != 1 || output_index.count(n.output(0))) continue;  // an output needs its box
    TensorSource source;
    if (n.op_type() == "Constant" && n.input_size() == 0) {
      source.kind = TensorSource::Kind::Constant;
      source.tensor = constantValue(n);
    } else if (n.op_type() == "Identity" && n.input_size() == 1) {
      source = resolve(n.input(0));
      if (source.kind == TensorSource::Kind::Unknown) continue;
    } else {
      continue;
    }
    alias[n.output(0)] = source;
    g.nodes[i].folded = true;
  }

  // A folded node is shown in the first drawn node that reads it (through further folded nodes), else in
  // the drawn node it reads from; one that neither reads nor is read by a drawn node stays a box.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    GraphNode& node = g.nodes[*it];
    if (!node.folded) continue;
    node.shown_in = -1;
    for (int c : model.consumers(graph.node(*it).output(0))) {
      if (g.nodes[c].shown_in >= 0) {
        node.shown_in = g.nodes[c].shown_in;
        break;
      }
    }
  }
  for (int i : order) {
    GraphNode& node = g.nodes[i];
    if (!node.folded || node.shown_in >= 0) continue;
    const auto& n = graph.node(i);
    if (n.input_size() == 1) {
      const TensorSource s = resolve(n.input(0));
      if (s.kind == TensorSource::Kind::Node) node.shown_in = g.nodes[s.index].shown_in;
    }
    if (node.shown_in < 0) {
      node.folded = false;
      node.shown_in = i;
      alias.erase(n.output(0));
    }
  }
  const int64_t opset = model.opsetVersion();
  std::set<std::pair<int, int>> seen;
  for (int i = 0; i < count; ++i) {
    if (g.nodes[i].folded) continue;
    const auto& n = graph.node(i);
    for (int k = 0; k < n.input_size(); ++k) {
      const std::string& t = n.input(k);
      if (t.empty()) continue;
      const TensorSource s = resolve(t);
      if (s.kind == TensorSource::Kind::Node) {
        if (seen.insert({s.index, i}).second) g.edges.push_back({s.index, i});
      } else if (s.kind == TensorSource::Kind::Input) {
        g.input_edges.push_back({s.index, i});
      } else if (s.kind == TensorSource::Kind::Constant) {
        auto& text = g.nodes[i].constants;
        text += (text.empty() ? "" : "  ") + formalInputName(n, k, opset) + " " + describeConstant(s.tensor);
      }
    }
    for (const auto& t : n.output())
      if (auto it = output_index.find(t); it != output_index.end()) g.output_edges.push_back({i, it->second});
  }

  g.folded_count = static_cast<int>(
      std::count_if(g.nodes.begin(), g.nodes.end(), [](const GraphNode& node) { return node.folded; }));
  g.countScopes();
  chunkLargeScopes(g);
  return g;
}

void GraphStructure::chunkLargeScopes(GraphStructure& g) {
  // A node sits directly in the deepest scope of its name holding more than one node (a one-node scope is
  // drawn as the node). Exports without scope names (older torch, tf2onnx) put every node directly in the
  // root, and Graphviz needs about 16 s for 5,000 boxes: such runs become groups of kChunkNodes in graph
  // order.
  std::map<std::string, std::vector<int>> direct;  // container scope key ("" = root) -> its direct nodes
  std::vector<size_t> container_depth(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode& node = g.nodes[i];
    if (node.folded) continue;
    size_t depth = node.scope.size();
    while (depth > 0 && g.scope_sizes.at(scopeKey(node, depth)) <= 1) --depth;
    container_depth[i] = depth;
    direct[scopeKey(node, depth)].push_back(static_cast<int>(i));
  }
  bool chunked = false;
  for (const auto& [container, members] : direct) {
    if (static_cast<int>(members.size()) <= kMaxDirectNodes) continue;
    chunked = true;
    for (size_t k = 0; k < members.size(); ++k) {
      const size_t first = k / kChunkNodes * kChunkNodes + 1;
      const size_t last = std::min(first + kChunkNodes - 1, members.size());
      GraphNode& node = g.nodes[members[k]];
      node.scope.insert(node.scope.begin() + static_cast<std::ptrdiff_t>(container_depth[members[k]]),
                        "nodes " + std::to_string(first) + "-" + std::to_string(last));
    }
  }
  if (chunked) g.countScopes();
}

void GraphStructure::countScopes() {
  scope_sizes.clear();
  for (const auto& node : nodes)
    if (!node.folded)
      for (size_t d = 1; d <= node.scope.size(); ++d) scope_sizes[scopeKey(node, d)]++;
}

VisibleGraph buildVisibleGraph(const GraphStructure& graph, const std::set<std::string>& collapsed) {
  VisibleGraph v;
  v.collapsed = collapsed;
  v.item_of_node.assign(graph.nodes.size(), -1);
  std::unordered_map<std::string, int> group_item;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const auto& node = graph.nodes[i];
    if (node.folded) continue;  // shown in its reader, below
    // The outermost collapsed scope containing the node wins.
    std::string group;
    for (size_t d = 1; d <= node.scope.size(); ++d) {
      std::string key = GraphStructure::scopeKey(node, d);
      if (collapsed.count(key)) {
        group = std::move(key);
        break;
      }
    }
    if (group.empty()) {
      VisibleItem item;
      item.kind = VisibleItem::Kind::Node;
      item.node_index = static_cast<int>(i);
      item.label = node.op_type;
      // The innermost scope names the module; generic ones ("self", "output") read better with their parent.
      item.sublabel = node.scope.empty() ? node.name
                      : node.scope.size() >= 2 && node.scope.back().size() <= 6
                          ? node.scope[node.scope.size() - 2] + "/" + node.scope.back()
                          : node.scope.back();
      if (item.sublabel.size() > 28) item.sublabel = "..." + item.sublabel.substr(item.sublabel.size() - 25);
      item.detail = node.constants;
      if (item.detail.size() > 34) item.detail = item.detail.substr(0, 31) + "...";
      item.width_pt = std::max({70.0, textWidthPt(item.label, 7.5) + 18, textWidthPt(item.sublabel, 6.0) + 16,
                                textWidthPt(item.detail, 5.4) + 16});
      item.height_pt = item.detail.empty() ? 34 : 46;
      v.item_of_node[i] = static_cast<int>(v.items.size());
      v.items.push_back(std::move(item));
      continue;
    }
    auto [it, inserted] = group_item.try_emplace(group, static_cast<int>(v.items.size()));
    if (inserted) {
      VisibleItem item;
      item.kind = VisibleItem::Kind::Group;
      item.scope = group;
      item.member_count = graph.scope_sizes.at(group);
      const auto slash = group.rfind('/');
      item.label = slash == std::string::npos ? group : group.substr(slash + 1);
      item.sublabel = std::to_string(item.member_count) + " nodes";
      item.width_pt = std::max(110.0, textWidthPt(item.label, 8.0) + 28);
      item.height_pt = 46;
      v.items.push_back(std::move(item));
    }
    v.item_of_node[i] = it->second;
  }
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (graph.nodes[i].folded) v.item_of_node[i] = v.item_of_node[graph.nodes[i].shown_in];
  std::set<std::pair<int, int>> seen;
  for (auto [a, b] : graph.edges) {
    const int ia = v.item_of_node[a], ib = v.item_of_node[b];
    if (ia != ib && seen.insert({ia, ib}).second) v.edges.push_back({ia, ib});
  }
  std::vector<int> input_item(graph.inputs.size()), output_item(graph.outputs.size());
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    VisibleItem item;
    item.kind = VisibleItem::Kind::Input;
    item.label = graph.inputs[i];
    item.sublabel = "input";
    item.width_pt = std::max(70.0, textWidthPt(item.label, 7.0) + 20);
    item.height_pt = 28;
    input_item[i] = static_cast<int>(v.items.size());
    v.items.push_back(std::move(item));
  }
  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    VisibleItem item;
    item.kind = VisibleItem::Kind::Output;
    item.label = graph.outputs[i];
    item.sublabel = "output";
    item.width_pt = std::max(70.0, textWidthPt(item.label, 7.0) + 20);
    item.height_pt = 28;
    output_item[i] = static_cast<int>(v.items.size());
    v.items.push_back(std::move(item));
  }
  for (auto [in, node] : graph.input_edges)
    if (seen.insert({input_item[in], v.item_of_node[node]}).second)
      v.edges.push_back({input_item[in], v.item_of_node[node]});
  for (auto [node, out] : graph.output_edges)
    if (seen.insert({v.item_of_node[node], output_item[out]}).second)
      v.edges.push_back({v.item_of_node[node], output_item[out]});
  return v;
}

std::set<std::string> defaultCollapsed(const GraphStructure& graph, int target_items) {
  std::set<std::string> collapsed;
  if (static_cast<int>(graph.nodes.size()) <= target_items) return collapsed;
  std::set<std::string> top;
  int direct = 0;
  scopeChildren(graph, "", top, direct);
  collapsed = top;
  int visible = direct + static_cast<int>(top.size());
  for (;;) {
    // Expand the largest collapsed group whose children still fit under the target.
    std::string best;
    int best_size = 0, best_growth = 0;
    for (const auto& scope : collapsed) {
      const int size = graph.scope_sizes.at(scope);
      if (size <= best_size) continue;
      std::set<std::string> children;
      int direct_nodes = 0;
      scopeChildren(graph, scope, children, direct_nodes);
      const int growth = direct_nodes + static_cast<int>(children.size()) - 1;
      if (visible + growth > target_items) continue;
      best = scope;
      best_size = size;
      best_growth = growth;
    }
    if (best.empty()) break;
    collapsed = expandScope(graph, std::move(collapsed), best);
    visible += best_growth;
  }
  return collapsed;
}

std::set<std::string> expandScope(const GraphStructure& graph, std::set<std::string> collapsed,
                                  const std::string& scope) {
  collapsed.erase(scope);
  std::set<std::string> children;
  int direct = 0;
  scopeChildren(graph, scope, children, direct);
  collapsed.insert(children.begin(), children.end());
  return collapsed;
}

std::set<std::string> collapseScope(std::set<std::string> collapsed, const std::string& scope) {
  const std::string prefix = scope + "/";
  for (auto it = collapsed.begin(); it != collapsed.end();)
    it = it->rfind(prefix, 0) == 0 ? collapsed.erase(it) : std::next(it);
  collapsed.insert(scope);
  return collapsed;
}

namespace {
std::mutex& graphvizMutex() {
  static std::mutex m;
  return m;
}
}  // namespace

GraphLayout layoutGraph(const VisibleGraph& graph) {
  const auto start = std::chrono::steady_clock::now();
  GraphLayout out;
  out.item_rects.resize(graph.items.size());
  std::lock_guard lock(graphvizMutex());
  GVC_t* gvc = gvContext();
  char graph_name[] = "g";
  Agraph_t* g = agopen(graph_name, Agdirected, nullptr);
  auto set = [](void* obj, const char* key, const std::string& value, const char* fallback) {
    agsafeset(obj, const_cast<char*>(key), const_cast<char*>(value.c_str()), const_cast<char*>(fallback));
  };
  set(g, "rankdir", "TB", "");
  set(g, "nodesep", "0.25", "");
  set(g, "ranksep", "0.3", "");
  // dot's x-coordinate network simplex runs until optimal; a graph where one node feeds every layer (an
  // attention mask) has long edges across all ranks and took 4-13 s for ~120 boxes. Four passes per node
  // give a layout that looks the same (compared by eye) in 0.1-0.3 s (bench_graph_layout).
  set(g, "nslimit", "4", "");
  // Orthogonal-ish splines are slow on large graphs; dot's default splines stay fast enough.
  std::vector<Agnode_t*> nodes(graph.items.size());
  char buf[64];
  for (size_t i = 0; i < graph.items.size(); ++i) {
    std::snprintf(buf, sizeof buf, "n%zu", i);
    nodes[i] = agnode(g, buf, 1);
    set(nodes[i], "shape", "box", "ellipse");
    set(nodes[i], "fixedsize", "true", "false");
    set(nodes[i], "label", "", "\\N");
    std::snprintf(buf, sizeof buf, "%.3f", graph.items[i].width_pt / 72.0);
    set(nodes[i], "width", buf, "0.75");
    std::snprintf(buf, sizeof buf, "%.3f", graph.items[i].height_pt / 72.0);
    set(nodes[i], "height", buf, "0.5");
  }
  std::vector<Agedge_t*> edges;
  edges.reserve(graph.edges.size());
  for (auto [a, b] : graph.edges) edges.push_back(agedge(g, nodes[a], nodes[b], nullptr, 1));
  gvLayout(gvc, g, "dot");
  const boxf bb = GD_bb(g);
  const double height = bb.UR.y;
  auto flip = [&](double x, double y) { return QPointF(x, height - y); };
  for (size_t i = 0; i < nodes.size(); ++i) {
    const pointf c = ND_coord(nodes[i]);
    const double w = ND_width(nodes[i]) * 72.0, h = ND_height(nodes[i]) * 72.0;
    const QPointF center = flip(c.x, c.y);
    out.item_rects[i] = QRectF(center.x() - w / 2, center.y() - h / 2, w, h);
  }
  for (size_t e = 0; e < edges.size(); ++e) {
    LayoutEdge le;
    le.from = graph.edges[e].first;
    le.to = graph.edges[e].second;
    const splines* spl = ED_spl(edges[e]);
    if (spl && spl->size > 0) {
      const bezier& bz = spl->list[0];
      for (int k = 0; k < bz.size; ++k) le.bezier.push_back(flip(bz.list[k].x, bz.list[k].y));
      if (bz.eflag) {
        le.has_arrow = true;
        le.arrow_tip = flip(bz.ep.x, bz.ep.y);
      }
    }
    out.edges.push_back(std::move(le));
  }
  out.bounds = QRectF(bb.LL.x, 0, bb.UR.x - bb.LL.x, bb.UR.y - bb.LL.y);
  gvFreeLayout(gvc, g);
  agclose(g);
  gvFreeContext(gvc);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace edgetune::ui
