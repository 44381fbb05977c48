// edgetune-cli eval MODEL --data SPEC: accuracy in ONNX Runtime on a dataset, as the pipeline's "evaluate"
// step (single_step.h).
#include "app/cli/cli_common.h"
#include "app/cli/shared_options.h"
#include "core/analysis/evaluate.h"
#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/pipeline/single_step.h"

namespace edgetune::cli {

void addEvalCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model, data;
    size_t limit = 0;
    int batch = 64;
    int threads = 0;
    uint64_t seed = 0;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("eval", "Measure a model's accuracy on a dataset (in ONNX Runtime)");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  addDataOption(cmd, args->data)->required();
  addLimitOption(cmd, args->limit);
  addBatchOption(cmd, args->batch);
  addThreadsOption(cmd, args->threads, "ONNX Runtime", "one per core");
  addSeedOption(cmd, args->seed, "the --limit subset");
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      // The file is measured as given (no clean-up): ONNX Runtime runs exactly this model.
      const Model model = Model::load(args->model);
      auto dataset = openDataset(args->data);
      auto job = makeJob(global, "eval");
      pipeline::SingleStep step;
      step.kind = "evaluate";
      step.options = {{"data", "test"},
                      {"limit", args->limit},
                      {"batch_size", args->batch},
                      {"seed", args->seed},
                      {"threads", args->threads}};
      step.datasets["test"] = dataset;
      step.job = job.get();
      const pipeline::SingleStepResult done = pipeline::runSingleStep(model, step);
      nlohmann::json j = done.output.result;
      j["model"] = args->model;
      j["dataset"] = dataset->name();
      emit(global, j,
           "model        " + args->model + "\ndataset      " + dataset->name() + "\n" +
               EvalResult::fromJson(j).toText());
      return 0;
    };
  });
}

}  // namespace edgetune::cli
