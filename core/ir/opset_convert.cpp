// Opset down-conversion 18..23 -> 17 for Debian's ONNX 1.12.
//
// ONNX 1.12's own version converter only knows opsets up to 17, so the down-adapters here are written from
// the ONNX operator changelog (onnx/defs/operator_sets.h lists which ops got a new version in each opset):
//   1. A structural pass over every graph (main graph, If/Loop/Scan bodies, model functions) adapts each
//      default-domain node whose op changed after 17 from its effective version (the newest one <= the
//      model's opset) to its opset-17 form, or records a blocker. Most bumps only added types (bfloat16,
//      float8, int4, float4): those nodes are relabeled and their types checked in step 3.
//   2. The model is stamped opset 17 and ONNX 1.12 shape inference runs, which gives types and shapes.
//   3. Fix-ups that need shapes run (Split num_outputs, Pad axes, DFT axis, Gelu constant types), and every
//      relabeled node's tensor types are checked against the opset-17 schema (a Sin on bfloat16 refuses).
// Anything that cannot be expressed at 17 refuses with one message: the model's opset, the first blocking
// node, why, and "re-export with opset_version=17".
#include "core/ir/opset_convert.h"

#include <onnx/defs/data_type_utils.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include <google/protobuf/unknown_field_set.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <numbers>
#include <optional>
#include <set>
#include <unordered_map>

#include "core/ir/model.h"
#include "core/util/error.h"

