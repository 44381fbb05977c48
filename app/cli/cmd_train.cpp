// edgetune-cli train / finetune / distill / recover / qat: train an ONNX (or model-zoo) model with the
// libtorch interpreter. Each is the pipeline's training step of that name (train: finetune) run on its own
// (single_step.h), through one flow: open the data, run the step with its epochs printed as they end, write
// the model, report (test accuracy through the evaluate step).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "app/cli/cli_common.h"
#include "app/cli/shared_options.h"
#include "core/data/dataset.h"
#include "core/data/readers.h"
#include "core/data/tokenizer.h"
#include "core/ir/model.h"
#include "core/pipeline/single_step.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"

#ifdef EDGETUNE_HAVE_TRAINING
#include "core/passes/quantize_passes.h"
#include "core/train/trainer.h"
#endif

namespace edgetune::cli {
namespace {

// MODEL is an ONNX file or "zoo:ARCH[?key=value&...]" (core/zoo/model_source.h), so one command reproduces a
// demo model from scratch. A file goes through the clean-up on the way in (BatchNorm kept: it trains), unless
// --no-clean.
Model loadModelSpec(const std::string& spec, const ModelInputArgs& input, const GlobalOptions& global) {
  if (!zoo::isZooSource(spec)) {
    LoadedModel loaded = loadModel(spec, input, /*fold_batchnorm=*/false);
    if (!global.quiet && !global.json) std::cerr << loaded.clean.summary() << "\n";
    return std::move(loaded.model);
  }
  return zoo::loadModelSource(spec);
}

#ifdef EDGETUNE_HAVE_TRAINING

struct TrainArgs {
  std::string model, data, val, test, output;
  std::string optimizer = "sgd", schedule = "cosine";
  bool augment = false, no_flip = false, no_nesterov = false, resume = false;
  std::string checkpoint;
  TrainOptions options;
  // finetune
  int64_t classes = 0;
  bool freeze = false;
  // distill
  std::vector<std::string> hints;
  size_t build_vocab = 0;
  ModelInputArgs input;  // --no-clean
};

void addTrainingOptions(CLI::App* cmd, TrainArgs& a) {
  addDataOption(cmd, a.data, "Training dataset")->required();
  cmd->add_option("--val", a.val, "Validation dataset spec (accuracy after every epoch)");
  cmd->add_option("--test", a.test, "Test dataset spec: accuracy of the result in ONNX Runtime at the end");
  cmd->add_option("-o,--output", a.output, "Output ONNX file with the trained weights")->required();
  auto& o = a.options;
  cmd->add_option("--epochs", o.epochs, "Epochs")->capture_default_str()->check(CLI::PositiveNumber);
  addBatchOption(cmd, o.batch_size);
  cmd->add_option("--lr", o.learning_rate, "Peak learning rate")->capture_default_str();
  cmd->add_option("--optimizer", a.optimizer, "sgd or adamw")
      ->capture_default_str()
      ->check(CLI::IsMember({"sgd", "adamw"}));
  cmd->add_option("--momentum", o.momentum, "SGD momentum")->capture_default_str();
  cmd->add_flag("--no-nesterov", a.no_nesterov, "Plain momentum instead of Nesterov (SGD)");
  cmd->add_option("--schedule", a.schedule, "cosine, step or constant")
      ->capture_default_str()
      ->check(CLI::IsMember({"cosine", "step", "constant"}));
  cmd->add_option("--step-epochs", o.step_epochs, "Step schedule: epochs between rate drops")
      ->capture_default_str();
  cmd->add_option("--step-gamma", o.step_gamma, "Step schedule: factor per drop")->capture_default_str();
  cmd->add_option("--warmup", o.warmup_epochs, "Linear warm-up epochs (fractions allowed)")
      ->capture_default_str();
  cmd->add_option("--wd", o.weight_decay, "Weight decay (not on biases and norm parameters)")
      ->capture_default_str();
  cmd->add_option("--label-smoothing", o.label_smoothing, "Label smoothing")->capture_default_str();
  cmd->add_flag("--augment", a.augment, "Random crop with padding and horizontal flip (image features)");
  cmd->add_option("--crop-padding", o.augment.crop_padding, "Padding of the random crop (pixels)")
      ->capture_default_str();
  cmd->add_flag("--no-flip", a.no_flip, "No horizontal flips when augmenting");
  addSeedOption(cmd, o.seed, "the data order, augmentation and dropout");
  addThreadsOption(cmd, o.threads, "libtorch", "the library default");
  cmd->add_option("--checkpoint", a.checkpoint, "Checkpoint folder (written after every epoch)");
  cmd->add_flag("--resume", a.resume, "Continue from the checkpoint in --checkpoint if there is one");
  cmd->add_option("--steps-per-epoch", o.max_steps_per_epoch,
                  "Limit the steps per epoch (0 = whole dataset)");
  cmd->add_option(
      "--build-vocab", a.build_vocab,
      "Text data: first build a WordPiece vocabulary of N tokens from the --data texts and write it to "
      "the file its vocab= key names");
  cmd->add_option("--output-name", o.output, "Model output holding the logits (default: the first)");
  cmd->add_flag("--no-clean", a.input.no_clean,
                "Train the model exactly as given (no Identity/Dropout removal or constant folding first)");
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * fraction);
  return buf;
}

// The vocabulary is built from the training texts only (the spec's subset=), so no test text leaks into it.
void buildVocabFor(const std::string& spec, size_t size, const GlobalOptions& global) {
  const auto q = spec.find('?');
  std::string vocab_path;
  if (q != std::string::npos) {
    std::stringstream pairs(spec.substr(q + 1));
    std::string pair;
    while (std::getline(pairs, pair, '&'))
      if (pair.rfind("vocab=", 0) == 0) vocab_path = pair.substr(6);
  }
  if (vocab_path.empty())
    throw Error("--build-vocab: the --data spec '" + spec + "' has no vocab=PATH to write to");
  TextCorpus corpus = readTextCorpus(spec);
  std::vector<std::string> vocab = buildWordPieceVocab(corpus.texts, size);
  writeVocab(vocab_path, vocab);
  if (!global.quiet)
    std::cerr << "vocabulary: " << vocab.size() << " tokens from " << corpus.texts.size() << " texts of "
              << corpus.name << " -> " << vocab_path << "\n";
}

// A progress bar on a terminal; otherwise (a log file) one progress line every 30 s.
std::unique_ptr<JobContext> makeTrainJob(const GlobalOptions& global, const std::string& title) {
  if (global.quiet || ::isatty(STDERR_FILENO)) return makeJob(global, title);
  return std::make_unique<JobContext>(
      [title](const Progress& p) {
        // No ETA until there is a rate to extrapolate from (the job reports a negative one then).
        char eta[48] = "";
        if (p.eta_seconds >= 0) std::snprintf(eta, sizeof eta, "  ETA %.0f s", p.eta_seconds);
        char line[320];
        std::snprintf(line, sizeof line, "%s %5.1f%%  %s%s\n", title.c_str(), 100 * p.fraction,
                      p.message.c_str(), eta);
        std::cerr << line << std::flush;
      },
      std::chrono::seconds(30));
}

// True if `model` already holds int8 weights behind DequantizeLinear (a static QDQ model).
bool isStaticQdq(const Model& model) {
  for (const auto& n : model.graph().node())
    if (n.op_type() == "DequantizeLinear" && n.input_size() > 0)
      if (const auto* init = model.initializer(n.input(0));
          init && init->data_type() == onnx::TensorProto::INT8)
        return true;
  return false;
}

// The trainer's flags as the training steps' options (steps_training.cpp's names).
nlohmann::json trainerOptions(const TrainArgs& a, bool has_validation) {
  const TrainOptions& o = a.options;
  return {{"epochs", o.epochs},
          {"batch_size", o.batch_size},
          {"optimizer", a.optimizer},
          {"lr", o.learning_rate},
          {"momentum", o.momentum},
          {"nesterov", !a.no_nesterov},
          {"weight_decay", o.weight_decay},
          {"schedule", a.schedule},
          {"warmup", o.warmup_epochs},
          {"step_epochs", o.step_epochs},
          {"step_gamma", o.step_gamma},
          {"label_smoothing", o.label_smoothing},
          {"augment", a.augment},
          {"crop_padding", o.augment.crop_padding},
          {"flip", !a.no_flip},
          {"seed", o.seed},
          {"threads", o.threads},
          {"max_steps_per_epoch", o.max_steps_per_epoch},
          {"output", o.output},
          {"data", "train"},
          {"validation", has_validation ? "validation" : ""},
          // --checkpoint DIR is the checkpoint folder itself; without it the step keeps one in its
          // temporary folder, which goes when the command ends (as no checkpoint did before).
          {"checkpoint_dir", a.checkpoint},
          {"resume", a.resume}};
}

// What one training command adds to the shared flow: its step kind, the options beyond the trainer's, the
// models they name (a teacher, by its file name) and extra datasets (calibration).
struct TrainingStep {
  std::string kind;
  nlohmann::json options = nlohmann::json::object();
  pipeline::MappedStepContext::ModelMap models;
  std::map<std::string, std::shared_ptr<const Dataset>> datasets;
};

// What the command's own report lines read: its input, the step's result, the datasets.
struct TrainingOutcome {
  const Model& input;
  const pipeline::SingleStepResult& done;
  const Dataset& train;
  std::shared_ptr<const Dataset> validation, test;  // null when not given
  int threads;                                      // --threads, for ONNX Runtime too
  JobContext* job;
};

// Accuracy in ONNX Runtime, through the "evaluate" step (what `edgetune-cli eval` runs).
double ortAccuracy(const Model& model, const std::shared_ptr<const Dataset>& data, int threads,
                   JobContext* job) {
  pipeline::SingleStep step;
  step.kind = "evaluate";
  step.options = {{"data", "test"}, {"threads", threads}};
  step.datasets["test"] = data;
  step.job = job;
  return pipeline::runSingleStep(model, step).output.result.at("top1").get<double>();
}

using ReportLines = std::function<void(const TrainingOutcome&, nlohmann::json&, std::ostringstream&)>;

// The one flow of train, finetune, distill, recover and qat: open the data, run the training step with its
// epochs printed as they end, write the model, then the shared report and the command's own lines.
int runTrainingCommand(const GlobalOptions& global, const TrainArgs& a, const std::string& title,
                       TrainingStep training, const Model& input, const ReportLines& report_lines) {
  if (!input.sourcePath().empty() && samePath(input.sourcePath(), a.output))
    throw Error(a.output + ": refusing to overwrite the input model; choose another output file");
  if (a.resume && a.checkpoint.empty()) throw Error(title + ": --resume needs --checkpoint DIR");

  if (a.build_vocab > 0) buildVocabFor(a.data, a.build_vocab, global);
  auto train = openDataset(a.data);
  std::shared_ptr<const Dataset> val = a.val.empty() ? nullptr : openDataset(a.val);
  std::shared_ptr<const Dataset> test = a.test.empty() ? nullptr : openDataset(a.test);
  if (test) {
    // Fail before hours of training, not after.
    std::vector<TensorInfo> infos;
    for (const auto& v : input.inputs()) infos.push_back({v.name, v.type, v.shape});
    checkInputsFit(infos, test->features(), test->name());
  }
  if (!global.quiet)
    std::cerr << title << ": " << input.origin() << " on " << train->name()
              << (val ? ", validation " + val->name() : std::string()) << "\n";

  pipeline::SingleStep step;
  step.kind = training.kind;
  step.options = trainerOptions(a, val != nullptr);
  step.options.update(training.options);
  step.models = std::move(training.models);
  step.datasets = std::move(training.datasets);
  step.datasets["train"] = train;
  if (val) step.datasets["validation"] = val;
  auto job = makeTrainJob(global, title);
  step.job = job.get();
  step.on_line = [&global, &title](const std::string& line) {
    if (global.quiet) return;
    endProgress();
    // Epoch lines as they are; anything else the step says (the head it trains) under the command's name.
    std::cerr << (line.rfind("epoch ", 0) == 0 ? "" : title + ": ") << line << "\n" << std::flush;
  };
  const pipeline::SingleStepResult done = pipeline::runSingleStep(input, step);
  done.output.model->save(a.output);

  const nlohmann::json& result = done.output.result;
  nlohmann::json j;
  j["output"] = a.output;
  j["dataset"] = train->name();
  j["epochs"] = result.at("epochs");
  j["seconds"] = result.at("seconds");
  j["history"] = result.at("history");
  std::ostringstream text;
  text << "output       " << a.output << "\n";
  report_lines({input, done, *train, val, test, a.options.threads, job.get()}, j, text);
  emit(global, j, text.str());
  return 0;
}

// train, finetune and distill: the training, validation and test figures.
void trainedLines(const TrainingOutcome& t, nlohmann::json& j, std::ostringstream& text) {
  const nlohmann::json& result = t.done.output.result;
  const int resumed = result.value("resumed_from_epoch", 0);
  j["resumed_from_epoch"] = resumed;
  text << "trained on   " << t.train.name() << ", " << result.at("epochs").get<int>() << " epochs";
  if (resumed) text << " (resumed after epoch " << resumed << ")";
  text << ", " << static_cast<int>(result.at("seconds").get<double>()) << " s\n";
  if (!result.at("history").empty()) {
    const nlohmann::json& last = result.at("history").back();
    text << "final loss   " << last.at("train_loss").get<double>() << ", train accuracy "
         << percent(last.at("train_accuracy").get<double>()) << "\n";
    const double validation = last.at("validation_accuracy").get<double>();
    if (validation >= 0) {
      text << "validation   " << percent(validation) << " (" << t.validation->name() << ")\n";
      j["validation_accuracy"] = validation;
    }
  }
  if (t.test) {
    const double accuracy = ortAccuracy(*t.done.output.model, t.test, t.threads, t.job);
    text << "test         " << percent(accuracy) << " in ONNX Runtime (" << t.test->name() << ")\n";
    j["test_accuracy"] = accuracy;
  }
}

struct RecoverArgs {
  TrainArgs train;
  std::string mask_from;
  bool no_masks = false;
  double gradual = 0;
  int gradual_epochs = 0;
  std::string gradual_exclude;
};

struct QatArgs {
  TrainArgs train;
  std::string calib;
  QuantizeOptions quantize;
  bool per_tensor = false;
};

#endif  // EDGETUNE_HAVE_TRAINING

}  // namespace

