// Statistics recovery: pick the Conv/Gemm nodes to correct and map their channels to the reference (see the
// header comment), stream their output moments through ONNX Runtime, correct weights and biases per round.
#include "core/tuning/statistics_recovery.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>

#include "core/analysis/calibration.h"
#include "core/passes/graph_edit.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"

namespace edgetune {

namespace {

// Extra outputs of one run stay under this many bytes, so a big model's activations of a batch are not all
// alive at once (the batch shrinks instead).
constexpr int64_t kMaxOutputBytesPerRun = 256ll << 20;
// A pruned channel whose deviation is below this fraction of the reference's is dead: scaling it up would
// only amplify rounding noise, so it keeps its scale and only its mean moves.
constexpr double kDeadChannelFraction = 1e-8;
// The shift report divides by max(sd_ref, this fraction of the layer's mean sd_ref): a channel that is
// constant in the reference must not turn a tiny absolute shift into an enormous relative one.
constexpr double kShiftFloorFraction = 1e-3;

bool isStandardDomain(const onnx::NodeProto& node) {
  return node.domain().empty() || node.domain() == "ai.onnx";
}

bool isQuantizationOp(const std::string& op) {
  return op == "QuantizeLinear" || op == "DequantizeLinear" || op == "DynamicQuantizeLinear" ||
         op == "QGemm" || op.rfind("QLinear", 0) == 0 ||
         (op.size() > 7 && op.compare(op.size() - 7, 7, "Integer") == 0);
}

// How `skipped` names a node: its name, or its op and first output when it has none.
std::string nodeKey(const onnx::NodeProto& node) {
  if (!node.name().empty()) return node.name();
  return node.op_type() + " producing '" + (node.output_size() ? node.output(0) : std::string()) + "'";
}

// Conv/Gemm nodes inside If/Loop/Scan bodies: their statistics would need the body's outputs, which cannot be
// requested as graph outputs, so they are listed as skipped.
void listSubgraphNodes(const onnx::NodeProto& holder, std::map<std::string, std::string>& skipped) {
  auto visit = [&](const onnx::GraphProto& body) {
    for (const auto& node : body.node()) {
      if (node.op_type() == "Conv" || node.op_type() == "Gemm")
        skipped[nodeKey(node)] = "inside a subgraph of " + describeNode(holder);
      listSubgraphNodes(node, skipped);
    }
  };
  for (const auto& attr : holder.attribute()) {
    if (attr.has_g()) visit(attr.g());
    for (const auto& body : attr.graphs()) visit(body);
  }
}

// "" when `name` is a float32 initializer that only one node reads and the caller cannot override (so
// editing it changes that node alone), else why not.
std::string privateFloatInitializer(const Model& model, const std::string& name, const std::string& role) {
  if (name.empty()) return "has no " + role;
  if (!model.isInitializer(name)) {
    const int p = model.producer(name);
    if (p >= 0 && isQuantizationOp(model.graph().node(p).op_type()))
      return role + " '" + name + "' is computed by " + describeNode(model.graph().node(p)) + " (quantized)";
    return role + " '" + name + "' is not an initializer";
  }
  if (!isConstantInitializer(model, name))
    return role + " '" + name + "' is also a graph input (the caller may override it)";
  const int type = model.initializer(name)->data_type();
  if (type != onnx::TensorProto::FLOAT)
    return role + " '" + name + "' is " +
           onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(type)) + ", not float32";
  if (model.consumers(name).size() > 1 || isCapturedBySubgraph(model, name) || model.isGraphOutput(name))
    return role + " '" + name + "' is shared with other nodes";
  return {};
}

// The bias values when `name` holds one per output channel ([C], or [1, C] for Gemm), else nullopt.
std::optional<std::vector<float>> perChannelBias(const Model& model, const std::string& name, bool gemm) {
  const auto* init = model.initializer(name);
  if (!init || init->data_type() != onnx::TensorProto::FLOAT) return std::nullopt;
  const Tensor bias = tensorFromProto(*init);
  const auto& shape = bias.shape();
  const bool one_per_channel =
      shape.size() == 1 || (gemm && shape.size() == 2 && shape[0] == 1 && shape[1] == bias.numel());
  if (!one_per_channel) return std::nullopt;
  const auto values = bias.values<float>();
  return std::vector<float>(values.begin(), values.end());
}

// "" when the node's output can be fetched with its channel axis intact, else why not.
std::string fetchableOutput(const Model& model, const std::string& tensor) {
  if (calibrationOutputName(model, tensor) != tensor)
    return "the rank of its output '" + tensor + "' is unknown";
  const auto info = model.valueInfo(tensor);
  if (info && info->type != DataType::Float32)
    return "its output '" + tensor + "' is " + dataTypeName(info->type) + ", not float32";
  return {};
}

// Pruned channel j -> reference channel (see the header comment, step 2); nullopt with `why` set when the
// biases do not identify one matching.
std::optional<std::vector<int64_t>> mapChannels(const std::vector<float>& pruned,
                                                const std::vector<float>& reference, std::string& why) {
  const size_t n = pruned.size(), m = reference.size();
  std::vector<int64_t> leftmost(n), rightmost(n);
  if (n == m) {
    for (size_t j = 0; j < n; ++j) leftmost[j] = static_cast<int64_t>(j);
    return leftmost;
  }
  if (n > m) {
    why = "has " + std::to_string(n) + " output channels, more than the reference's " + std::to_string(m);
    return std::nullopt;
  }
  auto same = [](float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); };
  size_t i = 0;
  for (size_t j = 0; j < n; ++j, ++i) {
    while (i < m && !same(reference[i], pruned[j])) ++i;
    if (i == m) {
      why = "only " + std::to_string(j) + " of its " + std::to_string(n) +
            " output channels match the reference's biases in order (not a channel-pruned copy of the "
            "reference node, or its biases changed)";
      return std::nullopt;
    }
    leftmost[j] = static_cast<int64_t>(i);
  }
  size_t k = m;  // one past the candidate, walking back
  for (size_t j = n; j-- > 0;) {
    while (!same(reference[k - 1], pruned[j])) --k;  // terminates: the leftmost matching exists
    rightmost[j] = static_cast<int64_t>(--k);
  }
  if (leftmost != rightmost) {
    why = "repeated bias values make it ambiguous which of the reference's " + std::to_string(m) +
          " channels survived";
    return std::nullopt;
  }
  return leftmost;
}