namespace edgetune {
namespace {

// The values of an INT64 or INT32 constant (the caller checked the type).
std::vector<int64_t> integerValues(const onnx::TensorProto& proto) {
  const Tensor v = tensorFromProto(proto);
  std::vector<int64_t> out;
  if (v.type() == DataType::Int64)
    for (auto x : v.values<int64_t>()) out.push_back(x);
  else
    for (auto x : v.values<int32_t>()) out.push_back(x);
  return out;
}

using onnx::AttributeProto;
using onnx::GraphProto;
using onnx::NodeProto;
using onnx::TensorProto;

constexpr int kTarget = static_cast<int>(kNewestReadableOpset);

// Ops with a new default-domain version after 17, and those versions (from ONNX's operator_sets.h, 18..23).
// An op missing here did not change after 17, so its opset-17 schema is the one the model was written
// against.
const std::map<std::string, std::vector<int>>& versionsAfter17() {
  static const std::map<std::string, std::vector<int>> table = [] {
    std::map<std::string, std::vector<int>> t;
    // One space-separated list per opset, as in operator_sets.h.
    auto add = [&](int version, const std::string& ops) {
      size_t pos = 0;
      while (pos < ops.size()) {
        size_t next = ops.find(' ', pos);
        if (next == std::string::npos) next = ops.size();
        if (next > pos) t[ops.substr(pos, next - pos)].push_back(version);
        pos = next + 1;
      }
    };
    add(18,
        "Pad CenterCropPad Resize Mish OptionalGetElement OptionalHasElement Split Col2Im ScatterND "
        "ScatterElements ReduceSumSquare ReduceLogSum ReduceLogSumExp ReduceL1 ReduceL2 ReduceMax ReduceMin "
        "ReduceMean ReduceProd BitwiseAnd BitwiseOr BitwiseXor BitwiseNot GroupNormalization LpPool");
    add(19,
        "Equal AveragePool Cast CastLike Constant DeformConv DequantizeLinear Identity If Loop Pad "
        "QuantizeLinear Resize Reshape Scan Shape Size");
    add(20,
        "AffineGrid ConstantOfShape DFT Gelu GridSample ImageDecoder IsInf IsNaN ReduceMax ReduceMin "
        "RegexFullMatch StringConcat StringSplit");
    add(21,
        "Cast CastLike Constant ConstantOfShape DequantizeLinear Flatten GroupNormalization Identity If Loop "
        "Pad QLinearMatMul QuantizeLinear Reshape Scan Shape Size Squeeze Transpose Unsqueeze");
    add(22,
        "EyeLike RandomUniform RandomNormal RandomUniformLike RandomNormalLike Multinomial Bernoulli "
        "ThresholdedRelu Selu Elu Mish HardSigmoid HardSwish Softsign Softplus Sin Cos Tan Asin Acos Atan "
        "Sinh Cosh Asinh Acosh Atanh Round Det NegativeLogLikelihoodLoss AveragePool MaxPool MaxUnpool "
        "LpPool "
        "MaxRoiPool Conv ConvTranspose DeformConv GlobalAveragePool GlobalMaxPool GlobalLpPool "
        "InstanceNormalization LpNormalization Dropout RoiAlign RNN GRU LSTM GridSample");
    add(23,
        "Cast CastLike Constant ConstantOfShape DequantizeLinear Flatten Identity If Loop Pad QuantizeLinear "
        "Reshape Scan Shape Size Squeeze Transpose Unsqueeze Attention RMSNormalization RotaryEmbedding");
    return t;
  }();
  return table;
}

/// The version of `op` a node binds to at `opset`, if it is newer than 17; 0 when the op did not change.
int changedVersion(const std::string& op, int opset) {
  const auto& table = versionsAfter17();
  auto it = table.find(op);
  if (it == table.end()) return 0;
  int best = 0;
  for (int v : it->second)
    if (v <= opset) best = std::max(best, v);
  return best;
}

bool isDefaultDomain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx";
}

// Tensor element types ONNX 1.12 does not have (codes > BFLOAT16), by their newer-ONNX names.
std::string newTypeName(int code) {
  switch (code) {
    case 17:
      return "float8e4m3fn";
    case 18:
      return "float8e4m3fnuz";
    case 19:
      return "float8e5m2";
    case 20:
      return "float8e5m2fnuz";
    case 21:
      return "uint4";
    case 22:
      return "int4";
    case 23:
      return "float4e2m1";
    case 24:
      return "float8e8m0";
    default:
      return "type code " + std::to_string(code);
  }
}
constexpr int kNewestKnownTypeCode = TensorProto::BFLOAT16;  // 16

const AttributeProto* findAttr(const NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
void removeAttr(NodeProto& node, const std::string& name) {
  auto* attrs = node.mutable_attribute();
  for (int i = 0; i < attrs->size(); ++i)
    if (attrs->Get(i).name() == name) {
      attrs->DeleteSubrange(i, 1);
      return;
    }
}
void setIntsAttr(NodeProto& node, const std::string& name, const std::vector<int64_t>& values) {
  removeAttr(node, name);
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(AttributeProto::INTS);
  for (auto v : values) a->add_ints(v);
}
bool hasInput(const NodeProto& node, int i) {
  return node.input_size() > i && !node.input(i).empty();
}
// Drops trailing empty (omitted optional) inputs so the node matches a schema with fewer inputs.
void trimInputs(NodeProto& node) {
  while (node.input_size() > 0 && node.input(node.input_size() - 1).empty())
    node.mutable_input()->RemoveLast();
}
std::string joinInts(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

// Float constant for a decomposition, stored in the element type of the tensor it combines with.
TensorProto scalarConstant(const std::string& name, float value, int elem_type) {
  TensorProto t;
  t.set_name(name);
  t.set_data_type(elem_type);
  if (elem_type == TensorProto::DOUBLE) {
    double d = value;
    t.set_raw_data(std::string(reinterpret_cast<const char*>(&d), sizeof d));
  } else if (elem_type == TensorProto::FLOAT16 || elem_type == TensorProto::BFLOAT16) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    uint16_t half;
    if (elem_type == TensorProto::BFLOAT16) {
      half = static_cast<uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);  // round to nearest even
    } else {
      // The constants used here (0.5, 1, sqrt 2, ...) are normal half values: rebias the exponent, round.
      const uint32_t sign = (bits >> 16) & 0x8000;
      const int exponent = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
      uint32_t mantissa = bits & 0x7fffff;
      uint32_t h = sign | (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
      if ((mantissa & 0x1fff) > 0x1000 || ((mantissa & 0x1fff) == 0x1000 && (h & 1))) ++h;
      half = static_cast<uint16_t>(h);
    }
    t.set_raw_data(std::string(reinterpret_cast<const char*>(&half), sizeof half));
  } else {
    t.set_raw_data(std::string(reinterpret_cast<const char*>(&value), sizeof value));
  }
  return t;
}

NodeProto makeNode(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                   std::vector<std::string> outputs) {
  NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (auto& i : inputs) n.add_input(i);
  for (auto& o : outputs) n.add_output(o);
  return n;
}

/// Names visible in one graph: constants (initializers that are not graph inputs, Constant nodes) and, after
/// shape inference, types. Subgraphs see their parents' names too.
struct Scope {
  const Scope* parent = nullptr;
  GraphProto* graph = nullptr;  // null for a model function body
  std::string where;            // "" for the main graph, " (in the body of Loop 'l')" etc.
  std::unordered_map<std::string, const TensorProto*> initializers;
  std::unordered_map<std::string, std::vector<int64_t>> constant_ints;  // Constant nodes' int values
  std::unordered_map<std::string, const onnx::TypeProto*> types;
  std::unordered_map<std::string, onnx::TypeProto> initializer_types;

  /// The int64/int32 values of a constant tensor, or nullopt when `name` is computed at run time.
  std::optional<std::vector<int64_t>> constantInts(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent) {
      if (auto it = s->constant_ints.find(name); it != s->constant_ints.end()) return it->second;
      if (auto it = s->initializers.find(name); it != s->initializers.end()) {
        const auto& t = *it->second;
        if (t.data_type() != TensorProto::INT64 && t.data_type() != TensorProto::INT32) return std::nullopt;
        return integerValues(t);
      }
    }
    return std::nullopt;
  }
  const onnx::TypeProto* type(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent) {
      if (auto it = s->types.find(name); it != s->types.end()) return it->second;
      if (auto it = s->initializer_types.find(name); it != s->initializer_types.end()) return &it->second;
    }
    return nullptr;
  }
  /// Element type of a tensor, 0 when unknown.
  int elemType(const std::string& name) const {
    const auto* t = type(name);
    return t && t->has_tensor_type() ? t->tensor_type().elem_type() : 0;
  }
  /// Shape of a tensor (-1 for unknown dimensions), nullopt when even the rank is unknown.
  std::optional<std::vector<int64_t>> shape(const std::string& name) const {
    const auto* t = type(name);
    if (!t || !t->has_tensor_type() || !t->tensor_type().has_shape()) return std::nullopt;
    std::vector<int64_t> dims;
    for (const auto& d : t->tensor_type().shape().dim())
      dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    return dims;
  }
};

