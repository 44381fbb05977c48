#pragma once
// Quantization passes: static INT8 (Q/DQ placed so ONNX Runtime fuses them into integer kernels), dynamic
// INT8 for MatMul/Gemm, weight-only INT8, FP16 (see fp16.h), mixed precision.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/analysis/calibration.h"
#include "core/data/dataset.h"
#include "core/ir/input_shapes.h"
#include "core/passes/pass.h"
#include "core/util/enum_names.h"

namespace edgetune {

/// What the quantize pass does: static INT8 (calibrated activations), dynamic INT8 (activations quantized at
/// run time), FP16, or int8 weights only.
enum class QuantizeMode { Static = 1, Dynamic, Fp16, WeightOnly };
constexpr auto enumNames(QuantizeMode) {
  using N = EnumName<QuantizeMode>;
  return std::array{N{QuantizeMode::Static, "static"}, N{QuantizeMode::Dynamic, "dynamic"},
                    N{QuantizeMode::Fp16, "fp16"}, N{QuantizeMode::WeightOnly, "weight-only"}};
}

/// Element type of the quantized activations.
enum class ActivationType { UInt8 = 1, Int8 };
constexpr auto enumNames(ActivationType) {
  using N = EnumName<ActivationType>;
  return std::array{N{ActivationType::UInt8, "uint8"}, N{ActivationType::Int8, "int8"}};
}

/// How static INT8 is written: Q/DQ pairs ONNX Runtime fuses into integer kernels, or those kernels written
/// into the file (QLinearConv, QLinearMatMul and com.microsoft QLinearAdd / QLinearGlobalAveragePool /
/// QGemm).
enum class QuantFormat { Qdq = 1, QOperator };
constexpr auto enumNames(QuantFormat) {
  using N = EnumName<QuantFormat>;
  return std::array{N{QuantFormat::Qdq, "qdq"}, N{QuantFormat::QOperator, "qoperator"}};
}

struct QuantizeOptions {
  QuantizeMode mode = QuantizeMode::Static;
  // --- static: calibration ---
  std::string data;       // dataset spec (openDataset) the calibration samples come from
  int64_t samples = 256;  // calibration examples
  int batch_size = 32;    // calibration batch (when the model's batch dimension is dynamic)
  CalibrationMethod calibration = CalibrationMethod::MinMax;
  double percentile = 99.999;  // for calibration = percentile
  // --- number formats ---
  bool per_channel = true;  // weights: one scale per output channel (else one per tensor)
  ActivationType activation_type = ActivationType::UInt8;
  bool symmetric_activations = false;  // zero point 0 (int8) / 128 (uint8); Relu then stays a float op
  // Weights in [-63, 63]. x86 without VNNI (AVX2) multiplies u8 x s8 in pairs summed in 16 bits, which
  // saturate with 8-bit weights: measured there, static INT8 of the bundled ResNet-18 lost 0.37 points with
  // 8-bit weights and 0.03 with 7-bit, and dynamic INT8 of a random tiny BERT kept 9 dB of SNR instead of
  // 35. A file may run on any CPU, so 7-bit is the default; full range only for VNNI or Arm dot product.
  bool reduce_range = true;
  QuantFormat format = QuantFormat::Qdq;  // static only
  // --- what to quantize ---
  std::vector<std::string> exclude_nodes;  // regular expressions matched against node names (search)
  std::vector<std::string> exclude_ops;    // op types kept in float
  bool fold_batchnorm = true;              // run fold_batchnorm first (BatchNormalization has no int8 kernel)
  int64_t min_weight_elements = 0;         // dynamic / weight-only: smaller weights stay float
  // dynamic: LayerNorms written unfused (core/passes/layernorm_form.h): ONNX Runtime's fused kernel would
  // take a seventh of an INT8 encoder's time
  bool unfused_layernorm = true;
  // --- fp16 ---
  bool keep_io_types = true;  // fp16: graph inputs/outputs stay float32 through Cast nodes
  // --- automatic mixed precision (static): keep the layers that hurt most in float until the model's output
  //     SNR versus float reaches this many dB. 0 = off.
  double min_output_snr_db = 0;
  int64_t mixed_precision_samples = 64;  // examples used to measure the output SNR
};
void to_json(nlohmann::json& j, const QuantizeOptions& o);
void readOptions(OptionsReader& r, QuantizeOptions& o);
/// Throws Error naming the field for invalid values (a non-positive sample count, qoperator with dynamic,
/// ...).
void validate(const QuantizeOptions& o);

/// Scale and zero point of one quantized tensor (or one channel).
struct QuantParams {
  float scale = 1;
  int32_t zero_point = 0;
};
/// Parameters for an activation range in `type` (UInt8 or Int8), asymmetric or symmetric.
QuantParams activationParams(QuantRange range, DataType type, bool symmetric);
/// Symmetric int8 parameters for weights with this absolute maximum (zero point 0, range +-127 or +-63).
QuantParams weightParams(float abs_max, bool reduce_range);

/// The static quantization plan of a (BatchNorm-folded) float model: which tensors need calibrated ranges.
/// Graph inputs are included when a quantized node reads them.
std::vector<std::string> staticCalibrationTensors(const Model& model, const QuantizeOptions& options);
/// Nodes static quantization would quantize (after exclusions), by name, in graph order.
std::vector<std::string> staticQuantizableNodes(const Model& model, const QuantizeOptions& options);

/// Inserts Q/DQ pairs using precomputed ranges (missing ranges throw Error naming the tensor).
/// `keep_float` names extra nodes to leave in float (mixed precision); if `only` is non-null, just those
/// nodes are quantized.
PassReport quantizeStaticWithRanges(Model& model, const std::map<std::string, QuantRange>& ranges,
                                    const QuantizeOptions& options,
                                    const std::set<std::string>& keep_float = {},
                                    const std::set<std::string>* only = nullptr);
/// In a Q/DQ model, every Mul of a quantized activation by a positive scalar constant whose result only
/// feeds a QuantizeLinear becomes a relabelling: the DequantizeLinear nodes after it read the Mul's input
/// integers with the scale multiplied by the constant. Returns how many Muls went.
int foldScalarMulsIntoScales(Model& model);
/// Dynamic INT8: MatMul/Gemm with constant weights become DynamicQuantizeLinear + MatMulInteger + scale.
PassReport quantizeDynamic(Model& model, const QuantizeOptions& options);
/// Rewrites a static Q/DQ model into QOperator form (see QuantizeOptions::format); nodes that do not match
/// the patterns stay in Q/DQ form and are counted in the report's details["left_qdq"].
PassReport convertToQOperator(Model& model);
/// Weight-only INT8: constant weights of Conv/Gemm/MatMul/Gather stored int8 + DequantizeLinear.
PassReport quantizeWeightsOnly(Model& model, const QuantizeOptions& options);

/// What a quantize mode does with each node that holds MACs or weights (or that the mode could have run in
/// INT8): (node key, "") when it acts on it, else (node key, reason: a skip_reason constant or more precise
/// words). The node key is the node's name, or its first output when it has none (as computeStats names it).
using QuantDecisions = std::vector<std::pair<std::string, std::string>>;
QuantDecisions staticDecisions(const Model& model, const QuantizeOptions& options,
                               const std::set<std::string>& keep_float = {});
QuantDecisions dynamicDecisions(const Model& model, const QuantizeOptions& options);
QuantDecisions weightOnlyDecisions(const Model& model, const QuantizeOptions& options);
QuantDecisions fp16Decisions(const Model& model, const QuantizeOptions& options);
/// The node key decisions use; whether a node reads a constant float tensor of more than one element.
std::string quantNodeKey(const onnx::NodeProto& node);
bool readsFloatWeights(const Model& model, const onnx::NodeProto& node);
/// Coverage of `decisions` measured on `model` (the model the mode was given) at the sizes `shapes` gives.
Coverage coverageOf(const Model& model, const QuantDecisions& decisions, const InputShapes* shapes);

/// Output SNR in dB of `test` against `reference` (10 log10(sum ref^2 / sum (ref-test)^2)); 200 if identical.
double snrDb(std::span<const float> reference, std::span<const float> test);

/// The quantize pass (all modes). Static mode calibrates on `options.data` or on a dataset handed in with
/// setDataset() (which wins), and performs automatic mixed precision when min_output_snr_db > 0.
class QuantizePass final : public PassWithOptions<QuantizeOptions> {
 public:
  using PassWithOptions::PassWithOptions;
  std::string name() const override { return "quantize"; }
  PassReport apply(Model& model, PassContext& context) override;
  void setDataset(std::shared_ptr<const Dataset> dataset) { dataset_ = std::move(dataset); }
  /// Concrete sizes for symbolic input dimensions, for the coverage's MACs (default: resolveInputShapes'
  /// defaults, batch 1 and sequence 128; a dynamic image size nobody gave leaves those MACs uncounted).
  void setInputShapes(InputShapes shapes) { shapes_ = std::move(shapes); }
  /// Calibration statistics of the last static run (histogram memory, time), for reports and benchmarks.
  const CalibrationData& lastCalibration() const { return calibration_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  CalibrationData calibration_;
  std::optional<InputShapes> shapes_;
};

/// Registers "quantize".
void registerQuantizePasses(PassRegistry& registry);

}  // namespace edgetune