// One node to correct.
struct Target {
  std::string node;
  bool gemm = false;
  bool trans_b = false;  // Gemm: output channel c is row c of W (else column c)
  std::string weight, bias;
  std::string pruned_output, reference_output;
  int64_t channels = 0;                    // in the pruned model
  int64_t reference_channels = 0;          // in the reference model
  std::vector<int64_t> reference_channel;  // per pruned channel
};

struct Selection {
  std::vector<Target> targets;
  std::map<std::string, std::string> skipped;
};

// Step 1 and 2 of the header comment for one top-level Conv/Gemm node: the target, or why not.
std::optional<Target> targetFor(const Model& reference, const Model& pruned, const onnx::NodeProto& node,
                                const std::unordered_map<std::string, int>& reference_nodes,
                                bool correct_outputs, std::string& why) {
  const bool gemm = node.op_type() == "Gemm";
  if (node.output_size() < 1 || node.output(0).empty()) return why = "has no output", std::nullopt;
  if (node.input_size() < 3 || node.input(2).empty()) return why = "has no bias (input 2)", std::nullopt;
  if (why = privateFloatInitializer(pruned, node.input(1), "weight"); !why.empty()) return std::nullopt;
  if (why = privateFloatInitializer(pruned, node.input(2), "bias"); !why.empty()) return std::nullopt;
  if (gemm) {
    const float alpha = attrFloat(node, "alpha", 1.f), beta = attrFloat(node, "beta", 1.f);
    const int64_t trans_a = attrInt(node, "transA", 0);
    if (alpha != 1.f || beta != 1.f || trans_a != 0) {
      why = "Gemm with alpha " + std::to_string(alpha) + ", beta " + std::to_string(beta) + ", transA " +
            std::to_string(trans_a) + ": the correction needs alpha = beta = 1 and transA = 0";
      return std::nullopt;
    }
  }
  if (!correct_outputs && pruned.isGraphOutput(node.output(0)))
    return why = "produces graph output '" + node.output(0) + "' (correct_outputs is off)", std::nullopt;
  if (why = fetchableOutput(pruned, node.output(0)); !why.empty()) return std::nullopt;

  Target t;
  t.node = node.name();
  t.gemm = gemm;
  t.trans_b = gemm && attrInt(node, "transB", 0) != 0;
  t.weight = node.input(1);
  t.bias = node.input(2);
  t.pruned_output = node.output(0);
  const auto* weight = pruned.initializer(t.weight);
  if (gemm ? weight->dims_size() != 2 : weight->dims_size() < 3)
    return why = "weight '" + t.weight + "' has an unexpected rank", std::nullopt;
  t.channels = gemm ? weight->dims(t.trans_b ? 0 : 1) : weight->dims(0);
  const auto bias = perChannelBias(pruned, t.bias, gemm);
  if (!bias || static_cast<int64_t>(bias->size()) != t.channels)
    return why = "bias '" + t.bias + "' does not hold one value per output channel", std::nullopt;

  const auto it = reference_nodes.find(node.name());
  if (it == reference_nodes.end()) return why = "no node of that name in the reference model", std::nullopt;
  if (it->second < 0) return why = "its name is not unique in the reference model", std::nullopt;
  const onnx::NodeProto& ref = reference.graph().node(it->second);
  if (ref.op_type() != node.op_type())
    return why = "is a " + ref.op_type() + " in the reference model", std::nullopt;
  const std::string ref_bias_name = ref.input_size() > 2 ? ref.input(2) : std::string();
  const auto ref_bias =
      reference.isInitializer(ref_bias_name) ? perChannelBias(reference, ref_bias_name, gemm) : std::nullopt;
  if (!ref_bias)
    return why = "the reference's " + ref.op_type() + " has no float bias initializer", std::nullopt;
  if (ref.output_size() < 1 || ref.output(0).empty())
    return why = "the reference node has no output", std::nullopt;
  t.reference_output = ref.output(0);
  if (why = fetchableOutput(reference, t.reference_output); !why.empty()) {
    why = "in the reference model, " + why;
    return std::nullopt;
  }
  t.reference_channels = static_cast<int64_t>(ref_bias->size());
  auto mapping = mapChannels(*bias, *ref_bias, why);
  if (!mapping) return std::nullopt;
  t.reference_channel = std::move(*mapping);
  return t;
}

