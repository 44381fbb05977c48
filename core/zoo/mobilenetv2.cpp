// MobileNetV2 (Sandler et al. 2018) for small images: torchvision's layout and parameter names, CIFAR
// strides.
#include <algorithm>

#include "core/zoo/layers.h"
#include "core/zoo/zoo.h"

namespace edgetune::zoo {

namespace {

// torchvision's _make_divisible: round to a multiple of 8 without losing more than 10%.
int64_t makeDivisible(double value, int64_t divisor = 8) {
  int64_t rounded =
      std::max<int64_t>(divisor, static_cast<int64_t>(value + divisor / 2.0) / divisor * divisor);
  if (static_cast<double>(rounded) < 0.9 * value) rounded += divisor;
  return rounded;
}

struct Relu6 {
  std::string min, max;  // shared Constant outputs 0 and 6 (Clip takes its bounds as inputs since opset 11)
};

// Conv + BN + ReLU6 (torchvision's Conv2dNormActivation, a Sequential). torch scopes name each child by its
// parent's local name: module "features.2.conv.0" with local name "conv.0" in scope
// "/features/features.2/conv/conv.0" has children "/features/features.2/conv/conv.0/conv.0.0/Conv" etc.
std::string convBnRelu6(GraphBuilder& g, const WeightInit& init, const Relu6& relu6, const std::string& x,
                        const std::string& scope, const std::string& local, const std::string& params,
                        int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
                        int64_t groups) {
  const std::string child = scope + "/" + local;
  std::string h =
      conv2d(g, init, x, child + ".0", params + ".0", in_channels, out_channels, kernel, stride, groups);
  h = batchNorm(g, h, child + ".1", params + ".1", out_channels);
  return g.addNode("Clip", nodeName(child + ".2", "Clip"), {h, relu6.min, relu6.max});
}

}  // namespace

Model buildMobileNetV2(const MobileNetV2Options& options) {
  const std::string arch = "mobilenetv2";
  requirePositive(arch, "input_channels", options.input_channels);
  requirePositive(arch, "classes", options.classes);
  requirePositive(arch, "image_size", options.image_size);
  requireWidthMultiplier(arch, options.width_multiplier);
  const double w = options.width_multiplier;

  WeightInit init(options.seed);
  GraphBuilder g(arch);
  std::string x = g.addInput("input", DataType::Float32,
                             {"N", options.input_channels, options.image_size, options.image_size});
  Relu6 relu6{g.addConstant("/Constant", Tensor::from<float>({}, std::vector<float>{0.0f})),
              g.addConstant("/Constant_1", Tensor::from<float>({}, std::vector<float>{6.0f}))};

  int64_t channels = makeDivisible(32 * w);
  x = convBnRelu6(g, init, relu6, x, "/features/features.0", "features.0", "features.0",
                  options.input_channels, channels, 3, 1, 1);

  // (expansion t, output channels c, repeats n, first stride s); CIFAR keeps the second stage at stride 1.
  struct Stage {
    int64_t t, c, n, s;
  };
  const Stage stages[] = {{1, 16, 1, 1}, {6, 24, 2, 1},  {6, 32, 3, 2}, {6, 64, 4, 2},
                          {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int feature = 1;
  for (const Stage& stage : stages) {
    const int64_t out_channels = makeDivisible(static_cast<double>(stage.c) * w);
    for (int64_t i = 0; i < stage.n; ++i, ++feature) {
      const int64_t stride = i == 0 ? stage.s : 1;
      const std::string module = "features." + std::to_string(feature);
      const std::string scope = "/features/" + module + "/conv";
      const int64_t hidden = channels * stage.t;
      std::string h = x;
      int next = 0;  // index inside the block's "conv" Sequential
      auto local = [&](int index) { return "conv." + std::to_string(index); };
      auto params = [&](int index) { return module + ".conv." + std::to_string(index); };
      if (stage.t != 1) {
        h = convBnRelu6(g, init, relu6, h, scope + "/" + local(0), local(0), params(0), channels, hidden, 1,
                        1, 1);
        next = 1;
      }
      h = convBnRelu6(g, init, relu6, h, scope + "/" + local(next), local(next), params(next), hidden, hidden,
                      3, stride, hidden);
      // Linear bottleneck: 1x1 projection + BN, no activation.
      h = conv2d(g, init, h, scope + "/" + local(next + 1), params(next + 1), hidden, out_channels, 1, 1);
      h = batchNorm(g, h, scope + "/" + local(next + 2), params(next + 2), out_channels);
      if (stride == 1 && channels == out_channels)
        h = g.addNode("Add", "/features/" + module + "/Add", {x, h});
      x = h;
      channels = out_channels;
    }
  }
  const int64_t last = makeDivisible(1280 * std::max(1.0, w));
  const std::string last_module = "features." + std::to_string(feature);
  x = convBnRelu6(g, init, relu6, x, "/features/" + last_module, last_module, last_module, channels, last, 1,
                  1, 1);
  x = g.addNode("GlobalAveragePool", "/GlobalAveragePool", {x});
  x = g.addNode("Flatten", "/Flatten", {x}, {Attr::i("axis", 1)});
  // classifier.0 is the Dropout, which an inference export drops.
  gemmLinear(g, init, x, "/classifier/classifier.1", "classifier.1", last, options.classes, "logits");
  g.addOutput("logits", DataType::Float32, {"N", options.classes});
  return g.finish("zoo:mobilenetv2");
}

}  // namespace edgetune::zoo
