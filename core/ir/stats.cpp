#include "core/ir/stats.h"

#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "core/util/error.h"

namespace edgetune {
namespace {

// Shape of a value at batch 1 (dynamic dimensions -> 1); nullopt when unknown.
std::optional<std::vector<int64_t>> concreteShape(const Model& model, const std::string& name) {
  if (name.empty()) return std::nullopt;
  std::optional<ValueInfo> vi;
  try {
    vi = model.valueInfo(name);
  } catch (const Error&) {
    return std::nullopt;  // an element type EdgeTune does not model
  }
  if (!vi || !vi->has_shape) return std::nullopt;
  std::vector<int64_t> shape = vi->shape;
  for (auto& d : shape)
    if (d < 0) d = 1;
  return shape;
}

int64_t product(const std::vector<int64_t>& v, size_t from = 0) {
  int64_t n = 1;
  for (size_t i = from; i < v.size(); ++i) n *= v[i];
  return n;
}

std::string input(const onnx::NodeProto& node, int i) { return i < node.input_size() ? node.input(i) : ""; }

// Same rule as Model::parameterCount: learnable floating-point (or quantized 8-bit) weights.
bool isWeightType(int type) {
  return type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::FLOAT16 ||
         type == onnx::TensorProto::DOUBLE || type == onnx::TensorProto::INT8 ||
         type == onnx::TensorProto::UINT8 || type == onnx::TensorProto::BFLOAT16;
}

int64_t initializerBytes(const onnx::TensorProto& init) {
  if (init.has_raw_data()) return static_cast<int64_t>(init.raw_data().size());
  int64_t n = 1;
  for (auto d : init.dims()) n *= d;
  try {
    return n * static_cast<int64_t>(elementSize(dataTypeFromOnnx(init.data_type())));
  } catch (const Error&) {
    return static_cast<int64_t>(init.ByteSizeLong());  // unusual types: the serialized size is close enough
  }
}

}  // namespace

int64_t nodeMacs(const Model& model, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
  if (!default_domain || node.output_size() < 1) return 0;
  auto out = concreteShape(model, node.output(0));
  if (op == "Conv" || op == "ConvInteger" || op == "QLinearConv") {
    // Weight [M, C/group, k...]: each output element sums over C/group * prod(k) products.
    auto w = concreteShape(model, input(node, op == "QLinearConv" ? 3 : 1));
    if (!out || !w || w->size() < 2) return 0;
    return product(*out) * product(*w, 1);
  }
  if (op == "ConvTranspose") {
    // Weight [C, M/group, k...]: every input element is scattered into M/group * prod(k) outputs.
    auto x = concreteShape(model, input(node, 0));
    auto w = concreteShape(model, input(node, 1));
    if (!x || !w || w->size() < 2) return 0;
    return product(*x) * product(*w, 1);
  }
  if (op == "Gemm") {
    auto a = concreteShape(model, input(node, 0));
    if (!out || !a || a->size() != 2) return 0;
    const int64_t k = attrInt(node, "transA", 0) ? (*a)[0] : (*a)[1];
    return product(*out) * k;
  }
  if (op == "MatMul" || op == "MatMulInteger" || op == "QLinearMatMul") {
    // Batched or not, each output element is a dot product over A's last dimension.
    auto a = concreteShape(model, input(node, 0));
    if (!out || !a || a->empty()) return 0;
    return product(*out) * a->back();
  }
  return 0;
}

ModelStats computeStats(const Model& model) {
  ModelStats stats;
  const auto& g = model.graph();
  std::unordered_set<std::string> statistics;  // BatchNormalization running mean/var
  for (const auto& node : g.node())
    if (node.op_type() == "BatchNormalization")
      for (int i = 3; i < node.input_size() && i < 5; ++i) statistics.insert(node.input(i));

  std::unordered_set<std::string> attributed;
  for (const auto& node : g.node()) {
    NodeStats ns;
    ns.name = node.name().empty() ? (node.output_size() ? node.output(0) : std::string()) : node.name();
    ns.op_type = node.op_type();
    for (const auto& in : node.input()) {
      if (in.empty() || attributed.count(in)) continue;
      const auto* init = model.initializer(in);
      if (!init) continue;
      attributed.insert(in);
      ns.weight_bytes += initializerBytes(*init);
      if (isWeightType(init->data_type()) && !statistics.count(in)) ns.params += product({init->dims().begin(),
                                                                                         init->dims().end()});
    }
    for (const auto& out : node.output()) {
      std::vector<int64_t> shape;
      std::optional<ValueInfo> vi;
      try {
        vi = out.empty() ? std::nullopt : model.valueInfo(out);
      } catch (const Error&) {
      }
      if (vi && vi->has_shape) {
        shape = vi->shape;
        std::vector<int64_t> batch1 = shape;
        for (auto& d : batch1)
          if (d < 0) d = 1;
        ns.activation_bytes += product(batch1) * static_cast<int64_t>(elementSize(vi->type));
      }
      ns.output_shapes.push_back(shape);
    }
    ns.macs = nodeMacs(model, node);
    stats.macs += ns.macs;
    stats.activation_bytes += ns.activation_bytes;
    stats.nodes.push_back(std::move(ns));
  }
  for (const auto& init : g.initializer()) stats.weight_bytes += initializerBytes(init);
  stats.params = model.parameterCount();
  stats.serialized_bytes = static_cast<int64_t>(model.proto().ByteSizeLong());
  stats.node_count = g.node_size();
  if (!model.sourcePath().empty()) {
    std::error_code ec;
    auto size = std::filesystem::file_size(model.sourcePath(), ec);
    if (!ec) stats.file_size_bytes = static_cast<int64_t>(size);
  }
  return stats;
}

nlohmann::json toJson(const NodeStats& s) {
  return {{"name", s.name},   {"op_type", s.op_type},           {"output_shapes", s.output_shapes},
          {"params", s.params}, {"macs", s.macs}, {"weight_bytes", s.weight_bytes},
          {"activation_bytes", s.activation_bytes}};
}

nlohmann::json toJson(const ModelStats& s) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : s.nodes) nodes.push_back(toJson(n));
  return {{"params", s.params},
          {"macs", s.macs},
          {"weight_bytes", s.weight_bytes},
          {"activation_bytes", s.activation_bytes},
          {"serialized_bytes", s.serialized_bytes},
          {"file_size_bytes", s.file_size_bytes ? nlohmann::json(*s.file_size_bytes) : nlohmann::json(nullptr)},
          {"node_count", s.node_count},
          {"nodes", nodes}};
}

}  // namespace edgetune
