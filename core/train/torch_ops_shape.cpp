// ONNX operators as libtorch kernels: shape, indexing, constants and padding.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/train/torch_ops_kernels.h"

namespace edgetune::torch_ops::kernels {

CompiledOp compileFlatten(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", 1);
  return {[axis](const Tensors& in, bool) {
    const Tensor& x = in[0];
    const int64_t a = axis < 0 ? axis + x.dim() : axis;
    if (a < 0 || a > x.dim()) throw Error("axis " + std::to_string(axis) + " is out of range");
    return Tensors{x.reshape({product(x.sizes(), 0, a)[0], product(x.sizes(), a, x.dim())[0]})};
  }};
}

CompiledOp compileReshape(const NodeContext& c) {
  IntsSource shape = intsInput(c, 1);
  if (!shape.present) fail(c, "the shape input is missing");
  const bool allow_zero = attrInt(*c.node, "allowzero", 0);
  return {[shape, allow_zero](const Tensors& in, bool) {
    Ints s = shape.get(in);
    const Tensor& x = in[0];
    if (!allow_zero)
      for (size_t i = 0; i < s.size(); ++i)
        if (s[i] == 0) {
          if (static_cast<int64_t>(i) >= x.dim()) throw Error("shape has a 0 beyond the input's rank");
          s[i] = x.size(static_cast<int64_t>(i));
        }
    return Tensors{x.reshape(s)};
  }};
}

CompiledOp compileTranspose(const NodeContext& c) {
  const Ints perm = attrInts(*c.node, "perm");
  return {[perm](const Tensors& in, bool) {
    Ints p = perm;
    if (p.empty())
      for (int64_t i = in[0].dim() - 1; i >= 0; --i) p.push_back(i);
    return Tensors{in[0].permute(p)};
  }};
}

CompiledOp compileConcat(const NodeContext& c) {
  if (!findAttr(*c.node, "axis")) fail(c, "the axis attribute is missing");
  const int64_t axis = attrInt(*c.node, "axis", 0);
  return {[axis](const Tensors& in, bool) { return Tensors{at::cat(in, normAxis(axis, in[0].dim()))}; }};
}

CompiledOp compileSplit(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", 0);
  IntsSource split = c.opset >= 13 ? intsInput(c, 1) : intsAttr(c, "split");
  const int64_t parts =
      findAttr(*c.node, "num_outputs") ? attrInt(*c.node, "num_outputs", 1) : c.node->output_size();
  return {[axis, split, parts](const Tensors& in, bool) {
    const int64_t a = normAxis(axis, in[0].dim());
    Ints sizes;
    if (split.present) {
      sizes = split.get(in);
    } else {
      const int64_t dim = in[0].size(a);
      const int64_t chunk = (dim + parts - 1) / parts;
      for (int64_t i = 0; i < parts; ++i)
        sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - chunk * i)));
    }
    return at::split_with_sizes(in[0], sizes, a);
  }};
}

