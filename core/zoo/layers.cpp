#include "core/zoo/layers.h"

#include <cmath>
#include <numbers>

#include "core/util/error.h"

namespace edgetune::zoo {

namespace {

// SplitMix64: tiny, fast and fully specified, so streams are identical everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state) : state_(state) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // [0, 1) with 24 random bits: exactly representable in float.
  float unit() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }

 private:
  uint64_t state_;
};

uint64_t streamSeed(uint64_t seed, const std::string& name) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a of the parameter name
  for (unsigned char c : name) h = (h ^ c) * 0x100000001B3ull;
  SplitMix64 mix(seed ^ h);
  return mix.next();
}

}  // namespace

Tensor WeightInit::uniform(const std::string& name, std::vector<int64_t> shape, float bound) const {
  Tensor t(DataType::Float32, std::move(shape));
  SplitMix64 rng(streamSeed(seed_, name));
  for (float& v : t.values<float>()) v = (2.0f * rng.unit() - 1.0f) * bound;
  return t;
}

Tensor WeightInit::normal(const std::string& name, std::vector<int64_t> shape, float std) const {
  Tensor t(DataType::Float32, std::move(shape));
  SplitMix64 rng(streamSeed(seed_, name));
  auto values = t.values<float>();
  // Box-Muller, two values per pair of uniforms; 1 - unit() is in (0, 1] so the log is finite.
  for (size_t i = 0; i < values.size(); i += 2) {
    const double u1 = 1.0 - static_cast<double>(rng.unit());
    const double u2 = static_cast<double>(rng.unit());
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    values[i] = static_cast<float>(r * std::cos(angle)) * std;
    if (i + 1 < values.size()) values[i + 1] = static_cast<float>(r * std::sin(angle)) * std;
  }
  return t;
}

Tensor WeightInit::filled(std::vector<int64_t> shape, float value) {
  Tensor t(DataType::Float32, std::move(shape));
  for (float& v : t.values<float>()) v = value;
  return t;
}

std::string conv2d(GraphBuilder& g, const WeightInit& init, const std::string& x, const std::string& scope,
                   const std::string& params, int64_t in_channels, int64_t out_channels, int64_t kernel,
                   int64_t stride, int64_t groups) {
  const int64_t fan_in = in_channels / groups * kernel * kernel;
  const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
  const std::string w = g.addInitializer(
      params + ".weight",
      init.uniform(params + ".weight", {out_channels, in_channels / groups, kernel, kernel}, bound));
  const int64_t pad = kernel / 2;
  return g.addNode("Conv", nodeName(scope, "Conv"), {x, w},
                   {Attr::i("group", groups), Attr::ints("kernel_shape", {kernel, kernel}),
                    Attr::ints("pads", {pad, pad, pad, pad}), Attr::ints("strides", {stride, stride}),
                    Attr::ints("dilations", {1, 1})});
}

std::string batchNorm(GraphBuilder& g, const std::string& x, const std::string& scope,
                      const std::string& params, int64_t channels) {
  const std::string gamma = g.addInitializer(params + ".weight", WeightInit::filled({channels}, 1.0f));
  const std::string beta = g.addInitializer(params + ".bias", WeightInit::filled({channels}, 0.0f));
  const std::string mean = g.addInitializer(params + ".running_mean", WeightInit::filled({channels}, 0.0f));
  const std::string var = g.addInitializer(params + ".running_var", WeightInit::filled({channels}, 1.0f));
  return g.addNode("BatchNormalization", nodeName(scope, "BatchNormalization"), {x, gamma, beta, mean, var},
                   {Attr::f("epsilon", 1e-5f), Attr::f("momentum", 0.9f)});
}

