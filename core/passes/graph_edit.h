#pragma once
// Small graph-editing helpers the passes share: renaming uses, removing nodes and initializers, fresh names.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/ir/model.h"

namespace edgetune {

/// True for the ONNX operator set's own ops (empty domain or "ai.onnx"), not contrib or custom ones.
bool isDefaultDomain(const onnx::NodeProto& node);

/// A node of the default domain with these inputs and outputs (no attributes).
onnx::NodeProto makeNode(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                         std::vector<std::string> outputs);

/// Makes every node input (including inside If/Loop/Scan bodies) that reads `from` read `to` instead.
/// Returns how many inputs changed. Graph outputs are not renamed.
int replaceAllUses(Model& model, const std::string& from, const std::string& to);

/// Names read by nodes of this node's subgraphs that are not produced inside them (outer-scope captures).
std::set<std::string> subgraphCaptures(const onnx::NodeProto& node);

/// True if a subgraph (If/Loop/Scan body) of some node reads `tensor` from the outer scope.
bool isCapturedBySubgraph(const Model& model, const std::string& tensor);

/// Every tensor name some node reads, including outer-scope names used inside subgraphs.
std::set<std::string> usedTensorNames(const Model& model);

/// Removes the nodes whose index is flagged (keeps the order of the others). Returns how many were removed.
int removeNodes(Model& model, const std::vector<bool>& remove);

/// Removes initializers by name, and their graph.input entries (older exporters list initializers as inputs).
int removeInitializers(Model& model, const std::set<std::string>& names);

/// A tensor/node name not used anywhere in the graph yet, built from `base`.
std::string uniqueName(const Model& model, const std::string& base);

/// True if `name` is fed by the caller at run time: a graph input that is not an initializer,
/// or an initializer that is also listed as a graph input (the caller may override it).
bool isRuntimeInput(const Model& model, const std::string& name);

/// True for initializers the caller cannot override (safe to treat as constants).
bool isConstantInitializer(const Model& model, const std::string& name);

/// The value of a float32 scalar (one element) constant initializer, if `name` is one.
std::optional<float> floatScalarConstant(const Model& model, const std::string& name);

/// What every pass calls after editing: reindex, ONNX checker, shape inference. Throws Error naming `pass`.
void finishGraphEdit(Model& model, const std::string& pass);

}  // namespace edgetune
