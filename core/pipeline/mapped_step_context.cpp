#include "core/pipeline/mapped_step_context.h"

#include "core/util/error.h"

namespace edgetune::pipeline {

MappedStepContext::MappedStepContext(const ModelMap& models, const ResultMap& results,
                                     std::function<bool(const std::string& role)> has_dataset,
                                     DatasetOpener open_dataset)
    : models_(models),
      results_(results),
      has_dataset_(std::move(has_dataset)),
      open_dataset_(std::move(open_dataset)) {}

void MappedStepContext::enter(const std::string& id, const std::string& input, JobContext* job,
                              std::filesystem::path work_dir) {
  id_ = id;
  input_ = input;
  job_ = job;
  work_dir_ = std::move(work_dir);
}

const Model& MappedStepContext::modelOf(const std::string& id) const {
  const auto it = models_.find(id);
  if (it == models_.end() || !it->second)
    throw Error("step '" + id_ + "' reads the model of '" + id +
                "', which is not an earlier step with a model");
  return *it->second;
}

const nlohmann::json& MappedStepContext::resultOf(const std::string& id) const {
  const auto it = results_.find(id);
  if (it == results_.end())
    throw Error("step '" + id_ + "' reads the result of '" + id + "', which is not an earlier step that ran");
  return it->second;
}

const Dataset& MappedStepContext::dataset(const std::string& role) const {
  if (!hasDataset(role))
    throw Error("step '" + id_ + "' reads the '" + role + "' dataset, but the recipe's datasets name none");
  auto& slot = datasets_[role];
  if (!slot) slot = open_dataset_(role);
  return *slot;
}

}  // namespace edgetune::pipeline
