#include "ui/recipe_bridge.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/passes/cleanup_passes.h"
#include "core/pipeline/variant_model.h"
#include "core/util/error.h"
#include "core/zoo/model_source.h"
#include "ui/tuning_panel.h"

namespace edgetune::ui {
namespace fs = std::filesystem;
using nlohmann::json;
using pipeline::RecipeFile;
using pipeline::StepSpec;
using pipeline::Variant;

namespace {

const pipeline::StepRegistry& stepRegistry() {
  static const pipeline::StepRegistry registry = pipeline::StepRegistry::withBuiltins();
  return registry;
}

// The clean step is the whole output-preserving clean-up with two choices (BatchNorm, equal initializers).
// A v1 "cleanup" pass maps onto it when it asks for nothing else.
json cleanOptionsOf(const std::string& pass, const json& options) {
  if (pass != "cleanup")
    return {{"fold_batchnorm", pass == "fold_batchnorm"},
            {"deduplicate", pass == "deduplicate_initializers"}};
  CleanupOptions given;
  const json given_json = options.is_null() ? json::object() : options;
  OptionsReader reader(given_json, pass);
  readOptions(reader, given);
  reader.finish();
  const CleanupOptions defaults;
  auto refuse = [&](const std::string& key) {
    throw Error("pass 'cleanup': option '" + key +
                "' has no equivalent in the pipeline's clean step (it runs the standard clean-up)");
  };
  if (given.max_rounds != defaults.max_rounds) refuse("max_rounds");
  if (given.fold_constants != defaults.fold_constants) refuse("fold_constants");
  if (given.max_folded_bytes != defaults.max_folded_bytes) refuse("max_folded_bytes");
  return {{"fold_batchnorm", given.fold_batchnorm}, {"deduplicate", given.deduplicate}};
}

bool isCleanupPass(const std::string& pass) {
  static const std::set<std::string> names = {"cleanup",        "remove_identity",
                                              "fold_constants", "fold_batchnorm",
                                              "eliminate_dead", "deduplicate_initializers"};
  return names.count(pass) > 0;
}

// Options with the kind's defaults, the form two steps compare in.
json defaultedOptions(const StepSpec& spec) {
  return stepRegistry().create(spec.kind, spec.options)->optionsJson();
}

std::string joinedList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// The node name an exclude_nodes entry written by exactNameRegex() stands for, or "" for a real regex.
std::string exactName(const std::string& regex) {
  if (regex.size() < 2 || regex.front() != '^' || regex.back() != '$') return {};
  std::string name;
  for (size_t i = 1; i + 1 < regex.size(); ++i) {
    if (regex[i] == '\\' && i + 2 < regex.size()) ++i;
    name += regex[i];
  }
  return exactNameRegex(name) == regex ? name : std::string();
}

int rankOf(const std::string& kind) {
  if (kind == "clean") return 0;
  if (kind == "prune") return 1;
  if (kind == "quantize") return 2;
  return -1;
}

// The next free id for a step of `kind`: the kind, then "KIND-2", ... (the recipe file's own default).
std::string nextStepId(const RecipeFile& recipe, const std::string& kind) {
  int n = 0;
  for (const auto& step : recipe.steps) n += step.kind == kind ? 1 : 0;
  return n == 0 ? kind : kind + "-" + std::to_string(n + 1);
}

void checkStep(const StepSpec& step, const std::string& what) {
  try {
    stepRegistry().create(step.kind, step.options);
  } catch (const Error& e) {
    throw Error(what + " as step '" + step.kind + "': " + e.what());
  }
}

RecipeFile emptyStudioRecipe(const std::string& model_source, const std::string& dataset_spec,
                             const std::string& name) {
  RecipeFile recipe;
  recipe.name = name;
  recipe.description = "saved from EdgeTune Studio";
  recipe.model = model_source.empty() || zoo::isZooSource(model_source)
                     ? model_source
                     : fs::absolute(model_source).lexically_normal().string();
  if (!dataset_spec.empty()) recipe.datasets["test"] = dataset_spec;
  return recipe;
}

// Appends the steps of a v1 pass list, each from the previous step's model.
void appendPassSteps(RecipeFile& recipe, const json& v1_recipe) {
  if (!v1_recipe.is_object() || !v1_recipe.contains("passes") || !v1_recipe["passes"].is_array())
    throw Error("the studio's recipe has no pass list");
  for (const auto& entry : v1_recipe["passes"]) {
    const std::string pass = entry.value("pass", std::string());
    json options = entry.value("options", json::object());
    if (!options.is_object()) throw Error("pass '" + pass + "': options must be an object");
    StepSpec step;
    if (isCleanupPass(pass)) {
      step.kind = "clean";
      step.options = cleanOptionsOf(pass, options);
    } else if (pass == "prune_channels" || pass == "prune_magnitude") {
      step.kind = "prune";
      step.options = options;
      step.options["method"] = pass == "prune_channels" ? "channels" : "magnitude";
    } else if (pass == "quantize") {
      step.kind = "quantize";
      step.options = options;
      const std::string mode = options.value("mode", std::string("static"));
      const std::string data = options.value("data", std::string());
      if (mode == "static") {
        if (data.empty())
          throw Error("pass 'quantize': static INT8 calibrates on a dataset, and none is open (Ctrl+D)");
        // In v1 `data` is a spec; in v2 it names a dataset role.
        const auto it = recipe.datasets.find("calibration");
        if (it != recipe.datasets.end() && it->second != data)
          throw Error("pass 'quantize': two quantize passes calibrate on different data (" + it->second +
                      ", " + data + "); a recipe names one calibration set");
        recipe.datasets["calibration"] = data;
        step.options["data"] = "calibration";
      } else {
        step.options.erase("data");
      }
    } else {
      throw Error("pass '" + pass + "' has no pipeline step (the studio's recipes use clean-up, " +
                  "prune_channels, prune_magnitude and quantize)");
    }
    step.id = nextStepId(recipe, step.kind);
    checkStep(step, "pass '" + pass + "'");
    recipe.steps.push_back(std::move(step));
  }
}

// Names `spec` as the recipe's dataset `role`; another step naming other data there is refused.
void nameDataset(RecipeFile& recipe, const std::string& role, const std::string& spec,
                 const Variant& variant) {
  const auto it = recipe.datasets.find(role);
  if (it != recipe.datasets.end() && it->second != spec)
    throw Error("variant '" + variant.name + "' trains on " + spec + ", another step on " + it->second);
  recipe.datasets[role] = spec;
}

// The training step that made a trained variant, from what the Training dock recorded (train_panel.cpp's
// TrainSettings::toJson): the studio trains with the pruning recovery (zero weights held at zero), so it is
// a `recover` step, with the project's model as the teacher for a distillation. Its train and validation
// roles are the dataset specs the dock trained and validated on (the spec's own seeded split), so the replay
// reads the same examples and gives the same bytes. A variant recorded before the dock kept those specs
// trains on the whole dataset: a re-run of the same training, not the same bytes.
void appendTrainingStep(RecipeFile& recipe, const Variant& variant, const std::string& dataset_spec) {
  const json training = variant.recipe.is_object() ? variant.recipe.value("training", json()) : json();
  if (!training.is_object())
    throw Error("variant '" + variant.name + "' has a model file of its own and no record of what made it, " +
                "so a recipe cannot replay it");
  if (training.value("source", std::string()) == "student")
    throw Error("variant '" + variant.name + "' was trained from the student " +
                training.value("student", std::string("?")) +
                ", and a recipe's steps start from its model, not from another one");
  const std::string mode = training.value("mode", std::string());
  if (mode != "fine-tune" && mode != "distill")
    throw Error("variant '" + variant.name + "' was made by a training mode ('" + mode +
                "') no recipe step runs");
  if (!training.contains("train_spec") && dataset_spec.empty())
    throw Error("variant '" + variant.name + "' was trained on a dataset, and none is open (Ctrl+D)");
  StepSpec step;
  step.kind = "recover";
  step.id = nextStepId(recipe, step.kind);
  step.options = {{"epochs", training.value("epochs", 1)},
                  {"batch_size", training.value("batch_size", 64)},
                  {"lr", training.value("learning_rate", 0.05)},
                  {"optimizer", training.value("optimizer", std::string("sgd"))},
                  {"augment", training.value("augment", false)},
                  {"max_steps_per_epoch", training.value("steps_per_epoch", 0)},
                  {"seed", training.value("seed", uint64_t{1})},
                  {"masks", true},
                  {"data", "train"}};
  if (mode == "distill") {
    step.options["teacher"] = "base";
    step.options["temperature"] = training.value("temperature", 4.0);
    step.options["alpha"] = training.value("alpha", 0.9);
  }
  nameDataset(recipe, "train", training.value("train_spec", dataset_spec), variant);
  if (training.contains("validation_spec"))
    nameDataset(recipe, "validation", training.at("validation_spec").get<std::string>(), variant);
  checkStep(step, "the training of variant '" + variant.name + "'");
  recipe.steps.push_back(std::move(step));
}

// The steps that make `variant` from its base's model.
void appendVariantSteps(RecipeFile& recipe, const Variant& variant, const std::string& dataset_spec) {
  if (variant.model_file.empty()) {
    appendPassSteps(recipe, variant.recipe);
    return;
  }
  if (variant.recipe.is_object() && variant.recipe.contains("step"))
    throw Error("variant '" + variant.name + "' comes from the recipe run in " +
                variant.recipe.value("run_dir", std::string("its run folder")) +
                ": that recipe replays it, this one cannot");
  // A trained variant made before variants had bases records its source's passes: they came first.
  if (variant.base.empty() && variant.recipe.contains("passes")) appendPassSteps(recipe, variant.recipe);
  appendTrainingStep(recipe, variant, dataset_spec);
}

}  // namespace

RecipeFile recipeFileFromStudio(const json& v1_recipe, const std::string& model_source,
                                const std::string& dataset_spec, const std::string& name) {
  RecipeFile recipe = emptyStudioRecipe(model_source, dataset_spec, name);
  appendPassSteps(recipe, v1_recipe);
  return recipe;
}

RecipeFile recipeFileForVariant(const pipeline::Project& project, const Variant& variant,
                                const std::string& name) {
  RecipeFile recipe = emptyStudioRecipe(project.model_path, project.dataset_spec, name);
  std::vector<const Variant*> chain = pipeline::baseChain(project.variants, variant);
  std::reverse(chain.begin(), chain.end());  // the one made from the project's model first
  chain.push_back(&variant);
  for (const Variant* v : chain) appendVariantSteps(recipe, *v, project.dataset_spec);
  return recipe;
}

bool sameSteps(const RecipeFile& a, const RecipeFile& b, std::string* why) {
  auto differ = [&](const std::string& text) {
    if (why) *why = text;
    return false;
  };
  if (a.steps.size() != b.steps.size())
    return differ(std::to_string(a.steps.size()) + " steps against " + std::to_string(b.steps.size()));
  for (size_t i = 0; i < a.steps.size(); ++i) {
    const StepSpec& x = a.steps[i];
    const StepSpec& y = b.steps[i];
    const std::string label = "step " + std::to_string(i + 1) + " '" + x.id + "'";
    if (x.kind != y.kind) return differ(label + " is " + x.kind + ", not " + y.kind);
    if (x.id != y.id) return differ(label + " is called '" + y.id + "' in the other");
    if (a.inputOf(i) != b.inputOf(i)) return differ(label + " starts from '" + a.inputOf(i) + "'");
    if (x.enabled != y.enabled) return differ(label + (x.enabled ? " is enabled" : " is disabled"));
    json ox, oy;
    std::vector<std::string> roles;
    try {
      const auto step = stepRegistry().create(x.kind, x.options);
      ox = step->optionsJson();
      roles = step->datasetRoles();
      oy = defaultedOptions(y);
    } catch (const Error& e) {
      return differ(label + ": " + e.what());
    }
    if (ox != oy) {
      for (const auto& [key, value] : ox.items())
        if (!oy.contains(key) || oy[key] != value)
          return differ(label + " option '" + key + "' is " + value.dump() +
                        (oy.contains(key) ? ", not " + oy[key].dump() : ""));
      return differ(label + " has other options");
    }
    for (const auto& role : roles) {
      const auto ia = a.datasets.find(role), ib = b.datasets.find(role);
      const std::string sa = ia == a.datasets.end() ? "" : ia->second;
      const std::string sb = ib == b.datasets.end() ? "" : ib->second;
      if (sa != sb) return differ(label + " reads datasets." + role + " = " + sa + ", not " + sb);
    }
  }
  return true;
}

RecipeKnobs knobsFromRecipeFile(const RecipeFile& recipe, const json& base_knobs) {
  RecipeKnobs out;
  auto refuse = [&](const std::string& reason) {
    out.editable = false;
    out.reason = reason;
    out.knobs = nullptr;
    return out;
  };
  json k = base_knobs.is_object() ? base_knobs : json::object();
  k["cleanup"] = false;
  k["prune_ratio"] = 0.0;
  k["group_ratios"] = json::object();
  k["locked_groups"] = json::array();
  k["protect"] = "";
  k["quant_mode"] = "none";
  k["exclude"] = "";
  k["exclude_nodes"] = json::array();
  if (!k.contains("prune_method") || k["prune_method"] == "none") k["prune_method"] = "prune_channels";

  int last_rank = -1;
  std::string previous = "base";
  std::string calibration_spec;
  for (size_t i = 0; i < recipe.steps.size(); ++i) {
    const StepSpec& spec = recipe.steps[i];
    const std::string label = "step '" + spec.id + "' (" + spec.kind + ")";
    const int rank = rankOf(spec.kind);
    if (rank < 0) return refuse(label + " has no knob in the tuning panel");
    if (rank <= last_rank)
      return refuse(label +
                    " comes after a step the knobs always run after it (the knobs run clean, prune, " +
                    "quantize, each at most once)");
    if (!spec.enabled) return refuse(label + " is disabled; the knobs have no per-step switch");
    if (recipe.inputOf(i) != previous)
      return refuse(label + " starts from '" + recipe.inputOf(i) +
                    "'; the knobs chain each step on the last");
    last_rank = rank;
    previous = spec.id;
    json o;
    try {
      o = defaultedOptions(spec);
    } catch (const Error& e) {
      return refuse(spec.source.where() + ": " + e.what());
    }
    if (spec.kind == "clean") {
      if (!o.value("fold_batchnorm", false))
        return refuse(label + " keeps BatchNorm; the clean-up knob folds it");
      if (!o.value("deduplicate", false))
        return refuse(label + " keeps equal initializers apart; the clean-up knob merges them");
      k["cleanup"] = true;
    } else if (spec.kind == "prune" && o.value("method", "") == "channels") {
      k["prune_method"] = "prune_channels";
      k["prune_ratio"] = o.value("ratio", 0.0);
      const json per_group = o.value("per_group", json::object());
      for (const auto& [group, ratio] : per_group.items()) {
        if (ratio.get<double>() == 0)
          k["locked_groups"].push_back(group);
        else
          k["group_ratios"][group] = ratio;
      }
      k["protect"] = joinedList(o.value("protect", std::vector<std::string>{}));
      k["round_to"] = o.value("round_to", int64_t{8});
    } else if (spec.kind == "prune") {
      k["prune_method"] = "prune_magnitude";
      k["prune_ratio"] = o.value("sparsity", 0.0);
      k["protect"] = o.value("exclude_regex", std::string());
    } else {  // quantize
      const std::string mode = o.value("mode", std::string("static"));
      k["quant_mode"] = mode;
      k["per_channel"] = o.value("per_channel", true);
      if (mode == "static") {
        k["calibration"] = o.value("calibration", std::string("minmax"));
        k["samples"] = o.value("samples", int64_t{256});
        const std::string role = o.value("data", std::string("calibration"));
        const auto it = recipe.datasets.find(role);
        if (it == recipe.datasets.end())
          return refuse(label + " calibrates on datasets." + role + ", which the recipe does not name");
        calibration_spec = it->second;
      }
      std::vector<std::string> regexes;
      for (const auto& entry : o.value("exclude_nodes", std::vector<std::string>{})) {
        const std::string node = exactName(entry);
        if (node.empty())
          regexes.push_back(entry);
        else
          k["exclude_nodes"].push_back(node);
      }
      k["exclude"] = joinedList(regexes);
    }
  }

  const auto test = recipe.datasets.find("test");
  const std::string test_spec = test == recipe.datasets.end() ? "" : test->second;
  if (!calibration_spec.empty() && !test_spec.empty() && calibration_spec != test_spec)
    return refuse("it calibrates on " + calibration_spec + " and tests on " + test_spec +
                  "; the studio uses its one dataset for both");
  out.dataset_spec = calibration_spec.empty() ? test_spec : calibration_spec;

  // The proof: the knobs give back the same steps.
  try {
    const RecipeFile again =
        recipeFileFromStudio(recipeFromKnobs(k, out.dataset_spec, pipeline::builtinPassRegistry()),
                             recipe.modelPath(), out.dataset_spec, recipe.name);
    std::string why;
    if (!sameSteps(recipe, again, &why)) return refuse("the knobs cannot express it: " + why);
  } catch (const Error& e) {
    return refuse(std::string("the knobs cannot express it: ") + e.what());
  }
  out.editable = true;
  out.knobs = std::move(k);
  return out;
}

std::string recipeYamlFor(const RecipeFile& recipe, const fs::path& path) {
  RecipeFile copy = recipe;
  if (!copy.model.empty() && !zoo::isZooSource(copy.model)) {
    const fs::path model = fs::absolute(recipe.modelPath()).lexically_normal();
    const fs::path relative = model.lexically_relative(fs::absolute(path).parent_path().lexically_normal());
    const bool inside = !relative.empty() && *relative.begin() != "..";
    copy.model = inside ? relative.generic_string() : model.string();
  }
  return copy.toYaml();
}

std::vector<Variant> variantsFromRun(const RecipeFile& recipe, const pipeline::RunResult& run) {
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < recipe.steps.size(); ++i) index_of[recipe.steps[i].id] = i;
  std::vector<Variant> variants;
  for (size_t i = 0; i < run.steps.size() && i < recipe.steps.size(); ++i) {
    const pipeline::StepRecord& record = run.steps[i];
    if (!record.enabled || record.model_path.empty()) continue;
    // The chain of steps that made this model, base first (descriptive: the variant has its own file).
    std::vector<size_t> chain = {i};
    for (std::string from = recipe.inputOf(i); from != "base" && index_of.count(from);
         from = recipe.inputOf(index_of[from]))
      chain.insert(chain.begin(), index_of[from]);
    json passes = json::array();
    for (size_t c : chain)
      passes.push_back({{"pass", recipe.steps[c].kind}, {"options", recipe.steps[c].options}});
    Variant v;
    v.name = record.id;
    v.model_file = fs::absolute(record.model_path).lexically_normal().string();
    v.recipe = {
        {"format", "edgetune-recipe"},
        {"version", RecipeFile::kVersion},
        {"recipe", recipe.name},
        {"run_dir", fs::absolute(run.run_dir).lexically_normal().string()},
        {"step",
         {{"id", record.id}, {"kind", record.kind}, {"input", record.input}, {"options", record.options}}},
        {"passes", passes}};
    v.created_utc = pipeline::nowUtcIso();
    for (const auto& m : run.report.models) {
      if (m.step_id != record.id) continue;
      v.metrics.size_bytes = m.file_bytes;
      v.metrics.params = m.params;
      if (m.has_accuracy) {
        v.metrics.accuracy = m.accuracy;
        v.metrics.accuracy_low = m.accuracy_low;
        v.metrics.accuracy_high = m.accuracy_high;
        v.metrics.accuracy_count = static_cast<int64_t>(m.test_examples);
      }
      for (const auto& l : m.latency)
        if (l.threads == 1) {
          v.metrics.latency_ms = l.median_ms;
          v.metrics.latency_p90_ms = l.p90_ms;
        }
    }
    variants.push_back(std::move(v));
  }
  return variants;
}

std::string stepProgressText(const pipeline::StepEvent& event, size_t step_count) {
  using Type = pipeline::StepEvent::Type;
  const std::string prefix =
      event.index >= step_count
          ? std::string("[report] ")
          : "[" + std::to_string(event.index + 1) + "/" + std::to_string(step_count) + "] " + event.id + ": ";
  switch (event.type) {
    case Type::Started:
      return prefix + (event.index >= step_count ? "measuring the models" : "started");
    case Type::Cached:
      return prefix + "done earlier (cached)";
    case Type::Skipped:
      return prefix + "disabled, skipped";
    case Type::Finished:
      return prefix + "done";
    case Type::Progress:
      break;
  }
  return prefix + event.step.message;
}

}  // namespace edgetune::ui
