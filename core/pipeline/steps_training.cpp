// The training step kinds (built only with libtorch): finetune, distill, recover and qat, as the CLI commands
// of the same names run them (cmd_train.cpp), with the trainer's option names. `data` is the training role;
// `validation` is measured after every epoch when the recipe names that role (it never changes the weights).
// A teacher is "base" or an earlier step's model, saved into the step's folder because DistillOptions reads
// a file. Checkpoints go to workDir/checkpoint with resume on, so an interrupted run continues mid-training;
// the folder is keyed by the step's inputs, so a checkpoint made with other options is never resumed. The
// CLI commands run these steps too (single_step.h), with `checkpoint_dir` and `resume` as --checkpoint and
// --resume.
#include <cstdio>
#include <filesystem>
#include <optional>

#include "core/deploy/sha256.h"
#include "core/pipeline/step_kinds.h"
#include "core/pipeline/steps_training_shared.h"
#include "core/train/qat.h"
#include "core/train/recovery.h"
#include "core/train/trainer.h"
#include "core/train/transfer.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"

namespace edgetune::pipeline {
namespace {

using namespace training_steps;

// --- finetune ---

struct FinetuneOptions {
  FinetuneOptions() { train.lr = 0.01; }  // as `edgetune-cli finetune`
  TrainFields train;
  int64_t classes = 0;  // > 0: a fresh classifier head for this many classes
  bool freeze = false;  // train only the head
};
void to_json(nlohmann::json& j, const FinetuneOptions& o) {
  j = {{"classes", o.classes}, {"freeze", o.freeze}};
  writeTrain(j, o.train);
}
void readOptions(OptionsReader& r, FinetuneOptions& o) {
  readTrain(r, o.train, "finetune");
  r.read("classes", o.classes);
  r.read("freeze", o.freeze);
  if (o.classes < 0) throwOptionError("finetune", "classes", "must be 0 (keep the head) or more");
}

class FinetuneStep final : public StepWithOptions<FinetuneOptions> {
 public:
  std::string kind() const override { return "finetune"; }
  std::vector<std::string> datasetRoles() const override { return {options_.train.data}; }

  StepOutput run(StepContext& context) override {
    const TrainData data = trainData(options_.train, context);
    TrainOptions o =
        trainOptions(options_.train, checkpointFor(options_.train, context, runKey(*this, context, data)));
    Model model = context.input();
    StepOutput out;
    // A new head or a freeze needs the classifier head; plain training (`edgetune-cli train`) takes any
    // model whose output gives logits, and names the head only when there is one.
    std::optional<ClassifierHead> head;
    if (options_.classes > 0 || options_.freeze) {
      head = findClassifierHead(model, o.output);
    } else {
      try {
        head = findClassifierHead(model, o.output);
      } catch (const Error&) {
        // no head to describe: nothing depends on it
      }
    }
    if (head) {
      if (options_.classes > 0) head = replaceClassifierHead(model, options_.classes, o.seed, o.output);
      if (options_.freeze) o.frozen = parametersBeforeHead(model, *head);
      const std::string line = "head " + head->node + " (" + std::to_string(head->in_features) + " -> " +
                               std::to_string(head->classes) + " classes)" +
                               (options_.freeze ? ", everything before it frozen" : "");
      out.lines.push_back(line);
      context.logLine(line);
    }
    TrainResult r =
        trainModel(model, *data.train, data.validation, o, context.job(), epochLines(out, context, o.epochs));
    out.result = {
        {"dataset", data.train->name()},
        {"epochs", o.epochs},
        {"resumed_from_epoch", r.resumed_from_epoch},
        {"head", head ? nlohmann::json{{"node", head->node}, {"classes", head->classes}} : nlohmann::json()},
        {"validation_accuracy", r.final_validation_accuracy},
        {"seconds", r.seconds},
        {"history", historyJson(r.history)}};
    out.model = std::move(r.model);
    return out;
  }
};

// --- distill ---

struct DistillStepOptions {
  TrainFields train;
  std::string teacher = "base";
  double temperature = DistillOptions{}.temperature;
  double alpha = DistillOptions{}.alpha;
  std::string teacher_output;
  std::vector<std::string> hints;  // "STUDENT_TENSOR:TEACHER_TENSOR", as --hint
  double hint_weight = DistillOptions{}.hint_weight;
  /// A fresh, smaller architecture to distill into ("zoo:bert?hidden=128&..."); "" = the step's input. Only
  /// zoo: sources: the string alone then determines the student, so the step's cache key stays exact.
  std::string student;
};
void to_json(nlohmann::json& j, const DistillStepOptions& o) {
  j = {{"teacher", o.teacher}, {"temperature", o.temperature},
       {"alpha", o.alpha},     {"teacher_output", o.teacher_output},
       {"hints", o.hints},     {"hint_weight", o.hint_weight},
       {"student", o.student}};
  writeTrain(j, o.train);
}
void readOptions(OptionsReader& r, DistillStepOptions& o) {
  readTrain(r, o.train, "distill");
  r.read("teacher", o.teacher);
  r.read("temperature", o.temperature);
  r.read("alpha", o.alpha);
  r.read("teacher_output", o.teacher_output);
  r.read("hints", o.hints);
  r.read("hint_weight", o.hint_weight);
  r.read("student", o.student);
  if (!o.student.empty() && !zoo::isZooSource(o.student))
    throwOptionError("distill", "student",
                     "must be a zoo: source (a fresh architecture, e.g. \"zoo:bert?hidden=128&layers=2\"); "
                     "to distill into a file's model, make it the recipe's model");
  if (o.teacher.empty())
    throwOptionError("distill", "teacher", "is required: \"base\" or an earlier step's id");
  for (const auto& h : o.hints) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == h.size())
      throwOptionError("distill", "hints", "holds '" + h + "' (expected STUDENT_TENSOR:TEACHER_TENSOR)");
  }
}

