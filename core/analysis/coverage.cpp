#include "core/analysis/coverage.h"

#include <algorithm>
#include <cstdio>

#include "core/ir/model.h"
#include "core/ir/stats.h"

namespace edgetune {
namespace {

double share(int64_t part, int64_t total) {
  return total > 0 ? static_cast<double>(part) / static_cast<double>(total) : 1.0;
}

std::string percent(double fraction) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100 * fraction);
  return buf;
}

}  // namespace

double Coverage::macsShare() const {
  return share(covered_macs, total_macs);
}
double Coverage::weightBytesShare() const {
  return share(covered_weight_bytes, total_weight_bytes);
}

int64_t Coverage::skippedMacs() const {
  int64_t sum = 0;
  for (const auto& [reason, nodes] : skipped)
    for (const auto& n : nodes) sum += n.macs;
  return sum;
}

std::vector<Coverage::Node> Coverage::topSkipped(size_t count) const {
  std::vector<Node> all;
  for (const auto& [reason, nodes] : skipped) all.insert(all.end(), nodes.begin(), nodes.end());
  std::stable_sort(all.begin(), all.end(), [](const Node& a, const Node& b) { return a.macs > b.macs; });
  if (all.size() > count) all.resize(count);
  return all;
}

nlohmann::json Coverage::toJson() const {
  nlohmann::json by_reason = nlohmann::json::object();
  for (const auto& [reason, nodes] : skipped) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& n : nodes)
      list.push_back(
          {{"node", n.name}, {"op", n.op_type}, {"macs", n.macs}, {"weight_bytes", n.weight_bytes}});
    by_reason[reason] = list;
  }
  return {{"macs", {{"total", total_macs}, {"covered", covered_macs}, {"share", macsShare()}}},
          {"weight_bytes",
           {{"total", total_weight_bytes}, {"covered", covered_weight_bytes}, {"share", weightBytesShare()}}},
          {"skipped", by_reason}};
}

std::vector<std::string> Coverage::lines(const std::string& verb, size_t names_per_reason) const {
  std::vector<std::string> out;
  out.push_back(verb + " " + percent(macsShare()) + " of MACs and " + percent(weightBytesShare()) +
                " of weight bytes");
  for (const auto& [reason, nodes] : skipped) {
    std::vector<Node> sorted = nodes;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Node& a, const Node& b) { return a.macs > b.macs; });
    int64_t macs = 0;
    for (const auto& n : nodes) macs += n.macs;
    std::string line = "left alone (" + reason + "): " + std::to_string(nodes.size()) + " node" +
                       (nodes.size() == 1 ? "" : "s") + ", " + percent(share(macs, total_macs)) + " of MACs";
    std::string names;
    for (size_t i = 0; i < sorted.size() && i < names_per_reason; ++i)
      names += (i ? ", " : "") + (sorted[i].op_type.empty() ? "" : sorted[i].op_type + " ") + "'" +
               sorted[i].name + "'";
    if (!names.empty()) line += ": " + names + (sorted.size() > names_per_reason ? ", ..." : "");
    out.push_back(std::move(line));
  }
  return out;
}

CoverageCounter::CoverageCounter(const Model& model, const InputShapes* shapes) {
  const ModelStats stats = computeStats(model, shapes);
  coverage_.total_macs = stats.macs;
  coverage_.total_weight_bytes = stats.weight_bytes;
  for (const auto& n : stats.nodes)
    nodes_[n.name] = Coverage::Node{n.name, n.op_type, n.macs, n.weight_bytes};
}

void CoverageCounter::covered(const std::string& node_name) {
  auto it = nodes_.find(node_name);
  if (it == nodes_.end()) return;
  coverage_.covered_macs += it->second.macs;
  coverage_.covered_weight_bytes += it->second.weight_bytes;
}

void CoverageCounter::skipped(const std::string& node_name, const std::string& reason) {
  auto it = nodes_.find(node_name);
  coverage_.skipped[reason].push_back(it != nodes_.end() ? it->second : Coverage::Node{node_name, "", 0, 0});
}

}  // namespace edgetune
