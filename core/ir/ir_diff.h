#pragma once
// Node-level differences between two models (what a comparison view highlights): nodes matched by name.
#include <map>
#include <string>
#include <vector>

#include "core/ir/model.h"

namespace edgetune {

/// How a node differs from the other side of a comparison.
enum class NodeDiff { Removed = 1, ChangedShape, ChangedPrecision, ChangedOp };

/// Node-level differences of `after` against `before`, keyed by node index in `before` (Removed,
/// ChangedShape, ChangedPrecision, ChangedOp), plus the names of nodes only in `after`.
struct GraphDiff {
  std::map<int, NodeDiff> before_nodes;
  std::vector<std::string> added;
  int removed = 0, changed_shape = 0, changed_precision = 0, changed_op = 0;
};
/// Nodes are matched by name (passes keep the names of the nodes they rewrite); an unnamed node never
/// matches.
GraphDiff diffModels(const Model& before, const Model& after);

}  // namespace edgetune