class DistillStep final : public StepWithOptions<DistillStepOptions> {
 public:
  std::string kind() const override { return "distill"; }
  std::vector<std::string> datasetRoles() const override { return {options_.train.data}; }
  std::vector<std::string> references() const override { return {options_.teacher}; }

  StepOutput run(StepContext& context) override {
    const TrainData data = trainData(options_.train, context);
    const std::string teacher_path = saveTeacher(context, options_.teacher);
    TrainOptions o = trainOptions(
        options_.train,
        checkpointFor(options_.train, context, runKey(*this, context, data, readFile(teacher_path))));
    o.distill.teacher_path = teacher_path;
    o.distill.temperature = options_.temperature;
    o.distill.alpha = options_.alpha;
    o.distill.teacher_output = options_.teacher_output;
    o.distill.hint_weight = options_.hint_weight;
    for (const auto& h : options_.hints) {
      const auto colon = h.find(':');
      o.distill.hints.emplace_back(h.substr(0, colon), h.substr(colon + 1));
    }
    StepOutput out;
    std::optional<Model> fresh_student;
    if (!options_.student.empty()) {
      fresh_student = zoo::loadModelSource(options_.student);
      out.lines.push_back("student " + options_.student + " (" +
                          std::to_string(fresh_student->parameterCount()) +
                          " parameters) from its initial weights, instead of the step's input");
    }
    TrainResult r = trainModel(fresh_student ? *fresh_student : context.input(), *data.train, data.validation,
                               o, context.job(), epochLines(out, context, o.epochs));
    out.result = {{"dataset", data.train->name()},
                  {"epochs", o.epochs},
                  {"teacher", options_.teacher},
                  {"student", options_.student.empty() ? "input" : options_.student},
                  {"resumed_from_epoch", r.resumed_from_epoch},
                  {"validation_accuracy", r.final_validation_accuracy},
                  {"seconds", r.seconds},
                  {"history", historyJson(r.history)}};
    out.artifacts.push_back(teacher_path);
    out.model = std::move(r.model);
    return out;
  }
};

// --- recover ---

struct RecoverStepOptions {
  RecoverStepOptions() { train.lr = 0.01; }  // as `edgetune-cli recover`
  TrainFields train;
  std::string teacher;  // "" = fine-tune without a teacher (as the CLI without --teacher)
  double temperature = DistillOptions{}.temperature;
  double alpha = DistillOptions{}.alpha;
  bool masks = true;      // hold the input's zero weights at zero (false: the CLI's --no-masks)
  std::string mask_from;  // take the zeros from this step's model ("base" or a step id) instead of the input
  double gradual = 0;     // prune gradually to this sparsity while training
  int gradual_epochs = 0;
  std::string gradual_exclude;
};
void to_json(nlohmann::json& j, const RecoverStepOptions& o) {
  j = {{"teacher", o.teacher},
       {"temperature", o.temperature},
       {"alpha", o.alpha},
       {"masks", o.masks},
       {"mask_from", o.mask_from},
       {"gradual", o.gradual},
       {"gradual_epochs", o.gradual_epochs},
       {"gradual_exclude", o.gradual_exclude}};
  writeTrain(j, o.train);
}
void readOptions(OptionsReader& r, RecoverStepOptions& o) {
  readTrain(r, o.train, "recover");
  r.read("teacher", o.teacher);
  r.read("temperature", o.temperature);
  r.read("alpha", o.alpha);
  r.read("masks", o.masks);
  r.read("mask_from", o.mask_from);
  r.read("gradual", o.gradual);
  r.read("gradual_epochs", o.gradual_epochs);
  r.read("gradual_exclude", o.gradual_exclude);
  if (!o.mask_from.empty() && !o.masks) throwOptionError("recover", "mask_from", "contradicts masks: false");
  if (!(o.gradual >= 0 && o.gradual < 1))
    throwOptionError("recover", "gradual", "must be a sparsity in [0, 1)");
  if (o.gradual_epochs < 0)
    throwOptionError("recover", "gradual_epochs", "must be 0 (all but the last) or more");
}