void collectConstants(Scope& scope, const GraphProto& g) {
  std::set<std::string> graph_inputs;
  for (const auto& in : g.input()) graph_inputs.insert(in.name());
  // An initializer that is also a graph input is only a default the caller may override: not a constant.
  for (const auto& init : g.initializer())
    if (!graph_inputs.count(init.name())) scope.initializers[init.name()] = &init;
  for (const auto& n : g.node()) {
    if (n.op_type() != "Constant" || !isDefaultDomain(n.domain()) || n.output_size() != 1) continue;
    if (const auto* a = findAttr(n, "value_ints")) {
      scope.constant_ints[n.output(0)] = {a->ints().begin(), a->ints().end()};
    } else if (const auto* a = findAttr(n, "value_int")) {
      scope.constant_ints[n.output(0)] = {a->i()};
    } else if (const auto* a = findAttr(n, "value"); a && a->has_t()) {
      const auto& t = a->t();
      if (t.data_type() != TensorProto::INT64 && t.data_type() != TensorProto::INT32) continue;
      scope.constant_ints[n.output(0)] = integerValues(t);
    }
  }
}

void collectTypes(Scope& scope, const GraphProto& g) {
  for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
    for (const auto& vi : *list)
      if (vi.has_type()) scope.types[vi.name()] = &vi.type();
  for (const auto& init : g.initializer()) {
    onnx::TypeProto t;
    t.mutable_tensor_type()->set_elem_type(init.data_type());
    auto* shape = t.mutable_tensor_type()->mutable_shape();
    for (auto d : init.dims()) shape->add_dim()->set_dim_value(d);
    scope.initializer_types[init.name()] = std::move(t);
  }
}

struct Blocker {
  std::string node;    // "ReduceMean 'r'"
  std::string reason;  // "takes its axes from ..."
};

class Converter {
 public:
  Converter(onnx::ModelProto& model, int from) : model_(model), from_(from) {}

  void run() {
    Scope& main = newScope(nullptr, model_.mutable_graph(), "");
    convertGraph(main, *model_.mutable_graph(), from_);
    for (auto& f : *model_.mutable_functions()) convertFunction(f);
    if (!blockers_.empty()) return;

    // Stamp opset 17 and let ONNX 1.12 infer types and shapes for the fix-ups and the type check.
    for (auto& op : *model_.mutable_opset_import())
      if (op.domain().empty()) op.set_version(kTarget);
    try {
      model_.mutable_graph()->clear_value_info();
      onnx::ShapeInferenceOptions options(/*check_type=*/false, /*error_mode=*/0, /*data_prop=*/true);
      onnx::shape_inference::InferShapes(model_, onnx::OpSchemaRegistry::Instance(), options);
    } catch (const std::exception&) {
      // Inference is advisory here: without it, fix-ups that need a shape refuse clearly; the loader reruns
      // it.
    }
    for (auto& scope : scopes_)
      if (scope.graph) collectTypes(scope, *scope.graph);
    for (auto& fix : deferred_) fix();
    for (auto& check : type_checks_) check();
  }

  const std::vector<Blocker>& blockers() const { return blockers_; }
  std::vector<std::string>& lines() { return lines_; }
  const std::map<std::string, int>& relabeled() const { return relabeled_; }

 private:
  Scope& newScope(const Scope* parent, GraphProto* g, std::string where) {
    Scope& s = scopes_.emplace_back();
    s.parent = parent;
    s.graph = g;
    s.where = std::move(where);
    if (g) collectConstants(s, *g);
    return s;
  }

  void block(const Scope& scope, const NodeProto& node, std::string reason) {
    blockers_.push_back({describeNode(node) + scope.where, std::move(reason)});
  }
  void note(int version, const Scope& scope, const NodeProto& node, const std::string& what) {
    lines_.push_back("opset " + std::to_string(version) + " -> " + std::to_string(kTarget) + ": " +
                     describeNode(node) + scope.where + ": " + what);
  }

