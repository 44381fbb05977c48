// Name-based entry point to the zoo (what the CLI and the studio's "new model" dialog call).
#include "core/zoo/zoo.h"

#include "core/util/error.h"

namespace edgetune::zoo {

std::vector<std::string> zooArchitectures() {
  return {"resnet18", "resnet8", "resnet20", "resnet56", "mobilenetv2", "mlp", "bert"};
}

Model buildZooModel(const std::string& arch, const ZooOptions& o) {
  if (arch == "resnet18") {
    return buildResNet18({.input_channels = o.input_channels,
                          .width_multiplier = o.width_multiplier,
                          .classes = o.classes,
                          .image_size = o.image_size,
                          .seed = o.seed});
  }
  if (arch == "resnet8" || arch == "resnet20" || arch == "resnet56") {
    return buildCifarResNet({.depth = std::stoll(arch.substr(6)),
                             .input_channels = o.input_channels,
                             .width_multiplier = o.width_multiplier,
                             .classes = o.classes,
                             .image_size = o.image_size,
                             .seed = o.seed});
  }
  if (arch == "mobilenetv2") {
    return buildMobileNetV2({.input_channels = o.input_channels,
                             .width_multiplier = o.width_multiplier,
                             .classes = o.classes,
                             .image_size = o.image_size,
                             .seed = o.seed});
  }
  if (arch == "mlp") {
    return buildMlp({.input_shape = {o.input_channels, o.image_size, o.image_size},
                     .hidden_sizes = o.hidden_sizes,
                     .classes = o.classes,
                     .seed = o.seed});
  }
  if (arch == "bert") {
    return buildBert({.vocab_size = o.vocab_size,
                      .hidden = o.hidden,
                      .layers = o.layers,
                      .heads = o.heads,
                      .intermediate = o.intermediate,
                      .max_positions = o.max_positions,
                      .sequence_length = o.sequence_length,
                      .dynamic_sequence = o.dynamic_sequence,
                      .type_vocab_size = o.type_vocab_size,
                      .classes = o.classes,
                      .seed = o.seed});
  }
  std::string valid;
  for (const auto& name : zooArchitectures()) valid += (valid.empty() ? "" : ", ") + name;
  throw Error("unknown model architecture '" + arch + "' (valid: " + valid + ")");
}

}  // namespace edgetune::zoo
