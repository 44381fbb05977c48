#pragma once
// Internal to prune_channels: the channel-dependency analysis (element ids flowing with the tensors, united
// by union-find, poisoned where the graph does something the rules do not understand) and the edit sites it
// records. prune_channels.cpp plans, scores and edits from it. Not a public API: include only from
// core/passes/prune_*.cpp.
//
// The rules, op by op: a layer that creates channels (Conv, Gemm, MatMul with a constant weight) gives each
// output channel a fresh id; element-wise ops, residual Adds, Pad/Slice off the channel axis and BatchNorm
// pass or unite ids; Concat concatenates them; depthwise Conv keeps them; Flatten/Reshape that collapse the
// channel axis repeat them; softmax(Q K^T) V attention unites Q/K/V columns head by head; graph outputs and
// anything else poison them (the group is then reported unprunable with the first reason).
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/ir/model.h"
#include "core/passes/coverage.h"
#include "core/passes/graph_edit.h"
#include "core/passes/prune_channels.h"
#include "core/util/error.h"

namespace edgetune::prune_detail {

// ------------------------------------------------------------------------------------------------------
// Analysis

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

inline bool isDefaultDomain(const onnx::NodeProto& n) {
  return n.domain().empty() || n.domain() == "ai.onnx";
}

inline const std::set<std::string> kUnaryPassThrough = {
    "Relu",       "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid",
    "HardSwish",  "Erf",       "Gelu",    "Elu",  "Selu", "Celu",
    "Softplus",   "Softsign",  "Neg",     "Abs",  "Sqrt", "Exp",
    "Log",        "Identity",  "Dropout", "Cast", "Mish", "ThresholdedRelu",
    "Reciprocal", "Sign",      "Floor",   "Ceil", "Round"};
inline const std::set<std::string> kSpatialOps = {"MaxPool",       "AveragePool", "GlobalAveragePool",
                                                  "GlobalMaxPool", "LpPool",      "GlobalLpPool"};
inline const std::set<std::string> kBinary = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean"};
inline const std::set<std::string> kReduce = {"ReduceMean", "ReduceSum",       "ReduceMax",
                                              "ReduceMin",  "ReduceProd",      "ReduceL1",
                                              "ReduceL2",   "ReduceSumSquare", "ReduceLogSumExp"};

struct Attention {
  int rs_q, rs_k, rs_v, rs_out;  // the head-splitting Reshapes and the head-merging Reshape
  std::string q, k, v;           // the projections' outputs (tracked on the last axis)
  int ctx = -1, scores = -1;     // the two activation MatMuls (their MACs shrink with the heads)
  std::vector<int> claimed;      // nodes handled by the pattern (not by the generic rules)
};

class Analysis {
 public:
  explicit Analysis(const Model& model) : m_(model) {
    indexGraph();
    run();
  }

  const Model& m_;
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

  // Groups, after finish().
  struct GroupData {
    PruneGroup info;
    std::vector<int> roots;  // one per unit, in channel order
    std::vector<int>
        also_shrinks;  // nodes that pruning makes cheaper without editing them (attention MatMuls)
  };
  std::vector<GroupData> groups;
  std::map<std::string, size_t> group_by_id;

  // Model::valueInfo, isConstantInitializer and isGraphOutput scan lists per call; the analysis asks them for
  // every tensor, which made 100k-node graphs quadratic. One pass over the lists here keeps it linear.
  std::unordered_map<std::string, std::vector<int64_t>> declared_shapes_;  // input, output, value_info order
  std::unordered_set<std::string> runtime_inputs_, graph_outputs_;
  void indexGraph() {
    const auto& g = m_.graph();
    for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
      for (const auto& vi : *list) {
        if (declared_shapes_.count(vi.name())) continue;  // the first entry wins, as in Model::valueInfo
        ValueInfo info = valueInfoFromProto(vi);
        if (info.has_shape) declared_shapes_.emplace(vi.name(), std::move(info.shape));
      }
    for (const auto& in : g.input()) runtime_inputs_.insert(in.name());
    for (const auto& out : g.output()) graph_outputs_.insert(out.name());
  }
  bool isConstantInit(const std::string& name) const {
    return m_.isInitializer(name) && !runtime_inputs_.count(name);
  }
  bool isOutput(const std::string& name) const { return graph_outputs_.count(name) > 0; }

  std::optional<Tensor> constant(const std::string& name) const {
    if (name.empty()) return std::nullopt;
    if (isConstantInit(name)) return tensorFromProto(*m_.initializer(name));
    const int p = m_.producer(name);
    if (p >= 0) {
      const auto& node = m_.graph().node(p);
      if (node.op_type() == "Constant")
        for (const auto& a : node.attribute())
          if (a.name() == "value" && a.has_t()) return tensorFromProto(a.t());
    }
    return std::nullopt;
  }
  bool isConstant(const std::string& name) const {
    if (name.empty()) return false;
    if (isConstantInit(name)) return true;
    const int p = m_.producer(name);
    return p >= 0 && m_.graph().node(p).op_type() == "Constant";
  }
  std::optional<std::vector<int64_t>> shapeOf(const std::string& name) const {
    if (name.empty()) return std::nullopt;
    if (const auto* init = m_.initializer(name); init && !runtime_inputs_.count(name))
      return std::vector<int64_t>(init->dims().begin(), init->dims().end());  // no need to decode the data
    if (auto it = declared_shapes_.find(name); it != declared_shapes_.end()) return it->second;
    if (auto c = constant(name)) return c->shape();
    if (const auto* init = m_.initializer(name))
      return std::vector<int64_t>(init->dims().begin(), init->dims().end());
    return std::nullopt;
  }

