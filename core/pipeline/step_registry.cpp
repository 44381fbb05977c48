#include "core/pipeline/step.h"

#include "core/util/error.h"

namespace edgetune::pipeline {

StepRegistry StepRegistry::withBuiltins() {
  StepRegistry registry;
  registerCoreSteps(registry);
#ifdef EDGETUNE_HAVE_TRAINING
  registerTrainingSteps(registry);
#endif
  return registry;
}

void StepRegistry::add(const std::string& kind, std::string summary, Factory factory) {
  if (kinds_.count(kind)) throw Error("step kind '" + kind + "' is registered twice");
  kinds_[kind] = Entry{std::move(summary), std::move(factory)};
}

std::vector<std::string> StepRegistry::kinds() const {
  std::vector<std::string> out;
  for (const auto& [kind, _] : kinds_) out.push_back(kind);
  return out;
}

std::string StepRegistry::summary(const std::string& kind) const {
  const auto it = kinds_.find(kind);
  return it == kinds_.end() ? std::string() : it->second.summary;
}

std::unique_ptr<Step> StepRegistry::create(const std::string& kind, const nlohmann::json& options) const {
  auto step = fresh(kind);
  step->setOptionsJson(options.is_null() ? nlohmann::json::object() : options);
  return step;
}

nlohmann::json StepRegistry::defaultOptions(const std::string& kind) const {
  return fresh(kind)->optionsJson();
}

std::unique_ptr<Step> StepRegistry::fresh(const std::string& kind) const {
  const auto it = kinds_.find(kind);
  if (it == kinds_.end()) {
    std::string known;
    for (const auto& [k, _] : kinds_) known += (known.empty() ? "" : ", ") + k;
    std::string hint;
#ifndef EDGETUNE_HAVE_TRAINING
    if (kind == "finetune" || kind == "distill" || kind == "recover" || kind == "qat")
      hint = " (a training step: this build has no libtorch)";
#endif
    throw Error("unknown step kind '" + kind + "'" + hint + "; the kinds are: " + known);
  }
  return it->second.factory();
}

}  // namespace edgetune::pipeline
