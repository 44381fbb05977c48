// Recipe v2: reading (YAML or JSON through yaml-cpp), checking the structure, the canonical JSON and YAML
// forms, and "--set" overrides.
//
// Reading is three passes over yaml-cpp's node tree: the shape check (recipe_yaml.h: depth, value count,
// unique scalar keys, UTF-8), then the recipe's own keys here, with the file and line of every error, then
// step options converted to JSON by the YAML 1.2 core schema (recipe_yaml.h). toYaml() writes block style
// through recipe_yaml's writer.
#include "core/pipeline/recipe_file.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "core/pipeline/recipe_yaml.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "core/zoo/model_source.h"

namespace edgetune::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace recipe_yaml;

namespace {

constexpr const char* kFormat = "edgetune-recipe";
constexpr uintmax_t kMaxFileBytes =
    4u * 1024 * 1024;  // a recipe is a few kilobytes; anything this big is not one

const std::vector<std::string> kTopKeys = {"format", "version",  "name", "description",
                                           "model",  "datasets", "steps"};
const std::vector<std::string> kStepKeys = {"id", "kind", "input", "enabled", "options"};

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// Step ids become folder names: letters, digits and "_.-", and not "." or "..".
bool isName(const std::string& text) {
  if (text.empty() || text.find_first_not_of('.') == std::string::npos) return false;
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '.' || c == '-'; });
}

// ---- the recipe's structure ----

// yaml-cpp 0.7's LoadAll never returns on some malformed streams (after a lone "," every pass yields one more
// empty document; fixed upstream in yaml-cpp PR 1319): the documents are counted with a bound instead, by a
// parser that builds nothing.
class IgnoreEvents final : public YAML::EventHandler {
 public:
  std::optional<int> second_document_line;  // 1-based
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 2) second_document_line = mark.line + 1;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
  }
  void OnMapEnd() override {}

 private:
  int documents_ = 0;
};

// The line where a second YAML document starts, if the stream holds one (at most two documents are parsed).
std::optional<int> secondDocumentLine(const std::string& yaml) {
  std::istringstream in(yaml);
  YAML::Parser parser(in);
  IgnoreEvents events;
  for (int parsed = 0; parsed < 2 && parser.HandleNextDocument(events);) ++parsed;
  return events.second_document_line;
}

class RecipeReader {
 public:
  explicit RecipeReader(const fs::path& origin) : file_(origin.string()) {
    fail_ = [this](const YAML::Node& node, const std::string& key, const std::string& problem) {
      return error(lineOf(node), key, problem);
    };
  }

  Error error(int line, const std::string& key, const std::string& problem) const {
    return Error(SourceLine{file_, line}.where() + ": " + (key.empty() ? "" : key + ": ") + problem);
  }

