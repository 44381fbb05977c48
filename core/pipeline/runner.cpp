#include "core/pipeline/runner.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "core/deploy/sha256.h"
#include "core/passes/canonicalize.h"
#include "core/pipeline/mapped_step_context.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/util/format.h"
#include "core/zoo/model_source.h"

namespace edgetune::pipeline {
namespace fs = std::filesystem;
using deploy::sha256File;
using deploy::sha256Hex;
using nlohmann::json;

namespace {

// Bumped whenever what a cached step means changes (the key layout, or a step's behaviour for the same
// options), so an old run folder is recomputed instead of trusted. 2: only options that differ from the
// kind's defaults are keyed.
constexpr int kCacheFormat = 2;

// The options a step's cache key holds: those that differ from the kind's defaults. A build that adds an
// option whose default keeps the old behaviour (they all must) then still finds what an older build cached;
// a changed default is a behaviour change and bumps the kind's behaviourVersion().
json optionsAwayFromDefaults(const json& options, const json& defaults) {
  json keyed = json::object();
  for (const auto& [key, value] : options.items())
    if (!defaults.contains(key) || defaults.at(key) != value) keyed[key] = value;
  return keyed;
}

std::string stepLabel(const StepSpec& spec) {
  return "step '" + spec.id + "' (" + spec.kind + ")";
}

// The step with its options, or an Error pointing at the recipe line of the option that is wrong.
std::unique_ptr<Step> createStep(const StepSpec& spec, const StepRegistry& registry) {
  try {
    return registry.create(spec.kind, spec.options);
  } catch (const OptionError& e) {
    throw Error(spec.lineOf(e.key()).where() + ": " + e.what());
  } catch (const Error& e) {
    throw Error(spec.source.where() + ": " + e.what());
  }
}

// Progress weight of a step, so the overall bar and ETA are roughly proportional to time: training is
// by far the longest (per epoch), then sweeps and calibration; the rest is quick.
double stepWeight(const Step& step) {
  const std::string kind = step.kind();
  if (kind == "finetune" || kind == "distill" || kind == "recover" || kind == "qat") {
    const json options = step.optionsJson();
    const double epochs =
        options.contains("epochs") && options["epochs"].is_number() ? options["epochs"].get<double>() : 1;
    return 20.0 * std::max(1.0, epochs);
  }
  if (kind == "sensitivity") return 6;
  if (kind == "quantize" || kind == "benchmark" || kind == "deploy") return 2;
  return 1;
}
constexpr double kReportWeight = 4;

std::string hashModel(const Model& model) {
  return sha256Hex(model.serialize());
}

// "{recipe_dir}" in a dataset spec stands for the recipe's folder, so a recipe can name files next to it (a
// vocabulary, a CSV) wherever it is run from.
std::string expandSpec(const std::string& spec, const RecipeFile& recipe) {
  const std::string token = "{recipe_dir}";
  std::string out = spec;
  const std::string dir = recipe.origin.empty() ? std::string(".") : recipe.origin.parent_path().string();
  for (size_t at = out.find(token); at != std::string::npos; at = out.find(token, at + dir.size()))
    out.replace(at, token.size(), dir.empty() ? "." : dir);
  return out;
}

std::string folderName(size_t index, const std::string& id) {
  char prefix[16];
  std::snprintf(prefix, sizeof(prefix), "%02zu-", index + 1);
  return prefix + id;
}

json readJsonFile(const fs::path& path) {
  try {
    return json::parse(readFile(path));
  } catch (const json::exception&) {
    return nullptr;  // a torn or foreign file is not a cache hit
  }
}

// Holds RUN_DIR/run.lock for the whole run: two runs into one folder (the studio and the CLI, two terminals)
// would overwrite each other's step records. The kernel drops the lock when the process ends, so a crash
// leaves nothing to clean up.
class RunFolderLock {
 public:
  explicit RunFolderLock(const fs::path& run_dir) {
    const fs::path path = run_dir / "run.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(path.string() + ": cannot open the run folder's lock file");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw Error(run_dir.string() +
                  ": another run is using this run folder; wait for it, or choose another with -o");
    }
  }
  ~RunFolderLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

