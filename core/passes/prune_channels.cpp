// prune_channels: dependency analysis on the ONNX graph and physical removal of channels, heads and neurons.
//
// How the analysis works: every layer that creates channels (Conv, Gemm, MatMul with a weight initializer)
// gives each output channel a fresh element id. Ids flow through the graph with the tensors (a tensor's
// channel axis carries one id per position): element-wise ops and residual Adds unite the ids of their inputs
// position by position, Concat concatenates them, depthwise Conv and BatchNormalization pass them on, Flatten
// repeats each id for the spatial positions that became Gemm columns, and the attention pattern unites Q/K/V
// columns head by head. Union-find over the ids yields the units that must go together; units made by the
// same producers form a group. Anything the analysis does not understand (a Reshape that mixes channels, a
// LayerNormalization over them, a graph output) poisons the ids that reach it, and their groups are reported
// as unprunable rather than pruned unsafely.
#include "core/passes/prune_channels.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <regex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/ir/stats.h"
#include "core/passes/graph_edit.h"
#include "core/passes/prune_magnitude.h"
#include "core/util/error.h"

namespace edgetune {

void to_json(nlohmann::json& j, const PruneChannelsOptions& o) {
  j = {{"ratio", o.ratio},
       {"per_group", o.per_group},
       {"protect", o.protect},
       {"round_to", o.round_to},
       {"criterion", o.criterion},
       {"prune_heads", o.prune_heads},
       {"prune_neurons", o.prune_neurons}};
}
void readOptions(OptionsReader& r, PruneChannelsOptions& o) {
  r.read("ratio", o.ratio);
  r.read("per_group", o.per_group);
  r.read("protect", o.protect);
  r.read("round_to", o.round_to);
  r.read("criterion", o.criterion);
  r.read("prune_heads", o.prune_heads);
  r.read("prune_neurons", o.prune_neurons);
}

nlohmann::json PruneGroup::toJson() const {
  return {{"index", index},         {"id", id},       {"kind", kind},           {"nodes", nodes},
          {"producers", producers}, {"units", units}, {"unit_size", unit_size}, {"prunable", prunable},
          {"reason", reason}};
}

nlohmann::json ChannelPruneResult::toJson() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& g : groups)
    rows.push_back({{"id", g.id},
                    {"units_before", g.units_before},
                    {"units_after", g.units_after},
                    {"removed", g.removed}});
  return {{"groups", rows},
          {"params_before", params_before},
          {"params_after", params_after},
          {"macs_before", macs_before},
          {"macs_after", macs_after},
          {"onnx_bytes_before", onnx_bytes_before},
          {"onnx_bytes_after", onnx_bytes_after},
          {"left_alone", left_alone},
          {"coverage", coverage.toJson()}};
}

int64_t keptUnits(int64_t units, double ratio, int64_t round_to, int64_t unit_size) {
  if (units <= 0) return 0;
  int64_t keep = static_cast<int64_t>(std::llround(static_cast<double>(units) * (1.0 - ratio)));
  keep = std::clamp<int64_t>(keep, 1, units);
  if (unit_size == 1 && round_to > 1 && keep < units) {
    keep = (keep + round_to - 1) / round_to * round_to;  // up: never prune more than the ratio asks
    keep = std::min(keep, units);
  }
  return keep;
}

