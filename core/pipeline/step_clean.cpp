// Step "clean": the output-preserving clean-up every command runs on the way in (canonicalize.h), as a step
// of its own. BatchNorm stays by default: the steps after a clean usually prune or train, which use it.
#include "core/passes/canonicalize.h"
#include "core/pipeline/step_kinds.h"

namespace edgetune::pipeline {
namespace {

struct CleanOptions {
  bool fold_batchnorm = false;
};
void to_json(nlohmann::json& j, const CleanOptions& o) {
  j = {{"fold_batchnorm", o.fold_batchnorm}};
}
void readOptions(OptionsReader& r, CleanOptions& o) {
  r.read("fold_batchnorm", o.fold_batchnorm);
}

class CleanStep final : public StepWithOptions<CleanOptions> {
 public:
  std::string kind() const override { return "clean"; }

  StepOutput run(StepContext& context) override {
    Model model = context.input();
    CanonicalizeOptions options;
    options.fold_batchnorm = options_.fold_batchnorm;
    PassContext pass_context(context.job());
    const CanonicalizeReport report = canonicalize(model, options, pass_context);
    StepOutput out;
    out.result = {{"nodes_before", report.nodes_before},
                  {"nodes_after", report.nodes_after},
                  {"nodes_removed", report.cleanup.nodes_removed},
                  {"nodes_added", report.cleanup.nodes_added},
                  {"initializers_removed", report.cleanup.initializers_removed}};
    out.lines.push_back(report.summary());
    out.model = std::move(model);
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> makeCleanStep() {
  return std::make_unique<CleanStep>();
}

}  // namespace edgetune::pipeline
