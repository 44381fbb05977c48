#pragma once
// The progressive measurement of a variant: size at once, ONNX Runtime latency next, then accuracy on a
// growing seeded subset with its confidence interval, reported stage by stage so a view can show each
// number as it arrives and a newer knob position can cancel the rest.
#include <cstdint>
#include <functional>

#include "core/data/dataset.h"
#include "core/ir/input_shapes.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/pipeline/project.h"

namespace edgetune::pipeline {

/// One stage of a progressive measurement, reported as it completes.
struct MeasureUpdate {
  enum class Stage { Size = 1, Latency = 2, Accuracy = 3 };
  Stage stage = Stage::Size;
  VariantMetrics metrics;       // everything measured so far
  bool accuracy_final = false;  // the whole dataset has been evaluated
};

struct MeasureOptions {
  int latency_runs = 20;
  int latency_warmup = 3;
  uint64_t accuracy_seed = 1;
  size_t accuracy_limit = 0;  // 0 = the whole dataset (refined until cancelled)
  int batch_size = 64;
  InputShapes
      input_shapes;  // the sizes latency is timed at (resolveInputShapes; the same as the CLI's bench)
};

/// Measures a variant progressively: size at once, ONNX Runtime latency next, then accuracy on a growing
/// seeded subset (the same order for every variant, so estimates compare). `dataset` may be null (no
/// accuracy). Stops early with CancelledError when `job` is cancelled.
VariantMetrics measureVariant(const Model& model, const Dataset* dataset, const MeasureOptions& options,
                              JobContext& job, const std::function<void(const MeasureUpdate&)>& on_update);

}  // namespace edgetune::pipeline
