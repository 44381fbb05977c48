// "Will it be faster?": inspects ONNX Runtime's optimized graph and the CPU's integer dot-product support.
#include "core/analysis/speedup_check.h"

#include <onnxruntime_cxx_api.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "core/ir/stats.h"
#include "core/runtime/ort_env.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune {

namespace {
const std::set<std::string> kIntegerKernels = {"QLinearConv",
                                               "QLinearMatMul",
                                               "QGemm",
                                               "MatMulInteger",
                                               "MatMulIntegerToFloat",
                                               "DynamicQuantizeMatMul",
                                               "QLinearAdd",
                                               "QLinearMul",
                                               "QLinearAveragePool",
                                               "QLinearGlobalAveragePool",
                                               "QLinearConcat",
                                               "QLinearSigmoid",
                                               "QLinearLeakyRelu",
                                               "QLinearSoftmax",
                                               "ConvInteger",
                                               "QAttention",
                                               "QEmbedLayerNormalization",
                                               "MatMulNBits",
                                               "QLinearReduceMean",
                                               "QLinearWhere"};
const std::set<std::string> kFloatCompute = {
    "Conv",        "Gemm",          "MatMul",    "FusedConv",   "FusedGemm",
    "FusedMatMul", "ConvTranspose", "Attention", "AveragePool", "GlobalAveragePool"};
}  // namespace

