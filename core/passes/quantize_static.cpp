// Static INT8, the rewrite: Q/DQ placement that ONNX Runtime's QDQ transformers fuse into integer kernels.
// The rules we follow (ORT's qdq_selectors): every input of a fused node comes from its own DequantizeLinear
// (one DQ per consumer), its single output goes only into a QuantizeLinear, it does not produce a graph
// output, activation input and output types match, Conv/Gemm biases are int32 with scale = s_x * s_w and zero
// point 0. Relu/Clip after a quantized node are dropped when the output's zero point equals the type's
// minimum (the clamp of QuantizeLinear then does the Relu). Reshape-like ops and MaxPool reuse their input's
// scale and zero point so ORT drops their Q/DQ and runs them on int8 data. The plan is in
// quantize_static_plan.cpp, the numbers in quantize_params.cpp, the naming in quantize_qdq_writer.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/passes/graph_edit.h"
#include "core/passes/quantize_static_internal.h"
#include "core/util/error.h"

namespace edgetune {

using namespace quant_detail;

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
  std::set<std::string> replaced_initializers;  // float initializers that may have lost their last reader
  for (const auto& [target, act] : plan.folded) {
    report.lines.push_back("folded " + describeNode(g.node(act)) + " into the quantized output of " +
                           describeNode(g.node(target)));
    g.mutable_node(target)->set_output(0, g.node(act).output(0));
    // The activation node is removed below; until then it must not claim the tensor.
    g.mutable_node(act)->set_output(0, w.fresh(g.node(act).output(0) + ".removed"));
    for (const auto& in : g.node(act).input())
      if (model.isInitializer(in)) replaced_initializers.insert(in);  // a Clip's bounds
    remove[static_cast<size_t>(act)] = true;
  }
  model.reindex();

  // Names per activation tensor: a base, and scale and zero-point initializers shared by every tensor with
  // the same parameters (a MaxPool or Reshape output has its input's).
  struct ActivationNames {
    std::string base, scale, zero_point;
  };
  std::map<std::string, ActivationNames> act_names;
  std::map<std::pair<uint32_t, int32_t>, std::pair<std::string, std::string>> shared_params;
  for (const auto& t : plan.order) {
    const QuantParams p = params[t];
    ActivationNames names{w.newBase(), "", ""};
    uint32_t scale_bits = 0;
    std::memcpy(&scale_bits, &p.scale, sizeof scale_bits);
    auto [it, added] = shared_params.try_emplace({scale_bits, p.zero_point});
    if (added)
      it->second = {w.addInitializer(names.base + ".s", Tensor::from<float>({}, std::vector<float>{p.scale})),
                    w.addInitializer(names.base + ".z", zeroPointTensor(act_type, {}, {p.zero_point}))};
    names.scale = it->second.first;
    names.zero_point = it->second.second;
    act_names[t] = names;
  }

  // 2. Weights, biases and constant operands of targets (each consumer gets its own DQ node).
  struct QuantizedWeight {
    std::string base, q, scale, zero_point;
    std::vector<float> scales;
  };
  std::map<std::string, QuantizedWeight> quantized_weights;  // float initializer -> its int8 form
  for (int i : plan.targets) {
    auto* n = g.mutable_node(i);
    const std::string& op = n->op_type();
    const bool has_weight =
        op == "Conv" || op == "Gemm" || (op == "MatMul" && isConstFloat(model, n->input(1)));
    const bool has_bias = op != "MatMul" && n->input_size() > 2 && !n->input(2).empty();
    // Conv's all-zero weight and bias zero points are left out (see QdqWriter::zeroPoint). Gemm/MatMul keep
    // theirs: ORT's QGemm wants the weight's zero point shaped like its per-channel scale, not the scalar
    // ORT fills in; one layer per network, it is not where the bytes are.
    const bool omit_zero = op == "Conv";
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
        std::vector<float> min_scales;
        if (has_bias)
          min_scales = biasSafeWeightScales(
              tensorFromProto(*model.initializer(n->input(2))), params.at(n->input(0)).scale,
              axis >= 0 ? static_cast<size_t>(wf.shape()[static_cast<size_t>(axis)]) : 1);
        auto [q, scales] = quantizeWeight(wf, axis, options.reduce_range, min_scales);
        const std::vector<int64_t> shape =
            axis >= 0 ? std::vector<int64_t>{static_cast<int64_t>(scales.size())} : std::vector<int64_t>{};
        QuantizedWeight qw;
        qw.base = w.newBase();
        qw.q = w.addInitializer(qw.base, q);
        qw.scale = w.addInitializer(qw.base + ".s", Tensor::from<float>(shape, scales));
        qw.zero_point =
            w.zeroPoint(qw.base, DataType::Int8, shape, std::vector<int32_t>(scales.size(), 0), omit_zero);
        qw.scales = std::move(scales);
        quantized_weights[wname] = std::move(qw);
      }
      const QuantizedWeight& qw = quantized_weights.at(wname);
      n->set_input(1, w.dq(qw.base, qw.q, qw.scale, qw.zero_point, axis));
      replaced_initializers.insert(wname);