namespace {

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

bool isDefaultDomain(const onnx::NodeProto& n) {
  return n.domain().empty() || n.domain() == "ai.onnx";
}

const std::set<std::string> kUnaryPassThrough = {
    "Relu",       "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid",
    "HardSwish",  "Erf",       "Gelu",    "Elu",  "Selu", "Celu",
    "Softplus",   "Softsign",  "Neg",     "Abs",  "Sqrt", "Exp",
    "Log",        "Identity",  "Dropout", "Cast", "Mish", "ThresholdedRelu",
    "Reciprocal", "Sign",      "Floor",   "Ceil", "Round"};
const std::set<std::string> kSpatialOps = {"MaxPool",       "AveragePool", "GlobalAveragePool",
                                           "GlobalMaxPool", "LpPool",      "GlobalLpPool"};
const std::set<std::string> kBinary = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean"};
const std::set<std::string> kReduce = {"ReduceMean", "ReduceSum",       "ReduceMax",
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
    m_.reindex();
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

// The track of a tensor some edit site names; every site is recorded together with its track, so a miss is a
// bug in the analysis, reported as such rather than as std::out_of_range.
const Track& trackOf(const Analysis& a, const std::string& tensor) {
  auto it = a.tracks.find(tensor);
  if (it == a.tracks.end())
    throw Error("prune_channels: internal error: tensor '" + tensor + "' has an edit but no channel track");
  return it->second;
}

// The position indices (into a track) kept when the roots in `removed` go.
std::vector<int64_t> keptPositions(Analysis& a, const Track& t, const std::set<int>& removed) {
  std::vector<int64_t> kept;
  for (size_t p = 0; p < t.ids.size(); ++p)
    if (!removed.count(a.uf.find(t.ids[p]))) kept.push_back(static_cast<int64_t>(p));
  return kept;
}

Tensor sliceAxis(const Tensor& t, int axis, const std::vector<int64_t>& keep) {
  const auto& shape = t.shape();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = static_cast<size_t>(axis) + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t dim = shape[static_cast<size_t>(axis)];
  auto new_shape = shape;
  new_shape[static_cast<size_t>(axis)] = static_cast<int64_t>(keep.size());
  Tensor out(t.type(), new_shape);
  const size_t es = elementSize(t.type());
  const auto* src = static_cast<const std::byte*>(t.raw());
  auto* dst = static_cast<std::byte*>(out.raw());
  for (int64_t o = 0; o < outer; ++o)
    for (size_t k = 0; k < keep.size(); ++k)
      std::memcpy(dst + ((o * static_cast<int64_t>(keep.size()) + static_cast<int64_t>(k)) * inner) * es,
                  src + ((o * dim + keep[k]) * inner) * es, static_cast<size_t>(inner) * es);
  return out;
}

void setIntAttr(onnx::NodeProto& node, const std::string& name, int64_t value) {
  for (auto& a : *node.mutable_attribute())
    if (a.name() == name) {
      a.set_i(value);
      return;
    }
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

// Turns a plan (group id -> unit indices) into the set of roots to remove; validates it.
std::set<int> removedRoots(Analysis& a, const ChannelPlan& plan) {
  std::set<int> removed;
  for (const auto& [id, units] : plan) {
    auto it = a.group_by_id.find(id);
    if (it == a.group_by_id.end()) throw Error("prune_channels: model has no prune group '" + id + "'");
    const auto& g = a.groups[it->second];
    if (units.empty()) continue;
    if (!g.info.prunable)
      throw Error("prune_channels: group '" + id + "' cannot be pruned (" + g.info.reason + ")");
    std::set<int64_t> unique(units.begin(), units.end());
    for (auto u : unique) {
      if (u < 0 || u >= g.info.units)
        throw Error("prune_channels: group '" + id + "' has no unit " + std::to_string(u));
      removed.insert(g.roots[static_cast<size_t>(u)]);
    }
    if (static_cast<int64_t>(unique.size()) >= g.info.units)
      throw Error("prune_channels: the plan removes every unit of group '" + id + "'");
  }
  return removed;
}

// Writes new values of node inputs: in place when that node is the initializer's only reader, else as a new
// initializer under a fresh name. Names, subgraph captures and graph outputs are indexed once (uniqueName and
// isCapturedBySubgraph scan the whole graph per call, which made edits of every layer of a large graph
// quadratic).
class InputWriter {
 public:
  explicit InputWriter(Model& model) : model_(model) {
    const auto& g = model.graph();
    for (const auto& in : g.input()) {
      taken_.insert(in.name());
      runtime_inputs_.insert(in.name());
    }
    for (const auto& out : g.output()) {
      taken_.insert(out.name());
      outputs_.insert(out.name());
    }
    for (const auto& init : g.initializer()) taken_.insert(init.name());
    for (const auto& node : g.node()) {
      taken_.insert(node.name());
      for (const auto& o : node.output()) taken_.insert(o);
      for (const auto& i : node.input()) taken_.insert(i);
      for (const auto& c : subgraphCaptures(node)) captured_.insert(c);
    }
  }

  void write(int n, int slot, const Tensor& value) {
    auto* node = model_.graph().mutable_node(n);
    const std::string current = node->input(slot);
    // Readers are those of the original graph (the index is not rebuilt between writes): an initializer read
    // by two slots gets a fresh copy for each, which is correct, just not minimal.
    if (model_.isInitializer(current) && !runtime_inputs_.count(current) &&
        model_.consumers(current).size() == 1 && !outputs_.count(current) && !captured_.count(current) &&
        !written_.count(current)) {
      int reads = 0;
      for (const auto& in : node->input()) reads += in == current;
      if (reads == 1) {
        *model_.mutableInitializer(current) = tensorToProto(current, value);
        written_.insert(current);
        return;
      }
    }
    const std::string fresh = freshName(current + "_pruned");
    *model_.graph().add_initializer() = tensorToProto(fresh, value);
    node->set_input(slot, fresh);
    maybe_unused_.insert(current);
  }

  // Drops what the edits left unread: replaced initializers and Constant nodes.
  void finish() {
    model_.reindex();
    const auto used = usedTensorNames(model_);
    std::set<std::string> dead_inits;
    std::vector<bool> dead_nodes(static_cast<size_t>(model_.graph().node_size()), false);
    for (const auto& name : maybe_unused_) {
      if (used.count(name) || outputs_.count(name)) continue;
      if (model_.isInitializer(name) && !runtime_inputs_.count(name)) dead_inits.insert(name);
      const int p = model_.producer(name);
      if (p >= 0 && model_.graph().node(p).op_type() == "Constant") dead_nodes[static_cast<size_t>(p)] = true;
    }
    removeNodes(model_, dead_nodes);
    removeInitializers(model_, dead_inits);
  }

 private:
  std::string freshName(const std::string& base) {  // uniqueName's rule: base, then base_1, base_2, ...
    std::string name = base;
    for (int i = 1; taken_.count(name); ++i) name = base + "_" + std::to_string(i);
    taken_.insert(name);
    return name;
  }

  Model& model_;
  std::unordered_set<std::string> taken_, runtime_inputs_, outputs_, captured_, written_;
  std::set<std::string> maybe_unused_;
};

double sliceScore(const Tensor& w, const Tensor* grad, int axis, int64_t position, bool l2) {
  const auto& shape = w.shape();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = static_cast<size_t>(axis) + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t dim = shape[static_cast<size_t>(axis)];
  auto v = w.values<float>();
  std::span<const float> gv;
  if (grad) gv = grad->values<float>();
  double s = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const size_t idx = static_cast<size_t>((o * dim + position) * inner + i);
      const double x = grad ? static_cast<double>(v[idx]) * gv[idx] : v[idx];
      s += l2 ? x * x : std::fabs(x);
    }
  return s;
}

void checkCriterion(const std::string& criterion, const GradientFunction& gradients) {
  if (criterion != "l1" && criterion != "l2" && criterion != "bn" && criterion != "taylor")
    throw Error("prune_channels: criterion must be l1, l2, bn or taylor (got '" + criterion + "')");
  if (criterion == "taylor" && !gradients)
    throw Error("prune_channels: the taylor criterion needs gradients from the training engine");
}

// Scores on an analysis already made (pruneChannels analyses the graph once for grouping, scoring and
// editing).
std::map<std::string, std::vector<double>> scoreWith(const Model& model, Analysis& a,
                                                     const std::string& criterion,
                                                     const GradientFunction& gradients) {
  std::map<int, double> by_root, bn_by_root;
  std::set<int> has_bn;
  for (const auto& s : a.slices) {
    if (s.role != Role::ProducerWeight && s.role != Role::BnGamma) continue;
    const auto& node = model.graph().node(s.node);
    auto w = a.constant(node.input(s.slot));
    if (!w || w->type() != DataType::Float32) continue;
    std::optional<Tensor> grad;
    if (criterion == "taylor" && s.role == Role::ProducerWeight) {
      grad = gradients(node.input(s.slot));
      if (!grad || grad->shape() != w->shape() || grad->type() != DataType::Float32)
        throw Error("prune_channels: no gradient of the right shape for initializer '" + node.input(s.slot) +
                    "'");
    }
    const auto& t = trackOf(a, s.tensor);
    for (size_t p = 0; p < t.ids.size(); ++p) {
      const int r = a.uf.find(t.ids[p]);
      if (s.role == Role::BnGamma) {
        bn_by_root[r] += std::fabs(w->values<float>()[p]);
        has_bn.insert(r);
      } else {
        by_root[r] +=
            sliceScore(*w, grad ? &*grad : nullptr, s.axis, static_cast<int64_t>(p), criterion == "l2");
      }
    }
  }
  std::map<std::string, std::vector<double>> scores;
  for (const auto& g : a.groups) {
    auto& v = scores[g.info.id];
    bool use_bn = criterion == "bn";
    for (int r : g.roots) use_bn = use_bn && has_bn.count(r);  // groups without BatchNorm fall back to L1
    for (int r : g.roots) v.push_back(use_bn ? bn_by_root[r] : by_root[r]);
  }
  return scores;
}

}  // namespace

// ------------------------------------------------------------------------------------------------------
// Public API

std::vector<PruneGroup> findPruneGroups(const Model& model) {
  Analysis a(model);
  std::vector<PruneGroup> out;
  out.reserve(a.groups.size());
  for (const auto& g : a.groups) out.push_back(g.info);
  return out;
}

std::map<std::string, std::vector<double>> scoreUnits(const Model& model, const std::string& criterion,
                                                      const GradientFunction& gradients) {
  checkCriterion(criterion, gradients);
  Analysis a(model);
  return scoreWith(model, a, criterion, gradients);
}

namespace {

// A plan plus, for every group it leaves whole, the reason (for the coverage report).
struct PlanDecision {
  ChannelPlan plan;
  std::map<std::string, std::string> left_alone;  // group id -> why it keeps every unit
};

using Scorer = std::function<std::map<std::string, std::vector<double>>()>;

PlanDecision decidePlan(const std::vector<PruneGroup>& groups, const PruneChannelsOptions& o,
                        const Scorer& score) {
  auto checkRatio = [](double r, const std::string& what) {
    if (!(r >= 0.0 && r < 1.0))
      throw Error("pass 'prune_channels': " + what + " must be in [0, 1) (got " + std::to_string(r) + ")");
  };
  checkRatio(o.ratio, "option 'ratio'");
  for (const auto& [k, r] : o.per_group) checkRatio(r, "per_group '" + k + "'");
  if (o.round_to < 1) throw Error("pass 'prune_channels': option 'round_to' must be >= 1");
  std::vector<std::regex> protect;
  for (const auto& p : o.protect) {
    try {
      protect.emplace_back(p);
    } catch (const std::regex_error&) {
      throw Error("pass 'prune_channels': option 'protect': '" + p + "' is not a valid regular expression");
    }
  }
  std::set<std::string> matched;
  PlanDecision d;
  std::map<std::string, std::vector<double>> scores;
  bool scored = false;
  for (const auto& g : groups) {
    double ratio = o.ratio;
    for (const auto& [key, r] : o.per_group) {
      if (key == g.id || std::find(g.nodes.begin(), g.nodes.end(), key) != g.nodes.end()) {
        ratio = r;
        matched.insert(key);
      }
    }
    if (!g.prunable) {
      d.left_alone[g.id] = g.reason;
      continue;
    }
    if (ratio <= 0.0) {
      d.left_alone[g.id] = "ratio 0";
      continue;
    }
    if (g.kind == "heads" && !o.prune_heads) {
      d.left_alone[g.id] = "head pruning is off";
      continue;
    }
    if (g.kind == "neurons" && !o.prune_neurons) {
      d.left_alone[g.id] = "neuron pruning is off";
      continue;
    }
    bool is_protected = false;
    for (const auto& re : protect)
      for (const auto& n : g.nodes) is_protected = is_protected || std::regex_search(n, re);
    if (is_protected) {
      d.left_alone[g.id] = "protected by user";
      continue;
    }
    const int64_t keep = keptUnits(g.units, ratio, o.round_to, g.unit_size);
    if (keep >= g.units) {
      d.left_alone[g.id] = "too few units for this ratio (rounded up to a multiple of " +
                           std::to_string(g.unit_size == 1 ? o.round_to : 1) + ")";
      continue;
    }
    if (!scored) {
      scores = score();
      scored = true;
    }
    const auto& s = scores.at(g.id);
    std::vector<int64_t> order(static_cast<size_t>(g.units));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] < s[b]; });
    std::vector<int64_t> removed(order.begin(), order.begin() + (g.units - keep));
    std::sort(removed.begin(), removed.end());
    d.plan[g.id] = removed;
  }
  for (const auto& [key, _] : o.per_group)
    if (!matched.count(key))
      throw Error("pass 'prune_channels': per_group names '" + key +
                  "', which is no group id or member node");
  return d;
}

