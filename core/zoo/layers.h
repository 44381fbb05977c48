#pragma once
// Building blocks shared by the zoo architectures: seeded PyTorch-style initial weights and Conv/BN/Linear
// layers emitted with torch.onnx-style node scopes and parameter names.
#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/tensor.h"
#include "core/zoo/graph_builder.h"

namespace edgetune::zoo {

/// Deterministic initial weights: each tensor draws from its own stream seeded by (seed, parameter name), so
/// the same seed gives identical bytes on every platform (no std:: distributions, whose output is
/// implementation-defined) and adding a layer does not change the others' weights.
class WeightInit {
 public:
  explicit WeightInit(uint64_t seed) : seed_(seed) {}
  /// Uniform in [-bound, bound].
  Tensor uniform(const std::string& name, std::vector<int64_t> shape, float bound) const;
  /// Normal(0, std).
  Tensor normal(const std::string& name, std::vector<int64_t> shape, float std) const;
  static Tensor filled(std::vector<int64_t> shape, float value);

 private:
  uint64_t seed_;
};

/// Scope "/layer1/layer1.0/conv1" + op "Conv" -> node name "/layer1/layer1.0/conv1/Conv".
inline std::string nodeName(const std::string& scope, const std::string& op) {
  return scope + "/" + op;
}

/// Conv2d without bias (as before a BatchNorm), PyTorch default init: kaiming_uniform(a=sqrt(5)), i.e.
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in/groups * k * k. Weight "<params>.weight".
std::string conv2d(GraphBuilder& g, const WeightInit& init, const std::string& x, const std::string& scope,
                   const std::string& params, int64_t in_channels, int64_t out_channels, int64_t kernel,
                   int64_t stride, int64_t groups = 1);
/// BatchNormalization in inference form: gamma 1, beta 0, running mean 0, running var 1, epsilon 1e-5.
std::string batchNorm(GraphBuilder& g, const std::string& x, const std::string& scope,
                      const std::string& params, int64_t channels);
/// Linear as torch exports it on 2-D input: Gemm(x, W[out, in], b, transB=1), PyTorch default init.
std::string gemmLinear(GraphBuilder& g, const WeightInit& init, const std::string& x,
                       const std::string& scope, const std::string& params, int64_t in_features,
                       int64_t out_features, const std::string& output_name = {});

/// ResNet BasicBlock: conv3x3-BN-ReLU-conv3x3-BN, + shortcut (identity, or 1x1 conv+BN "downsample.0/1" when
/// stride or width changes), ReLU. `module` is the parameter path ("layer1.0"), `scope` its node scope.
std::string basicBlock(GraphBuilder& g, const WeightInit& init, const std::string& x,
                       const std::string& scope, const std::string& module, int64_t in_channels,
                       int64_t out_channels, int64_t stride);

/// The whole BasicBlock ResNet both ResNet builders share: 3x3 stem (stride 1, no max-pool) of widths[0],
/// `blocks_per_stage` BasicBlocks per width (stride 2 at the start of every stage but the first), global
/// average pool, Flatten, Gemm to "logits". Widths are scaled by `width_multiplier`; the graph is named
/// `arch`.
Model buildBasicBlockResNet(const std::string& arch, const std::vector<int64_t>& widths,
                            int64_t blocks_per_stage, int64_t input_channels, int64_t image_size,
                            double width_multiplier, int64_t classes, uint64_t seed);

/// Shared option checks; throw Error("<arch>: <field> ...").
void requirePositive(const std::string& arch, const std::string& field, int64_t value);
void requireWidthMultiplier(const std::string& arch, double width_multiplier);
/// round(channels * multiplier), at least 1.
int64_t scaledChannels(int64_t channels, double multiplier);

}  // namespace edgetune::zoo