 private:
  std::vector<int> fresh(size_t n, int producer) {
    std::vector<int> ids(n);
    for (auto& id : ids) {
      id = uf.add();
      element_poison.emplace_back();
      element_producer.push_back(producer);
    }
    return ids;
  }
  void poison(const std::vector<int>& ids, const std::string& reason) {
    for (int id : ids)
      if (element_poison[id].empty()) element_poison[id] = reason;
  }
  void poisonInputs(const onnx::NodeProto& node, const std::string& why = {}) {
    const std::string reason = why.empty() ? "flows into " + describeNode(node) : why;
    for (const auto& in : node.input())
      if (auto it = tracks.find(in); it != tracks.end()) poison(it->second.ids, reason);
  }
  const Track* track(const std::string& name) const {
    auto it = tracks.find(name);
    return it == tracks.end() ? nullptr : &it->second;
  }
  void unite(const std::vector<int>& a, const std::vector<int>& b) {
    for (size_t i = 0; i < a.size(); ++i) uf.unite(a[i], b[i]);
  }

  // --- the attention pattern ---
  // The producer of `name` through a chain of Transposes; returns the composed permutation and the first
  // non-Transpose tensor.
  std::pair<std::string, std::vector<int64_t>> throughTransposes(std::string name, std::vector<int>& nodes) {
    std::vector<int64_t> perm;
    for (;;) {
      const int p = m_.producer(name);
      if (p < 0 || m_.graph().node(p).op_type() != "Transpose") break;
      const auto& t = m_.graph().node(p);
      auto pm = attrInts(t, "perm");
      if (pm.size() != 4) return {{}, {}};
      if (perm.empty())
        perm = pm;
      else {  // output = inner(outer): composed[i] = pm[perm[i]]
        std::vector<int64_t> c(4);
        for (int i = 0; i < 4; ++i) c[i] = pm[perm[i]];
        perm = c;
      }
      nodes.push_back(p);
      name = t.input(0);
    }
    return {name, perm};
  }
  // For a Reshape into heads: returns its node index if `name` is such a Reshape's output.
  int reshapeProducer(const std::string& name) const {
    const int p = m_.producer(name);
    return p >= 0 && m_.graph().node(p).op_type() == "Reshape" ? p : -1;
  }

  // Where element `index` of a Reshape's shape input lives: (node, slot, element within that input), for an
  // initializer/Constant shape or a Concat of small pieces (the torch.onnx pattern). Also its value if
  // constant.
  struct ShapeRef {
    int node = -1, slot = -1, element = -1;
    std::optional<int64_t> value;
  };
  std::optional<ShapeRef> shapeElement(int reshape, int index) const {
    const auto& rs = m_.graph().node(reshape);
    if (rs.input_size() < 2) return std::nullopt;
    const std::string& shape = rs.input(1);
    if (auto c = constant(shape)) {
      if (c->type() != DataType::Int64 || index >= c->numel()) return std::nullopt;
      return ShapeRef{reshape, 1, index, c->values<int64_t>()[static_cast<size_t>(index)]};
    }
    const int p = m_.producer(shape);
    if (p < 0 || m_.graph().node(p).op_type() != "Concat") return std::nullopt;
    const auto& cat = m_.graph().node(p);
    int offset = 0;
    for (int i = 0; i < cat.input_size(); ++i) {
      auto s = shapeOf(cat.input(i));
      if (!s || s->size() != 1 || (*s)[0] < 0) return std::nullopt;
      const int n = static_cast<int>((*s)[0]);
      if (index < offset + n) {
        ShapeRef ref{p, i, index - offset, std::nullopt};
        if (auto c = constant(cat.input(i)); c && c->type() == DataType::Int64)
          ref.value = c->values<int64_t>()[static_cast<size_t>(index - offset)];
        return ref;
      }
      offset += n;
    }
    return std::nullopt;
  }

  bool singleReader(const std::string& tensor) const {
    return m_.consumers(tensor).size() == 1 && !isOutput(tensor);
  }

