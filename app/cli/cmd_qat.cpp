// edgetune-cli qat: quantization-aware training (static INT8 scales from calibration, then training with fake
// quantization, exported as int8 Q/DQ): the pipeline's qat step run on its own (training_command.h's flow).
#include "app/cli/training_command.h"

#ifdef EDGETUNE_HAVE_TRAINING
#include <iostream>
#include <memory>

#include "app/cli/output_paths.h"
#include "app/cli/shared_options.h"
#include "app/cli/training_options.h"
#include "core/passes/quantize_passes.h"
#include "core/util/error.h"
#endif

namespace edgetune::cli {

#ifdef EDGETUNE_HAVE_TRAINING

namespace {

struct QatArgs {
  TrainArgs train;
  std::string calib;
  QuantizeOptions quantize;
  // The closed sets as spelled on the command line (QuantizeOptions holds them as enums).
  std::string calibration = "minmax", activation_type = "uint8";
  bool per_tensor = false;
};

// True if `model` already holds int8 weights behind DequantizeLinear (a static QDQ model).
bool isStaticQdq(const Model& model) {
  for (const auto& n : model.graph().node())
    if (n.op_type() == "DequantizeLinear" && n.input_size() > 0)
      if (const auto* init = model.initializer(n.input(0));
          init && init->data_type() == onnx::TensorProto::INT8)
        return true;
  return false;
}

}  // namespace

void addQatCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  auto a = std::make_shared<QatArgs>();
  a->train.options.learning_rate = 0.01;
  a->train.options.epochs = 3;
  auto* cmd = app.add_subcommand("qat",
                                 "Quantization-aware training: static INT8 scales from calibration, then "
                                 "training with fake quantization, exported as int8 Q/DQ");
  cmd->add_option("model", a->train.model, "Float ONNX model, or a static QDQ model from `quantize`")
      ->required();
  cmd->add_option("--calib", a->calib, "Calibration dataset spec (float model input)");
  cmd->add_option("--calib-samples", a->quantize.samples, "Calibration examples")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxSamples));
  cmd->add_option("--calibration", a->calibration, "minmax, percentile, entropy or mse")
      ->capture_default_str()
      ->check(CLI::IsMember(enumSpellings<CalibrationMethod>()));
  cmd->add_flag("--per-tensor", a->per_tensor, "One weight scale per tensor (default: per output channel)");
  cmd->add_option("--act-type", a->activation_type, "uint8 or int8 activations")
      ->capture_default_str()
      ->check(CLI::IsMember(enumSpellings<ActivationType>()));
  cmd->add_flag("--symmetric", a->quantize.symmetric_activations, "Symmetric activations");
  cmd->add_flag("--reduce-range,!--full-range", a->quantize.reduce_range,
                "7-bit weights (the default; 8-bit u8 x s8 saturates on x86 without VNNI); --full-range: "
                "8-bit weights, for CPUs with VNNI or Arm dot product");
  addTrainingOptions(cmd, a->train);
  cmd->callback([a, &global, &run] {
    run = [a, &global] {
      trainingFiles(a->train).dataset("--calib", a->calib).check();
      const Model input = loadModelSpec(a->train.model, a->train.input, global);
      const bool from_qdq = isStaticQdq(input);
      if (from_qdq && !a->calib.empty() && !global.quiet)
        std::cerr << "qat: " << a->train.model
                  << " is already quantized; its scales are used and --calib is ignored\n";
      if (!from_qdq && a->calib.empty())
        throw Error("qat: " + a->train.model +
                    " is a float model; --calib SPEC is needed for the post-training scales");
      const QuantizeOptions& q = a->quantize;
      TrainingStep training{"qat",
                            {{"calibration_data", from_qdq ? "" : "calibration"},
                             {"samples", q.samples},
                             {"calibration", a->calibration},
                             {"per_channel", !a->per_tensor},
                             {"activation_type", a->activation_type},
                             {"symmetric_activations", q.symmetric_activations},
                             {"reduce_range", q.reduce_range}},
                            {},
                            {}};
      if (!from_qdq) training.datasets["calibration"] = openDataset(a->calib);
      return runTrainingCommand(
          global, a->train, "qat", std::move(training), input,
          [](const TrainingOutcome& t, nlohmann::json& j, std::ostringstream& text) {
            const nlohmann::json& r = t.done.output.result;
            j["weights_trained"] = r.at("weights_trained");
            j["started_from"] = r.at("started_from");
            text << "QAT          " << r.at("epochs").get<int>() << " epochs on " << t.train.name() << ", "
                 << r.at("weights_trained").get<int64_t>()
                 << " int8 weight tensors trained through fake quantization\n";
            // Accuracy of quantized models is measured in ONNX Runtime (on --test, else --val).
            const std::shared_ptr<const Dataset>& eval_set = t.test ? t.test : t.validation;
            if (eval_set) {
              const Model ptq_model = Model::load(t.done.work_dir / "ptq.onnx");  // the step's artifact
              const double ptq = ortAccuracy(ptq_model, eval_set, t.threads, t.job);
              const double qat = ortAccuracy(*t.done.output.model, eval_set, t.threads, t.job);
              j["ptq_accuracy"] = ptq;
              j["qat_accuracy"] = qat;
              j["accuracy_dataset"] = eval_set->name();
              text << "accuracy     PTQ " << percent(ptq) << " -> QAT " << percent(qat)
                   << " in ONNX Runtime (" << eval_set->name() << ")\n";
            }
          });
    };
  });
}

#else

void addQatCommand(CLI::App& app, const GlobalOptions&, Action& run) {
  addUnavailableTrainingCommand(app, "qat", run);
}

#endif

}  // namespace edgetune::cli