std::string statsName(const onnx::NodeProto& node) {
  return node.name().empty() && node.output_size() > 0 ? node.output(0) : node.name();
}

// The coverage groups layers by the kind of reason ("flows into Concat"), not by the node that stopped each
// group (one line per Concat of a ShuffleNet says nothing more); --list-groups and the result's "left_alone"
// keep the full reason with names. Graph outputs stay named: there are few and they matter.
std::string reasonCategory(const std::string& reason) {
  if (reason.rfind("reaches graph output", 0) == 0) return reason;
  // Drops every " 'name'" and " ('name')" (by hand: std::regex recurses per character and overflows the stack
  // on the very long node names hostile models carry).
  std::string out;
  for (size_t i = 0; i < reason.size();) {
    size_t j = i;
    while (j < reason.size() && reason[j] == ' ') ++j;
    const bool paren =
        j < reason.size() && reason[j] == '(' && j + 1 < reason.size() && reason[j + 1] == '\'';
    const size_t quote = paren ? j + 1 : j;
    if (quote < reason.size() && reason[quote] == '\'') {
      const size_t close = reason.find('\'', quote + 1);
      if (close != std::string::npos) {
        i = close + 1 + (paren && close + 1 < reason.size() && reason[close + 1] == ')');
        continue;
      }
    }
    out += reason[i++];
  }
  return out;
}