CompiledOp compileSlice(const NodeContext& c) {
  IntsSource starts, ends, axes, steps;
  if (c.opset >= 10) {
    starts = intsInput(c, 1);
    ends = intsInput(c, 2);
    axes = intsInput(c, 3);
    steps = intsInput(c, 4);
  } else {
    starts = intsAttr(c, "starts");
    ends = intsAttr(c, "ends");
    axes = intsAttr(c, "axes");
  }
  if (!starts.present || !ends.present) fail(c, "starts and ends are required");
  return {[=](const Tensors& in, bool) {
    Tensor x = in[0];
    const Ints st = starts.get(in), en = ends.get(in);
    Ints ax = axes.present ? axes.get(in) : Ints{};
    Ints sp = steps.present ? steps.get(in) : Ints{};
    if (st.size() != en.size()) throw Error("starts and ends differ in length");
    for (size_t i = 0; i < st.size(); ++i) {
      const int64_t axis = normAxis(ax.empty() ? static_cast<int64_t>(i) : ax.at(i), x.dim());
      const int64_t step = sp.empty() ? 1 : sp.at(i);
      if (step == 0) throw Error("slice step is 0");
      const int64_t dim = x.size(axis);
      int64_t s = st[i] < 0 ? st[i] + dim : st[i];
      int64_t e = en[i] < 0 ? en[i] + dim : en[i];
      if (step > 0) {
        s = std::clamp<int64_t>(s, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
        x = x.slice(axis, s, std::max(s, e), step);
      } else {
        s = std::clamp<int64_t>(s, 0, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
        Tensor index = s > e ? at::arange(s, e, step, at::kLong) : at::empty({0}, at::kLong);
        x = x.index_select(axis, index);
      }
    }
    return Tensors{x};
  }};
}

CompiledOp compileGather(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", 0);
  return {[axis](const Tensors& in, bool) {
    const Tensor& data = in[0];
    const int64_t a = normAxis(axis, data.dim());
    const Tensor& indices = in[1];
    if (indices.dim() == 0) return Tensors{data.select(a, indices.item<int64_t>())};
    // Negative indices count from the end; remainder maps [-dim, dim) onto [0, dim).
    Tensor idx = at::remainder(indices.to(at::kLong), data.size(a));
    Ints shape(data.sizes().begin(), data.sizes().begin() + a);
    shape.insert(shape.end(), indices.sizes().begin(), indices.sizes().end());
    shape.insert(shape.end(), data.sizes().begin() + a + 1, data.sizes().end());
    return Tensors{data.index_select(a, idx.reshape({-1})).reshape(shape)};
  }};
}

CompiledOp compileGatherElements(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", 0);
  return {[axis](const Tensors& in, bool) {
    const int64_t a = normAxis(axis, in[0].dim());
    return Tensors{at::gather(in[0], a, at::remainder(in[1].to(at::kLong), in[0].size(a)))};
  }};
}

CompiledOp compileUnsqueeze(const NodeContext& c) {
  IntsSource axes = c.opset >= 13 ? intsInput(c, 1) : intsAttr(c, "axes");
  if (!axes.present) fail(c, "axes are required");
  return {[axes](const Tensors& in, bool) {
    Ints ax = axes.get(in);
    const int64_t rank = in[0].dim() + static_cast<int64_t>(ax.size());
    for (auto& a : ax) a = normAxis(a, rank);
    std::sort(ax.begin(), ax.end());
    Tensor x = in[0];
    for (int64_t a : ax) x = x.unsqueeze(a);
    return Tensors{x};
  }};
}

CompiledOp compileSqueeze(const NodeContext& c) {
  IntsSource axes = c.opset >= 13 ? intsInput(c, 1) : intsAttr(c, "axes");
  return {[axes](const Tensors& in, bool) {
    if (!axes.present) return Tensors{in[0].squeeze()};
    Ints ax = axes.get(in);
    for (auto& a : ax) a = normAxis(a, in[0].dim());
    std::sort(ax.rbegin(), ax.rend());
    Tensor x = in[0];
    for (int64_t a : ax) {
      if (x.size(a) != 1)
        throw Error("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(x.size(a)));
      x = x.squeeze(a);
    }
    return Tensors{x};
  }};
}

CompiledOp compileShape(const NodeContext& c) {
  const int64_t start = attrInt(*c.node, "start", 0);
  const bool has_end = findAttr(*c.node, "end") != nullptr;
  const int64_t end = attrInt(*c.node, "end", 0);
  return {[start, has_end, end](const Tensors& in, bool) {
    const int64_t rank = in[0].dim();
    auto clampAxis = [rank](int64_t a) { return std::clamp<int64_t>(a < 0 ? a + rank : a, 0, rank); };
    const int64_t s = clampAxis(start), e = has_end ? clampAxis(end) : rank;
    Ints dims(in[0].sizes().begin() + s, in[0].sizes().begin() + std::max(s, e));
    return Tensors{at::tensor(dims, at::kLong)};
  }};
}

CompiledOp compileSize(const NodeContext&) {
  return {[](const Tensors& in, bool) { return Tensors{at::scalar_tensor(in[0].numel(), at::kLong)}; }};
}

namespace {

Tensor tensorAttr(const onnx::TensorProto& proto) {
  return toTorch(tensorFromProto(proto));
}

}  // namespace

CompiledOp compileConstant(const NodeContext& c) {
  Tensor value;
  const auto& n = *c.node;
  if (const auto* a = findAttr(n, "value"))
    value = tensorAttr(a->t());
  else if (const auto* a = findAttr(n, "value_float"))
    value = at::scalar_tensor(a->f(), at::kFloat);
  else if (const auto* a = findAttr(n, "value_floats"))
    value = at::tensor(std::vector<float>(a->floats().begin(), a->floats().end()), at::kFloat);
  else if (const auto* a = findAttr(n, "value_int"))
    value = at::scalar_tensor(a->i(), at::kLong);
  else if (const auto* a = findAttr(n, "value_ints"))
    value = at::tensor(Ints(a->ints().begin(), a->ints().end()), at::kLong);
  else
    fail(c, "only tensor, float(s) and int(s) constant values are supported");
  return {[value](const Tensors&, bool) { return Tensors{value}; }};
}

CompiledOp compileConstantOfShape(const NodeContext& c) {
  Tensor value = at::zeros({1}, at::kFloat);
  if (const auto* a = findAttr(*c.node, "value")) value = tensorAttr(a->t());
  const at::Scalar fill = value.reshape({-1})[0].item();
  const at::ScalarType type = value.scalar_type();
  IntsSource shape = intsInput(c, 0);
  return {
      [fill, type, shape](const Tensors& in, bool) { return Tensors{at::full(shape.get(in), fill, type)}; }};
}

CompiledOp compileExpand(const NodeContext& c) {
  IntsSource shape = intsInput(c, 1);
  return {[shape](const Tensors& in, bool) {
    Ints target = shape.get(in);
    const Tensor& x = in[0];
    // ONNX Expand broadcasts both ways: the result has the larger of each pair of aligned dimensions.
    const int64_t rank = std::max<int64_t>(x.dim(), static_cast<int64_t>(target.size()));
    Ints out(rank, 1);
    for (int64_t i = 0; i < rank; ++i) {
      const int64_t xi = i - (rank - x.dim()), ti = i - (rank - static_cast<int64_t>(target.size()));
      const int64_t a = xi >= 0 ? x.size(xi) : 1, b = ti >= 0 ? target[ti] : 1;
      if (a != b && a != 1 && b != 1)
        throw Error("cannot expand dimension of size " + std::to_string(a) + " to " + std::to_string(b));
      out[i] = a == 1 ? b : a;
    }
    return Tensors{x.expand(out)};
  }};
}

CompiledOp compileTile(const NodeContext& c) {
  IntsSource repeats = intsInput(c, 1);
  return {[repeats](const Tensors& in, bool) { return Tensors{in[0].repeat(repeats.get(in))}; }};
}

CompiledOp compileRange(const NodeContext&) {
  return {[](const Tensors& in, bool) {
    return Tensors{at::arange(in[0].item(), in[1].item(), in[2].item(), in[0].scalar_type())};
  }};
}

CompiledOp compileWhere(const NodeContext&) {
  return {[](const Tensors& in, bool) {
    const Tensor cond = in[0].scalar_type() == at::kBool ? in[0] : in[0].to(at::kBool);
    return Tensors{at::where(cond, in[1], in[2])};
  }};
}

CompiledOp compileCast(const NodeContext& c) {
  const at::ScalarType to = toScalarType(dataTypeFromOnnx(static_cast<int>(attrInt(*c.node, "to", 1))));
  return {[to](const Tensors& in, bool) { return Tensors{in[0].to(to)}; }};
}

CompiledOp compileCastLike(const NodeContext&) {
  return {[](const Tensors& in, bool) { return Tensors{in[0].to(in[1].scalar_type())}; }};
}

CompiledOp compileOneHot(const NodeContext& c) {
  const int64_t axis = attrInt(*c.node, "axis", -1);
  return {[axis](const Tensors& in, bool) {
    const int64_t depth = toInts(in[1]).at(0);
    Tensor idx = in[0].to(at::kLong);
    idx = at::where(idx < 0, idx + depth, idx);  // negative indices count from the end
    // Out-of-range indices give an all-"off" row, as ONNX specifies.
    Tensor valid = (idx >= 0).logical_and(idx < depth);
    Tensor hot = at::one_hot(idx.clamp(0, depth - 1), depth).to(at::kBool).logical_and(valid.unsqueeze(-1));
    hot = hot.movedim(-1, normAxis(axis, in[0].dim() + 1));
    const Tensor& values = in[2];
    return Tensors{at::where(hot, values.reshape({-1})[1], values.reshape({-1})[0])};
  }};
}

CompiledOp compilePad(const NodeContext& c) {
  const std::string mode = attrString(*c.node, "mode", "constant");
  std::string torch_mode;
  if (mode == "constant")
    torch_mode = "constant";
  else if (mode == "reflect")
    torch_mode = "reflect";
  else if (mode == "edge")
    torch_mode = "replicate";
  else if (mode == "wrap")
    torch_mode = "circular";
  else
    fail(c, "pad mode '" + mode + "' is not supported");
  IntsSource pads, axes;
  std::optional<double> value;
  int value_input = -1;
  if (c.opset < 11) {
    pads = intsAttr(c, "pads");
    value = attrFloat(*c.node, "value", 0.f);
  } else {
    pads = intsInput(c, 1);
    axes = intsInput(c, 3);
    if (hasInput(c, 2)) {
      if (const Tensor* t = c.constant_input(2))
        value = t->item<double>();
      else
        value_input = 2;
    } else {
      value = 0.0;
    }
  }
  if (!pads.present) fail(c, "pads are required");
  return {[=](const Tensors& in, bool) {
    const Tensor& x = in[0];
    const int64_t rank = x.dim();
    Ints p = pads.get(in);
    Ints full(2 * rank, 0);
    if (axes.present) {
      Ints ax = axes.get(in);
      if (p.size() != 2 * ax.size()) throw Error("pads do not match axes");
      for (size_t i = 0; i < ax.size(); ++i) {
        const int64_t a = normAxis(ax[i], rank);
        full[a] = p[i];
        full[a + rank] = p[i + ax.size()];
      }
    } else {
      if (static_cast<int64_t>(p.size()) != 2 * rank)
        throw Error("pads has " + std::to_string(p.size()) + " values for a tensor of rank " +
                    std::to_string(rank));
      full = p;
    }
    // torch pads the last k dims; start at the outermost padded axis.
    int64_t first = rank;
    for (int64_t i = 0; i < rank; ++i)
      if (full[i] != 0 || full[i + rank] != 0) {
        first = i;
        break;
      }
    if (first == rank) return Tensors{x};
    Ints sub;
    for (int64_t i = first; i < rank; ++i) sub.push_back(full[i]);
    for (int64_t i = first; i < rank; ++i) sub.push_back(full[i + rank]);
    const Ints tp = torchPadList(sub);
    if (torch_mode == "constant") {
      const double v = value_input >= 0 ? in[value_input].item<double>() : *value;
      return Tensors{at::constant_pad_nd(x, tp, v)};
    }
    return Tensors{at::pad(x, tp, torch_mode)};
  }};
}

CompiledOp compileTrilu(const NodeContext& c) {
  const bool upper = attrInt(*c.node, "upper", 1) != 0;
  IntsSource k = intsInput(c, 1);
  return {[upper, k](const Tensors& in, bool) {
    const int64_t diagonal = k.present ? k.get(in).at(0) : 0;
    return Tensors{upper ? at::triu(in[0], diagonal) : at::tril(in[0], diagonal)};
  }};
}

namespace {

// Index tensors for the first `k` axes of `data` from ONNX indices [..., k] (negative indices count from the
// end).
c10::List<c10::optional<Tensor>> leadingIndices(const Tensor& data, const Tensor& indices) {
  const int64_t k = indices.size(-1);
  if (k > data.dim())
    throw Error("indices address " + std::to_string(k) + " axes of a tensor of rank " +
                std::to_string(data.dim()));
  Tensor flat = indices.to(at::kLong).reshape({-1, k});
  c10::List<c10::optional<Tensor>> list;
  for (int64_t i = 0; i < k; ++i) list.push_back(at::remainder(flat.select(1, i), data.size(i)));
  return list;
}

}  // namespace

CompiledOp compileGatherND(const NodeContext& c) {
  if (attrInt(*c.node, "batch_dims", 0) != 0) fail(c, "batch_dims other than 0 is not supported");
  return {[](const Tensors& in, bool) {
    const Tensor& data = in[0];
    const Tensor& indices = in[1];
    Ints shape(indices.sizes().begin(), indices.sizes().end() - 1);
    shape.insert(shape.end(), data.sizes().begin() + indices.size(-1), data.sizes().end());
    return Tensors{data.index(leadingIndices(data, indices)).reshape(shape)};
  }};
}

CompiledOp compileScatterND(const NodeContext& c) {
  const std::string reduction = attrString(*c.node, "reduction", "none");
  if (reduction != "none" && reduction != "add")
    fail(c, "reduction '" + reduction + "' is not supported (none, add are)");
  const bool accumulate = reduction == "add";
  return {[accumulate](const Tensors& in, bool) {
    const Tensor& data = in[0];
    const Tensor& indices = in[1];
    const int64_t k = indices.size(-1);
    Ints update_shape{-1};
    update_shape.insert(update_shape.end(), data.sizes().begin() + k, data.sizes().end());
    Tensor updates = in[2].to(data.scalar_type()).reshape(update_shape);
    return Tensors{at::index_put(data, leadingIndices(data, indices), updates, accumulate)};
  }};
}

}  // namespace edgetune::torch_ops::kernels
