#pragma once
// What a measurement means, in plain words, for the line under it in the studio: accuracy at chance after
// pruning (recovery training is needed), INT8 slower than float on a CPU without integer dot-product
// instructions, FP16 slower without native half precision, unstructured pruning that does not speed anything
// up.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/analysis/speedup_check.h"
#include "core/pipeline/project.h"

namespace edgetune::pipeline {

struct MeasurementToExplain {
  VariantMetrics reference;  // the model the recipe starts from, measured the same way
  VariantMetrics measured;   // the recipe applied to it
  nlohmann::json recipe;     // {"passes": [{"pass": ..., "options": {...}}, ...]}
  size_t classes = 0;        // of the dataset the accuracy is measured on; 0 = unknown
  CpuIntegerSupport cpu;     // of the machine that measured the latency
};

/// Zero or more sentences, most important first; empty when nothing needs saying (or nothing is measured
/// yet).
std::vector<std::string> explainMeasurement(const MeasurementToExplain& m);

}  // namespace edgetune::pipeline