  // Recognizes softmax(Q K^T / s + mask) V with Q/K/V split into heads by Reshape+Transpose, starting from
  // the context MatMul.
  std::optional<Attention> matchAttention(int ctx) {
    const auto& node = m_.graph().node(ctx);
    if (node.input_size() != 2 || isConstant(node.input(0)) || isConstant(node.input(1))) return std::nullopt;
    Attention a;
    a.ctx = ctx;
    a.claimed.push_back(ctx);
    // V: Reshape -> Transpose(0,2,1,3) -> ctx.B
    auto [v_rs_out, v_perm] = throughTransposes(node.input(1), a.claimed);
    if (v_perm != std::vector<int64_t>{0, 2, 1, 3}) return std::nullopt;
    a.rs_v = reshapeProducer(v_rs_out);
    if (a.rs_v < 0) return std::nullopt;
    // probabilities: Softmax(last axis) <- element-wise ops <- scores MatMul
    int p = m_.producer(node.input(0));
    if (p < 0 || m_.graph().node(p).op_type() != "Softmax") return std::nullopt;
    const int64_t sm_axis = attrInt(m_.graph().node(p), "axis", -1);
    if (sm_axis != -1 && sm_axis != 3) return std::nullopt;
    a.claimed.push_back(p);
    int scores = -1;
    std::string cur = m_.graph().node(p).input(0);
    for (int steps = 0; steps < 6; ++steps) {
      const int q = m_.producer(cur);
      if (q < 0) return std::nullopt;
      const auto& n = m_.graph().node(q);
      if (n.op_type() == "MatMul") {
        scores = q;
        break;
      }
      if (!kBinary.count(n.op_type()) && n.op_type() != "Where" && n.op_type() != "Cast") return std::nullopt;
      a.claimed.push_back(q);
      // follow the non-constant input that comes from the scores (the other is a scale or the mask)
      std::string next;
      for (const auto& in : n.input()) {
        if (isConstant(in)) continue;
        auto s = shapeOf(in);
        const bool per_head = s && s->size() == 4 && (*s)[1] != 1;
        if (next.empty() && (per_head || !s)) next = in;
      }
      if (next.empty()) return std::nullopt;
      cur = next;
    }
    if (scores < 0) return std::nullopt;
    a.scores = scores;
    a.claimed.push_back(scores);
    const auto& sn = m_.graph().node(scores);
    auto [q_rs_out, q_perm] = throughTransposes(sn.input(0), a.claimed);
    auto [k_rs_out, k_perm] = throughTransposes(sn.input(1), a.claimed);
    if (q_perm != std::vector<int64_t>{0, 2, 1, 3} || k_perm != std::vector<int64_t>{0, 2, 3, 1})
      return std::nullopt;
    a.rs_q = reshapeProducer(q_rs_out);
    a.rs_k = reshapeProducer(k_rs_out);
    if (a.rs_q < 0 || a.rs_k < 0) return std::nullopt;
    // context -> Transpose(0,2,1,3) -> Reshape (merge heads)
    std::string out = node.output(0);
    if (!singleReader(out)) return std::nullopt;
    int t = m_.consumers(out)[0];
    if (m_.graph().node(t).op_type() != "Transpose" ||
        attrInts(m_.graph().node(t), "perm") != std::vector<int64_t>{0, 2, 1, 3})
      return std::nullopt;
    a.claimed.push_back(t);
    out = m_.graph().node(t).output(0);
    std::vector<int> readers;
    for (int r : m_.consumers(out))
      if (m_.graph().node(r).op_type() != "Shape") readers.push_back(r);
    if (readers.size() != 1 || m_.graph().node(readers[0]).op_type() != "Reshape") return std::nullopt;
    a.rs_out = readers[0];
    for (int rs : {a.rs_q, a.rs_k, a.rs_v}) a.claimed.push_back(rs);
    a.claimed.push_back(a.rs_out);
    a.q = m_.graph().node(a.rs_q).input(0);
    a.k = m_.graph().node(a.rs_k).input(0);
    a.v = m_.graph().node(a.rs_v).input(0);
    return a;
  }

  void handleAttention(const Attention& a) {
    const Track* q = track(a.q);
    const Track* k = track(a.k);
    const Track* v = track(a.v);
    const auto& rs_out = m_.graph().node(a.rs_out);
    auto fail = [&](const std::string& why) {
      for (const Track* t : {q, k, v})
        if (t) poison(t->ids, "attention '" + rs_out.name() + "': " + why);
    };
    if (!q || !k || !v || q->axis_from_end != -1 || k->axis_from_end != -1 || v->axis_from_end != -1 ||
        q->ids.size() != k->ids.size() || q->ids.size() != v->ids.size())
      return fail("Q/K/V are not prunable projections of equal width");
    const int64_t width = static_cast<int64_t>(q->ids.size());
    std::vector<ShapeRef> head_refs;
    int64_t heads = -1;
    for (int rs : {a.rs_q, a.rs_k, a.rs_v}) {
      auto h = shapeElement(rs, 2);
      auto d = shapeElement(rs, 3);
      if (!h || !h->value || *h->value <= 0 || !d || !d->value) return fail("head count is not a constant");
      if (heads >= 0 && *h->value != heads) return fail("Q/K/V disagree on the head count");
      heads = *h->value;
      if (*d->value > 0 && *d->value * heads != width) return fail("heads x head size != projection width");
      head_refs.push_back(*h);
    }
    if (width % heads != 0) return fail("projection width is not a multiple of the head count");
    const int64_t head_dim = width / heads;
    auto merged = shapeElement(a.rs_out, 2);
    if (!merged || !merged->value || (*merged->value != width && *merged->value != -1))
      return fail("merge Reshape does not produce [N, S, heads * head size]");
    for (size_t j = 0; j < q->ids.size(); ++j) {
      uf.unite(q->ids[j], k->ids[j]);
      uf.unite(q->ids[j], v->ids[j]);
      if (j % head_dim != 0) uf.unite(q->ids[j], q->ids[j - j % head_dim]);
    }
    for (int64_t h = 0; h < heads; ++h) head_roots.insert(q->ids[static_cast<size_t>(h * head_dim)]);
    attention_matmuls.push_back({q->ids[0], a.scores});
    attention_matmuls.push_back({q->ids[0], a.ctx});
    for (const auto& ref : head_refs) shapes.push_back({ref.node, ref.slot, ref.element, a.q, head_dim});
    if (*merged->value > 0) shapes.push_back({merged->node, merged->slot, merged->element, a.v, 1});
    tracks[rs_out.output(0)] = Track{-1, v->ids};
  }

  // --- generic rules ---
  int rankOf(const std::string& name) const {
    auto s = shapeOf(name);
    if (s) return static_cast<int>(s->size());
    auto it = ranks_.find(name);
    return it == ranks_.end() ? -1 : it->second;
  }

