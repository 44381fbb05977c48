#pragma once
// "Will it be faster?": what ONNX Runtime really runs after its graph optimizations (fused integer kernels or
// leftover Q/DQ and float ops), channel counts that waste SIMD lanes, and the CPU's integer dot-product
// support.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/ir/input_shapes.h"
#include "core/ir/model.h"

namespace edgetune {

/// Integer dot-product support of a CPU, from its feature flags (/proc/cpuinfo "flags" or "Features").
struct CpuIntegerSupport {
  std::string source;                                                          // "host" or the target name
  std::vector<std::string> flags;                                              // the relevant flags found
  bool avx2 = false, avx512_vnni = false, avx_vnni = false, avx512bw = false;  // x86
  bool asimddp = false, i8mm = false, neon = false;                            // ARM
  /// One line: which int8 path ONNX Runtime's MLAS kernels take and what speed-up to expect.
  std::string verdict() const;
  nlohmann::json toJson() const;
};
/// Parses a flag list (space separated, as in /proc/cpuinfo) into the support record.
CpuIntegerSupport cpuSupportFromFlags(const std::string& flags, const std::string& source);
/// Reads this machine's /proc/cpuinfo (first processor's flags / Features).
CpuIntegerSupport hostCpuSupport();
/// Known target CPUs by name: "rpi4" / "cortex-a72", "rpi5" / "cortex-a76", "x86-avx2", "x86-vnni",
/// "x86-avx512-vnni"; or a raw flag list "flags:asimd asimddp ...". Throws Error for an unknown name.
CpuIntegerSupport targetCpuSupport(const std::string& target);

/// Op types of the graph ONNX Runtime actually executes (after all graph optimizations), with counts.
/// Reads the optimized model ORT writes with SessionOptions' optimized model file path.
std::map<std::string, int> ortOptimizedOpCounts(const Model& model, int threads = 1);
/// The optimized graph itself (for finding which nodes were not fused).
onnx::ModelProto ortOptimizedModel(const Model& model, int threads = 1);

/// One obstacle to a speed-up.
struct SpeedupIssue {
  std::string
      kind;  // "unfused_qdq", "float_between_int8", "channels_not_multiple_of_8", "cpu", "no_integer_ops"
  std::string node;  // node or tensor concerned (empty for model-wide issues)
  std::string detail;
};

struct SpeedupReport {
  std::map<std::string, int> optimized_ops;  // op type -> count in ORT's optimized graph
  int integer_ops = 0;                       // QLinearConv, QGemm, MatMulIntegerToFloat, ...
  int float_compute_ops = 0;                 // Conv, Gemm, MatMul, FusedConv, ... left in float
  int unfused_quantize_nodes = 0;            // QuantizeLinear/DequantizeLinear left after fusion
  std::vector<SpeedupIssue> issues;
  CpuIntegerSupport host;
  std::vector<CpuIntegerSupport> targets;
  nlohmann::json toJson() const;
  std::string toText() const;
};

/// Checks `model` (float or quantized) for what would stop an INT8 speed-up on the host and on `targets`.
SpeedupReport checkSpeedup(const Model& model, const std::vector<std::string>& targets = {}, int threads = 1);

/// True for ops that run on int8/uint8 data inside ONNX Runtime (QLinear*, QGemm, MatMulInteger*, ...).
bool isIntegerKernel(const std::string& op_type);

/// Where the MACs go in the graph ONNX Runtime really executes: how many run in integer kernels (QLinearConv,
/// ConvInteger, QGemm, MatMulInteger, MatMulIntegerToFloat, DynamicQuantizeMatMul, QLinearMatMul, QAttention)
/// against the float model's own MACs (counted the same way in its optimized graph). This is the number that
/// says whether static INT8 can be fast: a Q/DQ pair ORT did not fuse leaves its Conv in float.
struct IntegerMacsReport {
  int64_t float_model_macs = 0;  // MACs of the float model's optimized graph
  int64_t integer_macs = 0;      // MACs in integer kernels of the quantized model's optimized graph
  int64_t float_macs = 0;        // MACs still in float compute ops of the quantized model's optimized graph
  int unknown_shape_nodes = 0;   // compute nodes whose MACs could not be sized (not counted above)
  struct Node {
    std::string name, op_type;
    int64_t macs = 0;
  };
  std::vector<Node> float_nodes;  // compute nodes left in float, largest first
  /// integer_macs / float_model_macs (0 when the float model has no MACs).
  double integerShare() const;
  nlohmann::json toJson() const;
};
/// Counts the MACs of `float_model` and `quantized` in ONNX Runtime's optimized graphs at the sizes `shapes`
/// gives (null: batch 1, sequence 128, or the model's fixed sizes), so symbolic dimensions do not count as 1.
IntegerMacsReport integerMacsInOrt(const Model& float_model, const Model& quantized,
                                   const InputShapes* shapes = nullptr, int threads = 1);

}  // namespace edgetune
