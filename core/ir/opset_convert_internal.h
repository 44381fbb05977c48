#pragma once
// Internal to the opset conversion (core/ir/opset_convert*.cpp, opset_down_*.cpp, opset_ir_version.cpp): the
// ops that changed after opset 17, small node helpers, the scopes the down-converter resolves constants and
// types in, and the down-converter itself. Not a public API: include only from those files.
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include <google/protobuf/message.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ir/opset_convert.h"

namespace edgetune::opset_internal {

using onnx::AttributeProto;
using onnx::GraphProto;
using onnx::NodeProto;
using onnx::TensorProto;

constexpr int kTarget = static_cast<int>(kNewestReadableOpset);
constexpr int kNewestKnownTypeCode = TensorProto::BFLOAT16;  // 16

// --- ops and types (opset_convert_helpers.cpp) ---

/// The values of an INT64 or INT32 constant (the caller checked the type).
std::vector<int64_t> integerValues(const onnx::TensorProto& proto);
/// Ops with a new default-domain version after 17, and those versions (ONNX's operator_sets.h, 18..23).
const std::map<std::string, std::vector<int>>& versionsAfter17();
/// The version of `op` a node binds to at `opset`, if it is newer than 17; 0 when the op did not change.
int changedVersion(const std::string& op, int opset);
bool isDefaultDomain(const std::string& domain);
/// Tensor element types ONNX 1.12 does not have (codes > BFLOAT16), by their newer-ONNX names.
std::string newTypeName(int code);

// --- node helpers (opset_convert_helpers.cpp) ---

const AttributeProto* findAttr(const NodeProto& node, const std::string& name);
void removeAttr(NodeProto& node, const std::string& name);
void setIntsAttr(NodeProto& node, const std::string& name, const std::vector<int64_t>& values);
bool hasInput(const NodeProto& node, int i);
/// Drops trailing empty (omitted optional) inputs so the node matches a schema with fewer inputs.
void trimInputs(NodeProto& node);
std::string joinInts(const std::vector<int64_t>& v);
/// Float constant for a decomposition, stored in the element type of the tensor it combines with.
TensorProto scalarConstant(const std::string& name, float value, int elem_type);
NodeProto makeNode(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                   std::vector<std::string> outputs);

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
/// Fills the scope's constants: initializers that are not graph inputs, and Constant nodes' int values.
void collectConstants(Scope& scope, const GraphProto& g);
/// Fills the scope's types from the graph's value infos and initializers (after shape inference).
void collectTypes(Scope& scope, const GraphProto& g);

/// Why a node cannot be converted: it names the node (with its scope) and the reason.
struct Blocker {
  std::string node;    // "ReduceMean 'r'"
  std::string reason;  // "takes its axes from ..."
};

/// Converts every default-domain node of a model whose op changed after opset 17 to its opset-17 form (the
/// algorithm: opset_convert.cpp's header comment). Blockers are collected, not thrown.
class DownConverter {
 public:
  DownConverter(onnx::ModelProto& model, int from) : model_(model), from_(from) {}
  void run();
  const std::vector<Blocker>& blockers() const { return blockers_; }
  std::vector<std::string>& lines() { return lines_; }
  const std::map<std::string, int>& relabeled() const { return relabeled_; }

 private:
  // The walk (opset_down_converter.cpp).
  Scope& newScope(const Scope* parent, GraphProto* g, std::string where);
  void block(const Scope& scope, const NodeProto& node, std::string reason);
  void note(int version, const Scope& scope, const NodeProto& node, const std::string& what);
  void convertFunction(onnx::FunctionProto& f);
  void convertGraph(Scope& scope, GraphProto& g, int opset) { convertNodes(scope, *g.mutable_node(), opset); }
  void convertNodes(Scope& scope, google::protobuf::RepeatedPtrField<NodeProto>& nodes, int opset);
  bool adapt(Scope& scope, NodeProto& node, int version, std::vector<NodeProto>& replacement);
  void checkTypes(const Scope& scope, const NodeProto& node, const onnx::OpSchema& schema, int version);
  bool dropDefaulted(Scope& scope, NodeProto& node, int version, std::initializer_list<const char*> names,
                     bool any_value = false);

  // One adapter per op family (opset_down_adapters.cpp); each returns false when it blocks.
  bool adaptReduce(Scope& scope, NodeProto& node, int version);
  bool adaptSplit(Scope& scope, NodeProto& node, int /*version*/);
  bool adaptPad(Scope& scope, NodeProto& node, int version);
  bool adaptResize(Scope& scope, NodeProto& node, int version);
  bool adaptScatter(Scope& scope, NodeProto& node, int /*version*/);
  bool adaptPool(Scope& scope, NodeProto& node, int version);
  bool adaptQdq(Scope& scope, NodeProto& node, int version);
  bool adaptGridSample(Scope& scope, NodeProto& node, int version);
  bool adaptDft(Scope& scope, NodeProto& node);
  bool decomposeGelu(Scope& scope, NodeProto& node, int version, std::vector<NodeProto>& out);
  bool decomposeMish(Scope& scope, NodeProto& node, int version, std::vector<NodeProto>& out);

  onnx::ModelProto& model_;
  int from_;
  std::deque<Scope> scopes_;  // deque: scopes keep their addresses while more are added
  std::vector<std::function<void()>> deferred_;
  std::vector<std::function<void()>> type_checks_;
  std::vector<Blocker> blockers_;
  std::vector<std::string> lines_;
  std::map<std::string, int> relabeled_;
};

// --- element types and IR versions newer than ONNX 1.12 (opset_ir_version.cpp) ---

/// "Cast 'c': ..." for the first node (or graph value) that uses a type ONNX 1.12 does not have.
std::optional<Blocker> findNewType(const GraphProto& g, const std::string& where);

/// A protobuf field ONNX 1.12 does not know (it arrives as an unknown field).
struct UnknownField {
  std::string message;  // "onnx.NodeProto"
  int number = 0;
};
/// Every unknown field below `msg`; with `strip_harmless`, those that only annotate are dropped and named in
/// `stripped` instead.
void collectUnknownFields(google::protobuf::Message& msg, std::vector<UnknownField>& out, bool strip_harmless,
                          std::vector<std::string>& stripped);
/// Writes IR-9 attribute defaults of model functions into the calls; returns how many were written.
int writeFunctionAttributeDefaults(onnx::ModelProto& model);
std::string describeUnknownField(const UnknownField& f);

}  // namespace edgetune::opset_internal
