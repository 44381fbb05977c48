#pragma once
// InputShapes: the one way to give concrete sizes to a model's symbolic input dimensions. Every place that
// needs sizes (stats and MACs, bench, the studio's latency, sensitivity, allocation, deploy) resolves them
// here, so all of them measure the same thing and say which sizes they used.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/ir/model.h"

namespace edgetune {

/// Sequence length given to symbolic non-batch dimensions of integer (token) inputs when nothing else says.
inline constexpr int64_t kDefaultSequenceLength = 128;

/// Concrete shapes for every input a caller feeds, with a note for each size that was not given explicitly.
struct InputShapes {
  std::map<std::string, std::vector<int64_t>> dims;  // input name -> concrete shape (every dimension >= 1)
  std::set<std::string> dynamic_batch;  // inputs whose first dimension is symbolic in the model (the batch)
  // One line per size that was not given: "input_ids: 'sequence' = 128 (default sequence length ...)".
  std::vector<std::string> notes;

  bool empty() const { return dims.empty(); }
  /// The batch size: the first dimension of the first input (1 when there are no inputs).
  int64_t batch() const;
  /// The same shapes with the first dimension of every input in dynamic_batch set to `batch`; throws Error
  /// when batch != 1 and no input has a dynamic batch dimension.
  InputShapes withBatch(int64_t batch) const;
  /// "input_ids=1x128 attention_mask=1x128"
  std::string describe() const;
  /// {"inputs": {name: [dims]}, "notes": [...]}
  nlohmann::json toJson() const;
};

/// Parses `--shape` values "NAME=1x128" (one per input; "x" or "," between dimensions). Throws Error naming
/// the value and what is wrong ("--shape 'x=1xa': dimension 'a' is not an integer in 1..16777216").
std::map<std::string, std::vector<int64_t>> parseShapeSpecs(const std::vector<std::string>& specs);

/// Where sizes come from besides the user: one dataset example's feature shapes (without the batch
/// dimension), e.g. {"image": {1, 28, 28}} or {"input_ids": {128}}, matched to inputs by name, or by position
/// when a model has a single input.
using ExampleShapes = std::map<std::string, std::vector<int64_t>>;

/// Resolves every input of `model` to a concrete shape: a given shape first (it must agree with the model's
/// fixed dimensions), then the dataset example, then the defaults: a symbolic first dimension is the batch
/// (1), a symbolic dimension of an integer input is the sequence length (128, or the model's position buffer
/// length when that is shorter: a longer sequence would not run). A symbolic dimension name keeps one size
/// across inputs ("sequence" in input_ids and attention_mask), as ONNX means it. A float input's symbolic
/// spatial dimension with no dataset and no --shape throws Error naming the input and the dimension and how
/// to give it, so an image model is never measured at 1x1 by accident. Names in `given` that are not inputs
/// throw Error.
InputShapes resolveInputShapes(const Model& model,
                               const std::map<std::string, std::vector<int64_t>>& given = {},
                               const ExampleShapes* example = nullptr,
                               int64_t sequence_length = kDefaultSequenceLength);

/// resolveInputShapes with the defaults only, or nullopt where they cannot size the model (a dynamic image
/// size with no dataset): for measurements that then count at the declared sizes rather than at made-up ones.
std::optional<InputShapes> defaultInputShapes(const Model& model);

/// A copy of `model` whose graph inputs declare the concrete `shapes` (shape inference re-run), for analyses
/// that need static sizes. The copy is not for saving over the user's dynamic model.
Model withConcreteInputs(const Model& model, const InputShapes& shapes);

}  // namespace edgetune
