// edgetune-cli recover: win back a pruned model's accuracy by fine-tuning or distilling with the pruned
// weights held at zero (optionally pruning gradually): the pipeline's recover step run on its own
// (training_command.h's flow).
#include "app/cli/training_command.h"

#ifdef EDGETUNE_HAVE_TRAINING
#include <memory>

#include "app/cli/output_paths.h"
#include "app/cli/shared_options.h"
#include "app/cli/training_options.h"
#endif

namespace edgetune::cli {

#ifdef EDGETUNE_HAVE_TRAINING

namespace {

struct RecoverArgs {
  TrainArgs train;
  std::string mask_from;
  bool no_masks = false;
  double gradual = 0;
  int gradual_epochs = 0;
  std::string gradual_exclude;
};

}  // namespace

void addRecoverCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  auto a = std::make_shared<RecoverArgs>();
  a->train.options.learning_rate = 0.01;
  auto* cmd = app.add_subcommand("recover",
                                 "Recover a pruned model's accuracy: fine-tune or distill with pruned "
                                 "weights held at zero, optionally pruning gradually");
  cmd->add_option("model", a->train.model, "Pruned ONNX model")->required();
  cmd->add_option("--teacher", a->train.options.distill.teacher_path,
                  "Distill from this (unpruned) ONNX model");
  cmd->add_option("--temperature", a->train.options.distill.temperature, "Distillation temperature")
      ->capture_default_str()
      ->check(realRange(0, 100, Interval::OpenLow));
  cmd->add_option("--alpha", a->train.options.distill.alpha, "Weight of the distillation term")
      ->capture_default_str()
      ->check(realRange(0, 1));
  cmd->add_option(
      "--mask-from", a->mask_from,
      "Hold at zero the weights that are zero in this ONNX model (default: the input model's zeros)");
  cmd->add_flag("--no-masks", a->no_masks, "Let pruned weights regrow (no masks)");
  cmd->add_option("--gradual", a->gradual, "Prune gradually to this sparsity (cubic schedule) while training")
      ->check(realRange(0, 1, Interval::OpenHigh));
  cmd->add_option("--gradual-epochs", a->gradual_epochs,
                  "Epochs over which --gradual prunes (0 = all but the last)")
      ->check(CLI::Range(int64_t{0}, kMaxEpochs));
  cmd->add_option("--gradual-exclude", a->gradual_exclude,
                  "Node-name regex (RE2 syntax) --gradual never prunes")
      ->check(namePatternCheck());
  addTrainingOptions(cmd, a->train);
  cmd->callback([a, &global, &run] {
    run = [a, &global] {
      trainingFiles(a->train)
          .input("--teacher", a->train.options.distill.teacher_path, true)
          .input("--mask-from", a->mask_from, true)
          .check();
      const Model pruned = loadModelSpec(a->train.model, a->train.input, global);
      const std::string& teacher = a->train.options.distill.teacher_path;
      TrainingStep training{"recover",
                            {{"teacher", teacher},
                             {"temperature", a->train.options.distill.temperature},
                             {"alpha", a->train.options.distill.alpha},
                             {"masks", !a->no_masks},
                             {"mask_from", a->mask_from},
                             {"gradual", a->gradual},
                             {"gradual_epochs", a->gradual_epochs},
                             {"gradual_exclude", a->gradual_exclude}},
                            {},
                            {}};
      // The teacher and the mask model are read as given, named by their files.
      for (const std::string& path : {teacher, a->mask_from})
        if (!path.empty() && !training.models.count(path))
          training.models[path] = std::make_shared<const Model>(Model::load(path));
      return runTrainingCommand(
          global, a->train, "recover", std::move(training), pruned,
          [&teacher](const TrainingOutcome& t, nlohmann::json& j, std::ostringstream& text) {
            const nlohmann::json& r = t.done.output.result;
            j["masked_weights"] = r.at("masked_weights");
            j["distilled_from"] = teacher;
            text << "recovered    " << r.at("epochs").get<int>() << " epochs on " << t.train.name()
                 << (teacher.empty() ? "" : ", distilled from " + teacher) << ", "
                 << r.at("masked_weights").get<int64_t>() << " pruned weights held at zero\n";
            const double before = r.at("validation_accuracy_before").get<double>();
            if (before >= 0) {
              const double after = r.at("validation_accuracy").get<double>();
              j["validation_accuracy_before"] = before;
              j["validation_accuracy"] = after;
              text << "validation   " << percent(before) << " -> " << percent(after) << " ("
                   << t.validation->name() << ")\n";
            }
            if (t.test) {
              const double test_before = ortAccuracy(t.input, t.test, t.threads, t.job);
              const double test_after = ortAccuracy(*t.done.output.model, t.test, t.threads, t.job);
              j["test_accuracy_before"] = test_before;
              j["test_accuracy"] = test_after;
              text << "test         " << percent(test_before) << " -> " << percent(test_after)
                   << " in ONNX Runtime (" << t.test->name() << ")\n";
            }
          });
    };
  });
}

#else

void addRecoverCommand(CLI::App& app, const GlobalOptions&, Action& run) {
  addUnavailableTrainingCommand(app, "recover", run);
}

#endif

}  // namespace edgetune::cli
