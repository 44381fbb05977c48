#include "ui/lesson.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/util/error.h"
#include "core/util/files.h"
#include "core/util/format.h"
#include "core/util/resources.h"

namespace edgetune::ui {
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "edgetune-lesson";
constexpr int kVersion = 1;

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string typeName(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "true/false";
    case json::value_t::string:
      return "text";
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "an object";
    default:
      return "a number";
  }
}

// How one knob is checked: its JSON type, its range or its words, and (for words) the panel's own value.
struct KnobRule {
  std::string name;
  enum class Type { Bool = 1, Number, Integer, Text, Choice } type;
  double min = 0, max = 0;
  std::vector<std::pair<std::string, std::string>> choices;  // lesson word -> tuning-panel value
};

// The tuning panel's knobs (TuningPanel::knobs()), with the ranges its widgets accept. The pruning methods
// are the CLI's words (prune --method channels|magnitude), not the pass names the panel stores.
const std::vector<KnobRule>& knobRules() {
  using T = KnobRule::Type;
  static const std::vector<KnobRule> rules = {
      {"cleanup", T::Bool},
      {"prune_method",
       T::Choice,
       0,
       0,
       {{"none", "none"}, {"channels", "prune_channels"}, {"magnitude", "prune_magnitude"}}},
      {"prune_ratio", T::Number, 0, 0.9},
      {"protect", T::Text},
      {"round_to", T::Integer, 1, 256},
      {"quant_mode",
       T::Choice,
       0,
       0,
       {{"none", "none"},
        {"static", "static"},
        {"dynamic", "dynamic"},
        {"weight-only", "weight-only"},
        {"fp16", "fp16"}}},
      {"calibration",
       T::Choice,
       0,
       0,
       {{"minmax", "minmax"}, {"percentile", "percentile"}, {"entropy", "entropy"}, {"mse", "mse"}}},
      {"samples", T::Integer, 8, 10000},
      {"per_channel", T::Bool},
      {"exclude", T::Text},
  };
  return rules;
}

// The Training dock's settings a lesson may set (TrainSettings::toJson names).
const std::vector<KnobRule>& trainRules() {
  using T = KnobRule::Type;
  static const std::vector<KnobRule> rules = {
      {"mode", T::Choice, 0, 0, {{"distill", "distill"}, {"fine-tune", "fine-tune"}}},
      {"source", T::Choice, 0, 0, {{"student", "student"}, {"baseline", "baseline"}}},
      {"student", T::Text},
      {"epochs", T::Integer, 1, 100},
      {"batch_size", T::Integer, 2, 4096},
      {"learning_rate", T::Number, 1e-7, 10},
      {"optimizer", T::Choice, 0, 0, {{"sgd", "sgd"}, {"adamw", "adamw"}}},
      {"temperature", T::Number, 0.01, 100},
      {"alpha", T::Number, 0, 1},
      {"augment", T::Bool},
      {"steps_per_epoch", T::Integer, 0, 1000000},
      {"validation_size", T::Integer, 10, 1000000},
  };
  return rules;
}

std::vector<std::string> namesOf(const std::vector<KnobRule>& rules) {
  std::vector<std::string> names;
  for (const auto& r : rules) names.push_back(r.name);
  return names;
}

// 0.9, 1e-07, 256: the shortest form, as a teacher would write it.
std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

class LessonReader {
 public:
  explicit LessonReader(std::string source) : source_(std::move(source)) {}

  Error error(const std::string& field, const std::string& problem) const {
    return Error(source_ + ": " + (field.empty() ? "" : field + ": ") + problem);
  }

