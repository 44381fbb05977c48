// fold_constants: Constant nodes become initializers, and nodes computing only from constants are evaluated
// once (by an Executor on a small extracted model) and replaced by their results.
#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/passes/cleanup_passes.h"
#include "core/passes/graph_edit.h"
#include "core/util/error.h"

namespace edgetune {

void to_json(nlohmann::json& j, const FoldConstantsOptions& o) {
  j = {{"max_folded_bytes", o.max_folded_bytes},
       {"constant_nodes", o.constant_nodes},
       {"subgraphs", o.subgraphs}};
}
void readOptions(OptionsReader& r, FoldConstantsOptions& o) {
  r.read("max_folded_bytes", o.max_folded_bytes);
  r.read("constant_nodes", o.constant_nodes);
  r.read("subgraphs", o.subgraphs);
}

namespace {

// Ops whose result must not be frozen: random draws change every run; Identity/Dropout are remove_identity's
// job (folding Identity(weight) would only copy the weight).
const std::unordered_set<std::string> kNeverFold = {
    "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
    "Bernoulli",    "Dropout",       "Identity",         "Constant",          "If",
    "Loop",         "Scan"};

// How quantized and half-precision models store their weights: INT8 behind DequantizeLinear, FP16/BF16 behind
// a Cast to float. Both read only constants, yet folding them would write the weights back as FP32 and undo
// the compression (and ONNX Runtime fuses DequantizeLinear into its integer kernels, which needs it kept).
bool storesCompressedWeights(const Model& model, const onnx::NodeProto& node) {
  if (node.op_type() == "DequantizeLinear") return true;
  if (node.op_type() != "Cast" || node.input_size() < 1) return false;
  const auto* in = model.initializer(node.input(0));
  if (!in) return false;
  const int to = static_cast<int>(attrInt(node, "to", 0));
  const bool narrow =
      in->data_type() == onnx::TensorProto::FLOAT16 || in->data_type() == onnx::TensorProto::BFLOAT16 ||
      in->data_type() == onnx::TensorProto::INT8 || in->data_type() == onnx::TensorProto::UINT8;
  return narrow && (to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE);
}

// Constant's attribute as an initializer named after its output; nullopt for kinds we leave alone (strings,
// sparse tensors).
std::optional<onnx::TensorProto> constantValue(const onnx::NodeProto& node) {
  if (node.attribute_size() != 1 || node.output_size() != 1) return std::nullopt;
  const auto& a = node.attribute(0);
  onnx::TensorProto t;
  if (a.name() == "value" && a.has_t()) {
    t = a.t();
    if (t.data_type() == onnx::TensorProto::STRING || t.data_location() == onnx::TensorProto::EXTERNAL)
      return std::nullopt;
  } else if (a.name() == "value_float") {
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_float_data(a.f());
  } else if (a.name() == "value_floats") {
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_dims(a.floats_size());
    for (float f : a.floats()) t.add_float_data(f);
  } else if (a.name() == "value_int") {
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_int64_data(a.i());
  } else if (a.name() == "value_ints") {
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_dims(a.ints_size());
    for (auto v : a.ints()) t.add_int64_data(v);
  } else {
    return std::nullopt;
  }
  t.set_name(node.output(0));
  return t;
}

// The inferred type of a value, if it is a tensor of known rank and of a type EdgeTune's Tensor can hold.
const onnx::ValueInfoProto* tensorValueInfo(const Model& model, const std::string& name) {
  const auto& g = model.graph();
  for (const auto* list : {&g.value_info(), &g.output()})
    for (const auto& vi : *list)
      if (vi.name() == name) {
        // The extracted model declares these as outputs, and the checker wants a shape (rank) for them.
        if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return nullptr;
        try {
          dataTypeFromOnnx(vi.type().tensor_type().elem_type());
        } catch (const Error&) {
          return nullptr;
        }
        return &vi;
      }
  return nullptr;
}

// Bytes of a value whose inferred shape is fully static; -1 when unknown.
int64_t staticBytes(const onnx::ValueInfoProto& vi) {
  const auto& tt = vi.type().tensor_type();
  if (!tt.has_shape()) return -1;
  int64_t n = 1;
  for (const auto& d : tt.shape().dim()) {
    if (!d.has_dim_value()) return -1;
    n *= d.dim_value();
  }
  return n * static_cast<int64_t>(elementSize(dataTypeFromOnnx(tt.elem_type())));
}

int foldConstantNodes(Model& model, PassReport& report) {
  std::vector<bool> remove(model.graph().node_size(), false);
  std::vector<onnx::TensorProto> added;
  for (int i = 0; i < model.graph().node_size(); ++i) {
    const auto& node = model.graph().node(i);
    if (node.op_type() != "Constant" || !isDefaultDomain(node)) continue;
    if (node.output_size() != 1 || model.isGraphOutput(node.output(0))) continue;
    if (model.isInitializer(node.output(0))) continue;
    auto value = constantValue(node);
    if (!value) continue;
    added.push_back(std::move(*value));
    remove[i] = true;
  }
  for (auto& t : added) *model.graph().add_initializer() = std::move(t);
  int removed = removeNodes(model, remove);
  if (removed)
    report.lines.push_back("turned " + std::to_string(removed) + " Constant nodes into initializers");
  report.details["constant_nodes_to_initializers"] = removed;
  return removed;
}

struct FoldPlan {
  std::vector<bool> foldable;
  std::vector<std::string> frontier;  // folded values that unfolded nodes (or nothing yet) still read
};

FoldPlan planFold(const Model& model, const std::set<int>& excluded, int64_t max_bytes) {
  const auto& g = model.graph();
  FoldPlan plan;
  plan.foldable.assign(g.node_size(), false);
  std::unordered_set<std::string> constant;
  for (const auto& init : g.initializer())
    if (!isRuntimeInput(model, init.name())) constant.insert(init.name());
  for (int n : model.topologicalOrder()) {
    const auto& node = g.node(n);
    if (excluded.count(n) || !isDefaultDomain(node) || kNeverFold.count(node.op_type())) continue;
    if (storesCompressedWeights(model, node)) continue;
    if (!subgraphCaptures(node).empty()) continue;
    bool all_constant = true, any_input = false;
    for (const auto& in : node.input()) {
      if (in.empty()) continue;
      any_input = true;
      all_constant = all_constant && constant.count(in);
    }
    if (!any_input || !all_constant) continue;
    bool ok = true;
    for (const auto& out : node.output()) {
      if (out.empty()) continue;
      const auto* vi = tensorValueInfo(model, out);
      if (model.isGraphOutput(out) || !vi)
        ok = false;
      else if (int64_t bytes = staticBytes(*vi); bytes > max_bytes)
        ok = false;
    }
    if (!ok) continue;
    plan.foldable[n] = true;
    for (const auto& out : node.output())
      if (!out.empty()) constant.insert(out);
  }
  // Values of folded nodes that the rest of the graph reads become initializers.
  std::set<std::string> frontier;
  for (int n = 0; n < g.node_size(); ++n) {
    if (plan.foldable[n]) continue;
    auto reads = subgraphCaptures(g.node(n));
    for (const auto& in : g.node(n).input()) reads.insert(in);
    for (const auto& in : reads) {
      int p = in.empty() ? -1 : model.producer(in);
      if (p >= 0 && plan.foldable[p]) frontier.insert(in);
    }
  }
  plan.frontier.assign(frontier.begin(), frontier.end());
  return plan;
}

// A model holding just the folded nodes and the constants they read, whose outputs are the frontier.
Model extractConstantModel(const Model& model, const FoldPlan& plan) {
  onnx::ModelProto proto;
  proto.set_ir_version(model.proto().ir_version());
  *proto.mutable_opset_import() = model.proto().opset_import();
  auto* g = proto.mutable_graph();
  g->set_name("constant_subgraph");
  std::set<std::string> reads;
  for (int n : model.topologicalOrder()) {
    if (!plan.foldable[n]) continue;
    *g->add_node() = model.graph().node(n);
    for (const auto& in : model.graph().node(n).input())
      if (!in.empty() && model.isInitializer(in)) reads.insert(in);
  }
  for (const auto& name : reads) *g->add_initializer() = *model.initializer(name);
  for (const auto& name : plan.frontier) {
    auto* out = g->add_output();
    out->set_name(name);
    *out->mutable_type() = tensorValueInfo(model, name)->type();
  }
  return Model::fromProto(std::move(proto), model.origin() + " (constant subgraph)");
}

int foldSubgraphs(Model& model, PassContext& context, int64_t max_bytes, PassReport& report) {
  std::set<int> excluded;
  // A result may turn out too large only once computed (unknown static shape): exclude its producer, retry.
  for (int attempt = 0; attempt < 4; ++attempt) {
    context.throwIfCancelled();
    model.reindex();
    FoldPlan plan = planFold(model, excluded, max_bytes);
    if (plan.frontier.empty()) return 0;
    Model constant_model = extractConstantModel(model, plan);
    auto executor = context.makeExecutor(constant_model);
    std::vector<Tensor> values = executor->run({}, plan.frontier);
    bool too_large = false;
    for (size_t i = 0; i < values.size(); ++i)
      if (static_cast<int64_t>(values[i].byteSize()) > max_bytes) {
        excluded.insert(model.producer(plan.frontier[i]));
        too_large = true;
      }
    if (too_large) continue;

    std::set<std::string> read_by_folded;
    nlohmann::json folded = nlohmann::json::array();
    for (int n = 0; n < model.graph().node_size(); ++n) {
      if (!plan.foldable[n]) continue;
      folded.push_back(describeNode(model.graph().node(n)));
      for (const auto& in : model.graph().node(n).input())
        if (model.isInitializer(in)) read_by_folded.insert(in);
    }
    for (size_t i = 0; i < values.size(); ++i)
      *model.graph().add_initializer() = tensorToProto(plan.frontier[i], values[i]);
    int removed = removeNodes(model, plan.foldable);
    std::set<std::string> unused;
    const auto used = usedTensorNames(model);
    for (const auto& name : read_by_folded)
      if (!used.count(name) && !model.isGraphOutput(name)) unused.insert(name);
    report.initializers_removed += removeInitializers(model, unused);
    report.lines.push_back("evaluated " + std::to_string(removed) + " constant nodes into " +
                           std::to_string(values.size()) + " initializers");
    report.details["folded"] = folded;
    return removed;
  }
  return 0;
}

}  // namespace

PassReport FoldConstantsPass::apply(Model& model, PassContext& context) {
  PassReport report;
  report.pass_name = name();
  context.throwIfCancelled();
  model.reindex();
  if (model.proto().ir_version() < 4) {
    // Before IR 4 every initializer must also be a graph input, i.e. overridable: nothing is truly constant.
    report.details["skipped"] = "IR version " + std::to_string(model.proto().ir_version()) +
                                " models cannot hold constants that are not inputs";
    return report;
  }
  int removed = 0;
  if (options_.constant_nodes) removed += foldConstantNodes(model, report);
  if (removed) finishGraphEdit(model, name());  // folding below plans with fresh inferred types
  if (options_.subgraphs) {
    int folded = foldSubgraphs(model, context, options_.max_folded_bytes, report);
    removed += folded;
    if (folded) finishGraphEdit(model, name());
  }
  report.nodes_removed = removed;
  return report;
}

}  // namespace edgetune