// Which layers the plan acts on, measured on the model before any edit. A layer counts as covered when the
// group of channels it produces lost units (a consumer whose input columns shrink but whose own outputs stay,
// like the classifier, is listed under its own group's reason: that is what the user can change). Members of
// a group that produce nothing (BatchNorm, bias Add, depthwise Conv) and the attention MatMuls of pruned
// heads go with that group. Layers in no group are listed with the analysis' note on why.
Coverage planCoverage(const Model& model, const Analysis& a, const ChannelPlan& plan,
                      const std::map<std::string, std::string>& left_alone, const InputShapes* shapes,
                      const ModelStats& stats) {
  CoverageCounter counter(model, shapes);
  const auto& g = model.graph();
  std::unordered_map<std::string, const NodeStats*> cost;
  for (const auto& n : stats.nodes) cost[n.name] = &n;
  std::unordered_map<std::string, int> index_of;
  for (int i = 0; i < g.node_size(); ++i) index_of[g.node(i).name()] = i;
  const size_t count = static_cast<size_t>(g.node_size());
  std::vector<char> produces(count, 0), produced_pruned(count, 0), member_pruned(count, 0);
  std::vector<std::string> produced_reason(count), member_reason(count);
  for (const auto& group : a.groups) {
    auto p = plan.find(group.info.id);
    const bool pruned = p != plan.end() && !p->second.empty();
    auto why = left_alone.find(group.info.id);
    const std::string reason = why != left_alone.end() ? why->second : "not in the plan";
    const std::set<std::string> producers(group.info.producers.begin(), group.info.producers.end());
    for (const auto& name : group.info.nodes) {
      auto it = index_of.find(name);
      if (it == index_of.end()) continue;
      const auto i = static_cast<size_t>(it->second);
      if (producers.count(name)) {
        produces[i] = 1;
        if (pruned)
          produced_pruned[i] = 1;
        else if (produced_reason[i].empty())
          produced_reason[i] = reason;
      } else {
        if (pruned)
          member_pruned[i] = 1;
        else if (member_reason[i].empty())
          member_reason[i] = reason;
      }
    }
    if (pruned)
      for (int n : group.also_shrinks) member_pruned[static_cast<size_t>(n)] = 1;
  }
  for (size_t i = 0; i < count; ++i) {
    const auto& node = g.node(static_cast<int>(i));
    const std::string name = statsName(node);
    if (produces[i] ? produced_pruned[i] : member_pruned[i]) {
      counter.covered(name);
      continue;
    }
    auto c = cost.find(name);
    if (c == cost.end() || (c->second->macs == 0 && c->second->weight_bytes == 0)) continue;
    std::string reason = reasonCategory(produces[i] ? produced_reason[i] : member_reason[i]);
    if (reason.empty()) {
      // Nodes in no group: list the layers (they have MACs); an Add or Clip reading a scalar is no news.
      if (auto note = a.layer_notes.find(static_cast<int>(i)); note != a.layer_notes.end())
        reason = note->second;
      else if (c->second->macs > 0)
        reason = "its output channels are not tracked by the analysis";
      else
        continue;
    }
    counter.skipped(name, reason);
  }
  return counter.result();
}