class RecoverStep final : public StepWithOptions<RecoverStepOptions> {
 public:
  std::string kind() const override { return "recover"; }
  std::vector<std::string> datasetRoles() const override { return {options_.train.data}; }
  std::vector<std::string> references() const override {
    std::vector<std::string> refs;
    if (!options_.teacher.empty()) refs.push_back(options_.teacher);
    if (!options_.mask_from.empty() && options_.mask_from != options_.teacher)
      refs.push_back(options_.mask_from);
    return refs;
  }

  StepOutput run(StepContext& context) override {
    const TrainData data = trainData(options_.train, context);
    const std::string teacher_path = options_.teacher.empty() ? "" : saveTeacher(context, options_.teacher);
    RecoveryOptions o;
    const std::string extra =
        (teacher_path.empty() ? "" : readFile(teacher_path)) +
        (options_.mask_from.empty() ? "" : context.modelOf(options_.mask_from).serialize());
    o.train = trainOptions(options_.train,
                           checkpointFor(options_.train, context, runKey(*this, context, data, extra)));
    o.train.distill.teacher_path = teacher_path;
    o.train.distill.temperature = options_.temperature;
    o.train.distill.alpha = options_.alpha;
    if (!options_.mask_from.empty()) {
      o.masks = masksFromZeros(context.modelOf(options_.mask_from));
      if (o.masks.empty())
        throw Error("step '" + context.stepId() + "': mask_from '" + options_.mask_from +
                    "' has no zero weights to take masks from");
    }
    o.masks_from_zeros = options_.masks;
    o.gradual_sparsity = options_.gradual;
    o.gradual_epochs = options_.gradual_epochs;
    o.gradual_exclude_regex = options_.gradual_exclude;
    StepOutput out;
    RecoveryResult r = recoverPruned(context.input(), *data.train, data.validation, o, context.job(),
                                     epochLines(out, context, o.train.epochs));
    out.result = {{"dataset", data.train->name()},
                  {"epochs", o.train.epochs},
                  {"teacher", options_.teacher},
                  {"masked_weights", r.masked_weights},
                  {"validation_accuracy_before", r.accuracy_before},
                  {"validation_accuracy", r.final_validation_accuracy},
                  {"seconds", r.seconds},
                  {"history", historyJson(r.history)}};
    if (!teacher_path.empty()) out.artifacts.push_back(teacher_path);
    out.model = std::move(r.model);
    return out;
  }
};

// --- qat ---

struct QatStepOptions {
  QatStepOptions() {
    train.lr = 0.01;  // as `edgetune-cli qat`
    train.epochs = 3;
  }
  TrainFields train;
  std::string calibration_data = "calibration";  // role of the calibration examples (float input models)
  int64_t samples = QuantizeOptions{}.samples;
  CalibrationMethod calibration = QuantizeOptions{}.calibration;
  double percentile = QuantizeOptions{}.percentile;
  bool per_channel = QuantizeOptions{}.per_channel;
  ActivationType activation_type = QuantizeOptions{}.activation_type;
  bool symmetric_activations = QuantizeOptions{}.symmetric_activations;
  bool reduce_range = QuantizeOptions{}.reduce_range;
  std::vector<std::string> exclude_nodes;
  std::vector<std::string> exclude_ops;
};
void to_json(nlohmann::json& j, const QatStepOptions& o) {
  j = {{"calibration_data", o.calibration_data},
       {"samples", o.samples},
       {"calibration", o.calibration},
       {"percentile", o.percentile},
       {"per_channel", o.per_channel},
       {"activation_type", o.activation_type},
       {"symmetric_activations", o.symmetric_activations},
       {"reduce_range", o.reduce_range},
       {"exclude_nodes", o.exclude_nodes},
       {"exclude_ops", o.exclude_ops}};
  writeTrain(j, o.train);
}
QuantizeOptions quantizeOptions(const QatStepOptions& o) {
  QuantizeOptions q;
  q.mode = QuantizeMode::Static;
  q.samples = o.samples;
  q.calibration = o.calibration;
  q.percentile = o.percentile;
  q.per_channel = o.per_channel;
  q.activation_type = o.activation_type;
  q.symmetric_activations = o.symmetric_activations;
  q.reduce_range = o.reduce_range;
  q.exclude_nodes = o.exclude_nodes;
  q.exclude_ops = o.exclude_ops;
  return q;
}
void readOptions(OptionsReader& r, QatStepOptions& o) {
  readTrain(r, o.train, "qat");
  r.read("calibration_data", o.calibration_data);
  r.read("samples", o.samples);
  r.read("calibration", o.calibration);
  r.read("percentile", o.percentile);
  r.read("per_channel", o.per_channel);
  r.read("activation_type", o.activation_type);
  r.read("symmetric_activations", o.symmetric_activations);
  r.read("reduce_range", o.reduce_range);
  r.read("exclude_nodes", o.exclude_nodes);
  r.read("exclude_ops", o.exclude_ops);
  checkRole("qat", "calibration_data", o.calibration_data, /*may_be_empty=*/true);
  if (o.samples < 1) throwOptionError("qat", "samples", "must be at least 1");
}

