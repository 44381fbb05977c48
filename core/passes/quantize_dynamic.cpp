// Dynamic INT8 (weights int8 ahead of time, activations quantized per run) and weight-only INT8.
// The dynamic pattern is the one ONNX Runtime's MatMulIntegerToFloat and DynamicQuantizeMatMul fusions look
// for: DynamicQuantizeLinear(A) -> MatMulInteger(A_q, B_q, A_zp, B_zp) -> Cast(float) -> Mul(Mul(A_s, B_s)).
#include <algorithm>
#include <cmath>

#include "core/passes/graph_edit.h"
#include "core/passes/quantize_passes.h"
#include "core/passes/quantize_static_internal.h"
#include "core/util/error.h"
#include "core/util/name_pattern.h"

namespace edgetune {
namespace {

struct NodeFilter {
  std::vector<NamePattern> names;
  std::set<std::string> ops;
  explicit NodeFilter(const QuantizeOptions& o)
      : names(compileNamePatterns(o.exclude_nodes, "quantize: option 'exclude_nodes'")),
        ops(o.exclude_ops.begin(), o.exclude_ops.end()) {}
  bool excluded(const onnx::NodeProto& n) const {
    return ops.count(n.op_type()) || anyNamePatternMatches(names, n.name());
  }
};

bool constFloat(const Model& m, const std::string& name) {
  return !name.empty() && isConstantInitializer(m, name) &&
         m.initializer(name)->data_type() == onnx::TensorProto::FLOAT;
}

Tensor transpose2d(const Tensor& t) {
  const int64_t r = t.shape()[0], c = t.shape()[1];
  Tensor out(DataType::Float32, {c, r});
  auto in = t.values<float>();
  auto o = out.values<float>();
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) o[static_cast<size_t>(j * r + i)] = in[static_cast<size_t>(i * c + j)];
  return out;
}

void setIntAttr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

std::string addInit(Model& m, const std::string& base, const Tensor& t) {
  const std::string name = uniqueName(m, base);
  *m.graph().add_initializer() = tensorToProto(name, t);
  m.reindex();
  return name;
}

void sortTopologically(Model& model) {
  model.reindex();
  const auto order = model.topologicalOrder();
  google::protobuf::RepeatedPtrField<onnx::NodeProto> sorted;
  for (int i : order) *sorted.Add() = model.graph().node(i);
  model.graph().mutable_node()->Swap(&sorted);
  model.reindex();
}

// Adds the new nodes, drops the float weights nothing reads any more, re-sorts and re-checks the graph.
void appendNodesAndFinish(Model& model, std::vector<onnx::NodeProto> added,
                          const std::set<std::string>& replaced, PassReport& report) {
  for (auto& n : added) *model.graph().add_node() = std::move(n);
  report.nodes_added = static_cast<int>(added.size());
  model.reindex();
  const auto used = usedTensorNames(model);
  std::set<std::string> unused;
  for (const auto& r : replaced)
    if (!used.count(r)) unused.insert(r);
  report.initializers_removed = removeInitializers(model, unused);
  sortTopologically(model);
  finishGraphEdit(model, "quantize");
}

}  // namespace