  // ONNX shape inference gives up after ops it cannot type (LayerNormalization in ONNX 1.12, torch's
  // data-dependent Reshapes), but the rules above only need ranks, which a simple forward pass recovers.
  std::unordered_map<std::string, int> ranks_;
  void inferRanks() {
    const auto& g = m_.graph();
    auto known = [&](const std::string& name) {
      if (name.empty()) return -1;
      auto s = shapeOf(name);
      if (s) return static_cast<int>(s->size());
      auto it = ranks_.find(name);
      return it == ranks_.end() ? -1 : it->second;
    };
    for (int n : m_.topologicalOrder()) {
      const auto& node = g.node(n);
      const std::string& op = node.op_type();
      if (node.output_size() == 0 || node.output(0).empty() || shapeOf(node.output(0))) continue;
      int r = -1;
      const int r0 = node.input_size() > 0 ? known(node.input(0)) : -1;
      if (op == "MatMul" || kBinary.count(op) || op == "Where" || op == "PRelu") {
        for (const auto& in : node.input()) r = std::max(r, known(in));
        for (const auto& in : node.input())
          if (known(in) < 0) r = -1;
      } else if (kUnaryPassThrough.count(op) || kSpatialOps.count(op) || op == "LayerNormalization" ||
                 op == "Softmax" || op == "LogSoftmax" || op == "BatchNormalization" || op == "Conv" ||
                 op == "Transpose" || op == "Slice" || op == "Concat" || op == "InstanceNormalization") {
        r = r0;
      } else if (op == "Gather") {
        const int ri = known(node.input(1));
        if (r0 >= 0 && ri >= 0) r = r0 - 1 + ri;
      } else if (op == "Reshape") {
        if (auto s = shapeOf(node.input(1)); s && s->size() == 1 && (*s)[0] >= 0)
          r = static_cast<int>((*s)[0]);
        else if (int p = m_.producer(node.input(1)); p >= 0 && g.node(p).op_type() == "Concat") {
          r = 0;
          for (const auto& in : g.node(p).input()) {
            auto s2 = shapeOf(in);
            if (!s2 || s2->size() != 1 || (*s2)[0] < 0) {
              r = -1;
              break;
            }
            r += static_cast<int>((*s2)[0]);
          }
        }
      } else if (op == "Shape") {
        r = 1;
      } else if (op == "Gemm" || op == "Flatten") {
        r = 2;
      } else if (op == "Pad" || op == "Split" || op == "Resize" || op == "Upsample") {
        r = r0;
      } else if (op == "Unsqueeze" || op == "Squeeze" || kReduce.count(op)) {
        // torch.onnx's position_ids Slice defeats ONNX shape inference for the whole encoder after it; the
        // decomposed LayerNorm (ReduceMean) and the Unsqueeze of shape pieces are what ranks must get
        // through.
        std::vector<int64_t> axes = attrInts(node, "axes");
        const bool axes_input = node.input_size() > 1 && !node.input(1).empty();
        if (axes_input) {
          auto c = constant(node.input(1));
          if (c && c->type() == DataType::Int64)
            axes.assign(c->values<int64_t>().begin(), c->values<int64_t>().end());
          else
            axes.clear();
        }
        const bool known_axes = !axes.empty() || (!axes_input && op != "Squeeze");
        if (r0 >= 0 && known_axes) {
          const int count = axes.empty() ? r0 : static_cast<int>(axes.size());  // Reduce* without axes: all
          if (op == "Unsqueeze")
            r = r0 + count;
          else if (op == "Squeeze")
            r = r0 - count;
          else
            r = attrInt(node, "keepdims", 1) ? r0 : r0 - count;
        }
      } else if (op == "Equal" || op == "Less" || op == "Greater" || op == "LessOrEqual" ||
                 op == "GreaterOrEqual" || op == "And" || op == "Or" || op == "Xor") {
        r = std::max(r0, node.input_size() > 1 ? known(node.input(1)) : -1);
        if (r0 < 0 || (node.input_size() > 1 && known(node.input(1)) < 0)) r = -1;
      } else if (op == "Not" || op == "IsNaN") {
        r = r0;
      }
      if (r >= 0)
        for (const auto& out : node.output())
          if (!out.empty() && (out == node.output(0) || op == "Split")) ranks_[out] = r;
    }
  }

  void conv(int n, const onnx::NodeProto& node) {
    auto w = shapeOf(node.input(1));
    if (!isConstant(node.input(1)) || !w || w->size() < 3) {
      layer_notes[n] = skip_reason::kWeightNotConstant;
      return poisonInputs(node, std::string(skip_reason::kWeightNotConstant) + " at " + describeNode(node));
    }
    const int rank = static_cast<int>(w->size());
    const int axis = -(rank - 1);
    const int64_t group = attrInt(node, "group", 1);
    const int64_t c_out = (*w)[0], c_in_per_group = (*w)[1];
    const Track* x = track(node.input(0));
    const bool x_ok = x && x->axis_from_end == axis;
    if (group == 1) {
      if (x) {
        if (!x_ok || static_cast<int64_t>(x->ids.size()) != c_in_per_group)
          poison(x->ids, "shape mismatch at " + describeNode(node));
        else
          slices.push_back({n, 1, 1, node.input(0), Role::ConsumerWeight});
      }
      tracks[node.output(0)] = Track{axis, fresh(static_cast<size_t>(c_out), n)};
    } else if (c_in_per_group == 1 && c_out == group && x_ok &&
               static_cast<int64_t>(x->ids.size()) == group) {
      // Depthwise: output channel c reads input channel c only, so both go together.
      tracks[node.output(0)] = Track{axis, x->ids};
      group_attrs.push_back({n, node.output(0)});
    } else {
      if (x) poison(x->ids, "grouped convolution " + describeNode(node));
      layer_notes[n] = x ? "grouped convolution (its groups are not pruned)"
                         : "depthwise/grouped convolution of channels no prunable layer produces";
      return;  // output untracked: its channels cannot be removed
    }
    slices.push_back({n, 1, 0, node.output(0), Role::ProducerWeight});
    if (node.input_size() > 2 && !node.input(2).empty()) {
      if (!isConstant(node.input(2)))  // e.g. behind an Identity with --no-clean: it cannot be sliced
        poison(tracks[node.output(0)].ids,
               "bias '" + node.input(2) + "' of " + describeNode(node) + " is not constant");
      else
        slices.push_back({n, 2, 0, node.output(0), Role::Other});
    }
  }