      // Bias: int32 with scale s_x * s_w (per channel), zero point 0.
      if (has_bias) {
        const std::string bname = n->input(2);
        const float s_x = params.at(n->input(0)).scale;
        const Tensor b = tensorFromProto(*model.initializer(bname));
        std::vector<float> bscale(qw.scales.size());
        for (size_t c = 0; c < qw.scales.size(); ++c) bscale[c] = s_x * qw.scales[c];
        const std::vector<int64_t> shape =
            qw.scales.size() == 1 && axis < 0 ? std::vector<int64_t>{} : std::vector<int64_t>{b.shape()[0]};
        const std::string base = w.newBase();
        const std::string bq = w.addInitializer(base, quantizeBias(b, bscale));
        const std::string bs = w.addInitializer(base + ".s", Tensor::from<float>(shape, bscale));
        const std::string bz =
            w.zeroPoint(base, DataType::Int32, shape, std::vector<int32_t>(bscale.size(), 0), omit_zero);
        n->set_input(2, w.dq(base, bq, bs, bz, shape.empty() ? -1 : 0));
        replaced_initializers.insert(bname);
      }
    }
    if (op == "Add" || op == "Mul") {
      for (int k = 0; k < 2; ++k) {
        const std::string cname = n->input(k);
        if (!isConstFloat(model, cname)) continue;
        QuantParams p;
        const Tensor q = quantizeConstant(tensorFromProto(*model.initializer(cname)), act_type,
                                          options.symmetric_activations, p);
        const std::string base = w.newBase();
        const std::string qn = w.addInitializer(base, q);
        const std::string sn =
            w.addInitializer(base + ".s", Tensor::from<float>({}, std::vector<float>{p.scale}));
        const std::string zn = w.zeroPoint(base, act_type, {}, {p.zero_point}, false);
        n->set_input(k, w.dq(base, qn, sn, zn));
        replaced_initializers.insert(cname);
      }
    }
  }

  // 3. Activations: one Q after the producer, one DQ per reading node input. A Shape node reads the quantized
  // tensor itself (same dimensions): a DQ there would only dequantize a whole tensor to learn its size.
  // Readers are collected before editing (the Q/DQ nodes are appended afterwards).
  std::map<std::string, std::vector<std::pair<int, int>>> readers;  // tensor -> (node, input slot)
  for (int i = 0; i < g.node_size(); ++i) {
    if (remove[static_cast<size_t>(i)]) continue;
    for (int k = 0; k < g.node(i).input_size(); ++k)
      if (params.count(g.node(i).input(k))) readers[g.node(i).input(k)].push_back({i, k});
  }
  for (const auto& t : plan.order) {
    const ActivationNames& names = act_names.at(t);
    std::string source = t;
    const bool graph_output = model.isGraphOutput(t);
    const int producer = model.producer(t);
    if (graph_output && producer >= 0) {
      // A fused node may not produce a graph output: it writes a new tensor, and a DQ restores the name.
      source = w.fresh(names.base + ".f");
      auto* p = g.mutable_node(producer);
      for (int k = 0; k < p->output_size(); ++k)
        if (p->output(k) == t) p->set_output(k, source);
    }
    const std::string qt = w.q(names.base, source, names.scale, names.zero_point);
    for (const auto& [node, slot] : readers[t]) {
      auto* reader = g.mutable_node(node);
      reader->set_input(
          slot, reader->op_type() == "Shape" ? qt : w.dq(names.base, qt, names.scale, names.zero_point));
    }
    if (graph_output) w.dq(names.base, qt, names.scale, names.zero_point, -1, t);
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
                         std::to_string(quantized_weights.size()) + " weight tensors, " +
                         std::to_string(plan.order.size()) + " activation tensors) to " +
                         (act_type == DataType::UInt8 ? "uint8" : "int8") + " activations, int8 " +
                         (options.per_channel ? "per-channel" : "per-tensor") + " weights");
  report.details["quantized_nodes"] = plan.targets.size();
  report.details["activation_tensors"] = plan.order.size();
  report.details["weight_tensors"] = quantized_weights.size();
  report.details["folded_activations"] = plan.folded.size();
  return report;
}

}  // namespace edgetune