  Lesson read(const std::string& content) {
    if (content.size() > kMaxLessonBytes)
      throw error("", std::to_string(content.size()) + " bytes, larger than " +
                          std::to_string(kMaxLessonBytes / 1024) + " KiB; a lesson is a small text file");
    json root;
    try {
      root = json::parse(content);
    } catch (const json::parse_error& e) {
      // nlohmann's message already says where: "parse error at line 3, column 7: ...".
      std::string what = e.what();
      const auto colon = what.find("parse error");
      throw error("", "not valid JSON (" + (colon == std::string::npos ? what : what.substr(colon)) + ")");
    }
    if (!root.is_object()) throw error("", "a lesson is a JSON object {...}, not " + typeName(root));
    static const std::vector<std::string> keys = {"format", "version", "title", "summary", "steps"};
    checkKeys(root, "", keys);
    if (!root.contains("format"))
      throw error("format", "missing (a lesson starts with \"format\": \"" + std::string(kFormat) + "\")");
    if (root["format"] != kFormat)
      throw error("format", "must be \"" + std::string(kFormat) + "\", not " + root["format"].dump());
    if (!root.contains("version")) throw error("version", "missing (this EdgeTune reads version 1)");
    if (!root["version"].is_number_integer() || root["version"] != kVersion)
      throw error("version", "unsupported version " + root["version"].dump() + " (this EdgeTune reads 1)");

    Lesson lesson;
    lesson.source = source_;
    lesson.title = text(root, "", "title", kMaxLessonTitleChars, true);
    lesson.summary = text(root, "", "summary", kMaxLessonSummaryChars, true);
    if (!root.contains("steps")) throw error("steps", "missing (the list of steps)");
    const json& steps = root["steps"];
    if (!steps.is_array()) throw error("steps", "must be a list of steps, not " + typeName(steps));
    if (steps.empty()) throw error("steps", "empty (a lesson has at least one step)");
    if (steps.size() > kMaxLessonSteps)
      throw error("steps", std::to_string(steps.size()) + " steps, more than " +
                               std::to_string(kMaxLessonSteps) + "; split it into two lessons");
    for (size_t i = 0; i < steps.size(); ++i)
      lesson.steps.push_back(step(steps[i], "steps[" + std::to_string(i) + "]"));
    return lesson;
  }

 private:
  void checkKeys(const json& object, const std::string& where,
                 const std::vector<std::string>& accepted) const {
    for (auto it = object.begin(); it != object.end(); ++it)
      if (!contains(accepted, it.key()))
        throw error(field(where, it.key()), "unknown field (accepted: " + joinedWithCommas(accepted) + ")");
  }

  static std::string field(const std::string& where, const std::string& key) {
    return where.empty() ? key : where + "." + key;
  }

  std::string text(const json& object, const std::string& where, const std::string& key, size_t max_chars,
                   bool required) const {
    const std::string name = field(where, key);
    if (!object.contains(key)) {
      if (required) throw error(name, "missing");
      return {};
    }
    const json& value = object[key];
    if (!value.is_string()) throw error(name, "must be text, not " + typeName(value));
    const std::string s = value.get<std::string>();
    if (required && s.find_first_not_of(" \t\r\n") == std::string::npos)
      throw error(name, "must not be empty");
    if (s.size() > max_chars)
      throw error(name, std::to_string(s.size()) + " characters, more than " + std::to_string(max_chars) +
                            "; say it shorter or split the step");
    return s;
  }

  LessonStep step(const json& value, const std::string& where) const {
    if (!value.is_object())
      throw error(where, "a step is an object {\"title\": ..., \"text\": ...}, not " + typeName(value));
    static const std::vector<std::string> keys = {"title", "text", "actions", "highlight"};
    checkKeys(value, where, keys);
    LessonStep s;
    s.title = text(value, where, "title", kMaxLessonTitleChars, true);
    s.text = text(value, where, "text", kMaxLessonTextChars, true);
    if (value.contains("highlight")) {
      s.highlight = text(value, where, "highlight", 100, true);
      if (!contains(lessonTargets(), s.highlight))
        throw error(field(where, "highlight"), "unknown widget '" + s.highlight +
                                                   "' (accepted: " + joinedWithCommas(lessonTargets()) + ")");
    }
    if (value.contains("actions")) {
      const json& actions = value["actions"];
      const std::string name = field(where, "actions");
      if (!actions.is_array()) throw error(name, "must be a list of actions, not " + typeName(actions));
      if (actions.size() > kMaxLessonActions)
        throw error(name, std::to_string(actions.size()) + " actions, more than " +
                              std::to_string(kMaxLessonActions) + " in one step");
      for (size_t i = 0; i < actions.size(); ++i)
        s.actions.push_back(action(actions[i], name + "[" + std::to_string(i) + "]"));
    }
    return s;
  }

