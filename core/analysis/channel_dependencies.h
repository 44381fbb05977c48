#pragma once
// Channel dependencies: which channels, attention heads and FFN neurons of an ONNX graph must be removed
// together, and every place (weight slice, shape constant, group attribute) that removing them edits. The
// facts structured pruning plans, scores and edits from (core/passes/prune_channels*), and the groups the
// studio and the sensitivity sweep list. Read only: it never changes the model.
//
// How it works: element ids flow with the tensors (a tensor's channel axis carries one id per position), are
// united by union-find, and are poisoned where the graph does something the rules do not understand.
// The rules, op by op: a layer that creates channels (Conv, Gemm, MatMul with a constant weight) gives each
// output channel a fresh id; element-wise ops, residual Adds, Pad/Slice off the channel axis and BatchNorm
// pass or unite ids; Concat concatenates them; depthwise Conv keeps them; Flatten/Reshape that collapse the
// channel axis repeat them; softmax(Q K^T) V attention unites Q/K/V columns head by head; graph outputs and
// anything else poison them (the group is then reported unprunable with the first reason).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/ir/model.h"

namespace edgetune {

/// A set of channels that must be removed together (a residual stage, a conv's outputs, a layer's attention
/// heads, an FFN's neurons). Each unit is one removable channel (or one head).
struct PruneGroup {
  int index = 0;     // position in findPruneGroups' list (stable for an unchanged model)
  std::string id;    // stable name: "channels:<first producer node>", "heads:...", "neurons:..."
  std::string kind;  // "channels" (conv/BN), "heads" (attention) or "neurons" (Gemm/MatMul outputs)
  std::vector<std::string> nodes;  // every node whose weights, shape constants or attributes pruning edits
  std::vector<std::string> producers;  // the layers that create these channels
  int64_t units = 0;                   // removable units (channels or heads)
  int64_t unit_size = 1;               // elements per unit in a producer's output (head dimension for heads)
  bool prunable = true;
  std::string reason;  // why not prunable ("reaches graph output 'logits'", "flows into Reshape '...'")
  nlohmann::json toJson() const;
};

/// Computes the dependency groups of `model` (read only). Groups that cannot be pruned safely are listed with
/// prunable = false and a reason.
std::vector<PruneGroup> findPruneGroups(const Model& model);

/// findPruneGroups as an AnalysisCache analysis (core/ir/analysis_cache.h): the studio's group table, the
/// sensitivity sweep and its node overlay ask for the groups of one baseline, which is then analysed once.
struct PruneGroupsAnalysis {
  using Result = std::vector<PruneGroup>;
  static Result run(const Model& model) { return findPruneGroups(model); }
  static std::string key() { return {}; }
};

namespace channel_deps {

enum class Role { ProducerWeight, ConsumerWeight, BnGamma, Other };

// Slice initializer (or constant) input `slot` of node `node` along `axis`, keeping the positions of
// `tensor`.
struct SliceSite {
  int node;
  int slot;
  int axis;
  std::string tensor;
  Role role;
};
// Set element `element` of the shape constant at input `slot` of `node` to kept(tensor) / divisor.
struct ShapeSite {
  int node;
  int slot;
  int element;
  std::string tensor;
  int64_t divisor;
};
// Set a depthwise Conv's "group" attribute to kept(tensor).
struct GroupAttrSite {
  int node;
  std::string tensor;
};

struct Track {
  int axis_from_end = -1;  // the channel axis counted from the end (-1 = last)
  std::vector<int> ids;    // element id per position
};

class UnionFind {
 public:
  int add() {
    parent_.push_back(static_cast<int>(parent_.size()));
    return parent_.back();
  }
  int find(int x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void unite(int a, int b) {
    a = find(a);
    b = find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);  // the smaller (earlier) id stays the root
  }
  size_t size() const { return parent_.size(); }

 private:
  std::vector<int> parent_;
};

/// The analysis of one model: its groups, the element ids behind them and the edit sites pruning them needs.
/// Built by the constructor; `model` must outlive it and stay unchanged.
class ChannelDependencies {
 public:
  explicit ChannelDependencies(const Model& model);

  UnionFind uf;
  std::vector<std::string> element_poison;  // reason per element ("" = fine)
  std::vector<int> element_producer;        // node index that created the element
  std::unordered_map<std::string, Track> tracks;
  std::vector<SliceSite> slices;
  std::vector<ShapeSite> shapes;
  std::vector<GroupAttrSite> group_attrs;
  std::set<int> head_roots;                            // roots that are attention heads
  std::vector<std::pair<int, int>> attention_matmuls;  // (an element of the heads, Q@K^T or P@V node)
  std::unordered_map<int, std::string> layer_notes;    // why a layer makes no group (for the coverage)

  // Groups, in graph order of their first producer.
  struct GroupData {
    PruneGroup info;
    std::vector<int> roots;         // one per unit, in channel order
    std::vector<int> also_shrinks;  // nodes pruning makes cheaper without editing them (attention MatMuls)
  };
  std::vector<GroupData> groups;
  std::map<std::string, size_t> group_by_id;
  /// The groups as findPruneGroups lists them.
  std::vector<PruneGroup> pruneGroups() const;

  bool isConstantInit(const std::string& name) const;
  bool isOutput(const std::string& name) const;
  /// The value of an initializer or Constant output; nullopt for anything computed.
  std::optional<Tensor> constant(const std::string& name) const;
  bool isConstant(const std::string& name) const;
  std::optional<std::vector<int64_t>> shapeOf(const std::string& name) const;

 private:
  friend class ChannelDependencyWalker;
  void indexGraph();

  const Model& model_;
  // Model::valueInfo, isConstantInitializer and isGraphOutput scan lists per call; the analysis asks them for
  // every tensor, which made 100k-node graphs quadratic. One pass over the lists here keeps it linear.
  std::unordered_map<std::string, std::vector<int64_t>> declared_shapes_;  // input, output, value_info order
  std::unordered_set<std::string> runtime_inputs_, graph_outputs_;
};

}  // namespace channel_deps
}  // namespace edgetune
