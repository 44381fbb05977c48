#include "core/passes/pass.h"

#include <algorithm>

#include "core/util/error.h"

namespace edgetune {

// --- PassReport ---

void PassReport::merge(const PassReport& other) {
  nodes_removed += other.nodes_removed;
  nodes_added += other.nodes_added;
  initializers_removed += other.initializers_removed;
  lines.insert(lines.end(), other.lines.begin(), other.lines.end());
  if (!coverage && other.coverage) coverage = other.coverage;
}

nlohmann::json PassReport::toJson() const {
  nlohmann::json j = {{"pass", pass_name},
                      {"nodes_removed", nodes_removed},
                      {"nodes_added", nodes_added},
                      {"initializers_removed", initializers_removed},
                      {"lines", lines},
                      {"details", details}};
  if (coverage) j["coverage"] = coverage->toJson();
  return j;
}

// --- PassContext ---

PassContext::PassContext(JobContext* job, ExecutorFactory make_executor)
    : job_(job), make_executor_(std::move(make_executor)) {
  if (!make_executor_) make_executor_ = [](const Model& model) { return makeOrtExecutor(model); };
}

void PassContext::report(double fraction, const std::string& message) const {
  if (job_) job_->report(fraction, message);
}

void PassContext::throwIfCancelled() const {
  if (job_) job_->throwIfCancelled();
}

// --- OptionsReader ---

OptionsReader::OptionsReader(const nlohmann::json& json, std::string pass_name, std::string what)
    : json_(json), pass_name_(std::move(pass_name)), what_(std::move(what)) {
  if (!json_.is_object())
    throw Error(what_ + " '" + pass_name_ + "': options must be a JSON object, not " + json_.type_name());
}

void OptionsReader::finish() const {
  for (const auto& [key, _] : json_.items())
    if (std::find(seen_.begin(), seen_.end(), key) == seen_.end()) {
      std::string known;
      for (const auto& k : seen_) known += (known.empty() ? "" : ", ") + k;
      fail(key, "is not an option of this " + what_ + " (options: " + (known.empty() ? "none" : known) + ")");
    }
}

void OptionsReader::fail(const std::string& key, const std::string& problem) const {
  throw OptionError(what_ + " '" + pass_name_ + "': option '" + key + "' " + problem, key);
}

// --- PassRegistry ---

void PassRegistry::add(const std::string& name, Factory factory) {
  if (factories_.count(name)) throw Error("pass '" + name + "' is registered twice");
  factories_[name] = std::move(factory);
}

std::vector<std::string> PassRegistry::names() const {
  std::vector<std::string> result;
  for (const auto& [name, _] : factories_) result.push_back(name);
  return result;
}

std::unique_ptr<Pass> PassRegistry::create(const std::string& name, const nlohmann::json& options) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown pass '" + name + "' (known passes: " + known + ")");
  }
  auto pass = it->second();
  pass->setOptionsJson(options);
  return pass;
}

// --- Recipe ---

nlohmann::json Recipe::toJson() const {
  nlohmann::json passes = nlohmann::json::array();
  for (const auto& pass : passes_)
    passes.push_back({{"pass", pass->name()}, {"options", pass->optionsJson()}});
  return {{"format", "edgetune-recipe"}, {"version", 1}, {"passes", passes}};
}

Recipe Recipe::fromJson(const nlohmann::json& json, const PassRegistry& registry, const std::string& origin) {
  if (!json.is_object()) throw Error(origin + ": a recipe must be a JSON object");
  if (json.value("format", std::string()) != "edgetune-recipe")
    throw Error(origin + ": not an EdgeTune recipe (\"format\" must be \"edgetune-recipe\")");
  if (!json.contains("version") || !json["version"].is_number_integer() || json["version"].get<int>() != 1)
    throw Error(origin + ": unsupported recipe version (this EdgeTune reads version 1)");
  if (!json.contains("passes") || !json["passes"].is_array())
    throw Error(origin + ": \"passes\" must be a list");
  Recipe recipe;
  const auto& passes = json["passes"];
  for (size_t i = 0; i < passes.size(); ++i) {
    const std::string where = origin + ": passes[" + std::to_string(i) + "]";
    const auto& entry = passes[i];
    if (!entry.is_object() || !entry.contains("pass") || !entry["pass"].is_string())
      throw Error(where + ": each entry needs a \"pass\" name");
    try {
      recipe.add(registry.create(entry["pass"].get<std::string>(),
                                 entry.contains("options") ? entry["options"] : nlohmann::json()));
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    }
  }
  return recipe;
}

std::vector<PassReport> Recipe::apply(Model& model, PassContext& context) const {
  // Passes share the caller's context (so cancellation reaches them); progress is reported between passes.
  std::vector<PassReport> reports;
  for (size_t i = 0; i < passes_.size(); ++i) {
    context.throwIfCancelled();
    context.report(static_cast<double>(i) / passes_.size(), "running pass " + passes_[i]->name());
    reports.push_back(passes_[i]->apply(model, context));
  }
  context.report(1.0, "recipe applied");
  return reports;
}

}  // namespace edgetune
