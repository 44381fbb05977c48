// edgetune-cli train: train an ONNX (or model-zoo) model from the weights it has (a zoo model's initial ones)
// with the libtorch interpreter: the pipeline's finetune step with the head left as it is and nothing frozen
// (training_command.h's flow).
#include "app/cli/training_command.h"

#ifdef EDGETUNE_HAVE_TRAINING
#include <memory>

#include "app/cli/output_paths.h"
#include "app/cli/training_options.h"
#endif

namespace edgetune::cli {

#ifdef EDGETUNE_HAVE_TRAINING

void addTrainCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a model (ONNX file or zoo:ARCH?key=value) on a dataset");
  cmd->add_option("model", a->model,
                  "ONNX model file, or zoo:ARCH[?classes=10&input_channels=1&image_size=28...]")
      ->required();
  addTrainingOptions(cmd, *a);
  cmd->callback([a, &global, &run] {
    run = [a, &global] {
      trainingFiles(*a).check();
      const Model model = loadModelSpec(a->model, a->input, global);
      return runTrainingCommand(global, *a, "train",
                                {"finetune", {{"classes", 0}, {"freeze", false}}, {}, {}}, model,
                                trainedLines);
    };
  });
}

#else

void addTrainCommand(CLI::App& app, const GlobalOptions&, Action& run) {
  addUnavailableTrainingCommand(app, "train", run);
}

#endif

}  // namespace edgetune::cli
