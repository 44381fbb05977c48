// edgetune-cli train / finetune / distill: train an ONNX (or model-zoo) model with the libtorch interpreter.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "app/cli/cli_common.h"
#include "core/analysis/evaluate.h"
#include "core/data/dataset.h"
#include "core/data/readers.h"
#include "core/data/tokenizer.h"
#include "core/ir/model.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"

#ifdef EDGETUNE_HAVE_TRAINING
#include "core/train/qat.h"
#include "core/train/recovery.h"
#include "core/train/trainer.h"
#include "core/train/transfer.h"
#endif

namespace edgetune::cli {
namespace {

// MODEL is an ONNX file or "zoo:ARCH[?key=value&...]" (core/zoo/model_source.h), so one command reproduces a
// demo model from scratch. A file goes through the clean-up on the way in (BatchNorm kept: it trains), unless
// --no-clean.
Model loadModelSpec(const std::string& spec, const ModelInputArgs& input, const GlobalOptions& global) {
  if (spec.rfind("zoo:", 0) != 0) {
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
  cmd->add_option("--data", a.data, "Training dataset spec (see README, Dataset specs)")->required();
  cmd->add_option("--val", a.val, "Validation dataset spec (accuracy after every epoch)");
  cmd->add_option("--test", a.test, "Test dataset spec: accuracy of the result in ONNX Runtime at the end");
  cmd->add_option("-o,--output", a.output, "Output ONNX file with the trained weights")->required();
  auto& o = a.options;
  cmd->add_option("--epochs", o.epochs, "Epochs")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batch", o.batch_size, "Batch size")->capture_default_str()->check(CLI::PositiveNumber);
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
  cmd->add_option("--seed", o.seed, "Seed (data order, augmentation, dropout)")->capture_default_str();
  cmd->add_option("--threads", o.threads, "libtorch intra-op threads (0 = library default)")
      ->capture_default_str();
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

TrainOptions resolvedOptions(const TrainArgs& a) {
  TrainOptions o = a.options;
  o.optimizer = parseOptimizer(a.optimizer);
  o.schedule = parseSchedule(a.schedule);
  o.nesterov = !a.no_nesterov;
  o.augment.enabled = a.augment;
  o.augment.horizontal_flip = !a.no_flip;
  o.checkpoint_dir = a.checkpoint;
  o.resume = a.resume;
  return o;
}

int runTraining(const GlobalOptions& global, TrainArgs& a, const std::string& title, Model model) {
  TrainOptions o = resolvedOptions(a);
  if (!model.sourcePath().empty() && samePath(model.sourcePath(), a.output))
    throw Error(a.output + ": refusing to overwrite the input model; choose another output file");

  if (a.build_vocab > 0) buildVocabFor(a.data, a.build_vocab, global);
  auto train = openDataset(a.data);
  std::shared_ptr<const Dataset> val = a.val.empty() ? nullptr : openDataset(a.val);
  std::shared_ptr<const Dataset> test = a.test.empty() ? nullptr : openDataset(a.test);
  if (test) {
    // Fail before hours of training, not after.
    std::vector<TensorInfo> infos;
    for (const auto& v : model.inputs()) infos.push_back({v.name, v.type, v.shape});
    checkInputsFit(infos, test->features(), test->name());
  }
  if (!global.quiet)
    std::cerr << title << ": " << model.origin() << " on " << train->name()
              << (val ? ", validation " + val->name() : std::string()) << "\n";

  auto job = makeTrainJob(global, title);
  auto on_epoch = [&](const EpochStats& s) {
    if (global.quiet) return;
    endProgress();
    char line[256];
    std::snprintf(line, sizeof line,
                  "epoch %d/%d  loss %.4f  train %.2f%%  val %s  lr %.5f  %.0f ex/s  %.0f s\n", s.epoch,
                  o.epochs, s.train_loss, 100 * s.train_accuracy,
                  s.validation_accuracy >= 0 ? percent(s.validation_accuracy).c_str() : "-", s.learning_rate,
                  s.examples_per_second, s.seconds);
    std::cerr << line << std::flush;
  };
  TrainResult result = trainModel(model, *train, val.get(), o, job.get(), on_epoch);
  result.model.save(a.output);

  nlohmann::json j;
  j["output"] = a.output;
  j["dataset"] = train->name();
  j["epochs"] = o.epochs;
  j["resumed_from_epoch"] = result.resumed_from_epoch;
  j["seconds"] = result.seconds;
  j["history"] = nlohmann::json::array();
  for (const auto& s : result.history)
    j["history"].push_back({{"epoch", s.epoch},
                            {"train_loss", s.train_loss},
                            {"train_accuracy", s.train_accuracy},
                            {"validation_accuracy", s.validation_accuracy},
                            {"examples_per_second", s.examples_per_second}});
  std::ostringstream text;
  text << "output       " << a.output << "\n";
  text << "trained on   " << train->name() << ", " << o.epochs << " epochs";
  if (result.resumed_from_epoch) text << " (resumed after epoch " << result.resumed_from_epoch << ")";
  text << ", " << static_cast<int>(result.seconds) << " s\n";
  if (!result.history.empty()) {
    const auto& last = result.history.back();
    text << "final loss   " << last.train_loss << ", train accuracy " << percent(last.train_accuracy) << "\n";
    if (last.validation_accuracy >= 0) {
      text << "validation   " << percent(last.validation_accuracy) << " (" << val->name() << ")\n";
      j["validation_accuracy"] = last.validation_accuracy;
    }
  }
  if (test) {
    OrtOptions ort;
    ort.intra_op_threads = o.threads;
    auto executor = makeOrtExecutor(result.model, ort);
    EvalOptions eval;
    EvalResult r = evaluate(*executor, *test, eval, job.get());
    text << "test         " << percent(r.top1) << " in ONNX Runtime (" << test->name() << ")\n";
    j["test_accuracy"] = r.top1;
  }
  emit(global, j, text.str());
  return 0;
}

double ortAccuracy(const Model& model, const Dataset& data, int threads, JobContext* job) {
  OrtOptions ort;
  ort.intra_op_threads = threads;
  auto executor = makeOrtExecutor(model, ort);
  return evaluate(*executor, data, EvalOptions{}, job).top1;
}

void printEpoch(const GlobalOptions& global, const EpochStats& s, int epochs) {
  if (global.quiet) return;
  endProgress();
  char line[256];
  std::snprintf(line, sizeof line,
                "epoch %d/%d  loss %.4f  train %.2f%%  val %s  lr %.5f  %.0f ex/s  %.0f s\n", s.epoch, epochs,
                s.train_loss, 100 * s.train_accuracy,
                s.validation_accuracy >= 0 ? percent(s.validation_accuracy).c_str() : "-", s.learning_rate,
                s.examples_per_second, s.seconds);
  std::cerr << line << std::flush;
}

nlohmann::json historyJson(const std::vector<EpochStats>& history) {
  nlohmann::json h = nlohmann::json::array();
  for (const auto& s : history)
    h.push_back({{"epoch", s.epoch},
                 {"train_loss", s.train_loss},
                 {"train_accuracy", s.train_accuracy},
                 {"validation_accuracy", s.validation_accuracy}});
  return h;
}

struct RecoverArgs {
  TrainArgs train;
  std::string mask_from;
  bool no_masks = false;
  double gradual = 0;
  int gradual_epochs = 0;
  std::string gradual_exclude;
};

int runRecover(const GlobalOptions& global, RecoverArgs& a) {
  RecoveryOptions o;
  o.train = resolvedOptions(a.train);
  const Model pruned = loadModel(a.train.model, a.train.input, /*fold_batchnorm=*/false).model;
  if (samePath(a.train.model, a.train.output))
    throw Error(a.train.output + ": refusing to overwrite the input model; choose another output file");
  if (!a.mask_from.empty()) {
    if (a.no_masks) throw Error("recover: --mask-from and --no-masks contradict each other");
    o.masks = masksFromZeros(Model::load(a.mask_from));
    if (o.masks.empty()) throw Error(a.mask_from + ": has no zero weights to take masks from (--mask-from)");
  }
  o.masks_from_zeros = !a.no_masks;
  o.gradual_sparsity = a.gradual;
  o.gradual_epochs = a.gradual_epochs;
  o.gradual_exclude_regex = a.gradual_exclude;
  auto train = openDataset(a.train.data);
  std::shared_ptr<const Dataset> val = a.train.val.empty() ? nullptr : openDataset(a.train.val);
  std::shared_ptr<const Dataset> test = a.train.test.empty() ? nullptr : openDataset(a.train.test);
  auto job = makeTrainJob(global, "recover");
  RecoveryResult r = recoverPruned(pruned, *train, val.get(), o, job.get(),
                                   [&](const EpochStats& s) { printEpoch(global, s, o.train.epochs); });
  r.model.save(a.train.output);

  nlohmann::json j;
  j["output"] = a.train.output;
  j["dataset"] = train->name();
  j["epochs"] = o.train.epochs;
  j["masked_weights"] = r.masked_weights;
  j["distilled_from"] = o.train.distill.teacher_path;
  j["seconds"] = r.seconds;
  j["history"] = historyJson(r.history);
  std::ostringstream text;
  text << "output       " << a.train.output << "\n";
  text << "recovered    " << o.train.epochs << " epochs on " << train->name()
       << (o.train.distill.teacher_path.empty() ? "" : ", distilled from " + o.train.distill.teacher_path)
       << ", " << r.masked_weights << " pruned weights held at zero\n";
  if (r.accuracy_before >= 0) {
    j["validation_accuracy_before"] = r.accuracy_before;
    j["validation_accuracy"] = r.final_validation_accuracy;
    text << "validation   " << percent(r.accuracy_before) << " -> " << percent(r.final_validation_accuracy)
         << " (" << val->name() << ")\n";
  }
  if (test) {
    const double before = ortAccuracy(pruned, *test, o.train.threads, job.get());
    const double after = ortAccuracy(r.model, *test, o.train.threads, job.get());
    j["test_accuracy_before"] = before;
    j["test_accuracy"] = after;
    text << "test         " << percent(before) << " -> " << percent(after) << " in ONNX Runtime ("
         << test->name() << ")\n";
  }
  emit(global, j, text.str());
  return 0;
}

struct QatArgs {
  TrainArgs train;
  std::string calib;
  QuantizeOptions quantize;
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

int runQat(const GlobalOptions& global, QatArgs& a) {
  const TrainOptions to = resolvedOptions(a.train);
  const Model input = loadModel(a.train.model, a.train.input, /*fold_batchnorm=*/false).model;
  if (samePath(a.train.model, a.train.output))
    throw Error(a.train.output + ": refusing to overwrite the input model; choose another output file");
  auto train = openDataset(a.train.data);
  std::shared_ptr<const Dataset> val = a.train.val.empty() ? nullptr : openDataset(a.train.val);
  std::shared_ptr<const Dataset> test = a.train.test.empty() ? nullptr : openDataset(a.train.test);
  auto job = makeTrainJob(global, "qat");
  auto on_epoch = [&](const EpochStats& s) { printEpoch(global, s, to.epochs); };
  QatResult r;
  const bool from_qdq = isStaticQdq(input);
  if (from_qdq) {
    if (!a.calib.empty() && !global.quiet)
      std::cerr << "qat: " << a.train.model
                << " is already quantized; its scales are used and --calib is ignored\n";
    r = quantizationAwareTrainingFromQdq(input, *train, val.get(), to, a.quantize.reduce_range, job.get(),
                                         on_epoch);
  } else {
    if (a.calib.empty())
      throw Error("qat: " + a.train.model +
                  " is a float model; --calib SPEC is needed for the post-training scales");
    QatOptions o;
    o.train = to;
    o.quantize = a.quantize;
    o.quantize.mode = "static";
    o.quantize.per_channel = !a.per_tensor;
    auto calib = openDataset(a.calib);
    r = quantizationAwareTraining(input, *train, val.get(), *calib, o, job.get(), on_epoch);
  }
  r.model.save(a.train.output);

  nlohmann::json j;
  j["output"] = a.train.output;
  j["dataset"] = train->name();
  j["epochs"] = to.epochs;
  j["weights_trained"] = r.weights;
  j["started_from"] = from_qdq ? "qdq model" : "post-training quantization";
  j["seconds"] = r.seconds;
  j["history"] = historyJson(r.history);
  std::ostringstream text;
  text << "output       " << a.train.output << "\n";
  text << "QAT          " << to.epochs << " epochs on " << train->name() << ", " << r.weights
       << " int8 weight tensors trained through fake quantization\n";
  // Accuracy of quantized models is measured in ONNX Runtime (on --test, else --val).
  const Dataset* eval_set = test ? test.get() : val.get();
  if (eval_set) {
    const double ptq = ortAccuracy(r.ptq_model, *eval_set, to.threads, job.get());
    const double qat = ortAccuracy(r.model, *eval_set, to.threads, job.get());
    j["ptq_accuracy"] = ptq;
    j["qat_accuracy"] = qat;
    j["accuracy_dataset"] = eval_set->name();
    text << "accuracy     PTQ " << percent(ptq) << " -> QAT " << percent(qat) << " in ONNX Runtime ("
         << eval_set->name() << ")\n";
  }
  emit(global, j, text.str());
  return 0;
}

#endif  // EDGETUNE_HAVE_TRAINING

}  // namespace

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
      return runTraining(global, *a, "train", loadModelSpec(a->model, a->input, global));
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
      Model model = loadModelSpec(a->model, a->input, global);
      ClassifierHead head = findClassifierHead(model, a->options.output);
      if (a->classes > 0) head = replaceClassifierHead(model, a->classes, a->options.seed, a->options.output);
      if (a->freeze) a->options.frozen = parametersBeforeHead(model, head);
      if (!global.quiet)
        std::cerr << "finetune: head " << head.node << " (" << head.in_features << " -> " << head.classes
                  << " classes)" << (a->freeze ? ", everything before it frozen" : "") << "\n";
      return runTraining(global, *a, "finetune", std::move(model));
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
  cmd->callback([a, &global, &run] { run = [a, &global] { return runRecover(global, *a); }; });
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
  cmd->callback([a, &global, &run] { run = [a, &global] { return runQat(global, *a); }; });
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
      for (const auto& h : a->hints) {
        const auto colon = h.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == h.size())
          throw Error("--hint '" + h + "' is not STUDENT_TENSOR:TEACHER_TENSOR");
        a->options.distill.hints.emplace_back(h.substr(0, colon), h.substr(colon + 1));
      }
      return runTraining(global, *a, "distill", loadModelSpec(a->model, a->input, global));
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