 private:
  int fd_ = -1;
};

json recordJson(const StepRecord& r) {
  json artifacts = json::array();
  for (const auto& a : r.artifacts) artifacts.push_back(a.filename().string());
  return {{"id", r.id},
          {"kind", r.kind},
          {"input", r.input},
          {"cache_key", r.cache_key},
          {"has_model", !r.model_path.empty()},
          {"options", r.options},
          {"result", r.result},
          {"lines", r.lines},
          {"artifacts", artifacts},
          {"seconds", r.seconds}};
}

json reportOptionsJson(const ReportOptions& o) {
  return {{"threads", o.threads},
          {"latency_runs", o.latency_runs},
          {"warmup_runs", o.warmup_runs},
          {"test_limit", o.test_limit},
          {"eval_batch_size", o.eval_batch_size},
          {"input_shapes", o.input_shapes.describe()}};
}

}  // namespace

void validateRecipe(const RecipeFile& recipe, const StepRegistry& registry) {
  std::set<std::string> earlier = {"base"};
  std::set<std::string> named_roles;
  for (const auto& [role, _] : recipe.datasets) named_roles.insert(role);
  for (const auto& spec : recipe.steps) {
    const auto step = createStep(spec, registry);
    if (!spec.input.empty() && !earlier.count(spec.input))
      throw Error(spec.lineOf("input").where() + ": " + stepLabel(spec) + " starts from '" + spec.input +
                  "', which is not an earlier step (earlier: " + joinedWithCommas(earlier) + ")");
    for (const auto& ref : step->references())
      if (!earlier.count(ref))
        throw Error(spec.source.where() + ": " + stepLabel(spec) + " reads '" + ref +
                    "', which is not an earlier step (earlier: " + joinedWithCommas(earlier) + ")");
    if (spec.enabled)
      for (const auto& role : step->datasetRoles())
        if (!named_roles.count(role))
          throw Error(spec.source.where() + ": " + stepLabel(spec) + " reads the '" + role +
                      "' dataset, but the recipe's datasets name " +
                      (named_roles.empty() ? std::string("none") : joinedWithCommas(named_roles)) +
                      " (add datasets: {" + role + ": SPEC})");
    earlier.insert(spec.id);
  }
}