  void gemm(int n, const onnx::NodeProto& node) {
    auto b = shapeOf(node.input(1));
    if (!isConstant(node.input(1)) || !b || b->size() != 2 || attrInt(node, "transA", 0) != 0) {
      layer_notes[n] = !isConstant(node.input(1)) ? skip_reason::kWeightNotConstant
                                                  : "Gemm with transA or a non-2-D weight";
      return poisonInputs(node, layer_notes[n] + " at " + describeNode(node));
    }
    const bool trans_b = attrInt(node, "transB", 0) != 0;
    const int64_t k = trans_b ? (*b)[1] : (*b)[0], n_out = trans_b ? (*b)[0] : (*b)[1];
    if (const Track* a = track(node.input(0))) {
      if (a->axis_from_end != -1 || static_cast<int64_t>(a->ids.size()) != k)
        poison(a->ids, "shape mismatch at " + describeNode(node));
      else
        slices.push_back({n, 1, trans_b ? 1 : 0, node.input(0), Role::ConsumerWeight});
    }
    auto ids = fresh(static_cast<size_t>(n_out), n);
    slices.push_back({n, 1, trans_b ? 0 : 1, node.output(0), Role::ProducerWeight});
    if (node.input_size() > 2 && !node.input(2).empty()) {
      auto c = shapeOf(node.input(2));
      if (!isConstant(node.input(2)) || !c)
        poison(ids, "Gemm bias is not constant");
      else if (!c->empty() && c->back() == n_out && n_out != 1)
        slices.push_back({n, 2, static_cast<int>(c->size()) - 1, node.output(0), Role::Other});
      else if (!c->empty() && c->back() != 1)
        poison(ids, "Gemm bias shape");
    }
    tracks[node.output(0)] = Track{-1, ids};
  }

  void matmul(int n, const onnx::NodeProto& node) {
    auto b = shapeOf(node.input(1));
    if (!isConstant(node.input(1)) || !b || b->size() != 2 || isConstant(node.input(0))) {
      layer_notes[n] = !isConstant(node.input(1)) && !isConstant(node.input(0))
                           ? "MatMul of two activations outside a recognised attention block"
                       : !isConstant(node.input(1)) ? "weight is the first MatMul input (not supported)"
                                                    : "MatMul weight is not 2-D";
      return poisonInputs(node, layer_notes[n] + " at " + describeNode(node));
    }
    if (const Track* a = track(node.input(0))) {
      if (a->axis_from_end != -1 || static_cast<int64_t>(a->ids.size()) != (*b)[0])
        poison(a->ids, "shape mismatch at " + describeNode(node));
      else
        slices.push_back({n, 1, 0, node.input(0), Role::ConsumerWeight});
    }
    tracks[node.output(0)] = Track{-1, fresh(static_cast<size_t>((*b)[1]), n)};
    slices.push_back({n, 1, 1, node.output(0), Role::ProducerWeight});
  }

  void normalization(int n, const onnx::NodeProto& node, int params) {
    const Track* x = track(node.input(0));
    if (!x) return;
    const int rank = rankOf(node.input(0));
    if (rank < 2 || x->axis_from_end != -(rank - 1)) return poisonInputs(node);
    // Sites are recorded only once the whole node is understood: a half-recorded node would point edits at an
    // output that has no track (that was DenseNet's "unordered_map::at").
    std::vector<SliceSite> sites;
    for (int s = 1; s <= params && s < node.input_size(); ++s) {
      auto c = shapeOf(node.input(s));
      if (!isConstant(node.input(s)) || !c || c->size() != 1 || static_cast<size_t>((*c)[0]) != x->ids.size())
        return poisonInputs(node, "parameter '" + node.input(s) + "' of " + describeNode(node) +
                                      " is not a constant per-channel vector");
      sites.push_back({n, s, 0, node.output(0), s == 1 && params == 4 ? Role::BnGamma : Role::Other});
    }
    slices.insert(slices.end(), sites.begin(), sites.end());
    tracks[node.output(0)] = *x;
  }

