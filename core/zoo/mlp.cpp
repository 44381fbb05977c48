// Multi-layer perceptron: nn.Sequential(Flatten, Linear, ReLU, ..., Linear) exported as Flatten + Gemm/Relu.
#include "core/util/error.h"
#include "core/zoo/layers.h"
#include "core/zoo/zoo.h"

namespace edgetune::zoo {

Model buildMlp(const MlpOptions& options) {
  const std::string arch = "mlp";
  if (options.input_shape.empty()) throw Error("mlp: input_shape must have at least one dimension");
  int64_t features = 1;
  for (size_t i = 0; i < options.input_shape.size(); ++i) {
    requirePositive(arch, "input_shape[" + std::to_string(i) + "]", options.input_shape[i]);
    features *= options.input_shape[i];
  }
  for (size_t i = 0; i < options.hidden_sizes.size(); ++i)
    requirePositive(arch, "hidden_sizes[" + std::to_string(i) + "]", options.hidden_sizes[i]);
  requirePositive(arch, "classes", options.classes);

  WeightInit init(options.seed);
  GraphBuilder g(arch);
  std::vector<Dim> dims = {"N"};
  for (int64_t d : options.input_shape) dims.emplace_back(d);
  std::string x = g.addInput("input", DataType::Float32, dims);
  x = g.addNode("Flatten", "/layers/layers.0/Flatten", {x}, {Attr::i("axis", 1)});
  int index = 1;  // layers.0 is the Flatten
  for (int64_t hidden : options.hidden_sizes) {
    const std::string linear = "layers." + std::to_string(index);
    x = gemmLinear(g, init, x, "/layers/" + linear, linear, features, hidden);
    const std::string relu = "layers." + std::to_string(index + 1);
    x = g.addNode("Relu", "/layers/" + relu + "/Relu", {x});
    features = hidden;
    index += 2;
  }
  const std::string head = "layers." + std::to_string(index);
  gemmLinear(g, init, x, "/layers/" + head, head, features, options.classes, "logits");
  g.addOutput("logits", DataType::Float32, {"N", options.classes});
  return g.finish("zoo:mlp");
}

}  // namespace edgetune::zoo
