// Static INT8, the plan: which nodes ONNX Runtime can run as integer kernels once their inputs and outputs
// are quantized (and why the others cannot), which Relu/Clip fold into a quantized output, and which tensors
// need a calibrated range. Also the decisions the coverage report is made of.
#include <algorithm>

#include "core/analysis/coverage.h"
#include "core/passes/graph_edit.h"
#include "core/passes/quantize_static_internal.h"
#include "core/util/error.h"

namespace edgetune {
namespace quant_detail {
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

}  // namespace

bool isTargetOp(const std::string& op_type) {
  return kTargetOps.count(op_type) > 0;
}

bool isFloat(const Model& model, const std::string& tensor) {
  auto info = model.valueInfo(tensor);
  return info && info->type == DataType::Float32;
}

bool isConstFloat(const Model& model, const std::string& name) {
  return !name.empty() && isConstantInitializer(model, name) &&
         model.initializer(name)->data_type() == onnx::TensorProto::FLOAT;
}

namespace {

bool isActivation(const Model& model, const std::string& name) {
  return !name.empty() && !isConstantInitializer(model, name) && isFloat(model, name);
}

}  // namespace

bool Exclusions::userExcluded(const onnx::NodeProto& n) const {
  if (ops.count(n.op_type())) return true;
  return anyNamePatternMatches(names, n.name());
}

bool Exclusions::excluded(const onnx::NodeProto& n) const {
  if (keep_float && keep_float->count(n.name())) return true;
  if (only && !only->count(n.name())) return true;
  return userExcluded(n);
}

Exclusions makeExclusions(const QuantizeOptions& o, const std::set<std::string>* keep_float,
                          const std::set<std::string>* only) {
  Exclusions e;
  e.names = compileNamePatterns(o.exclude_nodes, "quantize: option 'exclude_nodes'");
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

namespace {

bool quantizable(const Model& model, const onnx::NodeProto& n) {
  return notQuantizableReason(model, n).empty();
}

// Tensor a target finally outputs (the folded Relu's output if any).
std::string finalOutput(const Model& model, const Plan& plan, int node) {
  auto it = plan.folded.find(node);
  return it == plan.folded.end() ? model.graph().node(node).output(0)
                                 : model.graph().node(it->second).output(0);
}

}  // namespace

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
          auto lo = floatScalarConstant(model, r.input(1));
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

}  // namespace quant_detail

using namespace quant_detail;

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

namespace {

bool hasMacs(const std::string& op_type) {
  return op_type == "Conv" || op_type == "ConvTranspose" || op_type == "Gemm" || op_type == "MatMul";
}

}  // namespace

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
    if (!isTargetOp(n.op_type()) && !hasMacs(n.op_type()) && !readsFloatWeights(model, n)) continue;
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

}  // namespace edgetune
