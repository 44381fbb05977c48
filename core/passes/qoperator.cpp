// QOperator format: rewrites the Q/DQ graph static quantization produces into integer operators stored in the
// file (QLinearConv, QLinearMatMul; com.microsoft QLinearAdd, QLinearGlobalAveragePool, QGemm), the form
// older runtimes and some accelerators need because they cannot fuse Q/DQ pairs themselves. Only nodes whose
// every operand is dequantized (and, except QGemm, whose output is quantized right away) are rewritten; what
// does not match stays in Q/DQ form, which ONNX Runtime still fuses, and is counted in the report.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/passes/graph_edit.h"
#include "core/passes/quantize_passes.h"
#include "core/util/error.h"

namespace edgetune {
namespace {

constexpr const char* kMicrosoftDomain = "com.microsoft";

// The DequantizeLinear node producing `tensor`, or null.
const onnx::NodeProto* dequantizer(const Model& model, const std::string& tensor) {
  const int p = model.producer(tensor);
  if (p < 0) return nullptr;
  const auto& node = model.graph().node(p);
  return node.op_type() == "DequantizeLinear" && node.input_size() >= 2 ? &node : nullptr;
}

// The single QuantizeLinear reading `tensor`, if it is its only reader and `tensor` is not a graph output.
const onnx::NodeProto* soleQuantizer(const Model& model, const std::string& tensor) {
  if (model.isGraphOutput(tensor)) return nullptr;
  const auto& readers = model.consumers(tensor);
  if (readers.size() != 1) return nullptr;
  const auto& node = model.graph().node(readers[0]);
  return node.op_type() == "QuantizeLinear" && node.input_size() == 3 ? &node : nullptr;
}

std::vector<float> floatValues(const Model& model, const std::string& name) {
  const onnx::TensorProto* t = model.initializer(name);
  if (!t) return {};
  const Tensor v = tensorFromProto(*t);
  if (v.type() != DataType::Float32) return {};
  auto span = v.values<float>();
  return {span.begin(), span.end()};
}

// An int32 bias dequantized with scale a_scale * w_scale[c] (zero point 0) can feed the integer kernel
// directly.
bool biasMatches(const Model& model, const onnx::NodeProto& bias_dq, const std::string& a_scale,
                 const std::string& w_scale) {
  const onnx::TensorProto* b = model.initializer(bias_dq.input(0));
  if (!b || b->data_type() != onnx::TensorProto::INT32) return false;
  const auto bs = floatValues(model, bias_dq.input(1)), as = floatValues(model, a_scale),
             ws = floatValues(model, w_scale);
  if (as.size() != 1 || bs.empty() || ws.empty() || (bs.size() != ws.size() && ws.size() != 1)) return false;
  for (size_t c = 0; c < bs.size(); ++c) {
    const float expected = as[0] * ws[ws.size() == 1 ? 0 : c];
    if (std::fabs(bs[c] - expected) > 1e-6f * std::fabs(expected)) return false;
  }
  return true;
}

bool isConstantOperand(const Model& model, const onnx::NodeProto& dq) {
  return isConstantInitializer(model, dq.input(0));
}

}  // namespace

PassReport convertToQOperator(Model& model) {
  PassReport report;
  report.pass_name = "qoperator";
  model.reindex();
  std::map<std::string, int> converted;
  std::map<std::string, int> left;  // op type -> nodes left in Q/DQ form
  std::vector<bool> remove(static_cast<size_t>(model.graph().node_size()), false);
  bool uses_microsoft = false;
  // A DequantizeLinear may omit its zero point (static INT8 does for all-zero weights); the QLinear operators
  // take one as a required input, so those read one shared scalar zero of the quantized tensor's type.
  std::map<int, std::string> zeros;  // element type -> initializer
  auto zeroOf = [&](const std::string& quantized) {
    const onnx::TensorProto* t = model.initializer(quantized);
    const auto info = t ? std::nullopt : model.valueInfo(quantized);
    const DataType type = t ? dataTypeFromOnnx(t->data_type()) : info ? info->type : DataType::UInt8;
    auto& name = zeros[static_cast<int>(type)];
    if (name.empty()) {
      name = uniqueName(model, "zero_point_" + dataTypeName(type));
      *model.graph().add_initializer() = tensorToProto(name, Tensor(type, {}));  // a scalar 0
    }
    return name;
  };

  for (int i = 0; i < model.graph().node_size(); ++i) {
    onnx::NodeProto& node = *model.graph().mutable_node(i);
    const std::string op = node.op_type();
    if (op != "Conv" && op != "MatMul" && op != "Add" && op != "GlobalAveragePool" && op != "Gemm") continue;
    std::vector<const onnx::NodeProto*> dq;
    bool all_dequantized = node.input_size() > 0;
    for (const auto& input : node.input()) {
      const onnx::NodeProto* d = input.empty() ? nullptr : dequantizer(model, input);
      all_dequantized = all_dequantized && d;
      dq.push_back(d);
    }
    const onnx::NodeProto* q = soleQuantizer(model, node.output(0));
    auto skip = [&] { ++left[op]; };
    if (!all_dequantized || (!q && op != "Gemm")) {
      // Nodes static quantization left in float (excluded, or not quantizable) are not "left" in Q/DQ form.
      if (std::any_of(dq.begin(), dq.end(), [](auto* d) { return d != nullptr; })) skip();
      continue;
    }

    onnx::NodeProto rewritten;
    rewritten.set_name(node.name());
    bool unsupported_attribute = false;
    for (const auto& a : node.attribute()) {
      // QGemm has alpha/transA/transB but no beta: the int32 bias is added as is.
      if (op == "Gemm" && a.name() == "beta")
        unsupported_attribute = unsupported_attribute || a.f() != 1.0f;
      else
        *rewritten.add_attribute() = a;
    }
    if (unsupported_attribute) {
      skip();
      continue;
    }
    auto add = [&](const onnx::NodeProto* d) {
      rewritten.add_input(d->input(0));
      rewritten.add_input(d->input(1));
      rewritten.add_input(d->input_size() > 2 && !d->input(2).empty() ? d->input(2) : zeroOf(d->input(0)));
    };
    if (op == "Conv" || op == "MatMul" || op == "Gemm") {
      if (!isConstantOperand(model, *dq[1])) {
        skip();
        continue;
      }
      if (op == "MatMul" && floatValues(model, dq[1]->input(1)).size() != 1) {
        skip();  // QLinearMatMul here takes per-tensor weight scales only
        continue;
      }
      if (dq.size() > 2 && !biasMatches(model, *dq[2], dq[0]->input(1), dq[1]->input(1))) {
        skip();
        continue;
      }
      rewritten.set_op_type(op == "Conv" ? "QLinearConv" : op == "MatMul" ? "QLinearMatMul" : "QGemm");
      add(dq[0]);
      add(dq[1]);
      if (op == "Gemm") {
        rewritten.set_domain(kMicrosoftDomain);
        rewritten.add_input(dq.size() > 2 ? dq[2]->input(0) : "");
        if (q) {
          rewritten.add_input(q->input(1));
          rewritten.add_input(q->input(2));
        }
      } else {
        rewritten.add_input(q->input(1));
        rewritten.add_input(q->input(2));
        if (op == "Conv" && dq.size() > 2) rewritten.add_input(dq[2]->input(0));
      }
    } else if (op == "Add") {
      rewritten.set_op_type("QLinearAdd");
      rewritten.set_domain(kMicrosoftDomain);
      add(dq[0]);
      add(dq[1]);
      rewritten.add_input(q->input(1));
      rewritten.add_input(q->input(2));
    } else {  // GlobalAveragePool
      rewritten.set_op_type("QLinearGlobalAveragePool");
      rewritten.set_domain(kMicrosoftDomain);
      add(dq[0]);
      rewritten.add_input(q->input(1));
      rewritten.add_input(q->input(2));
      auto* layout = rewritten.add_attribute();
      layout->set_name("channels_last");
      layout->set_type(onnx::AttributeProto::INT);
      layout->set_i(0);
    }
    rewritten.add_output(q ? q->output(0) : node.output(0));
    if (q) remove[static_cast<size_t>(model.producer(q->output(0)))] = true;
    uses_microsoft = uses_microsoft || rewritten.domain() == kMicrosoftDomain;
    ++converted[op];
    node = std::move(rewritten);
  }
  int removed = removeNodes(model, remove);

  // DequantizeLinear nodes nobody reads any more (the weights', the activations' now read directly), then the
  // initializers only they used.
  for (bool again = true; again;) {
    model.reindex();
    const std::set<std::string> used = usedTensorNames(model);
    std::vector<bool> dead(static_cast<size_t>(model.graph().node_size()), false);
    again = false;
    for (int i = 0; i < model.graph().node_size(); ++i) {
      const auto& n = model.graph().node(i);
      if ((n.op_type() == "DequantizeLinear" || n.op_type() == "QuantizeLinear") &&
          !used.count(n.output(0)) && !model.isGraphOutput(n.output(0)))
        dead[static_cast<size_t>(i)] = again = true;
    }
    removed += removeNodes(model, dead);
  }
  model.reindex();
  const std::set<std::string> used = usedTensorNames(model);
  std::set<std::string> unused;
  for (const auto& init : model.graph().initializer())
    if (!used.count(init.name()) && !model.isGraphOutput(init.name())) unused.insert(init.name());
  report.initializers_removed = removeInitializers(model, unused);

  if (uses_microsoft) {
    bool present = false;
    for (const auto& o : model.proto().opset_import()) present = present || o.domain() == kMicrosoftDomain;
    if (!present) {
      auto* o = model.proto().add_opset_import();
      o->set_domain(kMicrosoftDomain);
      o->set_version(1);
    }
  }
  report.nodes_removed = removed;
  int total = 0;
  nlohmann::json conv = nlohmann::json::object(), kept = nlohmann::json::object();
  for (const auto& [op, n] : converted) {
    conv[op] = n;
    total += n;
  }
  for (const auto& [op, n] : left) kept[op] = n;
  report.details["converted"] = conv;
  report.details["left_qdq"] = kept;
  std::string line = "QOperator format: " + std::to_string(total) + " node(s) rewritten as integer operators";
  for (const auto& [op, n] : left) line += ", " + std::to_string(n) + " " + op + " left in Q/DQ form";
  report.lines.push_back(line);
  finishGraphEdit(model, "qoperator");
  return report;
}

}  // namespace edgetune
