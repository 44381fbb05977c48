// bench_graph_layout: how long the studio's graph view takes to open and to expand a scope of a 5,000-node
// encoder as torch.onnx exports it (Identity, Constant, decomposed LayerNorm, dynamic axes), and of the same
// graph without scope names (what older exporters write). The encoder is tests/fixtures/torch/
// tiny_bert_opset14.onnx with its layer 0 repeated LAYERS times under /encoder/layer.K/ (shared weights, so
// the file stays small; the graph is what matters). Times are medians of --runs rounds of the same work the
// view does on its worker: structure + default collapse + Graphviz layout, then expand + layout.
// Targets (#17 item 7): open ~2 s, expanding the 4,940-node scope < 2 s.
// Usage: bench_graph_layout [--layers N] [--runs N] [--full]   (--full also times laying out every node,
// slow)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ir/model.h"
#include "core/ir/stats.h"
#include "core/util/error.h"
#include "ui/graph_model.h"
#include "ui/graph_view.h"

using namespace edgetune;
using namespace edgetune::ui;

namespace {

// Kahn's order over tensor names (copies were spliced in where layer 0 began; its constants come later).
void sortTopologically(onnx::GraphProto& graph) {
  std::set<std::string> ready;
  for (const auto& i : graph.initializer()) ready.insert(i.name());
  for (const auto& i : graph.input()) ready.insert(i.name());
  std::vector<onnx::NodeProto> pending(graph.node().begin(), graph.node().end()), sorted;
  while (!pending.empty()) {
    std::vector<onnx::NodeProto> waiting;
    for (auto& n : pending) {
      const bool can_run = std::all_of(n.input().begin(), n.input().end(),
                                       [&](const std::string& i) { return i.empty() || ready.count(i); });
      if (!can_run) {
        waiting.push_back(std::move(n));
        continue;
      }
      for (const auto& o : n.output()) ready.insert(o);
      sorted.push_back(std::move(n));
    }
    if (waiting.size() == pending.size()) throw Error("repeated encoder has a dangling input");
    pending = std::move(waiting);
  }
  graph.clear_node();
  for (auto& n : sorted) *graph.add_node() = std::move(n);
}

// The fixture with "/layers.0/" repeated `layers` times as /encoder/layer.K/, chained hidden -> hidden.
onnx::ModelProto repeatedEncoder(const onnx::ModelProto& source, int layers, bool scope_names) {
  const std::string layer0 = "/layers.0/";
  onnx::ModelProto out = source;
  auto* graph = out.mutable_graph();
  graph->clear_node();
  std::set<std::string> made_in_layer;
  for (const auto& n : source.graph().node())
    if (n.name().rfind(layer0, 0) == 0)
      for (const auto& o : n.output()) made_in_layer.insert(o);
  // The layer's output: made inside, read outside.
  std::string layer_output;
  for (const auto& n : source.graph().node())
    if (n.name().rfind(layer0, 0) != 0)
      for (const auto& i : n.input())
        if (made_in_layer.count(i)) layer_output = i;
  if (layer_output.empty()) throw Error("fixture has no /layers.0/ output read outside it");
  // The layer's hidden-state input: made by the embeddings (the mask and the constants are shared by all).
  std::unordered_map<std::string, std::string> producer_name;
  for (const auto& n : source.graph().node())
    for (const auto& o : n.output()) producer_name[o] = n.name();
  std::string layer_input;
  for (const auto& n : source.graph().node())
    if (n.name().rfind(layer0, 0) == 0)
      for (const auto& i : n.input())
        if (producer_name.count(i) && producer_name[i].rfind("/embeddings/", 0) == 0) layer_input = i;
  if (layer_input.empty()) throw Error("fixture's /layers.0/ reads nothing the embeddings make");
  std::string hidden;  // the tensor the next copy reads where layer 0 read the embeddings
  bool copied = false;
  for (const auto& n : source.graph().node()) {
    if (n.name().rfind(layer0, 0) != 0) {
      onnx::NodeProto node = n;
      for (auto& i : *node.mutable_input())
        if (i == layer_output && !hidden.empty()) i = hidden;
      *graph->add_node() = node;
      continue;
    }
    if (copied) continue;
    copied = true;
    // All of layer 0 at once, `layers` times.
    std::string previous;
    for (int k = 0; k < layers; ++k) {
      const std::string suffix = "__" + std::to_string(k);
      for (const auto& m : source.graph().node()) {
        if (m.name().rfind(layer0, 0) != 0) continue;
        onnx::NodeProto node = m;
        node.set_name("/encoder/layer." + std::to_string(k) + "/" + m.name().substr(layer0.size()));
        for (auto& i : *node.mutable_input()) {
          if (made_in_layer.count(i))
            i += suffix;
          else if (i == layer_input && !previous.empty())
            i = previous;  // the copy reads the previous copy's output where layer 0 read the embeddings'
        }
        for (auto& o : *node.mutable_output()) o += suffix;
        *graph->add_node() = node;
      }
      previous = layer_output + suffix;
    }
    hidden = previous;
  }
  graph->clear_value_info();
  sortTopologically(*graph);
  if (!scope_names) {
    int index = 0;
    for (auto& n : *graph->mutable_node()) n.set_name(n.op_type() + "_" + std::to_string(index++));
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double secondsOf(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The largest collapsed group of `visible` (what a user expands first).
std::string largestGroup(const GraphStructure& g, const VisibleGraph& visible) {
  std::string best;
  for (const auto& scope : visible.collapsed)
    if (best.empty() || g.scope_sizes.at(scope) > g.scope_sizes.at(best)) best = scope;
  return best;
}

// How far the items that are in both layouts (everything but the expanded group and its contents) moved.
struct Movement {
  size_t common = 0, moved = 0;
  double median_pt = 0, max_pt = 0;
};
std::string itemKey(const VisibleItem& item) {
  switch (item.kind) {
    case VisibleItem::Kind::Node:
      return "n" + std::to_string(item.node_index);
    case VisibleItem::Kind::Group:
      return "g" + item.scope;
    case VisibleItem::Kind::Input:
      return "i" + item.label;
    case VisibleItem::Kind::Output:
      return "o" + item.label;
  }
  return {};
}
Movement movedItems(const VisibleGraph& before, const GraphLayout& before_layout, const VisibleGraph& after,
                    const GraphLayout& after_layout, const std::string& expanded_scope) {
  std::unordered_map<std::string, QPointF> was;
  QPointF anchor_before, anchor_after;
  for (size_t i = 0; i < before.items.size(); ++i) {
    was[itemKey(before.items[i])] = before_layout.item_rects[i].center();
    if (before.items[i].kind == VisibleItem::Kind::Input && anchor_before.isNull())
      anchor_before = before_layout.item_rects[i].center();
  }
  for (size_t i = 0; i < after.items.size(); ++i)
    if (after.items[i].kind == VisibleItem::Kind::Input && anchor_after.isNull())
      anchor_after = after_layout.item_rects[i].center();
  Movement m;
  std::vector<double> distances;
  for (size_t i = 0; i < after.items.size(); ++i) {
    const std::string key = itemKey(after.items[i]);
    if (key == "g" + expanded_scope) continue;
    auto it = was.find(key);
    if (it == was.end()) continue;
    const QPointF d = (after_layout.item_rects[i].center() - anchor_after) - (it->second - anchor_before);
    distances.push_back(std::hypot(d.x(), d.y()));
  }
  m.common = distances.size();
  for (double d : distances) m.moved += d > 1 ? 1 : 0;
  m.median_pt = median(distances);
  m.max_pt = distances.empty() ? 0 : *std::max_element(distances.begin(), distances.end());
  return m;
}

// The largest scope of the first level ("encoder").
std::string largestTopScope(const GraphStructure& g) {
  std::string best;
  for (const auto& [scope, size] : g.scope_sizes)
    if (scope.find('/') == std::string::npos && (best.empty() || size > g.scope_sizes.at(best))) best = scope;
  return best;
}

void run(const std::string& label, const Model& model, int runs, bool full) {
  auto shared = std::make_shared<const Model>(model);
  auto stats = std::make_shared<const ModelStats>(computeStats(model));
  std::vector<double> open_s, collapse_s, expand_s, inner_s;
  PreparedGraph prepared;
  std::string top, inner;
  size_t collapsed_items = 0, expanded_items = 0, inner_items = 0;
  Movement moved;
  for (int r = 0; r < runs; ++r) {
    open_s.push_back(secondsOf([&] { prepared = prepareGraph(shared, stats); }));
    const GraphStructure& g = *prepared.structure;
    // What a user does on the biggest scope: collapse it, expand it again, then open one of its groups.
    top = largestTopScope(g);
    VisibleGraph collapsed, expanded, deeper;
    GraphLayout expanded_layout, deeper_layout;
    collapse_s.push_back(secondsOf([&] {
      collapsed = buildVisibleGraph(g, collapseScope(prepared.visible.collapsed, top));
      layoutGraph(collapsed);
    }));
    expand_s.push_back(secondsOf([&] {
      expanded = buildVisibleGraph(g, expandScope(g, collapsed.collapsed, top));
      expanded_layout = layoutGraph(expanded);
    }));
    inner = largestGroup(g, expanded);
    inner_s.push_back(secondsOf([&] {
      deeper = buildVisibleGraph(g, expandScope(g, expanded.collapsed, inner));
      deeper_layout = layoutGraph(deeper);
    }));
    collapsed_items = collapsed.items.size();
    expanded_items = expanded.items.size();
    inner_items = deeper.items.size();
    moved = movedItems(expanded, expanded_layout, deeper, deeper_layout, inner);
  }
  const GraphStructure& g = *prepared.structure;
  std::printf("%s: %d ONNX nodes, %d drawn (%d Constant/Identity folded into their readers)\n", label.c_str(),
              model.graph().node_size(), model.graph().node_size() - g.folded_count, g.folded_count);
  std::printf("  open (structure + default collapse + layout): %zu items, median %.3f s\n",
              prepared.visible.items.size(), median(open_s));
  std::printf("  collapse '%s' (%d nodes): %zu items, median %.3f s\n", top.c_str(), g.scope_sizes.at(top),
              collapsed_items, median(collapse_s));
  std::printf("  expand '%s' (%d nodes): %zu items, median %.3f s\n", top.c_str(), g.scope_sizes.at(top),
              expanded_items, median(expand_s));
  std::printf("  then expand '%s' (%d nodes): %zu items, median %.3f s\n", inner.c_str(),
              g.scope_sizes.at(inner), inner_items, median(inner_s));
  std::printf(
      "  of the %zu other items, %zu moved (more than 1 pt, aligned on the first input): median %.0f pt, "
      "max %.0f pt\n",
      moved.common, moved.moved, moved.median_pt, moved.max_pt);
  std::fflush(stdout);
  if (full) {  // after the rest is printed: Graphviz needs minutes for this
    const double s = secondsOf([&] { layoutGraph(buildVisibleGraph(g, {})); });
    std::printf("  every node laid out (no groups, for comparison): %.3f s\n", s);
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int layers = 48, runs = 5;
  bool full = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--layers" && i + 1 < argc)
      layers = std::max(1, std::atoi(argv[++i]));
    else if (a == "--runs" && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--full")
      full = true;
    else {
      std::fprintf(stderr, "usage: bench_graph_layout [--layers N] [--runs N] [--full]\n");
      return 2;
    }
  }
  try {
    const Model fixture = Model::load(EDGETUNE_FIXTURES_DIR "/torch/tiny_bert_opset14.onnx");
    run("torch export, " + std::to_string(layers) + " layers",
        Model::fromProto(repeatedEncoder(fixture.proto(), layers, true), "encoder"), runs, full);
    run("same graph without scope names",
        Model::fromProto(repeatedEncoder(fixture.proto(), layers, false), "encoder-flat"), runs, full);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_graph_layout: %s\n", e.what());
    return 1;
  }
  return 0;
}
