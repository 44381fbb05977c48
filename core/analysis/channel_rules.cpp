// The channel-dependency walker's rules, one per op kind: how ids of channels flow through (or are
// poisoned by) each operator, and where pruning them edits the graph.
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

int ChannelDependencyWalker::rankOf(const std::string& name) const {
  auto s = shapeOf(name);
  if (s) return static_cast<int>(s->size());
  auto it = ranks_.find(name);
  return it == ranks_.end() ? -1 : it->second;
}

void ChannelDependencyWalker::inferRanks() {
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

void ChannelDependencyWalker::conv(int n, const onnx::NodeProto& node) {
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
  } else if (c_in_per_group == 1 && c_out == group && x_ok && static_cast<int64_t>(x->ids.size()) == group) {
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

void ChannelDependencyWalker::gemm(int n, const onnx::NodeProto& node) {
  auto b = shapeOf(node.input(1));
  if (!isConstant(node.input(1)) || !b || b->size() != 2 || attrInt(node, "transA", 0) != 0) {
    layer_notes[n] =
        !isConstant(node.input(1)) ? skip_reason::kWeightNotConstant : "Gemm with transA or a non-2-D weight";
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

void ChannelDependencyWalker::matmul(int n, const onnx::NodeProto& node) {
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

void ChannelDependencyWalker::normalization(int n, const onnx::NodeProto& node, int params) {
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

void ChannelDependencyWalker::binary(int n, const onnx::NodeProto& node) {
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
      return poisonInputs(
          node, "combined with a tensor no prunable layer produces ('" + in + "') at " + describeNode(node));
    return poisonInputs(node,
                        "operand '" + in + "' is not prunable with the channels at " + describeNode(node));
  }
  slices.insert(slices.end(), sites.begin(), sites.end());
  tracks[node.output(0)] = first;
}

void ChannelDependencyWalker::concat(const onnx::NodeProto& node) {
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

void ChannelDependencyWalker::collapse(int n, const onnx::NodeProto& node) {
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

void ChannelDependencyWalker::reduce(const onnx::NodeProto& node) {
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

void ChannelDependencyWalker::transpose(const onnx::NodeProto& node) {
  const Track* x = track(node.input(0));
  if (!x) return;
  const int r = rankOf(node.input(0));
  auto perm = attrInts(node, "perm");
  if (r < 0 || static_cast<int>(perm.size()) != r) return poisonInputs(node);
  const int a = r + x->axis_from_end;
  for (int i = 0; i < r; ++i)
    if (perm[i] == a) tracks[node.output(0)] = Track{i - r, x->ids};
}

void ChannelDependencyWalker::shape(const onnx::NodeProto& node) {
  const Track* x = track(node.input(0));
  if (!x) return;
  // Reading the batch or sequence size is harmless; reading the channel count would bake it in.
  const int r = rankOf(node.input(0));
  if (r < 0 || node.attribute_size() > 0) return poisonInputs(node);
  const int a = r + x->axis_from_end;
  for (int c : m_.consumers(node.output(0))) {
    const auto& g = m_.graph().node(c);
    auto idx = g.op_type() == "Gather" && g.input(0) == node.output(0) ? constant(g.input(1)) : std::nullopt;
    if (!idx || idx->type() != DataType::Int64)
      return poisonInputs(node, "its shape is read by " + describeNode(g));
    for (auto i : idx->values<int64_t>())
      if ((i < 0 ? i + r : i) == a)
        return poisonInputs(node, "its channel count is read by " + describeNode(g));
  }
}

void ChannelDependencyWalker::gather(const onnx::NodeProto& node) {
  const Track* x = track(node.input(0));
  if (!x) return poisonInputs(node);
  const int r = rankOf(node.input(0));
  const int64_t axis = attrInt(node, "axis", 0);
  auto idx = shapeOf(node.input(1));
  if (r < 0 || !idx) return poisonInputs(node);
  const int abs = static_cast<int>(axis < 0 ? axis + r : axis);
  if (abs >= r + x->axis_from_end) return poisonInputs(node);
  tracks[node.output(0)] = *x;  // axes before the channel axis change; the channel axis from the end does not
}

void ChannelDependencyWalker::pad(const onnx::NodeProto& node) {
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

void ChannelDependencyWalker::slice(const onnx::NodeProto& node) {
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

}  // namespace edgetune::channel_deps
