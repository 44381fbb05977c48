// "Will it be faster?": inspects ONNX Runtime's optimized graph and the CPU's integer dot-product support.
#include "core/analysis/speedup_check.h"

#include <onnxruntime_cxx_api.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/runtime/ort_env.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune {

namespace {
const std::set<std::string> kIntegerKernels = {
    "QLinearConv",  "QLinearMatMul", "QGemm", "MatMulInteger", "MatMulIntegerToFloat", "DynamicQuantizeMatMul",
    "QLinearAdd",   "QLinearMul", "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearConcat",
    "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "ConvInteger", "QAttention", "QEmbedLayerNormalization",
    "MatMulNBits", "QLinearReduceMean", "QLinearWhere"};
const std::set<std::string> kFloatCompute = {"Conv", "Gemm", "MatMul", "FusedConv", "FusedGemm", "FusedMatMul",
                                             "ConvTranspose", "Attention", "AveragePool", "GlobalAveragePool"};
}  // namespace

bool isIntegerKernel(const std::string& op_type) { return kIntegerKernels.count(op_type) > 0; }

// ---------------------------------------------------------------------------------------------------------
CpuIntegerSupport cpuSupportFromFlags(const std::string& flags, const std::string& source) {
  CpuIntegerSupport s;
  s.source = source;
  std::istringstream in(flags);
  std::string f;
  std::set<std::string> all;
  while (in >> f) all.insert(f);
  auto has = [&](const char* name) {
    if (!all.count(name)) return false;
    s.flags.push_back(name);
    return true;
  };
  s.avx2 = has("avx2");
  s.avx512bw = has("avx512bw");
  s.avx512_vnni = has("avx512_vnni");
  s.avx_vnni = has("avx_vnni");
  s.neon = has("asimd") || has("neon");
  s.asimddp = has("asimddp");
  s.i8mm = has("i8mm");
  return s;
}

std::string CpuIntegerSupport::verdict() const {
  if (avx512_vnni || avx_vnni)
    return "VNNI (vpdpbusd): uint8 x int8 dot products in one instruction; INT8 GEMMs can run 2-4x faster than FP32";
  if (avx2 || avx512bw)
    return "AVX2 without VNNI (vpmaddubsw): uint8 x int8 via 16-bit sums; INT8 GEMMs ~1.5-2x FP32, int8 weights "
           "beyond +-63 can saturate (reduce_range avoids it)";
  if (i8mm) return "ARM i8mm (smmla/ummla) and dot product: INT8 GEMMs several times faster than FP32";
  if (asimddp) return "ARM dot product (sdot/udot): INT8 GEMMs 2-4x faster than FP32";
  if (neon) return "ARM NEON without dot product: INT8 uses widening multiplies; expect a small gain at best";
  return "no SIMD integer dot product found: INT8 may be slower than FP32";
}

nlohmann::json CpuIntegerSupport::toJson() const {
  return {{"source", source}, {"flags", flags}, {"verdict", verdict()}};
}

CpuIntegerSupport hostCpuSupport() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    if (key == "flags" || key == "Features") return cpuSupportFromFlags(line.substr(colon + 1), "host");
  }
  return cpuSupportFromFlags("", "host");
}

CpuIntegerSupport targetCpuSupport(const std::string& target) {
  static const std::map<std::string, std::string> known = {
      {"rpi4", "fp asimd evtstrm crc32 cpuid"},
      {"cortex-a72", "fp asimd evtstrm crc32 cpuid"},
      {"rpi5", "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"},
      {"cortex-a76", "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"},
      {"x86-avx2", "sse4_2 avx fma avx2"},
      {"x86-vnni", "sse4_2 avx fma avx2 avx_vnni"},
      {"x86-avx512-vnni", "sse4_2 avx fma avx2 avx512f avx512bw avx512_vnni"}};
  if (target.rfind("flags:", 0) == 0) return cpuSupportFromFlags(target.substr(6), target);
  auto it = known.find(target);
  if (it == known.end()) {
    std::string names;
    for (const auto& [k, v] : known) names += (names.empty() ? "" : ", ") + k;
    throw Error("unknown target CPU '" + target + "' (known: " + names + ", or flags:LIST)");
  }
  return cpuSupportFromFlags(it->second, target);
}