  LessonAction action(const json& value, const std::string& where) const {
    static const std::vector<std::string> kinds = {"open_demo", "open_model", "open_dataset", "add_variant",
                                                   "set_knobs", "run",        "train",        "show"};
    if (!value.is_object() || value.size() != 1)
      throw error(where, "an action is an object with one key, e.g. {\"run\": \"measure\"} (actions: " +
                             joinedWithCommas(kinds) + ")");
    const std::string kind = value.begin().key();
    const json& arg = value.begin().value();
    const std::string name = field(where, kind);
    if (!contains(kinds, kind))
      throw error(where, "unknown action '" + kind + "' (accepted: " + joinedWithCommas(kinds) + ")");
    LessonAction a;
    if (kind == "open_demo") {
      if (arg != true) throw error(name, "must be true");
      a.kind = LessonAction::Kind::OpenDemo;
    } else if (kind == "open_model" || kind == "add_variant") {
      a.kind = kind == "open_model" ? LessonAction::Kind::OpenModel : LessonAction::Kind::AddVariant;
      a.value = word(arg, name);
      const bool zoo = a.value.rfind("zoo:", 0) == 0;
      if (!(zoo && kind == "open_model") && !contains(bundledModelNames(), a.value))
        throw error(name, "no bundled model '" + a.value +
                              "' (bundled: " + joinedWithCommas(bundledModelNames()) +
                              (kind == "open_model" ? "; or a zoo: source)" : ")"));
    } else if (kind == "open_dataset") {
      a.kind = LessonAction::Kind::OpenDataset;
      a.value = word(arg, name);
    } else if (kind == "set_knobs") {
      a.kind = LessonAction::Kind::SetKnobs;
      a.knobs = settings(arg, name, knobRules(), "knob");
    } else if (kind == "train") {
      a.kind = LessonAction::Kind::Train;
      a.train = settings(arg, name, trainRules(), "training setting");
    } else if (kind == "run") {
      a.kind = LessonAction::Kind::Run;
      a.value = word(arg, name);
      if (!contains(lessonJobs(), a.value))
        throw error(name, "unknown job '" + a.value + "' (accepted: " + joinedWithCommas(lessonJobs()) + ")");
    } else {
      a.kind = LessonAction::Kind::Show;
      a.value = word(arg, name);
      if (!contains(lessonTargets(), a.value))
        throw error(name,
                    "unknown widget '" + a.value + "' (accepted: " + joinedWithCommas(lessonTargets()) + ")");
    }
    return a;
  }

  std::string word(const json& value, const std::string& name) const {
    if (!value.is_string()) throw error(name, "must be text, not " + typeName(value));
    const std::string s = value.get<std::string>();
    if (s.empty()) throw error(name, "must not be empty");
    if (s.size() > 2000) throw error(name, "longer than 2000 characters");
    return s;
  }

  // An object of name -> value checked against `rules`; choices become the studio's own values.
  json settings(const json& value, const std::string& where, const std::vector<KnobRule>& rules,
                const std::string& what) const {
    if (!value.is_object()) throw error(where, "must be an object of " + what + "s, not " + typeName(value));
    if (value.empty()) throw error(where, "sets no " + what);
    json out = json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string name = field(where, it.key());
      const auto rule =
          std::find_if(rules.begin(), rules.end(), [&](const KnobRule& r) { return r.name == it.key(); });
      if (rule == rules.end())
        throw error(name, "unknown " + what + " (accepted: " + joinedWithCommas(namesOf(rules)) + ")");
      const json& v = it.value();
      using T = KnobRule::Type;
      switch (rule->type) {
        case T::Bool:
          if (!v.is_boolean()) throw error(name, "must be true or false, not " + typeName(v));
          out[it.key()] = v;
          break;
        case T::Text:
          if (!v.is_string()) throw error(name, "must be text, not " + typeName(v));
          if (v.get<std::string>().size() > 2000) throw error(name, "longer than 2000 characters");
          out[it.key()] = v;
          break;
        case T::Number:
        case T::Integer: {
          if (!v.is_number()) throw error(name, "must be a number, not " + typeName(v));
          const double d = v.get<double>();
          if (rule->type == T::Integer && (!v.is_number_integer() && std::floor(d) != d))
            throw error(name, "must be a whole number, not " + v.dump());
          if (!(d >= rule->min && d <= rule->max))
            throw error(name,
                        v.dump() + " is out of range [" + number(rule->min) + ", " + number(rule->max) + "]");
          if (rule->type == T::Integer)
            out[it.key()] = static_cast<int64_t>(d);
          else
            out[it.key()] = d;
          break;
        }
        case T::Choice: {
          std::vector<std::string> words;
          for (const auto& [w, studio] : rule->choices) words.push_back(w);
          if (!v.is_string())
            throw error(name, "must be one of " + joinedWithCommas(words) + ", not " + typeName(v));
          const auto choice = std::find_if(rule->choices.begin(), rule->choices.end(),
                                           [&](const auto& c) { return c.first == v.get<std::string>(); });
          if (choice == rule->choices.end())
            throw error(name, "unknown value '" + v.get<std::string>() +
                                  "' (accepted: " + joinedWithCommas(words) + ")");
          out[it.key()] = choice->second;
          break;
        }
      }
    }
    return out;
  }

  std::string source_;
};

}  // namespace