Selection selectTargets(const Model& reference, const Model& pruned, bool correct_outputs) {
  Selection s;
  // Name -> node index; -1 when the name occurs more than once (then it identifies nothing).
  auto index = [](const Model& m) {
    std::unordered_map<std::string, int> by_name;
    for (int n = 0; n < m.graph().node_size(); ++n) {
      const std::string& name = m.graph().node(n).name();
      if (name.empty()) continue;
      auto [it, fresh] = by_name.emplace(name, n);
      if (!fresh) it->second = -1;
    }
    return by_name;
  };
  const auto reference_nodes = index(reference);
  const auto pruned_nodes = index(pruned);
  for (const auto& node : pruned.graph().node()) {
    listSubgraphNodes(node, s.skipped);
    if ((node.op_type() != "Conv" && node.op_type() != "Gemm") || !isStandardDomain(node)) continue;
    std::string why;
    if (node.name().empty())
      why = "has no name, so it cannot be matched to the reference model";
    else if (pruned_nodes.at(node.name()) < 0)
      why = "its name is not unique in the pruned model";
    std::optional<Target> t;
    if (why.empty()) t = targetFor(reference, pruned, node, reference_nodes, correct_outputs, why);
    if (t)
      s.targets.push_back(std::move(*t));
    else
      s.skipped[nodeKey(node)] = why;
  }
  return s;
}

