#pragma once
// Coverage: the share of a model a transformation acted on, and every node it left alone grouped by reason,
// so that a partial success is never silent (quantize and prune both fill one).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace edgetune {

class Model;
struct InputShapes;

/// Reasons a node is left alone, as reports print them. Passes may add their own; these are the common ones.
namespace skip_reason {
inline constexpr const char* kWeightNotConstant = "weight not constant";
inline constexpr const char* kOpNotSupported = "op not supported for INT8";
inline constexpr const char* kExcludedByUser = "excluded by user";
}  // namespace skip_reason

/// What a pass covered, measured in MACs and weight bytes of the model it was given.
struct Coverage {
  struct Node {
    std::string name;
    std::string op_type;
    int64_t macs = 0;
    int64_t weight_bytes = 0;
  };

  int64_t total_macs = 0;
  int64_t covered_macs = 0;
  int64_t total_weight_bytes = 0;
  int64_t covered_weight_bytes = 0;
  std::map<std::string, std::vector<Node>> skipped;  // reason -> nodes left alone, in graph order

  /// Shares in [0, 1]; 1 when the model has nothing to cover (no MACs / no weights).
  double macsShare() const;
  double weightBytesShare() const;
  /// MACs left alone, over all reasons.
  int64_t skippedMacs() const;
  /// The skipped nodes with the most MACs, largest first (at most `count`).
  std::vector<Node> topSkipped(size_t count) const;

  /// {"macs": {"total", "covered", "share"}, "weight_bytes": {...}, "skipped": {reason: [{"node","op","macs",
  /// "weight_bytes"}]}}
  nlohmann::json toJson() const;
  /// "acted on 97.3% of MACs and 99.1% of weight bytes", then one line per reason with its count and the
  /// largest nodes (at most `names_per_reason` names).
  std::vector<std::string> lines(const std::string& verb, size_t names_per_reason = 3) const;
};

/// Fills a Coverage for one model: statistics are computed once (at the sizes `shapes` gives, see
/// input_shapes.h), then each node is counted as covered or skipped in O(1).
class CoverageCounter {
 public:
  explicit CoverageCounter(const Model& model, const InputShapes* shapes = nullptr);
  /// The node acted on: its MACs and weight bytes count as covered. Unknown names are ignored.
  void covered(const std::string& node_name);
  /// The node left alone under `reason` (one of skip_reason or the pass's own words).
  void skipped(const std::string& node_name, const std::string& reason);
  const Coverage& result() const { return coverage_; }

 private:
  Coverage coverage_;
  std::unordered_map<std::string, Coverage::Node> nodes_;
};

}  // namespace edgetune
