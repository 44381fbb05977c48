#pragma once
// A guided lesson: a JSON file (one per lesson) with a title, a summary and steps; each step says in plain
// words what to look at, may set the tuning knobs, open a bundled model or dataset, run one of the studio's
// jobs, and names the widget to point at. This file reads and checks lessons (no widgets): every problem is
// one Error naming the file, the field and what is accepted, so a teacher's own file never crashes the
// studio.
//
//   {
//     "format": "edgetune-lesson", "version": 1,
//     "title": "Pruning needs recovery", "summary": "...",
//     "steps": [
//       {"title": "Prune 30%", "text": "Watch the size fall at once...",
//        "actions": [{"open_demo": true}, {"set_knobs": {"prune_method": "channels", "prune_ratio": 0.3}}],
//        "highlight": "knob-chart"}
//     ]
//   }
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace edgetune::ui {

/// One thing a step does when it is entered, in the order written.
struct LessonAction {
  enum class Kind {
    OpenDemo = 1,  // the bundled demo: ResNet-20, Fashion-MNIST (test set measured, train set trains)
    OpenModel,     // `value`: a bundled model's name (resources/models/NAME.onnx) or a "zoo:" source
    OpenDataset,   // `value`: a data spec; "{resources}" stands for the bundled resources folder
    AddVariant,    // `value`: a bundled model's name, added as a variant with its own file and measured
    SetKnobs,      // `knobs`: tuning-panel knobs (the panel's own names and values), the others unchanged
    Run,           // `value`: one of lessonJobs(): measure, apply, sensitivity, use_as_base, reset_base
    Train,         // `train`: Training dock settings (TrainSettings::toJson names), then a training job
    Show,          // `value`: a lessonTargets() name whose tab or dock is brought to the front
  };
  Kind kind = Kind::OpenDemo;
  std::string value;
  nlohmann::json knobs = nlohmann::json::object();  // SetKnobs: checked names and values
  nlohmann::json train = nlohmann::json::object();  // Train: checked settings

  /// Whether entering the step again (Back, or Next after Back) repeats it: opening, knobs, views, measuring
  /// and resetting the base do; what records something (Apply, a sweep, training, an added variant, a new
  /// base) runs once per playthrough.
  bool repeatable() const;
  /// What it does, in a few words, for the player's "doing: ..." line.
  std::string describe() const;
};

struct LessonStep {
  std::string title;
  std::string text;  // plain words: what to look at and why
  std::vector<LessonAction> actions;
  std::string highlight;  // a lessonTargets() name, "" = none
};

struct Lesson {
  std::string title;
  std::string summary;
  std::vector<LessonStep> steps;
  std::string source;  // the file (or resource) it was read from, for messages
};

/// Limits that keep a lesson a small file a person wrote.
inline constexpr size_t kMaxLessonBytes = 256 * 1024;
inline constexpr size_t kMaxLessonSteps = 40;
inline constexpr size_t kMaxLessonActions = 12;  // per step
inline constexpr size_t kMaxLessonTitleChars = 120;
inline constexpr size_t kMaxLessonSummaryChars = 800;
inline constexpr size_t kMaxLessonTextChars = 3000;

/// The widgets a step may point at or show, by objectName (the studio gives them these names).
const std::vector<std::string>& lessonTargets();
/// The jobs {"run": ...} accepts.
const std::vector<std::string>& lessonJobs();
/// The knobs {"set_knobs": {...}} accepts.
std::vector<std::string> lessonKnobNames();

/// Parses and checks a lesson. Throws Error "SOURCE: FIELD: problem" (e.g. "my.json: steps[2].actions[0]:
/// unknown action 'fly' (accepted: ...)") for invalid JSON, a missing or unknown field, a wrong type, an
/// unknown knob, job, target or bundled model, a value out of range, or a file too long.
Lesson parseLesson(const std::string& json_text, const std::string& source_name);

/// Reads a lesson file (at most kMaxLessonBytes; anything but a regular file is refused) and parses it.
Lesson readLessonFile(const std::filesystem::path& path);

/// The names of the bundled models (resources/models/*.onnx without the extension), sorted.
std::vector<std::string> bundledModelNames();
/// The bundled model's file: resources/models/NAME.onnx.
std::filesystem::path bundledModelPath(const std::string& name);
/// `spec` with every "{resources}" replaced by the bundled resources folder.
std::string expandResourcesPlaceholder(const std::string& spec);

}  // namespace edgetune::ui