namespace {

constexpr const char* kNotCandidate = "-";

// Why dynamic INT8 leaves this node alone ("" = it quantizes it, kNotCandidate = nothing to say: no weights,
// no MACs). One predicate for the rewrite and its coverage report, so the report cannot drift from what was
// done.
std::string dynamicSkipReason(const Model& model, const onnx::NodeProto& n, const QuantizeOptions& options,
                              const NodeFilter& filter) {
  const std::string& op = n.op_type();
  const bool gemm = op == "Gemm";
  if (op != "MatMul" && !gemm) {
    if (op == "Conv" || op == "ConvTranspose") return "op not supported by dynamic INT8 (use --mode static)";
    if (!readsFloatWeights(model, n)) return kNotCandidate;
    // Embedding tables are most of an encoder's bytes but hold no MACs; say how to shrink them.
    if (op == "Gather")
      return "embedding table (dynamic INT8 quantizes MatMul/Gemm; --mode weight-only stores it int8)";
    return skip_reason::kOpNotSupported;
  }
  if (filter.excluded(n)) return skip_reason::kExcludedByUser;
  if (n.input_size() < 2 || !constFloat(model, n.input(1))) return skip_reason::kWeightNotConstant;
  if (model.initializer(n.input(1))->dims_size() != 2) return "weight is not 2-D";
  auto a_info = model.valueInfo(n.input(0));
  if (!a_info || a_info->type != DataType::Float32 || isConstantInitializer(model, n.input(0)))
    return "input is not a float32 activation";
  int64_t numel = 1;
  for (auto d : model.initializer(n.input(1))->dims()) numel *= d;
  if (numel < options.min_weight_elements) return "weight smaller than min_weight_elements";
  if (gemm) {
    if (attrInt(n, "transA", 0) != 0 || attrFloat(n, "alpha", 1.0f) != 1.0f)
      return "Gemm with transA or alpha != 1 (no integer kernel)";
    if (n.input_size() > 2 && !n.input(2).empty() && attrFloat(n, "beta", 1.0f) != 1.0f)
      return "Gemm beta != 1";
  }
  return "";
}

// The Add that adds a constant bias to `tensor` (a MatMul's output) when it is the tensor's only reader; the
// index of its constant operand goes to `bias_slot`. ORT folds such an Add into MatMulIntegerToFloat.
int biasAddOf(const Model& model, const std::string& tensor, int& bias_slot) {
  if (model.isGraphOutput(tensor)) return -1;
  const auto& readers = model.consumers(tensor);
  if (readers.size() != 1) return -1;
  const auto& add = model.graph().node(readers[0]);
  if (add.op_type() != "Add" || add.input_size() != 2) return -1;
  for (int k = 0; k < 2; ++k) {
    if (add.input(1 - k) != tensor || !constFloat(model, add.input(k))) continue;
    const auto* b = model.initializer(add.input(k));
    if (b->dims_size() < 1) return -1;
    for (int d = 0; d + 1 < b->dims_size(); ++d)
      if (b->dims(d) != 1) return -1;
    bias_slot = k;
    return readers[0];
  }
  return -1;
}

}  // namespace

QuantDecisions dynamicDecisions(const Model& model, const QuantizeOptions& options) {
  validate(options);
  const NodeFilter filter(options);
  QuantDecisions out;
  std::set<int> fused_bias;
  const auto& g = model.graph();
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    if (fused_bias.count(i)) continue;
    const std::string reason = dynamicSkipReason(model, n, options, filter);
    if (reason == kNotCandidate) continue;
    int slot = 0;
    const int bias = reason.empty() && n.op_type() == "MatMul" ? biasAddOf(model, n.output(0), slot) : -1;
    if (bias >= 0) fused_bias.insert(bias);
    out.push_back({quantNodeKey(n), reason});
  }
  // Bias Adds run inside the fused integer kernel; count their (bias) bytes as covered.
  for (int i : fused_bias) out.push_back({quantNodeKey(g.node(i)), ""});
  return out;
}

