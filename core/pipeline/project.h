#pragma once
// A project: the model, the dataset spec, the studio's knob state and the variants tried, saved as JSON. The
// domain the studio's views show and the CLI can read; no GUI here.
#include <nlohmann/json.hpp>

#include "core/tuning/sensitivity.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgetune::pipeline {

/// What was measured for a variant; a field stays empty until measured.
struct VariantMetrics {
  std::optional<int64_t> size_bytes;  // serialized ONNX size
  std::optional<int64_t> params;
  std::optional<double> accuracy;                     // top-1, 0..1
  std::optional<double> accuracy_low, accuracy_high;  // 95% interval
  std::optional<int64_t> accuracy_count;              // examples the accuracy is based on
  std::optional<double> latency_ms;                   // ONNX Runtime median, batch 1, host
  std::optional<double> latency_p90_ms;

  nlohmann::json toJson() const;
  static VariantMetrics fromJson(const nlohmann::json& json);
};

/// A base model + a recipe (edgetune-recipe JSON) + what was measured; or a model file of its own. Variants
/// form chains: the base is the project's model or another variant (quantize a recovered variant, distill
/// into a pruned one).
struct Variant {
  std::string name;  // a base names a variant by it (the studio keeps names unique)
  /// The variant this one was made from (its name); "" = the project's model. The recipe applies to the
  /// base's model.
  std::string base;
  nlohmann::json recipe;  // {"format": "edgetune-recipe", "version": 1, "passes": [...]}
  nlohmann::json knobs;   // the tuning panel state that produced the recipe (for re-opening it)
  VariantMetrics metrics;
  std::string created_utc;  // ISO 8601
  /// An ONNX file holding this variant's model (trained weights a recipe cannot reproduce, e.g. distilled or
  /// deployed); when set, it is what gets measured, exported and compared, and `recipe` is descriptive only.
  /// Stored relative to the project file's folder when it is inside it.
  std::string model_file;
  /// On-device benchmark results, one object each as the deploy code produces them (kept verbatim).
  nlohmann::json device_benchmarks = nlohmann::json::array();

  nlohmann::json toJson() const;
  static Variant fromJson(const nlohmann::json& json, const std::string& where);
};

/// Median latency (ms) at 1 thread of the variant's latest device benchmark that has one
/// (bench["results"][i]["median_ms"] where bench["results"][i]["threads"] == 1), if any.
std::optional<double> deviceLatencyMs(const Variant& variant);

/// A recipe with no passes (what the baseline variant has).
nlohmann::json emptyRecipe();

/// The variants `variant` is made from, its base first and the one made from the project's model last
/// (empty for a variant made from the project's model). Throws Error naming the variant for a base that is
/// not in `variants` (or names several) and for bases that form a cycle.
std::vector<const Variant*> baseChain(const std::vector<Variant>& variants, const Variant& variant);

/// Index of the variant called `name` in `variants`, or -1.
int findVariantNamed(const std::vector<Variant>& variants, const std::string& name);

/// `wanted` if no variant has that name yet, else "wanted (2)", "wanted (3)", ...
std::string uniqueVariantName(const std::vector<Variant>& variants, const std::string& wanted);

/// The whole project file: {"format": "edgetune-project", "version": 2, ...}. Version 1 (before variants
/// had bases) is still read.
struct Project {
  static constexpr int kVersion = 2;
  std::string model_path;    // a file path (relative to the project file when saved) or a "zoo:" source
  std::string dataset_spec;  // an openDataset spec; empty = none. The test role: the reported accuracy
  /// The training role: what training (split by seed into train and validation), calibration and the quick
  /// recovery's statistics use, so the test set is only ever measured. Empty = dataset_spec serves them too.
  std::string train_dataset_spec;
  nlohmann::json knobs = nlohmann::json::object();
  std::vector<Variant> variants;
  /// The variant the studio's knobs and training start from (its name); "" = the project's model.
  std::string current_base;
  /// The last sensitivity sweep of the baseline (restores the chart and the graph overlay without
  /// re-running).
  std::optional<SensitivityResult> sensitivity;

  nlohmann::json toJson() const;
  /// Throws Error naming `origin` and the offending field (also a base that is missing or makes a cycle).
  static Project fromJson(const nlohmann::json& json, const std::string& origin);

  /// Writes atomically; the model path (and variants' model files) are stored relative to the project file's
  /// folder when inside it.
  void save(const std::filesystem::path& path) const;
  /// Reads a project; relative model paths and variant model files resolve against the project file's folder.
  static Project load(const std::filesystem::path& path);
};

/// Current UTC time as "2024-05-01T12:34:56Z".
std::string nowUtcIso();

}  // namespace edgetune::pipeline