ChannelPruneResult applyPlan(Model& model, Analysis& a, const ChannelPlan& plan,
                             const std::map<std::string, std::string>& left_alone, const InputShapes* shapes);

std::vector<PruneGroup> groupsOf(const Analysis& a) {
  std::vector<PruneGroup> out;
  out.reserve(a.groups.size());
  for (const auto& g : a.groups) out.push_back(g.info);
  return out;
}

Scorer scorerFor(const Model& model, Analysis& a, const PruneChannelsOptions& o,
                 const GradientFunction& gradients) {
  checkCriterion(o.criterion, gradients);
  return [&model, &a, &o, &gradients] { return scoreWith(model, a, o.criterion, gradients); };
}

}  // namespace

ChannelPlan planChannelPruning(const Model& model, const PruneChannelsOptions& o,
                               const GradientFunction& gradients) {
  Analysis a(model);
  return decidePlan(groupsOf(a), o, scorerFor(model, a, o, gradients)).plan;
}

bool ChannelPruneResult::prunedAnything() const {
  for (const auto& [id, units] : plan)
    if (!units.empty()) return true;
  return false;
}

ChannelPruneResult applyChannelPlan(Model& model, const ChannelPlan& plan, const InputShapes* shapes) {
  Analysis a(model);
  return applyPlan(model, a, plan, {}, shapes);
}