PassReport quantizeDynamic(Model& model, const QuantizeOptions& options) {
  validate(options);
  PassReport report;
  report.pass_name = "quantize";
  if (model.opsetVersion() < 13)
    throw Error(model.origin() + ": dynamic quantization needs opset 13 or newer");
  model.reindex();
  const NodeFilter filter(options);
  auto& g = model.graph();
  std::vector<bool> remove(static_cast<size_t>(g.node_size()), false);
  std::vector<onnx::NodeProto> added;
  std::set<std::string> replaced;
  int count = 0;
  const int original_nodes = g.node_size();
  for (int i = 0; i < original_nodes; ++i) {
    const onnx::NodeProto n = g.node(i);
    if (!dynamicSkipReason(model, n, options, filter).empty()) continue;
    const bool gemm = n.op_type() == "Gemm";
    Tensor w = tensorFromProto(*model.initializer(n.input(1)));
    std::string bias;
    if (gemm) {
      if (n.input_size() > 2 && !n.input(2).empty()) bias = n.input(2);
      if (attrInt(n, "transB", 0)) w = transpose2d(w);  // MatMulInteger wants B as [K, N]
    } else {
      // torch.onnx writes Linear as Add(bias, MatMul(x, W)); ORT's MatMulIntegerToFloat fusion only takes the
      // bias as the Add's second operand, so the operands are swapped (Add is commutative).
      int slot = 0;
      const int add = biasAddOf(model, n.output(0), slot);
      if (add >= 0 && slot == 0) {
        auto* a = g.mutable_node(add);
        const std::string b = a->input(0);
        a->set_input(0, a->input(1));
        a->set_input(1, b);
      }
    }
    const std::string base = n.name().empty() ? n.output(0) : n.name();
    // 7-bit weights with reduce_range: AVX2 without VNNI sums u8 x s8 pairs in 16 bits, which saturate.
    auto [q, scales] =
        quant_detail::quantizeWeight(w, options.per_channel ? 1 : -1, options.reduce_range, {});
    std::vector<int64_t> sshape =
        options.per_channel ? std::vector<int64_t>{w.shape()[1]} : std::vector<int64_t>{};
    const std::string wq = addInit(model, n.input(1) + "_quantized", q);
    const std::string ws = addInit(model, n.input(1) + "_scale", Tensor::from<float>(sshape, scales));
    Tensor zp(DataType::Int8, sshape);
    const std::string wz = addInit(model, n.input(1) + "_zero_point", zp);
    const std::string aq = uniqueName(model, base + "_input_quantized"), as = aq + "_scale",
                      az = aq + "_zero_point";
    const std::string yi = uniqueName(model, base + "_int32"), yf = yi + "_float",
                      s = uniqueName(model, base + "_scale");
    const std::string out = n.output(0);
    const std::string product = bias.empty() ? out : uniqueName(model, base + "_nobias");
    added.push_back(
        makeNode("DynamicQuantizeLinear", base + "_DynamicQuantizeLinear", {n.input(0)}, {aq, as, az}));
    added.push_back(makeNode("MatMulInteger", base + "_MatMulInteger", {aq, wq, az, wz}, {yi}));
    added.push_back(makeNode("Mul", base + "_scale_Mul", {as, ws}, {s}));
    auto cast = makeNode("Cast", base + "_Cast", {yi}, {yf});
    setIntAttr(cast, "to", onnx::TensorProto::FLOAT);
    added.push_back(cast);
    added.push_back(makeNode("Mul", base + "_output_Mul", {yf, s}, {product}));
    if (!bias.empty()) added.push_back(makeNode("Add", base + "_bias_Add", {product, bias}, {out}));
    remove[static_cast<size_t>(i)] = true;
    replaced.insert(n.input(1));
    report.lines.push_back("dynamic int8: " + describeNode(n));
    ++count;
  }
  if (count == 0) {
    report.lines.push_back("no MatMul/Gemm with a constant 2-D weight to quantize");
    return report;
  }
  report.nodes_removed = removeNodes(model, remove);
  appendNodesAndFinish(model, std::move(added), replaced, report);
  report.details["dynamic_nodes"] = count;
  return report;
}

namespace {

// Why weight-only INT8 leaves this node alone ("" = it stores the weight in `slot` as int8 along `axis`).
std::string weightOnlySkipReason(const Model& model, const onnx::NodeProto& n, const QuantizeOptions& options,
                                 const NodeFilter& filter, int& slot, int64_t& axis) {
  const std::string& op = n.op_type();
  slot = -1;
  axis = -1;
  if (op == "Conv" || op == "ConvTranspose")
    slot = 1, axis = op == "Conv" ? 0 : 1;
  else if (op == "Gemm")
    slot = 1, axis = attrInt(n, "transB", 0) ? 0 : 1;
  else if (op == "MatMul")
    slot = 1, axis = 1;
  else if (op == "Gather")
    slot = 0, axis = 0;
  if (slot < 0) return readsFloatWeights(model, n) ? skip_reason::kOpNotSupported : kNotCandidate;
  if (filter.excluded(n)) return skip_reason::kExcludedByUser;
  if (slot >= n.input_size() || !constFloat(model, n.input(slot)))
    return op == "Gather" ? kNotCandidate : skip_reason::kWeightNotConstant;
  const auto* init = model.initializer(n.input(slot));
  if (op == "MatMul" && init->dims_size() != 2) axis = -1;
  if (init->dims_size() < 1) return "weight is a scalar";
  int64_t numel = 1;
  for (auto d : init->dims()) numel *= d;
  if (numel < std::max<int64_t>(options.min_weight_elements, 16))
    return "weight smaller than min_weight_elements";
  if (!options.per_channel) axis = -1;
  return "";
}

}  // namespace

