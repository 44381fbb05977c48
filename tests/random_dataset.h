#pragma once
// Calibration examples for models whose training data is not here (random-weight exports): N(0,1) floats, or
// token ids below the vocabulary size with full attention and segment 0. Seeded by example index.
#include <random>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/ir/input_shapes.h"
#include "core/ir/model.h"

namespace edgetune::test {

class RandomDataset final : public Dataset {
 public:
  RandomDataset(std::vector<FeatureInfo> features, size_t size, int64_t vocab)
      : features_(std::move(features)), size_(size), vocab_(vocab) {}

  /// One feature per input of `model`, at the sizes `shapes` gives (without the batch axis); the vocabulary
  /// size is read from a "word_embeddings" table when the model has one.
  static std::shared_ptr<const Dataset> forModel(const Model& model, const InputShapes& shapes, size_t size) {
    std::vector<FeatureInfo> features;
    for (const auto& in : model.inputs()) {
      std::vector<int64_t> dims = shapes.dims.at(in.name);
      dims.erase(dims.begin());
      features.push_back({in.name, in.type, dims});
    }
    int64_t vocab = 2;
    for (const auto& init : model.graph().initializer())
      if (init.name().find("word_embeddings") != std::string::npos && init.dims_size() == 2)
        vocab = init.dims(0);
    return std::make_shared<RandomDataset>(features, size, vocab);
  }

  std::string name() const override { return "random calibration data"; }
  size_t size() const override { return size_; }
  std::vector<FeatureInfo> features() const override { return features_; }
  std::vector<std::string> classNames() const override { return {"a", "b"}; }
  Example get(size_t index) const override {
    std::mt19937_64 rng(index + 1);
    Example e;
    for (const auto& f : features_) {
      Tensor t(f.type, f.shape);
      if (f.type == DataType::Float32) {
        std::normal_distribution<float> normal;
        for (auto& v : t.values<float>()) v = normal(rng);
      } else if (f.name == "input_ids") {
        for (auto& v : t.values<int64_t>()) v = static_cast<int64_t>(rng() % static_cast<uint64_t>(vocab_));
      } else {
        const int64_t fill = f.name == "attention_mask" ? 1 : 0;
        for (auto& v : t.values<int64_t>()) v = fill;
      }
      e.features.push_back(std::move(t));
    }
    e.label = 0;
    return e;
  }

 private:
  std::vector<FeatureInfo> features_;
  size_t size_;
  int64_t vocab_;
};

}  // namespace edgetune::test