/// A model that already holds Q/DQ nodes starts QAT from its own scales (quantizationAwareTrainingFromQdq
/// refuses one that is not static INT8 Q/DQ, naming why).
bool hasQdqNodes(const Model& model) {
  for (const auto& n : model.graph().node())
    if (n.op_type() == "QuantizeLinear" || n.op_type() == "DequantizeLinear") return true;
  return false;
}

class QatStep final : public StepWithOptions<QatStepOptions> {
 public:
  std::string kind() const override { return "qat"; }
  std::vector<std::string> datasetRoles() const override {
    std::vector<std::string> roles = {options_.train.data};
    if (!options_.calibration_data.empty()) roles.push_back(options_.calibration_data);
    return roles;
  }

  StepOutput run(StepContext& context) override {
    const TrainData data = trainData(options_.train, context);
    const Model& input = context.input();
    const bool from_qdq = hasQdqNodes(input);
    if (!from_qdq && options_.calibration_data.empty())
      throw Error("step '" + context.stepId() +
                  "': the input is a float model; QAT needs calibration_data (a dataset role) for the "
                  "post-training scales");
    const Dataset* calibration =
        from_qdq || options_.calibration_data.empty() ? nullptr : &context.dataset(options_.calibration_data);
    const std::string extra = calibration ? calibration->name() : "";
    const TrainOptions to = trainOptions(
        options_.train, checkpointFor(options_.train, context, runKey(*this, context, data, extra)));
    StepOutput out;
    QatResult r;
    if (from_qdq) {
      out.lines.push_back("the input is already quantized: its scales are used");
      r = quantizationAwareTrainingFromQdq(input, *data.train, data.validation, to, options_.reduce_range,
                                           context.job(), epochLines(out, context, to.epochs));
    } else {
      QatOptions o;
      o.train = to;
      o.quantize = quantizeOptions(options_);
      r = quantizationAwareTraining(input, *data.train, data.validation, *calibration, o, context.job(),
                                    epochLines(out, context, to.epochs));
    }
    out.result = {{"dataset", data.train->name()},
                  {"epochs", to.epochs},
                  {"started_from", from_qdq ? "qdq model" : "post-training quantization"},
                  {"weights_trained", r.weights},
                  {"validation_accuracy", r.final_validation_accuracy},
                  {"seconds", r.seconds},
                  {"history", historyJson(r.history)}};
    // The post-training starting point, so a caller can measure what QAT added (`edgetune-cli qat`).
    const std::filesystem::path ptq_path = context.workDir() / "ptq.onnx";
    r.ptq_model.save(ptq_path);
    out.artifacts.push_back(ptq_path);
    out.lines.push_back("QAT: " + std::to_string(r.weights) +
                        " int8 weight tensors trained through fake quantization; the output is a static INT8 "
                        "Q/DQ model");
    out.model = std::move(r.model);
    return out;
  }
};

}  // namespace

void registerTrainingSteps(StepRegistry& registry) {
  registry.add("finetune", "Fine-tune on the train role (libtorch), optionally with a new classifier head",
               [] { return std::make_unique<FinetuneStep>(); });
  registry.add("distill",
               "Train the model from a teacher's soft outputs (the base model or an earlier step's)",
               [] { return std::make_unique<DistillStep>(); });
  registry.add("recover",
               "Recover a pruned model: fine-tune or distill with pruned weights held at zero, optionally "
               "gradually",
               [] { return std::make_unique<RecoverStep>(); });
  registry.add("qat",
               "Quantization-aware training; the output is a static INT8 Q/DQ model (scales from calibration "
               "or from a Q/DQ input)",
               [] { return std::make_unique<QatStep>(); });
}

}  // namespace edgetune::pipeline
