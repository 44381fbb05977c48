#pragma once
// The quick learning-rate check: a few steps at each of several rates, from the same weights on the same
// batches, so a user sees which rate lowers the loss and which one destroys the model before spending an
// epoch on it. Torch-free header (Qt code may include it).
#include <cstddef>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/train/trainer.h"

namespace edgetune {

/// What a few steps at one rate did.
struct RateTrial {
  double learning_rate = 0;
  size_t steps = 0;       // steps that ran (fewer than asked when the loss turned NaN/Inf)
  double last_loss = 0;   // mean training loss of the last quarter of the steps
  bool diverged = false;  // the loss turned NaN or infinite
  bool rising = false;    // the last quarter's loss is more than 10% above the unchanged model's
};

struct RateCheck {
  /// The model's own loss on the same last-quarter batches (a run whose rate is too small to move any
  /// weight): what each trial is compared with, so batch-to-batch noise cancels out.
  double reference_loss = 0;
  std::vector<RateTrial> trials;  // the rates asked, then any smaller ones tried because all of those failed
  /// The rate whose last-quarter loss is lowest among those that neither diverged nor rose (within 2%, the
  /// smaller rate wins: it keeps more of what a trained model knows); 0 when every rate failed.
  double suggested_rate = 0;
};

/// Rates around `rate`: rate/10, rate/3, rate, 3 x rate, 10 x rate.
std::vector<double> ratesAround(double rate);

/// Trains a fresh copy of `model` for `steps` steps (at most one epoch) at each of `rates` (constant rate,
/// no warm-up, the seeded batch order of `base`, its optimizer and batch size) and compares the losses with
/// the unchanged model's on the same batches. When every rate failed, up to three rates ten, a hundred and a
/// thousand times below the smallest are tried too. Progress and cancellation through `job`. Throws Error
/// when the model or data cannot be trained at all (as trainModel does).
RateCheck checkLearningRates(const Model& model, const Dataset& train, const TrainOptions& base,
                             const std::vector<double>& rates, size_t steps, JobContext* job = nullptr);

/// One line per rate and the suggestion, in plain words.
std::string describeRateCheck(const RateCheck& check);

}  // namespace edgetune
