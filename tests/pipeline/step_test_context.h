#pragma once
// A StepContext for testing step kinds one at a time: a base model, earlier steps' models and results,
// datasets by role, a fresh work folder and a job context, all set by the test.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/pipeline/step.h"
#include "core/util/error.h"
#include "tests/tests_common.h"

namespace edgetune::test {

class TestStepContext final : public pipeline::StepContext {
 public:
  explicit TestStepContext(Model base) : base_(std::move(base)) {}

  std::optional<Model> input_model;  // empty: the base model
  std::map<std::string, Model> models;
  std::map<std::string, nlohmann::json> results;
  std::map<std::string, std::shared_ptr<const Dataset>> datasets;
  std::string id = "step";

  const Model& input() const override { return input_model ? *input_model : base_; }
  const Model& base() const override { return base_; }
  const Model& modelOf(const std::string& step) const override {
    if (step == "base") return base_;
    const auto it = models.find(step);
    if (it == models.end()) throw Error("no model of step '" + step + "'");
    return it->second;
  }
  const nlohmann::json& resultOf(const std::string& step) const override {
    const auto it = results.find(step);
    if (it == results.end()) throw Error("no result of step '" + step + "'");
    return it->second;
  }
  const Dataset& dataset(const std::string& role) const override {
    const auto it = datasets.find(role);
    if (it == datasets.end()) throw Error("the recipe names no '" + role + "' dataset");
    return *it->second;
  }
  bool hasDataset(const std::string& role) const override { return datasets.count(role) > 0; }
  JobContext* job() const override { return &job_; }
  std::filesystem::path workDir() const override { return dir_.path(); }
  const std::string& stepId() const override { return id; }

 private:
  Model base_;
  TempDir dir_;
  mutable JobContext job_;
};

/// The key of the OptionError `f` throws, "<no OptionError>" when it throws none (or another error).
inline std::string optionErrorKey(const std::function<void()>& f) {
  try {
    f();
  } catch (const OptionError& e) {
    return e.key();
  } catch (const std::exception& e) {
    return std::string("<not an OptionError: ") + e.what() + ">";
  }
  return "<no OptionError>";
}

}  // namespace edgetune::test
