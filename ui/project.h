#pragma once
// The studio's project: model path, dataset spec, knob state and the variants tried, saved as JSON.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgetune::ui {

/// What was measured for a variant; a field stays empty until measured.
struct VariantMetrics {
  std::optional<int64_t> size_bytes;       // serialized ONNX size
  std::optional<int64_t> params;
  std::optional<double> accuracy;          // top-1, 0..1
  std::optional<double> accuracy_low, accuracy_high;  // 95% interval
  std::optional<int64_t> accuracy_count;   // examples the accuracy is based on
  std::optional<double> latency_ms;        // ONNX Runtime median, batch 1, host
  std::optional<double> latency_p90_ms;

  nlohmann::json toJson() const;
  static VariantMetrics fromJson(const nlohmann::json& json);
};

/// Baseline model + a recipe (edgetune-recipe JSON) + what was measured.
struct Variant {
  std::string name;
  nlohmann::json recipe;      // {"format": "edgetune-recipe", "version": 1, "passes": [...]}
  nlohmann::json knobs;       // the tuning panel state that produced the recipe (for re-opening it)
  VariantMetrics metrics;
  std::string created_utc;    // ISO 8601

  nlohmann::json toJson() const;
  static Variant fromJson(const nlohmann::json& json, const std::string& where);
};

/// A recipe with no passes (what the baseline variant has).
nlohmann::json emptyRecipe();

/// The whole project file: {"format": "edgetune-project", "version": 1, ...}.
struct Project {
  std::string model_path;    // a file path (relative to the project file when saved) or a "zoo:" source
  std::string dataset_spec;  // an openDataset spec; empty = none
  nlohmann::json knobs = nlohmann::json::object();
  std::vector<Variant> variants;

  nlohmann::json toJson() const;
  /// Throws Error naming `origin` and the offending field.
  static Project fromJson(const nlohmann::json& json, const std::string& origin);

  /// Writes atomically; the model path is stored relative to the project file's folder when it is inside it.
  void save(const std::filesystem::path& path) const;
  /// Reads a project; relative model paths resolve against the project file's folder.
  static Project load(const std::filesystem::path& path);
};

/// Current UTC time as "2024-05-01T12:34:56Z".
std::string nowUtcIso();

}  // namespace edgetune::ui
