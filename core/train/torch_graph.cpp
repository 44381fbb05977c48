// TorchGraph: initializers -> parameters/buffers/constants, nodes -> pre-compiled kernels over value slots.
#include "core/train/torch_graph.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "core/train/torch_ops.h"
#include "core/util/error.h"

namespace edgetune {
namespace {

enum class SlotKind { Activation = 1, Constant, Parameter, Buffer };

// How a node uses an initializer at input position `i`; decides whether a float initializer is trained.
enum class Use { Weight = 1, Statistic, QuantParam, ShapeLike, General };

Use classifyUse(const std::string& op, int i) {
  if (op == "BatchNormalization") return i >= 3 ? Use::Statistic : Use::Weight;
  if (op == "QuantizeLinear" || op == "DequantizeLinear") return i >= 1 ? Use::QuantParam : Use::Weight;
  if (op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul" || op == "LayerNormalization" ||
      op == "InstanceNormalization" || op == "PRelu" || op == "Einsum")
    return Use::Weight;
  if (op == "Gather") return i == 0 ? Use::Weight : Use::ShapeLike;  // embedding tables train, indices do not
  static const std::set<std::string> shape_from_1 = {
      "Reshape",   "Expand",          "Tile",      "Slice",          "Pad",       "Clip",
      "Pow",       "Resize",          "Upsample",  "Dropout",        "Split",     "Squeeze",
      "Unsqueeze", "ReduceMean",      "ReduceSum", "ReduceMax",      "ReduceMin", "ReduceProd",
      "ReduceL2",  "ReduceSumSquare", "TopK",      "GatherElements", "CumSum",    "OneHot"};
  if (i >= 1 && shape_from_1.count(op)) return Use::ShapeLike;
  if (op == "Range" || op == "ConstantOfShape" || (op == "Where" && i == 0)) return Use::ShapeLike;
  return Use::General;
}

std::string firstLine(std::string s) {
  if (auto pos = s.find('\n'); pos != std::string::npos) s.resize(pos);
  return s;
}

// "float32[2,3,8,8], int64[4]": what a node was given, for run-time errors (shapes are only known then).
std::string describeInputs(const std::vector<at::Tensor>& args) {
  std::string out;
  for (const auto& t : args) {
    if (!out.empty()) out += ", ";
    if (!t.defined()) {
      out += "(absent)";
      continue;
    }
    std::string type;
    try {
      type = dataTypeName(torch_ops::fromScalarType(t.scalar_type()));
    } catch (const Error&) {
      type = c10::toString(t.scalar_type());
    }
    out += type + shapeToString(std::vector<int64_t>(t.sizes().begin(), t.sizes().end()));
  }
  return out;
}

}  // namespace

struct TorchGraph::Impl {
  struct Node {
    const onnx::NodeProto* proto = nullptr;  // valid while building only
    std::string description;                 // "Conv 'conv1'"
    std::vector<int> inputs;                 // slot per ONNX input, -1 if absent
    std::vector<int> outputs;                // slot per ONNX output, -1 if absent
    torch_ops::Kernel kernel;
  };
  // The nodes needed for one set of requested outputs, and when each activation can be released.
  struct Plan {
    std::vector<int> nodes;
    std::vector<std::vector<int>> release_after;
  };

  std::string origin;
  bool training = false;
  std::vector<std::string> slot_names;
  std::unordered_map<std::string, int> slot_of;
  std::vector<SlotKind> kinds;
  std::vector<at::Tensor> fixed;  // constants, parameters and buffers; undefined for activations
  std::vector<int> producer;      // index into `nodes`, -1 for inputs and fixed slots
  std::vector<Node> nodes;        // topological order, folded nodes removed
  std::vector<std::string> input_names, output_names;
  std::vector<int> input_slots;
  std::vector<DataType> input_types;
  std::vector<int> input_ranks;  // -1 if unknown
  std::vector<std::string> parameter_names, buffer_names;
  std::vector<at::Tensor> parameters, buffers;
  std::map<std::vector<int>, Plan> plans;

  int slot(const std::string& name) {
    auto [it, inserted] = slot_of.emplace(name, static_cast<int>(slot_names.size()));
    if (inserted) {
      slot_names.push_back(name);
      kinds.push_back(SlotKind::Activation);
      fixed.emplace_back();
      producer.push_back(-1);
    }
    return it->second;
  }