namespace {

// `a` is the analysis of `model` as it is now; every edit is computed from it before the first write.
ChannelPruneResult applyPlan(Model& model, Analysis& a, const ChannelPlan& plan,
                             const std::map<std::string, std::string>& left_alone,
                             const InputShapes* shapes) {
  ChannelPruneResult result;
  const ModelStats before = computeStats(model, shapes);
  result.params_before = before.params;
  result.macs_before = before.macs;
  result.onnx_bytes_before = before.serialized_bytes;
  const std::set<int> removed = removedRoots(a, plan);
  for (const auto& g : a.groups) {
    if (!g.info.prunable) continue;
    GroupPruneResult r{g.info.id, g.info.units, g.info.units, {}};
    if (auto it = plan.find(g.info.id); it != plan.end()) {
      std::set<int64_t> u(it->second.begin(), it->second.end());
      r.removed.assign(u.begin(), u.end());
      r.units_after -= static_cast<int64_t>(u.size());
    }
    result.groups.push_back(r);
  }
  result.plan = plan;
  result.left_alone = left_alone;
  result.coverage = planCoverage(model, a, plan, left_alone, shapes, before);
  if (removed.empty()) {
    result.params_after = result.params_before;
    result.macs_after = result.macs_before;
    result.onnx_bytes_after = result.onnx_bytes_before;
    return result;
  }

  // Every edit is computed from the original graph before anything is written.
  std::map<std::pair<int, int>, std::vector<const SliceSite*>> by_input;
  for (const auto& s : a.slices) by_input[{s.node, s.slot}].push_back(&s);
  std::map<std::pair<int, int>, Tensor> new_inputs;
  for (const auto& [key, sites] : by_input) {
    auto value = a.constant(model.graph().node(key.first).input(key.second));
    if (!value)
      throw Error("prune_channels: input '" + model.graph().node(key.first).input(key.second) + "' of " +
                  describeNode(model.graph().node(key.first)) + " is not constant");
    bool changed = false;
    for (const SliceSite* s : sites) {
      const Track& t = trackOf(a, s->tensor);
      const auto kept = keptPositions(a, t, removed);
      if (kept.size() == t.ids.size()) continue;
      *value = sliceAxis(*value, s->axis, kept);
      changed = true;
    }
    if (changed) new_inputs[key] = std::move(*value);
  }
  std::map<std::pair<int, int>, Tensor> new_shapes;
  for (const auto& s : a.shapes) {
    const auto& t = trackOf(a, s.tensor);
    const auto kept = keptPositions(a, t, removed);
    if (kept.size() == t.ids.size()) continue;
    auto key = std::make_pair(s.node, s.slot);
    if (!new_shapes.count(key)) {
      auto c = a.constant(model.graph().node(s.node).input(s.slot));
      if (!c || c->type() != DataType::Int64)
        throw Error("prune_channels: shape input of " + describeNode(model.graph().node(s.node)) +
                    " is not a constant int64 tensor");
      new_shapes[key] = *c;
    }
    new_shapes[key].values<int64_t>()[static_cast<size_t>(s.element)] =
        static_cast<int64_t>(kept.size()) / s.divisor;
  }
  std::map<int, int64_t> new_groups;
  for (const auto& s : a.group_attrs) {
    const auto& t = trackOf(a, s.tensor);
    new_groups[s.node] = static_cast<int64_t>(keptPositions(a, t, removed).size());
  }

  InputWriter writer(model);
  for (auto* edits : {&new_inputs, &new_shapes})
    for (const auto& [key, value] : *edits) writer.write(key.first, key.second, value);
  for (const auto& [n, groups] : new_groups) setIntAttr(*model.graph().mutable_node(n), "group", groups);

  // Drop what the edits left unread: replaced initializers and Constant nodes.
  writer.finish();
  model.graph().clear_value_info();  // stale shapes; re-inferred below
  finishGraphEdit(model, "prune_channels");

  const ModelStats after = computeStats(model, shapes);
  result.params_after = after.params;
  result.macs_after = after.macs;
  result.onnx_bytes_after = after.serialized_bytes;
  return result;
}

}  // namespace