bool LessonAction::repeatable() const {
  switch (kind) {
    case Kind::OpenDemo:
    case Kind::OpenModel:
    case Kind::OpenDataset:
    case Kind::SetKnobs:
    case Kind::Show:
      return true;
    case Kind::Run:
      return value == "measure" || value == "reset_base";  // neither records anything
    case Kind::AddVariant:
    case Kind::Train:
      return false;
  }
  return false;
}

std::string LessonAction::describe() const {
  switch (kind) {
    case Kind::OpenDemo:
      return "opening the demo (ResNet-20, Fashion-MNIST)";
    case Kind::OpenModel:
      return "opening " + value;
    case Kind::OpenDataset:
      return "opening the dataset " + value;
    case Kind::AddVariant:
      return "adding " + value + " as a variant";
    case Kind::SetKnobs:
      return "setting the knobs";
    case Kind::Run:
      return value == "measure"       ? "measuring"
             : value == "apply"       ? "waiting for the measurement, then Apply"
             : value == "sensitivity" ? "running the sensitivity sweep"
             : value == "use_as_base" ? "making the last variant the base"
                                      : "resetting the base to the original model";
    case Kind::Train:
      return "training in the Training dock";
    case Kind::Show:
      return "showing " + value;
  }
  return {};
}

const std::vector<std::string>& lessonTargets() {
  // The charts (charts.cpp), the tuning panel's knobs (tuning_panel.cpp), the variants table (panels.cpp),
  // the Training dock (main_window.cpp).
  static const std::vector<std::string> targets = {
      "knob-chart",   "pareto-chart", "training-chart",  "sensitivity-chart", "prune-method", "prune-ratio",
      "round-to",     "prune-groups", "allocate-button", "quant-mode",        "calibration",  "live-summary",
      "apply-button", "recipe-view",  "variants-table",  "training"};
  return targets;
}

const std::vector<std::string>& lessonJobs() {
  static const std::vector<std::string> jobs = {"measure", "apply", "sensitivity", "use_as_base",
                                                "reset_base"};
  return jobs;
}

std::vector<std::string> lessonKnobNames() {
  return namesOf(knobRules());
}

Lesson parseLesson(const std::string& json_text, const std::string& source_name) {
  return LessonReader(source_name).read(json_text);
}

Lesson readLessonFile(const fs::path& path) {
  // readFile names the path and refuses FIFOs and devices; the size is checked again by the parser.
  std::string text;
  try {
    text = readFile(path, kMaxLessonBytes);
  } catch (const Error& e) {
    throw Error(std::string("lesson ") + e.what());
  }
  return parseLesson(text, path.string());
}

std::vector<std::string> bundledModelNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(resourcesDir() / "models", ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".onnx") names.push_back(it->path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

fs::path bundledModelPath(const std::string& name) {
  return resourcesDir() / "models" / (name + ".onnx");
}

std::string expandResourcesPlaceholder(const std::string& spec) {
  static const std::string placeholder = "{resources}";
  const std::string dir = resourcesDir().string();
  std::string out = spec;
  for (size_t at = out.find(placeholder); at != std::string::npos;
       at = out.find(placeholder, at + dir.size()))
    out.replace(at, placeholder.size(), dir);
  return out;
}

}  // namespace edgetune::ui
