#pragma once
// The Pass interface: every optimization is a Pass with a name, JSON-round-tripping options and a report;
// a Recipe is an ordered list of passes, created by name from a recipe file through a PassRegistry.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/coverage.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/runtime/executor.h"
#include "core/util/enum_names.h"
#include "core/util/error.h"

namespace edgetune {

/// What one pass changed, for people (lines) and for tools (counts and json details).
struct PassReport {
  std::string pass_name;
  int nodes_removed = 0;
  int nodes_added = 0;
  int initializers_removed = 0;
  std::vector<std::string> lines;                     // one human-readable sentence per change
  nlohmann::json details = nlohmann::json::object();  // pass-specific facts (e.g. folded node names)
  std::optional<Coverage> coverage;  // what share of the model the pass acted on and what it left alone
                                     // (prune, quantize); merge() keeps the first one

  bool changed() const { return nodes_removed || nodes_added || initializers_removed || !lines.empty(); }
  /// Adds another report's counts and lines to this one (for pipelines).
  void merge(const PassReport& other);
  /// {"pass", "nodes_removed", "nodes_added", "initializers_removed", "lines", "details"[, "coverage"]}
  nlohmann::json toJson() const;
};

/// What a pass may use besides the model: job progress/cancellation and a way to run models.
/// Passes never run a model themselves; they ask the executor factory (ONNX Runtime by default).
class PassContext {
 public:
  using ExecutorFactory = std::function<std::unique_ptr<Executor>(const Model&)>;

  /// `job` may be null (no progress, never cancelled); an empty factory means ONNX Runtime, 1 thread.
  explicit PassContext(JobContext* job = nullptr, ExecutorFactory make_executor = {});

  JobContext* job() const { return job_; }
  std::unique_ptr<Executor> makeExecutor(const Model& model) const { return make_executor_(model); }
  void report(double fraction, const std::string& message) const;
  void throwIfCancelled() const;

 private:
  JobContext* job_;
  ExecutorFactory make_executor_;
};

/// One transformation of a Model. After editing the graph, apply() leaves the model reindexed, checked and
/// shape-inferred (see finishGraphEdit in graph_edit.h), or throws Error and the caller discards the model.
class Pass {
 public:
  virtual ~Pass() = default;
  /// Stable identifier used in recipe files ("fold_batchnorm").
  virtual std::string name() const = 0;
  virtual PassReport apply(Model& model, PassContext& context) = 0;
  /// The options as JSON (every field, defaults included), so a recipe replays exactly.
  virtual nlohmann::json optionsJson() const = 0;
  /// Replaces the options; throws Error naming the pass and field for unknown fields or wrong types.
  virtual void setOptionsJson(const nlohmann::json& options) = 0;
};

/// Base for passes whose options are a plain struct `Options` with to_json/from_json (see options_json.h).
template <class Options>
class PassWithOptions : public Pass {
 public:
  explicit PassWithOptions(Options options = {}) : options_(std::move(options)) {}
  const Options& options() const { return options_; }
  Options& options() { return options_; }
  nlohmann::json optionsJson() const override { return options_; }
  void setOptionsJson(const nlohmann::json& options) override;

 protected:
  Options options_;
};

/// Creates passes by name; a recipe file names passes and gives their options.
class PassRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Pass>()>;

  /// A registry with every pass EdgeTune ships (clean-up today; prune/quantize/convert register here too).
  static PassRegistry withBuiltins();

  /// Registers a pass kind; throws Error if the name is taken.
  void add(const std::string& name, Factory factory);
  bool contains(const std::string& name) const { return factories_.count(name) > 0; }
  std::vector<std::string> names() const;
  /// A new pass with `options` applied (null or missing = defaults); throws Error for unknown names.
  std::unique_ptr<Pass> create(const std::string& name, const nlohmann::json& options = nullptr) const;

 private:
  std::map<std::string, Factory> factories_;
};

/// An ordered list of passes; serializes to and from the recipe JSON:
/// {"format": "edgetune-recipe", "version": 1, "passes": [{"pass": NAME, "options": {...}}, ...]}
class Recipe {
 public:
  Recipe() = default;
  Recipe(Recipe&&) = default;
  Recipe& operator=(Recipe&&) = default;

  void add(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }
  const std::vector<std::unique_ptr<Pass>>& passes() const { return passes_; }
  size_t size() const { return passes_.size(); }

  nlohmann::json toJson() const;
  /// Throws Error naming `origin` and the offending entry ("recipe.json: passes[2]: unknown pass 'foo'").
  static Recipe fromJson(const nlohmann::json& json, const PassRegistry& registry,
                         const std::string& origin = "recipe");

  /// Applies every pass in order; progress is split evenly between passes. Returns one report per pass.
  std::vector<PassReport> apply(Model& model, PassContext& context) const;

 private:
  std::vector<std::unique_ptr<Pass>> passes_;
};

/// A bad option: the message names the pass and the option; `key` lets a recipe reader point at its line.
class OptionError : public Error {
 public:
  OptionError(const std::string& message, std::string key) : Error(message), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

/// Reads an options object strictly: unknown keys, wrong types and unknown spellings of an enum become
/// OptionError("pass 'NAME': option ...").
class OptionsReader {
 public:
  /// `what` names the kind of thing in messages: "pass 'prune_channels'", "step 'int8'".
  OptionsReader(const nlohmann::json& json, std::string pass_name, std::string what = "pass");
  template <class T>
  void read(const char* key, T& value) {
    seen_.push_back(key);
    if (!json_.contains(key)) return;
    try {
      value = json_.at(key).template get<T>();
    } catch (const nlohmann::json::exception&) {
      fail(key, "has the wrong type (" + std::string(json_.at(key).type_name()) + ")");
    } catch (const UnknownNameError& e) {  // an enum's spelling (enum_names.h)
      fail(key, e.problem());
    }
  }
  /// Throws for keys that no read() asked for.
  void finish() const;

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  const nlohmann::json& json_;
  std::string pass_name_;
  std::string what_;
  std::vector<std::string> seen_;
};

template <class Options>
void PassWithOptions<Options>::setOptionsJson(const nlohmann::json& options) {
  Options parsed;
  if (!options.is_null()) {
    OptionsReader reader(options, name());
    readOptions(reader, parsed);  // found by argument-dependent lookup next to the Options struct
    reader.finish();
  }
  options_ = parsed;
}

}  // namespace edgetune