  void convertFunction(onnx::FunctionProto& f) {
    int version = 0;
    for (auto& op : *f.mutable_opset_import())
      if (isDefaultDomain(op.domain())) {
        op.set_domain("");
        version = static_cast<int>(op.version());
      }
    if (version <= kTarget) return;
    if (version > kNewestConvertibleOpset) {
      blockers_.push_back(
          {"model function '" + f.name() + "'",
           "it imports opset " + std::to_string(version) + ", newer than this converter knows"});
      return;
    }
    Scope& scope = newScope(nullptr, nullptr, " (in model function '" + f.name() + "')");
    // Function bodies have no initializers; their Constant nodes are constants.
    GraphProto as_graph;
    *as_graph.mutable_node() = f.node();
    collectConstants(scope, as_graph);
    convertNodes(scope, *f.mutable_node(), version);
    for (auto& op : *f.mutable_opset_import())
      if (op.domain().empty()) op.set_version(kTarget);
  }

  void convertGraph(Scope& scope, GraphProto& g, int opset) { convertNodes(scope, *g.mutable_node(), opset); }

  void convertNodes(Scope& scope, google::protobuf::RepeatedPtrField<NodeProto>& nodes, int opset) {
    std::map<int, std::vector<NodeProto>> replacements;
    for (int i = 0; i < nodes.size(); ++i) {
      NodeProto& node = nodes[i];
      if (node.domain() == "ai.onnx") node.set_domain("");
      // Subgraphs bind to the model's opset imports too.
      for (auto& attr : *node.mutable_attribute()) {
        if (attr.has_g()) {
          Scope& sub =
              newScope(&scope, attr.mutable_g(),
                       " (in the '" + attr.name() + "' body of " + describeNode(node) + scope.where + ")");
          convertGraph(sub, *attr.mutable_g(), opset);
        }
        for (auto& g : *attr.mutable_graphs()) {
          Scope& sub = newScope(
              &scope, &g, " (in a '" + attr.name() + "' body of " + describeNode(node) + scope.where + ")");
          convertGraph(sub, g, opset);
        }
      }
      if (!node.domain().empty()) continue;
      const int version = changedVersion(node.op_type(), opset);
      if (version == 0) continue;
      std::vector<NodeProto> replacement;
      if (adapt(scope, node, version, replacement) && !replacement.empty())
        replacements[i] = std::move(replacement);
    }
    if (replacements.empty()) return;
    // Splice the decompositions in place, keeping the other node objects (deferred fix-ups point at them).
    std::vector<NodeProto*> released;
    while (!nodes.empty()) released.push_back(nodes.ReleaseLast());
    std::reverse(released.begin(), released.end());
    for (int i = 0; i < static_cast<int>(released.size()); ++i) {
      if (auto it = replacements.find(i); it != replacements.end()) {
        for (auto& r : it->second) *nodes.Add() = std::move(r);
        delete released[i];
      } else {
        nodes.AddAllocated(released[i]);
      }
    }
  }

  // Adapts one node from `version` (> 17) to its opset-17 form. Returns false when it blocks. A decomposition
  // fills `replacement` with the nodes that take its place.
  bool adapt(Scope& scope, NodeProto& node, int version, std::vector<NodeProto>& replacement) {
    const std::string& op = node.op_type();
    const onnx::OpSchema* schema17 = onnx::OpSchemaRegistry::Schema(op, kTarget, "");

    if (op == "Gelu") return decomposeGelu(scope, node, version, replacement);
    if (op == "Mish") return decomposeMish(scope, node, version, replacement);
    if (!schema17) {
      block(scope, node,
            op + " is new in opset " + std::to_string(versionsAfter17().at(op).front()) +
                " and opset 17 has no " + "equivalent this converter can build");
      return false;
    }

    const size_t lines_before = lines_.size(), deferred_before = deferred_.size();
    bool ok = true;
    if (op.rfind("Reduce", 0) == 0)
      ok = adaptReduce(scope, node, version);
    else if (op == "Split")
      ok = adaptSplit(scope, node, version);
    else if (op == "Pad")
      ok = adaptPad(scope, node, version);
    else if (op == "Resize")
      ok = adaptResize(scope, node, version);
    else if (op == "ScatterElements" || op == "ScatterND")
      ok = adaptScatter(scope, node, version);
    else if (op == "AveragePool" || op == "LpPool")
      ok = adaptPool(scope, node, version);
    else if (op == "Cast" || op == "CastLike")
      ok = dropDefaulted(scope, node, version, {"saturate"}, true);
    else if (op == "QuantizeLinear" || op == "DequantizeLinear")
      ok = adaptQdq(scope, node, version);
    else if (op == "GridSample")
      ok = adaptGridSample(scope, node, version);
    else if (op == "DFT")
      ok = adaptDft(scope, node);
    if (!ok) return false;

    // Safety net: nothing newer than the opset-17 schema may survive (an attribute or input added later).
    for (const auto& a : node.attribute())
      if (!schema17->attributes().count(a.name())) {
        block(scope, node,
              "attribute '" + a.name() + "' (opset " + std::to_string(version) +
                  ") has no opset-17 equivalent");
        return false;
      }
    trimInputs(node);
    if (node.input_size() > schema17->max_input()) {
      block(scope, node,
            "it has " + std::to_string(node.input_size()) + " inputs; opset 17 allows " +
                std::to_string(schema17->max_input()));
      return false;
    }
    // Nodes that needed no rewrite are summarized in one line rather than one line each.
    if (lines_.size() == lines_before && deferred_.size() == deferred_before) ++relabeled_[op];
    // Only tensor types were added to most of these ops since 17: check them once types are inferred.
    NodeProto* node_ptr = &node;
    const Scope* scope_ptr = &scope;
    type_checks_.push_back([this, node_ptr, scope_ptr, schema17, version] {
      checkTypes(*scope_ptr, *node_ptr, *schema17, version);
    });
    return true;
  }