// The Error for a model with nothing to correct, saying why in the user's terms.
Error nothingCorrectable(const Model& pruned, const std::map<std::string, std::string>& skipped) {
  std::string message =
      "statistics recovery: no Conv or Gemm node of '" + pruned.origin() + "' can be corrected";
  int quantization_nodes = 0;
  std::string example;
  for (const auto& node : pruned.graph().node())
    if (isQuantizationOp(node.op_type()) && quantization_nodes++ == 0) example = describeNode(node);
  if (quantization_nodes > 0)
    return Error(message + ": the model is quantized (" + std::to_string(quantization_nodes) +
                 " quantization nodes, e.g. " + example +
                 "); re-estimate the statistics of the float model, then quantize it");
  if (skipped.empty()) return Error(message + ": it has no Conv or Gemm node with float weights and a bias");
  int listed = 0;
  message += ":";
  for (const auto& [node, why] : skipped) {
    if (listed++ == 3) {
      message += " (and " + std::to_string(skipped.size() - 3) + " more)";
      break;
    }
    message += (listed > 1 ? "; " : " ") + node + ": " + why;
  }
  return Error(message);
}

// Streaming per-channel mean and deviation of a tensor's values (step 3 of the header comment).
class ChannelMoments {
 public:
  ChannelMoments(int64_t channels, bool channel_last)
      : channel_last_(channel_last),
        shift_(static_cast<size_t>(channels)),
        sum_(static_cast<size_t>(channels)),
        sum_sq_(static_cast<size_t>(channels)) {}

  void add(const Tensor& values, const std::string& what) {
    if (values.type() != DataType::Float32) throw Error(what + " is not float32");
    const auto& shape = values.shape();
    const auto channels = static_cast<int64_t>(shift_.size());
    const size_t axis = channel_last_ ? shape.size() - 1 : 1;
    if (shape.size() < 2 || shape[axis] != channels)
      throw Error(what + " has shape " + values.shapeString() + ", expected " + std::to_string(channels) +
                  " channels on axis " + std::to_string(axis));
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < axis; ++d) outer *= shape[d];
    for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    if (outer * inner == 0) return;
    const auto v = values.values<float>();
    if (count_ == 0)
      for (int64_t c = 0; c < channels; ++c) shift_[c] = v[c * inner];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < channels; ++c) {
        const double k = shift_[c];
        double s1 = 0, s2 = 0;
        const float* x = v.data() + (o * channels + c) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          const double d = static_cast<double>(x[i]) - k;
          s1 += d;
          s2 += d * d;
        }
        sum_[c] += s1;
        sum_sq_[c] += s2;
      }
    count_ += outer * inner;
  }

  double mean(size_t c) const { return shift_[c] + sum_[c] / static_cast<double>(count_); }
  double deviation(size_t c) const {
    const double m = sum_[c] / static_cast<double>(count_);
    return std::sqrt(std::max(0.0, sum_sq_[c] / static_cast<double>(count_) - m * m));
  }
  int64_t count() const { return count_; }

 private:
  bool channel_last_;
  std::vector<double> shift_, sum_, sum_sq_;
  int64_t count_ = 0;  // values per channel
};

// One model with the targets' outputs added as graph outputs, and the moments of those outputs.
struct Probe {
  std::string origin;
  std::unique_ptr<Executor> executor;
  std::vector<TensorInfo> inputs;
  std::vector<std::string> fetch;
  std::vector<ChannelMoments> moments;

  void run(const Batch& batch, const std::string& dataset_name) {
    auto outputs = executor->run(bindInputs(inputs, batch, dataset_name), fetch);
    for (size_t i = 0; i < fetch.size(); ++i)
      moments[i].add(outputs[i], origin + ": output '" + fetch[i] + "'");
  }
};

Probe makeProbe(const Model& model, const std::vector<Target>& targets, bool reference, const Dataset& data) {
  Probe p;
  p.origin = model.origin();
  for (const auto& t : targets) {
    p.fetch.push_back(reference ? t.reference_output : t.pruned_output);
    p.moments.emplace_back(reference ? t.reference_channels : t.channels, t.gemm);
  }
  OrtOptions ort;
  ort.intra_op_threads = 1;
  p.executor = makeOrtExecutor(withExtraOutputs(model, p.fetch), ort);
  p.inputs = p.executor->inputs();
  try {
    checkInputsFit(p.inputs, data.features(), data.name());
  } catch (const Error& e) {
    throw Error("statistics recovery of '" + model.origin() + "': " + e.what());
  }
  return p;
}

