// edgetune-cli clean MODEL -o OUT: the clean-up pipeline (Identity/Dropout, constants, BatchNorm, dead code).
#include <sstream>

#include "app/cli/cli_common.h"
#include "core/ir/model.h"
#include "core/passes/cleanup_passes.h"

namespace edgetune::cli {

void addCleanCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model, output;
    bool no_fold_batchnorm = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("clean", "Remove Identity/Dropout, fold constants and BatchNorm, drop dead code");
  cmd->add_option("model", args->model, "ONNX model file (never overwritten)")->required();
  cmd->add_option("-o,--output", args->output, "Output ONNX file")->required();
  cmd->add_flag("--no-fold-batchnorm", args->no_fold_batchnorm, "Keep BatchNormalization nodes (e.g. to train later)");
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      Model model = Model::load(args->model);
      const int nodes_before = model.graph().node_size();
      CleanupOptions options;
      options.fold_batchnorm = !args->no_fold_batchnorm;
      CleanupPass pass(options);
      auto job = makeJob(global, "clean");
      PassContext context(job.get());
      PassReport report = pass.apply(model, context);
      model.save(args->output);
      nlohmann::json j = report.toJson();
      j["input"] = args->model;
      j["output"] = args->output;
      j["nodes_before"] = nodes_before;
      j["nodes_after"] = model.graph().node_size();
      std::ostringstream out;
      for (const auto& line : report.lines) out << "  " << line << "\n";
      out << "nodes " << nodes_before << " -> " << model.graph().node_size() << "; wrote " << args->output << "\n";
      emit(global, j, out.str());
      return 0;
    };
  });
}

}  // namespace edgetune::cli
