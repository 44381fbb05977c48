#include "ui/quick_recovery.h"

#include <algorithm>

#include "core/analysis/evaluate.h"
#include "core/runtime/executor.h"
#include "core/tuning/statistics_recovery.h"
#include "core/util/error.h"
#include "ui/jobs.h"

namespace edgetune::ui {
using nlohmann::json;

QuickRecovery::QuickRecovery(JobManager* jobs, QObject* parent) : QObject(parent), jobs_(jobs) {}

void QuickRecovery::cancel() {
  ++generation_;  // results of the cancelled job still queued are dropped
  if (job_) job_->cancel();
  job_ = nullptr;
}

void QuickRecovery::start(std::shared_ptr<const Model> reference, std::shared_ptr<const Model> pruned,
                          std::shared_ptr<const Dataset> statistics, std::shared_ptr<const Dataset> test,
                          const json& knobs, uint64_t accuracy_seed, size_t accuracy_examples) {
  cancel();
  const int generation = generation_;
  const size_t limit = std::min(accuracy_examples, kMaxAccuracyExamples);
  JobHandle* job = jobs_->start("Quick recovery estimate", [=, this](JobContext& context, JobHandle& handle) {
    StatisticsRecoveryOptions options;
    options.samples = kStatisticsExamples;
    options.rounds = kRounds;
    int round = 0;
    auto measure = [&](const Model& model) {
      auto executor = makeOrtExecutor(model);
      EvalOptions eval;
      eval.limit = limit;
      eval.shuffle = true;
      eval.seed = accuracy_seed;
      const EvalResult r = evaluate(*executor, *test, eval, &context);
      pipeline::VariantMetrics m;
      m.accuracy = r.top1;
      m.accuracy_low = r.top1_ci.low;
      m.accuracy_high = r.top1_ci.high;
      m.accuracy_count = r.count;
      ++round;
      handle.postToUi([this, generation, knobs, m, round] {
        if (generation == generation_) emit estimated(knobs, m, round);
      });
    };
    try {
      recoverChannelStatistics(*reference, *pruned, *statistics, options, &context,
                               [&](const StatisticsRecoveryResult& so_far) { measure(so_far.model); });
    } catch (const CancelledError&) {
      throw;
    } catch (const Error& e) {
      const QString why = QString::fromUtf8(e.what());
      handle.postToUi([this, generation, why] {
        if (generation == generation_) emit unavailable(why);
      });
    }
  });
  job_ = job;
  connect(job, &JobHandle::finished, this, [this, job] {
    if (job_ == job) job_ = nullptr;
  });
}

}  // namespace edgetune::ui