bool isIntegerKernel(const std::string& op_type) {
  return kIntegerKernels.count(op_type) > 0;
}

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
    return "VNNI (vpdpbusd): uint8 x int8 dot products in one instruction; INT8 GEMMs can run 2-4x faster "
           "than FP32";
  if (avx2 || avx512bw)
    return "AVX2 without VNNI (vpmaddubsw): uint8 x int8 via 16-bit sums; INT8 GEMMs ~1.5-2x FP32, int8 "
           "weights "
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
      {"rpi5",
       "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"},
      {"cortex-a76",
       "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"},
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
namespace {

onnx::ModelProto optimizedAt(const Model& model, int threads, GraphOptimizationLevel level) {
  static std::atomic<int> counter{0};
  const auto path =
      std::filesystem::temp_directory_path() /
      ("edgetune_optimized_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".onnx");
  const std::string bytes = model.serialize();
  try {
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(threads);
    so.SetGraphOptimizationLevel(level);
    so.SetOptimizedModelFilePath(path.c_str());
    Ort::Session session(ortEnv(), bytes.data(), bytes.size(), so);
  } catch (const Ort::Exception& e) {
    std::filesystem::remove(path);
    throw Error(model.origin() + ": ONNX Runtime cannot load the model: " + e.what());
  }
  onnx::ModelProto optimized;
  const std::string data = readFile(path);
  std::filesystem::remove(path);
  if (!optimized.ParseFromString(data))
    throw Error(model.origin() + ": cannot read ONNX Runtime's optimized model");
  return optimized;
}

}  // namespace

onnx::ModelProto ortOptimizedModel(const Model& model, int threads) {
  return optimizedAt(model, threads, ORT_ENABLE_ALL);
}

std::map<std::string, int> ortOptimizedOpCounts(const Model& model, int threads) {
  std::map<std::string, int> counts;
  const onnx::ModelProto optimized = ortOptimizedModel(model, threads);  // must outlive the loop
  for (const auto& n : optimized.graph().node()) counts[n.op_type()]++;
  return counts;
}

nlohmann::json SpeedupReport::toJson() const {
  nlohmann::json issues_json = nlohmann::json::array();
  for (const auto& i : issues)
    issues_json.push_back({{"kind", i.kind}, {"node", i.node}, {"detail", i.detail}});
  nlohmann::json t = nlohmann::json::array();
  for (const auto& c : targets) t.push_back(c.toJson());
  return {{"optimized_ops", optimized_ops},
          {"integer_ops", integer_ops},
          {"float_compute_ops", float_compute_ops},
          {"unfused_quantize_nodes", unfused_quantize_nodes},
          {"issues", issues_json},
          {"host", host.toJson()},
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
      if (i.kind == kind && shown++ < 8)
        out << "    " << (i.node.empty() ? "" : i.node + ": ") << i.detail << "\n";
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
    if (isIntegerKernel(n.op_type()))
      ++r.integer_ops, any_quant = true;
    else if (kFloatCompute.count(n.op_type()))
      ++r.float_compute_ops;
    if (n.op_type() == "QuantizeLinear" || n.op_type() == "DequantizeLinear" ||
        n.op_type() == "DynamicQuantizeLinear")
      any_quant = true;
    if (n.op_type() == "QuantizeLinear") {
      // Expected: quantizing a graph input once. Anything else is a Q ORT could not fold into a kernel.
      if (!graph_inputs.count(n.input(0))) {
        ++r.unfused_quantize_nodes;
        auto p = producer.find(n.input(0));
        r.issues.push_back({"unfused_qdq", label,
                            "QuantizeLinear after " +
                                (p == producer.end() ? std::string("?") : g.node(p->second).op_type()) +
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
      // A float op whose input comes from a DQ and whose output goes into a Q: int8 -> float -> int8 round
      // trip.
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
  for (const auto& n : model.graph().node()) {
    const bool conv = n.op_type() == "Conv" || n.op_type() == "QLinearConv";
    const bool mm = n.op_type() == "Gemm" || n.op_type() == "MatMul";
    if (!conv && !mm) continue;
    const std::string w = n.op_type() == "QLinearConv" ? n.input(3) : n.input(1);
    const onnx::TensorProto* init = model.initializer(w);
    if (!init) {
      // Weight behind a DequantizeLinear.
      const int p = model.producer(w);
      if (p >= 0 && model.graph().node(p).op_type() == "DequantizeLinear")
        init = model.initializer(model.graph().node(p).input(0));
    }
    if (!init || init->dims_size() < 2) continue;
    int64_t out_ch, in_ch;
    if (conv) {
      out_ch = init->dims(0);
      in_ch = init->dims(1) * attrInt(n, "group", 1);
      if (attrInt(n, "group", 1) > 1)
        in_ch = 8;  // depthwise/grouped: input channels are not a GEMM dimension
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

// ---------------------------------------------------------------------------------------------------------
namespace edgetune {
namespace {

using ShapeMap = std::map<std::string, std::vector<int64_t>>;

// Shapes of every tensor ORT knew about: inputs, outputs, value_info (what it inferred) and initializers.
// Dimensions it could not resolve are -1.
ShapeMap optimizedShapes(const onnx::GraphProto& g) {
  ShapeMap shapes;
  auto add = [&](const onnx::ValueInfoProto& v) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return;
    std::vector<int64_t> dims;
    for (const auto& d : v.type().tensor_type().shape().dim())
      dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    shapes[v.name()] = std::move(dims);
  };
  for (const auto& v : g.input()) add(v);
  for (const auto& v : g.output()) add(v);
  for (const auto& v : g.value_info()) add(v);
  for (const auto& t : g.initializer()) shapes[t.name()] = {t.dims().begin(), t.dims().end()};
  return shapes;
}

// Shapes of every tensor of a standard ONNX model at the given input sizes, from computeStats (shape
// inference with data propagation, re-run with the shape values it found materialized, so Reshapes and Slices
// to computed sizes, as torch.onnx writes them for dynamic axes, still resolve).
ShapeMap referenceShapes(const Model& model, const InputShapes* shapes) {
  ShapeMap out;
  const ModelStats stats = computeStats(model, shapes);
  const auto& g = model.graph();
  for (int i = 0; i < g.node_size() && i < static_cast<int>(stats.nodes.size()); ++i)
    for (int k = 0; k < g.node(i).output_size() && k < static_cast<int>(stats.nodes[i].output_shapes.size());
         ++k)
      out[g.node(i).output(k)] = stats.nodes[i].output_shapes[k];
  if (shapes)
    for (const auto& [name, dims] : shapes->dims) out[name] = dims;
  return out;
}

int64_t elements(const std::vector<int64_t>& v, size_t from = 0) {
  int64_t n = 1;
  for (size_t i = from; i < v.size(); ++i) n *= v[i];
  return n;
}

bool fullyKnown(const std::vector<int64_t>& v) {
  return std::all_of(v.begin(), v.end(), [](int64_t d) { return d >= 0; });
}

int64_t intAttr(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

// What the MAC count of ORT's optimized graph needs: every tensor's full shape where known, and its element
// count, also through the layout Transposes and Q/DQ ORT inserts (the NHWC rewrite gives new tensor names
// nobody declared a shape for, but they hold as many elements as the tensors beside them).
struct TensorSizes {
  ShapeMap shapes;
  std::map<std::string, int64_t> numel;

  std::optional<std::vector<int64_t>> shape(const std::string& name) const {
    auto it = name.empty() ? shapes.end() : shapes.find(name);
    if (it == shapes.end() || !fullyKnown(it->second)) return std::nullopt;
    return it->second;
  }
  int64_t count(const std::string& name) const {
    auto it = numel.find(name);
    return it == numel.end() ? -1 : it->second;
  }
};

TensorSizes sizesOf(const onnx::GraphProto& g, const ShapeMap& reference) {
  TensorSizes t;
  t.shapes = reference;
  for (const auto& [name, dims] : optimizedShapes(g))
    if (fullyKnown(dims) || !t.shapes.count(name)) t.shapes[name] = dims;
  for (const auto& [name, dims] : t.shapes)
    if (fullyKnown(dims)) t.numel[name] = elements(dims);
  // Ops whose first input and output hold as many elements (ORT's MatMulAddFusion wraps a 3-D MatMul + Add
  // into Reshape -> Gemm -> Reshape with new tensor names).
  static const std::set<std::string> same_size = {
      "Transpose", "QuantizeLinear", "DequantizeLinear", "Cast",    "Relu",    "Identity",
      "Sigmoid",   "Clip",           "Reshape",          "Flatten", "Squeeze", "Unsqueeze"};
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& n : g.node()) {
      if (!same_size.count(n.op_type()) || n.input_size() < 1 || n.output_size() < 1) continue;
      const int64_t in = t.count(n.input(0)), out = t.count(n.output(0));
      if (in >= 0 && out < 0) t.numel[n.output(0)] = in, changed = true;
      if (out >= 0 && in < 0) t.numel[n.input(0)] = out, changed = true;
    }
  }
  return t;
}

std::string inputAt(const onnx::NodeProto& n, int i) {
  return i < n.input_size() ? n.input(i) : std::string();
}

// MACs of one node of ORT's optimized graph; -1 = a compute op whose sizes are unknown; 0 = not a compute op.
// Every compute op does (output elements) x (length of each dot product); the latter comes from the weight
// where there is one, else from the first operand's shape.
int64_t optimizedNodeMacs(const TensorSizes& sizes, const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  static const std::map<std::string, int> conv_weight = {{"Conv", 1},          {"FusedConv", 1},
                                                         {"NhwcFusedConv", 1}, {"NhwcConv", 1},
                                                         {"ConvInteger", 1},   {"QLinearConv", 3}};
  static const std::map<std::string, int> matmul_b = {{"MatMul", 1},
                                                      {"FusedMatMul", 1},
                                                      {"MatMulInteger", 1},
                                                      {"MatMulIntegerToFloat", 1},
                                                      {"DynamicQuantizeMatMul", 1},
                                                      {"QLinearMatMul", 3}};
  if (n.output_size() < 1) return 0;
  const int64_t out = sizes.count(n.output(0));
  if (auto it = conv_weight.find(op); it != conv_weight.end()) {
    // Each output element sums over C/group * prod(kernel) products, in NCHW or NHWC layout alike.
    auto w = sizes.shape(inputAt(n, it->second));
    if (out < 0 || !w || w->size() < 2) return -1;
    return out * elements(*w, 1);
  }
  if (op == "ConvTranspose") {
    // Weight [C, M/group, k...]: every input element is scattered into M/group * prod(kernel) outputs.
    auto w = sizes.shape(inputAt(n, 1));
    const int64_t in = sizes.count(inputAt(n, 0));
    if (in < 0 || !w || w->size() < 2) return -1;
    return in * elements(*w, 1);
  }
  if (op == "Gemm" || op == "FusedGemm" || op == "QGemm") {
    auto b = sizes.shape(inputAt(n, op == "QGemm" ? 3 : 1));
    auto a = sizes.shape(inputAt(n, 0));
    int64_t k = -1;
    if (b && b->size() == 2)
      k = intAttr(n, "transB", 0) ? (*b)[1] : (*b)[0];
    else if (a && a->size() == 2)
      k = intAttr(n, "transA", 0) ? (*a)[0] : (*a)[1];
    return out < 0 || k < 0 ? -1 : out * k;
  }
  if (auto it = matmul_b.find(op); it != matmul_b.end()) {
    auto b = sizes.shape(inputAt(n, it->second));
    auto a = sizes.shape(inputAt(n, 0));
    int64_t k = -1;
    if (b && b->size() >= 2)
      k = intAttr(n, "transB", 0) ? b->back() : (*b)[b->size() - 2];
    else if (a && !a->empty())
      k = intAttr(n, "transA", 0) && a->size() >= 2 ? (*a)[a->size() - 2] : a->back();
    return out < 0 || k < 0 ? -1 : out * k;
  }
  if (op == "Attention" || op == "QAttention") {
    // Input [B, S, H] times packed QKV weights [H, 3H], then Q K^T and softmax(.) V: 2 * B * S * S * H.
    auto x = sizes.shape(inputAt(n, 0)), w = sizes.shape(inputAt(n, op == "QAttention" ? 1 : 1));
    if (!x || !w || x->size() != 3 || w->size() != 2) return -1;
    const int64_t b = (*x)[0], s = (*x)[1], h = (*x)[2];
    return b * s * (*w)[0] * (*w)[1] + 2 * b * s * s * h;
  }
  return 0;
}

}  // namespace

double IntegerMacsReport::integerShare() const {
  return float_model_macs > 0 ? static_cast<double>(integer_macs) / static_cast<double>(float_model_macs)
                              : 0.0;
}

nlohmann::json IntegerMacsReport::toJson() const {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : float_nodes) nodes.push_back({{"node", n.name}, {"op", n.op_type}, {"macs", n.macs}});
  return {{"float_model_macs", float_model_macs},
          {"integer_macs", integer_macs},
          {"float_macs", float_macs},
          {"integer_share", integerShare()},
          {"unknown_shape_nodes", unknown_shape_nodes},
          {"float_nodes", nodes}};
}

static void countOptimizedMacs(const onnx::ModelProto& optimized, const ShapeMap& reference, int64_t& integer,
                               int64_t& float_, int& unknown,
                               std::vector<IntegerMacsReport::Node>* float_nodes = nullptr) {
  integer = float_ = 0;
  unknown = 0;
  const TensorSizes sizes = sizesOf(optimized.graph(), reference);
  for (const auto& n : optimized.graph().node()) {
    const int64_t macs = optimizedNodeMacs(sizes, n);
    if (macs < 0) {
      ++unknown;
      if (float_nodes)
        float_nodes->push_back({n.name().empty() ? n.output(0) : n.name(), n.op_type() + " (unsized)", 0});
      continue;
    }
    if (macs == 0) continue;
    if (isIntegerKernel(n.op_type())) {
      integer += macs;
    } else {
      float_ += macs;
      if (float_nodes) float_nodes->push_back({n.name().empty() ? n.output(0) : n.name(), n.op_type(), macs});
    }
  }
  if (float_nodes)
    std::stable_sort(
        float_nodes->begin(), float_nodes->end(),
        [](const IntegerMacsReport::Node& a, const IntegerMacsReport::Node& b) { return a.macs > b.macs; });
}

IntegerMacsReport integerMacsInOrt(const Model& float_model, const Model& quantized,
                                   const InputShapes* shapes, int threads) {
  // ORT only sizes what it can infer: with symbolic input dimensions it would leave every activation shape
  // unknown, so both models are given concrete inputs first.
  // A dynamic spatial size nobody gave: count at the declared sizes (what is unknown stays unknown).
  const InputShapes resolved = shapes ? *shapes : defaultInputShapes(float_model).value_or(InputShapes{});
  auto concrete = [&](const Model& m) { return resolved.empty() ? m : withConcreteInputs(m, resolved); };
  // ORT writes back only the value_info its input declared, so the shapes of the tensors the fusions keep
  // come from shape inference of the (standard ONNX) model handed to ORT.
  IntegerMacsReport r;
  int64_t ignored_integer = 0;
  int unknown_float = 0;
  // Counted at ORT's "extended" level: every fusion into integer kernels (QDQ selectors,
  // MatMulIntegerToFloat, DynamicQuantizeMatMul) has happened there, but not the layout rewrites (NCHWc,
  // NHWC) that rename tensors and pad channels; they change how a kernel walks memory, not whether it is
  // integer.
  const Model f = concrete(float_model), q = concrete(quantized);
  const InputShapes* sizes = resolved.empty() ? nullptr : &resolved;
  countOptimizedMacs(optimizedAt(f, threads, ORT_ENABLE_EXTENDED), referenceShapes(float_model, sizes),
                     ignored_integer, r.float_model_macs, unknown_float);
  r.float_model_macs += ignored_integer;  // a model that is partly integer already counts whole
  countOptimizedMacs(optimizedAt(q, threads, ORT_ENABLE_EXTENDED), referenceShapes(quantized, sizes),
                     r.integer_macs, r.float_macs, r.unknown_shape_nodes, &r.float_nodes);
  r.unknown_shape_nodes += unknown_float;
  return r;
}

}  // namespace edgetune
