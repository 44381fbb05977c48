// The down-adapters, one per op family that changed after opset 17 (from the ONNX operator changelog):
// Reduce*, Split, Pad, Resize, Scatter*, pools, Q/DQ, GridSample, DFT, and the decompositions of Gelu and
// Mish.
#include "core/ir/opset_convert_internal.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/ir/model.h"

namespace edgetune::opset_internal {

// Opset 18 moved `axes` from attribute to optional input and added noop_with_empty_axes.
bool DownConverter::adaptReduce(Scope& scope, NodeProto& node, int version) {
  const bool noop =
      findAttr(node, "noop_with_empty_axes") && findAttr(node, "noop_with_empty_axes")->i() != 0;
  removeAttr(node, "noop_with_empty_axes");
  std::vector<int64_t> axes;
  if (hasInput(node, 1)) {
    auto values = scope.constantInts(node.input(1));
    if (!values) {
      block(scope, node,
            "its axes come from '" + node.input(1) +
                "', computed at run time; opset 17 needs them as a constant attribute");
      return false;
    }
    axes = *values;
  }
  if (node.input_size() > 1) node.mutable_input()->DeleteSubrange(1, node.input_size() - 1);
  if (!axes.empty()) {
    setIntsAttr(node, "axes", axes);
    note(18, scope, node, "axes input -> attribute axes=" + joinInts(axes));
  } else if (noop) {
    // No axes with noop_with_empty_axes=1 returns the input unchanged; at 17 no axes means "reduce all".
    static const std::set<std::string> identity_ops = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd"};
    if (!identity_ops.count(node.op_type())) {
      block(scope, node, "noop_with_empty_axes=1 with no axes has no opset-17 form");
      return false;
    }
    note(18, scope, node, "no axes with noop_with_empty_axes=1 -> Identity");
    node.set_op_type("Identity");
    node.clear_attribute();
  } else {
    note(18, scope, node, "no axes input -> reduce over all axes (the opset-17 default)");
  }
  return true;
}

// Opset 18 added num_outputs (the last chunk may be smaller); at 17 equal chunks come from the output
// count.
bool DownConverter::adaptSplit(Scope& scope, NodeProto& node, int /*version*/) {
  const auto* attr = findAttr(node, "num_outputs");
  if (!attr) return true;
  const int64_t n = attr->i();
  removeAttr(node, "num_outputs");
  if (hasInput(node, 1) || n != node.output_size()) {
    block(scope, node, "num_outputs=" + std::to_string(n) + " disagrees with its split input or outputs");
    return false;
  }
  const int64_t axis = attrInt(node, "axis", 0);
  NodeProto* node_ptr = &node;
  Scope* scope_ptr = &scope;
  deferred_.push_back([this, node_ptr, scope_ptr, n, axis] {
    NodeProto& nd = *node_ptr;
    Scope& sc = *scope_ptr;
    auto shape = sc.shape(nd.input(0));
    const int64_t rank = shape ? static_cast<int64_t>(shape->size()) : 0;
    const int64_t a = axis < 0 ? axis + rank : axis;
    if (!shape || a < 0 || a >= rank || (*shape)[a] < 0) {
      block(sc, nd,
            "num_outputs=" + std::to_string(n) + " splits an axis whose size is not known before run " +
                "time; opset 17 needs equal chunks or explicit sizes");
      return;
    }
    const int64_t size = (*shape)[a];
    if (size % n == 0) {
      note(18, sc, nd, "num_outputs=" + std::to_string(n) + " -> equal split by output count");
      return;
    }
    // Chunks of ceil(size / n), the last one smaller: spell the sizes out.
    const int64_t chunk = (size + n - 1) / n;
    std::vector<int64_t> sizes(n, chunk);
    sizes.back() = size - chunk * (n - 1);
    if (sizes.back() <= 0 || !sc.graph) {
      block(sc, nd,
            "num_outputs=" + std::to_string(n) + " does not divide axis size " + std::to_string(size));
      return;
    }
    const std::string name = nd.output(0) + "__split_sizes";
    *sc.graph->add_initializer() = tensorToProto(name, Tensor::from<int64_t>({n}, sizes));
    if (nd.input_size() < 2)
      nd.add_input(name);
    else
      nd.set_input(1, name);
    note(18, sc, nd, "num_outputs=" + std::to_string(n) + " -> split sizes " + joinInts(sizes));
  });
  return true;
}

// Opset 18 added the optional `axes` input (pads only for those axes); 19 added mode "wrap".
bool DownConverter::adaptPad(Scope& scope, NodeProto& node, int version) {
  if (version >= 19 && attrString(node, "mode", "constant") == "wrap") {
    block(scope, node, "mode 'wrap' (opset 19) has no opset-17 equivalent");
    return false;
  }
  if (!hasInput(node, 3)) return true;
  auto axes = scope.constantInts(node.input(3));
  auto pads = hasInput(node, 1) ? scope.constantInts(node.input(1)) : std::nullopt;
  if (!axes || !pads) {
    block(scope, node,
          "it pads only some axes, with " + std::string(!axes ? "axes" : "pads") +
              " computed at run time; opset 17 needs constant pads for every axis");
    return false;
  }
  if (pads->size() != 2 * axes->size()) {
    block(scope, node, "its pads do not match its axes");
    return false;
  }
  node.mutable_input()->DeleteSubrange(3, node.input_size() - 3);
  NodeProto* node_ptr = &node;
  Scope* scope_ptr = &scope;
  deferred_.push_back([this, node_ptr, scope_ptr, axes = *axes, pads = *pads] {
    NodeProto& nd = *node_ptr;
    Scope& sc = *scope_ptr;
    auto shape = sc.shape(nd.input(0));
    if (!shape || !sc.graph) {
      block(sc, nd, "it pads only some axes of an input whose rank is not known");
      return;
    }
    const int64_t rank = static_cast<int64_t>(shape->size());
    std::vector<int64_t> full(2 * rank, 0);
    for (size_t i = 0; i < axes.size(); ++i) {
      const int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
      if (a < 0 || a >= rank) {
        block(sc, nd,
              "axis " + std::to_string(axes[i]) + " is out of range for rank " + std::to_string(rank));
        return;
      }
      full[a] = pads[i];
      full[a + rank] = pads[i + axes.size()];
    }
    const std::string name = nd.output(0) + "__pads";
    *sc.graph->add_initializer() = tensorToProto(name, Tensor::from<int64_t>({2 * rank}, full));
    nd.set_input(1, name);
    note(18, sc, nd, "pads for axes " + joinInts(axes) + " -> pads for every axis " + joinInts(full));
  });
  return true;
}

// Opset 18 added antialias, axes and keep_aspect_ratio_policy; 19 the half_pixel_symmetric mode.
bool DownConverter::adaptResize(Scope& scope, NodeProto& node, int version) {
  if (attrInt(node, "antialias", 0) != 0) {
    block(scope, node, "antialias=1 (opset 18) has no opset-17 equivalent");
    return false;
  }
  if (findAttr(node, "axes")) {
    block(scope, node, "the axes attribute (opset 18) is not converted; resize every axis instead");
    return false;
  }
  const std::string policy = attrString(node, "keep_aspect_ratio_policy", "stretch");
  if (policy != "stretch" && hasInput(node, 3)) {
    block(scope, node, "keep_aspect_ratio_policy '" + policy + "' (opset 18) has no opset-17 equivalent");
    return false;
  }
  if (version >= 19 && attrString(node, "coordinate_transformation_mode", "") == "half_pixel_symmetric") {
    block(scope, node,
          "coordinate_transformation_mode 'half_pixel_symmetric' (opset 19) has no opset-17 "
          "equivalent");
    return false;
  }
  removeAttr(node, "antialias");
  removeAttr(node, "keep_aspect_ratio_policy");
  return true;
}

bool DownConverter::adaptScatter(Scope& scope, NodeProto& node, int /*version*/) {
  const std::string reduction = attrString(node, "reduction", "none");
  if (reduction == "max" || reduction == "min") {
    block(scope, node, "reduction '" + reduction + "' (opset 18) has no opset-17 equivalent");
    return false;
  }
  return true;
}

// AveragePool-19 added dilations; LpPool-18 added dilations and ceil_mode.
bool DownConverter::adaptPool(Scope& scope, NodeProto& node, int version) {
  if (const auto* d = findAttr(node, "dilations")) {
    const bool all_one = std::all_of(d->ints().begin(), d->ints().end(), [](int64_t v) { return v == 1; });
    const bool new_attr = node.op_type() == "LpPool" || version >= 19;
    if (new_attr) {
      if (!all_one) {
        block(scope, node,
              "dilations " + joinInts({d->ints().begin(), d->ints().end()}) +
                  " have no opset-17 equivalent for " + node.op_type());
        return false;
      }
      removeAttr(node, "dilations");
      note(version >= 19 ? 19 : 18, scope, node, "dilations all 1 -> attribute dropped");
    }
  }
  if (node.op_type() == "LpPool") return dropDefaulted(scope, node, version, {"ceil_mode"});
  return true;
}

// Q/DQ: 19 added float8 and saturate, 21 block quantization (block_size) and output_dtype, 23 precision.
bool DownConverter::adaptQdq(Scope& scope, NodeProto& node, int version) {
  if (const auto* a = findAttr(node, "block_size"); a && a->i() != 0) {
    block(scope, node,
          "block quantization (block_size=" + std::to_string(a->i()) + ", opset 21) has no " +
              "opset-17 equivalent");
    return false;
  }
  removeAttr(node, "block_size");
  removeAttr(node, "saturate");  // only affects float8 outputs, which the type scan refuses
  if (!dropDefaulted(scope, node, version, {"precision"})) return false;
  if (const auto* a = findAttr(node, "output_dtype"); a && a->i() != 0) {
    const int dtype = static_cast<int>(a->i());
    // At 17 the output type follows the zero point (uint8 without one) for Q, and is float for DQ.
    bool implied = false;
    if (node.op_type() == "QuantizeLinear") {
      implied = hasInput(node, 2) ? true : dtype == TensorProto::UINT8;
      if (hasInput(node, 2)) {
        NodeProto* node_ptr = &node;
        Scope* scope_ptr = &scope;
        deferred_.push_back([this, node_ptr, scope_ptr, dtype] {
          const int zp = scope_ptr->elemType(node_ptr->input(2));
          if (zp != 0 && zp != dtype)
            block(*scope_ptr, *node_ptr, "output_dtype differs from its zero point's type");
        });
      }
    } else {
      implied = dtype == TensorProto::FLOAT;
    }
    if (!implied) {
      block(scope, node,
            "output_dtype=" + std::to_string(dtype) + " (opset 21) cannot be expressed at opset 17");
      return false;
    }
    removeAttr(node, "output_dtype");
  }
  return true;
}

// GridSample-20 renamed modes bilinear -> linear, bicubic -> cubic and allowed N-D inputs.
bool DownConverter::adaptGridSample(Scope& scope, NodeProto& node, int version) {
  if (version < 20) return true;
  if (const auto* a = findAttr(node, "mode")) {
    std::string mode = a->s();
    std::string old_mode = mode == "linear" ? "bilinear" : mode == "cubic" ? "bicubic" : mode;
    if (old_mode != mode) {
      removeAttr(node, "mode");
      auto* m = node.add_attribute();
      m->set_name("mode");
      m->set_type(AttributeProto::STRING);
      m->set_s(old_mode);
      note(20, scope, node, "mode '" + mode + "' -> '" + old_mode + "'");
    }
  }
  NodeProto* node_ptr = &node;
  Scope* scope_ptr = &scope;
  type_checks_.push_back([this, node_ptr, scope_ptr] {
    auto shape = scope_ptr->shape(node_ptr->input(0));
    if (shape && shape->size() != 4)
      block(*scope_ptr, *node_ptr,
            "it samples a " + std::to_string(shape->size()) + "-D input; opset 17 only " +
                "samples 4-D inputs");
  });
  return true;
}

// DFT-20 moved `axis` from attribute (default 1) to an optional scalar input (default -2, i.e. the last
// signal axis, counted from the back where the last dimension holds real/imaginary parts).
bool DownConverter::adaptDft(Scope& scope, NodeProto& node) {
  int64_t axis = -2;
  if (hasInput(node, 2)) {
    auto values = scope.constantInts(node.input(2));
    if (!values || values->size() != 1) {
      block(scope, node,
            "its axis comes from '" + node.input(2) +
                "', computed at run time; opset 17 needs a "
                "constant axis attribute");
      return false;
    }
    axis = values->front();
  }
  if (node.input_size() > 2) node.mutable_input()->DeleteSubrange(2, node.input_size() - 2);
  if (axis >= 0) {
    removeAttr(node, "axis");
    auto* a = node.add_attribute();
    a->set_name("axis");
    a->set_type(AttributeProto::INT);
    a->set_i(axis);
    note(20, scope, node, "axis input -> attribute axis=" + std::to_string(axis));
    return true;
  }
  // A negative axis needs the rank: opset 17 only takes axes counted from the front.
  NodeProto* node_ptr = &node;
  Scope* scope_ptr = &scope;
  deferred_.push_back([this, node_ptr, scope_ptr, axis] {
    auto shape = scope_ptr->shape(node_ptr->input(0));
    if (!shape) {
      block(
          *scope_ptr, *node_ptr,
          "axis " + std::to_string(axis) + " counts from the back of an input whose " + "rank is not known");
      return;
    }
    const int64_t a = axis + static_cast<int64_t>(shape->size());
    auto* attr = node_ptr->add_attribute();
    attr->set_name("axis");
    attr->set_type(AttributeProto::INT);
    attr->set_i(a);
    note(20, *scope_ptr, *node_ptr,
         "axis input " + std::to_string(axis) + " -> attribute axis=" + std::to_string(a));
  });
  return true;
}

// Gelu (opset 20) -> the Erf form torch exports below 20: 0.5 * x * (1 + erf(x / sqrt 2));
// approximate='tanh' -> 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))). Constants take x's element
// type once it is inferred.
bool DownConverter::decomposeGelu(Scope& scope, NodeProto& node, int version, std::vector<NodeProto>& out) {
  if (!scope.graph) {
    block(scope, node, "Gelu inside a model function is not decomposed");
    return false;
  }
  const std::string approximate = attrString(node, "approximate", "none");
  if (approximate != "none" && approximate != "tanh") {
    block(scope, node, "approximate='" + approximate + "' is not a Gelu mode");
    return false;
  }
  const std::string x = node.input(0), y = node.output(0);
  const std::string base = node.name().empty() ? y : node.name();
  auto t = [&](const std::string& s) { return y + "__gelu_" + s; };
  std::vector<std::pair<std::string, float>> constants;
  if (approximate == "none") {
    constants = {{t("sqrt2"), static_cast<float>(std::numbers::sqrt2)}, {t("one"), 1.f}, {t("half"), 0.5f}};
    out.push_back(makeNode("Div", base + "/Div", {x, t("sqrt2")}, {t("div")}));
    out.push_back(makeNode("Erf", base + "/Erf", {t("div")}, {t("erf")}));
    out.push_back(makeNode("Add", base + "/Add", {t("erf"), t("one")}, {t("add")}));
    out.push_back(makeNode("Mul", base + "/Mul", {x, t("add")}, {t("mul")}));
    out.push_back(makeNode("Mul", base + "/Mul_1", {t("mul"), t("half")}, {y}));
  } else {
    constants = {{t("coeff"), 0.044715f},
                 {t("sqrt2_over_pi"), static_cast<float>(std::sqrt(2.0 / std::numbers::pi))},
                 {t("one"), 1.f},
                 {t("half"), 0.5f}};
    out.push_back(makeNode("Mul", base + "/Mul", {x, x}, {t("x2")}));
    out.push_back(makeNode("Mul", base + "/Mul_1", {t("x2"), x}, {t("x3")}));
    out.push_back(makeNode("Mul", base + "/Mul_2", {t("x3"), t("coeff")}, {t("cx3")}));
    out.push_back(makeNode("Add", base + "/Add", {x, t("cx3")}, {t("inner")}));
    out.push_back(makeNode("Mul", base + "/Mul_3", {t("inner"), t("sqrt2_over_pi")}, {t("scaled")}));
    out.push_back(makeNode("Tanh", base + "/Tanh", {t("scaled")}, {t("tanh")}));
    out.push_back(makeNode("Add", base + "/Add_1", {t("tanh"), t("one")}, {t("add")}));
    out.push_back(makeNode("Mul", base + "/Mul_4", {x, t("add")}, {t("mul")}));
    out.push_back(makeNode("Mul", base + "/Mul_5", {t("mul"), t("half")}, {y}));
  }
  note(version, scope, node,
       "decomposed into " + std::string(approximate == "none" ? "the Erf form" : "the Tanh form") + " (" +
           std::to_string(out.size()) + " nodes)");
  GraphProto* g = scope.graph;
  for (const auto& [name, value] : constants)
    *g->add_initializer() = scalarConstant(name, value, TensorProto::FLOAT);
  // The constants are float until x's type is known: re-make them in that type (double, float16, bfloat16).
  Scope* scope_ptr = &scope;
  NodeProto described = node;
  deferred_.push_back([this, scope_ptr, described, x, constants] {
    const int type = scope_ptr->elemType(x);
    if (type == TensorProto::FLOAT) return;
    if (type != TensorProto::DOUBLE && type != TensorProto::FLOAT16 && type != TensorProto::BFLOAT16) {
      block(*scope_ptr, described,
            "the element type of its input '" + x + "' is not known or not floating point");
      return;
    }
    for (auto& init : *scope_ptr->graph->mutable_initializer())
      for (const auto& [name, value] : constants)
        if (init.name() == name) init = scalarConstant(name, value, type);
  });
  return true;
}

// Mish (opset 18) = x * tanh(softplus(x)).
bool DownConverter::decomposeMish(Scope& scope, NodeProto& node, int version, std::vector<NodeProto>& out) {
  const std::string x = node.input(0), y = node.output(0);
  const std::string base = node.name().empty() ? y : node.name();
  out.push_back(makeNode("Softplus", base + "/Softplus", {x}, {y + "__mish_softplus"}));
  out.push_back(makeNode("Tanh", base + "/Tanh", {y + "__mish_softplus"}, {y + "__mish_tanh"}));
  out.push_back(makeNode("Mul", base + "/Mul", {x, y + "__mish_tanh"}, {y}));
  note(version, scope, node, "decomposed into Softplus, Tanh, Mul");
  return true;
}

}  // namespace edgetune::opset_internal
