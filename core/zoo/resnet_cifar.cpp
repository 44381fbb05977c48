// CIFAR ResNet-(6n+2) of He et al. 2016 ("Deep Residual Learning", section 4.2), with projection shortcuts.
#include "core/util/error.h"
#include "core/zoo/layers.h"
#include "core/zoo/zoo.h"

namespace edgetune::zoo {

Model buildCifarResNet(const CifarResNetOptions& options) {
  const std::string arch = "resnet" + std::to_string(options.depth);
  if (options.depth < 8 || (options.depth - 2) % 6 != 0)
    throw Error("cifar resnet: depth must be 6n+2 with n >= 1 (8, 20, 32, 44, 56, 110...), got " +
                std::to_string(options.depth));
  requirePositive(arch, "input_channels", options.input_channels);
  requirePositive(arch, "classes", options.classes);
  requirePositive(arch, "image_size", options.image_size);
  requireWidthMultiplier(arch, options.width_multiplier);
  const int64_t blocks_per_stage = (options.depth - 2) / 6;

  WeightInit init(options.seed);
  GraphBuilder g(arch);
  std::string x = g.addInput("input", DataType::Float32,
                             {"N", options.input_channels, options.image_size, options.image_size});
  const int64_t stem = scaledChannels(16, options.width_multiplier);
  x = conv2d(g, init, x, "/conv1", "conv1", options.input_channels, stem, 3, 1);
  x = batchNorm(g, x, "/bn1", "bn1", stem);
  x = g.addNode("Relu", "/relu/Relu", {x});

  int64_t channels = stem;
  const int64_t widths[] = {16, 32, 64};
  for (int stage = 0; stage < 3; ++stage) {
    const std::string layer = "layer" + std::to_string(stage + 1);
    const int64_t width = scaledChannels(widths[stage], options.width_multiplier);
    for (int64_t block = 0; block < blocks_per_stage; ++block) {
      const std::string module = layer + "." + std::to_string(block);
      const int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      x = basicBlock(g, init, x, "/" + layer + "/" + module, module, channels, width, stride);
      channels = width;
    }
  }
  x = g.addNode("GlobalAveragePool", "/avgpool/GlobalAveragePool", {x});
  x = g.addNode("Flatten", "/Flatten", {x}, {Attr::i("axis", 1)});
  gemmLinear(g, init, x, "/fc", "fc", channels, options.classes, "logits");
  g.addOutput("logits", DataType::Float32, {"N", options.classes});
  return g.finish("zoo:" + arch);
}

}  // namespace edgetune::zoo
