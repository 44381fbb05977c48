#include "core/passes/canonicalize.h"

#include "core/passes/cleanup_passes.h"

namespace edgetune {

nlohmann::json CanonicalizeReport::toJson() const {
  return {{"step", "clean"},
          {"ran", ran},
          {"nodes_before", nodes_before},
          {"nodes_after", nodes_after},
          {"lines", cleanup.lines}};
}

std::string CanonicalizeReport::summary() const {
  if (!ran) return "clean: skipped (--no-clean): the model is used exactly as given";
  if (nodes_before == nodes_after && !cleanup.changed()) return "clean: nothing to clean";
  return "clean: " + std::to_string(nodes_before) + " -> " + std::to_string(nodes_after) +
         " nodes (Identity/Dropout removed, constants and BatchNorm folded, dead code dropped; outputs "
         "unchanged)";
}

CanonicalizeReport canonicalize(Model& model, const CanonicalizeOptions& options, PassContext& context) {
  CanonicalizeReport report;
  report.nodes_before = report.nodes_after = model.graph().node_size();
  if (!options.enabled) return report;
  CleanupOptions cleanup;
  cleanup.fold_batchnorm = options.fold_batchnorm;
  // Merging equal initializers preserves outputs but changes what "parameters" counts (an untrained model's
  // BatchNorm scales are all equal), so the way in leaves it to the explicit clean command.
  cleanup.deduplicate = false;
  CleanupPass pass(cleanup);
  report.cleanup = pass.apply(model, context);
  report.ran = true;
  report.nodes_after = model.graph().node_size();
  return report;
}

}  // namespace edgetune