ChannelPruneResult pruneChannels(Model& model, const PruneChannelsOptions& options,
                                 const GradientFunction& gradients, const InputShapes* shapes) {
  Analysis a(model);  // one analysis for grouping, scoring and editing
  const PlanDecision d = decidePlan(groupsOf(a), options, scorerFor(model, a, options, gradients));
  return applyPlan(model, a, d.plan, d.left_alone, shapes);
}

void zeroChannelPlan(Model& model, const ChannelPlan& plan) {
  Analysis a(model);
  const std::set<int> removed = removedRoots(a, plan);
  std::map<std::pair<int, int>, Tensor> edits;
  for (const auto& s : a.slices) {
    if (s.role != Role::ConsumerWeight) continue;
    const auto key = std::make_pair(s.node, s.slot);
    if (!edits.count(key)) edits[key] = *a.constant(model.graph().node(s.node).input(s.slot));
    Tensor& w = edits[key];
    const auto& t = trackOf(a, s.tensor);
    const auto& shape = w.shape();
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < s.axis; ++i) outer *= shape[i];
    for (size_t i = static_cast<size_t>(s.axis) + 1; i < shape.size(); ++i) inner *= shape[i];
    const int64_t dim = shape[static_cast<size_t>(s.axis)];
    auto v = w.values<float>();
    for (size_t p = 0; p < t.ids.size(); ++p) {
      if (!removed.count(a.uf.find(t.ids[p]))) continue;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i)
          v[static_cast<size_t>((o * dim + static_cast<int64_t>(p)) * inner + i)] = 0;
    }
  }
  InputWriter writer(model);
  for (const auto& [key, value] : edits) writer.write(key.first, key.second, value);
  writer.finish();
  finishGraphEdit(model, "zeroChannelPlan");
}

PassReport PruneChannelsPass::apply(Model& model, PassContext& context) {
  context.throwIfCancelled();
  PassReport report;
  report.pass_name = name();
  ChannelPruneResult r = pruneChannels(model, options_, gradients_, shapes_ ? &*shapes_ : nullptr);
  // No silent partial success: a pass asked to prune that could prune nothing says so and why.
  if (!r.prunedAnything() && (options_.ratio > 0 || !options_.per_group.empty())) {
    std::string why;
    for (const auto& line : r.coverage.lines("pruned")) why += "\n  " + line;
    throw Error("pass 'prune_channels': nothing could be pruned" + why);
  }
  for (const auto& g : r.groups)
    if (g.units_after != g.units_before)
      report.lines.push_back("pruned " + g.id + ": " + std::to_string(g.units_before) + " -> " +
                             std::to_string(g.units_after) + " units");
  for (const auto& line : r.coverage.lines("pruned")) report.lines.push_back(line);
  report.coverage = r.coverage;
  report.details = r.toJson();
  return report;
}

void registerPrunePasses(PassRegistry& registry) {
  registry.add("prune_magnitude", [] { return std::make_unique<PruneMagnitudePass>(); });
  registry.add("prune_channels", [] { return std::make_unique<PruneChannelsPass>(); });
}

}  // namespace edgetune
