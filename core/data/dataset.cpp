// Dataset plumbing shared by every reader: batching, binding features to model inputs, subsets, the seeded
// subset and splits.
#include "core/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/util/error.h"

namespace edgetune {

Batch makeBatch(const Dataset& dataset, std::span<const size_t> indices) {
  if (indices.empty()) throw Error(dataset.name() + ": cannot make an empty batch");
  const size_t feature_count = dataset.features().size();
  std::vector<std::vector<Tensor>> columns(feature_count);
  for (auto& column : columns) column.reserve(indices.size());
  Batch batch;
  batch.labels.reserve(indices.size());
  for (size_t index : indices) {
    if (index >= dataset.size())
      throw Error(dataset.name() + ": example index " + std::to_string(index) + " is out of range (size " +
                  std::to_string(dataset.size()) + ")");
    Example example = dataset.get(index);
    if (example.features.size() != feature_count)
      throw Error(dataset.name() + ": example " + std::to_string(index) + " has " +
                  std::to_string(example.features.size()) + " features, expected " +
                  std::to_string(feature_count));
    for (size_t f = 0; f < feature_count; ++f) columns[f].push_back(std::move(example.features[f]));
    batch.labels.push_back(example.label);
  }
  std::vector<FeatureInfo> infos = dataset.features();
  for (size_t f = 0; f < feature_count; ++f) batch.features.push_back({infos[f].name, stack(columns[f])});
  return batch;
}

Batch makeBatch(const Dataset& dataset, size_t begin, size_t count) {
  std::vector<size_t> indices(count);
  std::iota(indices.begin(), indices.end(), begin);
  return makeBatch(dataset, indices);
}

namespace {

std::string describe(const TensorInfo& input) {
  return "model input '" + input.name + "' " + shapeToString(input.shape) + " " + dataTypeName(input.type);
}
std::string describe(const FeatureInfo& feature, const std::string& dataset_name) {
  return "dataset '" + dataset_name + "' feature '" + feature.name + "' " + shapeToString(feature.shape) +
         " " + dataTypeName(feature.type);
}

std::string joinNames(const auto& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item.name;
  return out;
}

// For each model input, the index of the feature that feeds it (the binding rules of bindInputs).
std::vector<size_t> bindingOrder(const std::vector<TensorInfo>& model_inputs,
                                 const std::vector<FeatureInfo>& features, const std::string& dataset_name) {
  if (model_inputs.empty())
    throw Error("the model has no inputs to feed from dataset '" + dataset_name + "'");
  std::vector<size_t> order;
  for (const auto& input : model_inputs) {
    auto it = std::find_if(features.begin(), features.end(),
                           [&](const FeatureInfo& f) { return f.name == input.name; });
    if (it == features.end()) break;
    order.push_back(static_cast<size_t>(it - features.begin()));
  }
  if (order.size() == model_inputs.size()) return order;
  if (model_inputs.size() == 1 && features.size() == 1) return {0};
  throw Error("model inputs (" + joinNames(model_inputs) + ") do not match dataset '" + dataset_name +
              "' features (" + joinNames(features) + "): " + std::to_string(model_inputs.size()) +
              " model inputs, " + std::to_string(features.size()) + " features, and the names differ");
}

// batch_size < 0: unknown (checkInputsFit); the model's batch dimension is then not checked.
void checkOne(const TensorInfo& input, const FeatureInfo& feature, const std::string& dataset_name,
              int64_t batch_size) {
  auto fail = [&](const std::string& problem) {
    throw Error(describe(input) + " does not fit " + describe(feature, dataset_name) + ": " + problem);
  };
  if (input.type != feature.type)
    fail("the model takes " + dataTypeName(input.type) + ", the dataset gives " + dataTypeName(feature.type));
  if (input.shape.size() != feature.shape.size() + 1)
    fail("the model takes rank " + std::to_string(input.shape.size()) +
         " (batch axis included), the dataset gives rank " + std::to_string(feature.shape.size()) +
         " per example");
  if (batch_size >= 0 && input.shape[0] >= 0 && input.shape[0] != batch_size)
    fail("the model takes a fixed batch of " + std::to_string(input.shape[0]) + ", the batch has " +
         std::to_string(batch_size) + " examples");
  for (size_t d = 0; d < feature.shape.size(); ++d) {
    int64_t model_dim = input.shape[d + 1];
    if (model_dim >= 0 && model_dim != feature.shape[d])
      fail("dimension " + std::to_string(d + 1) + " is " + std::to_string(model_dim) + " in the model and " +
           std::to_string(feature.shape[d]) + " in the dataset");
  }
}

}  // namespace

void checkInputsFit(const std::vector<TensorInfo>& model_inputs, const std::vector<FeatureInfo>& features,
                    const std::string& dataset_name) {
  std::vector<size_t> order = bindingOrder(model_inputs, features, dataset_name);
  for (size_t i = 0; i < model_inputs.size(); ++i)
    checkOne(model_inputs[i], features[order[i]], dataset_name, -1);
}

std::vector<NamedTensor> bindInputs(const std::vector<TensorInfo>& model_inputs, Batch batch,
                                    const std::string& dataset_name) {
  std::vector<FeatureInfo> infos;
  for (const auto& f : batch.features) {
    std::vector<int64_t> shape = f.tensor.shape();
    if (shape.empty())
      throw Error("dataset '" + dataset_name + "' feature '" + f.name + "' has no batch axis");
    shape.erase(shape.begin());
    infos.push_back({f.name, f.tensor.type(), std::move(shape)});
  }
  std::vector<size_t> order = bindingOrder(model_inputs, infos, dataset_name);
  std::vector<NamedTensor> bound;
  bound.reserve(model_inputs.size());
  for (size_t i = 0; i < model_inputs.size(); ++i) {
    const NamedTensor& feature = batch.features[order[i]];
    checkOne(model_inputs[i], infos[order[i]], dataset_name, feature.tensor.shape()[0]);
    // Two model inputs may read the same feature only by name, which cannot repeat; moving is safe.
    bound.push_back({model_inputs[i].name, std::move(batch.features[order[i]].tensor)});
  }
  return bound;
}

SubsetDataset::SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<size_t> indices,
                             std::string label)
    : base_(std::move(base)), indices_(std::move(indices)), label_(std::move(label)) {
  for (size_t index : indices_)
    if (index >= base_->size())
      throw Error(base_->name() + ": subset index " + std::to_string(index) + " is out of range (size " +
                  std::to_string(base_->size()) + ")");
}

