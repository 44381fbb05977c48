#include "core/ir/ir_diff.h"

#include <unordered_map>

namespace edgetune {

GraphDiff diffModels(const Model& before, const Model& after) {
  GraphDiff diff;
  std::unordered_map<std::string, int> after_index;
  for (int i = 0; i < after.graph().node_size(); ++i) after_index[after.graph().node(i).name()] = i;
  std::unordered_map<std::string, int> before_index;
  for (int i = 0; i < before.graph().node_size(); ++i) before_index[before.graph().node(i).name()] = i;
  auto weightTypesAndShapes = [](const Model& m, const onnx::NodeProto& n) {
    std::vector<std::pair<int, std::vector<int64_t>>> out;
    for (const auto& in : n.input())
      if (const auto* init = m.initializer(in))
        out.push_back({init->data_type(), std::vector<int64_t>(init->dims().begin(), init->dims().end())});
    return out;
  };
  for (int i = 0; i < before.graph().node_size(); ++i) {
    const auto& a = before.graph().node(i);
    auto it = after_index.find(a.name());
    if (a.name().empty() || it == after_index.end()) {
      diff.before_nodes[i] = NodeDiff::Removed;
      ++diff.removed;
      continue;
    }
    const auto& b = after.graph().node(it->second);
    if (a.op_type() != b.op_type()) {
      diff.before_nodes[i] = NodeDiff::ChangedOp;
      ++diff.changed_op;
      continue;
    }
    const auto wa = weightTypesAndShapes(before, a), wb = weightTypesAndShapes(after, b);
    // A new or dropped bias (BatchNorm folding) is a shape change; precision is about the main weight's type.
    bool shape = wa.size() != wb.size(), precision = false;
    if (!wa.empty() && !wb.empty()) precision = wa[0].first != wb[0].first;
    for (size_t k = 0; k < wa.size() && k < wb.size(); ++k) shape = shape || wa[k].second != wb[k].second;
    for (int k = 0; k < a.output_size() && k < b.output_size(); ++k) {
      const auto va = before.valueInfo(a.output(k)), vb = after.valueInfo(b.output(k));
      if (va && vb) {
        shape = shape || va->shape != vb->shape;
        precision = precision || va->type != vb->type;
      }
    }
    if (precision) {
      diff.before_nodes[i] = NodeDiff::ChangedPrecision;
      ++diff.changed_precision;
    } else if (shape) {
      diff.before_nodes[i] = NodeDiff::ChangedShape;
      ++diff.changed_shape;
    }
  }
  for (int i = 0; i < after.graph().node_size(); ++i) {
    const auto& name = after.graph().node(i).name();
    if (name.empty() || !before_index.count(name))
      diff.added.push_back(name.empty() ? after.graph().node(i).op_type() : name);
  }
  return diff;
}

}  // namespace edgetune
