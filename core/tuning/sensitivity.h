#pragma once
// Sensitivity analysis: accuracy of the model with one prune group at a time pruned to each ratio, on a
// seeded evaluation subset. Each group's sweep reuses cached activations at the entry of the region pruning
// changes, so the part of the network before the group is computed once per group, not once per ratio.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/analysis/prune_criterion.h"
#include "core/data/dataset.h"
#include "core/ir/analysis_cache.h"
#include "core/ir/input_shapes.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/runtime/executor.h"

namespace edgetune {

struct SensitivityOptions {
  std::vector<double> ratios = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  size_t limit = 500;  // examples in the seeded subset (0 = the whole dataset)
  uint64_t seed = 0;
  int batch_size = 64;
  int64_t round_to = 1;  // rounding of kept channels (1 = measure at the exact ratios)
  PruneCriterion criterion = PruneCriterion::L1;
  std::vector<std::string> groups;  // group ids to sweep (empty = every prunable group)
  OrtOptions ort;
  InputShapes input_shapes;  // sizes MACs are counted at (empty: symbolic dimensions count as 1)
};

/// Accuracy of one group over the ratios.
struct SensitivityCurve {
  std::string group;
  std::string kind;
  int64_t units = 0;
  std::vector<double> ratios;
  std::vector<int64_t> kept_units;
  std::vector<double> accuracy;       // top-1 in [0, 1]
  std::vector<int64_t> params_after;  // whole model, this group pruned alone
  std::vector<int64_t> macs_after;
  std::vector<std::string> region_inputs;  // the cached tensors the sweep started from
  int region_nodes = 0;                    // nodes re-run per ratio (of the model's total)
  double seconds = 0;
};

struct SensitivityResult {
  std::string model;
  std::string dataset;
  size_t examples = 0;
  double baseline_accuracy = 0;
  int64_t params = 0, macs = 0;  // of the unpruned model
  int total_nodes = 0;
  std::vector<SensitivityCurve> curves;
  double seconds = 0;

  nlohmann::json toJson() const;
  static SensitivityResult fromJson(const nlohmann::json& json);
  /// group,kind,units,ratio,kept_units,accuracy,accuracy_drop,params_after,macs_after
  std::string toCsv() const;
  /// One row per group, one column per ratio (accuracy in %).
  std::string toTable() const;
};

/// Runs the sweep. Throws Error if the dataset does not fit the model; CancelledError if `job` is cancelled.
/// `analyses` (may be null) supplies and keeps the model's prune groups.
SensitivityResult analyzeSensitivity(const Model& model, const Dataset& dataset,
                                     const SensitivityOptions& options, JobContext* job = nullptr,
                                     AnalysisCache* analyses = nullptr);

/// The sub-model that computes `outputs` from `inputs` (tensor names of `model`): the nodes between them, the
/// initializers and Constant nodes they read. Throws Error if an output cannot be computed from the inputs.
Model extractSubModel(const Model& model, const std::vector<std::string>& inputs,
                      const std::vector<std::string>& outputs);

/// Nodes changed by pruning `group` and every node downstream of them, and the tensors entering that region
/// from outside (not constants): what sensitivity caches.
struct AffectedRegion {
  std::vector<int> nodes;           // node indices in graph order
  std::vector<std::string> inputs;  // boundary tensors
};
AffectedRegion affectedRegion(const Model& model, const std::vector<std::string>& changed_nodes);

}  // namespace edgetune
