#include "core/ir/stats.h"

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "core/ir/shape_inference.h"
#include "core/util/error.h"

namespace edgetune {
namespace {

struct Shaped {
  int elem_type = 0;           // ONNX code
  std::vector<int64_t> shape;  // dynamic dimensions already replaced by 1
};
using ShapeTable = std::unordered_map<std::string, Shaped>;

void addValueInfos(const onnx::GraphProto& g, ShapeTable& table, bool overwrite) {
  for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
    for (const auto& vi : *list) {
      if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) continue;
      if (!overwrite && table.count(vi.name())) continue;
      Shaped s;
      s.elem_type = vi.type().tensor_type().elem_type();
      for (const auto& d : vi.type().tensor_type().shape().dim())
        s.shape.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : 1);
      table[vi.name()] = std::move(s);
    }
}

// ONNX 1.12's inference gives up on some nodes whose shape depends on computed values (e.g. BERT's
// position_ids[:, :seq_len] Slice), losing every shape downstream. For statistics at batch 1 we re-infer on a
// weightless copy with every dynamic dimension fixed to 1, turning the shape values ONNX propagated into
// initializers for the nodes it gave up on, until nothing more resolves.
// With concrete input shapes given, the copy's inputs take them and everything inferred from them replaces
// the batch-1 guesses.
void inferMissingShapes(const Model& model, ShapeTable& table, const InputShapes* shapes) {
  auto missing = [](const onnx::GraphProto& g, const ShapeTable& t) {
    for (const auto& node : g.node())
      for (const auto& out : node.output())
        if (!out.empty() && !t.count(out)) return true;
    return false;
  };
  const bool concrete = shapes && !shapes->empty();
  if (!concrete && !missing(model.graph(), table)) return;
  onnx::ModelProto copy;
  copy.set_ir_version(model.proto().ir_version());
  *copy.mutable_opset_import() = model.proto().opset_import();
  auto* g = copy.mutable_graph();
  *g->mutable_node() = model.graph().node();
  *g->mutable_input() = model.graph().input();
  *g->mutable_output() = model.graph().output();
  for (const auto& init : model.graph().initializer()) {
    auto* t = g->add_initializer();
    t->set_name(init.name());
    t->set_data_type(init.data_type());
    *t->mutable_dims() = init.dims();
    // Only integer constants feed shape computations; the weights' bytes are not needed.
    if (init.data_type() == onnx::TensorProto::INT64 || init.data_type() == onnx::TensorProto::INT32) {
      if (init.has_raw_data()) t->set_raw_data(init.raw_data());
      *t->mutable_int64_data() = init.int64_data();
      *t->mutable_int32_data() = init.int32_data();
    }
  }
  for (auto& in : *g->mutable_input()) {
    if (concrete) {
      if (auto given = shapes->dims.find(in.name()); given != shapes->dims.end()) {
        auto* shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
        shape->clear_dim();
        for (int64_t d : given->second) shape->add_dim()->set_dim_value(d);
        continue;
      }
    }
    if (in.type().has_tensor_type() && in.type().tensor_type().has_shape())
      for (auto& d : *in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim())
        if (!d.has_dim_value()) d.set_dim_value(1);
  }
  for (auto& out : *g->mutable_output()) out.mutable_type()->mutable_tensor_type()->clear_shape();

  for (int round = 0; round < 6; ++round) {
    g->clear_value_info();
    std::unordered_map<std::string, onnx::TensorShapeProto> values;
    try {
      inferShapesSafely(copy, &values);
    } catch (const std::exception&) {
      return;  // statistics stay partial rather than failing
    }
    ShapeTable inferred;
    addValueInfos(*g, inferred, true);
    for (const auto& init : g->initializer())
      inferred[init.name()] = {init.data_type(), {init.dims().begin(), init.dims().end()}};
    int materialized = 0;
    for (auto& node : *g->mutable_node()) {
      bool unresolved = false;
      for (const auto& out : node.output()) unresolved = unresolved || (!out.empty() && !inferred.count(out));
      if (!unresolved) continue;
      for (auto& in : *node.mutable_input()) {
        auto v = values.find(in);
        auto info = inferred.find(in);
        if (in.empty() || v == values.end() || info == inferred.end() || info->second.shape.size() > 1)
          continue;
        const int type = info->second.elem_type;
        if (type != onnx::TensorProto::INT64 && type != onnx::TensorProto::INT32) continue;
        std::vector<int64_t> data;
        for (const auto& d : v->second.dim()) {
          if (!d.has_dim_value()) break;
          data.push_back(d.dim_value());
        }
        if (data.size() != static_cast<size_t>(v->second.dim_size())) continue;
        const bool scalar = info->second.shape.empty();
        if (scalar && data.size() != 1) continue;
        auto* t = g->add_initializer();
        t->set_name(in + "__stats_value_" + std::to_string(round));
        t->set_data_type(type);
        if (!scalar) t->add_dims(static_cast<int64_t>(data.size()));
        for (auto x : data)
          type == onnx::TensorProto::INT64 ? t->add_int64_data(x)
                                           : t->add_int32_data(static_cast<int32_t>(x));
        in = t->name();
        ++materialized;
      }
    }
    for (const auto& [name, shaped] : inferred)
      if (concrete || !table.count(name)) table[name] = shaped;
    if (!materialized || !missing(model.graph(), table)) return;
  }
}

