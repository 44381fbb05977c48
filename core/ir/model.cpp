#include "core/ir/model.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <atomic>
#include <cstring>
#include <utility>

#include "core/ir/external_data.h"
#include "core/ir/model_validation.h"
#include "core/ir/shape_inference.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune {
namespace fs = std::filesystem;

namespace {

const std::vector<int> kNoConsumers;

}  // namespace

Model Model::load(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path.string() + ": no such file");
  std::string bytes = readFile(path, kDefaultReadLimitBytes);  // ONNX's 2 GB limit for one protobuf file
  if (bytes.empty()) throw Error(path.string() + ": file is empty, not an ONNX model");
  onnx::ModelProto proto;
  if (!proto.ParseFromString(bytes))
    throw Error(path.string() + ": not a valid ONNX model (the protobuf data is corrupt or truncated)");
  if (!proto.has_graph() || proto.ir_version() <= 0)
    throw Error(path.string() + ": not an ONNX model (no graph or IR version in the file)");
  resolveExternalData(proto, path);
  Model model = fromProto(std::move(proto), path.string());
  model.source_path_ = fs::absolute(path, ec);
  return model;
}

Model Model::fromProto(onnx::ModelProto proto, std::string origin) {
  Model model;
  model.proto_ = std::move(proto);
  model.origin_ = std::move(origin);
  // First: the opset conversion below already runs ONNX shape inference, which trusts sizes and attributes.
  validateModelProto(model.proto_, model.origin_);
  // Newer exports (opset 18+, IR 9+) and very old ones are converted first, or refused with one message.
  model.conversion_ = convertToReadableOpset(model.proto_, model.origin_);
  int64_t opset = model.opsetVersion();
  auto range = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map().at(onnx::ONNX_DOMAIN);
  if (opset < 7 || opset > range.second)
    throw Error(model.origin_ + ": ONNX opset " + std::to_string(opset) +
                " is not supported (supported: 7.." + std::to_string(range.second) + ")");
  model.check();
  model.inferShapes();
  return model;
}

void Model::check() const {
  try {
    onnx::checker::check_model(proto_);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    // The checker's first line carries the useful part; drop its "==> Context:" tails.
    if (auto pos = msg.find("\n\n==> Context:"); pos != std::string::npos) msg.resize(pos);
    throw Error(origin_ + ": invalid ONNX model: " + msg);
  }
}

void Model::inferShapes(std::unordered_map<std::string, onnx::TensorShapeProto>* generated) {
  proto_.mutable_graph()->clear_value_info();
  // Outputs keep their declared shapes; inference fills everything between.
  try {
    inferShapesSafely(proto_, generated);
  } catch (const std::exception& e) {
    throw Error(origin_ + ": shape inference failed: " + e.what());
  }
  // Inference ends every edit (finishGraphEdit, fromProto); it rewrites only value_info, but the graph it
  // ran on is the one the index must describe.
  reindex();
}

