// edgetune-cli distill: train a student from a teacher's soft outputs (knowledge distillation): the
// pipeline's distill step run on its own (training_command.h's flow).
#include "app/cli/training_command.h"

#ifdef EDGETUNE_HAVE_TRAINING
#include <memory>

#include "app/cli/output_paths.h"
#include "app/cli/shared_options.h"
#include "app/cli/training_options.h"
#endif

namespace edgetune::cli {

#ifdef EDGETUNE_HAVE_TRAINING

void addDistillCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand(
      "distill", "Train a student model from a teacher's soft outputs (knowledge distillation)");
  cmd->add_option("model", a->model, "Student: ONNX model file or zoo:ARCH[?key=value...]")->required();
  cmd->add_option("--teacher", a->options.distill.teacher_path, "Teacher ONNX model (same classes)")
      ->required();
  cmd->add_option("--temperature", a->options.distill.temperature, "Softmax temperature T")
      ->capture_default_str()
      ->check(realRange(0, 100, Interval::OpenLow));
  cmd->add_option("--alpha", a->options.distill.alpha, "Weight of the distillation term (1 - alpha: labels)")
      ->capture_default_str()
      ->check(realRange(0, 1));
  cmd->add_option("--hint", a->hints, "Hint loss STUDENT_TENSOR:TEACHER_TENSOR (MSE, repeatable)");
  cmd->add_option("--hint-weight", a->options.distill.hint_weight, "Weight of the hint losses")
      ->capture_default_str()
      ->check(realRange(0, 1e6));
  addTrainingOptions(cmd, *a);
  cmd->callback([a, &global, &run] {
    run = [a, &global] {
      trainingFiles(*a).input("--teacher", a->options.distill.teacher_path, true).check();
      const Model model = loadModelSpec(a->model, a->input, global);
      const DistillOptions& d = a->options.distill;
      // The teacher is read as the trainer always read it (as given, no clean-up), named by its file.
      TrainingStep training{"distill",
                            {{"teacher", d.teacher_path},
                             {"temperature", d.temperature},
                             {"alpha", d.alpha},
                             {"hints", a->hints},
                             {"hint_weight", d.hint_weight}},
                            {{d.teacher_path, std::make_shared<const Model>(Model::load(d.teacher_path))}},
                            {}};
      return runTrainingCommand(global, *a, "distill", std::move(training), model, trainedLines);
    };
  });
}

#else

void addDistillCommand(CLI::App& app, const GlobalOptions&, Action& run) {
  addUnavailableTrainingCommand(app, "distill", run);
}

#endif

}  // namespace edgetune::cli
