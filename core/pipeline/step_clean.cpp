// Step "clean": the output-preserving clean-up every command runs on the way in (canonicalize.h), as a step
// of its own. BatchNorm stays by default: the steps after a clean usually prune or train, which use it. Equal
// initializers are merged only when asked (`deduplicate`, what `edgetune-cli clean` and the studio's clean-up
// knob do): it changes what "parameters" counts.
#include "core/passes/cleanup_passes.h"
#include "core/pipeline/step_kinds.h"

namespace edgetune::pipeline {
namespace {

struct CleanOptions {
  bool fold_batchnorm = false;
  bool deduplicate = false;
};
void to_json(nlohmann::json& j, const CleanOptions& o) {
  j = {{"fold_batchnorm", o.fold_batchnorm}, {"deduplicate", o.deduplicate}};
}
void readOptions(OptionsReader& r, CleanOptions& o) {
  r.read("fold_batchnorm", o.fold_batchnorm);
  r.read("deduplicate", o.deduplicate);
}

class CleanStep final : public StepWithOptions<CleanOptions> {
 public:
  std::string kind() const override { return "clean"; }

  StepOutput run(StepContext& context) override {
    Model model = context.input();
    const int nodes_before = model.graph().node_size();
    CleanupOptions options;  // what canonicalize() runs, with the two choices a recipe makes
    options.fold_batchnorm = options_.fold_batchnorm;
    options.deduplicate = options_.deduplicate;
    PassContext pass_context(context.job());
    const PassReport report = CleanupPass(options).apply(model, pass_context);
    StepOutput out;
    out.result = {
        {"nodes_before", nodes_before},
        {"nodes_after", model.graph().node_size()},
        {"nodes_removed", report.nodes_removed},
        {"nodes_added", report.nodes_added},
        {"initializers_removed", report.initializers_removed},
        {"report", report.toJson()}};  // the pass's own report, as `edgetune-cli clean --json` shows
    out.lines.push_back("clean-up: " + std::to_string(nodes_before) + " -> " +
                        std::to_string(model.graph().node_size()) + " nodes, " +
                        std::to_string(report.initializers_removed) + " initializers removed");
    out.model = std::move(model);
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> makeCleanStep() {
  return std::make_unique<CleanStep>();
}

}  // namespace edgetune::pipeline