ShapeTable shapesAt(const Model& model, const InputShapes* shapes) {
  ShapeTable table;
  addValueInfos(model.graph(), table, true);
  for (const auto& init : model.graph().initializer())
    table[init.name()] = {init.data_type(), {init.dims().begin(), init.dims().end()}};
  inferMissingShapes(model, table, shapes);
  return table;
}

std::optional<std::vector<int64_t>> lookup(const ShapeTable& table, const std::string& name) {
  auto it = name.empty() ? table.end() : table.find(name);
  if (it == table.end()) return std::nullopt;
  return it->second.shape;
}

int64_t product(const std::vector<int64_t>& v, size_t from = 0) {
  int64_t n = 1;
  for (size_t i = from; i < v.size(); ++i) n *= v[i];
  return n;
}

std::string input(const onnx::NodeProto& node, int i) {
  return i < node.input_size() ? node.input(i) : "";
}

// Same rule as Model::parameterCount: learnable floating-point (or quantized 8-bit) weights.
bool isWeightType(int type) {
  return type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::FLOAT16 ||
         type == onnx::TensorProto::DOUBLE || type == onnx::TensorProto::INT8 ||
         type == onnx::TensorProto::UINT8 || type == onnx::TensorProto::BFLOAT16;
}

int64_t elementBytes(int onnx_type) {
  try {
    return static_cast<int64_t>(elementSize(dataTypeFromOnnx(onnx_type)));
  } catch (const Error&) {
    return onnx_type == onnx::TensorProto::BFLOAT16 ? 2 : 0;
  }
}

int64_t initializerBytes(const onnx::TensorProto& init) {
  if (init.has_raw_data()) return static_cast<int64_t>(init.raw_data().size());
  int64_t n = 1;
  for (auto d : init.dims()) n *= d;
  const int64_t es = elementBytes(init.data_type());
  return es ? n * es : static_cast<int64_t>(init.ByteSizeLong());  // unusual types: close enough
}

int64_t macsOf(const ShapeTable& shapes, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
  if (!default_domain || node.output_size() < 1) return 0;
  auto out = lookup(shapes, node.output(0));
  if (op == "Conv" || op == "ConvInteger" || op == "QLinearConv") {
    // Weight [M, C/group, k...]: each output element sums over C/group * prod(k) products.
    auto w = lookup(shapes, input(node, op == "QLinearConv" ? 3 : 1));
    if (!out || !w || w->size() < 2) return 0;
    return product(*out) * product(*w, 1);
  }
  if (op == "ConvTranspose") {
    // Weight [C, M/group, k...]: every input element is scattered into M/group * prod(k) outputs.
    auto x = lookup(shapes, input(node, 0));
    auto w = lookup(shapes, input(node, 1));
    if (!x || !w || w->size() < 2) return 0;
    return product(*x) * product(*w, 1);
  }
  if (op == "Gemm") {
    auto a = lookup(shapes, input(node, 0));
    if (!out || !a || a->size() != 2) return 0;
    const int64_t k = attrInt(node, "transA", 0) ? (*a)[0] : (*a)[1];
    return product(*out) * k;
  }
  if (op == "MatMul" || op == "MatMulInteger" || op == "QLinearMatMul") {
    // Batched or not, each output element is a dot product over A's last dimension.
    auto a = lookup(shapes, input(node, 0));
    if (!out || !a || a->empty()) return 0;
    return product(*out) * a->back();
  }
  return 0;
}

}  // namespace