  void binary(int n, const onnx::NodeProto& node) {
    std::vector<const Track*> tracked;
    for (const auto& in : node.input())
      if (const Track* t = track(in)) tracked.push_back(t);
    if (tracked.empty()) return;
    const Track first = *tracked[0];
    for (const Track* t : tracked)
      if (t->axis_from_end != first.axis_from_end || t->ids.size() != first.ids.size())
        return poisonInputs(node, "mismatched channels at " + describeNode(node));
    for (const Track* t : tracked) unite(first.ids, t->ids);
    const int axis = first.axis_from_end;
    const int64_t len = static_cast<int64_t>(first.ids.size());
    std::vector<SliceSite> sites;  // committed only when every operand is understood (see normalization)
    for (int i = 0; i < node.input_size(); ++i) {
      const auto& in = node.input(i);
      if (track(in)) continue;
      auto s = shapeOf(in);
      if (!s) {
        const int r = rankOf(in);
        if (r >= 0 && r < -axis) continue;  // broadcasts over the channel axis
        if (!isConstant(in))  // e.g. a residual stream that starts at an embedding or a normalization
          return poisonInputs(node, "combined with a tensor no prunable layer produces ('" + in + "') at " +
                                        describeNode(node));
        return poisonInputs(node, "operand '" + in + "' of unknown shape at " + describeNode(node));
      }
      const int r = static_cast<int>(s->size());
      if (r < -axis) continue;  // broadcasts over the channel axis
      const int64_t dim = (*s)[static_cast<size_t>(r + axis)];
      if (dim == 1) continue;
      if (dim == len && isConstant(in)) {
        sites.push_back({n, i, r + axis, node.output(0), Role::Other});
        continue;
      }
      if (!isConstant(in))
        return poisonInputs(node, "combined with a tensor no prunable layer produces ('" + in + "') at " +
                                      describeNode(node));
      return poisonInputs(node,
                          "operand '" + in + "' is not prunable with the channels at " + describeNode(node));
    }
    slices.insert(slices.end(), sites.begin(), sites.end());
    tracks[node.output(0)] = first;
  }

  void concat(const onnx::NodeProto& node) {
    const int rank = rankOf(node.output(0));
    int64_t axis = attrInt(node, "axis", 0);
    if (rank < 0) return poisonInputs(node);
    const int axis_from_end = static_cast<int>(axis < 0 ? axis : axis - rank);
    const Track* any = nullptr;
    for (const auto& in : node.input())
      if (const Track* t = track(in)) any = t;
    if (!any) return;
    if (any->axis_from_end != axis_from_end) {  // concatenating along another axis: channels line up
      for (const auto& in : node.input()) {
        const Track* t = track(in);
        if (!t || t->axis_from_end != any->axis_from_end || t->ids.size() != any->ids.size())
          return poisonInputs(node, "mismatched channels at " + describeNode(node));
        unite(any->ids, t->ids);
      }
      tracks[node.output(0)] = *any;
      return;
    }
    Track out{axis_from_end, {}};
    for (const auto& in : node.input()) {
      if (const Track* t = track(in)) {
        out.ids.insert(out.ids.end(), t->ids.begin(), t->ids.end());
        continue;
      }
      // An input no layer of ours produced (a graph input, a grouped conv): its channels stay, unprunable.
      auto s = shapeOf(in);
      if (!s || static_cast<int>(s->size()) < -axis_from_end || (*s)[s->size() + axis_from_end] < 0)
        return poisonInputs(node);
      auto ids = fresh(static_cast<size_t>((*s)[s->size() + axis_from_end]), -1);
      poison(ids, "concatenated with a tensor no prunable layer produces ('" + in + "')");
      out.ids.insert(out.ids.end(), ids.begin(), ids.end());
    }
    tracks[node.output(0)] = out;
  }

  // Flatten / Reshape / Squeeze that collapse the channel axis and everything after it into the last axis:
  // channel c becomes the block of columns [c * inner, (c + 1) * inner).
  void collapse(int n, const onnx::NodeProto& node) {
    const Track* x = track(node.input(0));
    if (!x) return;
    auto in = shapeOf(node.input(0));
    auto out = shapeOf(node.output(0));
    if (!in || !out) return poisonInputs(node);
    const int r = static_cast<int>(in->size());
    const int a = r + x->axis_from_end;
    if (*in == *out && node.op_type() == "Reshape") {
      // same shape: only a reshape of constant shape can be kept that way
      auto ref = shapeElement(n, a);
      if (ref && ref->value && *ref->value > 0)
        shapes.push_back({ref->node, ref->slot, ref->element, node.output(0), 1});
      else if (!ref || !ref->value)
        return poisonInputs(node);
      tracks[node.output(0)] = *x;
      return;
    }
    int64_t inner = 1;
    for (int i = a + 1; i < r; ++i) {
      if ((*in)[i] <= 0) return poisonInputs(node);
      inner *= (*in)[i];
    }
    if (static_cast<int>(out->size()) != a + 1 || out->back() != static_cast<int64_t>(x->ids.size()) * inner)
      return poisonInputs(node);
    if (node.op_type() == "Flatten" && attrInt(node, "axis", 1) != a) return poisonInputs(node);
    if (node.op_type() == "Reshape") {
      auto ref = shapeElement(n, a);
      if (!ref || !ref->value) return poisonInputs(node);
      if (*ref->value > 0) shapes.push_back({ref->node, ref->slot, ref->element, node.output(0), 1});
    }
    Track t{-1, {}};
    for (int id : x->ids) t.ids.insert(t.ids.end(), static_cast<size_t>(inner), id);
    tracks[node.output(0)] = t;
  }

  void reduce(const onnx::NodeProto& node) {
    const Track* x = track(node.input(0));
    if (!x) return;
    const int r = rankOf(node.input(0));
    std::vector<int64_t> axes = attrInts(node, "axes");
    if (node.input_size() > 1 && !node.input(1).empty()) {
      auto c = constant(node.input(1));
      if (!c || c->type() != DataType::Int64) return poisonInputs(node);
      axes.assign(c->values<int64_t>().begin(), c->values<int64_t>().end());
    }
    if (r < 0 || axes.empty()) return poisonInputs(node);
    const int a = r + x->axis_from_end;
    int after = 0;
    for (auto ax : axes) {
      const int64_t abs = ax < 0 ? ax + r : ax;
      if (abs == a) return poisonInputs(node, "reduced over the channels at " + describeNode(node));
      after += abs > a;
    }
    Track t = *x;
    if (attrInt(node, "keepdims", 1) == 0) t.axis_from_end += after;
    tracks[node.output(0)] = t;
  }

