// Step "evaluate": `edgetune-cli eval` as a step: accuracy in ONNX Runtime on a dataset role. The model
// passes through.
#include <cstdio>

#include "core/analysis/evaluate.h"
#include "core/pipeline/step_kinds.h"
#include "core/util/thread_list.h"

namespace edgetune::pipeline {
namespace {

constexpr const char* kKind = "evaluate";

struct EvaluateOptions {
  std::string data = "test";
  size_t limit = 0;  // a seeded random subset of this many examples (0 = all)
  int batch_size = 64;
  uint64_t seed = 0;  // of the subset
  int threads = 0;    // ONNX Runtime intra-op threads (0 = one per core)
};

void to_json(nlohmann::json& j, const EvaluateOptions& o) {
  j = {{"data", o.data},
       {"limit", o.limit},
       {"batch_size", o.batch_size},
       {"seed", o.seed},
       {"threads", o.threads}};
}

void readOptions(OptionsReader& r, EvaluateOptions& o) {
  r.read("data", o.data);
  r.read("limit", o.limit);
  r.read("batch_size", o.batch_size);
  r.read("seed", o.seed);
  r.read("threads", o.threads);
  checkRole(kKind, "data", o.data);
  if (o.batch_size < 1) throwOptionError(kKind, "batch_size", "must be at least 1");
  if (o.threads < 0 || o.threads > kMaxThreadCount)
    throwOptionError(kKind, "threads",
                     "must be in 0.." + std::to_string(kMaxThreadCount) + " (0 = one per core)");
}

class EvaluateStep final : public StepWithOptions<EvaluateOptions> {
 public:
  std::string kind() const override { return kKind; }
  std::vector<std::string> datasetRoles() const override { return {options_.data}; }

  StepOutput run(StepContext& context) override {
    const Dataset& data = context.dataset(options_.data);
    OrtOptions ort;
    ort.intra_op_threads = options_.threads;
    auto executor = makeOrtExecutor(context.input(), ort);
    EvalOptions eval;
    eval.limit = options_.limit;
    eval.batch_size = options_.batch_size;
    eval.seed = options_.seed;
    const EvalResult r = evaluate(*executor, data, eval, context.job());
    StepOutput out;
    out.result = r.toJson();
    out.result["dataset"] = data.name();
    char line[160];
    std::snprintf(line, sizeof line, "accuracy %.2f%% (95%% interval %.2f-%.2f%%) on %zu examples of ",
                  100 * r.top1, 100 * r.top1_ci.low, 100 * r.top1_ci.high, r.count);
    out.lines.push_back(line + data.name());
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> makeEvaluateStep() {
  return std::make_unique<EvaluateStep>();
}

}  // namespace edgetune::pipeline