QuantDecisions weightOnlyDecisions(const Model& model, const QuantizeOptions& options) {
  validate(options);
  const NodeFilter filter(options);
  QuantDecisions out;
  for (const auto& n : model.graph().node()) {
    int slot = 0;
    int64_t axis = 0;
    const std::string reason = weightOnlySkipReason(model, n, options, filter, slot, axis);
    if (reason != kNotCandidate) out.push_back({quantNodeKey(n), reason});
  }
  return out;
}

PassReport quantizeWeightsOnly(Model& model, const QuantizeOptions& options) {
  validate(options);
  PassReport report;
  report.pass_name = "quantize";
  if (model.opsetVersion() < 13)
    throw Error(model.origin() + ": weight-only quantization needs opset 13 or newer");
  model.reindex();
  const NodeFilter filter(options);
  auto& g = model.graph();
  std::map<std::string, std::tuple<std::string, std::string, std::string, int64_t>>
      done;  // float -> q, s, zp, axis
  std::vector<onnx::NodeProto> added;
  std::set<std::string> replaced;
  for (int i = 0; i < g.node_size(); ++i) {
    auto* n = g.mutable_node(i);
    int slot = -1;
    int64_t axis = -1;
    if (!weightOnlySkipReason(model, *n, options, filter, slot, axis).empty()) continue;
    const std::string wname = n->input(slot);
    const auto* init = model.initializer(wname);
    if (!done.count(wname)) {
      // Weight-only INT8 is dequantized before any float kernel: all 8 bits, whatever the CPU.
      auto [q, scales] = quant_detail::quantizeWeight(tensorFromProto(*init), axis, false, {});
      std::vector<int64_t> sshape =
          axis >= 0 ? std::vector<int64_t>{static_cast<int64_t>(scales.size())} : std::vector<int64_t>{};
      done[wname] = {addInit(model, wname + "_quantized", q),
                     addInit(model, wname + "_scale", Tensor::from<float>(sshape, scales)),
                     addInit(model, wname + "_zero_point", Tensor(DataType::Int8, sshape)), axis};
      replaced.insert(wname);
      report.lines.push_back("weight-only int8: " + wname);
    }
    const auto& [q, s, z, ax] = done[wname];
    if (n->op_type() == "Gather" && attrInt(*n, "axis", 0) == 0) {
      // Look the rows up in the int8 table, then scale only them: dequantizing the whole table on every run
      // (an encoder's 8,000 x 256 word embeddings for 128 tokens) costs more than the lookup itself.
      const std::string ids = n->input(1), out = n->output(0);
      const std::string rows = uniqueName(model, wname + "_rows_" + std::to_string(added.size()));
      n->set_input(0, q);
      n->set_output(0, rows);
      if (ax < 0) {
        added.push_back(makeNode("DequantizeLinear", rows + "_DequantizeLinear", {rows, s, z}, {out}));
      } else {
        // One scale per row (zero points are 0: symmetric): gather the scales too and multiply.
        auto cast = makeNode("Cast", rows + "_Cast", {rows}, {rows + "_float"});
        setIntAttr(cast, "to", onnx::TensorProto::FLOAT);
        added.push_back(cast);
        added.push_back(makeNode("Gather", rows + "_ScaleGather", {s, ids}, {rows + "_scale"}));
        const std::string axes =
            addInit(model, rows + "_axes", Tensor::from<int64_t>({1}, std::vector<int64_t>{-1}));
        added.push_back(
            makeNode("Unsqueeze", rows + "_Unsqueeze", {rows + "_scale", axes}, {rows + "_scale_column"}));
        added.push_back(makeNode("Mul", rows + "_Mul", {rows + "_float", rows + "_scale_column"}, {out}));
      }
      continue;
    }
    const std::string out = uniqueName(model, wname + "_dequantized_" + std::to_string(added.size()));
    auto dq = makeNode("DequantizeLinear", out + "_DequantizeLinear", {q, s, z}, {out});
    if (ax >= 0) setIntAttr(dq, "axis", ax);
    added.push_back(dq);
    g.mutable_node(i)->set_input(slot, out);
  }
  appendNodesAndFinish(model, std::move(added), replaced, report);
  report.details["weights_quantized"] = done.size();
  return report;
}

}  // namespace edgetune
