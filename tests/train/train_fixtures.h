#pragma once
// Fixtures shared by the training tests: a small learnable synthetic image task, tiny zoo models, quick
// options.
#include <random>
#include <string>
#include <vector>

#include "core/analysis/evaluate.h"
#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/runtime/executor.h"
#include "core/train/trainer.h"
#include "core/zoo/zoo.h"

namespace edgetune::test {

/// Tensor literals for the interpreter tests: N(0, scale) floats (seeded), given floats, a 1-D int64 list.
inline Tensor normalTensor(std::vector<int64_t> shape, uint64_t seed, float scale = 1.f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.f, scale);
  Tensor t(DataType::Float32, std::move(shape));
  for (auto& v : t.values<float>()) v = dist(rng);
  return t;
}
inline Tensor floats(std::vector<int64_t> shape, std::vector<float> values) {
  return Tensor::from<float>(shape, values);
}
inline Tensor ints(std::vector<int64_t> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return Tensor::from<int64_t>({n}, values);
}

// Four classes of noisy 1x8x8 images, all symmetric under a left-right flip (so flip augmentation keeps
// labels): bright top rows, bright bottom rows, a bright middle band, or a bright left+right border pair.
class PatternDataset final : public Dataset {
 public:
  PatternDataset(size_t size, uint64_t seed, size_t classes = 4, int64_t image = 8)
      : size_(size), seed_(seed), classes_(classes), image_(image) {}
  std::string name() const override { return "patterns"; }
  size_t size() const override { return size_; }
  Example get(size_t index) const override {
    std::mt19937_64 rng(seed_ * 1000003 + index);
    std::normal_distribution<float> noise(0.f, 0.35f);
    Example e;
    e.label = static_cast<int64_t>(index % classes_);
    Tensor t(DataType::Float32, {1, image_, image_});
    auto v = t.values<float>();
    for (int64_t y = 0; y < image_; ++y)
      for (int64_t x = 0; x < image_; ++x) {
        bool on = false;
        switch (e.label) {
          case 0:
            on = y < 3;
            break;
          case 1:
            on = y >= image_ - 3;
            break;
          case 2:
            on = y >= 3 && y < image_ - 3;
            break;
          default:
            on = x < 2 || x >= image_ - 2;
            break;
        }
        v[static_cast<size_t>(y * image_ + x)] = (on ? 1.f : -0.5f) + noise(rng);
      }
    e.features.push_back(std::move(t));
    return e;
  }
  std::vector<FeatureInfo> features() const override {
    return {{"image", DataType::Float32, {1, image_, image_}}};
  }
  std::vector<std::string> classNames() const override {
    std::vector<std::string> names;
    for (size_t c = 0; c < classes_; ++c) names.push_back("c" + std::to_string(c));
    return names;
  }

 private:
  size_t size_;
  uint64_t seed_;
  size_t classes_;
  int64_t image_;
};

inline Model tinyResNet(uint64_t seed, int64_t classes = 4) {
  zoo::ZooOptions o;
  o.input_channels = 1;
  o.image_size = 8;
  o.width_multiplier = 0.25;
  o.classes = classes;
  o.seed = seed;
  return zoo::buildZooModel("resnet8", o);
}

inline Model tinyMlp(uint64_t seed, int64_t classes = 4) {
  zoo::ZooOptions o;
  o.input_channels = 1;
  o.image_size = 8;
  o.hidden_sizes = {16};
  o.classes = classes;
  o.seed = seed;
  return zoo::buildZooModel("mlp", o);
}

inline TrainOptions quickOptions() {
  TrainOptions o;
  o.epochs = 3;
  o.batch_size = 16;
  o.learning_rate = 0.05;
  o.warmup_epochs = 0.5;
  o.threads = 1;
  o.seed = 7;
  return o;
}

/// Top-1 accuracy of `m` on `data`, measured in ONNX Runtime.
inline double ortAccuracy(const Model& m, const Dataset& data) {
  auto exec = makeOrtExecutor(m);
  return evaluate(*exec, data, EvalOptions{}).top1;
}

/// A tiny ResNet trained on the pattern task (once per process): the starting point of the recovery/QAT
/// tests.
inline const Model& trainedModel() {
  static const Model model = [] {
    PatternDataset train(256, 1);
    return trainModel(tinyResNet(3), train, nullptr, quickOptions()).model;
  }();
  return model;
}

}  // namespace edgetune::test