  void transpose(const onnx::NodeProto& node) {
    const Track* x = track(node.input(0));
    if (!x) return;
    const int r = rankOf(node.input(0));
    auto perm = attrInts(node, "perm");
    if (r < 0 || static_cast<int>(perm.size()) != r) return poisonInputs(node);
    const int a = r + x->axis_from_end;
    for (int i = 0; i < r; ++i)
      if (perm[i] == a) tracks[node.output(0)] = Track{i - r, x->ids};
  }

  void shape(const onnx::NodeProto& node) {
    const Track* x = track(node.input(0));
    if (!x) return;
    // Reading the batch or sequence size is harmless; reading the channel count would bake it in.
    const int r = rankOf(node.input(0));
    if (r < 0 || node.attribute_size() > 0) return poisonInputs(node);
    const int a = r + x->axis_from_end;
    for (int c : m_.consumers(node.output(0))) {
      const auto& g = m_.graph().node(c);
      auto idx =
          g.op_type() == "Gather" && g.input(0) == node.output(0) ? constant(g.input(1)) : std::nullopt;
      if (!idx || idx->type() != DataType::Int64)
        return poisonInputs(node, "its shape is read by " + describeNode(g));
      for (auto i : idx->values<int64_t>())
        if ((i < 0 ? i + r : i) == a)
          return poisonInputs(node, "its channel count is read by " + describeNode(g));
    }
  }

  void gather(const onnx::NodeProto& node) {
    const Track* x = track(node.input(0));
    if (!x) return poisonInputs(node);
    const int r = rankOf(node.input(0));
    const int64_t axis = attrInt(node, "axis", 0);
    auto idx = shapeOf(node.input(1));
    if (r < 0 || !idx) return poisonInputs(node);
    const int abs = static_cast<int>(axis < 0 ? axis + r : axis);
    if (abs >= r + x->axis_from_end) return poisonInputs(node);
    tracks[node.output(0)] =
        *x;  // axes before the channel axis change; the channel axis from the end does not
  }

  // Pad that leaves the channel axis alone (DenseNet's transitions pad H/W by zero before AveragePool).
  void pad(const onnx::NodeProto& node) {
    const Track* x = track(node.input(0));
    if (!x) return;
    const int r = rankOf(node.input(0));
    std::vector<int64_t> pads = attrInts(node, "pads");  // opset < 11
    if (node.input_size() > 1 && !node.input(1).empty()) {
      auto c = constant(node.input(1));
      if (!c || c->type() != DataType::Int64)
        return poisonInputs(node, "pads of " + describeNode(node) + " are not constant");
      pads.assign(c->values<int64_t>().begin(), c->values<int64_t>().end());
    }
    if (node.input_size() > 3 && !node.input(3).empty())
      return poisonInputs(node);  // opset 18 axes: not needed yet
    if (r < 0 || static_cast<int>(pads.size()) != 2 * r) return poisonInputs(node);
    const int a = r + x->axis_from_end;
    if (pads[a] != 0 || pads[a + r] != 0)
      return poisonInputs(node, "pads the channels at " + describeNode(node));
    for (int i = 2; i < node.input_size(); ++i) {  // constant_value: a scalar
      auto s = shapeOf(node.input(i));
      if (!node.input(i).empty() && i == 2 && (!s || !s->empty())) return poisonInputs(node);
    }
    tracks[node.output(0)] = *x;
  }

  // Slice along axes other than the channel axis (a spatial crop) keeps every channel.
  void slice(const onnx::NodeProto& node) {
    const Track* x = track(node.input(0));
    if (!x) return;
    const int r = rankOf(node.input(0));
    if (r < 0 || node.input_size() < 3) return poisonInputs(node);
    std::vector<int64_t> axes;
    if (node.input_size() > 3 && !node.input(3).empty()) {
      auto c = constant(node.input(3));
      if (!c || c->type() != DataType::Int64) return poisonInputs(node);
      axes.assign(c->values<int64_t>().begin(), c->values<int64_t>().end());
    } else {
      auto s = shapeOf(node.input(1));
      if (!s || s->size() != 1) return poisonInputs(node);
      for (int64_t i = 0; i < (*s)[0]; ++i) axes.push_back(i);
    }
    const int a = r + x->axis_from_end;
    for (auto ax : axes)
      if ((ax < 0 ? ax + r : ax) == a)
        return poisonInputs(node, "sliced along the channels at " + describeNode(node));
    tracks[node.output(0)] = *x;
  }

