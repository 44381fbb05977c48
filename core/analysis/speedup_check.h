#pragma once
// "Will it be faster?": what ONNX Runtime really runs after its graph optimizations (fused integer kernels or
// leftover Q/DQ and float ops), channel counts that waste SIMD lanes, and the CPU's integer dot-product support.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/ir/model.h"

namespace edgetune {

/// Integer dot-product support of a CPU, from its feature flags (/proc/cpuinfo "flags" or "Features").
struct CpuIntegerSupport {
  std::string source;             // "host" or the target name
  std::vector<std::string> flags;  // the relevant flags found
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
  std::string kind;  // "unfused_qdq", "float_between_int8", "channels_not_multiple_of_8", "cpu", "no_integer_ops"
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

}  // namespace edgetune
