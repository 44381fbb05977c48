// edgetune-cli clean MODEL -o OUT: the clean-up pipeline (Identity/Dropout, constants, BatchNorm, dead code),
// as the pipeline's "clean" step (with equal initializers merged).
#include <sstream>

#include "app/cli/cli_common.h"
#include "app/cli/output_paths.h"
#include "core/ir/model.h"
#include "core/pipeline/single_step.h"

namespace edgetune::cli {

void addCleanCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model, output;
    bool no_fold_batchnorm = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "clean", "Remove Identity/Dropout, fold constants, shapes and BatchNorm, drop dead code");
  cmd->add_option("model", args->model, "ONNX model file (never overwritten)")->required();
  cmd->add_option("-o,--output", args->output, "Output ONNX file")->required();
  cmd->add_flag("--no-fold-batchnorm", args->no_fold_batchnorm,
                "Keep BatchNormalization nodes (e.g. to train later)");
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      CommandFiles().input("MODEL", args->model, true).output("-o", args->output).check();
      // The model as given: cleaning it is what this command does.
      const Model model = Model::load(args->model);
      auto job = makeJob(global, "clean");
      pipeline::SingleStep step;
      step.kind = "clean";
      step.options = {{"fold_batchnorm", !args->no_fold_batchnorm}, {"deduplicate", true}};
      step.job = job.get();
      pipeline::SingleStepResult done = pipeline::runSingleStep(model, step);
      const nlohmann::json& result = done.output.result;
      done.output.model->save(args->output);
      nlohmann::json j = result.at("report");
      j["input"] = args->model;
      j["output"] = args->output;
      j["nodes_before"] = result.at("nodes_before");
      j["nodes_after"] = result.at("nodes_after");
      std::ostringstream out;
      for (const auto& line : j.at("lines")) out << "  " << line.get<std::string>() << "\n";
      out << "nodes " << result.at("nodes_before").get<int>() << " -> " << result.at("nodes_after").get<int>()
          << "; wrote " << args->output << "\n";
      emit(global, j, out.str());
      return 0;
    };
  });
}

}  // namespace edgetune::cli
