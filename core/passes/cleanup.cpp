// cleanup: the clean-up passes in an order where each exposes work for the next, repeated to a fixed point.
#include <algorithm>

#include "core/passes/cleanup_passes.h"

namespace edgetune {

void to_json(nlohmann::json& j, const CleanupOptions& o) {
  j = {{"max_rounds", o.max_rounds},   {"fold_constants", o.fold_constants},
       {"fold_shapes", o.fold_shapes}, {"fold_batchnorm", o.fold_batchnorm},
       {"deduplicate", o.deduplicate}, {"max_folded_bytes", o.max_folded_bytes}};
}
void readOptions(OptionsReader& r, CleanupOptions& o) {
  r.read("max_rounds", o.max_rounds);
  r.read("fold_constants", o.fold_constants);
  r.read("fold_shapes", o.fold_shapes);
  r.read("fold_batchnorm", o.fold_batchnorm);
  r.read("deduplicate", o.deduplicate);
  r.read("max_folded_bytes", o.max_folded_bytes);
}

PassReport CleanupPass::apply(Model& model, PassContext& context) {
  PassReport report;
  report.pass_name = name();
  const int nodes_before = model.graph().node_size();
  const int initializers_before = model.graph().initializer_size();
  // Constants first (they turn Identity(Constant) into Identity(initializer) and shape chains into weights),
  // then pass-throughs, then BatchNorm (its Conv may have read through an Identity), then merging and
  // sweeping.
  std::vector<std::unique_ptr<Pass>> pipeline;
  if (options_.fold_constants) {
    FoldConstantsOptions fold;
    fold.max_folded_bytes = options_.max_folded_bytes;
    pipeline.push_back(std::make_unique<FoldConstantsPass>(fold));
  }
  if (options_.fold_shapes) pipeline.push_back(std::make_unique<FoldShapesPass>());
  pipeline.push_back(std::make_unique<RemoveIdentityPass>());
  if (options_.fold_batchnorm) pipeline.push_back(std::make_unique<FoldBatchNormPass>());
  if (options_.deduplicate) pipeline.push_back(std::make_unique<DeduplicateInitializersPass>());
  pipeline.push_back(std::make_unique<EliminateDeadPass>());

  nlohmann::json rounds = nlohmann::json::array();
  int round = 0;
  for (; round < options_.max_rounds; ++round) {
    bool changed = false;
    nlohmann::json round_reports = nlohmann::json::array();
    for (size_t i = 0; i < pipeline.size(); ++i) {
      context.throwIfCancelled();
      context.report(std::min(0.99, (round + static_cast<double>(i) / pipeline.size()) / options_.max_rounds),
                     "cleanup: " + pipeline[i]->name());
      PassReport r = pipeline[i]->apply(model, context);
      changed = changed || r.changed();
      report.merge(r);
      if (r.changed()) round_reports.push_back(r.toJson());
    }
    rounds.push_back(round_reports);
    if (!changed) break;
  }
  // Node counts as a whole: folding adds initializers while removing nodes, so the net numbers are clearer.
  report.details["rounds"] = rounds;
  report.details["nodes_before"] = nodes_before;
  report.details["nodes_after"] = model.graph().node_size();
  report.details["initializers_before"] = initializers_before;
  report.details["initializers_after"] = model.graph().initializer_size();
  if (report.changed())
    report.lines.push_back("cleanup: " + std::to_string(nodes_before) + " -> " +
                           std::to_string(model.graph().node_size()) + " nodes");
  context.report(1.0, "cleanup done");
  return report;
}

void registerCleanupPasses(PassRegistry& registry) {
  registry.add("remove_identity", [] { return std::make_unique<RemoveIdentityPass>(); });
  registry.add("fold_constants", [] { return std::make_unique<FoldConstantsPass>(); });
  registry.add("fold_shapes", [] { return std::make_unique<FoldShapesPass>(); });
  registry.add("fold_batchnorm", [] { return std::make_unique<FoldBatchNormPass>(); });
  registry.add("eliminate_dead", [] { return std::make_unique<EliminateDeadPass>(); });
  registry.add("deduplicate_initializers", [] { return std::make_unique<DeduplicateInitializersPass>(); });
  registry.add("cleanup", [] { return std::make_unique<CleanupPass>(); });
}

}  // namespace edgetune
