// edgetune-cli bench MODEL: ONNX Runtime latency (warm-up, timed runs, percentiles, peak memory), as the
// pipeline's "benchmark" step on the host (single_step.h).
#include "app/cli/cli_common.h"
#include "app/cli/shared_options.h"
#include "core/ir/model.h"
#include "core/pipeline/single_step.h"
#include "core/runtime/benchmark.h"

namespace edgetune::cli {

void addBenchCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model;
    int threads = 1;
    int runs = 50;
    int warmup = 10;
    int batch = 1;
    ModelInputArgs input;
    std::string optimization = "all";
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("bench", "Measure ONNX Runtime latency of a model on random inputs");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  addThreadsOption(cmd, args->threads, "ONNX Runtime", "one per core");
  cmd->add_option("--runs", args->runs, "Timed runs")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxRuns));
  cmd->add_option("--warmup", args->warmup, "Warm-up runs")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, kMaxRuns));
  addBatchOption(cmd, args->batch, "a dynamic batch dimension");
  cmd->add_option(
      "--shape", args->input.shapes,
      "Concrete size of an input with symbolic dimensions, e.g. --shape input_ids=1x128 (repeatable; "
      "default: batch 1, sequence length 128 for token inputs)");
  cmd->add_option("--optimization", args->optimization, "Graph optimization: disabled, basic, extended, all")
      ->capture_default_str()
      ->check(CLI::IsMember({"disabled", "basic", "extended", "all"}));
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      // The file is timed as given (no clean-up): ONNX Runtime runs exactly this model on the device.
      const Model model = Model::load(args->model);
      const InputShapes shapes = resolveShapes(model, args->input);  // for the notes on defaulted sizes
      auto job = makeJob(global, "bench");
      pipeline::SingleStep step;
      step.kind = "benchmark";
      step.options = {{"threads", nlohmann::json::array({args->threads})},
                      {"runs", args->runs},
                      {"warmup", args->warmup},
                      {"batch", args->batch},
                      {"shapes", args->input.shapes},
                      {"optimization", args->optimization},
                      {"samples", true}};
      step.job = job.get();
      const pipeline::SingleStepResult done = pipeline::runSingleStep(model, step);
      BenchmarkResult result =
          BenchmarkResult::fromJson(done.output.result.at("threads").at(std::to_string(args->threads)));
      result.model = args->model;
      nlohmann::json j = result.toJson();
      j["input_shapes_notes"] = shapes.notes;
      // The table already names the sizes ("inputs"); what is added is why each default was taken.
      std::string notes;
      for (const auto& note : shapes.notes) notes += "  " + note + "\n";
      emit(global, j, result.toTable() + notes);
      return 0;
    };
  });
}

}  // namespace edgetune::cli
