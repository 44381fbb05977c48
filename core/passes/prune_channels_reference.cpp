// The reference structured pruning is checked against: zeroes the weights through which the planned units
// reach the rest of the network instead of removing them (same function, every shape kept).
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/passes/graph_edit.h"
#include "core/passes/prune_channels_internal.h"
#include "core/util/error.h"

namespace edgetune {

using namespace prune_detail;

void zeroChannelPlan(Model& model, const ChannelPlan& plan) {
  Analysis a(model);
  const std::set<int> removed = removedRoots(a, plan);
  std::map<std::pair<int, int>, Tensor> edits;
  for (const auto& s : a.slices) {
    if (s.role != Role::ConsumerWeight) continue;
    const auto key = std::make_pair(s.node, s.slot);
    if (!edits.count(key)) edits[key] = *a.constant(model.graph().node(s.node).input(s.slot));
    Tensor& w = edits[key];
    const auto& t = trackOf(a, s.tensor);
    const auto& shape = w.shape();
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < s.axis; ++i) outer *= shape[i];
    for (size_t i = static_cast<size_t>(s.axis) + 1; i < shape.size(); ++i) inner *= shape[i];
    const int64_t dim = shape[static_cast<size_t>(s.axis)];
    auto v = w.values<float>();
    for (size_t p = 0; p < t.ids.size(); ++p) {
      if (!removed.count(a.uf.find(t.ids[p]))) continue;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i)
          v[static_cast<size_t>((o * dim + static_cast<int64_t>(p)) * inner + i)] = 0;
    }
  }
  InputWriter writer(model);
  for (const auto& [key, value] : edits) writer.write(key.first, key.second, value);
  writer.finish();
  finishGraphEdit(model, "zeroChannelPlan");
}

}  // namespace edgetune
