#include "core/passes/canonicalize.h"

#include <cstdlib>

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
  // Counted from the sub-passes' own lines, so the summary names only what really happened.
  int identity = 0, dropout = 0, batchnorm = 0, dead = 0, constants = 0;
  auto startsWith = [](const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; };
  for (const auto& line : cleanup.lines) {
    if (startsWith(line, "removed Identity"))
      ++identity;
    else if (startsWith(line, "removed Dropout"))
      ++dropout;
    else if (startsWith(line, "folded "))
      ++batchnorm;
    else if (startsWith(line, "removed dead"))
      ++dead;
    else if (startsWith(line, "turned ") || startsWith(line, "evaluated "))
      constants += std::atoi(line.c_str() + line.find(' ') + 1);
  }
  std::string what;
  auto add = [&](int n, const std::string& text) {
    if (n) what += (what.empty() ? "" : ", ") + std::to_string(n) + " " + text;
  };
  add(identity, "Identity removed");
  add(dropout, "Dropout removed");
  add(constants, "constant nodes folded");
  add(batchnorm, "BatchNorm folded");
  add(dead, "dead nodes dropped");
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
