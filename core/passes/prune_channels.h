#pragma once
// Structured pruning ("prune_channels"): dependency groups of channels, attention heads and FFN neurons
// computed on the ONNX graph, ranked by a criterion, and physically removed (initializers shrink, shapes
// re-inferred).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/channel_dependencies.h"
#include "core/analysis/coverage.h"
#include "core/analysis/prune_criterion.h"
#include "core/ir/input_shapes.h"
#include "core/passes/pass.h"

namespace edgetune {

/// Which units to remove, by group id; unit indices are 0..units-1 in the producers' channel order.
using ChannelPlan = std::map<std::string, std::vector<int64_t>>;

/// Gradient of the loss with respect to an initializer (same shape), or nullopt when unknown. The training
/// engine supplies it for the first-order Taylor criterion |w * dL/dw|; nothing in core computes gradients.
using GradientFunction = std::function<std::optional<Tensor>(const std::string& initializer)>;

struct PruneChannelsOptions {
  double ratio = 0.3;                       // fraction of each prunable group's units to remove, [0, 1)
  std::map<std::string, double> per_group;  // group id or member node name -> ratio (overrides `ratio`)
  std::vector<std::string> protect;  // regexes over node names: groups with a matching member stay whole
  int64_t round_to = 8;              // kept channel counts rounded up to a multiple of this
  PruneCriterion criterion = PruneCriterion::L1;  // Taylor needs gradients
  bool prune_heads = true;                        // attention heads
  bool prune_neurons = true;  // Gemm/MatMul output neurons (FFN intermediate, hidden Gemm layers)
};
void to_json(nlohmann::json& j, const PruneChannelsOptions& o);
void readOptions(OptionsReader& r, PruneChannelsOptions& o);

/// What one group lost.
struct GroupPruneResult {
  std::string id;
  int64_t units_before = 0, units_after = 0;
  std::vector<int64_t> removed;  // unit indices
};

struct ChannelPruneResult {
  std::vector<GroupPruneResult> groups;  // every prunable group, pruned or not
  int64_t params_before = 0, params_after = 0;
  int64_t macs_before = 0, macs_after = 0;
  int64_t onnx_bytes_before = 0, onnx_bytes_after = 0;
  ChannelPlan plan;  // what was removed
  // Share of MACs and weight bytes in the groups that lost units (of the model before pruning), and every
  // layer left alone grouped by why ("reaches graph output 'logits'", "protected by user", ...).
  Coverage coverage;
  std::map<std::string, std::string>
      left_alone;  // group id -> why it kept every unit (full reason, with names)
  bool prunedAnything() const;
  nlohmann::json toJson() const;
};

/// Scores each unit of each prunable group (lower = pruned first). `gradients` is needed for "taylor".
std::map<std::string, std::vector<double>> scoreUnits(const Model& model, PruneCriterion criterion,
                                                      const GradientFunction& gradients = {});

/// The plan pruneChannels would execute (ranking + rounding + protection), without editing the model.
ChannelPlan planChannelPruning(const Model& model, const PruneChannelsOptions& options,
                               const GradientFunction& gradients = {});

/// Removes the units in `plan` from `model` physically; the model is checked and shape-inferred afterwards.
/// Throws Error for unknown or unprunable group ids, unit indices out of range, or a plan that empties a
/// group. `shapes` (may be null) gives concrete input sizes for the MAC counts of dynamic-shaped models.
ChannelPruneResult applyChannelPlan(Model& model, const ChannelPlan& plan,
                                    const InputShapes* shapes = nullptr);

/// planChannelPruning + applyChannelPlan; the coverage says why each group left alone was left alone.
ChannelPruneResult pruneChannels(Model& model, const PruneChannelsOptions& options,
                                 const GradientFunction& gradients = {}, const InputShapes* shapes = nullptr);

/// The reference for tests: keeps every shape but zeros the weights through which the planned units reach the
/// rest of the network (the consumers' input weights), which computes what removal computes.
void zeroChannelPlan(Model& model, const ChannelPlan& plan);

/// Units kept when pruning `units` by `ratio`, rounded UP to a multiple of `round_to` (when unit_size == 1),
/// at least 1 and at most `units`: rounding never prunes more than asked (30% of a 16-channel layer keeps all
/// 16 rather than dropping to 8, which would be 50%).
int64_t keptUnits(int64_t units, double ratio, int64_t round_to, int64_t unit_size = 1);

class PruneChannelsPass final : public PassWithOptions<PruneChannelsOptions> {
 public:
  using PassWithOptions::PassWithOptions;
  std::string name() const override { return "prune_channels"; }
  PassReport apply(Model& model, PassContext& context) override;
  /// For the "taylor" criterion (set by the training engine before apply()).
  void setGradients(GradientFunction gradients) { gradients_ = std::move(gradients); }
  /// Concrete input sizes for the MACs in the report and coverage (dynamic batch / sequence).
  void setInputShapes(InputShapes shapes) { shapes_ = std::move(shapes); }

 private:
  GradientFunction gradients_;
  std::optional<InputShapes> shapes_;
};

}  // namespace edgetune
