#include "core/pipeline/progressive_measurement.h"

#include "core/analysis/evaluate.h"
#include "core/ir/stats.h"
#include "core/runtime/benchmark.h"

namespace edgetune::pipeline {

VariantMetrics measureVariant(const Model& model, const Dataset* dataset, const MeasureOptions& options,
                              JobContext& job, const std::function<void(const MeasureUpdate&)>& on_update) {
  MeasureUpdate update;
  // Size: what the exported file will take.
  update.metrics.size_bytes = serializedBytes(model);
  update.metrics.params = model.parameterCount();
  update.stage = MeasureUpdate::Stage::Size;
  job.report(0.02, "size measured");
  if (on_update) on_update(update);
  job.throwIfCancelled();

  // Latency: a short ONNX Runtime benchmark, enough for a stable median on small models.
  OrtOptions ort;
  ort.intra_op_threads = 1;
  auto executor = makeOrtExecutor(model, ort);
  BenchmarkOptions bench;
  bench.runs = options.latency_runs;
  bench.warmup_runs = options.latency_warmup;
  bench.input_shapes = options.input_shapes;
  auto inputs = makeRandomInputs(executor->inputs(), bench);
  BenchmarkResult result = benchmark(*executor, inputs, bench, job.child(0.02, 0.1).get());
  update.metrics.latency_ms = result.median_ms;
  update.metrics.latency_p90_ms = result.p90_ms;
  update.stage = MeasureUpdate::Stage::Latency;
  job.report(0.1, "latency measured");
  if (on_update) on_update(update);
  job.throwIfCancelled();

  if (!dataset) return update.metrics;
  // Accuracy: a seeded shuffled order so the running estimate is unbiased from the first batch.
  EvalOptions eval;
  eval.shuffle = true;
  eval.seed = options.accuracy_seed;
  eval.limit = options.accuracy_limit;
  eval.batch_size = options.batch_size;
  update.stage = MeasureUpdate::Stage::Accuracy;
  evaluate(*executor, *dataset, eval, nullptr, [&](const EvalResult& r) {
    job.throwIfCancelled();
    update.metrics.accuracy = r.top1;
    update.metrics.accuracy_low = r.top1_ci.low;
    update.metrics.accuracy_high = r.top1_ci.high;
    update.metrics.accuracy_count = static_cast<int64_t>(r.count);
    update.accuracy_final = r.count >= r.total;
    const double fraction = r.total ? static_cast<double>(r.count) / static_cast<double>(r.total) : 1.0;
    job.report(0.1 + 0.9 * fraction, "accuracy on " + std::to_string(r.count) + " examples");
    if (on_update) on_update(update);
  });
  return update.metrics;
}

}  // namespace edgetune::pipeline
