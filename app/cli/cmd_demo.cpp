// edgetune-cli demo: the README's first command. Loads the bundled demo model (or builds one), evaluates it
// on the Fashion-MNIST test set in ONNX Runtime, benchmarks it and prints the results.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "app/cli/cli_common.h"
#include "app/cli/shared_options.h"
#include "core/analysis/evaluate.h"
#include "core/data/dataset.h"
#include "core/ir/stats.h"
#include "core/runtime/benchmark.h"
#include "core/util/resources.h"
#include "core/zoo/zoo.h"

namespace edgetune::cli {
namespace fs = std::filesystem;

void addDemoCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model;
    std::string data = "fashion-mnist";
    size_t limit = 0;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("demo", "Evaluate and benchmark the bundled demo model on Fashion-MNIST");
  cmd->add_option("--model", args->model, "Model to use instead of the bundled demo model");
  addDataOption(cmd, args->data)->capture_default_str();
  addLimitOption(cmd, args->limit);
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      std::ostringstream out;
      Model model;
      fs::path bundled = resourcesDir() / "models" / "resnet20_fmnist.onnx";
      if (!args->model.empty()) {
        model = Model::load(args->model);
      } else if (fs::exists(bundled)) {
        model = Model::load(bundled);
      } else {
        zoo::ZooOptions o;
        o.input_channels = 1;
        o.image_size = 28;
        model = zoo::buildZooModel("resnet20", o);
        out << "note: no trained demo model at " << bundled.string()
            << "; using an UNTRAINED ResNet-20 (expect ~10% accuracy)\n";
      }
      ModelStats stats = computeStats(model);
      out << "model        " << model.origin() << "\n"
          << "parameters   " << withCommas(stats.params) << "   MACs "
          << humanCount(static_cast<double>(stats.macs)) << "   size " << formatBytes(stats.serialized_bytes)
          << "\n\n";
      auto dataset = openDataset(args->data);
      OrtOptions eval_ort;
      eval_ort.intra_op_threads = 0;
      auto executor = makeOrtExecutor(model, eval_ort);
      EvalOptions eval_options;
      eval_options.limit = args->limit;
      EvalResult eval;
      {
        auto job = makeJob(global, "eval");
        eval = evaluate(*executor, *dataset, eval_options, job.get());
      }
      endProgress();
      out << "accuracy on " << dataset->name() << "\n" << eval.toText() << "\n";
      nlohmann::json j = {{"model", model.origin()},
                          {"stats", {{"params", stats.params}, {"macs", stats.macs}}},
                          {"eval", eval.toJson()}};
      for (int threads : {1, 2}) {
        OrtOptions ort;
        ort.intra_op_threads = threads;
        BenchmarkOptions bench;
        bench.runs = 50;
        auto job = makeJob(global, "bench");
        BenchmarkResult r = benchmarkModel(model, ort, bench, job.get());
        endProgress();
        char line[160];
        std::snprintf(line, sizeof(line),
                      "latency, batch 1, %d thread(s): median %.3f ms, p90 %.3f ms, p99 %.3f ms\n", threads,
                      r.median_ms, r.p90_ms, r.p99_ms);
        out << line;
        j["bench_threads_" + std::to_string(threads)] = r.toJson();
      }
      emit(global, j, out.str());
      return 0;
    };
  });
}

}  // namespace edgetune::cli
