// fold_shapes: the shape arithmetic exporters write around every Reshape of a dynamic-batch model
// (Shape -> Gather -> Unsqueeze -> Concat, computed at run time). ONNX's symbolic data propagation knows
// those values: what it knows completely becomes an initializer, and a Reshape's shape whose only unknown
// entries are dimensions its own data input has at the same position becomes a constant with 0 there
// (Reshape's "copy this dimension"). The chains then have no reader left and eliminate_dead sweeps them:
// fewer nodes to run, and a smaller file (ShuffleNetV2's channel shuffles carry about 57 KB of them).
#include <map>
#include <unordered_map>

#include "core/passes/cleanup_passes.h"
#include "core/passes/graph_edit.h"

namespace edgetune {

void to_json(nlohmann::json& j, const FoldShapesOptions& o) {
  j = {{"known_values", o.known_values},
       {"reshape_copy_dims", o.reshape_copy_dims},
       {"max_rounds", o.max_rounds}};
}
void readOptions(OptionsReader& r, FoldShapesOptions& o) {
  r.read("known_values", o.known_values);
  r.read("reshape_copy_dims", o.reshape_copy_dims);
  r.read("max_rounds", o.max_rounds);
}

namespace {

using GeneratedValues = std::unordered_map<std::string, onnx::TensorShapeProto>;

// The int64 values ONNX propagated for `name`, when every one of them is a number and they fit the value's
// inferred shape (a scalar or a 1-D tensor of that length).
std::optional<Tensor> knownValue(const Model& model, const GeneratedValues& generated,
                                 const std::string& name) {
  auto it = generated.find(name);
  if (it == generated.end()) return std::nullopt;
  auto vi = model.valueInfo(name);
  if (!vi || !vi->has_shape || vi->type != DataType::Int64 || vi->shape.size() > 1) return std::nullopt;
  std::vector<int64_t> values;
  for (const auto& d : it->second.dim()) {
    if (!d.has_dim_value()) return std::nullopt;
    values.push_back(d.dim_value());
  }
  if (vi->shape.empty()) {
    if (values.size() != 1) return std::nullopt;
    return Tensor::from<int64_t>({}, values);
  }
  if (vi->shape[0] >= 0 && vi->shape[0] != static_cast<int64_t>(values.size())) return std::nullopt;
  return Tensor::from<int64_t>({static_cast<int64_t>(values.size())}, values);
}

// A Reshape's target shape with its symbolic entries written as 0, when each of them is the dimension the
// data input has at that position (the same symbol), so Reshape copies it at run time.
std::optional<Tensor> reshapeWithCopiedDims(const Model& model, const GeneratedValues& generated,
                                            const onnx::NodeProto& reshape) {
  if (reshape.input_size() < 2 || attrInt(reshape, "allowzero", 0) != 0) return std::nullopt;
  auto it = generated.find(reshape.input(1));
  if (it == generated.end()) return std::nullopt;
  auto data = model.valueInfo(reshape.input(0));
  if (!data || !data->has_shape) return std::nullopt;
  std::vector<int64_t> values;
  bool copied_any = false;
  for (int k = 0; k < it->second.dim_size(); ++k) {
    const auto& d = it->second.dim(k);
    if (d.has_dim_value()) {
      values.push_back(d.dim_value());
      continue;
    }
    const bool same_dim = d.has_dim_param() && !d.dim_param().empty() &&
                          k < static_cast<int>(data->dim_names.size()) && data->dim_names[k] == d.dim_param();
    if (!same_dim) return std::nullopt;
    values.push_back(0);
    copied_any = true;
  }
  if (!copied_any) return std::nullopt;
  return Tensor::from<int64_t>({static_cast<int64_t>(values.size())}, values);
}

// One round: folds what data propagation knows now.
struct ShapeFoldRound {
  int removed = 0, constants = 0, reshapes = 0;
  nlohmann::json folded = nlohmann::json::array(), rewired = nlohmann::json::array();
};

ShapeFoldRound foldKnownShapes(Model& model, const FoldShapesOptions& options) {
  ShapeFoldRound round;
  // The model's own inference (what every edit ends with), asked for the values it propagated: no copy of
  // the weights per round.
  GeneratedValues generated;
  model.inferShapes(&generated);
  if (generated.empty()) return round;
  const auto& g = model.graph();

  // Nodes whose single int64 result ONNX knows completely; only results read outside that set (by nodes
  // that stay) become initializers.
  std::vector<bool> remove(g.node_size(), false);
  std::map<std::string, Tensor> known;
  if (options.known_values)
    for (int n = 0; n < g.node_size(); ++n) {
      const auto& node = g.node(n);
      if (!isDefaultDomain(node) || node.output_size() != 1 || !subgraphCaptures(node).empty()) continue;
      const std::string& out = node.output(0);
      if (model.isGraphOutput(out) || model.isInitializer(out)) continue;
      if (auto value = knownValue(model, generated, out)) {
        known.emplace(out, std::move(*value));
        remove[n] = true;
      }
    }
  for (const auto& [name, value] : known) {
    bool read_by_kept = isCapturedBySubgraph(model, name);
    for (int c : model.consumers(name)) read_by_kept = read_by_kept || !remove[c];
    if (!read_by_kept) continue;
    *model.graph().add_initializer() = tensorToProto(name, value);
    round.folded.push_back(name);
    ++round.constants;
  }
  if (options.reshape_copy_dims)
    for (int n = 0; n < g.node_size(); ++n) {
      const auto& node = g.node(n);
      if (remove[n] || !isDefaultDomain(node) || node.op_type() != "Reshape" || node.input_size() < 2)
        continue;
      if (known.count(node.input(1)) || model.isInitializer(node.input(1))) continue;
      auto shape = reshapeWithCopiedDims(model, generated, node);
      if (!shape) continue;
      const std::string constant = uniqueName(model, node.input(1) + ".static");
      *model.graph().add_initializer() = tensorToProto(constant, *shape);
      model.graph().mutable_node(n)->set_input(1, constant);
      round.rewired.push_back(describeNode(node));
      ++round.reshapes;
    }
  round.removed = removeNodes(model, remove);
  return round;
}

}  // namespace

PassReport FoldShapesPass::apply(Model& model, PassContext& context) {
  PassReport report;
  report.pass_name = name();
  nlohmann::json folded = nlohmann::json::array(), reshapes = nlohmann::json::array();
  int constants = 0, rewired = 0;
  // Each round can give the next one more to work on: a folded dimension lets fold_constants evaluate the
  // integer arithmetic after it (torch's `channels // 2` is Div and Cast, which ONNX 1.12 does not
  // propagate), and a Slice whose bounds became constants gets a shape again, which the Shape nodes after it
  // need. ShuffleNetV2's channel shuffles form a chain of 16 such blocks.
  for (int i = 0; i < options_.max_rounds; ++i) {
    context.throwIfCancelled();
    ShapeFoldRound round = foldKnownShapes(model, options_);
    if (!round.removed && !round.reshapes) break;
    report.nodes_removed += round.removed;
    constants += round.constants;
    rewired += round.reshapes;
    folded.insert(folded.end(), round.folded.begin(), round.folded.end());
    reshapes.insert(reshapes.end(), round.rewired.begin(), round.rewired.end());
    finishGraphEdit(model, name());
    PassReport arithmetic = FoldConstantsPass().apply(model, context);
    report.nodes_removed += arithmetic.nodes_removed;
    report.initializers_removed += arithmetic.initializers_removed;
  }
  if (report.nodes_removed || rewired) {
    report.lines.push_back("folded shape arithmetic: " + std::to_string(report.nodes_removed) +
                           " nodes into " + std::to_string(constants) + " constants, " +
                           std::to_string(rewired) +
                           " Reshape shapes made constant (0 = keep the input's dimension)");
    report.details["folded_values"] = folded;
    report.details["reshapes_with_copied_dims"] = reshapes;
  }
  return report;
}

}  // namespace edgetune
