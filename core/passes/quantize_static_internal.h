#pragma once
// Internal to core/passes/quantize_static*.cpp and quantize_params.cpp: the steps static INT8 chains (the
// plan of what to quantize, the integer numbers, the Q/DQ writer) so each lives in a file of its own. Not a
// public API: include only from those files.
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/passes/quantize_passes.h"
#include "core/util/name_pattern.h"

namespace edgetune::quant_detail {

// --- plan (quantize_static_plan.cpp) ---
bool isTargetOp(const std::string& op_type);
bool isFloat(const Model& model, const std::string& tensor);
bool isConstFloat(const Model& model, const std::string& name);

// Nodes the user (patterns, op types) or mixed precision keeps in float, or that are outside `only`.
struct Exclusions {
  std::vector<NamePattern> names;
  std::set<std::string> ops;
  const std::set<std::string>* keep_float = nullptr;
  const std::set<std::string>* only = nullptr;
  // Excluded by the user's patterns and op types only (mixed-precision choices aside).
  bool userExcluded(const onnx::NodeProto& n) const;
  bool excluded(const onnx::NodeProto& n) const;
};
Exclusions makeExclusions(const QuantizeOptions& o, const std::set<std::string>* keep_float,
                          const std::set<std::string>* only);

// Why ORT could not fuse this node into an integer kernel once its inputs/outputs are quantized; empty when
// it can.
std::string notQuantizableReason(const Model& model, const onnx::NodeProto& n);

// The plan: targets, folded activations, and for each quantized tensor where its range comes from.
struct Plan {
  std::vector<int> targets;                         // node indices
  std::map<int, int> folded;                        // target node -> Relu/Clip node folded into it
  std::vector<std::string> order;                   // quantized activation tensors, in the order found
  std::map<std::string, std::string> range_source;  // tensor -> tensor whose range it uses (itself or shared)
  std::set<int> pass_through;  // pass-through nodes whose output shares the input's params
};
Plan makePlan(const Model& model, const QuantizeOptions& o, const Exclusions& ex);

DataType activationType(const QuantizeOptions& o);

// --- numbers (quantize_params.cpp) ---
// A zero-point tensor of `type` (UInt8, Int8 or Int32) holding `values`.
Tensor zeroPointTensor(DataType type, std::vector<int64_t> shape, const std::vector<int32_t>& values);
// Quantizes a float weight symmetric int8 along `axis` (-1 = per tensor). Returns int8 tensor and scales.
// `min_scales` (per channel, may be empty) raises a channel's scale, e.g. so its int32 bias cannot overflow.
std::pair<Tensor, std::vector<float>> quantizeWeight(const Tensor& w, int64_t axis, bool reduce_range,
                                                     const std::vector<float>& min_scales = {});
// Per-channel weight scales a bias needs so that |b| / (s_x * s_w) stays well inside int32.
std::vector<float> biasSafeWeightScales(const Tensor& bias, double input_scale, size_t channels);
// The int32 bias for scales `bias_scales` (one, or one per element).
Tensor quantizeBias(const Tensor& bias, const std::vector<float>& bias_scales);
// A constant operand (of Add/Mul) quantized like an activation of `type`; `params` receives its scale and
// zero point.
Tensor quantizeConstant(const Tensor& c, DataType type, bool symmetric, QuantParams& params);

// --- writing (quantize_qdq_writer.cpp) ---
// Builds quantized tensors and the Q/DQ nodes into the graph. Everything it adds is named from a short
// numbered base ("q12", "q12.s", "q12.d", node "q12.DQ"): exporters' tensor names are long
// ("/features/features.4/block/block.2/scale_activation/HardSigmoid_output_0") and each Q/DQ group would
// repeat one in a scale, a zero point, node names and outputs, which on a depthwise layer weighs more than
// its int8 weights. Numbers follow the plan, so the names are deterministic.
class QdqWriter {
 public:
  QdqWriter(Model& model, PassReport& report) : model_(model), report_(report) {}

  // A new base name for one quantized tensor and its parameters.
  std::string newBase();
  std::string addInitializer(const std::string& name, const Tensor& t);
  // A DequantizeLinear node reading (q, scale[, zp]) with zp empty when omitted; returns its output.
  std::string dq(const std::string& base, const std::string& q, const std::string& scale,
                 const std::string& zp, int64_t axis = -1, const std::string& output = {});
  std::string q(const std::string& base, const std::string& x, const std::string& scale,
                const std::string& zp);
  // The zero point of a constant's DequantizeLinear, or "" (left out) when every value is 0 and
  // `omit_if_zero`.
  std::string zeroPoint(const std::string& base, DataType type, std::vector<int64_t> shape,
                        const std::vector<int32_t>& values, bool omit_if_zero);
  std::string fresh(const std::string& base);
  std::vector<onnx::NodeProto>& newNodes() { return nodes_; }

 private:
  onnx::NodeProto* newNode(const std::string& op, const std::string& name);
  bool taken(const std::string& name) const;
  Model& model_;
  PassReport& report_;
  int next_base_ = 0;
  std::set<std::string> used_;
  std::vector<onnx::NodeProto> nodes_;
};

}  // namespace edgetune::quant_detail
