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

  return buildBasicBlockResNet(arch, {64, 128, 256, 512}, 2, options.input_channels, options.image_size,
                               options.width_multiplier, options.classes, options.seed);
}

}  // namespace edgetune::zoo
