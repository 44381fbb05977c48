#include "core/train/rate_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <numeric>

#include "core/util/error.h"

namespace edgetune {

namespace {

double meanOf(const std::vector<double>& v, size_t begin, size_t end) {
  if (end <= begin) return std::numeric_limits<double>::quiet_NaN();
  return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(begin),
                         v.begin() + static_cast<std::ptrdiff_t>(end), 0.0) /
         static_cast<double>(end - begin);
}

std::string formatLoss(double loss) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", loss);
  return buf;
}

}  // namespace

std::vector<double> ratesAround(double rate) {
  return {rate / 10, rate / 3, rate, rate * 3, rate * 10};
}

namespace {

// The losses of `steps` steps at `rate` from `model`'s weights (fewer when the loss turned NaN/Inf).
std::vector<double> stepLosses(const Model& model, const Dataset& train, const TrainOptions& base,
                               double rate, size_t steps, bool& diverged, JobContext* job) {
  TrainOptions t = base;
  t.epochs = 1;
  t.max_steps_per_epoch = steps;
  t.learning_rate = rate;
  t.schedule = ScheduleKind::Constant;
  t.warmup_epochs = 0;
  t.checkpoint_dir.clear();
  t.resume = false;
  t.accuracy_before = -1;
  std::vector<double> losses;
  t.on_step = [&losses](const StepStats& s) { losses.push_back(s.loss); };
  diverged = false;
  try {
    trainModel(model, train, nullptr, t, job);
  } catch (const TrainingDivergedError&) {
    diverged = true;  // the weights are lost; the losses before it still say how it went
  }
  return losses;
}

size_t lastQuarterBegin(size_t count) {
  return count - std::min(count, std::max<size_t>(1, count / 4));
}

}  // namespace

RateCheck checkLearningRates(const Model& model, const Dataset& train, const TrainOptions& base,
                             const std::vector<double>& rates, size_t steps, JobContext* job) {
  if (rates.empty()) throw Error("learning-rate check: no rates to try");
  if (steps < 4) throw Error("learning-rate check: at least 4 steps per rate are needed to see a trend");
  for (double r : rates)
    if (!(r > 0)) throw Error("learning-rate check: rates must be positive");
  const size_t planned = rates.size() + 1;  // the reference run first
  size_t done = 0;
  auto part = [&](const std::string& what) {
    std::unique_ptr<JobContext> child;
    if (job) {
      job->throwIfCancelled();
      const double end = std::min(1.0, static_cast<double>(done + 1) / static_cast<double>(planned));
      child = job->child(std::min(end, static_cast<double>(done) / static_cast<double>(planned)), end);
      child->report(0, what);
    }
    ++done;
    return child;
  };

  RateCheck check;
  bool diverged = false;
  // A rate far too small to move a weight: the unchanged model's loss on exactly the batches the trials see.
  const std::vector<double> reference =
      stepLosses(model, train, base, 1e-12, steps, diverged, part("the model's own loss").get());
  if (reference.empty() || diverged) throw Error("learning-rate check: the model's loss is not finite");
  const size_t begin = lastQuarterBegin(reference.size());
  check.reference_loss = meanOf(reference, begin, reference.size());

  auto tryRate = [&](double rate) {
    RateTrial trial;
    trial.learning_rate = rate;
    const std::vector<double> losses = stepLosses(model, train, base, rate, steps, trial.diverged,
                                                  part("learning rate " + formatLearningRate(rate)).get());
    trial.steps = losses.size();
    // Compared on the reference's batches; a run that stopped early has no last quarter to compare.
    if (!trial.diverged && losses.size() == reference.size())
      trial.last_loss = meanOf(losses, begin, losses.size());
    else
      trial.diverged = true;
    trial.rising = !trial.diverged && trial.last_loss > 1.1 * check.reference_loss;
    check.trials.push_back(trial);
    return !trial.diverged && !trial.rising;
  };
  bool any = false;
  for (double rate : rates) any = tryRate(rate) || any;
  // Every rate failed: go down from the smallest, a decade at a time, until one does not.
  const double smallest = *std::min_element(rates.begin(), rates.end());
  for (double rate = smallest / 10; !any && rate >= smallest / 1000 * 0.999; rate /= 10) any = tryRate(rate);

  const RateTrial* best = nullptr;
  for (const auto& trial : check.trials) {
    if (trial.diverged || trial.rising) continue;
    if (!best || trial.last_loss < best->last_loss * 0.98 ||
        (trial.last_loss <= best->last_loss * 1.02 && trial.learning_rate < best->learning_rate))
      best = &trial;
  }
  check.suggested_rate = best ? best->learning_rate : 0;
  return check;
}

std::string describeRateCheck(const RateCheck& check) {
  std::string text = "unchanged model: loss " + formatLoss(check.reference_loss) + " on the same batches\n";
  for (const auto& t : check.trials) {
    text += "rate " + formatLearningRate(t.learning_rate) + ": ";
    if (t.diverged)
      text += "diverged (NaN/Inf loss) after " + std::to_string(t.steps) + " steps";
    else
      text += "loss " + formatLoss(t.last_loss) + " after " + std::to_string(t.steps) + " steps" +
              (t.rising ? " (higher than unchanged: too large)" : "");
    text += "\n";
  }
  if (check.suggested_rate > 0)
    text += "suggested: " + formatLearningRate(check.suggested_rate) +
            " (the lowest loss after these steps; a smaller rate wins a near tie, it keeps more of what a "
            "trained model knows)";
  else
    text += "no rate kept the loss down, even a thousand times smaller: check the data and the model";
  return text;
}

}  // namespace edgetune
