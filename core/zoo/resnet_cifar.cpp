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

  return buildBasicBlockResNet(arch, {16, 32, 64}, blocks_per_stage, options.input_channels,
                               options.image_size, options.width_multiplier, options.classes, options.seed);
}

}  // namespace edgetune::zoo
