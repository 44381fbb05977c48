// Static INT8 quantization: Q/DQ placement that ONNX Runtime's QDQ transformers fuse into integer kernels.
// The rules we follow (ORT's qdq_selectors): every input of a fused node comes from its own DequantizeLinear
// (one DQ per consumer), its single output goes only into a QuantizeLinear, it does not produce a graph
// output, activation input and output types match, Conv/Gemm biases are int32 with scale = s_x * s_w and zero
// point 0. Relu/Clip after a quantized node are dropped when the output's zero point equals the type's
// minimum (the clamp of QuantizeLinear then does the Relu). Reshape-like ops and MaxPool reuse their input's
// scale and zero point so ORT drops their Q/DQ and runs them on int8 data.
#include <algorithm>
#include <cmath>
#include <regex>

#include "core/analysis/coverage.h"
#include "core/passes/graph_edit.h"
#include "core/passes/quantize_passes.h"
#include "core/util/error.h"

namespace edgetune {

// ---------------------------------------------------------------------------------------------------------
QuantParams activationParams(QuantRange range, DataType type, bool symmetric) {
  const bool is_unsigned = type == DataType::UInt8;
  const int qmin = is_unsigned ? 0 : -128, qmax = is_unsigned ? 255 : 127;
  double lo = std::min(0.0f, range.min), hi = std::max(0.0f, range.max);
  QuantParams p;
  if (symmetric) {
    const double abs_max = std::max(std::fabs(lo), std::fabs(hi));
    if (abs_max == 0) return {1.0f, is_unsigned ? 128 : 0};
    p.scale = static_cast<float>(is_unsigned ? 2 * abs_max / 255.0 : abs_max / 127.0);
    p.zero_point = is_unsigned ? 128 : 0;
    return p;
  }
  if (hi - lo == 0) return {1.0f, qmin < 0 && !is_unsigned ? 0 : 0};
  p.scale = static_cast<float>((hi - lo) / (qmax - qmin));
  p.zero_point = static_cast<int32_t>(std::clamp<long>(std::lround(qmin - lo / p.scale), qmin, qmax));
  return p;
}

QuantParams weightParams(float abs_max, bool reduce_range) {
  const float qmax = reduce_range ? 63.0f : 127.0f;
  if (!(abs_max > 0)) return {1.0f, 0};
  return {abs_max / qmax, 0};
}

// ---------------------------------------------------------------------------------------------------------
namespace {

// Ops ORT's QDQ transformer replaces by an integer kernel (QLinearConv, QGemm / MatMulIntegerToFloat,
// QLinearMatMul, QLinearAdd/Mul, QLinear(Global)AveragePool, QLinearConcat, QLinearSigmoid,
// QLinearLeakyRelu). Sigmoid matters for SiLU (x * Sigmoid(x)) and Squeeze-Excite gates: left float, each one
// is a DQ -> float -> Q round trip between two integer kernels.
const std::set<std::string> kTargetOps = {
    "Conv",   "Gemm",    "MatMul",   "Add", "Mul", "AveragePool", "GlobalAveragePool",
    "Concat", "Sigmoid", "LeakyRelu"};
// Ops ORT runs directly on int8 when the Q after them repeats the DQ before them (DropQDQNodes rules); Slice
// is how torch.onnx writes chunk/split (ShuffleNet's channel split).
const std::set<std::string> kPassThroughOps = {"MaxPool",   "Reshape", "Flatten", "Transpose", "Squeeze",
                                               "Unsqueeze", "Slice",   "Expand",  "Tile",      "Resize"};

bool isFloat(const Model& model, const std::string& tensor) {
  auto info = model.valueInfo(tensor);
  return info && info->type == DataType::Float32;
}

bool isConstFloat(const Model& model, const std::string& name) {
  return !name.empty() && isConstantInitializer(model, name) &&
         model.initializer(name)->data_type() == onnx::TensorProto::FLOAT;
}

bool isActivation(const Model& model, const std::string& name) {
  return !name.empty() && !isConstantInitializer(model, name) && isFloat(model, name);
}

std::optional<float> constScalar(const Model& model, const std::string& name) {
  if (name.empty() || !isConstantInitializer(model, name)) return std::nullopt;
  Tensor t = tensorFromProto(*model.initializer(name));
  if (t.type() != DataType::Float32 || t.numel() != 1) return std::nullopt;
  return t.values<float>()[0];
}

struct Exclusions {
  std::vector<std::regex> names;
  std::set<std::string> ops;
  const std::set<std::string>* keep_float = nullptr;
  const std::set<std::string>* only = nullptr;
  // Excluded by the user's patterns and op types only (mixed-precision choices aside).
  bool userExcluded(const onnx::NodeProto& n) const {
    if (ops.count(n.op_type())) return true;
    return std::any_of(names.begin(), names.end(),
                       [&](const std::regex& r) { return std::regex_search(n.name(), r); });
  }
  bool excluded(const onnx::NodeProto& n) const {
    if (ops.count(n.op_type())) return true;
    if (keep_float && keep_float->count(n.name())) return true;
    if (only && !only->count(n.name())) return true;
    return std::any_of(names.begin(), names.end(),
                       [&](const std::regex& r) { return std::regex_search(n.name(), r); });
  }
};

Exclusions makeExclusions(const QuantizeOptions& o, const std::set<std::string>* keep_float,
                          const std::set<std::string>* only) {
  Exclusions e;
  for (const auto& pattern : o.exclude_nodes) {
    try {
      e.names.emplace_back(pattern);
    } catch (const std::regex_error& err) {
      throw Error("quantize: exclude pattern '" + pattern +
                  "' is not a valid regular expression: " + err.what());
    }
  }
  e.ops.insert(o.exclude_ops.begin(), o.exclude_ops.end());
  e.keep_float = keep_float;
  e.only = only;
  return e;
}

// Why ORT could not fuse this node into an integer kernel once its inputs/outputs are quantized (static
// properties only); empty when it can. The words end up in the coverage report, so they name the real
// obstacle.
std::string notQuantizableReason(const Model& model, const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  if (!kTargetOps.count(op)) return skip_reason::kOpNotSupported;
  if (n.output_size() != 1 || !isFloat(model, n.output(0))) return "output is not a float32 tensor";
  auto in = [&](int i) { return i < n.input_size() ? n.input(i) : std::string(); };
  const char* kInputNotActivation = "input is not a float32 activation";
  if (op == "Conv") {
    if (!isActivation(model, in(0))) return kInputNotActivation;
    if (!isConstFloat(model, in(1))) return skip_reason::kWeightNotConstant;
    return in(2).empty() || isConstFloat(model, in(2)) ? "" : "bias not constant";
  }
  if (op == "Gemm") {
    if (!isActivation(model, in(0))) return kInputNotActivation;
    if (!isConstFloat(model, in(1))) return skip_reason::kWeightNotConstant;
    if (attrInt(n, "transA", 0) != 0 || attrFloat(n, "alpha", 1.0f) != 1.0f)
      return "Gemm with transA or alpha != 1 (no integer kernel)";
    if (model.initializer(in(1))->dims_size() != 2) return "weight is not 2-D";
    if (!in(2).empty()) {
      if (!isConstFloat(model, in(2)) || attrFloat(n, "beta", 1.0f) != 1.0f)
        return "Gemm bias not constant or beta != 1";
      const auto* c = model.initializer(in(2));
      const int64_t N = model.initializer(in(1))->dims(attrInt(n, "transB", 0) ? 0 : 1);
      if (c->dims_size() != 1 || c->dims(0) != N) return "Gemm bias is not a vector of the output width";
    }
    return "";
  }
  if (op == "MatMul") {
    if (!isActivation(model, in(0))) return kInputNotActivation;
    if (isConstFloat(model, in(1)))
      return model.initializer(in(1))->dims_size() == 2 ? "" : "weight is not 2-D";
    return isActivation(model, in(1)) ? "" : skip_reason::kWeightNotConstant;
  }
  if (op == "Add" || op == "Mul") {
    // At most one constant operand (quantized like an activation); both must be float.
    int constants = 0;
    for (int i = 0; i < 2; ++i) {
      if (isConstFloat(model, in(i)))
        ++constants;
      else if (!isActivation(model, in(i)))
        return kInputNotActivation;
    }
    return constants < 2 ? "" : "both operands constant";
  }
  if (op == "Concat") {
    for (const auto& i : n.input())
      if (!isActivation(model, i)) return kInputNotActivation;
    return n.input_size() > 0 ? "" : kInputNotActivation;
  }
  return isActivation(model, in(0)) ? "" : kInputNotActivation;  // pools, Sigmoid, LeakyRelu
}

bool quantizable(const Model& model, const onnx::NodeProto& n) {
  return notQuantizableReason(model, n).empty();
}

// The plan: targets, folded activations, and for each quantized tensor where its range comes from.
struct Plan {
  std::vector<int> targets;                         // node indices
  std::map<int, int> folded;                        // target node -> Relu/Clip node folded into it
  std::vector<std::string> order;                   // quantized activation tensors, in the order found
  std::map<std::string, std::string> range_source;  // tensor -> tensor whose range it uses (itself or shared)
  std::set<int> pass_through;  // pass-through nodes whose output shares the input's params
};

// Tensor a target finally outputs (the folded Relu's output if any).
std::string finalOutput(const Model& model, const Plan& plan, int node) {
  auto it = plan.folded.find(node);
  return it == plan.folded.end() ? model.graph().node(node).output(0)
                                 : model.graph().node(it->second).output(0);
}

Plan makePlan(const Model& model, const QuantizeOptions& o, const Exclusions& ex) {
  Plan plan;
  const auto& g = model.graph();
  std::vector<char> is_target(static_cast<size_t>(g.node_size()), 0);
  for (int i = 0; i < g.node_size(); ++i)
    if (!ex.excluded(g.node(i)) && quantizable(model, g.node(i))) is_target[static_cast<size_t>(i)] = 1;

  auto add = [&](const std::string& t, const std::string& source) {
    if (plan.range_source.emplace(t, source).second) plan.order.push_back(t);
  };
  auto quantAware = [&](int consumer) {
    const auto& c = g.node(consumer);
    return is_target[static_cast<size_t>(consumer)] ||
           (kPassThroughOps.count(c.op_type()) && !ex.excluded(c));
  };

  for (int i : model.topologicalOrder()) {
    const auto& n = g.node(i);
    if (is_target[static_cast<size_t>(i)]) {
      plan.targets.push_back(i);
      for (const auto& in : n.input())
        if (isActivation(model, in)) add(in, in);
      // Fold a Relu / Clip(0, max) that is the only reader of the output (asymmetric activations only).
      const auto& out = n.output(0);
      const auto& readers = model.consumers(out);
      if (!o.symmetric_activations && readers.size() == 1 && !model.isGraphOutput(out)) {
        const auto& r = g.node(readers[0]);
        bool foldable = r.op_type() == "Relu";
        if (r.op_type() == "Clip" && r.input_size() >= 2) {
          auto lo = constScalar(model, r.input(1));
          foldable = lo && *lo == 0.0f;
        }
        if (foldable && !ex.userExcluded(r) && isFloat(model, r.output(0))) plan.folded[i] = readers[0];
      }
      const std::string final_out = finalOutput(model, plan, i);
      bool wants_q = n.op_type() != "Gemm" && n.op_type() != "MatMul";
      // Gemm/MatMul can keep a float output (QGemm / MatMulIntegerToFloat); quantize it only when the next
      // node can use int8 input.
      if (!wants_q) {
        if (plan.folded.count(i)) wants_q = true;
        for (int c : model.consumers(final_out)) wants_q |= quantAware(c);
      }
      if (wants_q) add(final_out, final_out);
    } else if (kPassThroughOps.count(n.op_type()) && !ex.excluded(n) && n.input_size() > 0 &&
               n.output_size() == 1) {
      auto it = plan.range_source.find(n.input(0));
      if (it != plan.range_source.end() && isFloat(model, n.output(0))) {
        plan.pass_through.insert(i);
        add(n.output(0), it->second);
      }
    }
  }
  return plan;
}

DataType activationType(const QuantizeOptions& o) {
  return o.activation_type == ActivationType::Int8 ? DataType::Int8 : DataType::UInt8;
}

Tensor zeroPointTensor(DataType type, std::vector<int64_t> shape, const std::vector<int32_t>& values) {
  Tensor t(type, std::move(shape));
  for (size_t i = 0; i < values.size(); ++i) {
    if (type == DataType::UInt8)
      t.values<uint8_t>()[i] = static_cast<uint8_t>(values[i]);
    else if (type == DataType::Int8)
      t.values<int8_t>()[i] = static_cast<int8_t>(values[i]);
    else
      t.values<int32_t>()[i] = values[i];
  }
  return t;
}

// Builds quantized tensors and the Q/DQ nodes into the graph.
class QdqWriter {
 public:
  QdqWriter(Model& model, PassReport& report) : model_(model), report_(report) {}