#ifdef EDGETUNE_HAVE_TRAINING

// train: a model trained from the weights it has (a zoo model's initial ones) is the finetune step's trainer
// with the head left as it is and nothing frozen.
void addTrainCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a model (ONNX file or zoo:ARCH?key=value) on a dataset");
  cmd->add_option("model", a->model,
                  "ONNX model file, or zoo:ARCH[?classes=10&input_channels=1&image_size=28...]")
      ->required();
  addTrainingOptions(cmd, *a);
  cmd->callback([a, &global, &run] {
    run = [a, &global] {
      const Model model = loadModelSpec(a->model, a->input, global);
      return runTrainingCommand(global, *a, "train",
                                {"finetune", {{"classes", 0}, {"freeze", false}}, {}, {}}, model,
                                trainedLines);
    };
  });
}

void addFinetuneCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  auto a = std::make_shared<TrainArgs>();
  a->options.learning_rate = 0.01;
  auto* cmd =
      app.add_subcommand("finetune", "Fine-tune a trained model, optionally with a new classifier head");
  cmd->add_option("model", a->model, "Trained ONNX model file")->required();
  cmd->add_option("--classes", a->classes,
                  "Replace the classifier head with a fresh one for N classes (0 = keep)");
  cmd->add_flag("--freeze", a->freeze, "Train only the classifier head (freeze everything before it)");
  addTrainingOptions(cmd, *a);
  cmd->callback([a, &global, &run] {
    run = [a, &global] {
      const Model model = loadModelSpec(a->model, a->input, global);
      return runTrainingCommand(global, *a, "finetune",
                                {"finetune", {{"classes", a->classes}, {"freeze", a->freeze}}, {}, {}}, model,
                                trainedLines);
    };
  });
}

void addDistillCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand(
      "distill", "Train a student model from a teacher's soft outputs (knowledge distillation)");
  cmd->add_option("model", a->model, "Student: ONNX model file or zoo:ARCH[?key=value...]")->required();
  cmd->add_option("--teacher", a->options.distill.teacher_path, "Teacher ONNX model (same classes)")
      ->required();
  cmd->add_option("--temperature", a->options.distill.temperature, "Softmax temperature T")
      ->capture_default_str();
  cmd->add_option("--alpha", a->options.distill.alpha, "Weight of the distillation term (1 - alpha: labels)")
      ->capture_default_str();
  cmd->add_option("--hint", a->hints, "Hint loss STUDENT_TENSOR:TEACHER_TENSOR (MSE, repeatable)");
  cmd->add_option("--hint-weight", a->options.distill.hint_weight, "Weight of the hint losses")
      ->capture_default_str();
  addTrainingOptions(cmd, *a);
  cmd->callback([a, &global, &run] {
    run = [a, &global] {
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
      ->capture_default_str();
  cmd->add_option("--alpha", a->train.options.distill.alpha, "Weight of the distillation term")
      ->capture_default_str();
  cmd->add_option(
      "--mask-from", a->mask_from,
      "Hold at zero the weights that are zero in this ONNX model (default: the input model's zeros)");
  cmd->add_flag("--no-masks", a->no_masks, "Let pruned weights regrow (no masks)");
  cmd->add_option("--gradual", a->gradual,
                  "Prune gradually to this sparsity (cubic schedule) while training");
  cmd->add_option("--gradual-epochs", a->gradual_epochs,
                  "Epochs over which --gradual prunes (0 = all but the last)");
  cmd->add_option("--gradual-exclude", a->gradual_exclude, "Node-name regex --gradual never prunes");
  addTrainingOptions(cmd, a->train);
  cmd->callback([a, &global, &run] {
    run = [a, &global] {
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
  cmd->add_option("--calib-samples", a->quantize.samples, "Calibration examples")->capture_default_str();
  cmd->add_option("--calibration", a->quantize.calibration, "minmax, percentile, entropy or mse")
      ->capture_default_str()
      ->check(CLI::IsMember({"minmax", "percentile", "entropy", "mse"}));
  cmd->add_flag("--per-tensor", a->per_tensor, "One weight scale per tensor (default: per output channel)");
  cmd->add_option("--act-type", a->quantize.activation_type, "uint8 or int8 activations")
      ->capture_default_str()
      ->check(CLI::IsMember({"uint8", "int8"}));
  cmd->add_flag("--symmetric", a->quantize.symmetric_activations, "Symmetric activations");
  cmd->add_flag("--reduce-range", a->quantize.reduce_range, "Weights in [-63, 63]");
  addTrainingOptions(cmd, a->train);
  cmd->callback([a, &global, &run] {
    run = [a, &global] {
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
                             {"calibration", q.calibration},
                             {"per_channel", !a->per_tensor},
                             {"activation_type", q.activation_type},
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

// Built without libtorch: the commands exist and say why they cannot run.
namespace {
void addUnavailable(CLI::App& app, const char* name, Action& run) {
  auto* cmd = app.add_subcommand(name, "(not available: built without libtorch)");
  cmd->allow_extras();
  cmd->callback([&run, name] {
    run = [name]() -> int {
      throw Error(std::string(name) +
                  " needs the training engine; this edgetune-cli was built without libtorch");
    };
  });
}
}  // namespace
void addTrainCommand(CLI::App& app, const GlobalOptions&, Action& run) {
  addUnavailable(app, "train", run);
}
void addFinetuneCommand(CLI::App& app, const GlobalOptions&, Action& run) {
  addUnavailable(app, "finetune", run);
}
void addDistillCommand(CLI::App& app, const GlobalOptions&, Action& run) {
  addUnavailable(app, "distill", run);
}
void addRecoverCommand(CLI::App& app, const GlobalOptions&, Action& run) {
  addUnavailable(app, "recover", run);
}
void addQatCommand(CLI::App& app, const GlobalOptions&, Action& run) {
  addUnavailable(app, "qat", run);
}

#endif

}  // namespace edgetune::cli
