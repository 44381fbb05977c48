#pragma once
// Per-node numbers a graph view colours nodes by: sensitivity, latency share from the profiler, quantization
// error. Each is indexed like a model's nodes, NaN where unknown. No GUI here; may run on a worker thread.
#include <cstddef>
#include <vector>

#include "core/data/dataset.h"
#include "core/ir/analysis_cache.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/tuning/sensitivity.h"

namespace edgetune::pipeline {

/// Per-node overlay of a sensitivity result on `model` (indexed like its nodes): each group's mean accuracy
/// drop in points over the ratios, on the group's producer nodes (the most sensitive group where several
/// share one); NaN elsewhere.
/// `analyses` (may be null) supplies the model's prune groups.
std::vector<double> sensitivityOverlay(const Model& model, const SensitivityResult& result,
                                       AnalysisCache* analyses = nullptr);

/// Each node's share (0..1) of one inference, from ONNX Runtime's profiler with graph optimizations off (so
/// profiled nodes map 1:1 to the model's nodes); NaN for nodes the profiler did not report. `runs`
/// inferences.
std::vector<double> measureLatencyShares(const Model& model, int runs, JobContext* job = nullptr);

/// Per-node quantization error of `quantized` against `float_model` (noise-to-signal in dB = -SNR, higher is
/// worse), indexed like `index_model`'s nodes by producer name; NaN where unknown.
std::vector<double> quantizationErrorPerNode(const Model& index_model, const Model& float_model,
                                             const Model& quantized, const Dataset& dataset, size_t samples,
                                             JobContext* job = nullptr);

}  // namespace edgetune::pipeline
