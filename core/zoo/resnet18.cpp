// CIFAR-style ResNet-18 (the common CIFAR variant: 3x3 stride-1 stem, no max-pool), torchvision names.
#include "core/zoo/layers.h"
#include "core/zoo/zoo.h"

namespace edgetune::zoo {

Model buildResNet18(const ResNet18Options& options) {
  const std::string arch = "resnet18";
  requirePositive(arch, "input_channels", options.input_channels);
  requirePositive(arch, "classes", options.classes);
  requirePositive(arch, "image_size", options.image_size);
  requireWidthMultiplier(arch, options.width_multiplier);

  WeightInit init(options.seed);
  GraphBuilder g("resnet18");
  std::string x = g.addInput("input", DataType::Float32,
                             {"N", options.input_channels, options.image_size, options.image_size});
  const int64_t stem = scaledChannels(64, options.width_multiplier);
  x = conv2d(g, init, x, "/conv1", "conv1", options.input_channels, stem, 3, 1);
  x = batchNorm(g, x, "/bn1", "bn1", stem);
  x = g.addNode("Relu", "/relu/Relu", {x});

  int64_t channels = stem;
  const int64_t widths[] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    const std::string layer = "layer" + std::to_string(stage + 1);
    const int64_t width = scaledChannels(widths[stage], options.width_multiplier);
    for (int block = 0; block < 2; ++block) {
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
  return g.finish("zoo:resnet18");
}

}  // namespace edgetune::zoo
