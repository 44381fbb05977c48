#pragma once
// QuickRecovery: after the live measurement of a pruned configuration, estimates in the background what a
// recovery would bring back without training: every layer's output statistics re-estimated on a few hundred
// examples (recoverChannelStatistics), then accuracy measured on the live measurement's seeded subset. Each
// round refines the estimate; the next knob change cancels it, so it never competes with a measurement.
#include <QObject>

#include <nlohmann/json.hpp>

#include <memory>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/pipeline/project.h"

namespace edgetune::ui {

class JobHandle;
class JobManager;

class QuickRecovery : public QObject {
  Q_OBJECT
 public:
  explicit QuickRecovery(JobManager* jobs, QObject* parent = nullptr);

  /// Starts estimating the recovery of `pruned` (made from `reference` by the knob state `knobs`): statistics
  /// re-estimated on `statistics` (features only: the training data), accuracy measured on the first
  /// `accuracy_examples` of `test` in the seeded order `accuracy_seed` (the live measurement's). Cancels the
  /// estimate running before.
  void start(std::shared_ptr<const Model> reference, std::shared_ptr<const Model> pruned,
             std::shared_ptr<const Dataset> statistics, std::shared_ptr<const Dataset> test,
             const nlohmann::json& knobs, uint64_t accuracy_seed, size_t accuracy_examples);
  void cancel();
  bool running() const { return job_ != nullptr; }

  /// Examples whose statistics are re-estimated, and rounds (each refines the estimate).
  static constexpr size_t kStatisticsExamples = 256;
  static constexpr int kRounds = 3;
  /// At most this many examples are evaluated per round (the estimate stays quick on large test sets).
  static constexpr size_t kMaxAccuracyExamples = 2000;

 signals:
  /// The accuracy of `knobs`' configuration after `round` of kRounds rounds.
  void estimated(const nlohmann::json& knobs, const edgetune::pipeline::VariantMetrics& metrics, int round);
  /// Why no estimate can be made for this configuration (nothing correctable, ...): shown, not an error.
  void unavailable(const QString& why);

 private:
  JobManager* jobs_;
  JobHandle* job_ = nullptr;
  int generation_ = 0;
};

}  // namespace edgetune::ui