int64_t Model::opsetVersion() const {
  for (const auto& op : proto_.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") return op.version();
  return 0;
}

std::string Model::serialize() const {
  if (proto_.ByteSizeLong() > (size_t{2} << 30) - 1)
    throw Error(origin_ + ": model is larger than 2 GB, which a single ONNX file cannot hold");
  std::string bytes;
  if (!proto_.SerializeToString(&bytes)) throw Error(origin_ + ": could not serialize the model");
  return bytes;
}

void Model::save(const fs::path& path) const {
  if (!source_path_.empty() && samePath(path, source_path_))
    throw Error(path.string() + ": refusing to overwrite the input model; choose another output path");
  check();
  writeFileAtomic(path, serialize());
}

Model::Model(const Model& other)
    : proto_(other.proto_),
      origin_(other.origin_),
      source_path_(other.source_path_),
      conversion_(other.conversion_) {
  reindex();
}

Model::Model(Model&& other) noexcept
    : proto_(std::move(other.proto_)),
      origin_(std::move(other.origin_)),
      source_path_(std::move(other.source_path_)),
      conversion_(std::move(other.conversion_)),
      revision_(std::exchange(other.revision_, 0)),
      producer_(std::move(other.producer_)),
      consumers_(std::move(other.consumers_)),
      initializer_index_(std::move(other.initializer_index_)) {
  other.clearIndex();
}

Model& Model::operator=(const Model& other) {
  if (this != &other) {
    proto_ = other.proto_;
    origin_ = other.origin_;
    source_path_ = other.source_path_;
    conversion_ = other.conversion_;
    reindex();
  }
  return *this;
}

Model& Model::operator=(Model&& other) noexcept {
  if (this != &other) {
    proto_ = std::move(other.proto_);
    origin_ = std::move(other.origin_);
    source_path_ = std::move(other.source_path_);
    conversion_ = std::move(other.conversion_);
    revision_ = std::exchange(other.revision_, 0);
    producer_ = std::move(other.producer_);
    consumers_ = std::move(other.consumers_);
    initializer_index_ = std::move(other.initializer_index_);
    other.clearIndex();
  }
  return *this;
}

void Model::clearIndex() noexcept {
  revision_ = 0;
  producer_.clear();
  consumers_.clear();
  initializer_index_.clear();
}

void Model::reindex() {
  // Process-wide, so a revision names one graph state of one model: a cache keyed by it cannot confuse two
  // models, nor a model before and after an edit.
  static std::atomic<uint64_t> next_revision{1};
  producer_.clear();
  consumers_.clear();
  initializer_index_.clear();
  const auto& g = proto_.graph();
  for (int i = 0; i < g.node_size(); ++i) {
    for (const auto& out : g.node(i).output())
      if (!out.empty()) producer_[out] = i;
    for (const auto& in : g.node(i).input())
      if (!in.empty()) consumers_[in].push_back(i);
  }
  for (int i = 0; i < g.initializer_size(); ++i) initializer_index_[g.initializer(i).name()] = i;
  revision_ = next_revision.fetch_add(1, std::memory_order_relaxed);
}

int Model::producer(const std::string& tensor) const {
  auto it = producer_.find(tensor);
  return it == producer_.end() ? -1 : it->second;
}

const std::vector<int>& Model::consumers(const std::string& tensor) const {
  auto it = consumers_.find(tensor);
  return it == consumers_.end() ? kNoConsumers : it->second;
}

bool Model::isGraphOutput(const std::string& tensor) const {
  for (const auto& out : proto_.graph().output())
    if (out.name() == tensor) return true;
  return false;
}

std::vector<int> Model::topologicalOrder() const {
  const auto& g = proto_.graph();
  std::vector<int> pending(g.node_size(), 0);
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& in : g.node(i).input())
      if (!in.empty() && producer_.count(in)) ++pending[i];
  std::vector<int> order, ready;
  for (int i = g.node_size() - 1; i >= 0; --i)
    if (pending[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    int n = ready.back();
    ready.pop_back();
    order.push_back(n);
    for (const auto& out : g.node(n).output()) {
      auto it = consumers_.find(out);
      if (it == consumers_.end()) continue;
      for (int c : it->second)
        if (--pending[c] == 0) ready.push_back(c);
    }
  }
  if (static_cast<int>(order.size()) != g.node_size())
    throw Error(origin_ + ": the graph has a cycle; it cannot be ordered");
  return order;
}

const onnx::TensorProto* Model::initializer(const std::string& name) const {
  auto it = initializer_index_.find(name);
  return it == initializer_index_.end() ? nullptr : &proto_.graph().initializer(it->second);
}

onnx::TensorProto* Model::mutableInitializer(const std::string& name) {
  auto it = initializer_index_.find(name);
  return it == initializer_index_.end() ? nullptr : proto_.mutable_graph()->mutable_initializer(it->second);
}

std::vector<ValueInfo> Model::inputs() const {
  std::vector<ValueInfo> result;
  for (const auto& in : proto_.graph().input())
    if (!isInitializer(in.name())) result.push_back(valueInfoFromProto(in));
  return result;
}

std::vector<ValueInfo> Model::outputs() const {
  std::vector<ValueInfo> result;
  for (const auto& out : proto_.graph().output()) result.push_back(valueInfoFromProto(out));
  return result;
}

std::optional<ValueInfo> Model::valueInfo(const std::string& tensor) const {
  const auto& g = proto_.graph();
  for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
    for (const auto& vi : *list)
      if (vi.name() == tensor) return valueInfoFromProto(vi);
  if (const auto* init = initializer(tensor)) {
    ValueInfo info;
    info.name = tensor;
    info.type = dataTypeFromOnnx(init->data_type());
    info.shape.assign(init->dims().begin(), init->dims().end());
    info.has_shape = true;
    return info;
  }
  return std::nullopt;
}

int64_t Model::parameterCount() const {
  // Parameters are the learnable floating-point weights, as frameworks count them: BatchNormalization's
  // running mean/variance (inputs 3 and 4) are statistics, and integer initializers (shapes, indices) are not
  // weights.
  std::unordered_map<std::string, bool> statistics;
  for (const auto& node : proto_.graph().node())
    if (node.op_type() == "BatchNormalization")
      for (int i = 3; i < node.input_size() && i < 5; ++i) statistics[node.input(i)] = true;
  int64_t total = 0;
  for (const auto& init : proto_.graph().initializer()) {
    if (statistics.count(init.name())) continue;
    const int type = init.data_type();
    const bool is_weight = type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::FLOAT16 ||
                           type == onnx::TensorProto::DOUBLE || type == onnx::TensorProto::INT8 ||
                           type == onnx::TensorProto::UINT8 || type == onnx::TensorProto::BFLOAT16;
    if (!is_weight) continue;
    int64_t n = 1;
    for (auto d : init.dims()) n *= d;
    total += n;
  }
  return total;
}

Tensor tensorFromProto(const onnx::TensorProto& proto) {
  const std::string what = "initializer '" + proto.name() + "'";
  // The sizes are checked before anything is allocated: a proto edited after loading is not validated.
  const TensorExtent extent = tensorExtent(proto, what);
  DataType type = dataTypeFromOnnx(proto.data_type());
  std::vector<int64_t> shape(proto.dims().begin(), proto.dims().end());
  const auto bytes = static_cast<size_t>(extent.byte_size);
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    throw Error(what + " still refers to external data");
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != bytes)
      throw Error(what + " has " + std::to_string(proto.raw_data().size()) + " bytes of data, its shape " +
                  shapeToString(shape) + " needs " + std::to_string(bytes));
    Tensor t(type, shape);
    if (bytes > 0) std::memcpy(t.raw(), proto.raw_data().data(), bytes);  // an empty tensor has no buffer
    return t;
  }
  const int64_t n = extent.element_count;
  const int64_t have = type == DataType::Float32   ? proto.float_data_size()
                       : type == DataType::Float64 ? proto.double_data_size()
                       : type == DataType::Int64   ? proto.int64_data_size()
                                                   : proto.int32_data_size();
  if (have != n)
    throw Error(what + " has " + std::to_string(have) + " values, its shape " + shapeToString(shape) +
                " needs " + std::to_string(n));
  Tensor t(type, shape);
  if (n == 0) return t;  // no buffer to copy into (memcpy from or to null is undefined even for 0 bytes)
  switch (type) {
    case DataType::Float32: {
      std::memcpy(t.raw(), proto.float_data().data(), bytes);
      break;
    }
    case DataType::Float64: {
      std::memcpy(t.raw(), proto.double_data().data(), bytes);
      break;
    }
    case DataType::Int64: {
      std::memcpy(t.raw(), proto.int64_data().data(), bytes);
      break;
    }
    default: {
      // int32_data carries every narrower integer type, bool and float16 (as bit patterns).
      auto* dst = static_cast<std::byte*>(t.raw());
      const size_t es = elementSize(type);
      for (int64_t i = 0; i < n; ++i) {
        int32_t v = proto.int32_data(static_cast<int>(i));
        std::memcpy(dst + i * es, &v, es);  // little-endian: the low bytes hold the value
      }
    }
  }
  return t;
}