std::unordered_map<std::string, std::vector<int64_t>> tensorShapes(const Model& model,
                                                                   const InputShapes* shapes) {
  std::unordered_map<std::string, std::vector<int64_t>> out;
  for (auto& [name, shaped] : shapesAt(model, shapes)) out.emplace(name, std::move(shaped.shape));
  return out;
}

int64_t nodeMacs(const Model& model, const onnx::NodeProto& node, const InputShapes* shapes) {
  return macsOf(shapesAt(model, shapes), node);
}

std::string StatsAnalysis::key(const InputShapes* shapes) {
  // computeStats reads only the sizes (dims); null and empty both mean the declared sizes.
  if (!shapes || shapes->empty()) return {};
  return nlohmann::json(shapes->dims).dump();
}

int64_t serializedBytes(const Model& model) {
  return static_cast<int64_t>(model.proto().ByteSizeLong());
}

ModelStats computeStats(const Model& model, const InputShapes* input_shapes) {
  ModelStats stats;
  const auto& g = model.graph();
  std::unordered_set<std::string> statistics;  // BatchNormalization running mean/var
  for (const auto& node : g.node())
    if (node.op_type() == "BatchNormalization")
      for (int i = 3; i < node.input_size() && i < 5; ++i) statistics.insert(node.input(i));

  const ShapeTable shapes = shapesAt(model, input_shapes);
  std::unordered_map<std::string, std::vector<int64_t>> declared;  // shapes with -1 for dynamic dimensions
  for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
    for (const auto& vi : *list)
      if (vi.type().has_tensor_type() && vi.type().tensor_type().has_shape()) {
        std::vector<int64_t> shape;
        for (const auto& d : vi.type().tensor_type().shape().dim())
          shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
        declared[vi.name()] = shape;
      }
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
      if (isWeightType(init->data_type()) && !statistics.count(in))
        ns.params += product({init->dims().begin(), init->dims().end()});
    }
    for (const auto& out : node.output()) {
      std::vector<int64_t> shape;  // as declared/inferred, -1 where dynamic; empty when unknown
      if (auto vi = declared.find(out); vi != declared.end()) shape = vi->second;
      if (auto it = out.empty() ? shapes.end() : shapes.find(out); it != shapes.end()) {
        if (shape.empty() || (input_shapes && !input_shapes->empty())) shape = it->second.shape;
        ns.activation_bytes += product(it->second.shape) * elementBytes(it->second.elem_type);
      }
      ns.output_shapes.push_back(shape);
    }
    ns.macs = macsOf(shapes, node);
    stats.macs += ns.macs;
    stats.activation_bytes += ns.activation_bytes;
    stats.nodes.push_back(std::move(ns));
  }
  for (const auto& init : g.initializer()) stats.weight_bytes += initializerBytes(init);
  stats.params = model.parameterCount();
  stats.serialized_bytes = serializedBytes(model);
  stats.node_count = g.node_size();
  if (!model.sourcePath().empty()) {
    std::error_code ec;
    auto size = std::filesystem::file_size(model.sourcePath(), ec);
    if (!ec) stats.file_size_bytes = static_cast<int64_t>(size);
  }
  return stats;
}

nlohmann::json toJson(const NodeStats& s) {
  return {{"name", s.name},
          {"op_type", s.op_type},
          {"output_shapes", s.output_shapes},
          {"params", s.params},
          {"macs", s.macs},
          {"weight_bytes", s.weight_bytes},
          {"activation_bytes", s.activation_bytes}};
}

nlohmann::json toJson(const ModelStats& s) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : s.nodes) nodes.push_back(toJson(n));
  return {
      {"params", s.params},
      {"macs", s.macs},
      {"weight_bytes", s.weight_bytes},
      {"activation_bytes", s.activation_bytes},
      {"serialized_bytes", s.serialized_bytes},
      {"file_size_bytes", s.file_size_bytes ? nlohmann::json(*s.file_size_bytes) : nlohmann::json(nullptr)},
      {"node_count", s.node_count},
      {"nodes", nodes}};
}

}  // namespace edgetune
