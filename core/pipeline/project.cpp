#include "core/pipeline/project.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"

namespace edgetune::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

template <class T>
void putOptional(json& j, const char* key, const std::optional<T>& value) {
  if (value) j[key] = *value;
}
template <class T>
void getOptional(const json& j, const char* key, std::optional<T>& value) {
  if (j.contains(key) && !j.at(key).is_null()) value = j.at(key).get<T>();
}

}  // namespace

json VariantMetrics::toJson() const {
  json j = json::object();
  putOptional(j, "size_bytes", size_bytes);
  putOptional(j, "params", params);
  putOptional(j, "accuracy", accuracy);
  putOptional(j, "accuracy_low", accuracy_low);
  putOptional(j, "accuracy_high", accuracy_high);
  putOptional(j, "accuracy_count", accuracy_count);
  putOptional(j, "latency_ms", latency_ms);
  putOptional(j, "latency_p90_ms", latency_p90_ms);
  return j;
}

VariantMetrics VariantMetrics::fromJson(const json& j) {
  VariantMetrics m;
  getOptional(j, "size_bytes", m.size_bytes);
  getOptional(j, "params", m.params);
  getOptional(j, "accuracy", m.accuracy);
  getOptional(j, "accuracy_low", m.accuracy_low);
  getOptional(j, "accuracy_high", m.accuracy_high);
  getOptional(j, "accuracy_count", m.accuracy_count);
  getOptional(j, "latency_ms", m.latency_ms);
  getOptional(j, "latency_p90_ms", m.latency_p90_ms);
  return m;
}

json emptyRecipe() {
  return {{"format", "edgetune-recipe"}, {"version", 1}, {"passes", json::array()}};
}

json Variant::toJson() const {
  json j = {{"name", name},
            {"recipe", recipe},
            {"knobs", knobs},
            {"metrics", metrics.toJson()},
            {"created_utc", created_utc}};
  if (!base.empty()) j["base"] = base;
  if (!model_file.empty()) j["model_file"] = model_file;
  if (!device_benchmarks.empty()) j["device_benchmarks"] = device_benchmarks;
  return j;
}

std::optional<double> deviceLatencyMs(const Variant& variant) {
  if (!variant.device_benchmarks.is_array()) return std::nullopt;
  for (auto b = variant.device_benchmarks.rbegin(); b != variant.device_benchmarks.rend(); ++b) {
    // DeviceBenchmark::toJson() keeps the per-thread-count latencies under "results".
    if (!b->is_object() || !b->contains("results") || !(*b)["results"].is_array()) continue;
    for (const auto& l : (*b)["results"])
      if (l.is_object() && l.value("threads", 0) == 1 && l.contains("median_ms") &&
          l["median_ms"].is_number())
        return l["median_ms"].get<double>();
  }
  return std::nullopt;
}

Variant Variant::fromJson(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": expected an object");
  Variant v;
  try {
    v.name = j.at("name").get<std::string>();
    v.base = j.value("base", std::string());
    v.recipe = j.value("recipe", emptyRecipe());
    v.knobs = j.value("knobs", json::object());
    v.metrics = VariantMetrics::fromJson(j.value("metrics", json::object()));
    v.created_utc = j.value("created_utc", std::string());
    v.model_file = j.value("model_file", std::string());
    v.device_benchmarks = j.value("device_benchmarks", json::array());
    if (!v.device_benchmarks.is_array()) throw Error(where + ": \"device_benchmarks\" must be an array");
  } catch (const json::exception& e) {
    throw Error(where + ": " + e.what());
  }
  return v;
}

