// The training steps' shared parts (steps_training_shared.h).
#include "core/pipeline/steps_training_shared.h"

#include <cstdio>
#include <filesystem>

#include "core/deploy/sha256.h"
#include "core/util/files.h"
#include "core/util/thread_list.h"

namespace edgetune::pipeline::training_steps {

void writeTrain(nlohmann::json& j, const TrainFields& t) {
  j["epochs"] = t.epochs;
  j["batch_size"] = t.batch_size;
  j["optimizer"] = t.optimizer;
  j["lr"] = t.lr;
  j["momentum"] = t.momentum;
  j["nesterov"] = t.nesterov;
  j["weight_decay"] = t.weight_decay;
  j["schedule"] = t.schedule;
  j["warmup"] = t.warmup;
  j["step_epochs"] = t.step_epochs;
  j["step_gamma"] = t.step_gamma;
  j["label_smoothing"] = t.label_smoothing;
  j["augment"] = t.augment;
  j["crop_padding"] = t.crop_padding;
  j["flip"] = t.flip;
  j["seed"] = t.seed;
  j["threads"] = t.threads;
  j["max_steps_per_epoch"] = t.max_steps_per_epoch;
  j["output"] = t.output;
  j["data"] = t.data;
  j["validation"] = t.validation;
  j["checkpoint_dir"] = t.checkpoint_dir;
  j["resume"] = t.resume;
}

void readTrain(OptionsReader& r, TrainFields& t, const std::string& kind) {
  r.read("epochs", t.epochs);
  r.read("batch_size", t.batch_size);
  r.read("optimizer", t.optimizer);
  r.read("lr", t.lr);
  r.read("momentum", t.momentum);
  r.read("nesterov", t.nesterov);
  r.read("weight_decay", t.weight_decay);
  r.read("schedule", t.schedule);
  r.read("warmup", t.warmup);
  r.read("step_epochs", t.step_epochs);
  r.read("step_gamma", t.step_gamma);
  r.read("label_smoothing", t.label_smoothing);
  r.read("augment", t.augment);
  r.read("crop_padding", t.crop_padding);
  r.read("flip", t.flip);
  r.read("seed", t.seed);
  r.read("threads", t.threads);
  r.read("max_steps_per_epoch", t.max_steps_per_epoch);
  r.read("output", t.output);
  r.read("data", t.data);
  r.read("validation", t.validation);
  r.read("checkpoint_dir", t.checkpoint_dir);
  r.read("resume", t.resume);
  if (t.epochs < 1) throwOptionError(kind, "epochs", "must be at least 1");
  if (t.batch_size < 1) throwOptionError(kind, "batch_size", "must be at least 1");
  if (!(t.lr > 0)) throwOptionError(kind, "lr", "must be positive");
  if (t.threads < 0 || t.threads > kMaxThreadCount)
    throwOptionError(kind, "threads",
                     "must be in 0.." + std::to_string(kMaxThreadCount) + " (0 = the library default)");
  checkRole(kind, "data", t.data);
  checkRole(kind, "validation", t.validation, /*may_be_empty=*/true);
}

TrainData trainData(const TrainFields& t, StepContext& context) {
  TrainData d;
  d.train = &context.dataset(t.data);
  if (!t.validation.empty() && context.hasDataset(t.validation))
    d.validation = &context.dataset(t.validation);
  return d;
}

/// The checkpoint folder: the one the options name, else workDir/checkpoint for a run whose inputs hash to
/// `key` (a checkpoint left there by other inputs is removed).
std::string checkpointFor(const TrainFields& t, StepContext& context, const std::string& key) {
  if (!t.checkpoint_dir.empty()) return t.checkpoint_dir;
  const std::filesystem::path dir = context.workDir() / "checkpoint";
  const std::filesystem::path key_file = dir / "inputs.sha256";
  std::error_code ec;
  if (std::filesystem::exists(dir) &&
      (!std::filesystem::exists(key_file) || readFile(key_file) != key + "\n"))
    std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  writeFileAtomic(key_file, key + "\n");
  return dir.string();
}

/// What identifies a training run: the kind, its options, the input model and the datasets it reads.
std::string runKey(const Step& step, StepContext& context, const TrainData& data, const std::string& extra) {
  deploy::Sha256 h;
  h.update(step.kind() + "\n" + step.optionsJson().dump() + "\n");
  h.update(context.input().serialize());
  h.update("\n" + data.train->name() + "\n" + (data.validation ? data.validation->name() : "") + "\n" +
           extra);
  return h.hexDigest();
}

TrainOptions trainOptions(const TrainFields& t, const std::string& checkpoint_dir) {
  TrainOptions o;
  o.epochs = t.epochs;
  o.batch_size = t.batch_size;
  o.optimizer = t.optimizer;
  o.learning_rate = t.lr;
  o.momentum = t.momentum;
  o.nesterov = t.nesterov;
  o.weight_decay = t.weight_decay;
  o.schedule = t.schedule;
  o.warmup_epochs = t.warmup;
  o.step_epochs = t.step_epochs;
  o.step_gamma = t.step_gamma;
  o.label_smoothing = t.label_smoothing;
  o.augment.enabled = t.augment;
  o.augment.crop_padding = t.crop_padding;
  o.augment.horizontal_flip = t.flip;
  o.seed = t.seed;
  o.threads = t.threads;
  o.max_steps_per_epoch = t.max_steps_per_epoch;
  o.output = t.output;
  o.checkpoint_dir = checkpoint_dir;
  o.resume = t.resume;
  return o;
}

nlohmann::json epochJson(const EpochStats& s) {
  return {{"epoch", s.epoch},
          {"train_loss", s.train_loss},
          {"train_accuracy", s.train_accuracy},
          {"validation_accuracy", s.validation_accuracy},
          {"learning_rate", s.learning_rate},
          {"seconds", s.seconds},
          {"examples_per_second", s.examples_per_second}};
}

nlohmann::json historyJson(const std::vector<EpochStats>& history) {
  nlohmann::json h = nlohmann::json::array();
  for (const auto& s : history) h.push_back(epochJson(s));
  return h;
}

/// One log line per epoch, shown as it happens (the CLI commands print it on stderr).
std::function<void(const EpochStats&)> epochLines(StepOutput& out, StepContext& context, int epochs) {
  return [&out, &context, epochs](const EpochStats& s) {
    char val[32] = "-";
    if (s.validation_accuracy >= 0) std::snprintf(val, sizeof val, "%.2f%%", 100 * s.validation_accuracy);
    char line[256];
    std::snprintf(line, sizeof line,
                  "epoch %d/%d  loss %.4f  train %.2f%%  val %s  lr %.5f  %.0f ex/s  %.0f s", s.epoch, epochs,
                  s.train_loss, 100 * s.train_accuracy, val, s.learning_rate, s.examples_per_second,
                  s.seconds);
    out.lines.push_back(line);
    context.logLine(line);
  };
}

/// Saves the teacher (`id`: "base" or an earlier step) as workDir/teacher.onnx, the file DistillOptions
/// reads.
std::string saveTeacher(StepContext& context, const std::string& id) {
  const std::filesystem::path path = context.workDir() / "teacher.onnx";
  context.modelOf(id).save(path);  // atomic
  return path.string();
}

}  // namespace edgetune::pipeline::training_steps
