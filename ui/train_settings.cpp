#include "ui/train_settings.h"

#include <filesystem>

#include "core/zoo/model_source.h"

namespace edgetune::ui {

nlohmann::json TrainSettings::toJson() const {
  nlohmann::json j = {{"mode", trainModeName(mode)},
                      {"source", source == Source::Variant    ? "variant"
                                 : source == Source::Baseline ? "baseline"
                                                              : "student"},
                      {"epochs", epochs},
                      {"batch_size", batch_size},
                      {"learning_rate", learning_rate},
                      {"optimizer", optimizer},
                      {"augment", augment},
                      {"steps_per_epoch", steps_per_epoch},
                      {"validation_size", validation_size},
                      {"seed", seed}};
  if (source == Source::Student) j["student"] = student;
  if (mode == Mode::Distill) {
    j["temperature"] = temperature;
    j["alpha"] = alpha;
  }
  return j;
}

double TrainSettings::defaultLearningRate(Source source, const std::string& optimizer) {
  const bool from_scratch = source == Source::Student;
  if (optimizer == "adamw") return from_scratch ? 0.001 : 0.0001;
  return from_scratch ? 0.05 : 0.001;
}

std::string trainModeName(TrainSettings::Mode mode) {
  return mode == TrainSettings::Mode::Distill ? "distill" : "fine-tune";
}

std::string shortSourceName(const std::string& source) {
  return zoo::isZooSource(source) ? zoo::zooArchitecture(source)
                                  : std::filesystem::path(source).stem().string();
}

}  // namespace edgetune::ui