std::string SubsetDataset::name() const {
  return base_->name() + ", " + label_ + " (" + std::to_string(indices_.size()) + " examples)";
}

Example SubsetDataset::get(size_t index) const {
  if (index >= indices_.size())
    throw Error(name() + ": example index " + std::to_string(index) + " is out of range");
  return base_->get(indices_[index]);
}

namespace {

// splitmix64 (Steele, Lea, Flood 2014): tiny, fully specified, so splits are identical everywhere,
// unlike std::shuffle / std::uniform_int_distribution whose results differ between standard libraries.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound) without modulo bias (rejection of the short top range).
  uint64_t below(uint64_t bound) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do r = next();
    while (r >= limit);
    return r % bound;
  }
};

}  // namespace

std::vector<size_t> seededSubset(size_t n, size_t count, uint64_t seed) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  SplitMix64 rng{seed};
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);  // Fisher-Yates
  if (count > 0 && count < n) order.resize(count);
  return order;
}

SplitIndices splitIndicesByCount(size_t n, size_t validation_count, size_t test_count, uint64_t seed) {
  const std::vector<size_t> order = seededSubset(n, 0, seed);
  test_count = std::min(n, test_count);
  validation_count = std::min(n - test_count, validation_count);
  SplitIndices split;
  split.test.assign(order.begin(), order.begin() + static_cast<ptrdiff_t>(test_count));
  split.validation.assign(order.begin() + static_cast<ptrdiff_t>(test_count),
                          order.begin() + static_cast<ptrdiff_t>(test_count + validation_count));
  split.train.assign(order.begin() + static_cast<ptrdiff_t>(test_count + validation_count), order.end());
  return split;
}

SplitIndices splitIndices(size_t n, double validation_fraction, double test_fraction, uint64_t seed) {
  auto check = [](double fraction, const char* what) {
    if (!(fraction >= 0.0 && fraction <= 1.0))
      throw Error(std::string(what) + " fraction " + std::to_string(fraction) + " is outside [0, 1]");
  };
  check(validation_fraction, "validation");
  check(test_fraction, "test");
  if (validation_fraction + test_fraction > 1.0 + 1e-12)
    throw Error("validation fraction " + std::to_string(validation_fraction) + " plus test fraction " +
                std::to_string(test_fraction) + " exceeds 1");
  const auto count = [n](double fraction) {
    return std::min(n, static_cast<size_t>(std::llround(static_cast<double>(n) * fraction)));
  };
  return splitIndicesByCount(n, count(validation_fraction), count(test_fraction), seed);
}

std::map<std::string, std::vector<int64_t>> exampleShapesOf(const Dataset& dataset) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& f : dataset.features()) shapes[f.name] = f.shape;
  return shapes;
}

}  // namespace edgetune
