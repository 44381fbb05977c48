#pragma once
// The front door: every command and the studio put a model as users export it (Identity nodes on weights,
// Dropout, Constant nodes, BatchNorm after Conv, dead shape arithmetic) through the output-preserving
// clean-up before they analyse or change it, and record that as the first step of what they did.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/passes/pass.h"

namespace edgetune {

struct CanonicalizeOptions {
  bool enabled = true;         // --no-clean turns it off: the model is analysed exactly as given
  bool fold_batchnorm = true;  // off for training, which wants BatchNormalization as a trainable layer
};

/// What the clean-up did on the way in, for the command's report.
struct CanonicalizeReport {
  bool ran = false;
  int nodes_before = 0;
  int nodes_after = 0;
  PassReport cleanup;  // the clean-up pipeline's own report (empty when it did not run)
  std::vector<std::string> opset_conversion;  // what loading converted (Model::conversion()), shown first

  /// {"step": "clean", "ran", "nodes_before", "nodes_after", "lines"}
  nlohmann::json toJson() const;
  /// "clean: 312 -> 201 nodes (removed 74 Identity, folded 37 constants ...)" or "clean: skipped
  /// (--no-clean)".
  std::string summary() const;
};

/// Runs the clean-up pipeline on `model` in place (never on a file). Output-preserving: only passes that keep
/// every output bit-for-bit or within float rounding (BatchNorm folding) run; equal initializers are not
/// merged, so parameter counts stay what the training framework reports.
CanonicalizeReport canonicalize(Model& model, const CanonicalizeOptions& options, PassContext& context);

}  // namespace edgetune
