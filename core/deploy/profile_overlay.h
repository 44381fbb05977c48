#pragma once
// Maps a device's per-node ONNX Runtime profile back onto the ONNX model's nodes, for the graph overlay
// ("which node takes what share of the device time"). No Qt: the studio and the CLI can both use it.
#include <cstdint>
#include <string>
#include <vector>

#include "core/deploy/device_benchmark.h"

namespace edgetune {
class Model;
}

namespace edgetune::deploy {

/// How the profile entries landed on the model's nodes (indices refer to model.graph().node(i)).
struct ProfileMatch {
  std::vector<int64_t>
      node_total_us;            // per node: summed kernel time of the entries matched to it, -1 if none
  std::vector<int> fused_into;  // per node: the node whose ORT kernel absorbed it (BN, Relu...), or -1
  std::vector<std::string>
      unmatched;                  // profile entries naming no model node (ReorderInput/Output, Memcpy...)
  int64_t profiled_total_us = 0;  // all entries, matched or not
  int64_t matched_total_us = 0;
};

/// Matches ORT profile node names to ONNX node names; see profile_overlay.cpp for the rules.
ProfileMatch matchProfile(const Model& model, const std::vector<NodeProfile>& profile);

/// Each model node's share (0..1) of the profiled total kernel time; NaN for nodes with no profile entry
/// (including nodes ORT fused into another: matchProfile() says into which). Empty profile: all NaN.
std::vector<double> deviceLatencyShare(const Model& model, const DeviceBenchmark& bench);

}  // namespace edgetune::deploy
