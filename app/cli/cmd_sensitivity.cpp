// edgetune-cli sensitivity MODEL --data SPEC: accuracy of each prune group at ratios 0.1..0.9, as the
// pipeline's "sensitivity" step (single_step.h).
#include "app/cli/cli_common.h"
#include "app/cli/output_paths.h"
#include "app/cli/shared_options.h"
#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/pipeline/single_step.h"
#include "core/tuning/sensitivity.h"
#include "core/util/files.h"

namespace edgetune::cli {

void addSensitivityCommand(CLI::App& app, const GlobalOptions& global, Action& run);

void addSensitivityCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model, data, csv, json_file, criterion = "l1";
    size_t limit = 500;
    uint64_t seed = 0;
    int batch = 64;
    int threads = 1;
    int64_t round_to = 1;
    std::vector<double> ratios = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
    std::vector<std::string> groups;
    ModelInputArgs input;
  };
  auto args = std::make_shared<Args>();
  auto* cmd =
      app.add_subcommand("sensitivity", "Accuracy of each prune group pruned alone at several ratios");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  addDataOption(cmd, args->data)->required();
  addLimitOption(cmd, args->limit);
  addSeedOption(cmd, args->seed, "the --limit subset");
  cmd->add_option("--ratios", args->ratios, "Ratios to sweep, each in (0, 1)")
      ->delimiter(',')
      ->check(realRange(0, 1, Interval::Open));
  cmd->add_option("--group", args->groups, "Only this group id; repeatable");
  addModelInputOptions(cmd, args->input);
  addBatchOption(cmd, args->batch);
  addThreadsOption(cmd, args->threads, "ONNX Runtime", "one per core");
  cmd->add_option("--round", args->round_to, "Round kept channels up to a multiple of N")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxRound));
  cmd->add_option("--criterion", args->criterion, "l1, l2 or bn")
      ->capture_default_str()
      ->check(CLI::IsMember({"l1", "l2", "bn"}));
  cmd->add_option("--csv", args->csv, "Also write the curves as CSV to this file");
  cmd->add_option("--save-json", args->json_file, "Also write the curves as JSON to this file");
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      CommandFiles()
          .input("MODEL", args->model, true)
          .dataset("--data", args->data)
          .output("--csv", args->csv)
          .output("--save-json", args->json_file)
          .check();
      // BatchNorm stays, as in prune (the "bn" criterion reads it, and prune checks the sweep's parameter
      // count).
      LoadedModel loaded = loadModel(args->model, args->input, /*fold_batchnorm=*/false);
      const Model& model = loaded.model;
      auto dataset = openDataset(args->data);
      const ExampleShapes example = exampleShapesOf(*dataset);
      const InputShapes shapes = resolveShapes(model, args->input, &example);  // for the report's first lines
      auto job = makeJob(global, "sensitivity");
      pipeline::SingleStep step;
      step.kind = "sensitivity";
      step.options = {{"ratios", args->ratios},       {"limit", args->limit},
                      {"seed", args->seed},           {"batch_size", args->batch},
                      {"round_to", args->round_to},   {"criterion", args->criterion},
                      {"groups", args->groups},       {"threads", args->threads},
                      {"shapes", args->input.shapes}, {"data", "validation"}};
      step.datasets["validation"] = dataset;
      step.job = job.get();
      const pipeline::SingleStepResult done = pipeline::runSingleStep(model, step);
      const SensitivityResult r = SensitivityResult::fromJson(done.output.result);
      endProgress();
      if (!args->csv.empty()) writeFileAtomic(args->csv, r.toCsv());
      if (!args->json_file.empty()) writeFileAtomic(args->json_file, done.output.result.dump(2) + "\n");
      nlohmann::json j = done.output.result;
      j["clean"] = loaded.clean.toJson();
      j["input_shapes"] = shapes.toJson();
      emit(global, j, inputReport(&loaded.clean, &shapes) + r.toTable());
      return 0;
    };
  });
}

}  // namespace edgetune::cli