std::string gemmLinear(GraphBuilder& g, const WeightInit& init, const std::string& x,
                       const std::string& scope, const std::string& params, int64_t in_features,
                       int64_t out_features, const std::string& output_name) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(in_features));
  const std::string w = g.addInitializer(
      params + ".weight", init.uniform(params + ".weight", {out_features, in_features}, bound));
  const std::string b =
      g.addInitializer(params + ".bias", init.uniform(params + ".bias", {out_features}, bound));
  return g.addNode("Gemm", nodeName(scope, "Gemm"), {x, w, b},
                   {Attr::f("alpha", 1.0f), Attr::f("beta", 1.0f), Attr::i("transB", 1)}, output_name);
}

std::string basicBlock(GraphBuilder& g, const WeightInit& init, const std::string& x,
                       const std::string& scope, const std::string& module, int64_t in_channels,
                       int64_t out_channels, int64_t stride) {
  std::string h =
      conv2d(g, init, x, scope + "/conv1", module + ".conv1", in_channels, out_channels, 3, stride);
  h = batchNorm(g, h, scope + "/bn1", module + ".bn1", out_channels);
  h = g.addNode("Relu", nodeName(scope + "/relu", "Relu"), {h});
  h = conv2d(g, init, h, scope + "/conv2", module + ".conv2", out_channels, out_channels, 3, 1);
  h = batchNorm(g, h, scope + "/bn2", module + ".bn2", out_channels);
  std::string shortcut = x;
  if (stride != 1 || in_channels != out_channels) {
    shortcut = conv2d(g, init, x, scope + "/downsample/downsample.0", module + ".downsample.0", in_channels,
                      out_channels, 1, stride);
    shortcut =
        batchNorm(g, shortcut, scope + "/downsample/downsample.1", module + ".downsample.1", out_channels);
  }
  h = g.addNode("Add", nodeName(scope, "Add"), {h, shortcut});
  // torch names the second call of the same ReLU module "relu_1".
  return g.addNode("Relu", nodeName(scope + "/relu_1", "Relu"), {h});
}

void requirePositive(const std::string& arch, const std::string& field, int64_t value) {
  if (value < 1) throw Error(arch + ": " + field + " must be at least 1 (got " + std::to_string(value) + ")");
}

void requireWidthMultiplier(const std::string& arch, double width_multiplier) {
  if (!(width_multiplier > 0.0) || !std::isfinite(width_multiplier))
    throw Error(arch + ": width_multiplier must be a positive number (got " +
                std::to_string(width_multiplier) + ")");
}

Model buildBasicBlockResNet(const std::string& arch, const std::vector<int64_t>& widths,
                            int64_t blocks_per_stage, int64_t input_channels, int64_t image_size,
                            double width_multiplier, int64_t classes, uint64_t seed) {
  WeightInit init(seed);
  GraphBuilder g(arch);
  std::string x = g.addInput("input", DataType::Float32, {"N", input_channels, image_size, image_size});
  const int64_t stem = scaledChannels(widths.at(0), width_multiplier);
  x = conv2d(g, init, x, "/conv1", "conv1", input_channels, stem, 3, 1);
  x = batchNorm(g, x, "/bn1", "bn1", stem);
  x = g.addNode("Relu", "/relu/Relu", {x});

  int64_t channels = stem;
  for (size_t stage = 0; stage < widths.size(); ++stage) {
    const std::string layer = "layer" + std::to_string(stage + 1);
    const int64_t width = scaledChannels(widths[stage], width_multiplier);
    for (int64_t block = 0; block < blocks_per_stage; ++block) {
      const std::string module = layer + "." + std::to_string(block);
      const int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      x = basicBlock(g, init, x, "/" + layer + "/" + module, module, channels, width, stride);
      channels = width;
    }
  }
  x = g.addNode("GlobalAveragePool", "/avgpool/GlobalAveragePool", {x});
  x = g.addNode("Flatten", "/Flatten", {x}, {Attr::i("axis", 1)});
  gemmLinear(g, init, x, "/fc", "fc", channels, classes, "logits");
  g.addOutput("logits", DataType::Float32, {"N", classes});
  return g.finish("zoo:" + arch);
}

int64_t scaledChannels(int64_t channels, double multiplier) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(channels) * multiplier));
}

}  // namespace edgetune::zoo
