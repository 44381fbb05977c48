// edgetune-cli bench MODEL: ONNX Runtime latency (warm-up, timed runs, percentiles, peak memory).
#include "app/cli/cli_common.h"
#include "core/ir/model.h"
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
  cmd->add_option("--threads", args->threads, "Intra-op threads (0 = ONNX Runtime default)")
      ->capture_default_str();
  cmd->add_option("--runs", args->runs, "Timed runs")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", args->warmup, "Warm-up runs")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch", args->batch, "Batch size for a dynamic batch dimension")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
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
      Model model = Model::load(args->model);
      const InputShapes shapes = resolveShapes(model, args->input).withBatch(args->batch);
      OrtOptions ort;
      ort.intra_op_threads = args->threads;
      ort.optimization = args->optimization == "disabled"   ? GraphOptimization::Disabled
                         : args->optimization == "basic"    ? GraphOptimization::Basic
                         : args->optimization == "extended" ? GraphOptimization::Extended
                                                            : GraphOptimization::All;
      BenchmarkOptions options;
      options.runs = args->runs;
      options.warmup_runs = args->warmup;
      options.input_shapes = shapes;
      auto job = makeJob(global, "bench");
      BenchmarkResult result = benchmarkModel(model, ort, options, job.get());
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
