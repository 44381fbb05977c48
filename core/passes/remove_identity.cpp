// remove_identity: Identity and inference Dropout pass their input through unchanged; readers can read it
// directly.
#include "core/passes/cleanup_passes.h"
#include "core/passes/graph_edit.h"

namespace edgetune {

void to_json(nlohmann::json& j, const RemoveIdentityOptions& o) {
  j = {{"identity", o.identity}, {"dropout", o.dropout}};
}
void readOptions(OptionsReader& r, RemoveIdentityOptions& o) {
  r.read("identity", o.identity);
  r.read("dropout", o.dropout);
}

namespace {

bool isUsed(const Model& model, const std::string& tensor) {
  return !tensor.empty() && (!model.consumers(tensor).empty() || model.isGraphOutput(tensor));
}

// A Dropout is a pass-through when it is not in training mode and nobody reads its mask.
bool isInferenceDropout(const Model& model, const onnx::NodeProto& node) {
  if (node.output_size() > 1 && isUsed(model, node.output(1))) return false;
  if (node.input_size() >= 3 && !node.input(2).empty()) {
    // training_mode must be a constant false; anything else may switch dropout on at run time.
    if (!isConstantInitializer(model, node.input(2))) return false;
    Tensor mode = tensorFromProto(*model.initializer(node.input(2)));
    if (mode.type() != DataType::Bool || mode.numel() != 1 || mode.values<bool>()[0]) return false;
  }
  return true;
}

}  // namespace

PassReport RemoveIdentityPass::apply(Model& model, PassContext& context) {
  PassReport report;
  report.pass_name = name();
  context.throwIfCancelled();
  model.reindex();
  std::vector<bool> remove(model.graph().node_size(), false);
  nlohmann::json removed = nlohmann::json::array(), kept = nlohmann::json::array();
  for (int i = 0; i < model.graph().node_size(); ++i) {
    const onnx::NodeProto& node = model.graph().node(i);
    if (!node.domain().empty() && node.domain() != "ai.onnx") continue;
    const bool identity = options_.identity && node.op_type() == "Identity";
    const bool dropout = options_.dropout && node.op_type() == "Dropout" && isInferenceDropout(model, node);
    if ((!identity && !dropout) || node.input_size() < 1 || node.output_size() < 1) continue;
    const std::string in = node.input(0), out = node.output(0);
    const std::string what = describeNode(node);
    if (!model.isGraphOutput(out)) {
      replaceAllUses(model, out, in);
    } else {
      // The output name is part of the model's interface: the producer of `in` takes over the name `out`.
      // That is impossible when `in` is itself a graph input, an initializer or another graph output.
      const int producer = model.producer(in);
      if (producer < 0 || model.isGraphOutput(in)) {
        kept.push_back(what);
        continue;
      }
      replaceAllUses(model, in, out);
      for (auto& o : *model.graph().mutable_node(producer)->mutable_output())
        if (o == in) o = out;
      model.reindex();
    }
    remove[i] = true;
    removed.push_back(what);
    report.lines.push_back("removed " + what);
  }
  report.nodes_removed = removeNodes(model, remove);
  report.details["removed"] = removed;
  report.details["kept_on_graph_boundary"] = kept;
  if (report.nodes_removed) finishGraphEdit(model, name());
  return report;
}

}  // namespace edgetune