// Bytes of the targets' outputs for one example (unknown dimensions other than the batch count as 1).
int64_t outputBytesPerExample(const Model& model, const std::vector<Target>& targets, bool reference) {
  int64_t total = 0;
  for (const auto& t : targets) {
    const auto info = model.valueInfo(reference ? t.reference_output : t.pruned_output);
    int64_t n = 4;
    if (info && info->has_shape)
      for (size_t d = 1; d < info->shape.size(); ++d) n *= std::max<int64_t>(1, info->shape[d]);
    total += n;
  }
  return total;
}

int64_t fixedBatch(const std::vector<TensorInfo>& inputs) {
  return !inputs.empty() && !inputs[0].shape.empty() && inputs[0].shape[0] > 0 ? inputs[0].shape[0] : 0;
}

// Step 4 for one target; adds its channels' relative shifts to `shift_sum` / `shift_channels`. Returns true
// if any channel was corrected.
bool correctTarget(Model& model, const Target& t, const ChannelMoments& pruned, const ChannelMoments& ref,
                   double& shift_sum, int64_t& shift_channels) {
  Tensor weight = tensorFromProto(*model.initializer(t.weight));
  Tensor bias = tensorFromProto(*model.initializer(t.bias));
  auto w = weight.values<float>();
  auto b = bias.values<float>();
  const auto channels = static_cast<size_t>(t.channels);
  double mean_ref_deviation = 0;
  for (size_t j = 0; j < channels; ++j)
    mean_ref_deviation += ref.deviation(static_cast<size_t>(t.reference_channel[j]));
  mean_ref_deviation /= static_cast<double>(channels);
  const double shift_floor = std::max(kShiftFloorFraction * mean_ref_deviation, 1e-12);
  // Where output channel c's weights are: Conv [C, ...] and Gemm transB=1 [C, K] own one contiguous block;
  // Gemm transB=0 [K, C] holds column c at stride C.
  const bool strided = t.gemm && !t.trans_b;
  const size_t per_channel = static_cast<size_t>(weight.numel()) / channels;
  bool any = false;
  for (size_t c = 0; c < channels; ++c) {
    const auto r = static_cast<size_t>(t.reference_channel[c]);
    const double mu_p = pruned.mean(c), sd_p = pruned.deviation(c);
    const double mu_ref = ref.mean(r), sd_ref = ref.deviation(r);
    if (!std::isfinite(mu_p) || !std::isfinite(mu_ref) || !std::isfinite(sd_ref)) continue;
    double a = sd_ref / sd_p;
    if (!(sd_p >= kDeadChannelFraction * std::max(sd_ref, 1e-12)) || !std::isfinite(a)) a = 1;
    shift_sum += std::fabs(mu_p - mu_ref) / std::max(sd_ref, shift_floor);
    ++shift_channels;
    for (size_t k = 0; k < per_channel; ++k) {
      float& v = strided ? w[k * channels + c] : w[c * per_channel + k];
      v = static_cast<float>(a * v);
    }
    b[c] = static_cast<float>(a * (static_cast<double>(b[c]) - mu_p) + mu_ref);
    any = true;
  }
  if (any) {
    *model.mutableInitializer(t.weight) = tensorToProto(t.weight, weight);
    *model.mutableInitializer(t.bias) = tensorToProto(t.bias, bias);
  }
  return any;
}

}  // namespace

