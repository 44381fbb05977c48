#pragma once
// Helpers shared by the quantization tests: a seeded random dataset shaped like a model's inputs, tiny
// graphs.
#include <random>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/runtime/executor.h"
#include "core/zoo/graph_builder.h"

namespace edgetune::test {

/// Seeded examples shaped like `inputs` (dynamic non-batch dims = `dynamic_dim`): floats N(0,1) * scale,
/// integers in [0, int_high) except "*mask*" (1) and "*type*" (0) inputs.
class RandomDataset : public Dataset {
 public:
  RandomDataset(const std::vector<TensorInfo>& inputs, size_t n, int64_t dynamic_dim = 8, float scale = 1.0f,
                int64_t int_high = 100)
      : n_(n), scale_(scale), int_high_(int_high) {
    for (const auto& i : inputs) {
      FeatureInfo f{i.name, i.type, {}};
      for (size_t d = 1; d < i.shape.size(); ++d)
        f.shape.push_back(i.shape[d] < 0 ? dynamic_dim : i.shape[d]);
      features_.push_back(f);
    }
  }
  std::string name() const override { return "random test data"; }
  size_t size() const override { return n_; }
  std::vector<FeatureInfo> features() const override { return features_; }
  std::vector<std::string> classNames() const override { return {"a", "b"}; }
  Example get(size_t index) const override {
    std::mt19937_64 rng(index * 7919 + 13);
    Example e;
    for (const auto& f : features_) {
      Tensor t(f.type, f.shape);
      if (f.type == DataType::Float32) {
        std::normal_distribution<float> dist(0.0f, scale_);
        for (auto& v : t.values<float>()) v = dist(rng);
      } else if (f.type == DataType::Int64) {
        const bool mask = f.name.find("mask") != std::string::npos,
                   type = f.name.find("type") != std::string::npos;
        for (auto& v : t.values<int64_t>())
          v = mask ? 1 : type ? 0 : static_cast<int64_t>(rng() % static_cast<uint64_t>(int_high_));
      }
      e.features.push_back(std::move(t));
    }
    e.label = 0;
    return e;
  }

 private:
  size_t n_;
  float scale_;
  int64_t int_high_;
  std::vector<FeatureInfo> features_;
};

inline std::shared_ptr<RandomDataset> randomDataFor(const Model& model, size_t n, int64_t dynamic_dim = 8) {
  return std::make_shared<RandomDataset>(makeOrtExecutor(model)->inputs(), n, dynamic_dim);
}

inline int countOps(const Model& model, const std::string& op) {
  int n = 0;
  for (const auto& node : model.graph().node()) n += node.op_type() == op;
  return n;
}

inline Tensor filled(std::vector<int64_t> shape, uint64_t seed, float scale = 0.3f) {
  Tensor t(DataType::Float32, std::move(shape));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  for (auto& v : t.values<float>()) v = dist(rng);
  return t;
}

/// x[N,2,6,6] -> Conv(4, 3x3, bias) -> Relu -> Conv(4) -> Add(residual) -> Relu -> MaxPool ->
/// GlobalAveragePool
/// -> Flatten -> Gemm(3) -> "logits".
inline Model tinyResidualNet() {
  using namespace edgetune::zoo;
  GraphBuilder g("tiny_residual");
  std::string x = g.addInput("x", DataType::Float32, {"N", 2, 6, 6});
  auto w1 = g.addInitializer("conv1.weight", filled({4, 2, 3, 3}, 1));
  auto b1 = g.addInitializer("conv1.bias", filled({4}, 2));
  auto w2 = g.addInitializer("conv2.weight", filled({4, 4, 3, 3}, 3));
  auto b2 = g.addInitializer("conv2.bias", filled({4}, 4));
  auto fw = g.addInitializer("fc.weight", filled({3, 4}, 5));
  auto fb = g.addInitializer("fc.bias", filled({3}, 6));
  auto pads = Attr::ints("pads", {1, 1, 1, 1});
  auto h1 = g.addNode("Conv", "conv1", {x, w1, b1}, {pads}, "h1");
  auto r1 = g.addNode("Relu", "relu1", {h1}, {}, "r1");
  auto h2 = g.addNode("Conv", "conv2", {r1, w2, b2}, {pads}, "h2");
  auto s = g.addNode("Add", "add", {h2, r1}, {}, "s");
  auto r2 = g.addNode("Relu", "relu2", {s}, {}, "r2");
  auto p = g.addNode("MaxPool", "pool", {r2},
                     {Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 2})}, "p");
  auto gap = g.addNode("GlobalAveragePool", "gap", {p}, {}, "gap");
  auto flat = g.addNode("Flatten", "flatten", {gap}, {Attr::i("axis", 1)}, "flat");
  g.addNode("Gemm", "fc", {flat, fw, fb}, {Attr::i("transB", 1)}, "logits");
  g.addOutput("logits", DataType::Float32, {"N", 3});
  return g.finish("tiny_residual");
}

}  // namespace edgetune::test
