// Transfer learning: classifier-head surgery on the ONNX graph.
#include "core/train/transfer.h"

#include <cmath>

#include "core/train/torch_graph.h"
#include "core/util/error.h"

namespace edgetune {
namespace {

std::string outputName(const Model& model, const std::string& output) {
  const auto outputs = model.outputs();
  if (outputs.empty()) throw Error(model.origin() + ": the model has no outputs");
  if (output.empty()) return outputs.front().name;
  for (const auto& o : outputs)
    if (o.name == output) return output;
  throw Error(model.origin() + ": has no output named '" + output + "'");
}

std::vector<int64_t> dims(const onnx::TensorProto& t) {
  return {t.dims().begin(), t.dims().end()};
}

}  // namespace

ClassifierHead findClassifierHead(const Model& model, const std::string& output) {
  const std::string out = outputName(model, output);
  const int index = model.producer(out);
  if (index < 0) throw Error(model.origin() + ": output '" + out + "' is not produced by a node");
  const auto& node = model.graph().node(index);
  auto fail = [&](const std::string& why) {
    throw Error(model.origin() + ": output '" + out + "' comes from " + describeNode(node) +
                ", not a classifier head (Gemm, or MatMul + Add, over initializers): " + why);
  };
  ClassifierHead head;
  if (node.op_type() == "Gemm") {
    if (node.input_size() < 2 || !model.isInitializer(node.input(1)))
      fail("its weight is not an initializer");
    if (attrInt(node, "transA", 0) != 0) fail("transA is set");
    const auto w = dims(*model.initializer(node.input(1)));
    if (w.size() != 2) fail("its weight is not a matrix");
    const bool trans_b = attrInt(node, "transB", 0) != 0;
    head.node = node.name();
    head.weight = node.input(1);
    head.weight_classes_first = trans_b;
    head.in_features = trans_b ? w[1] : w[0];
    head.classes = trans_b ? w[0] : w[1];
    if (node.input_size() >= 3 && !node.input(2).empty()) {
      if (!model.isInitializer(node.input(2))) fail("its bias is not an initializer");
      head.bias = node.input(2);
    }
    return head;
  }
  if (node.op_type() == "Add" || node.op_type() == "MatMul") {
    const onnx::NodeProto* matmul = &node;
    if (node.op_type() == "Add") {
      matmul = nullptr;
      for (int i = 0; i < 2 && i < node.input_size(); ++i) {
        const int p = model.producer(node.input(i));
        if (p >= 0 && model.graph().node(p).op_type() == "MatMul" && model.isInitializer(node.input(1 - i))) {
          matmul = &model.graph().node(p);
          head.bias = node.input(1 - i);
        }
      }
      if (!matmul) fail("it is an Add that does not add an initializer bias to a MatMul");
    }
    if (matmul->input_size() < 2 || !model.isInitializer(matmul->input(1)))
      fail("the MatMul weight is not an initializer");
    const auto w = dims(*model.initializer(matmul->input(1)));
    if (w.size() != 2) fail("the MatMul weight is not a matrix");
    head.node = matmul->name();
    head.weight = matmul->input(1);
    head.in_features = w[0];
    head.classes = w[1];
    return head;
  }
  fail("unsupported operator");
  return head;
}

ClassifierHead replaceClassifierHead(Model& model, int64_t classes, uint64_t seed,
                                     const std::string& output) {
  if (classes < 2) throw Error("the new head needs at least 2 classes (got " + std::to_string(classes) + ")");
  ClassifierHead head = findClassifierHead(model, output);
  std::vector<int64_t> shape = head.weight_classes_first ? std::vector<int64_t>{classes, head.in_features}
                                                         : std::vector<int64_t>{head.in_features, classes};

  // PyTorch's nn.Linear initialization bound, from our own seeded generator (same on every machine).
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 0x1234567ull;
  auto uniform = [&state]() {
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
  };
  const double bound = 1.0 / std::sqrt(static_cast<double>(head.in_features));
  Tensor weight(DataType::Float32, shape);
  for (auto& v : weight.values<float>()) v = static_cast<float>((2 * uniform() - 1) * bound);
  *model.mutableInitializer(head.weight) = tensorToProto(head.weight, weight);
  if (!head.bias.empty()) {
    Tensor bias(DataType::Float32, {classes});
    for (auto& v : bias.values<float>()) v = static_cast<float>((2 * uniform() - 1) * bound);
    *model.mutableInitializer(head.bias) = tensorToProto(head.bias, bias);
  }
  // The declared output shape names the class count: update it, then let shape inference redo the rest.
  const std::string out = outputName(model, output);
  for (auto& o : *model.graph().mutable_output())
    if (o.name() == out && o.type().tensor_type().has_shape()) {
      auto* shape_proto = o.mutable_type()->mutable_tensor_type()->mutable_shape();
      if (shape_proto->dim_size() >= 1) {
        auto* last = shape_proto->mutable_dim(shape_proto->dim_size() - 1);
        last->clear_dim_param();
        last->set_dim_value(classes);
      }
    }
  model.reindex();
  model.inferShapes();
  head.classes = classes;
  return head;
}

std::vector<std::string> parametersBeforeHead(const Model& model, const ClassifierHead& head) {
  TorchGraph graph(model);
  std::vector<std::string> names;
  for (const auto& [name, p] : graph.namedParameters())
    if (name != head.weight && name != head.bias) names.push_back(name);
  return names;
}

}  // namespace edgetune
