// Matching ONNX Runtime's profiled node names to the ONNX model's nodes.
//
// ORT profiles the graph it actually runs, after its optimizers rewrote it, so a profile name is not always
// an ONNX node name. What we see and how each case is matched (tried in this order, first hit wins):
//  1. Untouched nodes keep their ONNX name ("/fc/Gemm"): exact node-name match.
//  2. The NCHWc layout transformer (x86 with AVX2/AVX-512) names its nodes after the node's *output tensor*
//     plus "_nchwc" ("/layer1/layer1.0/bn2/BatchNormalization_output_0_nchwc"): after Conv+BN(+Relu) fusion
//     that output belongs to the last fused node, so we also look names up as tensor names.
//  3. Names made by Graph::GenerateNodeName get "_token_<n>" appended on clashes, QDQ and other fusions
//  append
//     their own suffixes ("_quant", "/MatMulAddFusion"...), older fusions prefix "fused ": we strip a leading
//     "fused " and then cut the name at '_' or '/' from the right, trying each shorter prefix as a node name
//     and as a tensor name, so the longest known prefix wins.
//  4. A hit on the *tail* of a fused chain (the BN or Relu whose output the fused kernel writes) is moved
//  back
//     along single-consumer first inputs, at most a few steps, to the node whose op the profile entry names
//     (op "Conv"/"FusedConv"/"QLinearConv" -> the ONNX Conv); the nodes passed on the way are marked as fused
//     into it. If no such node is found the tail keeps the time.
// Entries that match nothing (ReorderInput/ReorderOutput, Memcpy, ...) still count in the total, so the
// shares of the matched nodes sum to the matched fraction of the device time (about 1 in practice).
#include "core/deploy/profile_overlay.h"

#include <cmath>
#include <limits>
#include <unordered_map>

#include "core/ir/model.h"

namespace edgetune::deploy {

namespace {
// The profile's op ("FusedConv", "QLinearConv", "Conv") stands for the ONNX op `node_op` ("Conv").
bool opCorresponds(const std::string& node_op, const std::string& profile_op) {
  if (profile_op.empty() || node_op.empty()) return false;
  return profile_op == node_op || profile_op.find(node_op) != std::string::npos;
}
constexpr int kMaxFusionSteps = 4;
}  // namespace

ProfileMatch matchProfile(const Model& model, const std::vector<NodeProfile>& profile) {
  const auto& graph = model.graph();
  const int node_count = graph.node_size();
  ProfileMatch match;
  match.node_total_us.assign(static_cast<size_t>(node_count), -1);
  match.fused_into.assign(static_cast<size_t>(node_count), -1);

  std::unordered_map<std::string, int> by_name, by_output;
  for (int i = 0; i < node_count; ++i) {
    const auto& node = graph.node(i);
    if (!node.name().empty()) by_name.emplace(node.name(), i);
    for (const auto& out : node.output())
      if (!out.empty()) by_output.emplace(out, i);
  }
  auto lookup = [&](const std::string& key) -> int {
    if (auto it = by_name.find(key); it != by_name.end()) return it->second;
    if (auto it = by_output.find(key); it != by_output.end()) return it->second;
    return -1;
  };
  // How many nodes read a tensor (a fused chain only passes through tensors read once).
  std::unordered_map<std::string, int> readers;
  for (int i = 0; i < node_count; ++i)
    for (const auto& in : graph.node(i).input()) ++readers[in];

  for (const auto& entry : profile) {
    match.profiled_total_us += entry.total_us;
    std::string key = entry.name;
    if (key.rfind("fused ", 0) == 0) key = key.substr(6);
    int hit = lookup(key);
    while (hit < 0) {
      const size_t cut = key.find_last_of("_/");
      if (cut == std::string::npos || cut == 0) break;
      key.resize(cut);
      hit = lookup(key);
    }
    if (hit < 0) {
      match.unmatched.push_back(entry.name);
      continue;
    }
    // Walk back from a fused chain's tail to the node the kernel is named after.
    int anchor = hit;
    std::vector<int> passed;
    for (int step = 0; step < kMaxFusionSteps && !opCorresponds(graph.node(anchor).op_type(), entry.op);
         ++step) {
      const auto& node = graph.node(anchor);
      if (node.input_size() == 0) break;
      const std::string& in = node.input(0);
      const int prev = model.producer(in);
      if (prev < 0 || readers[in] != 1) break;
      passed.push_back(anchor);
      anchor = prev;
    }
    if (!opCorresponds(graph.node(anchor).op_type(), entry.op)) {
      anchor = hit;  // no node of the profiled op up the chain: the matched node keeps the time
      passed.clear();
    }
    for (int p : passed) match.fused_into[static_cast<size_t>(p)] = anchor;
    auto& total = match.node_total_us[static_cast<size_t>(anchor)];
    total = (total < 0 ? 0 : total) + entry.total_us;
    match.matched_total_us += entry.total_us;
  }
  return match;
}

std::vector<double> deviceLatencyShare(const Model& model, const DeviceBenchmark& bench) {
  const ProfileMatch match = matchProfile(model, bench.profile);
  std::vector<double> share(match.node_total_us.size(), std::numeric_limits<double>::quiet_NaN());
  if (match.profiled_total_us <= 0) return share;
  for (size_t i = 0; i < share.size(); ++i)
    if (match.node_total_us[i] >= 0)
      share[i] = static_cast<double>(match.node_total_us[i]) / static_cast<double>(match.profiled_total_us);
  return share;
}

}  // namespace edgetune::deploy