int findVariantNamed(const std::vector<Variant>& variants, const std::string& name) {
  for (size_t i = 0; i < variants.size(); ++i)
    if (variants[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<const Variant*> baseChain(const std::vector<Variant>& variants, const Variant& variant) {
  std::vector<const Variant*> chain;
  std::vector<std::string> path = {variant.name};
  for (const Variant* at = &variant; !at->base.empty();) {
    const std::string& base = at->base;
    const auto named =
        std::count_if(variants.begin(), variants.end(), [&](const Variant& v) { return v.name == base; });
    if (named == 0)
      throw Error("variant '" + at->name + "': its base '" + base + "' is not a variant of the project");
    if (named > 1)
      throw Error("variant '" + at->name + "': its base '" + base + "' names " + std::to_string(named) +
                  " variants");
    const bool seen = std::find(path.begin(), path.end(), base) != path.end();
    path.push_back(base);
    if (seen) {
      std::string cycle;
      for (const auto& name : path) cycle += (cycle.empty() ? "'" : " -> '") + name + "'";
      throw Error("variant '" + variant.name + "': its bases form a cycle (" + cycle + ")");
    }
    at = &variants[static_cast<size_t>(findVariantNamed(variants, base))];
    chain.push_back(at);
  }
  return chain;
}

std::string uniqueVariantName(const std::vector<Variant>& variants, const std::string& wanted) {
  if (findVariantNamed(variants, wanted) < 0) return wanted;
  for (int n = 2;; ++n) {
    const std::string name = wanted + " (" + std::to_string(n) + ")";
    if (findVariantNamed(variants, name) < 0) return name;
  }
}

json Project::toJson() const {
  json vs = json::array();
  for (const auto& v : variants) vs.push_back(v.toJson());
  json j = {{"format", "edgetune-project"}, {"version", kVersion}, {"model_path", model_path},
            {"dataset_spec", dataset_spec}, {"knobs", knobs},      {"variants", vs}};
  if (!train_dataset_spec.empty()) j["train_dataset_spec"] = train_dataset_spec;
  if (!current_base.empty()) j["current_base"] = current_base;
  if (sensitivity) j["sensitivity"] = sensitivity->toJson();
  return j;
}

Project Project::fromJson(const json& j, const std::string& origin) {
  if (!j.is_object() || j.value("format", std::string()) != "edgetune-project")
    throw Error(origin + ": not an EdgeTune project (missing \"format\": \"edgetune-project\")");
  const json version = j.value("version", json(0));
  if (version != 1 && version != kVersion)
    throw Error(origin + ": unsupported project version " + version.dump() + " (this build reads 1 and " +
                std::to_string(kVersion) + ")");
  Project p;
  try {
    p.model_path = j.value("model_path", std::string());
    p.dataset_spec = j.value("dataset_spec", std::string());
    p.train_dataset_spec = j.value("train_dataset_spec", std::string());
    p.knobs = j.value("knobs", json::object());
    const json& vs = j.value("variants", json::array());
    if (!vs.is_array()) throw Error(origin + ": \"variants\" must be an array");
    for (size_t i = 0; i < vs.size(); ++i)
      p.variants.push_back(Variant::fromJson(vs[i], origin + ": variants[" + std::to_string(i) + "]"));
    p.current_base = j.value("current_base", std::string());
    if (j.contains("sensitivity") && !j.at("sensitivity").is_null()) {
      try {
        p.sensitivity = SensitivityResult::fromJson(j.at("sensitivity"));
      } catch (const std::exception& e) {
        throw Error(origin + ": \"sensitivity\": " + e.what());
      }
    }
  } catch (const json::exception& e) {
    throw Error(origin + ": " + e.what());
  }
  // Every chain must resolve now, not when a view first needs a variant's model.
  for (size_t i = 0; i < p.variants.size(); ++i) {
    try {
      baseChain(p.variants, p.variants[i]);
    } catch (const Error& e) {
      throw Error(origin + ": variants[" + std::to_string(i) + "]: " + e.what());
    }
  }
  if (!p.current_base.empty() && findVariantNamed(p.variants, p.current_base) < 0)
    throw Error(origin + ": \"current_base\" is '" + p.current_base +
                "', which is not a variant of the project");
  return p;
}

// `file` relative to `dir` when it sits beside or below it (so a project folder can be moved), else
// unchanged.
static std::string relativeIfInside(const std::string& file, const fs::path& dir) {
  if (file.empty() || zoo::isZooSource(file)) return file;
  const fs::path rel = fs::absolute(file).lexically_normal().lexically_relative(dir);
  return !rel.empty() && rel.native().rfind("..", 0) != 0 ? rel.generic_string() : file;
}

static std::string resolveAgainst(const std::string& file, const fs::path& dir) {
  if (file.empty() || zoo::isZooSource(file) || fs::path(file).is_absolute()) return file;
  return (dir / file).lexically_normal().string();
}

void Project::save(const fs::path& path) const {
  Project copy = *this;
  const fs::path dir = fs::absolute(path).parent_path().lexically_normal();
  copy.model_path = relativeIfInside(model_path, dir);
  for (auto& v : copy.variants) v.model_file = relativeIfInside(v.model_file, dir);
  writeFileAtomic(path, copy.toJson().dump(2) + "\n");
}

Project Project::load(const fs::path& path) {
  const std::string text = readFile(path);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(path.string() + ": not valid JSON (" + e.what() + ")");
  }
  Project p = fromJson(j, path.string());
  const fs::path dir = fs::absolute(path).parent_path();
  p.model_path = resolveAgainst(p.model_path, dir);
  for (auto& v : p.variants) v.model_file = resolveAgainst(v.model_file, dir);
  return p;
}

std::string nowUtcIso() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace edgetune::pipeline
