#pragma once
// Queries over findPruneGroups' result, shared by the pruning tests.
#include <string>
#include <vector>

#include "core/passes/prune_channels.h"

namespace edgetune::test {

/// The group with this id, or null.
inline const PruneGroup* findGroup(const std::vector<PruneGroup>& groups, const std::string& id) {
  for (const auto& g : groups)
    if (g.id == id) return &g;
  return nullptr;
}

/// Prunable groups, of one kind ("channels", "heads", "neurons") or of any.
inline int prunableCount(const std::vector<PruneGroup>& groups, const std::string& kind = {}) {
  int n = 0;
  for (const auto& g : groups) n += g.prunable && (kind.empty() || g.kind == kind);
  return n;
}

}  // namespace edgetune::test