std::vector<std::string> describePipeline(const RecipeFile& recipe, const StepRegistry& registry) {
  std::vector<std::string> lines;
  lines.push_back("model: " + recipe.model);
  for (const auto& [role, spec] : recipe.datasets) lines.push_back("datasets." + role + ": " + spec);
  for (size_t i = 0; i < recipe.steps.size(); ++i) {
    const StepSpec& spec = recipe.steps[i];
    std::string line = std::to_string(i + 1) + ". " + spec.id;
    if (spec.id != spec.kind) line += " (" + spec.kind + ")";
    line += " <- " + recipe.inputOf(i);
    if (!spec.options.empty()) line += "  " + spec.options.dump();
    if (!spec.enabled) line += "  [disabled]";
    if (!registry.contains(spec.kind)) line += "  [unknown kind]";
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> stepsDependingOn(const RecipeFile& recipe, const StepRegistry& registry,
                                          const std::string& id) {
  const auto first =
      std::find_if(recipe.steps.begin(), recipe.steps.end(), [&](const StepSpec& s) { return s.id == id; });
  if (first == recipe.steps.end()) {
    std::set<std::string> ids;
    for (const auto& s : recipe.steps) ids.insert(s.id);
    throw Error("no step '" + id + "' in the recipe (steps: " + joinedWithCommas(ids) + ")");
  }
  // Inputs and references only name earlier steps, so one pass in recipe order finds every dependant. A
  // disabled step joins too when its input does: a step that reads it reads that input's model.
  std::set<std::string> affected = {id};
  std::vector<std::string> out = {id};
  for (size_t i = static_cast<size_t>(first - recipe.steps.begin()) + 1; i < recipe.steps.size(); ++i) {
    const StepSpec& spec = recipe.steps[i];
    bool depends = affected.count(recipe.inputOf(i)) > 0;
    if (!depends && spec.enabled)
      for (const auto& ref : createStep(spec, registry)->references())
        depends = depends || affected.count(ref);
    if (depends) {
      affected.insert(spec.id);
      out.push_back(spec.id);
    }
  }
  return out;
}

RunResult runRecipe(const RecipeFile& recipe, const StepRegistry& registry, const RunOptions& options) {
  validateRecipe(recipe, registry);
  if (options.run_dir.empty()) throw Error("no run folder given");
  std::set<std::string> rerun;
  if (!options.rerun_from.empty()) {
    const StepSpec* from = recipe.step(options.rerun_from);
    if (from && !from->enabled)
      throw Error("re-run from step '" + from->id +
                  "': the step is disabled (enable it, or re-run from another)");
    try {
      for (const auto& id : stepsDependingOn(recipe, registry, options.rerun_from)) rerun.insert(id);
    } catch (const Error& e) {
      throw Error("re-run from step '" + options.rerun_from + "': " + e.what());
    }
  }
  RunResult run;
  run.run_dir = options.run_dir;
  fs::create_directories(options.run_dir / "steps");
  const RunFolderLock lock(options.run_dir);
  writeFileAtomic(options.run_dir / "recipe.json", recipe.toJson().dump(2) + "\n");

  // The steps with their options and progress weights, before anything long starts.
  std::vector<std::unique_ptr<Step>> steps;
  std::vector<double> weights;
  double total_weight = options.report ? kReportWeight : 0;
  for (const auto& spec : recipe.steps) {
    steps.push_back(createStep(spec, registry));
    weights.push_back(spec.enabled ? stepWeight(*steps.back()) : 0);
    total_weight += weights.back();
  }
  if (total_weight <= 0) total_weight = 1;
  JobContext own_job;
  JobContext& overall = options.job ? *options.job : own_job;
  auto notify = [&](StepEvent event) {
    if (options.on_event) options.on_event(event);
  };

  // The base model: loaded the way every command loads one (cleaned, BatchNorm kept for training steps).
  const std::string model_source = recipe.modelPath();
  auto base = std::make_shared<Model>(zoo::loadModelSource(model_source));
  if (!zoo::isZooSource(model_source)) {
    PassContext clean_context;
    CanonicalizeOptions clean;
    clean.fold_batchnorm = false;
    canonicalize(*base, clean, clean_context);
  }
  const fs::path base_path = options.run_dir / "base.onnx";
  const std::string base_hash = hashModel(*base);
  if (!fs::exists(base_path) || sha256File(base_path) != base_hash) base->save(base_path);

  std::map<std::string, std::shared_ptr<const Model>> models = {{"base", base}};
  std::map<std::string, std::string> hashes = {{"base", base_hash}};  // of each model's file
  std::map<std::string, std::string> keys = {{"base", hashes["base"]}};
  std::map<std::string, fs::path> model_paths = {{"base", base_path}};
  std::map<std::string, json> results;
  // What the running step sees: the models and results of the steps before it, the datasets opened once.
  MappedStepContext context(
      models, results, [&](const std::string& role) { return recipe.datasets.count(role) > 0; },
      [&](const std::string& role) {
        const std::string spec = expandSpec(recipe.datasets.at(role), recipe);
        try {
          return openDataset(spec);
        } catch (const Error& e) {
          throw Error("datasets." + role + " (" + spec + "): " + e.what());
        }
      });

  double done_weight = 0;
  std::string last_with_model = "base";
  for (size_t i = 0; i < recipe.steps.size(); ++i) {
    overall.throwIfCancelled();
    const StepSpec& spec = recipe.steps[i];
    Step& step = *steps[i];
    StepRecord record;
    record.id = spec.id;
    record.kind = spec.kind;
    record.input = recipe.inputOf(i);
    record.enabled = spec.enabled;
    record.options = step.optionsJson();
    StepEvent event{StepEvent::Type::Started, i, spec.id, spec.kind, {}, {}};
    event.overall.fraction = done_weight / total_weight;

    if (!spec.enabled) {
      // The steps after a disabled one see its input's model.
      models[spec.id] = models[record.input];
      hashes[spec.id] = hashes[record.input];
      keys[spec.id] = keys[record.input];
      model_paths[spec.id] = model_paths[record.input];
      event.type = StepEvent::Type::Skipped;
      notify(event);
      run.steps.push_back(std::move(record));
      continue;
    }

    json key_material = {
        {"format", kCacheFormat},
        {"kind", spec.kind},
        {"options", optionsAwayFromDefaults(record.options, registry.defaultOptions(spec.kind))},
        {"input", hashes.at(record.input)}};
    // Version 1 adds nothing, so keys made before a kind had versions stay valid.
    if (step.behaviourVersion() != 1) key_material["behaviour"] = step.behaviourVersion();
    for (const auto& role : step.datasetRoles()) key_material["datasets"][role] = recipe.datasets.at(role);
    for (const auto& ref : step.references()) key_material["references"][ref] = keys.at(ref);
    for (const auto& file : step.filesRead()) {
      std::error_code ec;
      key_material["files"][file.string()] = fs::is_regular_file(file, ec) ? sha256File(file) : "missing";
    }
    record.cache_key = sha256Hex(key_material.dump());

    const fs::path folder = options.run_dir / "steps" / folderName(i, spec.id);
    const fs::path step_json = folder / "step.json";
    const fs::path model_path = folder / "model.onnx";
    std::shared_ptr<const Model> output;
    bool cached = false;
    const bool forced = rerun.count(spec.id) > 0;
    if (forced) {
      // Run again means from nothing: a step's own resumable state (a training checkpoint keyed like the
      // step) would otherwise hand back the same result without doing the work.
      std::error_code ignored;
      fs::remove_all(folder, ignored);
    }
    if (options.use_cache && !forced && fs::exists(step_json)) {
      const json saved = readJsonFile(step_json);
      if (saved.is_object() && saved.value("cache_key", "") == record.cache_key &&
          (!saved.value("has_model", false) || fs::exists(model_path))) {
        cached = true;
        record.cached = true;
        record.result = saved.value("result", json::object());
        record.lines = saved.value("lines", std::vector<std::string>{});
        for (const auto& a : saved.value("artifacts", std::vector<std::string>{}))
          record.artifacts.push_back(folder / a);
        if (saved.value("has_model", false)) {
          output = std::make_shared<Model>(Model::load(model_path));
          record.model_path = model_path;
        }
      }
    }
    if (!cached) {
      notify(event);
      fs::create_directories(folder);
      fs::remove(
          step_json);  // the commit marker goes last: a half-done step is never taken for a finished one
      fs::remove(model_path);
      const double begin = done_weight / total_weight, end = (done_weight + weights[i]) / total_weight;
      // "[2/5] recover: epoch 3/6 ...": what the run's own context (a studio job, a log) shows for this step.
      const std::string label =
          "[" + std::to_string(i + 1) + "/" + std::to_string(recipe.steps.size()) + "] " + spec.id;
      auto child = overall.child(begin, end, label, [&](const Progress& p) {
        StepEvent progress{StepEvent::Type::Progress, i, spec.id, spec.kind, p, {}};
        progress.overall.fraction = begin + (end - begin) * p.fraction;
        notify(progress);
      });
      context.enter(spec.id, record.input, child.get(), folder);
      const auto started = std::chrono::steady_clock::now();
      StepOutput out;
      try {
        out = step.run(context);
      } catch (const Error& e) {  // a CancelledError is no Error: it passes unchanged
        throw Error(stepLabel(spec) + ": " + e.what());
      }
      record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      record.result = std::move(out.result);
      record.lines = std::move(out.lines);
      record.artifacts = std::move(out.artifacts);
      if (out.model) {
        out.model->save(model_path);
        record.model_path = model_path;
        output = std::make_shared<Model>(std::move(*out.model));
      }
      writeFileAtomic(step_json, recordJson(record).dump(2) + "\n");
    }

    if (output) {
      models[spec.id] = output;
      hashes[spec.id] = sha256File(record.model_path);
      model_paths[spec.id] = record.model_path;
      last_with_model = spec.id;
    } else {
      models[spec.id] = models[record.input];
      hashes[spec.id] = hashes[record.input];
      model_paths[spec.id] = model_paths[record.input];
    }
    keys[spec.id] = record.cache_key;
    results[spec.id] = record.result;
    done_weight += weights[i];
    event.type = cached ? StepEvent::Type::Cached : StepEvent::Type::Finished;
    event.overall.fraction = done_weight / total_weight;
    notify(event);
    run.steps.push_back(std::move(record));
  }

  run.final_model = model_paths.at(last_with_model);
  if (last_with_model != "base") {
    const fs::path final_path = options.run_dir / "final.onnx";
    writeFileAtomic(final_path, readFile(run.final_model));
    run.final_model = final_path;
  }

  if (options.report) {
    std::vector<ReportEntry> entries = {{"base", "base", base_path}};
    for (const auto& r : run.steps)
      if (r.enabled && !r.model_path.empty()) entries.push_back({r.id, r.kind, r.model_path});
    json report_key_material = {{"format", kCacheFormat},
                                {"options", reportOptionsJson(options.report_options)}};
    for (const auto& e : entries)
      report_key_material["models"].push_back(json::array({e.step_id, hashes.at(e.step_id)}));
    if (recipe.datasets.count("test")) report_key_material["test"] = recipe.datasets.at("test");
    // What deploy / benchmark steps measured on devices: part of the key, since a re-deploy can measure
    // anew while every model stays the same.
    std::vector<DeviceMeasurement> device;
    for (const auto& r : run.steps)
      if (r.enabled)
        if (auto m = deviceMeasurementOf(r.id, r.input, r.result)) device.push_back(std::move(*m));
    addDeviceSpeedups(device);
    for (const auto& d : device) report_key_material["device"].push_back(d.toJson());
    const std::string report_key = sha256Hex(report_key_material.dump());
    const fs::path key_path = options.run_dir / "report.key";
    const fs::path report_path = options.run_dir / "report.json";
    StepEvent event{StepEvent::Type::Started, recipe.steps.size(), "report", "report", {}, {}};
    event.overall.fraction = done_weight / total_weight;
    if (options.use_cache && fs::exists(key_path) && fs::exists(report_path) &&
        readFile(key_path) == report_key) {
      const json saved = readJsonFile(report_path);
      if (saved.is_object()) {
        run.report = RunReport::fromJson(saved);
        run.report_cached = true;
      }
    }
    if (!run.report_cached) {
      notify(event);
      fs::remove(key_path);
      const double begin = done_weight / total_weight;
      auto child = overall.child(begin, 1.0, "[report]", [&](const Progress& p) {
        StepEvent progress{StepEvent::Type::Progress, recipe.steps.size(), "report", "report", p, {}};
        progress.overall.fraction = begin + (1.0 - begin) * p.fraction;
        notify(progress);
      });
      context.enter("report", "base", child.get(), options.run_dir);
      const Dataset* test = recipe.datasets.count("test") ? &context.dataset("test") : nullptr;
      run.report = measureModels(entries, test, options.report_options, child.get());
      run.report.recipe_name = recipe.name;
      run.report.device = std::move(device);
      run.report.test_dataset = recipe.datasets.count("test") ? recipe.datasets.at("test") : "";
      writeReport(run.report, options.run_dir);
      writeFileAtomic(key_path, report_key);
    }
    run.report_written = true;
    event.type = run.report_cached ? StepEvent::Type::Cached : StepEvent::Type::Finished;
    event.overall.fraction = 1;
    notify(event);
  }
  return run;
}

}  // namespace edgetune::pipeline