  std::string addInitializer(const std::string& base, const Tensor& t) {
    const std::string name = fresh(base);
    *model_.graph().add_initializer() = tensorToProto(name, t);
    return name;
  }

  // A DequantizeLinear node reading (q, scale, zp); returns its output.
  std::string dq(const std::string& base, const std::string& q, const std::string& scale,
                 const std::string& zp, int64_t axis = -1, const std::string& output = {}) {
    auto* node = newNode("DequantizeLinear", base + "_DequantizeLinear");
    node->add_input(q);
    node->add_input(scale);
    node->add_input(zp);
    if (axis >= 0) {
      auto* a = node->add_attribute();
      a->set_name("axis");
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(axis);
    }
    const std::string out = output.empty() ? fresh(base + "_dequantized") : output;
    node->add_output(out);
    return out;
  }

  std::string q(const std::string& base, const std::string& x, const std::string& scale,
                const std::string& zp) {
    auto* node = newNode("QuantizeLinear", base + "_QuantizeLinear");
    node->add_input(x);
    node->add_input(scale);
    node->add_input(zp);
    const std::string out = fresh(base + "_quantized");
    node->add_output(out);
    return out;
  }

  std::string fresh(const std::string& base) {
    std::string name = base;
    for (int k = 1; used_.count(name) || model_.isInitializer(name) || model_.producer(name) >= 0; ++k)
      name = base + "_" + std::to_string(k);
    used_.insert(name);
    return name;
  }