  RecipeFile read(const std::string& text, const fs::path& origin) {
    if (text.size() > kMaxFileBytes) throw error(0, "", "larger than 4 MiB; a recipe is a small text file");
    YAML::Node root;
    std::optional<int> second_document_line;
    try {
      const std::string yaml = joinSurrogateEscapes(text);
      root = YAML::Load(yaml);
      second_document_line = secondDocumentLine(yaml);
    } catch (const YAML::DeepRecursion& e) {
      throw error(e.mark.line + 1, "", "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    } catch (const YAML::Exception& e) {
      throw error(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", e.msg);
    }
    if (root.IsNull())
      throw error(0, "", "empty recipe (it starts with format: edgetune-recipe and version: 2)");
    if (second_document_line)
      throw error(*second_document_line, "", "a recipe is one YAML document, this file holds more than one");
    checkShape(root, fail_);
    if (!root.IsMap())
      throw fail_(root, "recipe",
                  "must be a map of keys (" + joinedWithCommas(kTopKeys) + "), not " + typeName(root));

    std::map<std::string, std::pair<YAML::Node, YAML::Node>> keys;  // key -> (key node, value node)
    for (const auto& entry : root) keys[entry.first.Scalar()] = {entry.first, entry.second};
    checkFormatAndVersion(root, keys);

    RecipeFile recipe;
    recipe.origin = origin;
    for (const auto& [key, nodes] : keys) {
      const auto& [key_node, value] = nodes;
      if (!contains(kTopKeys, key))
        throw fail_(key_node, key, "unknown key (accepted: " + joinedWithCommas(kTopKeys) + ")");
      if (key == "name") recipe.name = stringOf(value, key);
      if (key == "description") recipe.description = stringOf(value, key);
      if (key == "model") recipe.model = stringOf(value, key);
      if (key == "datasets") recipe.datasets = datasetsOf(value);
    }
    if (!keys.count("model"))
      throw fail_(root, "model", "missing (the base model: a path to an .onnx file or zoo:ARCH)");
    if (recipe.model.empty()) throw fail_(keys["model"].second, "model", "must not be empty");
    if (!keys.count("steps")) throw fail_(root, "steps", "missing (the list of steps to run)");
    recipe.steps = stepsOf(keys["steps"].second);
    return recipe;
  }

 private:
  void checkFormatAndVersion(const YAML::Node& root,
                             std::map<std::string, std::pair<YAML::Node, YAML::Node>>& keys) const {
    if (!keys.count("format"))
      throw fail_(root, "format", "missing (a recipe starts with format: edgetune-recipe)");
    const YAML::Node format = keys["format"].second;
    if (!format.IsScalar() || format.Scalar() != kFormat)
      throw fail_(format, "format", "must be \"edgetune-recipe\", not " + typeName(format));
    if (!keys.count("version")) throw fail_(root, "version", "missing (this EdgeTune reads version: 2)");
    const YAML::Node version_node = keys["version"].second;
    const json version = toJsonValue(version_node, "version", fail_);
    if (version == 1 && version.is_number_integer())
      throw fail_(
          version_node, "version",
          "this is a pass list of version 1 ({\"passes\": [...]}), which recipe v2 does not read. Write it "
          "as version: 2 with model: (the base model) and steps: (each pass becomes a step \"- KIND: "
          "{options}\" of a step kind: clean, prune, quantize, ...)");
    if (!version.is_number_integer())
      throw fail_(version_node, "version", "must be the number 2, not " + typeName(version_node));
    if (version != RecipeFile::kVersion)
      throw fail_(version_node, "version",
                  "unsupported version " + version.dump() + " (this EdgeTune reads version 2)");
  }

  std::string stringOf(const YAML::Node& node, const std::string& key) const {
    const json value = toJsonValue(node, key, fail_);
    if (!value.is_string())
      throw fail_(node, key, "must be text, not " + typeName(node) + (node.IsScalar() ? " (quote it)" : ""));
    return value.get<std::string>();
  }

  std::map<std::string, std::string> datasetsOf(const YAML::Node& node) const {
    std::map<std::string, std::string> datasets;
    if (node.IsNull()) return datasets;
    if (!node.IsMap())
      throw fail_(node, "datasets",
                  "must be a map of role -> data spec (roles: " + joinedWithCommas(datasetRoles()) + ")");
    for (const auto& entry : node) {
      const std::string& role = entry.first.Scalar();
      if (!contains(datasetRoles(), role))
        throw fail_(entry.first, "datasets." + role,
                    "unknown role (roles: " + joinedWithCommas(datasetRoles()) + ")");
      datasets[role] = stringOf(entry.second, "datasets." + role);
      if (datasets[role].empty()) throw fail_(entry.second, "datasets." + role, "must not be empty");
    }
    return datasets;
  }

  struct Entry {
    StepSpec spec;
    std::optional<YAML::Node> id_node;     // the "id" key, when written
    std::optional<YAML::Node> input_node;  // the "input" key, when written
  };

  std::vector<StepSpec> stepsOf(const YAML::Node& node) const {
    if (!node.IsSequence() || node.size() == 0)
      throw fail_(node, "steps", "must be a non-empty list of steps, not " + typeName(node));
    std::vector<Entry> entries;
    std::map<std::string, int> explicit_ids;  // id -> line
    for (const auto& item : node) {
      entries.push_back(entryOf(item));
      const Entry& entry = entries.back();
      if (!entry.id_node) continue;
      const auto [it, inserted] = explicit_ids.emplace(entry.spec.id, lineOf(*entry.id_node));
      if (!inserted)
        throw fail_(
            *entry.id_node, "id",
            "'" + entry.spec.id + "' is used twice (first at line " + std::to_string(it->second) + ")");
    }
    // Default ids: the kind, then KIND-2, KIND-3 ... counting the steps of that kind without an id of their
    // own; never one that a step names explicitly, even a later one.
    std::set<std::string> taken = {"base"};
    for (const auto& [id, line] : explicit_ids) taken.insert(id);
    std::map<std::string, int> count_of_kind;
    for (Entry& entry : entries) {
      if (entry.id_node) continue;
      for (int k = ++count_of_kind[entry.spec.kind];; ++k) {
        const std::string candidate = k == 1 ? entry.spec.kind : entry.spec.kind + "-" + std::to_string(k);
        if (taken.insert(candidate).second) {
          entry.spec.id = candidate;
          break;
        }
      }
    }
    std::vector<StepSpec> steps;
    for (Entry& entry : entries) {
      const std::string& input = entry.spec.input;
      if (entry.input_node && input != "base" &&
          std::none_of(steps.begin(), steps.end(), [&](const StepSpec& s) { return s.id == input; })) {
        std::vector<std::string> earlier = {"base"};
        for (const auto& s : steps) earlier.push_back(s.id);
        const bool later =
            std::any_of(entries.begin(), entries.end(), [&](const Entry& e) { return e.spec.id == input; });
        throw fail_(*entry.input_node, "input",
                    "'" + input + "' is " + (later ? "not an earlier step" : "not a step") +
                        "; a step starts from one of: " + joinedWithCommas(earlier));
      }
      steps.push_back(std::move(entry.spec));
    }
    return steps;
  }

  Entry entryOf(const YAML::Node& item) const {
    Entry entry;
    entry.spec.source = {file_, lineOf(item)};
    if (!item.IsMap() || item.size() == 0)
      throw fail_(item, "steps",
                  "each step is a map: \"- KIND: {options}\" or the keys " + joinedWithCommas(kStepKeys) +
                      ", not " + typeName(item));
    const YAML::Node first_key = item.begin()->first;
    if (item.size() == 1 && !contains(kStepKeys, first_key.Scalar())) {  // the short form "- KIND: {options}"
      entry.spec.kind = kindOf(first_key);
      readOptions(item.begin()->second, entry.spec.kind, entry.spec);
      return entry;
    }
    std::optional<YAML::Node> kind_node;
    for (const auto& field : item) {
      const std::string& key = field.first.Scalar();
      const YAML::Node& value = field.second;
      if (!contains(kStepKeys, key))
        throw fail_(field.first, key,
                    "unknown step key (accepted: " + joinedWithCommas(kStepKeys) +
                        "; or the short form \"- KIND: {options}\" with one key)");
      if (key == "kind") kind_node = value;
      if (key == "id") {
        entry.spec.id = stringOf(value, "id");
        entry.id_node = field.first;
        if (entry.spec.id == "base")
          throw fail_(field.first, "id", "'base' is reserved (it names the recipe's model)");
        if (!isName(entry.spec.id))
          throw fail_(
              field.first, "id",
              "'" + entry.spec.id + "' is not a step id (letters, digits and _.- only: it names a folder)");
      }
      if (key == "input") {
        entry.spec.input = stringOf(value, "input");
        entry.input_node = field.first;
      }
      if (key == "enabled") {
        const json enabled = toJsonValue(value, "enabled", fail_);
        if (!enabled.is_boolean())
          throw fail_(value, "enabled", "must be true or false, not " + typeName(value));
        entry.spec.enabled = enabled.get<bool>();
      }
      if (key == "options") readOptions(value, "options", entry.spec);
    }
    if (!kind_node) throw fail_(item, "kind", "missing (the step kind: clean, prune, quantize, ...)");
    entry.spec.kind = kindOf(*kind_node);
    return entry;
  }

  std::string kindOf(const YAML::Node& node) const {
    const std::string kind = stringOf(node, "kind");
    if (!isName(kind)) throw fail_(node, "kind", "'" + kind + "' is not a step kind name");
    return kind;
  }

  void readOptions(const YAML::Node& node, const std::string& key, StepSpec& spec) const {
    if (node.IsNull()) return;
    if (!node.IsMap()) throw fail_(node, key, "the options must be a map, not " + typeName(node));
    spec.options = toJsonValue(node, key, fail_);
    for (const auto& entry : node) spec.option_lines[entry.first.Scalar()] = lineOf(entry.first);
  }

  std::string file_;
  Failure fail_;
};

// ---- overrides ----

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

std::string SourceLine::where() const {
  const std::string name = file.empty() ? "recipe" : file;
  return line > 0 ? name + ":" + std::to_string(line) : name;
}

SourceLine StepSpec::lineOf(const std::string& key) const {
  const auto it = option_lines.find(key);
  return it == option_lines.end() ? source : SourceLine{source.file, it->second};
}

std::string RecipeFile::modelPath() const {
  if (zoo::isZooSource(model)) return model;
  const fs::path path(model);
  if (model.empty() || path.is_absolute() || origin.parent_path().empty()) return model;
  return (origin.parent_path() / path).lexically_normal().string();
}

const StepSpec* RecipeFile::step(const std::string& id) const {
  for (const auto& s : steps)
    if (s.id == id) return &s;
  return nullptr;
}

std::string RecipeFile::inputOf(size_t index) const {
  if (index >= steps.size())
    throw std::out_of_range("RecipeFile::inputOf: step " + std::to_string(index) + " of " +
                            std::to_string(steps.size()));
  // Walk back: the named (or previous) step, and past every disabled one to the model it passes through.
  // Every move goes to a smaller index, so this ends.
  size_t current = index;
  while (true) {
    const std::string& input = steps[current].input;
    if (input == "base") return "base";
    size_t from = 0;
    if (input.empty()) {
      if (current == 0) return "base";
      from = current - 1;
    } else {
      const auto it =
          std::find_if(steps.begin(), steps.end(), [&](const StepSpec& s) { return s.id == input; });
      from = static_cast<size_t>(it - steps.begin());
      if (from >= current)
        throw Error(steps[current].source.where() + ": input: '" + input + "' is not an earlier step");
    }
    if (steps[from].enabled) return steps[from].id;
    current = from;
  }
}

json RecipeFile::toJson() const {
  json out = {{"format", kFormat}, {"version", kVersion}};
  if (!name.empty()) out["name"] = name;
  if (!description.empty()) out["description"] = description;
  out["model"] = model;
  if (!datasets.empty()) out["datasets"] = datasets;
  json list = json::array();
  for (const auto& s : steps) {
    json entry = {{"id", s.id}, {"kind", s.kind}};
    if (!s.input.empty()) entry["input"] = s.input;
    if (!s.enabled) entry["enabled"] = false;
    entry["options"] = s.options;
    list.push_back(std::move(entry));
  }
  out["steps"] = std::move(list);
  return out;
}

std::string RecipeFile::toYaml() const {
  // Written in the reading order of the file format, not the JSON object's (sorted) order.
  std::string out;
  emitEntry(out, "format", kFormat, 0, false);
  emitEntry(out, "version", kVersion, 0, false);
  if (!name.empty()) emitEntry(out, "name", name, 0, false);
  if (!description.empty()) emitEntry(out, "description", description, 0, false);
  emitEntry(out, "model", model, 0, false);
  if (!datasets.empty()) {
    out += "datasets:\n";
    for (const auto& role : datasetRoles())  // in the roles' natural order: train before test
      if (datasets.count(role)) emitEntry(out, role, datasets.at(role), 2, false);
    for (const auto& [role, spec] : datasets)
      if (!contains(datasetRoles(), role)) emitEntry(out, role, spec, 2, false);
  }
  out += "steps:\n";
  for (const auto& s : steps) {
    out += "  - ";
    emitEntry(out, "id", s.id, 4, true);
    emitEntry(out, "kind", s.kind, 4, false);
    if (!s.input.empty()) emitEntry(out, "input", s.input, 4, false);
    if (!s.enabled) emitEntry(out, "enabled", false, 4, false);
    emitEntry(out, "options", s.options, 4, false);
  }
  return out;
}

RecipeFile parseRecipe(const std::string& text, const fs::path& origin) {
  return RecipeReader(origin).read(text, origin);
}

RecipeFile readRecipeFile(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) throw Error("recipe " + name + ": no such file");
  if (ec) throw Error("recipe " + name + ": cannot be read (" + ec.message() + ")");
  if (!fs::is_regular_file(status)) throw Error("recipe " + name + ": not a file");
  const uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxFileBytes)
    throw Error(name + ": " + std::to_string(size) +
                " bytes, larger than 4 MiB; a recipe is a small text file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("recipe " + name + ": cannot be read");
  // Read at most one byte past the limit, in case the file grows between the size check and the read.
  std::string text(static_cast<size_t>(kMaxFileBytes) + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw Error("recipe " + name + ": cannot be read");
  text.resize(static_cast<size_t>(in.gcount()));
  return parseRecipe(text, path);
}

void applyOverride(RecipeFile& recipe, const std::string& assignment) {
  auto fail = [&](const std::string& problem) { return Error("--set '" + assignment + "': " + problem); };
  const auto equals = assignment.find('=');
  if (equals == std::string::npos)
    throw fail(
        "expected KEY=VALUE (STEP.OPTION=VALUE, STEP.enabled=true|false, STEP.input=ID, "
        "datasets.ROLE=SPEC, model=SPEC or name=TEXT)");
  const std::string target = trimmed(assignment.substr(0, equals));
  const std::string raw = assignment.substr(equals + 1);
  // VALUE as YAML, converted as in the file: 0.5 a double, [1, 2] a list, "0.5" text.
  auto parsedValue = [&]() -> json {
    const Failure value_failure = [&](const YAML::Node&, const std::string& key, const std::string& problem) {
      return fail("VALUE: " + (key.empty() ? "" : key + ": ") + problem);
    };
    YAML::Node node;
    try {
      node = YAML::Load(joinSurrogateEscapes(raw));
    } catch (const YAML::DeepRecursion&) {
      throw fail("VALUE: nested deeper than " + std::to_string(kMaxDepth) + " levels");
    } catch (const YAML::Exception& e) {
      throw fail("VALUE: " + e.msg);
    }
    checkShape(node, value_failure);
    return toJsonValue(node, "", value_failure);
  };

  if (target == "model" || target == "name") {
    const std::string value = trimmed(raw);
    if (target == "model" && value.empty()) throw fail("the model must not be empty");
    (target == "model" ? recipe.model : recipe.name) = value;
    return;
  }
  if (target.rfind("datasets.", 0) == 0) {
    const std::string role = target.substr(9);
    if (!contains(datasetRoles(), role))
      throw fail("unknown dataset role '" + role + "' (roles: " + joinedWithCommas(datasetRoles()) + ")");
    const std::string spec = trimmed(raw);
    if (spec.empty()) throw fail("the data spec must not be empty");
    recipe.datasets[role] = spec;
    return;
  }
  // STEP.REST, where STEP is the longest step id that prefixes the target (ids may contain dots).
  size_t index = recipe.steps.size();
  for (size_t i = 0; i < recipe.steps.size(); ++i) {
    const std::string& id = recipe.steps[i].id;
    if (target.size() > id.size() + 1 && target.compare(0, id.size(), id) == 0 && target[id.size()] == '.' &&
        (index == recipe.steps.size() || id.size() > recipe.steps[index].id.size()))
      index = i;
  }
  if (index == recipe.steps.size()) {
    std::vector<std::string> ids;
    for (const auto& s : recipe.steps) ids.push_back(s.id);
    if (!target.empty() && target.back() == '.' && contains(ids, target.substr(0, target.size() - 1)))
      throw fail("nothing after '" + target + "' (STEP.OPTION, STEP.enabled or STEP.input)");
    const std::string step = target.substr(0, target.find('.'));
    if (target.find('.') == std::string::npos)
      throw fail("unknown key '" + target +
                 "' (expected STEP.OPTION, STEP.enabled, STEP.input, datasets.ROLE, " +
                 "model or name; steps: " + joinedWithCommas(ids) + ")");
    throw fail("no step '" + step + "' (steps: " + joinedWithCommas(ids) + ")");
  }
  StepSpec& step = recipe.steps[index];
  std::string rest = target.substr(step.id.size() + 1);
  if (rest == "enabled") {
    const json value = parsedValue();
    if (!value.is_boolean()) throw fail("enabled takes true or false");
    step.enabled = value.get<bool>();
    return;
  }
  if (rest == "input") {
    const std::string input = trimmed(raw);  // empty: back to the previous step's model
    const bool earlier =
        std::any_of(recipe.steps.begin(), recipe.steps.begin() + static_cast<ptrdiff_t>(index),
                    [&](const StepSpec& s) { return s.id == input; });
    if (!input.empty() && input != "base" && !earlier) {
      std::vector<std::string> ids = {"base"};
      for (size_t i = 0; i < index; ++i) ids.push_back(recipe.steps[i].id);
      throw fail("'" + input + "' is not an earlier step (one of: " + joinedWithCommas(ids) + ")");
    }
    step.input = input;
    return;
  }
  if (rest.rfind("options.", 0) == 0) rest = rest.substr(8);  // STEP.options.X names an option even "enabled"
  std::vector<std::string> path;
  for (size_t start = 0;;) {
    const auto dot = rest.find('.', start);
    path.push_back(rest.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (path.back().empty()) throw fail("empty option name in '" + rest + "'");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (path.size() > static_cast<size_t>(kMaxDepth))
    throw fail("option path deeper than " + std::to_string(kMaxDepth) + " levels");
  const json value = parsedValue();
  if (!step.options.is_object()) step.options = json::object();
  json* at = &step.options;
  std::string walked;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    walked += (walked.empty() ? "" : ".") + path[i];
    json& next = (*at)[path[i]];
    if (next.is_null()) next = json::object();
    if (!next.is_object())
      throw fail("option '" + walked + "' is " + std::string(next.type_name()) + ", not a map of options");
    at = &next;
  }
  (*at)[path.back()] = value;
}

std::string optionsToYaml(const json& options) {
  if (!isBlock(options)) return yamlScalar(options.is_null() ? json::object() : options) + "\n";
  std::string out;
  emitBlock(out, options, 0, false);
  return out;
}

json parseOptionsText(const std::string& text, const std::string& what) {
  auto error = [&](int line, const std::string& key, const std::string& problem) {
    return Error(SourceLine{what, line}.where() + ": " + (key.empty() ? "" : key + ": ") + problem);
  };
  const Failure fail = [&](const YAML::Node& node, const std::string& key, const std::string& problem) {
    return error(lineOf(node), key, problem);
  };
  if (text.size() > kMaxFileBytes) throw error(0, "", "larger than 4 MiB; options are a few lines");
  YAML::Node node;
  try {
    node = YAML::Load(joinSurrogateEscapes(text));
  } catch (const YAML::DeepRecursion& e) {
    throw error(e.mark.line + 1, "", "nested deeper than " + std::to_string(kMaxDepth) + " levels");
  } catch (const YAML::Exception& e) {
    throw error(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", e.msg);
  }
  if (node.IsNull() || !node.IsDefined()) return json::object();
  if (!node.IsMap())
    throw fail(node, "", "the options are a map (key: value, one a line), not " + typeName(node));
  checkShape(node, fail);
  return toJsonValue(node, "", fail);
}

}  // namespace edgetune::pipeline
