// edgetune-cli finetune: fine-tune a trained model, optionally with a new classifier head or only the head
// trained: the pipeline's finetune step run on its own (training_command.h's flow).
#include "app/cli/training_command.h"

#ifdef EDGETUNE_HAVE_TRAINING
#include <memory>

#include "app/cli/output_paths.h"
#include "app/cli/shared_options.h"
#include "app/cli/training_options.h"
#endif

namespace edgetune::cli {

#ifdef EDGETUNE_HAVE_TRAINING

void addFinetuneCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  auto a = std::make_shared<TrainArgs>();
  a->options.learning_rate = 0.01;
  auto* cmd =
      app.add_subcommand("finetune", "Fine-tune a trained model, optionally with a new classifier head");
  cmd->add_option("model", a->model, "Trained ONNX model file")->required();
  cmd->add_option("--classes", a->classes,
                  "Replace the classifier head with a fresh one for N classes (0 = keep)")
      ->check(CLI::Range(int64_t{0}, kMaxClasses));
  cmd->add_flag("--freeze", a->freeze, "Train only the classifier head (freeze everything before it)");
  addTrainingOptions(cmd, *a);
  cmd->callback([a, &global, &run] {
    run = [a, &global] {
      trainingFiles(*a).check();
      const Model model = loadModelSpec(a->model, a->input, global);
      return runTrainingCommand(global, *a, "finetune",
                                {"finetune", {{"classes", a->classes}, {"freeze", a->freeze}}, {}, {}}, model,
                                trainedLines);
    };
  });
}

#else

void addFinetuneCommand(CLI::App& app, const GlobalOptions&, Action& run) {
  addUnavailableTrainingCommand(app, "finetune", run);
}

#endif

}  // namespace edgetune::cli