onnx::TensorProto tensorToProto(const std::string& name, const Tensor& tensor) {
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(static_cast<int>(tensor.type()));
  for (int64_t d : tensor.shape()) proto.add_dims(d);
  proto.set_raw_data(std::string(static_cast<const char*>(tensor.raw()), tensor.byteSize()));
  return proto;
}

ValueInfo valueInfoFromProto(const onnx::ValueInfoProto& vi) {
  ValueInfo info;
  info.name = vi.name();
  if (!vi.type().has_tensor_type()) return info;
  const auto& tt = vi.type().tensor_type();
  if (tt.elem_type() != 0) info.type = dataTypeFromOnnx(tt.elem_type());
  if (tt.has_shape()) {
    info.has_shape = true;
    for (const auto& d : tt.shape().dim()) {
      info.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
      info.dim_names.push_back(d.has_dim_param() ? d.dim_param() : std::string());
    }
  }
  return info;
}

namespace {
const onnx::AttributeProto* findAttr(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
}  // namespace

int64_t attrInt(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  const auto* a = findAttr(node, name);
  return a ? a->i() : fallback;
}
float attrFloat(const onnx::NodeProto& node, const std::string& name, float fallback) {
  const auto* a = findAttr(node, name);
  return a ? a->f() : fallback;
}
std::vector<int64_t> attrInts(const onnx::NodeProto& node, const std::string& name,
                              std::vector<int64_t> fallback) {
  const auto* a = findAttr(node, name);
  if (!a) return fallback;
  return {a->ints().begin(), a->ints().end()};
}
std::string attrString(const onnx::NodeProto& node, const std::string& name, std::string fallback) {
  const auto* a = findAttr(node, name);
  return a ? a->s() : fallback;
}

std::string describeNode(const onnx::NodeProto& node) {
  std::string name =
      node.name().empty() ? (node.output_size() ? node.output(0) : std::string("?")) : node.name();
  return node.op_type() + " '" + name + "'";
}

}  // namespace edgetune
