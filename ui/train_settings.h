#pragma once
// What a training run in the studio does (mode, source, schedule, split), as the Training panel's widgets
// edit it and as the trained variant records it.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace edgetune::ui {

/// What a training run does; the panel's widgets edit one, and the trained variant records it (toJson).
struct TrainSettings {
  enum class Mode { FineTune = 1, Distill };
  enum class Source { Variant = 1, Baseline /* the current base: the opened model or a variant */, Student };
  Mode mode = Mode::Distill;
  Source source = Source::Student;
  /// Student for Source::Student: "zoo:ARCH?..." or an ONNX path (see zoo::loadModelSource).
  std::string student = "zoo:resnet8?input_channels=1&image_size=28&classes=10";
  int epochs = 3;
  int batch_size = 64;
  double learning_rate = 0.05;
  std::string optimizer = "sgd";  // "sgd" or "adamw"
  double temperature = 4.0;       // distillation only
  double alpha = 0.9;             // distillation only: weight of the teacher's soft targets
  bool augment = false;           // random crop + flip of image features
  int steps_per_epoch = 0;        // > 0: shorter epochs (quick runs); 0 = the whole training split
  int validation_size = 1000;  // examples held out (seeded) for per-epoch accuracy and the final measurement
  uint64_t seed = 1;

  nlohmann::json toJson() const;
  /// The learning rate a run starts from when the user has not chosen one: a student trained from scratch
  /// takes a large step (SGD 0.05), a trained or pruned model a small one (SGD 0.001), or the rate
  /// destroys what it knows (0.05 sent a 20%-pruned ResNet to NaN; 0.001 recovered it). AdamW takes 10x-50x
  /// smaller steps.
  static double defaultLearningRate(Source source, const std::string& optimizer);
};

/// "distill" / "fine-tune".
std::string trainModeName(TrainSettings::Mode mode);
/// The short name of a model source for variant names: "resnet8" for "zoo:resnet8?...", the file stem for a
/// path.
std::string shortSourceName(const std::string& source);

}  // namespace edgetune::ui
