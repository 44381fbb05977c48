#pragma once
// Datasets: labelled examples whose features feed a model's inputs (an image tensor, or token ids + masks).
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/ir/tensor.h"

namespace edgetune {

/// One labelled example; `features` line up with Dataset::features().
struct Example {
  std::vector<Tensor> features;
  int64_t label = -1;
};

/// Name, element type and per-example shape (no batch axis) of one feature.
struct FeatureInfo {
  std::string name;  // "image", or "input_ids" / "attention_mask" / "token_type_ids" for text
  DataType type = DataType::Float32;
  std::vector<int64_t> shape;
};

/// A random-access labelled dataset. get() must be safe to call from several threads at once.
class Dataset {
 public:
  virtual ~Dataset() = default;
  /// A short description for messages ("Fashion-MNIST test (10000 images)").
  virtual std::string name() const = 0;
  virtual size_t size() const = 0;
  virtual Example get(size_t index) const = 0;
  virtual std::vector<FeatureInfo> features() const = 0;
  virtual std::vector<std::string> classNames() const = 0;
  size_t numClasses() const { return classNames().size(); }
};

/// A batch: one stacked tensor per feature (leading batch axis) and the labels.
struct Batch {
  std::vector<NamedTensor> features;
  std::vector<int64_t> labels;
};

/// Gathers the examples at `indices` into a batch.
Batch makeBatch(const Dataset& dataset, std::span<const size_t> indices);
/// Gathers the examples [begin, begin + count) into a batch (a batch loop in dataset order).
Batch makeBatch(const Dataset& dataset, size_t begin, size_t count);

/// Binds a batch's features to a model's inputs: by name when the names match, else a single feature to a
/// single input. Throws Error naming the model input and the dataset feature when they do not fit
/// (count, element type or per-example shape).
std::vector<NamedTensor> bindInputs(const std::vector<TensorInfo>& model_inputs, Batch batch,
                                    const std::string& dataset_name);
/// Checks the same binding rules without data (throws Error with the same messages).
void checkInputsFit(const std::vector<TensorInfo>& model_inputs, const std::vector<FeatureInfo>& features,
                    const std::string& dataset_name);

/// Per-example feature shapes (no batch axis) by feature name: where a model's symbolic input sizes come from
/// when a dataset is known (resolveInputShapes).
std::map<std::string, std::vector<int64_t>> exampleShapesOf(const Dataset& dataset);

/// A view of a subset of another dataset, by index list.
class SubsetDataset : public Dataset {
 public:
  SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<size_t> indices, std::string label);
  std::string name() const override;
  size_t size() const override { return indices_.size(); }
  Example get(size_t index) const override;
  std::vector<FeatureInfo> features() const override { return base_->features(); }
  std::vector<std::string> classNames() const override { return base_->classNames(); }

 private:
  std::shared_ptr<const Dataset> base_;
  std::vector<size_t> indices_;
  std::string label_;
};

/// "N examples, seeded": the first `count` indices of a seeded random permutation of [0, n) (count 0 or
/// >= n: all of it, shuffled). Every seeded choice of examples goes through it (evaluation --limit, the
/// progressive measurement's order, the sensitivity sweep, the device's evaluation file, spec subsets), so
/// the same (n, count, seed) picks the same examples everywhere, on every machine (its own PRNG, splitmix64,
/// and Fisher-Yates: std::shuffle differs between standard libraries). A smaller count is a prefix of a
/// larger.
std::vector<size_t> seededSubset(size_t n, size_t count, uint64_t seed);

/// Seeded, deterministic split of [0, n) into train / validation / test index lists: the seededSubset order,
/// test first, then validation, then train. The same (n, sizes, seed) gives the same lists everywhere.
struct SplitIndices {
  std::vector<size_t> train, validation, test;
};
SplitIndices splitIndices(size_t n, double validation_fraction, double test_fraction, uint64_t seed);
/// The same split with example counts (each clamped to what is left: test first).
SplitIndices splitIndicesByCount(size_t n, size_t validation_count, size_t test_count, uint64_t seed);

/// Opens a dataset from a spec string (documented in README.md, "Dataset specs"):
///   FORMAT:PATH[?key=value&key=value...]   e.g.  idx:/usr/share/datasets/fashion-mnist?split=test
/// Shorthands: "fashion-mnist" (= the Debian package's test set), "fashion-mnist:train".
/// Throws Error naming the spec/file and the problem.
std::shared_ptr<const Dataset> openDataset(const std::string& spec);

/// The files a dataset spec reads: its PATH (a file or a folder) and a text spec's vocab= (empty when it has
/// none), as written in the spec. For the CLI's check that no output is written over an input. Throws Error
/// naming the spec when it does not parse.
struct DatasetSpecFiles {
  std::filesystem::path data;
  std::filesystem::path vocab;
};
DatasetSpecFiles datasetSpecFiles(const std::string& spec);

/// One part of a seeded train / validation split of a spec's examples, as a spec of its own: `spec` with
/// subset=train|val&val_count=N&test=0&seed=S added. A trainer that holds out `validation_count` examples
/// opens these two, so a recipe naming them reads exactly the examples it trained on. (limit= in `spec` then
/// keeps the first N of each part.) Throws Error naming the spec when it has a key the split sets.
enum class TrainingSplitPart { Train = 1, Validation };
std::string trainingSplitSpec(const std::string& spec, TrainingSplitPart part, size_t validation_count,
                              uint64_t seed);

}  // namespace edgetune