  void build(const Model& model);
  const Plan& plan(const std::vector<int>& wanted);
  std::vector<at::Tensor> run(std::vector<at::Tensor> values, const std::vector<int>& wanted);
};

static std::string unsupportedMessage(const Model& model) {
  // One message for the whole model: the first node by name, and every other operator type that is missing,
  // so the user learns everything that blocks training from one run.
  const onnx::NodeProto* first = nullptr;
  std::set<std::string> ops;
  int count = 0;
  for (const auto& node : model.graph().node())
    if (!torch_ops::isSupported(node)) {
      if (!first) first = &node;
      ops.insert((node.domain().empty() || node.domain() == "ai.onnx" ? "" : node.domain() + ":") +
                 node.op_type());
      ++count;
    }
  if (!first) return {};
  std::string list;
  for (const auto& op : ops) list += (list.empty() ? "" : ", ") + op;
  std::string msg = model.origin() + ": " + describeNode(*first) +
                    " cannot be trained: the training engine has no " +
                    (first->domain().empty() || first->domain() == "ai.onnx" ? "" : first->domain() + ":") +
                    first->op_type() + " operator";
  if (count > 1 && ops.size() == 1) msg += " (" + std::to_string(count) + " nodes use it)";
  if (ops.size() > 1) msg += " (" + std::to_string(count) + " nodes use unsupported operators: " + list + ")";
  msg +=
      ". Training, distillation and recovery need every node; re-export the model without it (replace the "
      "module, or try another opset_version), or use the commands that run in ONNX Runtime (inspect, prune, "
      "quantize, bench)";
  return msg;
}

void TorchGraph::Impl::build(const Model& model) {
  origin = model.origin();
  const auto& graph = model.graph();
  if (std::string msg = unsupportedMessage(model); !msg.empty()) throw Error(msg);

  // torch.onnx writes `Identity(initializer)` for weights it deduplicated (equal values, or one module used
  // twice). Treat the Identity output as another name of the same initializer, so the use decides what it is
  // (a BatchNorm statistic stays a buffer, a Q/DQ scale a constant) and both names share one trained tensor.
  std::unordered_map<std::string, std::string> alias_of;
  for (int index : model.topologicalOrder()) {
    const auto& node = graph.node(index);
    if (node.op_type() != "Identity" || node.input_size() != 1 || node.output_size() != 1) continue;
    const std::string& in = node.input(0);
    if (auto it = alias_of.find(in); it != alias_of.end())
      alias_of[node.output(0)] = it->second;
    else if (model.isInitializer(in))
      alias_of[node.output(0)] = in;
  }
  auto resolve = [&](const std::string& name) -> const std::string& {
    auto it = alias_of.find(name);
    return it == alias_of.end() ? name : it->second;
  };

  // Decide what each initializer is from how nodes use it.
  std::unordered_map<std::string, std::set<Use>> uses;
  for (const auto& node : graph.node()) {
    if (node.op_type() == "Identity" && node.output_size() == 1 && alias_of.count(node.output(0))) continue;
    for (int i = 0; i < node.input_size(); ++i) {
      const std::string& name = resolve(node.input(i));
      if (!name.empty() && model.isInitializer(name)) uses[name].insert(classifyUse(node.op_type(), i));
    }
  }
  for (const auto& init : graph.initializer()) {
    const int s = slot(init.name());
    at::Tensor value;
    try {
      value = torch_ops::toTorch(tensorFromProto(init));
    } catch (const Error& e) {
      throw Error(origin + ": initializer '" + init.name() + "': " + e.what());
    }
    const auto& u = uses[init.name()];
    const bool is_float = init.data_type() == onnx::TensorProto::FLOAT;
    if (is_float && u.count(Use::Statistic)) {
      kinds[s] = SlotKind::Buffer;
      buffer_names.push_back(init.name());
      buffers.push_back(value);
    } else if (is_float && !u.count(Use::QuantParam) &&
               (u.count(Use::Weight) || (u.count(Use::General) && value.numel() > 1))) {
      kinds[s] = SlotKind::Parameter;
      value.set_requires_grad(true);
      parameter_names.push_back(init.name());
      parameters.push_back(value);
    } else {
      kinds[s] = SlotKind::Constant;
    }
    fixed[s] = value;
  }
  for (const auto& [alias, target] : alias_of) slot_of.emplace(alias, slot_of.at(target));

  for (const auto& in : model.inputs()) {
    input_names.push_back(in.name);
    input_slots.push_back(slot(in.name));
    input_types.push_back(in.type);
    input_ranks.push_back(in.has_shape ? static_cast<int>(in.shape.size()) : -1);
  }
  for (const auto& out : graph.output()) output_names.push_back(out.name());

  const int64_t opset = model.opsetVersion();
  at::NoGradGuard no_grad;  // folding constants records no graph
  for (int index : model.topologicalOrder()) {
    const auto& proto = graph.node(index);
    if (proto.op_type() == "Identity" && proto.output_size() == 1 && alias_of.count(proto.output(0)))
      continue;
    Node node;
    node.proto = &proto;
    node.description = describeNode(proto);
    for (const auto& in : proto.input()) node.inputs.push_back(in.empty() ? -1 : slot(in));
    for (const auto& out : proto.output()) node.outputs.push_back(out.empty() ? -1 : slot(out));
    for (int s : node.inputs)
      if (s >= 0 && kinds[s] == SlotKind::Activation && producer[s] < 0 &&
          std::find(input_slots.begin(), input_slots.end(), s) == input_slots.end())
        throw Error(origin + ": " + node.description + " reads '" + slot_names[s] +
                    "', which no node, input or initializer provides");

    torch_ops::NodeContext context;
    context.node = &proto;
    context.opset = opset;
    context.constant_input = [&](int i) -> const at::Tensor* {
      const int s = node.inputs.at(static_cast<size_t>(i));
      return s >= 0 && kinds[s] == SlotKind::Constant ? &fixed[s] : nullptr;
    };
    torch_ops::CompiledOp op;
    try {
      op = torch_ops::compile(context);
    } catch (const Error& e) {
      throw Error(origin + ": " + e.what());
    } catch (const c10::Error& e) {
      throw Error(origin + ": " + node.description + ": " + firstLine(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      throw Error(origin + ": " + node.description + ": cannot be prepared: " + firstLine(e.what()));
    }
    node.kernel = std::move(op.kernel);

    bool all_constant = op.foldable;
    for (int s : node.inputs)
      if (s >= 0 && kinds[s] != SlotKind::Constant) all_constant = false;
    if (all_constant) {
      // Evaluate once now (shape arithmetic on constants, Constant nodes, dequantized constant weights).
      std::vector<at::Tensor> args;
      for (int s : node.inputs) args.push_back(s >= 0 ? fixed[s] : at::Tensor());
      std::vector<at::Tensor> results;
      try {
        results = node.kernel(args, false);
      } catch (const c10::Error& e) {
        throw Error(origin + ": " + node.description + ": " + firstLine(e.what_without_backtrace()) +
                    " (inputs " + describeInputs(args) + ")");
      } catch (const std::exception& e) {
        throw Error(origin + ": " + node.description + ": " + firstLine(e.what()));
      }
      for (size_t j = 0; j < node.outputs.size() && j < results.size(); ++j)
        if (node.outputs[j] >= 0 && results[j].defined()) {
          kinds[node.outputs[j]] = SlotKind::Constant;
          fixed[node.outputs[j]] = results[j];
        }
      continue;
    }
    const int position = static_cast<int>(nodes.size());
    for (int s : node.outputs)
      if (s >= 0) producer[s] = position;
    node.proto = nullptr;
    nodes.push_back(std::move(node));
  }
  for (const auto& name : output_names)
    if (!slot_of.count(name))
      throw Error(origin + ": graph output '" + name + "' is not produced by any node");
}

const TorchGraph::Impl::Plan& TorchGraph::Impl::plan(const std::vector<int>& wanted) {
  if (auto it = plans.find(wanted); it != plans.end()) return it->second;
  std::vector<char> needed(nodes.size(), 0);
  std::vector<int> stack;
  for (int s : wanted)
    if (producer[s] >= 0) stack.push_back(producer[s]);
  while (!stack.empty()) {
    const int n = stack.back();
    stack.pop_back();
    if (needed[n]) continue;
    needed[n] = 1;
    for (int s : nodes[n].inputs)
      if (s >= 0 && producer[s] >= 0 && !needed[producer[s]]) stack.push_back(producer[s]);
  }
  Plan p;
  for (size_t n = 0; n < nodes.size(); ++n)
    if (needed[n]) p.nodes.push_back(static_cast<int>(n));
  // Release each activation after its last reader so peak memory follows the live set, not the whole graph.
  std::vector<int> last_use(slot_names.size(), -1);
  for (size_t k = 0; k < p.nodes.size(); ++k) {
    for (int s : nodes[p.nodes[k]].inputs)
      if (s >= 0) last_use[s] = static_cast<int>(k);
    for (int s : nodes[p.nodes[k]].outputs)
      if (s >= 0 && last_use[s] < static_cast<int>(k)) last_use[s] = static_cast<int>(k);
  }
  for (int s : wanted) last_use[s] = -1;
  p.release_after.resize(p.nodes.size());
  for (size_t s = 0; s < last_use.size(); ++s)
    if (last_use[s] >= 0 && kinds[s] == SlotKind::Activation)
      p.release_after[last_use[s]].push_back(static_cast<int>(s));
  return plans.emplace(wanted, std::move(p)).first->second;
}

std::vector<at::Tensor> TorchGraph::Impl::run(std::vector<at::Tensor> values,
                                              const std::vector<int>& wanted) {
  const Plan& p = plan(wanted);
  std::vector<at::Tensor> args;
  for (size_t k = 0; k < p.nodes.size(); ++k) {
    const Node& node = nodes[p.nodes[k]];
    args.clear();
    for (int s : node.inputs) args.push_back(s >= 0 ? values[s] : at::Tensor());
    std::vector<at::Tensor> results;
    try {
      results = node.kernel(args, training);
    } catch (const Error& e) {
      throw Error(origin + ": " + node.description + ": " + e.what() + " (inputs " + describeInputs(args) +
                  ")");
    } catch (const c10::Error& e) {
      throw Error(origin + ": " + node.description + ": " + firstLine(e.what_without_backtrace()) +
                  " (inputs " + describeInputs(args) + ")");
    } catch (const std::exception& e) {
      throw Error(origin + ": " + node.description + ": " + firstLine(e.what()));
    }
    for (size_t j = 0; j < node.outputs.size() && j < results.size(); ++j)
      if (node.outputs[j] >= 0) values[node.outputs[j]] = std::move(results[j]);
    for (int s : p.release_after[k]) values[s].reset();
  }
  std::vector<at::Tensor> out;
  out.reserve(wanted.size());
  for (int s : wanted) {
    if (!values[s].defined()) throw Error(origin + ": tensor '" + slot_names[s] + "' was not computed");
    out.push_back(values[s]);
  }
  return out;
}

TorchGraph::TorchGraph(const Model& model) : impl_(std::make_unique<Impl>()) {
  impl_->build(model);
}
TorchGraph::~TorchGraph() = default;
TorchGraph::TorchGraph(TorchGraph&&) noexcept = default;
TorchGraph& TorchGraph::operator=(TorchGraph&&) noexcept = default;

void TorchGraph::train(bool on) {
  impl_->training = on;
}
bool TorchGraph::isTraining() const {
  return impl_->training;
}
const std::vector<std::string>& TorchGraph::inputNames() const {
  return impl_->input_names;
}
const std::vector<std::string>& TorchGraph::outputNames() const {
  return impl_->output_names;
}
bool TorchGraph::hasTensor(const std::string& name) const {
  return impl_->slot_of.count(name) > 0;
}

std::vector<at::Tensor> TorchGraph::forward(const std::vector<at::Tensor>& inputs,
                                            const std::vector<std::string>& outputs) {
  Impl& g = *impl_;
  if (inputs.size() != g.input_slots.size())
    throw Error(g.origin + ": forward() got " + std::to_string(inputs.size()) + " inputs, the model takes " +
                std::to_string(g.input_slots.size()));
  std::vector<at::Tensor> values = g.fixed;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const at::Tensor& t = inputs[i];
    if (!t.defined()) throw Error(g.origin + ": input '" + g.input_names[i] + "' is undefined");
    const DataType type = torch_ops::fromScalarType(t.scalar_type());
    if (type != g.input_types[i])
      throw Error(g.origin + ": input '" + g.input_names[i] + "' expects " + dataTypeName(g.input_types[i]) +
                  ", got " + dataTypeName(type));
    if (g.input_ranks[i] >= 0 && t.dim() != g.input_ranks[i])
      throw Error(g.origin + ": input '" + g.input_names[i] + "' expects rank " +
                  std::to_string(g.input_ranks[i]) + ", got shape " +
                  shapeToString(std::vector<int64_t>(t.sizes().begin(), t.sizes().end())));
    values[g.input_slots[i]] = t;
  }
  std::vector<int> wanted;
  for (const auto& name : outputs.empty() ? g.output_names : outputs) {
    auto it = g.slot_of.find(name);
    if (it == g.slot_of.end()) throw Error(g.origin + ": the graph has no tensor named '" + name + "'");
    wanted.push_back(it->second);
  }
  return g.run(std::move(values), wanted);
}

std::vector<at::Tensor> TorchGraph::forward(
    const std::vector<std::pair<std::string, at::Tensor>>& named_inputs,
    const std::vector<std::string>& outputs) {
  std::vector<at::Tensor> ordered(impl_->input_names.size());
  for (const auto& [name, tensor] : named_inputs) {
    auto it = std::find(impl_->input_names.begin(), impl_->input_names.end(), name);
    if (it == impl_->input_names.end())
      throw Error(impl_->origin + ": the model has no input named '" + name + "'");
    ordered[static_cast<size_t>(it - impl_->input_names.begin())] = tensor;
  }
  for (size_t i = 0; i < ordered.size(); ++i)
    if (!ordered[i].defined())
      throw Error(impl_->origin + ": input '" + impl_->input_names[i] + "' was not given");
  return forward(ordered, outputs);
}

const std::vector<at::Tensor>& TorchGraph::parameters() const {
  return impl_->parameters;
}

std::vector<std::pair<std::string, at::Tensor>> TorchGraph::namedParameters() const {
  std::vector<std::pair<std::string, at::Tensor>> result;
  for (size_t i = 0; i < impl_->parameters.size(); ++i)
    result.emplace_back(impl_->parameter_names[i], impl_->parameters[i]);
  return result;
}

std::vector<std::pair<std::string, at::Tensor>> TorchGraph::namedBuffers() const {
  std::vector<std::pair<std::string, at::Tensor>> result;
  for (size_t i = 0; i < impl_->buffers.size(); ++i)
    result.emplace_back(impl_->buffer_names[i], impl_->buffers[i]);
  return result;
}

void TorchGraph::writeBack(Model& model) const {
  auto store = [&](const std::string& name, const at::Tensor& value) {
    onnx::TensorProto* init = model.mutableInitializer(name);
    if (!init)
      throw Error(model.origin() + ": has no initializer '" + name + "' to write the trained value to");
    Tensor t = torch_ops::fromTorch(value, DataType::Float32);
    if (!std::equal(init->dims().begin(), init->dims().end(), t.shape().begin(), t.shape().end()))
      throw Error(model.origin() + ": initializer '" + name + "' has shape " +
                  shapeToString(std::vector<int64_t>(init->dims().begin(), init->dims().end())) +
                  ", the trained value has " + t.shapeString());
    *init = tensorToProto(name, t);
  };
  for (size_t i = 0; i < impl_->parameters.size(); ++i)
    store(impl_->parameter_names[i], impl_->parameters[i]);
  for (size_t i = 0; i < impl_->buffers.size(); ++i) store(impl_->buffer_names[i], impl_->buffers[i]);
}

std::vector<std::string> TorchGraph::unsupportedOps(const Model& model) {
  std::set<std::string> ops;
  for (const auto& node : model.graph().node())
    if (!torch_ops::isSupported(node))
      ops.insert((node.domain().empty() || node.domain() == "ai.onnx" ? "" : node.domain() + ":") +
                 node.op_type());
  return {ops.begin(), ops.end()};
}

}  // namespace edgetune
