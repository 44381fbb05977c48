// Step "sensitivity": `edgetune-cli sensitivity` as a step. The model passes through; the result is the
// SensitivityResult JSON a later prune step's `allocate.sensitivity` reads.
#include "core/pipeline/step_kinds.h"
#include "core/tuning/sensitivity.h"
#include "core/util/thread_list.h"

namespace edgetune::pipeline {
namespace {

constexpr const char* kKind = "sensitivity";

struct SensitivityStepOptions {
  SensitivityOptions sweep;  // ratios, limit, seed, batch_size, round_to, criterion, groups
  int threads = 1;           // ONNX Runtime intra-op threads
  std::vector<std::string> shapes;
  std::string data = "validation";
};

void to_json(nlohmann::json& j, const SensitivityStepOptions& o) {
  j = {{"ratios", o.sweep.ratios},     {"limit", o.sweep.limit},
       {"seed", o.sweep.seed},         {"batch_size", o.sweep.batch_size},
       {"round_to", o.sweep.round_to}, {"criterion", o.sweep.criterion},
       {"groups", o.sweep.groups},     {"threads", o.threads},
       {"shapes", o.shapes},           {"data", o.data}};
}

void readOptions(OptionsReader& r, SensitivityStepOptions& o) {
  r.read("ratios", o.sweep.ratios);
  r.read("limit", o.sweep.limit);
  r.read("seed", o.sweep.seed);
  r.read("batch_size", o.sweep.batch_size);
  r.read("round_to", o.sweep.round_to);
  r.read("criterion", o.sweep.criterion);
  r.read("groups", o.sweep.groups);
  r.read("threads", o.threads);
  r.read("shapes", o.shapes);
  r.read("data", o.data);
  if (o.sweep.ratios.empty()) throwOptionError(kKind, "ratios", "is empty");
  for (double ratio : o.sweep.ratios)
    if (!(ratio > 0 && ratio < 1))
      throwOptionError(kKind, "ratios", "holds " + std::to_string(ratio) + " (each must be in (0, 1))");
  if (o.sweep.batch_size < 1) throwOptionError(kKind, "batch_size", "must be at least 1");
  if (o.sweep.round_to < 1) throwOptionError(kKind, "round_to", "must be at least 1");
  if (o.threads < 0 || o.threads > kMaxThreadCount)
    throwOptionError(kKind, "threads",
                     "must be in 0.." + std::to_string(kMaxThreadCount) + " (0 = ONNX Runtime's default)");
  // Taylor scores need gradients, which the sweep does not compute.
  checkChoice(kKind, "criterion", o.sweep.criterion,
              {PruneCriterion::L1, PruneCriterion::L2, PruneCriterion::BatchNorm});
  checkRole(kKind, "data", o.data);
}

class SensitivityStep final : public StepWithOptions<SensitivityStepOptions> {
 public:
  std::string kind() const override { return kKind; }
  std::vector<std::string> datasetRoles() const override { return {options_.data}; }

  StepOutput run(StepContext& context) override {
    const Model& model = context.input();
    const Dataset& data = context.dataset(options_.data);
    SensitivityOptions o = options_.sweep;
    o.ort.intra_op_threads = options_.threads;
    const ExampleShapes example = exampleShapesOf(data);
    o.input_shapes = resolveInputShapes(model, parseShapeSpecs(options_.shapes), &example);
    const SensitivityResult r = analyzeSensitivity(model, data, o, context.job());
    StepOutput out;
    out.result = r.toJson();
    out.lines.push_back("swept " + std::to_string(r.curves.size()) + " groups at " +
                        std::to_string(o.ratios.size()) + " ratios on " + std::to_string(r.examples) +
                        " examples of " + data.name() + " (baseline accuracy " +
                        std::to_string(100 * r.baseline_accuracy) + "%)");
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> makeSensitivityStep() {
  return std::make_unique<SensitivityStep>();
}

}  // namespace edgetune::pipeline