  void checkTypes(const Scope& scope, const NodeProto& node, const onnx::OpSchema& schema, int version) {
    if (!scope.graph) return;  // function bodies carry no types
    auto check = [&](const std::string& name, const std::vector<onnx::OpSchema::FormalParameter>& params,
                     int i, const char* kind) {
      if (name.empty() || params.empty()) return true;
      const auto& param = params[std::min<size_t>(i, params.size() - 1)];
      const auto* type = scope.type(name);
      if (!type || !type->has_tensor_type() || type->tensor_type().elem_type() == 0) return true;
      const int code = type->tensor_type().elem_type();
      if (code > kNewestKnownTypeCode) return true;  // refused by the type scan before conversion
      const auto* type_str = onnx::Utils::DataTypeUtils::ToType(*type);
      if (param.GetTypes().count(type_str)) return true;
      block(scope, node,
            std::string(kind) + " '" + name + "' is " + *type_str + ", which " + node.op_type() +
                " accepts only since opset " + std::to_string(version));
      return false;
    };
    for (int i = 0; i < node.input_size(); ++i)
      if (!check(node.input(i), schema.inputs(), i, "input")) return;
    for (int i = 0; i < node.output_size(); ++i)
      if (!check(node.output(i), schema.outputs(), i, "output")) return;
  }

  // Removes attributes added after 17 when they hold their default (or, with `any_value`, always: Cast's
  // saturate only affects float8 targets, which the type scan refuses).
  bool dropDefaulted(Scope& scope, NodeProto& node, int version, std::initializer_list<const char*> names,
                     bool any_value = false) {
    for (const char* name : names) {
      const auto* a = findAttr(node, name);
      if (!a) continue;
      if (!any_value && a->i() != 0) {
        block(scope, node,
              std::string(name) + "=" + std::to_string(a->i()) + " (opset " + std::to_string(version) +
                  ") has no opset-17 equivalent");
        return false;
      }
      removeAttr(node, name);
    }
    return true;
  }

