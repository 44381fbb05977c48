#include "core/passes/canonicalize.h"

#include <map>

#include "core/passes/cleanup_passes.h"

namespace edgetune {

nlohmann::json CanonicalizeReport::toJson() const {
  return {{"step", "clean"},
          {"ran", ran},
          {"nodes_before", nodes_before},
          {"nodes_after", nodes_after},
          {"lines", cleanup.lines},
          {"opset_conversion", opset_conversion}};
}

std::string CanonicalizeReport::summary() const {
  if (!ran) return "clean: skipped (--no-clean): the model is used exactly as given";
  if (nodes_before == nodes_after && !cleanup.changed()) return "clean: nothing to clean";
  // Counted from the sub-passes' reports (CleanupPass keeps them per round), so the summary names only what
  // really happened.
  std::map<std::string, int> removed;  // pass name -> nodes it removed
  if (cleanup.details.contains("rounds"))
    for (const auto& round : cleanup.details.at("rounds"))
      for (const auto& pass : round) removed[pass.value("pass", "")] += pass.value("nodes_removed", 0);
  std::string what;
  auto add = [&](int n, const std::string& text) {
    if (n) what += (what.empty() ? "" : ", ") + std::to_string(n) + " " + text;
  };
  add(removed["remove_identity"], "Identity/Dropout removed");
  add(removed["fold_constants"], "constant nodes folded");
  add(removed["fold_shapes"], "shape computations folded");
  add(removed["fold_batchnorm"], "BatchNorm folded");
  add(removed["eliminate_dead"], "dead nodes dropped");
  return "clean: " + std::to_string(nodes_before) + " -> " + std::to_string(nodes_after) + " nodes (" +
         (what.empty() ? "unused initializers dropped" : what) + "; outputs unchanged)";
}

CanonicalizeReport canonicalize(Model& model, const CanonicalizeOptions& options, PassContext& context) {
  CanonicalizeReport report;
  report.nodes_before = report.nodes_after = model.graph().node_size();
  report.opset_conversion = model.conversion().lines;
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