  void run() {
    const auto& g = m_.graph();
    inferRanks();
    // Attention blocks first: their nodes are handled as a whole.
    std::map<int, Attention> attention_at;  // keyed by the merge Reshape
    std::set<int> claimed;
    for (int i = 0; i < g.node_size(); ++i) {
      if (g.node(i).op_type() != "MatMul") continue;
      if (auto a = matchAttention(i)) {
        for (int c : a->claimed) claimed.insert(c);
        attention_at[a->rs_out] = *a;
      }
    }
    for (int n : m_.topologicalOrder()) {
      const auto& node = g.node(n);
      const std::string& op = node.op_type();
      if (auto it = attention_at.find(n); it != attention_at.end()) {
        handleAttention(it->second);
        continue;
      }
      if (claimed.count(n)) continue;
      bool any_tracked = false;
      for (const auto& in : node.input()) any_tracked = any_tracked || track(in);
      if (!isDefaultDomain(node)) {
        poisonInputs(node);
        continue;
      }
      if (op == "Conv")
        conv(n, node);
      else if (op == "Gemm")
        gemm(n, node);
      else if (op == "MatMul")
        matmul(n, node);
      else if (!any_tracked)
        continue;
      else if (op == "BatchNormalization")
        normalization(n, node, 4);
      else if (op == "InstanceNormalization")
        normalization(n, node, 2);
      else if (kUnaryPassThrough.count(op)) {
        const Track* x = track(node.input(0));
        bool ok = x != nullptr;
        for (int i = 1; i < node.input_size() && ok; ++i) {  // Clip's min/max: scalars only
          auto s = shapeOf(node.input(i));
          ok = node.input(i).empty() || (s && s->empty());
        }
        if (!ok)
          poisonInputs(node);
        else
          tracks[node.output(0)] = *x;
      } else if (kSpatialOps.count(op)) {
        const Track* x = track(node.input(0));
        const int r = rankOf(node.input(0));
        if (r < 3 || x->axis_from_end != -(r - 1))
          poisonInputs(node);
        else
          tracks[node.output(0)] = *x;
      } else if (op == "PRelu" || kBinary.count(op))
        binary(n, node);
      else if (op == "Softmax" || op == "LogSoftmax") {
        const Track* x = track(node.input(0));
        const int r = rankOf(node.input(0));
        const int64_t axis = attrInt(node, "axis", -1);
        if (r < 0 || (axis < 0 ? axis : axis - r) == x->axis_from_end)
          poisonInputs(node);
        else
          tracks[node.output(0)] = *x;
      } else if (op == "Concat")
        concat(node);
      else if (op == "Flatten" || op == "Reshape" || op == "Squeeze")
        collapse(n, node);
      else if (kReduce.count(op))
        reduce(node);
      else if (op == "Transpose")
        transpose(node);
      else if (op == "Shape")
        shape(node);
      else if (op == "Gather")
        gather(node);
      else if (op == "Pad")
        pad(node);
      else if (op == "Slice")
        slice(node);
      else
        poisonInputs(node);
    }
    for (const auto& out : g.output())
      if (const Track* t = track(out.name())) poison(t->ids, "reaches graph output '" + out.name() + "'");
    buildGroups();
  }

  void buildGroups() {
    const int elements = static_cast<int>(uf.size());
    std::map<int, std::set<int>> producers_of;  // root -> producer nodes
    std::map<int, std::string> poison_of;
    for (int e = 0; e < elements; ++e) {
      const int r = uf.find(e);
      if (element_producer[e] >= 0)
        producers_of[r].insert(element_producer[e]);
      else
        producers_of[r];
      if (!element_poison[e].empty() && !poison_of.count(r)) poison_of[r] = element_poison[e];
    }
    std::map<std::set<int>, std::vector<int>> by_producers;
    for (const auto& [root, prods] : producers_of) by_producers[prods].push_back(root);
    std::set<int> head_root_set;
    for (int h : head_roots) head_root_set.insert(uf.find(h));
    // Nodes that pruning a root touches.
    std::map<int, std::set<int>> nodes_of;
    auto note = [&](const std::string& tensor, int node) {
      const Track* t = track(tensor);
      if (!t) return;
      for (int id : t->ids) nodes_of[uf.find(id)].insert(node);
    };
    for (const auto& s : slices) note(s.tensor, s.node);
    for (const auto& s : shapes) note(s.tensor, s.node);
    for (const auto& s : group_attrs) note(s.tensor, s.node);

    const auto& g = m_.graph();
    for (auto& [prods, roots] : by_producers) {
      if (prods.empty()) continue;  // only unprunable filler ids
      std::sort(roots.begin(), roots.end());
      GroupData data;
      auto& info = data.info;
      data.roots = roots;
      const int first = *std::min_element(prods.begin(), prods.end(), [&](int a, int b) { return a < b; });
      const auto& fn = g.node(first);
      const bool heads = head_root_set.count(roots[0]) > 0;
      info.kind = heads ? "heads" : (fn.op_type() == "Conv" ? "channels" : "neurons");
      info.id = info.kind + ":" + (fn.name().empty() ? fn.output(0) : fn.name());
      for (int p : prods) info.producers.push_back(g.node(p).name());
      std::set<int> nodes(prods.begin(), prods.end());
      for (int r : roots) {
        nodes.insert(nodes_of[r].begin(), nodes_of[r].end());
        if (poison_of.count(r) && info.prunable) {
          info.prunable = false;
          info.reason = poison_of[r];
        }
      }
      for (int nd : nodes) info.nodes.push_back(g.node(nd).name());
      info.units = static_cast<int64_t>(roots.size());
      if (heads) {
        const Track* t = track(g.node(first).output(0));
        info.unit_size = t ? static_cast<int64_t>(t->ids.size()) / info.units : 1;
      }
      groups.push_back(std::move(data));
    }
    // Order groups by their first producer in graph order, so indices follow the network.
    std::sort(groups.begin(), groups.end(),
              [&](const GroupData& a, const GroupData& b) { return a.roots[0] < b.roots[0]; });
    for (size_t i = 0; i < groups.size(); ++i) {
      groups[i].info.index = static_cast<int>(i);
      group_by_id[groups[i].info.id] = i;
    }
    std::unordered_map<int, size_t> group_of_root;
    for (size_t i = 0; i < groups.size(); ++i)
      for (int r : groups[i].roots) group_of_root[r] = i;
    for (const auto& [element, node] : attention_matmuls)
      if (auto it = group_of_root.find(uf.find(element)); it != group_of_root.end())
        groups[it->second].also_shrinks.push_back(node);
  }
};

}  // namespace edgetune::prune_detail
