#pragma once
// Unstructured magnitude pruning ("prune_magnitude"): zero the smallest weights to a target sparsity, keep
// the masks for training, and report size honestly (zeros do not shrink an ONNX file; they only compress
// better).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/analysis/coverage.h"
#include "core/ir/input_shapes.h"
#include "core/passes/pass.h"
#include "core/util/enum_names.h"

namespace edgetune {

/// Where the sparsity target applies: each layer to it, or one threshold over all selected weights.
enum class MagnitudeScope { Layer = 1, Global };
constexpr auto enumNames(MagnitudeScope) {
  using N = EnumName<MagnitudeScope>;
  return std::array{N{MagnitudeScope::Layer, "layer"}, N{MagnitudeScope::Global, "global"}};
}

struct PruneMagnitudeOptions {
  double sparsity = 0.5;  // fraction of selected weights set to zero, [0, 1)
  MagnitudeScope scope = MagnitudeScope::Layer;
  std::vector<std::string> op_types = {"Conv", "Gemm",
                                       "MatMul"};  // layers whose weight initializer is pruned
  std::string include_regex;                       // node names to prune (empty = all of op_types)
  std::string exclude_regex;                       // node names never pruned (e.g. the classifier)
  std::map<std::string, double> per_layer;         // node name -> sparsity (layer scope only)
  int64_t min_weights = 0;                         // layers with fewer weights are left dense
};
void to_json(nlohmann::json& j, const PruneMagnitudeOptions& o);
void readOptions(OptionsReader& r, PruneMagnitudeOptions& o);

/// Keep-masks by initializer name: 1 = weight kept, 0 = pruned (held at zero while fine-tuning).
using WeightMasks = std::map<std::string, std::vector<uint8_t>>;

/// One pruned layer.
struct LayerSparsity {
  std::string node;
  std::string op_type;
  std::string initializer;
  int64_t weights = 0;
  int64_t zeros = 0;  // after pruning (includes weights that were already zero)
  double sparsity() const { return weights ? static_cast<double>(zeros) / weights : 0.0; }
};

/// Size of a model, each figure labelled as what it is.
struct SizeReport {
  int64_t onnx_file_bytes = 0;        // the serialized ONNX file: zeros take as many bytes as any other float
  int64_t zstd_compressed_bytes = 0;  // that file compressed with zstd (level 19): what a download would cost
  nlohmann::json toJson() const;
};
/// Serializes `model` and compresses it with zstd.
SizeReport measureSize(const Model& model);
/// zstd-compressed size of `bytes` at `level`.
int64_t zstdCompressedSize(const std::string& bytes, int level = 19);

/// What prune_magnitude did.
struct MagnitudePruneResult {
  std::vector<LayerSparsity> layers;
  int64_t weights = 0, zeros = 0;  // over the selected layers
  SizeReport size_before, size_after;
  WeightMasks masks;
  // Share of MACs and weight bytes in the layers whose weights were thinned; the layers left dense by reason
  // ("excluded by user", "weight not constant", ...).
  Coverage coverage;
  nlohmann::json toJson()
      const;  // per-layer table, totals, the labelled sizes and the coverage (not the masks)
};

/// Prunes `model` in place. Throws Error for invalid options (naming the field) and for a regex that
/// selects no layer.
/// `shapes` (may be null) gives concrete input sizes for the coverage's MACs.
MagnitudePruneResult pruneMagnitude(Model& model, const PruneMagnitudeOptions& options,
                                    const InputShapes* shapes = nullptr);

/// Re-applies masks (zeros every masked weight), e.g. after an optimizer step. Throws Error if an
/// initializer is missing or its size differs from its mask.
void applyMasks(Model& model, const WeightMasks& masks);

/// Gradual pruning's cubic schedule (Zhu & Gupta 2017): sparsity at step t of T,
/// s_f + (s_i - s_f) * (1 - t/T)^3, which is s_f * (1 - (1 - t/T)^3) for s_i = 0. Clamped to [0, T].
double cubicSparsity(double final_sparsity, int64_t step, int64_t total_steps, double initial_sparsity = 0.0);

/// The pass; after apply(), masks() holds the masks of the last run (for the trainer).
class PruneMagnitudePass final : public PassWithOptions<PruneMagnitudeOptions> {
 public:
  using PassWithOptions::PassWithOptions;
  std::string name() const override { return "prune_magnitude"; }
  PassReport apply(Model& model, PassContext& context) override;
  const WeightMasks& masks() const { return masks_; }

 private:
  WeightMasks masks_;
};

}  // namespace edgetune
