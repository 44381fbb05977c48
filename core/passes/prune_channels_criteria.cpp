// Structured pruning's criteria: how important each unit of a group is (L1 / L2 of its weights, |BatchNorm
// gamma|, first-order Taylor |w * dL/dw|); lower scores are pruned first.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/passes/prune_channels_internal.h"
#include "core/util/error.h"

namespace edgetune::prune_detail {

double sliceScore(const Tensor& w, const Tensor* grad, int axis, int64_t position, bool l2) {
  const auto& shape = w.shape();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = static_cast<size_t>(axis) + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t dim = shape[static_cast<size_t>(axis)];
  auto v = w.values<float>();
  std::span<const float> gv;
  if (grad) gv = grad->values<float>();
  double s = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const size_t idx = static_cast<size_t>((o * dim + position) * inner + i);
      const double x = grad ? static_cast<double>(v[idx]) * gv[idx] : v[idx];
      s += l2 ? x * x : std::fabs(x);
    }
  return s;
}

void checkCriterion(PruneCriterion criterion, const GradientFunction& gradients) {
  if (criterion == PruneCriterion::Taylor && !gradients)
    throw Error("prune_channels: the taylor criterion needs gradients from the training engine");
}

// Scores on an analysis already made (pruneChannels analyses the graph once for grouping, scoring and
// editing).
std::map<std::string, std::vector<double>> scoreWith(const Model& model, Analysis& a,
                                                     PruneCriterion criterion,
                                                     const GradientFunction& gradients) {
  std::map<int, double> by_root, bn_by_root;
  std::set<int> has_bn;
  for (const auto& s : a.slices) {
    if (s.role != Role::ProducerWeight && s.role != Role::BnGamma) continue;
    const auto& node = model.graph().node(s.node);
    auto w = a.constant(node.input(s.slot));
    if (!w || w->type() != DataType::Float32) continue;
    std::optional<Tensor> grad;
    if (criterion == PruneCriterion::Taylor && s.role == Role::ProducerWeight) {
      grad = gradients(node.input(s.slot));
      if (!grad || grad->shape() != w->shape() || grad->type() != DataType::Float32)
        throw Error("prune_channels: no gradient of the right shape for initializer '" + node.input(s.slot) +
                    "'");
    }
    const auto& t = trackOf(a, s.tensor);
    for (size_t p = 0; p < t.ids.size(); ++p) {
      const int r = a.uf.find(t.ids[p]);
      if (s.role == Role::BnGamma) {
        bn_by_root[r] += std::fabs(w->values<float>()[p]);
        has_bn.insert(r);
      } else {
        by_root[r] += sliceScore(*w, grad ? &*grad : nullptr, s.axis, static_cast<int64_t>(p),
                                 criterion == PruneCriterion::L2);
      }
    }
  }
  std::map<std::string, std::vector<double>> scores;
  for (const auto& g : a.groups) {
    auto& v = scores[g.info.id];
    bool use_bn = criterion == PruneCriterion::BatchNorm;
    for (int r : g.roots) use_bn = use_bn && has_bn.count(r);  // groups without BatchNorm fall back to L1
    for (int r : g.roots) v.push_back(use_bn ? bn_by_root[r] : by_root[r]);
  }
  return scores;
}

}  // namespace edgetune::prune_detail
