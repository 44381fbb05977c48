#pragma once
// Per-node and whole-model statistics (parameters, MACs, weight and activation bytes) from inferred shapes.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ir/input_shapes.h"
#include "core/ir/model.h"

namespace edgetune {

/// What one node costs. Shapes come from shape inference at the concrete input sizes given (input_shapes.h);
/// without them, dynamic (symbolic) dimensions count as 1 ("at batch 1", and wrong for a dynamic sequence). A
/// shared initializer is attributed to the first node (in graph order) that reads it.
struct NodeStats {
  std::string name;  // the node's name, or its first output when the node has none
  std::string op_type;
  std::vector<std::vector<int64_t>> output_shapes;  // -1 for dimensions inference could not resolve
  int64_t params = 0;            // Model::parameterCount semantics, over the initializers this node reads
  int64_t macs = 0;              // multiply-accumulates; 0 for ops other than Conv/ConvTranspose/Gemm/MatMul
  int64_t weight_bytes = 0;      // bytes of every initializer this node reads (any type)
  int64_t activation_bytes = 0;  // bytes of its outputs; 0 for outputs of unknown shape or type
};

/// Totals over the model.
struct ModelStats {
  int64_t params = 0;                      // == Model::parameterCount()
  int64_t macs = 0;                        // sum over nodes
  int64_t weight_bytes = 0;                // bytes of all initializers
  int64_t activation_bytes = 0;            // sum of every node's output bytes (traffic, not peak memory)
  int64_t serialized_bytes = 0;            // size of the model once serialized (what a saved file would take)
  std::optional<int64_t> file_size_bytes;  // size of the file the model was loaded from, if any
  int node_count = 0;
  std::vector<NodeStats> nodes;  // in graph order
};

/// The model's size: the bytes of its ONNX serialization, exactly what Model::save writes (and what a
/// Variant's size_bytes and ModelStats::serialized_bytes hold). Measured without serializing.
int64_t serializedBytes(const Model& model);

/// Computes statistics. MACs: Conv = output elements * Cin/group * prod(kernel); ConvTranspose = input
/// elements * Cout/group * prod(kernel); Gemm and MatMul (including batched MatMuls of two activations, as
/// attention's Q@K^T) = output elements * K; the integer variants (ConvInteger, QLinearConv, MatMulInteger,
/// QLinearMatMul) count the same way. Every other op (elementwise, normalization, pooling, ...) reports 0
/// MACs.
/// `shapes` (may be null) gives every input's concrete size; commands resolve it with resolveInputShapes.
ModelStats computeStats(const Model& model, const InputShapes* shapes = nullptr);

/// computeStats as an analysis of an AnalysisCache (core/ir/analysis_cache.h):
/// `cache.get<StatsAnalysis>(model, &shapes)` computes once per model revision and input sizes.
struct StatsAnalysis {
  using Result = ModelStats;
  static ModelStats run(const Model& model, const InputShapes* shapes = nullptr) {
    return computeStats(model, shapes);
  }
  /// The input sizes the statistics were counted at ("" for the declared sizes).
  static std::string key(const InputShapes* shapes = nullptr);
};

/// Every tensor's shape at the sizes `shapes` gives (null: symbolic dimensions as 1), including those
/// ONNX 1.12's own inference gives up on (BERT exports' position_ids[:, :seq] Slice), which Model::valueInfo
/// lacks. For the rank of a tensor that must be declared (a sub-model's input, an added graph output).
std::unordered_map<std::string, std::vector<int64_t>> tensorShapes(const Model& model,
                                                                   const InputShapes* shapes = nullptr);

/// MACs of one node of `model` (0 when its shapes are unknown), at the sizes `shapes` gives.
int64_t nodeMacs(const Model& model, const onnx::NodeProto& node, const InputShapes* shapes = nullptr);

nlohmann::json toJson(const NodeStats& stats);
nlohmann::json toJson(const ModelStats& stats);

}  // namespace edgetune