// ---------------------------------------------------------------------------------------------------------
onnx::ModelProto ortOptimizedModel(const Model& model, int threads) {
  static std::atomic<int> counter{0};
  const auto path = std::filesystem::temp_directory_path() /
                    ("edgetune_optimized_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".onnx");
  const std::string bytes = model.serialize();
  try {
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(threads);
    so.SetGraphOptimizationLevel(ORT_ENABLE_ALL);
    so.SetOptimizedModelFilePath(path.c_str());
    Ort::Session session(ortEnv(), bytes.data(), bytes.size(), so);
  } catch (const Ort::Exception& e) {
    std::filesystem::remove(path);
    throw Error(model.origin() + ": ONNX Runtime cannot load the model: " + e.what());
  }
  onnx::ModelProto optimized;
  const std::string data = readFile(path);
  std::filesystem::remove(path);
  if (!optimized.ParseFromString(data)) throw Error(model.origin() + ": cannot read ONNX Runtime's optimized model");
  return optimized;
}

std::map<std::string, int> ortOptimizedOpCounts(const Model& model, int threads) {
  std::map<std::string, int> counts;
  const onnx::ModelProto optimized = ortOptimizedModel(model, threads);  // must outlive the loop
  for (const auto& n : optimized.graph().node()) counts[n.op_type()]++;
  return counts;
}

nlohmann::json SpeedupReport::toJson() const {
  nlohmann::json issues_json = nlohmann::json::array();
  for (const auto& i : issues) issues_json.push_back({{"kind", i.kind}, {"node", i.node}, {"detail", i.detail}});
  nlohmann::json t = nlohmann::json::array();
  for (const auto& c : targets) t.push_back(c.toJson());
  return {{"optimized_ops", optimized_ops},   {"integer_ops", integer_ops},
          {"float_compute_ops", float_compute_ops}, {"unfused_quantize_nodes", unfused_quantize_nodes},
          {"issues", issues_json},           {"host", host.toJson()},
          {"targets", t}};
}

std::string SpeedupReport::toText() const {
  std::ostringstream out;
  out << "ONNX Runtime runs " << integer_ops << " integer kernel(s), " << float_compute_ops
      << " float compute op(s), " << unfused_quantize_nodes << " unfused Quantize/DequantizeLinear node(s)\n";
  std::map<std::string, int> kinds;
  for (const auto& i : issues) kinds[i.kind]++;
  for (const auto& [kind, count] : kinds) {
    out << "  " << kind << ": " << count << "\n";
    int shown = 0;
    for (const auto& i : issues)
      if (i.kind == kind && shown++ < 8) out << "    " << (i.node.empty() ? "" : i.node + ": ") << i.detail << "\n";
  }
  out << "host CPU: " << host.verdict() << "\n";
  for (const auto& t : targets) out << "target " << t.source << ": " << t.verdict() << "\n";
  return out.str();
}

SpeedupReport checkSpeedup(const Model& model, const std::vector<std::string>& targets, int threads) {
  SpeedupReport r;
  r.host = hostCpuSupport();
  for (const auto& t : targets) r.targets.push_back(targetCpuSupport(t));
  const onnx::ModelProto opt = ortOptimizedModel(model, threads);
  const auto& g = opt.graph();
  std::map<std::string, int> producer;
  std::map<std::string, std::vector<int>> consumers;
  for (int i = 0; i < g.node_size(); ++i) {
    for (const auto& o : g.node(i).output()) producer[o] = i;
    for (const auto& in : g.node(i).input()) consumers[in].push_back(i);
  }
  std::set<std::string> graph_inputs, graph_outputs;
  for (const auto& i : g.input()) graph_inputs.insert(i.name());
  for (const auto& o : g.output()) graph_outputs.insert(o.name());
  bool any_quant = false;
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    r.optimized_ops[n.op_type()]++;
    const std::string label = n.name().empty() ? n.output(0) : n.name();
    if (isIntegerKernel(n.op_type())) ++r.integer_ops, any_quant = true;
    else if (kFloatCompute.count(n.op_type())) ++r.float_compute_ops;
    if (n.op_type() == "QuantizeLinear" || n.op_type() == "DequantizeLinear" || n.op_type() == "DynamicQuantizeLinear")
      any_quant = true;
    if (n.op_type() == "QuantizeLinear") {
      // Expected: quantizing a graph input once. Anything else is a Q ORT could not fold into a kernel.
      if (!graph_inputs.count(n.input(0))) {
        ++r.unfused_quantize_nodes;
        auto p = producer.find(n.input(0));
        r.issues.push_back({"unfused_qdq", label,
                            "QuantizeLinear after " + (p == producer.end() ? std::string("?") : g.node(p->second).op_type()) +
                                " left in the graph"});
      }
    } else if (n.op_type() == "DequantizeLinear") {
      // Expected: dequantizing a graph output, or a constant weight feeding a float op on purpose.
      const bool to_output = graph_outputs.count(n.output(0)) > 0;
      bool weight = false;
      for (const auto& init : g.initializer()) weight |= init.name() == n.input(0);
      if (!to_output) {
        ++r.unfused_quantize_nodes;
        std::string readers;
        for (int c : consumers[n.output(0)]) readers += (readers.empty() ? "" : ", ") + g.node(c).op_type();
        r.issues.push_back({"unfused_qdq", label,
                            std::string(weight ? "weight " : "") + "DequantizeLinear feeding " +
                                (readers.empty() ? "nothing" : readers) + " (runs in float)"});
      }
    } else if (!isIntegerKernel(n.op_type())) {
      // A float op whose input comes from a DQ and whose output goes into a Q: int8 -> float -> int8 round trip.
      bool from_dq = false, to_q = false;
      for (const auto& in : n.input()) {
        auto p = producer.find(in);
        from_dq |= p != producer.end() && g.node(p->second).op_type() == "DequantizeLinear";
      }
      for (const auto& o : n.output())
        for (int c : consumers[o]) to_q |= g.node(c).op_type() == "QuantizeLinear";
      if (from_dq && to_q)
        r.issues.push_back({"float_between_int8", label, n.op_type() + " runs in float between int8 ops"});
    }
  }
  if (!any_quant)
    r.issues.push_back({"no_integer_ops", "", "the model has no quantized ops (it runs entirely in float)"});

  // Channel counts on the input model's compute layers (weights may be float or int8 initializers).
  model.reindex();
  for (const auto& n : model.graph().node()) {
    const bool conv = n.op_type() == "Conv" || n.op_type() == "QLinearConv";
    const bool mm = n.op_type() == "Gemm" || n.op_type() == "MatMul";
    if (!conv && !mm) continue;
    const std::string w = n.op_type() == "QLinearConv" ? n.input(3) : n.input(1);
    const onnx::TensorProto* init = model.initializer(w);
    if (!init) {
      // Weight behind a DequantizeLinear.
      const int p = model.producer(w);
      if (p >= 0 && model.graph().node(p).op_type() == "DequantizeLinear") init = model.initializer(model.graph().node(p).input(0));
    }
    if (!init || init->dims_size() < 2) continue;
    int64_t out_ch, in_ch;
    if (conv) {
      out_ch = init->dims(0);
      in_ch = init->dims(1) * attrInt(n, "group", 1);
      if (attrInt(n, "group", 1) > 1) in_ch = 8;  // depthwise/grouped: input channels are not a GEMM dimension
    } else {
      const bool trans = n.op_type() == "Gemm" && attrInt(n, "transB", 0);
      out_ch = init->dims(trans ? 0 : 1);
      in_ch = init->dims(trans ? 1 : 0);
    }
    if (out_ch % 8 || in_ch % 8)
      r.issues.push_back({"channels_not_multiple_of_8", n.name(),
                          "in " + std::to_string(in_ch) + " / out " + std::to_string(out_ch) +
                              " channels: SIMD kernels pad to multiples of 8 and waste lanes"});
  }
  auto cpuIssue = [&](const CpuIntegerSupport& c) {
    if (!(c.avx512_vnni || c.avx_vnni || c.avx2 || c.avx512bw || c.asimddp || c.i8mm))
      r.issues.push_back({"cpu", c.source, c.verdict()});
  };
  cpuIssue(r.host);
  for (const auto& t : r.targets) cpuIssue(t);
  return r;
}

}  // namespace edgetune