  std::vector<onnx::NodeProto>& newNodes() { return nodes_; }

 private:
  onnx::NodeProto* newNode(const std::string& op, const std::string& name) {
    nodes_.emplace_back();
    auto& n = nodes_.back();
    n.set_op_type(op);
    n.set_name(fresh(name));
    ++report_.nodes_added;
    return &n;
  }
  Model& model_;
  PassReport& report_;
  std::set<std::string> used_;
  std::vector<onnx::NodeProto> nodes_;
};

// Quantizes a float weight symmetric int8 along `axis` (-1 = per tensor). Returns int8 tensor and scales.
// `min_scales` (per channel, may be empty) raises a channel's scale, e.g. so its int32 bias cannot overflow.
std::pair<Tensor, std::vector<float>> quantizeWeight(const Tensor& w, int64_t axis, bool reduce_range,
                                                     const std::vector<float>& min_scales = {}) {
  const auto& shape = w.shape();
  const auto values = w.values<float>();
  int64_t channels = 1, inner = w.numel();
  if (axis >= 0) {
    channels = shape[static_cast<size_t>(axis)];
    inner = 1;
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  }
  const int64_t outer = w.numel() / std::max<int64_t>(1, channels * inner);
  auto channelOf = [&](int64_t idx) { return axis < 0 ? 0 : (idx / inner) % channels; };
  std::vector<float> abs_max(static_cast<size_t>(channels), 0.0f);
  for (int64_t i = 0; i < w.numel(); ++i) {
    auto& m = abs_max[static_cast<size_t>(channelOf(i))];
    m = std::max(m, std::fabs(values[static_cast<size_t>(i)]));
  }
  (void)outer;
  std::vector<float> scales(static_cast<size_t>(channels));
  for (size_t c = 0; c < scales.size(); ++c) {
    scales[c] = weightParams(abs_max[c], reduce_range).scale;
    if (c < min_scales.size()) scales[c] = std::max(scales[c], min_scales[c]);
  }
  Tensor q(DataType::Int8, shape);
  auto qv = q.values<int8_t>();
  const float qmax = reduce_range ? 63.0f : 127.0f;
  for (int64_t i = 0; i < w.numel(); ++i) {
    const float s = scales[static_cast<size_t>(channelOf(i))];
    qv[static_cast<size_t>(i)] =
        static_cast<int8_t>(std::clamp(std::nearbyint(values[static_cast<size_t>(i)] / s), -qmax, qmax));
  }
  return {std::move(q), std::move(scales)};
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
std::string quantNodeKey(const onnx::NodeProto& n) {
  return n.name().empty() ? n.output(0) : n.name();
}

bool readsFloatWeights(const Model& model, const onnx::NodeProto& n) {
  for (const auto& in : n.input()) {
    if (!isConstFloat(model, in)) continue;
    int64_t numel = 1;
    for (auto d : model.initializer(in)->dims()) numel *= d;
    if (numel > 1) return true;  // scalars (Clip bounds, Pow exponents) are not weights anyone would quantize
  }
  return false;
}

bool hasMacs(const std::string& op_type) {
  return op_type == "Conv" || op_type == "ConvTranspose" || op_type == "Gemm" || op_type == "MatMul";
}

QuantDecisions staticDecisions(const Model& model, const QuantizeOptions& options,
                               const std::set<std::string>& keep_float) {
  validate(options);
  const Exclusions ex = makeExclusions(options, &keep_float, nullptr);
  const Plan plan = makePlan(model, options, ex);
  const std::set<int> targets(plan.targets.begin(), plan.targets.end());
  QuantDecisions out;
  const auto& g = model.graph();
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    if (targets.count(i)) {
      out.push_back({quantNodeKey(n), ""});
      continue;
    }
    // Only nodes that hold MACs or weights, or that INT8 could have run, are worth naming.
    if (!kTargetOps.count(n.op_type()) && !hasMacs(n.op_type()) && !readsFloatWeights(model, n)) continue;
    std::string reason;
    if (ex.userExcluded(n))
      reason = skip_reason::kExcludedByUser;
    else if (keep_float.count(n.name()))
      reason = "kept in float by mixed precision (output SNR budget)";
    else
      reason = notQuantizableReason(model, n);
    if (reason.empty()) reason = "not reached by the plan";  // defensive: every quantizable node is a target
    out.push_back({quantNodeKey(n), reason});
  }
  return out;
}

std::vector<std::string> staticCalibrationTensors(const Model& model, const QuantizeOptions& options) {
  validate(options);
  const Exclusions ex = makeExclusions(options, nullptr, nullptr);
  const Plan plan = makePlan(model, options, ex);
  // Every quantized tensor, including those that normally share their input's range: when mixed precision
  // keeps the producer of that input in float, they need a range of their own.
  return plan.order;
}

std::vector<std::string> staticQuantizableNodes(const Model& model, const QuantizeOptions& options) {
  validate(options);
  const Exclusions ex = makeExclusions(options, nullptr, nullptr);
  const Plan plan = makePlan(model, options, ex);
  std::vector<int> sorted = plan.targets;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> out;
  for (int i : sorted) out.push_back(model.graph().node(i).name());
  return out;
}

PassReport quantizeStaticWithRanges(Model& model, const std::map<std::string, QuantRange>& ranges,
                                    const QuantizeOptions& options, const std::set<std::string>& keep_float,
                                    const std::set<std::string>* only) {
  validate(options);
  PassReport report;
  report.pass_name = "quantize";
  if (model.opsetVersion() < 13)
    throw Error(model.origin() +
                ": static quantization needs opset 13 or newer (per-channel DequantizeLinear), "
                "the model has opset " +
                std::to_string(model.opsetVersion()));
  model.reindex();
  const Exclusions ex = makeExclusions(options, &keep_float, only);
  const Plan plan = makePlan(model, options, ex);
  const DataType act_type = activationType(options);

  // Quantization parameters of every activation tensor.
  std::map<std::string, QuantParams> params;
  for (const auto& t : plan.order) {
    const std::string& src = plan.range_source.at(t);
    auto it = ranges.find(src);
    if (it == ranges.end()) it = ranges.find(t);
    if (it == ranges.end()) throw Error("quantize: no calibrated range for tensor '" + src + "'");
    params[t] = activationParams(it->second, act_type, options.symmetric_activations);
  }

  auto& g = model.graph();
  QdqWriter w(model, report);
  std::vector<bool> remove(static_cast<size_t>(g.node_size()), false);

  // 1. Fold Relu/Clip: the target writes the activation's output tensor directly.
  for (const auto& [target, act] : plan.folded) {
    report.lines.push_back("folded " + describeNode(g.node(act)) + " into the quantized output of " +
                           describeNode(g.node(target)));
    g.mutable_node(target)->set_output(0, g.node(act).output(0));
    // The activation node is removed below; until then it must not claim the tensor.
    g.mutable_node(act)->set_output(0, w.fresh(g.node(act).name() + "_removed"));
    remove[static_cast<size_t>(act)] = true;
  }
  model.reindex();

  // Scale and zero-point initializers per activation tensor.
  std::map<std::string, std::pair<std::string, std::string>> qparam_names;
  for (const auto& t : plan.order) {
    const QuantParams p = params[t];
    const std::string scale =
        w.addInitializer(t + "_scale", Tensor::from<float>({}, std::vector<float>{p.scale}));
    const std::string zp = w.addInitializer(t + "_zero_point", zeroPointTensor(act_type, {}, {p.zero_point}));
    qparam_names[t] = {scale, zp};
  }

  // 2. Weights, biases and constant operands of targets (each consumer gets its own DQ node).
  std::map<std::string, std::string> quantized_weights;  // float initializer -> int8 initializer
  std::map<std::string, std::pair<std::string, std::string>> weight_qparams;
  std::map<std::string, std::vector<float>> weight_scales;
  std::set<std::string> replaced_initializers;
  int weights = 0;
  for (int i : plan.targets) {
    auto* n = g.mutable_node(i);
    const std::string& op = n->op_type();
    const bool has_weight =
        op == "Conv" || op == "Gemm" || (op == "MatMul" && isConstFloat(model, n->input(1)));
    if (has_weight) {
      const std::string wname = n->input(1);
      int64_t axis = -1;
      if (options.per_channel) {
        if (op == "Conv")
          axis = 0;
        else if (op == "Gemm")
          axis = attrInt(*n, "transB", 0) ? 0 : 1;
        else
          axis = 1;
      }
      if (!quantized_weights.count(wname)) {
        const Tensor wf = tensorFromProto(*model.initializer(wname));
        // A bias b needs |b| / (s_x * s_w) < 2^31; with a tiny input scale that fails, so the weight scale of
        // such a channel is raised until the bias fits (at a small cost in weight resolution).
        std::vector<float> min_scales;
        if (op != "MatMul" && n->input_size() > 2 && !n->input(2).empty()) {
          const Tensor b = tensorFromProto(*model.initializer(n->input(2)));
          const double s_x = params.at(n->input(0)).scale;
          const double limit = 2147483000.0 * 0.5;  // keep a 2x margin below int32's max
          const size_t channels = axis >= 0 ? static_cast<size_t>(wf.shape()[static_cast<size_t>(axis)]) : 1;
          min_scales.assign(channels, 0.0f);
          for (int64_t k = 0; k < b.numel(); ++k) {
            const size_t c = channels == 1 ? 0 : static_cast<size_t>(k);
            const double need = std::fabs(b.values<float>()[static_cast<size_t>(k)]) / (s_x * limit);
            min_scales[c] = std::max(min_scales[c], static_cast<float>(need));
          }
        }
        auto [q, scales] = quantizeWeight(wf, axis, options.reduce_range, min_scales);
        const int64_t channels = static_cast<int64_t>(scales.size());
        std::vector<int64_t> shape = axis >= 0 ? std::vector<int64_t>{channels} : std::vector<int64_t>{};
        quantized_weights[wname] = w.addInitializer(wname + "_quantized", q);
        weight_qparams[wname] = {
            w.addInitializer(wname + "_scale", Tensor::from<float>(shape, scales)),
            w.addInitializer(wname + "_zero_point",
                             zeroPointTensor(DataType::Int8, shape, std::vector<int32_t>(scales.size(), 0)))};
        weight_scales[wname] = scales;
        ++weights;
      }
      const auto& [ws, wz] = weight_qparams[wname];
      n->set_input(1, w.dq(wname, quantized_weights[wname], ws, wz, axis));
      replaced_initializers.insert(wname);

      // Bias: int32 with scale s_x * s_w (per channel), zero point 0.
      if (op != "MatMul" && n->input_size() > 2 && !n->input(2).empty()) {
        const std::string bname = n->input(2);
        const float s_x = params.at(n->input(0)).scale;
        const Tensor b = tensorFromProto(*model.initializer(bname));
        const auto& s_w = weight_scales[wname];
        std::vector<float> bscale(s_w.size());
        for (size_t c = 0; c < s_w.size(); ++c) bscale[c] = s_x * s_w[c];
        Tensor bq(DataType::Int32, b.shape());
        for (int64_t k = 0; k < b.numel(); ++k) {
          const float s = bscale[s_w.size() == 1 ? 0 : static_cast<size_t>(k)];
          const double v = std::nearbyint(static_cast<double>(b.values<float>()[static_cast<size_t>(k)]) / s);
          bq.values<int32_t>()[static_cast<size_t>(k)] =
              static_cast<int32_t>(std::clamp(v, -2147483647.0, 2147483647.0));
        }
        std::vector<int64_t> shape =
            s_w.size() == 1 && axis < 0 ? std::vector<int64_t>{} : std::vector<int64_t>{b.shape()[0]};
        const std::string bq_name = w.addInitializer(bname + "_quantized", bq);
        const std::string bs_name = w.addInitializer(bname + "_scale", Tensor::from<float>(shape, bscale));
        const std::string bz_name =
            w.addInitializer(bname + "_zero_point",
                             zeroPointTensor(DataType::Int32, shape, std::vector<int32_t>(bscale.size(), 0)));
        n->set_input(2, w.dq(bname, bq_name, bs_name, bz_name, shape.empty() ? -1 : 0));
        replaced_initializers.insert(bname);
      }
    }
    if (op == "Add" || op == "Mul") {
      for (int k = 0; k < 2; ++k) {
        const std::string cname = n->input(k);
        if (!isConstFloat(model, cname)) continue;
        const Tensor c = tensorFromProto(*model.initializer(cname));
        QuantRange r;
        for (float v : c.values<float>()) r.min = std::min(r.min, v), r.max = std::max(r.max, v);
        const QuantParams p = activationParams(r, act_type, options.symmetric_activations);
        Tensor q(act_type, c.shape());
        const int qmin = act_type == DataType::UInt8 ? 0 : -128,
                  qmax = act_type == DataType::UInt8 ? 255 : 127;
        for (int64_t e = 0; e < c.numel(); ++e) {
          const long v = std::clamp<long>(
              std::lround(c.values<float>()[static_cast<size_t>(e)] / p.scale) + p.zero_point, qmin, qmax);
          if (act_type == DataType::UInt8)
            q.values<uint8_t>()[static_cast<size_t>(e)] = static_cast<uint8_t>(v);
          else
            q.values<int8_t>()[static_cast<size_t>(e)] = static_cast<int8_t>(v);
        }
        const std::string qn = w.addInitializer(cname + "_quantized", q);
        const std::string sn =
            w.addInitializer(cname + "_scale", Tensor::from<float>({}, std::vector<float>{p.scale}));
        const std::string zn =
            w.addInitializer(cname + "_zero_point", zeroPointTensor(act_type, {}, {p.zero_point}));
        n->set_input(k, w.dq(cname, qn, sn, zn));
        replaced_initializers.insert(cname);
      }
    }
  }

  // 3. Activations: one Q after the producer, one DQ per reading node input.
  // Readers are collected before editing (the Q/DQ nodes are appended afterwards).
  std::map<std::string, std::vector<std::pair<int, int>>> readers;  // tensor -> (node, input slot)
  for (int i = 0; i < g.node_size(); ++i) {
    if (remove[static_cast<size_t>(i)]) continue;
    for (int k = 0; k < g.node(i).input_size(); ++k)
      if (params.count(g.node(i).input(k))) readers[g.node(i).input(k)].push_back({i, k});
  }
  for (const auto& t : plan.order) {
    const auto& [scale, zp] = qparam_names[t];
    std::string source = t;
    const bool graph_output = model.isGraphOutput(t);
    const int producer = model.producer(t);
    if (graph_output && producer >= 0) {
      // A fused node may not produce a graph output: it writes a new tensor, and a DQ restores the name.
      source = w.fresh(t + "_float");
      auto* p = g.mutable_node(producer);
      for (int k = 0; k < p->output_size(); ++k)
        if (p->output(k) == t) p->set_output(k, source);
    }
    const std::string qt = w.q(t, source, scale, zp);
    for (const auto& [node, slot] : readers[t]) g.mutable_node(node)->set_input(slot, w.dq(t, qt, scale, zp));
    if (graph_output) w.dq(t, qt, scale, zp, -1, t);
  }

  // Splice: drop folded activations, append new nodes, drop replaced float initializers nobody reads.
  report.nodes_removed += removeNodes(model, remove);
  for (auto& n : w.newNodes()) *g.add_node() = std::move(n);
  model.reindex();
  std::set<std::string> used = usedTensorNames(model), unused;
  for (const auto& name : replaced_initializers)
    if (!used.count(name) && !model.isGraphOutput(name)) unused.insert(name);
  report.initializers_removed += removeInitializers(model, unused);
  // Q/DQ nodes were appended; restore a topological node order (the checker requires it).
  {
    model.reindex();
    const auto order = model.topologicalOrder();
    google::protobuf::RepeatedPtrField<onnx::NodeProto> sorted;
    for (int i : order) *sorted.Add() = g.node(i);
    g.mutable_node()->Swap(&sorted);
  }
  finishGraphEdit(model, "quantize");

  report.lines.push_back("quantized " + std::to_string(plan.targets.size()) + " nodes (" +
                         std::to_string(weights) + " weight tensors, " + std::to_string(plan.order.size()) +
                         " activation tensors) to " + (act_type == DataType::UInt8 ? "uint8" : "int8") +
                         " activations, int8 " + (options.per_channel ? "per-channel" : "per-tensor") +
                         " weights");
  report.details["quantized_nodes"] = plan.targets.size();
  report.details["activation_tensors"] = plan.order.size();
  report.details["weight_tensors"] = weights;
  report.details["folded_activations"] = plan.folded.size();
  return report;
}

}  // namespace edgetune
