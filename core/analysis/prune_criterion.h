#pragma once
// How structured pruning ranks a group's units (lower score = removed first); shared by the prune pass, the
// sensitivity sweep and the allocation, which prune through it.
#include <array>

#include "core/util/enum_names.h"

namespace edgetune {

/// L1 / L2 norm of each unit's weights, |BatchNorm gamma| of each channel, or the first-order Taylor score
/// |w * dL/dw| (needs gradients from the training engine).
enum class PruneCriterion { L1 = 1, L2, BatchNorm, Taylor };
constexpr auto enumNames(PruneCriterion) {
  using N = EnumName<PruneCriterion>;
  return std::array{N{PruneCriterion::L1, "l1"}, N{PruneCriterion::L2, "l2"},
                    N{PruneCriterion::BatchNorm, "bn"}, N{PruneCriterion::Taylor, "taylor"}};
}

}  // namespace edgetune