StatisticsRecoveryResult recoverChannelStatistics(
    const Model& reference, const Model& pruned, const Dataset& data,
    const StatisticsRecoveryOptions& options, JobContext* job,
    const std::function<void(const StatisticsRecoveryResult& so_far)>& after_round) {
  if (options.samples == 0) throw Error("statistics recovery: samples must be positive");
  if (options.rounds < 1) throw Error("statistics recovery: rounds must be at least 1");
  if (options.batch_size <= 0) throw Error("statistics recovery: batch size must be positive");
  if (data.size() == 0) throw Error("statistics recovery: dataset '" + data.name() + "' is empty");

  Selection selection = selectTargets(reference, pruned, options.correct_outputs);
  if (selection.targets.empty()) throw nothingCorrectable(pruned, selection.skipped);
  const std::vector<Target>& targets = selection.targets;

  StatisticsRecoveryResult result;
  result.model = pruned;
  result.skipped = std::move(selection.skipped);
  for (const auto& t : targets) result.corrected.push_back(t.node);

  // The reference is measured once (its statistics never change), alongside the first round.
  std::optional<Probe> reference_probe = makeProbe(reference, targets, true, data);
  const int64_t reference_fixed = fixedBatch(reference_probe->inputs);

  std::vector<size_t> indices = seededSubset(data.size(), options.samples, options.seed);
  size_t batch = 0;
  {
    Probe first = makeProbe(result.model, targets, false, data);
    const int64_t fixed = fixedBatch(first.inputs);
    if (fixed > 0 && reference_fixed > 0 && fixed != reference_fixed)
      throw Error("statistics recovery: the reference model runs batches of " +
                  std::to_string(reference_fixed) + " examples, the pruned model batches of " +
                  std::to_string(fixed));
    if (fixed > 0 || reference_fixed > 0) {
      batch = static_cast<size_t>(std::max(fixed, reference_fixed));
      if (indices.size() < batch)
        throw Error("statistics recovery: the model's fixed batch of " + std::to_string(batch) +
                    " examples needs more examples than the " + std::to_string(indices.size()) +
                    " available");
      indices.resize(indices.size() / batch * batch);  // whole batches only
    } else {
      const int64_t bytes = std::max(outputBytesPerExample(reference, targets, true),
                                     outputBytesPerExample(pruned, targets, false));
      batch = static_cast<size_t>(
          std::clamp<int64_t>(kMaxOutputBytesPerRun / std::max<int64_t>(1, bytes), 1, options.batch_size));
    }
  }

  const size_t examples = indices.size();
  const double total_runs = static_cast<double>(examples) * (options.rounds + 1);
  double done_runs = 0;
  std::vector<ChannelMoments> reference_moments;  // filled by the first round's pass
  for (int round = 1; round <= options.rounds; ++round) {
    if (job) job->throwIfCancelled();
    Probe probe = makeProbe(result.model, targets, false, data);
    const bool measure_reference = reference_probe.has_value();
    for (size_t begin = 0; begin < examples; begin += batch) {
      if (job) job->throwIfCancelled();
      const size_t count = std::min(batch, examples - begin);
      const Batch examples_batch = makeBatch(data, std::span<const size_t>(indices.data() + begin, count));
      probe.run(examples_batch, data.name());
      done_runs += static_cast<double>(count);
      if (measure_reference) {
        reference_probe->run(examples_batch, data.name());
        done_runs += static_cast<double>(count);
      }
      if (job)
        job->report(done_runs / total_runs, "re-estimating channel statistics, round " +
                                                std::to_string(round) + " of " +
                                                std::to_string(options.rounds));
    }
    if (measure_reference) {
      // The reference's statistics never change: keep its moments, let its session's memory go.
      reference_moments = std::move(reference_probe->moments);
      reference_probe.reset();
    }

    StatisticsRecoveryRound summary;
    summary.round = round;
    double shift_sum = 0;
    int64_t shift_channels = 0;
    for (size_t i = 0; i < targets.size(); ++i)
      summary.corrected_nodes += correctTarget(result.model, targets[i], probe.moments[i],
                                               reference_moments[i], shift_sum, shift_channels);
    summary.mean_abs_shift = shift_channels ? shift_sum / static_cast<double>(shift_channels) : 0.0;
    result.rounds.push_back(summary);
    if (after_round) after_round(result);
  }
  if (job) job->report(1.0, "channel statistics re-estimated");
  return result;
}

}  // namespace edgetune
