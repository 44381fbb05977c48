// eliminate_dead: nodes whose results reach no graph output, and initializers nothing reads, only cost size.
#include <set>

#include "core/passes/cleanup_passes.h"
#include "core/passes/graph_edit.h"

namespace edgetune {

void to_json(nlohmann::json& j, const EliminateDeadOptions& o) {
  j = {{"nodes", o.nodes}, {"initializers", o.initializers}};
}
void readOptions(OptionsReader& r, EliminateDeadOptions& o) {
  r.read("nodes", o.nodes);
  r.read("initializers", o.initializers);
}

PassReport EliminateDeadPass::apply(Model& model, PassContext& context) {
  PassReport report;
  report.pass_name = name();
  context.throwIfCancelled();
  model.reindex();
  const auto& g = model.graph();
  if (options_.nodes) {
    std::set<std::string> live;
    for (const auto& out : g.output()) live.insert(out.name());
    std::vector<bool> dead(g.node_size(), true);
    const std::vector<int> order = model.topologicalOrder();
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      const auto& node = g.node(*it);
      bool needed = false;
      for (const auto& out : node.output()) needed = needed || (!out.empty() && live.count(out));
      if (!needed) continue;
      dead[*it] = false;
      for (const auto& in : node.input())
        if (!in.empty()) live.insert(in);
      for (const auto& name : subgraphCaptures(node)) live.insert(name);
    }
    nlohmann::json removed = nlohmann::json::array();
    for (int i = 0; i < g.node_size(); ++i)
      if (dead[i]) {
        removed.push_back(describeNode(g.node(i)));
        report.lines.push_back("removed dead " + describeNode(g.node(i)));
      }
    report.nodes_removed = removeNodes(model, dead);
    report.details["removed_nodes"] = removed;
  }
  if (options_.initializers) {
    const auto used = usedTensorNames(model);
    std::set<std::string> unused;
    for (const auto& init : g.initializer())
      if (!used.count(init.name()) && !model.isGraphOutput(init.name())) unused.insert(init.name());
    report.initializers_removed = removeInitializers(model, unused);
    if (!unused.empty())
      report.lines.push_back("removed " + std::to_string(unused.size()) + " unused initializers");
    report.details["removed_initializers"] = unused;
  }
  if (report.changed()) finishGraphEdit(model, name());
  return report;
}

}  // namespace edgetune
