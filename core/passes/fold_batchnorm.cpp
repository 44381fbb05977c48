// fold_batchnorm: inference BatchNormalization is a per-channel affine map, so it merges into the weights and
// bias of the Conv or Gemm before it: W' = W * s, b' = (b - mean) * s + beta with s = gamma / sqrt(var +
// eps).
#include <cmath>
#include <set>

#include "core/passes/cleanup_passes.h"
#include "core/passes/graph_edit.h"

namespace edgetune {

void to_json(nlohmann::json& j, const FoldBatchNormOptions& o) {
  j = {{"conv", o.conv}, {"gemm", o.gemm}};
}
void readOptions(OptionsReader& r, FoldBatchNormOptions& o) {
  r.read("conv", o.conv);
  r.read("gemm", o.gemm);
}

namespace {

// A float32 initializer the caller cannot override, as a Tensor.
std::optional<Tensor> constantFloat(const Model& model, const std::string& name) {
  if (name.empty() || !isConstantInitializer(model, name)) return std::nullopt;
  const auto* init = model.initializer(name);
  if (init->data_type() != onnx::TensorProto::FLOAT) return std::nullopt;
  return tensorFromProto(*init);
}

bool onlyReader(const Model& model, const std::string& tensor) {
  return model.consumers(tensor).size() == 1 && !model.isGraphOutput(tensor) &&
         !isCapturedBySubgraph(model, tensor);
}

// Writes `value` as the initializer feeding input `slot` of node `n`: in place when only that node reads it,
// otherwise under a fresh name so other readers keep the original.
void setInput(Model& model, int n, int slot, const std::string& base, const Tensor& value) {
  auto* node = model.graph().mutable_node(n);
  const std::string current = slot < node->input_size() ? node->input(slot) : std::string();
  std::string target;
  if (!current.empty() && model.isInitializer(current) && onlyReader(model, current)) {
    target = current;
    *model.mutableInitializer(current) = tensorToProto(current, value);
  } else {
    target = uniqueName(model, base);
    *model.graph().add_initializer() = tensorToProto(target, value);
  }
  while (node->input_size() <= slot) node->add_input("");
  node->set_input(slot, target);
  model.reindex();
}

void setFloatAttr(onnx::NodeProto& node, const std::string& name, float value) {
  for (auto& a : *node.mutable_attribute())
    if (a.name() == name) {
      a.set_f(value);
      return;
    }
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

}  // namespace

PassReport FoldBatchNormPass::apply(Model& model, PassContext& context) {
  PassReport report;
  report.pass_name = name();
  context.throwIfCancelled();
  model.reindex();
  std::vector<bool> remove(model.graph().node_size(), false);
  nlohmann::json folded = nlohmann::json::array();
  std::set<std::string> maybe_unused;  // statistics and replaced weights; removed below if nothing reads them
  for (int b = 0; b < model.graph().node_size(); ++b) {
    const onnx::NodeProto bn = model.graph().node(b);  // a copy: the graph is edited below
    if (bn.op_type() != "BatchNormalization" || !(bn.domain().empty() || bn.domain() == "ai.onnx")) continue;
    if (bn.input_size() != 5 || attrInt(bn, "training_mode", 0) != 0) continue;
    bool extra_outputs_used = false;
    for (int i = 1; i < bn.output_size(); ++i)
      extra_outputs_used = extra_outputs_used ||
                           (!bn.output(i).empty() &&
                            (!model.consumers(bn.output(i)).empty() || model.isGraphOutput(bn.output(i))));
    if (extra_outputs_used) continue;
    const std::string x = bn.input(0);
    const int p = model.producer(x);
    if (p < 0 || remove[p] || !onlyReader(model, x)) continue;
    const onnx::NodeProto producer = model.graph().node(p);
    const bool conv = options_.conv && producer.op_type() == "Conv";
    const bool gemm = options_.gemm && producer.op_type() == "Gemm";
    if ((!conv && !gemm) || !(producer.domain().empty() || producer.domain() == "ai.onnx")) continue;
    if (producer.output_size() != 1 || producer.input_size() < 2) continue;

    auto gamma = constantFloat(model, bn.input(1));
    auto beta = constantFloat(model, bn.input(2));
    auto mean = constantFloat(model, bn.input(3));
    auto var = constantFloat(model, bn.input(4));
    auto weight = constantFloat(model, producer.input(1));
    if (!gamma || !beta || !mean || !var || !weight) continue;
    const int64_t channels = gamma->numel();
    if (beta->numel() != channels || mean->numel() != channels || var->numel() != channels) continue;
    const std::string bias_name = producer.input_size() > 2 ? producer.input(2) : std::string();
    std::optional<Tensor> bias;
    if (!bias_name.empty()) {
      bias = constantFloat(model, bias_name);
      if (!bias) continue;
    }

    const double eps = attrFloat(bn, "epsilon", 1e-5f);
    std::vector<double> scale(channels), shift(channels);
    for (int64_t c = 0; c < channels; ++c) {
      scale[c] = gamma->values<float>()[c] / std::sqrt(static_cast<double>(var->values<float>()[c]) + eps);
      shift[c] = beta->values<float>()[c] - mean->values<float>()[c] * scale[c];
    }

    Tensor new_weight = *weight;
    Tensor new_bias(DataType::Float32, {channels});
    auto w = new_weight.values<float>();
    auto nb = new_bias.values<float>();
    if (conv) {
      // Conv weight [M, C/group, k...]: output channel m owns one contiguous block.
      const auto& shape = weight->shape();
      if (shape.size() < 3 || shape[0] != channels) continue;
      if (bias && bias->numel() != channels) continue;
      const int64_t block = weight->numel() / channels;
      for (int64_t m = 0; m < channels; ++m) {
        for (int64_t k = 0; k < block; ++k)
          w[m * block + k] = static_cast<float>(w[m * block + k] * scale[m]);
        const double b0 = bias ? bias->values<float>()[m] : 0.0;
        nb[m] = static_cast<float>(b0 * scale[m] + shift[m]);
      }
    } else {
      // Gemm: Y = alpha * A' B' + beta * C; output column n is row n of B (transB) or column n of B.
      const auto& shape = weight->shape();
      if (shape.size() != 2) continue;
      const bool trans_b = attrInt(producer, "transB", 0) != 0;
      const int64_t n_out = trans_b ? shape[0] : shape[1];
      const int64_t k_in = trans_b ? shape[1] : shape[0];
      if (n_out != channels) continue;
      if (bias && !(bias->numel() == 1 || (bias->numel() == channels && bias->shape().back() == channels)))
        continue;
      const double gemm_beta = attrFloat(producer, "beta", 1.0f);
      for (int64_t n = 0; n < channels; ++n) {
        for (int64_t k = 0; k < k_in; ++k) {
          float& v = trans_b ? w[n * k_in + k] : w[k * channels + n];
          v = static_cast<float>(v * scale[n]);
        }
        const double c0 = bias ? bias->values<float>()[bias->numel() == 1 ? 0 : n] * gemm_beta : 0.0;
        nb[n] = static_cast<float>(c0 * scale[n] + shift[n]);
      }
      setFloatAttr(*model.graph().mutable_node(p), "beta", 1.0f);
    }

    for (int i = 1; i < 5; ++i) maybe_unused.insert(bn.input(i));
    maybe_unused.insert(producer.input(1));
    if (!bias_name.empty()) maybe_unused.insert(bias_name);
    const std::string base = producer.name().empty() ? bn.output(0) : producer.name();
    setInput(model, p, 1, base + ".weight_bnfolded", new_weight);
    setInput(model, p, 2, base + ".bias_bnfolded", new_bias);
    // The producer now writes the BatchNormalization's output name, so its readers need no change.
    model.graph().mutable_node(p)->set_output(0, bn.output(0));
    model.reindex();
    remove[b] = true;
    folded.push_back({{"batchnorm", bn.name()}, {"into", producer.name()}});
    report.lines.push_back("folded " + describeNode(bn) + " into " + describeNode(producer));
  }
  report.nodes_removed = removeNodes(model, remove);
  report.details["folded"] = folded;
  if (report.nodes_removed) {
    std::set<std::string> unused;
    const auto used = usedTensorNames(model);
    for (const auto& name : maybe_unused)
      if (!used.count(name) && !model.isGraphOutput(name) && !isRuntimeInput(model, name))
        unused.insert(name);
    report.initializers_removed = removeInitializers(model, unused);
    finishGraphEdit(model, name());
  }
  return report;
}

}  // namespace edgetune
