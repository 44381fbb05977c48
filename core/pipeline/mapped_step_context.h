#pragma once
// MappedStepContext: the StepContext the runner and a single step (single_step.h) both hand to a running
// step. The models and results of the steps before it are looked up by id in maps its owner keeps; datasets
// are opened on first use through the owner's opener and kept for the later steps. One implementation, so a
// step sees the same thing whether a recipe or a CLI command runs it.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/pipeline/step.h"

namespace edgetune::pipeline {

class MappedStepContext : public StepContext {
 public:
  using ModelMap = std::map<std::string, std::shared_ptr<const Model>>;
  using ResultMap = std::map<std::string, nlohmann::json>;
  /// Opens the dataset of a role the owner names (throws Error naming it when it cannot).
  using DatasetOpener = std::function<std::shared_ptr<const Dataset>(const std::string& role)>;
  using LineSink = std::function<void(const std::string& line)>;

  /// `models` and `results` are the owner's and are read as they are when the step asks; `has_dataset` says
  /// which roles the owner can open. Everything must outlive this context.
  MappedStepContext(const ModelMap& models, const ResultMap& results,
                    std::function<bool(const std::string& role)> has_dataset, DatasetOpener open_dataset);

  /// Points the context at the next step: its id, the id whose model is its input, its progress and folder.
  void enter(const std::string& id, const std::string& input, JobContext* job,
             std::filesystem::path work_dir);
  /// Where logLine() goes (default: nowhere).
  void setLineSink(LineSink sink) { line_sink_ = std::move(sink); }
  /// What loginPrompts() gives (default: null, unattended); it must outlive this context.
  void setLoginPrompts(const deploy::LoginPrompts* prompts) { login_prompts_ = prompts; }

  const Model& input() const override { return modelOf(input_); }
  const Model& base() const override { return modelOf("base"); }
  const Model& modelOf(const std::string& id) const override;
  const nlohmann::json& resultOf(const std::string& id) const override;
  const Dataset& dataset(const std::string& role) const override;
  bool hasDataset(const std::string& role) const override { return has_dataset_(role); }
  JobContext* job() const override { return job_; }
  std::filesystem::path workDir() const override { return work_dir_; }
  const std::string& stepId() const override { return id_; }
  void logLine(const std::string& line) override {
    if (line_sink_) line_sink_(line);
  }
  const deploy::LoginPrompts* loginPrompts() const override { return login_prompts_; }

 private:
  const ModelMap& models_;
  const ResultMap& results_;
  std::function<bool(const std::string&)> has_dataset_;
  DatasetOpener open_dataset_;
  mutable std::map<std::string, std::shared_ptr<const Dataset>> datasets_;  // opened once per owner
  LineSink line_sink_;
  const deploy::LoginPrompts* login_prompts_ = nullptr;
  std::string id_, input_;
  JobContext* job_ = nullptr;
  std::filesystem::path work_dir_;
};

}  // namespace edgetune::pipeline
