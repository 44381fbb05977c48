#pragma once
// Evaluation: top-1/top-5 accuracy, two-class precision/recall/F1, progressive estimates with a 95% interval.
#include <nlohmann/json.hpp>

#include <functional>
#include <vector>

#include "core/data/dataset.h"
#include "core/jobs/job.h"
#include "core/runtime/executor.h"

namespace edgetune {

struct EvalOptions {
  size_t limit = 0;     // 0 = every example
  int batch_size = 64;  // used when the model's batch dimension is dynamic; a fixed batch dimension wins
  bool shuffle =
      false;  // visit a seeded random order (progressive evaluation: the estimate is unbiased early)
  uint64_t seed = 0;
  std::string output;  // model output holding the logits; empty = the first output
};

/// A 95% confidence interval (Wilson score interval for a proportion).
struct Interval {
  double low = 0, high = 0;
};
Interval wilsonInterval(size_t successes, size_t trials, double z = 1.959964);

/// Accuracy figures after `count` examples.
struct EvalResult {
  size_t count = 0;
  size_t total = 0;  // examples that will be evaluated in all
  size_t correct_top1 = 0, correct_top5 = 0;
  double top1 = 0, top5 = 0;
  Interval top1_ci;
  // Two-class tasks (positive class = 1); zero otherwise.
  bool binary = false;
  double precision = 0, recall = 0, f1 = 0;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
  double seconds = 0;
  double examples_per_second = 0;

  nlohmann::json toJson() const;
  /// Reads toJson()'s output back (a step's recorded result; `total` and the correct counts are not in it);
  /// throws nlohmann::json's exception for a missing or mistyped field.
  static EvalResult fromJson(const nlohmann::json& json);
  std::string toText() const;
};

/// Accumulates predictions; usable on its own for training-time accuracy.
class AccuracyMeter {
 public:
  explicit AccuracyMeter(size_t num_classes);
  /// logits: [B, C] float32; labels: B entries.
  void add(const Tensor& logits, std::span<const int64_t> labels);
  EvalResult result() const;

 private:
  size_t num_classes_;
  EvalResult r_;
};

/// Runs `executor` over `dataset` and measures accuracy. After each batch `on_batch` (if set) receives the
/// running result. Throws Error if the dataset's features do not fit the model's inputs or the class counts
/// disagree.
EvalResult evaluate(Executor& executor, const Dataset& dataset, const EvalOptions& options,
                    JobContext* job = nullptr, const std::function<void(const EvalResult&)>& on_batch = {});

}  // namespace edgetune
