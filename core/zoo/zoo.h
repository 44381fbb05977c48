#pragma once
// Model zoo: architectures built in code as ONNX (opset 17, IR 8), named the way torch.onnx names modules,
// with PyTorch-style random initial weights from a seed. Every model has a dynamic batch dimension "N" and
// one output "logits" [N, classes]. Invalid options throw edgetune::Error naming the option.
#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/model.h"

namespace edgetune::zoo {

/// CIFAR-style ResNet-18: 3x3 stem (stride 1, no max-pool), BasicBlocks [2,2,2,2], widths 64/128/256/512
/// times the width multiplier, 1x1 conv+BN projection shortcuts, GlobalAveragePool, Flatten, Gemm. Input
/// "input" [N, input_channels, image_size, image_size].
struct ResNet18Options {
  int64_t input_channels = 3;
  double width_multiplier = 1.0;
  int64_t classes = 10;
  int64_t image_size = 32;
  uint64_t seed = 0;
};

/// CIFAR ResNet of He et al. 2016: depth = 6n + 2 (8, 20, 32, 44, 56, 110, ...), 3 stages of n BasicBlocks
/// with widths 16/32/64 times the width multiplier. Shortcuts that change shape are 1x1 conv+BN projections
/// (the paper's option B) rather than option A's zero-padding, which has no clean ONNX form; this adds a few
/// thousand parameters (ResNet-20: 272,474 instead of option A's 269,722; both 0.27 M).
struct CifarResNetOptions {
  int64_t depth = 20;
  int64_t input_channels = 3;
  double width_multiplier = 1.0;
  int64_t classes = 10;
  int64_t image_size = 32;
  uint64_t seed = 0;
};

/// MobileNetV2 for small images (torchvision layout and names, CIFAR strides: stem stride 1 and the second
/// stage at stride 1 so 32x32 inputs end at 4x4). Inverted residuals with expansion 6, depthwise 3x3 convs
/// (group = channels), linear bottlenecks, residual Add when stride 1 and same channels, ReLU6 as Clip(0, 6).
struct MobileNetV2Options {
  int64_t input_channels = 3;
  double width_multiplier = 1.0;
  int64_t classes = 10;
  int64_t image_size = 32;
  uint64_t seed = 0;
};

/// Multi-layer perceptron: Flatten, then Gemm+Relu per hidden size, then a Gemm to the classes.
/// Input "input" [N, input_shape...] (default a 1x28x28 image, as Fashion-MNIST).
struct MlpOptions {
  std::vector<int64_t> input_shape = {1, 28, 28};
  std::vector<int64_t> hidden_sizes = {256, 128};
  int64_t classes = 10;
  uint64_t seed = 0;
};

/// BERT encoder + pooler + classifier with the op pattern torch.onnx (opset 17) exports for Hugging Face
/// BertForSequenceClassification. Inputs input_ids, attention_mask, token_type_ids: int64 [N, S].
/// The defaults are the small "BERT-tiny" shape (2 layers, hidden 128, 2 heads); BERT-base is hidden 768,
/// 12 layers, 12 heads.
struct BertOptions {
  int64_t vocab_size = 30522;
  int64_t hidden = 128;
  int64_t layers = 2;
  int64_t heads = 2;
  int64_t intermediate = 0;  // 0 = 4 * hidden
  int64_t max_positions = 512;
  int64_t sequence_length = 128;  // S when fixed (with dynamic_sequence, max_positions bounds S instead)
  bool dynamic_sequence = false;  // true: S is the symbolic dimension "S" (position ids are sliced to it)
  int64_t type_vocab_size = 2;
  int64_t classes = 2;
  uint64_t seed = 0;
};

Model buildResNet18(const ResNet18Options& options = {});
Model buildCifarResNet(const CifarResNetOptions& options = {});
Model buildMobileNetV2(const MobileNetV2Options& options = {});
Model buildMlp(const MlpOptions& options = {});
Model buildBert(const BertOptions& options = {});

/// Options for buildZooModel; each architecture reads the fields that apply to it.
struct ZooOptions {
  int64_t classes = 10;
  uint64_t seed = 0;
  // Images (resnet*, mobilenetv2, mlp): input [N, input_channels, image_size, image_size].
  int64_t input_channels = 3;
  int64_t image_size = 32;
  double width_multiplier = 1.0;                   // resnet*, mobilenetv2
  std::vector<int64_t> hidden_sizes = {256, 128};  // mlp
  // bert (see BertOptions)
  int64_t vocab_size = 30522;
  int64_t hidden = 128;
  int64_t layers = 2;
  int64_t heads = 2;
  int64_t intermediate = 0;
  int64_t max_positions = 512;
  int64_t sequence_length = 128;
  bool dynamic_sequence = false;
  int64_t type_vocab_size = 2;
};

/// The names buildZooModel accepts: resnet18, resnet8, resnet20, resnet56, mobilenetv2, mlp, bert.
std::vector<std::string> zooArchitectures();
/// Builds `arch`; throws Error listing the valid names if `arch` is unknown.
Model buildZooModel(const std::string& arch, const ZooOptions& options = {});

}  // namespace edgetune::zoo
