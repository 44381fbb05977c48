// Trainer: seeded mini-batch training of an ONNX graph's initializers on libtorch, checkpoints, distillation.
#include "core/train/trainer.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "core/runtime/executor.h"
#include "core/train/torch_executor.h"
#include "core/train/torch_graph.h"
#include "core/train/torch_ops.h"
#include "core/train/training_batches.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune {
namespace fs = std::filesystem;

namespace {

std::vector<TensorInfo> tensorInfos(const std::vector<ValueInfo>& values) {
  std::vector<TensorInfo> out;
  for (const auto& v : values) out.push_back({v.name, v.type, v.shape});
  return out;
}

at::Tensor labelTensor(const std::vector<int64_t>& labels) {
  return at::tensor(c10::ArrayRef<int64_t>(labels), at::kLong);
}

std::string formatRate(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string formatPercent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * fraction);
  return buf;
}

// The optimizer's per-parameter state, named "<parameter>|<slot>" in checkpoints.
struct OptimizerState {
  std::vector<at::Tensor> first, second;  // SGD momentum buffer / Adam m; Adam v
  int64_t step = 0;
};

std::string checkpointStateFile(const fs::path& dir) {
  return (dir / "state.json").string();
}

}  // namespace

std::string formatLearningRate(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

bool trainingCollapsed(double accuracy_before, double accuracy_after, size_t classes) {
  if (classes < 2 || accuracy_before < 0 || accuracy_after < 0) return false;
  const double chance = 1.0 / static_cast<double>(classes);
  return accuracy_before >= 3 * chance && accuracy_after <= 1.5 * chance;
}

int64_t modelClassCount(const Model& model, const std::string& output) {
  const auto outputs = model.outputs();
  if (outputs.empty()) throw Error(model.origin() + ": the model has no outputs");
  const ValueInfo* chosen = &outputs.front();
  if (!output.empty()) {
    auto it =
        std::find_if(outputs.begin(), outputs.end(), [&](const ValueInfo& v) { return v.name == output; });
    if (it == outputs.end()) throw Error(model.origin() + ": has no output named '" + output + "'");
    chosen = &*it;
  }
  if (!chosen->has_shape || chosen->shape.size() != 2)
    throw Error(model.origin() + ": output '" + chosen->name + "' is not [batch, classes] logits (shape " +
                (chosen->has_shape ? shapeToString(chosen->shape) : std::string("unknown")) + ")");
  return chosen->shape[1];
}

namespace {

std::string logitsName(const Model& model, const std::string& output) {
  if (!output.empty()) return output;
  const auto outputs = model.outputs();
  if (outputs.empty()) throw Error(model.origin() + ": the model has no outputs");
  return outputs.front().name;
}

void checkFits(const Model& model, const Dataset& dataset, const std::string& output) {
  checkInputsFit(tensorInfos(model.inputs()), dataset.features(), dataset.name());
  const int64_t classes = modelClassCount(model, output);
  if (classes >= 0 && static_cast<size_t>(classes) != dataset.numClasses())
    throw Error(model.origin() + ": the model has " + std::to_string(classes) + " classes, dataset '" +
                dataset.name() + "' has " + std::to_string(dataset.numClasses()));
}

// Bound model inputs of a host batch as at::Tensors that view the host bytes (the batch must outlive them).
std::vector<at::Tensor> torchInputs(const std::vector<NamedTensor>& bound) {
  std::vector<at::Tensor> out;
  for (const auto& nt : bound) out.push_back(torch_ops::toTorch(nt.tensor, /*copy=*/false));
  return out;
}

double graphAccuracy(TorchGraph& graph, const std::vector<TensorInfo>& inputs, const Dataset& dataset,
                     int batch_size, const std::string& logits, JobContext* job, const std::string& what) {
  const bool was_training = graph.isTraining();
  graph.eval();
  at::NoGradGuard no_grad;
  size_t correct = 0;
  const size_t n = dataset.size();
  const size_t bs = static_cast<size_t>(std::max(1, batch_size));
  for (size_t begin = 0; begin < n; begin += bs) {
    if (job) job->throwIfCancelled();
    Batch batch = makeBatch(dataset, begin, std::min(bs, n - begin));
    std::vector<int64_t> labels = batch.labels;
    auto bound = bindInputs(inputs, std::move(batch), dataset.name());
    at::Tensor out = graph.forward(torchInputs(bound), {logits})[0];
    correct += static_cast<size_t>(out.argmax(1).eq(labelTensor(labels)).sum().item<int64_t>());
    (void)what;
  }
  graph.train(was_training);
  return n ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
}

// The teacher: an ONNX Runtime session whose outputs are the logits and any hint tensors.
struct Teacher {
  std::unique_ptr<Executor> executor;
  std::vector<TensorInfo> inputs;
  std::vector<std::string> outputs;  // logits first, then hint tensors
};

Teacher makeTeacher(const DistillOptions& options, const Model& student, const std::string& student_logits,
                    const Dataset& dataset, int threads) {
  Model teacher = Model::load(options.teacher_path);
  Teacher t;
  const std::string logits = logitsName(teacher, options.teacher_output);
  checkInputsFit(tensorInfos(teacher.inputs()), dataset.features(), dataset.name());
  const int64_t teacher_classes = modelClassCount(teacher, options.teacher_output);
  const int64_t student_classes = modelClassCount(student, student_logits);
  if (teacher_classes != student_classes)
    throw Error("teacher " + options.teacher_path + " has " + std::to_string(teacher_classes) +
                " classes, the student " + std::to_string(student_classes));
  t.outputs.push_back(logits);
  // ONNX Runtime only returns graph outputs: expose each hint tensor as one.
  bool added = false;
  for (const auto& [student_name, teacher_name] : options.hints) {
    (void)student_name;
    if (teacher.isGraphOutput(teacher_name)) {
      t.outputs.push_back(teacher_name);
      continue;
    }
    if (teacher.producer(teacher_name) < 0)
      throw Error("teacher " + options.teacher_path + " has no intermediate tensor '" + teacher_name +
                  "' for a hint");
    onnx::ValueInfoProto* vi = teacher.graph().add_output();
    vi->set_name(teacher_name);
    vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    t.outputs.push_back(teacher_name);
    added = true;
  }
  if (added) teacher.reindex();
  OrtOptions ort;
  ort.intra_op_threads = threads > 0 ? threads : 0;
  t.executor = makeOrtExecutor(teacher, ort);
  t.inputs = t.executor->inputs();
  return t;
}

}  // namespace

double interpreterAccuracy(const Model& model, const Dataset& dataset, int batch_size,
                           const std::string& output, JobContext* job) {
  checkFits(model, dataset, output);
  TorchGraph graph(model);
  return graphAccuracy(graph, tensorInfos(model.inputs()), dataset, batch_size, logitsName(model, output),
                       job, "accuracy");
}

TrainResult trainModel(const Model& model, const Dataset& train, const Dataset* validation,
                       const TrainOptions& options, JobContext* job,
                       const std::function<void(const EpochStats&)>& on_epoch) {
  const auto started = std::chrono::steady_clock::now();
  // Options first: a mistake should not cost a model build.
  if (options.epochs < 1)
    throw Error("epochs must be at least 1 (got " + std::to_string(options.epochs) + ")");
  if (options.batch_size < 1) throw Error("batch size must be at least 1");
  if (!(options.learning_rate > 0)) throw Error("learning rate must be positive");
  if (options.weight_decay < 0) throw Error("weight decay must not be negative");
  if (options.label_smoothing < 0 || options.label_smoothing >= 1)
    throw Error("label smoothing must be in [0, 1)");
  if (options.warmup_epochs < 0 || options.warmup_epochs > options.epochs)
    throw Error("warm-up epochs must be between 0 and the number of epochs");
  if (options.augment.crop_padding < 0) throw Error("crop padding must not be negative");
  if (options.resume && options.checkpoint_dir.empty()) throw Error("resume needs a checkpoint folder");
  if (!options.distill.teacher_path.empty() &&
      (options.distill.alpha < 0 || options.distill.alpha > 1 || !(options.distill.temperature > 0)))
    throw Error("distillation alpha must be in [0, 1] and temperature positive");
  if (train.size() == 0) throw Error("dataset '" + train.name() + "' is empty");

  checkFits(model, train, options.output);
  if (validation) checkFits(model, *validation, options.output);
  const std::string logits = logitsName(model, options.output);
  const std::vector<TensorInfo> model_inputs = tensorInfos(model.inputs());
  setTorchThreads(options.threads);

  TorchGraph graph(model);
  for (const auto& [student_name, teacher_name] : options.distill.hints)
    if (!graph.hasTensor(student_name))
      throw Error(model.origin() + ": has no tensor '" + student_name + "' for a hint (teacher '" +
                  teacher_name + "')");
  std::optional<Teacher> teacher;
  if (!options.distill.teacher_path.empty())
    teacher = makeTeacher(options.distill, model, options.output, train, options.threads);

  // Parameters: frozen ones leave the optimizer; BatchNormalization statistics of frozen layers are restored
  // after every step so a frozen feature extractor stays bitwise unchanged.
  auto named = graph.namedParameters();
  std::set<std::string> frozen(options.frozen.begin(), options.frozen.end());
  {
    std::set<std::string> known;
    for (const auto& [name, p] : named) known.insert(name);
    for (const auto& name : frozen)
      if (!known.count(name))
        throw Error(model.origin() + ": cannot freeze '" + name + "': it is not a trained parameter");
  }
  std::vector<std::string> names;
  std::vector<at::Tensor> params;
  for (auto& [name, p] : named) {
    if (frozen.count(name)) {
      p.set_requires_grad(false);
      continue;
    }
    names.push_back(name);
    params.push_back(p);
  }
  if (params.empty()) throw Error(model.origin() + ": has no parameters left to train");
  std::vector<std::pair<at::Tensor, at::Tensor>> frozen_stats;  // (live buffer, saved copy)
  if (!frozen.empty()) {
    std::set<std::string> frozen_buffers;
    for (const auto& node : model.graph().node())
      if (node.op_type() == "BatchNormalization" && node.input_size() >= 5 && frozen.count(node.input(1))) {
        frozen_buffers.insert(node.input(3));
        frozen_buffers.insert(node.input(4));
      }
    for (auto& [name, b] : graph.namedBuffers())
      if (frozen_buffers.count(name)) frozen_stats.emplace_back(b, b.clone());
  }

  // Keep-masks as float tensors of each parameter's shape, applied by multiplication after every step.
  std::vector<std::pair<at::Tensor, at::Tensor>> masked;  // (live parameter, mask)
  for (const auto& [name, keep] : options.masks) {
    auto it = std::find_if(named.begin(), named.end(), [&](const auto& np) { return np.first == name; });
    if (it == named.end())
      throw Error(model.origin() + ": cannot mask '" + name + "': it is not a trained parameter");
    at::Tensor& p = it->second;
    if (static_cast<int64_t>(keep.size()) != p.numel())
      throw Error(model.origin() + ": the mask of '" + name + "' has " + std::to_string(keep.size()) +
                  " entries but the parameter has " + std::to_string(p.numel()));
    at::Tensor m = at::empty({p.numel()}, p.options().requires_grad(false));
    float* mv = m.data_ptr<float>();
    for (size_t k = 0; k < keep.size(); ++k) mv[k] = keep[k] ? 1.0f : 0.0f;
    masked.emplace_back(p, m.view(p.sizes()));
  }
  auto applyMasks = [&] {
    at::NoGradGuard no_grad;
    for (auto& [p, m] : masked) p.mul_(m);
  };
  applyMasks();

  OptimizerState state;
  for (const auto& p : params) {
    state.first.push_back(at::zeros_like(p).detach());
    state.second.push_back(options.optimizer == OptimizerKind::AdamW ? at::zeros_like(p).detach()
                                                                     : at::Tensor());
  }

  const size_t batch = static_cast<size_t>(options.batch_size);
  size_t steps_per_epoch =
      std::max<size_t>(1, train.size() / batch);  // full batches only (BN needs > 1 example)
  if (options.max_steps_per_epoch > 0)
    steps_per_epoch = std::min(steps_per_epoch, options.max_steps_per_epoch);
  const size_t this_batch = std::min(batch, train.size());
  const int64_t total_steps = static_cast<int64_t>(steps_per_epoch) * options.epochs;
  const double warmup_steps = options.warmup_epochs * static_cast<double>(steps_per_epoch);

  auto learningRate = [&](int64_t step) {  // `step` is 0-based, the update about to be made
    const double base = options.learning_rate;
    if (warmup_steps > 0 && step < warmup_steps)
      return base * (static_cast<double>(step) + 1) / (warmup_steps + 1);
    switch (options.schedule) {
      case ScheduleKind::Cosine: {
        const double span = std::max(1.0, static_cast<double>(total_steps) - warmup_steps);
        const double progress = std::min(1.0, (static_cast<double>(step) - warmup_steps) / span);
        return options.min_learning_rate +
               0.5 * (base - options.min_learning_rate) * (1 + std::cos(3.14159265358979323846 * progress));
      }
      case ScheduleKind::Step: {
        const int64_t epoch = step / static_cast<int64_t>(steps_per_epoch);
        return base *
               std::pow(options.step_gamma, static_cast<double>(epoch / std::max(1, options.step_epochs)));
      }
      case ScheduleKind::Constant:
        break;
    }
    return base;
  };

  TrainResult result;
  // Resume: weights, buffers, optimizer state and history of the last completed epoch.
  const fs::path ckpt_dir = options.checkpoint_dir;
  int first_epoch = 1;
  if (options.resume && fs::exists(checkpointStateFile(ckpt_dir))) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(readFile(checkpointStateFile(ckpt_dir)));
    } catch (const nlohmann::json::exception& e) {
      throw Error(checkpointStateFile(ckpt_dir) + ": not a valid checkpoint state (" + e.what() + ")");
    }
    auto check = [&](const char* key, const nlohmann::json& expected) {
      if (!j.contains("options") || j["options"].value(key, nlohmann::json()) != expected)
        throw Error(checkpointStateFile(ckpt_dir) + ": the checkpoint was made with " + key + " = " +
                    (j.contains("options") ? j["options"].value(key, nlohmann::json()).dump() : "?") +
                    ", this run has " + expected.dump() + "; use the same options or another folder");
    };
    check("seed", options.seed);
    check("batch_size", options.batch_size);
    check("optimizer", toString(options.optimizer));
    check("train_examples", train.size());
    Model saved = Model::load(ckpt_dir / j.at("model").get<std::string>());
    {
      at::NoGradGuard no_grad;
      auto restore = [&](const std::string& name, at::Tensor& live) {
        const onnx::TensorProto* init = saved.initializer(name);
        if (!init) throw Error(saved.origin() + ": checkpoint lacks '" + name + "'; it is not of this model");
        at::Tensor value = torch_ops::toTorch(tensorFromProto(*init));
        if (!value.sizes().equals(live.sizes()))
          throw Error(saved.origin() + ": checkpoint tensor '" + name +
                      "' has another shape than the model's");
        live.copy_(value);
      };
      for (auto& [name, p] : graph.namedParameters()) restore(name, p);
      for (auto& [name, b] : graph.namedBuffers()) restore(name, b);
      onnx::GraphProto opt;
      const fs::path opt_path = ckpt_dir / j.at("optimizer").get<std::string>();
      if (!opt.ParseFromString(readFile(opt_path)))
        throw Error(opt_path.string() + ": not an optimizer state");
      std::map<std::string, const onnx::TensorProto*> by_name;
      for (const auto& t : opt.initializer()) by_name[t.name()] = &t;
      auto load = [&](const std::string& key, at::Tensor& into) {
        auto it = by_name.find(key);
        if (it == by_name.end()) throw Error(opt_path.string() + ": lacks '" + key + "'");
        into.copy_(torch_ops::toTorch(tensorFromProto(*it->second)));
      };
      for (size_t i = 0; i < params.size(); ++i) {
        load(names[i] + "|first", state.first[i]);
        if (state.second[i].defined()) load(names[i] + "|second", state.second[i]);
      }
    }
    state.step = j.at("step").get<int64_t>();
    first_epoch = j.at("epoch").get<int>() + 1;
    result.resumed_from_epoch = first_epoch - 1;
    for (const auto& e : j.value("history", nlohmann::json::array())) {
      EpochStats s;
      s.epoch = e.at("epoch");
      s.train_loss = e.at("train_loss");
      s.train_accuracy = e.at("train_accuracy");
      s.validation_accuracy = e.at("validation_accuracy");
      s.learning_rate = e.at("learning_rate");
      s.seconds = e.at("seconds");
      s.examples_per_second = e.at("examples_per_second");
      result.history.push_back(s);
    }
  }

  auto historyJson = [&] {
    nlohmann::json h = nlohmann::json::array();
    for (const auto& s : result.history)
      h.push_back({{"epoch", s.epoch},
                   {"train_loss", s.train_loss},
                   {"train_accuracy", s.train_accuracy},
                   {"validation_accuracy", s.validation_accuracy},
                   {"learning_rate", s.learning_rate},
                   {"seconds", s.seconds},
                   {"examples_per_second", s.examples_per_second}});
    return h;
  };

  auto writeCheckpoint = [&](int epoch) {
    fs::create_directories(ckpt_dir);
    char stem[32];
    std::snprintf(stem, sizeof stem, "e%04d", epoch);
    const std::string model_file = std::string("model-") + stem + ".onnx";
    const std::string opt_file = std::string("optimizer-") + stem + ".pb";
    Model snapshot = model;
    graph.writeBack(snapshot);
    snapshot.save(ckpt_dir / model_file);
    onnx::GraphProto opt;
    opt.set_name("optimizer state");
    for (size_t i = 0; i < params.size(); ++i) {
      *opt.add_initializer() = tensorToProto(names[i] + "|first", torch_ops::fromTorch(state.first[i]));
      if (state.second[i].defined())
        *opt.add_initializer() = tensorToProto(names[i] + "|second", torch_ops::fromTorch(state.second[i]));
    }
    writeFileAtomic(ckpt_dir / opt_file, opt.SerializeAsString());
    nlohmann::json j;
    j["format"] = "edgetune-train-checkpoint-1";
    j["epoch"] = epoch;
    j["step"] = state.step;
    j["model"] = model_file;
    j["optimizer"] = opt_file;
    j["options"] = {{"seed", options.seed},
                    {"batch_size", options.batch_size},
                    {"optimizer", toString(options.optimizer)},
                    {"epochs", options.epochs},
                    {"learning_rate", options.learning_rate},
                    {"schedule", toString(options.schedule)},
                    {"train_examples", train.size()}};
    j["history"] = historyJson();
    // state.json names the files of the epoch it describes; it is replaced last, so a crash at any point
    // leaves a consistent checkpoint behind.
    writeFileAtomic(checkpointStateFile(ckpt_dir), j.dump(2));
    for (const auto& entry : fs::directory_iterator(ckpt_dir)) {
      const std::string f = entry.path().filename().string();
      if ((f.rfind("model-e", 0) == 0 || f.rfind("optimizer-e", 0) == 0) && f != model_file &&
          f != opt_file) {
        std::error_code ec;
        fs::remove(entry.path(), ec);
      }
    }
  };

  const double total_examples = static_cast<double>(total_steps) * static_cast<double>(this_batch);
  graph.train(true);
  for (int epoch = first_epoch; epoch <= options.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    // Dropout draws from libtorch's global generator: seed it per epoch so a resumed run repeats the same
    // masks.
    at::manual_seed(mix(options.seed, 0xD40, static_cast<uint64_t>(epoch)));
    const std::vector<size_t> order = epochOrder(train.size(), options.seed, epoch);
    auto indicesOf = [&](size_t step) {
      const size_t begin = step * this_batch;
      return std::vector<size_t>(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                 order.begin() + static_cast<std::ptrdiff_t>(begin + this_batch));
    };
    auto fetch = [&](size_t step) {
      return std::async(std::launch::async, [&, step] {
        return assembleBatch(train, indicesOf(step), options.augment, options.seed, epoch);
      });
    };
    std::future<Batch> next = fetch(0);
    double loss_sum = 0, seen = 0, correct = 0, lr = 0;
    for (size_t step = 0; step < steps_per_epoch; ++step) {
      if (job && job->cancelled()) {
        next.wait();
        throw CancelledError();
      }
      Batch host = next.get();
      if (step + 1 < steps_per_epoch)
        next = fetch(step + 1);  // the loader assembles the next batch meanwhile

      std::vector<NamedTensor> teacher_bound;
      if (teacher) {
        Batch copy;
        copy.features = host.features;
        teacher_bound = bindInputs(teacher->inputs, std::move(copy), train.name());
      }
      const at::Tensor labels = labelTensor(host.labels);
      auto bound = bindInputs(model_inputs, std::move(host), train.name());

      std::vector<std::string> wanted = {logits};
      for (const auto& h : options.distill.hints) wanted.push_back(h.first);
      std::vector<at::Tensor> outs = graph.forward(torchInputs(bound), wanted);
      const at::Tensor& out = outs[0];
      at::Tensor ce =
          at::cross_entropy_loss(out, labels, {}, at::Reduction::Mean, -100, options.label_smoothing);
      at::Tensor loss = ce;
      if (teacher) {
        std::vector<Tensor> t_outs = teacher->executor->run(teacher_bound, teacher->outputs);
        const double T = options.distill.temperature, alpha = options.distill.alpha;
        at::Tensor t_logits = torch_ops::toTorch(t_outs[0]);
        at::Tensor log_ps = at::log_softmax(out / T, 1);
        at::Tensor log_pt = at::log_softmax(t_logits / T, 1);
        at::Tensor kl = (log_pt.exp() * (log_pt - log_ps)).sum(1).mean();
        loss = kl * (alpha * T * T) + ce * (1 - alpha);
        for (size_t h = 0; h < options.distill.hints.size(); ++h) {
          at::Tensor target = torch_ops::toTorch(t_outs[h + 1]);
          if (!target.sizes().equals(outs[h + 1].sizes()))
            throw Error("hint '" + options.distill.hints[h].first + "' / '" +
                        options.distill.hints[h].second + "': shapes differ");
          loss = loss + at::mse_loss(outs[h + 1], target) * options.distill.hint_weight;
        }
      }
      for (auto& p : params) p.mutable_grad().reset();
      loss.backward();

      lr = learningRate(state.step);
      ++state.step;
      {
        at::NoGradGuard no_grad;
        const double wd = options.weight_decay;
        for (size_t i = 0; i < params.size(); ++i) {
          at::Tensor& p = params[i];
          if (!p.grad().defined()) continue;
          at::Tensor g = p.grad();
          const bool decay = wd > 0 && p.dim() >= 2;
          if (options.optimizer == OptimizerKind::Sgd) {
            if (decay) g = g.add(p, wd);
            at::Tensor& buf = state.first[i];
            if (state.step == 1)
              buf.copy_(g);  // PyTorch starts the momentum buffer at the first gradient
            else
              buf.mul_(options.momentum).add_(g);
            if (options.momentum > 0) g = options.nesterov ? g.add(buf, options.momentum) : buf;
            p.add_(g, -lr);
          } else {
            if (decay) p.mul_(1 - lr * wd);
            at::Tensor& m = state.first[i];
            at::Tensor& v = state.second[i];
            m.mul_(options.beta1).add_(g, 1 - options.beta1);
            v.mul_(options.beta2).addcmul_(g, g, 1 - options.beta2);
            const double bc1 = 1 - std::pow(options.beta1, static_cast<double>(state.step));
            const double bc2 = 1 - std::pow(options.beta2, static_cast<double>(state.step));
            at::Tensor denom = (v / bc2).sqrt_().add_(options.adam_epsilon);
            p.addcdiv_(m, denom, -lr / bc1);
          }
        }
        for (auto& [live, saved] : frozen_stats) live.copy_(saved);
      }
      applyMasks();

      const double n = static_cast<double>(labels.size(0));
      const double step_loss = loss.item<double>();
      // A NaN or infinite loss has already poisoned the weights this step updated: nothing after it can
      // recover, so the run stops here with the fix rather than finishing a useless model.
      if (!std::isfinite(step_loss))
        throw TrainingDivergedError("training diverged at epoch " + std::to_string(epoch) + ", step " +
                                    std::to_string(step + 1) + ": the loss is " +
                                    (std::isnan(step_loss) ? "NaN" : "infinite") + " at learning rate " +
                                    formatLearningRate(lr) + "; lower the learning rate (for example to " +
                                    formatLearningRate(lr / 10) + ") and start again");
      const double step_correct = static_cast<double>(out.argmax(1).eq(labels).sum().item<int64_t>());
      loss_sum += step_loss * n;
      correct += step_correct;
      seen += n;
      if (options.on_step) {
        StepStats s;
        s.epoch = epoch;
        s.step = step + 1;
        s.steps_per_epoch = steps_per_epoch;
        s.loss = step_loss;
        s.accuracy = n > 0 ? step_correct / n : 0;
        s.learning_rate = lr;
        options.on_step(s);
      }
      if (job) {
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
        const double done = (static_cast<double>(epoch - 1) * steps_per_epoch + step + 1) * this_batch;
        char msg[160];
        std::snprintf(msg, sizeof msg, "epoch %d/%d step %zu/%zu loss %.4f acc %.1f%% %s ex/s", epoch,
                      options.epochs, step + 1, steps_per_epoch, loss_sum / seen, 100 * correct / seen,
                      formatRate(secs > 0 ? seen / secs : 0).c_str());
        job->report(done / total_examples, msg);
      }
    }

    EpochStats stats;
    stats.epoch = epoch;
    stats.train_loss = loss_sum / seen;
    stats.train_accuracy = correct / seen;
    stats.learning_rate = lr;
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    stats.examples_per_second = stats.seconds > 0 ? seen / stats.seconds : 0;
    if (validation)
      stats.validation_accuracy =
          graphAccuracy(graph, model_inputs, *validation, options.eval_batch_size, logits, job, "validation");
    if (validation &&
        trainingCollapsed(options.accuracy_before, stats.validation_accuracy, validation->numClasses()))
      throw Error("training collapsed in epoch " + std::to_string(epoch) + ": validation accuracy fell to " +
                  formatPercent(stats.validation_accuracy) + " (chance is " +
                  formatPercent(1.0 / static_cast<double>(validation->numClasses())) + ", before training " +
                  formatPercent(options.accuracy_before) + ") at learning rate " + formatLearningRate(lr) +
                  "; lower the learning rate (for example to " + formatLearningRate(lr / 10) +
                  ") and start again");
    result.history.push_back(stats);
    if (!ckpt_dir.empty()) writeCheckpoint(epoch);
    if (on_epoch) on_epoch(stats);
  }

  result.model = model;
  graph.writeBack(result.model);
  if (!result.history.empty()) result.final_validation_accuracy = result.history.back().validation_accuracy;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (job) job->report(1.0, "done");
  return result;
}

}  // namespace edgetune
