// The attention pattern of the channel-dependency walker: softmax(Q K^T) V with Q/K/V split into heads by
// Reshape + Transpose (the torch.onnx and zoo encoders), whose heads are removed as units.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/analysis/channel_dependency_walker.h"
#include "core/analysis/coverage.h"
#include "core/util/error.h"

namespace edgetune::channel_deps {

std::pair<std::string, std::vector<int64_t>> ChannelDependencyWalker::throughTransposes(
    std::string name, std::vector<int>& nodes) {
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

int ChannelDependencyWalker::reshapeProducer(const std::string& name) const {
  const int p = m_.producer(name);
  return p >= 0 && m_.graph().node(p).op_type() == "Reshape" ? p : -1;
}

std::optional<ChannelDependencyWalker::ShapeRef> ChannelDependencyWalker::shapeElement(int reshape,
                                                                                       int index) const {
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

bool ChannelDependencyWalker::singleReader(const std::string& tensor) const {
  return m_.consumers(tensor).size() == 1 && !isOutput(tensor);
}

std::optional<Attention> ChannelDependencyWalker::matchAttention(int ctx) {
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

void ChannelDependencyWalker::handleAttention(const Attention& a) {
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

}  // namespace edgetune::channel_deps