  // Opset 18 moved `axes` from attribute to optional input and added noop_with_empty_axes.
  bool adaptReduce(Scope& scope, NodeProto& node, int version) {
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
      static const std::set<std::string> identity_ops = {"ReduceMean", "ReduceMax", "ReduceMin",
                                                         "ReduceProd"};
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
  bool adaptSplit(Scope& scope, NodeProto& node, int /*version*/) {
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
  bool adaptPad(Scope& scope, NodeProto& node, int version) {
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
  bool adaptResize(Scope& scope, NodeProto& node, int version) {
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

  bool adaptScatter(Scope& scope, NodeProto& node, int /*version*/) {
    const std::string reduction = attrString(node, "reduction", "none");
    if (reduction == "max" || reduction == "min") {
      block(scope, node, "reduction '" + reduction + "' (opset 18) has no opset-17 equivalent");
      return false;
    }
    return true;
  }

  // AveragePool-19 added dilations; LpPool-18 added dilations and ceil_mode.
  bool adaptPool(Scope& scope, NodeProto& node, int version) {
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
  bool adaptQdq(Scope& scope, NodeProto& node, int version) {
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
  bool adaptGridSample(Scope& scope, NodeProto& node, int version) {
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
  bool adaptDft(Scope& scope, NodeProto& node) {
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
        block(*scope_ptr, *node_ptr,
              "axis " + std::to_string(axis) + " counts from the back of an input whose " +
                  "rank is not known");
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
  bool decomposeGelu(Scope& scope, NodeProto& node, int version, std::vector<NodeProto>& out) {
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
  bool decomposeMish(Scope& scope, NodeProto& node, int version, std::vector<NodeProto>& out) {
    const std::string x = node.input(0), y = node.output(0);
    const std::string base = node.name().empty() ? y : node.name();
    out.push_back(makeNode("Softplus", base + "/Softplus", {x}, {y + "__mish_softplus"}));
    out.push_back(makeNode("Tanh", base + "/Tanh", {y + "__mish_softplus"}, {y + "__mish_tanh"}));
    out.push_back(makeNode("Mul", base + "/Mul", {x, y + "__mish_tanh"}, {y}));
    note(version, scope, node, "decomposed into Softplus, Tanh, Mul");
    return true;
  }

  onnx::ModelProto& model_;
  int from_;
  std::deque<Scope> scopes_;  // deque: scopes keep their addresses while more are added
  std::vector<std::function<void()>> deferred_;
  std::vector<std::function<void()>> type_checks_;
  std::vector<Blocker> blockers_;
  std::vector<std::string> lines_;
  std::map<std::string, int> relabeled_;
};

// --- element types ONNX 1.12 does not know (float8 at IR 9, int4/uint4 at IR 10, float4 at IR 11) ---

std::optional<int> newTypeIn(const onnx::TypeProto& t) {
  if (t.has_tensor_type() && t.tensor_type().elem_type() > kNewestKnownTypeCode)
    return t.tensor_type().elem_type();
  if (t.has_sparse_tensor_type() && t.sparse_tensor_type().elem_type() > kNewestKnownTypeCode)
    return t.sparse_tensor_type().elem_type();
  if (t.has_sequence_type() && t.sequence_type().has_elem_type())
    return newTypeIn(t.sequence_type().elem_type());
  if (t.has_optional_type() && t.optional_type().has_elem_type())
    return newTypeIn(t.optional_type().elem_type());
  if (t.has_map_type() && t.map_type().has_value_type()) return newTypeIn(t.map_type().value_type());
  return std::nullopt;
}

// Returns "Cast 'c': ..." for the first node (or graph value) that uses a type ONNX 1.12 does not have.
std::optional<Blocker> findNewType(const GraphProto& g, const std::string& where) {
  std::unordered_map<std::string, int> value_types;
  for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
    for (const auto& vi : *list)
      if (auto code = newTypeIn(vi.type())) value_types[vi.name()] = *code;
  for (const auto& init : g.initializer())
    if (init.data_type() > kNewestKnownTypeCode) value_types[init.name()] = init.data_type();
  for (const auto& node : g.node()) {
    for (const auto& a : node.attribute()) {
      if ((a.name() == "to" || a.name() == "dtype" || a.name() == "output_dtype") &&
          a.i() > kNewestKnownTypeCode)
        return Blocker{describeNode(node) + where, "attribute " + a.name() + "=" +
                                                       newTypeName(static_cast<int>(a.i())) +
                                                       " names a type opset 17 does not have"};
      if (a.has_t() && a.t().data_type() > kNewestKnownTypeCode)
        return Blocker{describeNode(node) + where, "its '" + a.name() + "' tensor is " +
                                                       newTypeName(a.t().data_type()) +
                                                       ", a type opset 17 does not have"};
      if (a.has_g())
        if (auto b =
                findNewType(a.g(), " (in the '" + a.name() + "' body of " + describeNode(node) + where + ")"))
          return b;
      for (const auto& sub : a.graphs())
        if (auto b =
                findNewType(sub, " (in a '" + a.name() + "' body of " + describeNode(node) + where + ")"))
          return b;
    }
    for (const auto* names : {&node.input(), &node.output()})
      for (const auto& name : *names)
        if (auto it = value_types.find(name); it != value_types.end())
          return Blocker{describeNode(node) + where, "tensor '" + name + "' is " + newTypeName(it->second) +
                                                         ", a type opset 17 does not have"};
  }
  for (const auto& [name, code] : value_types)
    return Blocker{"graph value '" + name + "'" + where,
                   "it is " + newTypeName(code) + ", a type opset 17 does not have"};
  return std::nullopt;
}

// --- IR version: fields ONNX 1.12's protobuf does not know arrive as unknown fields ---

struct UnknownField {
  std::string message;  // "onnx.NodeProto"
  int number = 0;
};

void collectUnknownFields(google::protobuf::Message& msg, std::vector<UnknownField>& out, bool strip_harmless,
                          std::vector<std::string>& stripped) {
  const auto* reflection = msg.GetReflection();
  auto* unknown = reflection->MutableUnknownFields(&msg);
  const std::string type = msg.GetDescriptor()->full_name();
  // Fields newer IR versions added that only annotate (metadata_props on nodes, graphs, values and tensors;
  // value types inside functions; device placement): dropping them leaves the computation as it was.
  auto harmless = [&](int number) {
    if (type == "onnx.NodeProto") return number == 9 || number == 10;
    if (type == "onnx.FunctionProto") return number == 12 || number == 14;
    if (type == "onnx.GraphProto" || type == "onnx.TensorProto") return number == 16;
    if (type == "onnx.ValueInfoProto") return number == 4;
    if (type == "onnx.ModelProto") return number == 26;
    return false;
  };
  for (int i = unknown->field_count() - 1; i >= 0; --i) {
    const int number = unknown->field(i).number();
    if (strip_harmless && harmless(number)) {
      stripped.push_back(type + " field " + std::to_string(number));
      unknown->DeleteSubrange(i, 1);
    } else {
      out.push_back({type, number});
    }
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(msg, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(msg, f); ++i)
        collectUnknownFields(*reflection->MutableRepeatedMessage(&msg, f, i), out, strip_harmless, stripped);
    } else {
      collectUnknownFields(*reflection->MutableMessage(&msg, f), out, strip_harmless, stripped);
    }
  }
}

// FunctionProto.attribute_proto (field 11, IR 9) holds attribute defaults, which ONNX 1.12 cannot read: write
// each default into every call that omits the attribute and declare the name the IR-8 way
// (FunctionProto.attribute). Returns the number of attributes written into calls.
int writeFunctionAttributeDefaults(onnx::ModelProto& model) {
  constexpr int kAttributeProtoField = 11;
  int written = 0;
  for (auto& f : *model.mutable_functions()) {
    auto* unknown = f.GetReflection()->MutableUnknownFields(&f);
    std::vector<AttributeProto> defaults;
    for (int i = unknown->field_count() - 1; i >= 0; --i) {
      const auto& field = unknown->field(i);
      if (field.number() != kAttributeProtoField ||
          field.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED)
        continue;
      AttributeProto a;
      if (!a.ParseFromString(field.length_delimited())) continue;  // left for the unknown-field refusal
      defaults.push_back(std::move(a));
      unknown->DeleteSubrange(i, 1);
    }
    if (defaults.empty()) continue;
    std::function<void(GraphProto&)> visit_graph;
    auto visit_nodes = [&](google::protobuf::RepeatedPtrField<NodeProto>& nodes) {
      for (auto& node : nodes) {
        for (auto& attr : *node.mutable_attribute()) {
          if (attr.has_g()) visit_graph(*attr.mutable_g());
          for (auto& g : *attr.mutable_graphs()) visit_graph(g);
        }
        if (node.op_type() != f.name() || node.domain() != f.domain()) continue;
        for (const auto& d : defaults)
          if (!findAttr(node, d.name())) {
            *node.add_attribute() = d;
            ++written;
          }
      }
    };
    visit_graph = [&](GraphProto& g) { visit_nodes(*g.mutable_node()); };
    visit_graph(*model.mutable_graph());
    for (auto& other : *model.mutable_functions()) visit_nodes(*other.mutable_node());
    for (const auto& d : defaults) f.add_attribute(d.name());
  }
  return written;
}

std::string describeUnknownField(const UnknownField& f) {
  if (f.message == "onnx.NodeProto" && f.number == 8) return "a node calls a function overload (IR 10)";
  if (f.message == "onnx.FunctionProto" && f.number == 13) return "a model function is an overload (IR 10)";
  if (f.message == "onnx.FunctionProto" && f.number == 11)
    return "a model function declares attribute defaults (attribute_proto, IR 9)";
  return "field " + std::to_string(f.number) + " of " + f.message + " is newer than ONNX 1.12";
}

std::string reexportAdvice(int64_t opset) {
  return "re-export the model with opset_version=" + std::to_string(std::clamp<int64_t>(opset, 7, 17)) +
         " (torch.onnx.export(..., opset_version=17), tf2onnx --opset 17)";
}

}  // namespace

OpsetConversion convertToReadableOpset(onnx::ModelProto& model, const std::string& origin) {
  OpsetConversion result;
  result.ir_from = result.ir_to = model.ir_version();

  // "ai.onnx" and "" both name the default domain; ONNX 1.12 and our passes look for "".
  bool renamed_domain = false;
  for (auto& op : *model.mutable_opset_import())
    if (op.domain() == "ai.onnx") {
      op.set_domain("");
      renamed_domain = true;
    }
  int64_t opset = 0;
  int default_imports = 0;
  for (const auto& op : model.opset_import())
    if (op.domain().empty()) {
      opset = op.version();
      ++default_imports;
    }
  if (default_imports > 1)
    throw Error(origin + ": the model imports the default ONNX domain twice (as \"\" and \"ai.onnx\")");
  result.from = result.to = opset;
  if (renamed_domain) result.lines.push_back("domain 'ai.onnx' -> '' (both name the default ONNX domain)");

  auto refuse = [&](const std::string& what, const std::string& why, size_t more = 0) {
    std::string msg =
        origin + ": ONNX opset " + std::to_string(opset) + " (IR version " + std::to_string(result.ir_from) +
        ") cannot be converted to what ONNX 1.12 reads (opset " + std::to_string(kOldestReadableOpset) +
        ".." + std::to_string(kNewestReadableOpset) + "): " + what + ": " + why;
    if (more) msg += " (and " + std::to_string(more) + " more blocking node" + (more > 1 ? "s" : "") + ")";
    throw Error(msg + "; " + reexportAdvice(opset));
  };

  if (opset > kNewestConvertibleOpset)
    refuse("the model", "opset " + std::to_string(opset) +
                            " is newer than this converter knows (opset changes up to " +
                            std::to_string(kNewestConvertibleOpset) + ")");

  // IR version: ONNX 1.12's checker refuses anything newer than IR 8. Lower it when the file uses nothing
  // newer. Newer writers (e.g. torch's dynamo exporter) may use IR 9+ fields while stamping an older IR, so a
  // converted file is scanned too.
  if (model.ir_version() > kNewestReadableIrVersion || opset > kNewestReadableOpset) {
    const int defaults = writeFunctionAttributeDefaults(model);
    if (defaults)
      result.lines.push_back("IR 9 attribute defaults of model functions written into " +
                             std::to_string(defaults) + " call(s)");
    std::vector<UnknownField> unknown;
    std::vector<std::string> stripped;
    collectUnknownFields(model, unknown, /*strip_harmless=*/true, stripped);
    if (!unknown.empty())
      refuse("IR version " + std::to_string(model.ir_version()), describeUnknownField(unknown.front()));
    if (!stripped.empty())
      result.lines.push_back("IR 9+ annotations dropped (" + std::to_string(stripped.size()) + "x, e.g. " +
                             stripped.front() + ": metadata or value types ONNX 1.12 cannot read)");
  }
  if (opset > kNewestReadableOpset || model.ir_version() > kNewestReadableIrVersion) {
    if (auto b = findNewType(model.graph(), "")) refuse(b->node, b->reason);
    for (const auto& f : model.functions())
      for (const auto& node : f.node())
        for (const auto& a : node.attribute())
          if ((a.name() == "to" || a.name() == "dtype") && a.i() > kNewestKnownTypeCode)
            refuse(describeNode(node) + " (in model function '" + f.name() + "')",
                   "attribute " + a.name() + "=" + newTypeName(static_cast<int>(a.i())) +
                       " names a type opset 17 does not have");
  }
  if (model.ir_version() > kNewestReadableIrVersion) {
    result.lines.push_back("IR version " + std::to_string(model.ir_version()) + " -> " +
                           std::to_string(kNewestReadableIrVersion) +
                           " (the file uses no IR 9+ feature: no float8/int4 types, function overloads or "
                           "attribute defaults)");
    model.set_ir_version(kNewestReadableIrVersion);
    result.ir_to = kNewestReadableIrVersion;
  }

  if (opset > kNewestReadableOpset) {
    Converter converter(model, static_cast<int>(opset));
    converter.run();
    const auto& blockers = converter.blockers();
    if (!blockers.empty()) refuse(blockers.front().node, blockers.front().reason, blockers.size() - 1);
    for (auto& line : converter.lines()) result.lines.push_back(std::move(line));
    if (!converter.relabeled().empty()) {
      // Ops that only gained types or attributes left at their defaults: one summary line, not one per node.
      std::string ops;
      int total = 0;
      for (const auto& [op, count] : converter.relabeled()) {
        ops += (ops.empty() ? "" : ", ") + op + " x" + std::to_string(count);
        total += count;
      }
      result.lines.push_back("opset " + std::to_string(opset) + " -> 17: " + std::to_string(total) +
                             " node(s) relabeled, their changes since 17 unused (" + ops + ")");
    }
    result.lines.push_back("opset " + std::to_string(opset) + " -> " + std::to_string(kNewestReadableOpset));
    result.to = kNewestReadableOpset;
  } else if (opset > 0 && opset < kOldestReadableOpset) {
    // Old models: ONNX 1.12's own version converter knows the upgrade adapters (e.g. broadcasting at 7).
    try {
      model = onnx::version_conversion::ConvertVersion(model, static_cast<int>(kOldestReadableOpset));
    } catch (const std::exception& e) {
      std::string why = e.what();
      if (auto pos = why.find('\n'); pos != std::string::npos) why.resize(pos);
      throw Error(origin + ": ONNX opset " + std::to_string(opset) +
                  " is older than EdgeTune reads (7..17) and " +
                  "ONNX's version converter could not upgrade it: " + why +
                  "; re-export the model with opset_version=17");
    }
    result.lines.push_back("opset " + std::to_string(opset) + " -> " + std::to_string(kOldestReadableOpset) +
                           " (ONNX 1.12 version converter)");
    result.to = kOldestReadableOpset;
  }
  return result;
}

}  // namespace edgetune
