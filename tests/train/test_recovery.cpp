// Recovery after pruning: a hard-pruned tiny model regains accuracy by fine-tuning or distillation with the
// masks held (pruned weights stay exactly zero), gradual cubic pruning reaches its target, and bad options
// are refused.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "core/analysis/evaluate.h"
#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/passes/prune_magnitude.h"
#include "core/train/recovery.h"
#include "core/train/trainer.h"
#include "core/util/error.h"
#include "core/zoo/zoo.h"
#include "tests/tests_common.h"
#include "tests/train/train_fixtures.h"

using namespace edgetune;
namespace fs = std::filesystem;
using test::ortAccuracy;
using test::PatternDataset;
using test::quickOptions;
using test::tinyResNet;
using test::trainedModel;

namespace {

// Number of masked (0) entries whose weight in `m` is not exactly zero.
int64_t maskedNonZeros(const Model& m, const std::map<std::string, std::vector<uint8_t>>& masks) {
  int64_t bad = 0;
  for (const auto& [name, keep] : masks) {
    const Tensor w = tensorFromProto(*m.initializer(name));
    const auto v = w.values<float>();
    for (size_t k = 0; k < keep.size(); ++k)
      if (!keep[k] && v[k] != 0.0f) ++bad;
  }
  return bad;
}

}  // namespace

class TestRecovery : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void recoversAccuracyWithMasksHeld_data() {
    QTest::addColumn<bool>("distill");
    QTest::newRow("fine-tune") << false;
    QTest::newRow("distill from the unpruned model") << true;
  }
  void recoversAccuracyWithMasksHeld() {
    QFETCH(bool, distill);
    PatternDataset train(256, 1), val(200, 2);
    const Model& dense = trainedModel();
    const double dense_acc = ortAccuracy(dense, val);
    QVERIFY2(dense_acc >= 0.9, qPrintable(QString("dense accuracy %1").arg(dense_acc)));

    Model pruned = dense;
    PruneMagnitudeOptions p;
    p.sparsity = 0.92;
    MagnitudePruneResult pr = pruneMagnitude(pruned, p);
    const double pruned_acc = ortAccuracy(pruned, val);
    QVERIFY2(pruned_acc < dense_acc - 0.15, qPrintable(QString("pruning did not hurt: %1").arg(pruned_acc)));

    RecoveryOptions o;
    o.train = quickOptions();
    o.train.epochs = 4;
    test::TempDir dir;
    if (distill) {
      dense.save(dir / "teacher.onnx");
      o.train.distill.teacher_path = (dir / "teacher.onnx").string();
      o.train.distill.alpha = 0.7;
    }
    RecoveryResult r = recoverPruned(pruned, train, &val, o);
    QCOMPARE(r.history.size(), size_t(4));
    QVERIFY(std::abs(r.accuracy_before - pruned_acc) <= 0.01);
    const double recovered = ortAccuracy(r.model, val);
    qInfo("dense %.3f, pruned (92%%) %.3f, recovered %.3f", dense_acc, pruned_acc, recovered);
    QVERIFY2(
        recovered >= pruned_acc + 0.1 && recovered >= dense_acc - 0.05,
        qPrintable(QString("dense %1 pruned %2 recovered %3").arg(dense_acc).arg(pruned_acc).arg(recovered)));
    // The masks came from the pruned model's zeros and are the pruner's masks; every pruned weight is still
    // 0.
    QCOMPARE(maskedNonZeros(r.model, pr.masks), int64_t(0));
    QCOMPARE(r.masked_weights, pr.zeros);
    QVERIFY(pr.zeros > 0);
  }

  void withoutMasksZerosRegrow() {
    // The counter-check: the same fine-tuning without masks moves pruned weights away from zero.
    PatternDataset train(256, 1);
    Model pruned = trainedModel();
    PruneMagnitudeOptions p;
    p.sparsity = 0.92;
    MagnitudePruneResult pr = pruneMagnitude(pruned, p);
    RecoveryOptions o;
    o.train = quickOptions();
    o.train.epochs = 1;
    o.masks_from_zeros = false;
    RecoveryResult r = recoverPruned(pruned, train, nullptr, o);
    QVERIFY(maskedNonZeros(r.model, pr.masks) > pr.zeros / 2);
    QCOMPARE(r.masked_weights, int64_t(0));
  }

  void masksFromZerosFindsOnlyPrunedLayers() {
    Model m = trainedModel();
    QVERIFY(masksFromZeros(m).empty());  // a trained dense model has no exact zeros
    PruneMagnitudeOptions p;
    p.sparsity = 0.5;
    p.exclude_regex = "Gemm|MatMul|fc|classifier";
    MagnitudePruneResult pr = pruneMagnitude(m, p);
    auto masks = masksFromZeros(m);
    QCOMPARE(masks.size(), pr.masks.size());
    for (const auto& [name, keep] : pr.masks)
      QVERIFY2(masks.count(name) && masks.at(name) == keep, name.c_str());
  }

  void gradualPruningReachesTarget() {
    PatternDataset train(256, 1), val(200, 2);
    RecoveryOptions o;
    o.train = quickOptions();
    o.train.learning_rate = 0.02;
    o.gradual_sparsity = 0.8;
    o.gradual_epochs = 2;
    std::vector<int> epochs_seen;
    RecoveryResult r = recoverPruned(trainedModel(), train, &val, o, nullptr,
                                     [&](const EpochStats& s) { epochs_seen.push_back(s.epoch); });
    QCOMPARE(epochs_seen, (std::vector<int>{1, 2, 3}));
    // Every Conv/Gemm/MatMul weight ends at 80% zeros (layer scope), held through the last training epoch.
    Model check = r.model;
    int64_t weights = 0, zeros = 0;
    for (const auto& [name, keep] : masksFromZeros(check)) {
      weights += static_cast<int64_t>(keep.size());
      zeros += std::count(keep.begin(), keep.end(), uint8_t{0});
    }
    QVERIFY(weights > 0);
    const double sparsity = static_cast<double>(zeros) / static_cast<double>(weights);
    QVERIFY2(sparsity >= 0.78 && sparsity <= 0.85, qPrintable(QString("sparsity %1").arg(sparsity)));
    QCOMPARE(r.masked_weights, zeros);
    const double acc = ortAccuracy(r.model, val);
    qInfo("gradual: sparsity %.3f, accuracy %.3f", sparsity, acc);
    QVERIFY2(acc >= 0.8, qPrintable(QString("accuracy after gradual pruning %1").arg(acc)));
  }

  // A rate that destroys a trained model stops the run with the fix, instead of returning a model at chance
  // (or full of NaN) as if it were a result.
  void destructiveLearningRateStopsTheRun() {
    PatternDataset train(256, 1), val(200, 2);
    const Model& dense = trainedModel();
    RecoveryOptions o;
    o.train = quickOptions();
    o.train.epochs = 2;
    o.train.learning_rate = 1e6;
    try {
      recoverPruned(dense, train, &val, o);
      QFAIL("training at learning rate 1e6 returned a model");
    } catch (const Error& e) {
      const QString message = QString::fromUtf8(e.what());
      QVERIFY2(message.contains("diverged") || message.contains("collapsed"), qPrintable(message));
      QVERIFY2(message.contains("lower the learning rate"), qPrintable(message));
    }
    // The same run at a sane rate is not stopped.
    o.train.learning_rate = quickOptions().learning_rate;
    QCOMPARE(recoverPruned(dense, train, &val, o).history.size(), size_t(2));
  }

  void collapseIsAtChanceFromWellAbove() {
    QVERIFY(trainingCollapsed(0.9, 0.1, 10));
    QVERIFY(trainingCollapsed(0.31, 0.15, 10));  // from 3x chance to 1.5x chance
    QVERIFY(!trainingCollapsed(0.29, 0.1, 10));  // the model knew little: a pruned model may start there
    QVERIFY(!trainingCollapsed(0.9, 0.16, 10));
    QVERIFY(!trainingCollapsed(-1, 0.1, 10));  // unknown before: a model trained from scratch
    QVERIFY(!trainingCollapsed(0.9, -1, 10));  // no validation
    QVERIFY(!trainingCollapsed(1.0, 0.5, 1));
  }

  void refusesBadOptions() {
    PatternDataset train(64, 1);
    const Model& m = trainedModel();
    RecoveryOptions o;
    o.train = quickOptions();
    o.train.epochs = 1;
    o.masks["no_such_weight"] = {1, 0};
    QVERIFY_THROWS_EXCEPTION(Error, recoverPruned(m, train, nullptr, o));
    o.masks.clear();
    Model pruned = m;
    MagnitudePruneResult pr = pruneMagnitude(pruned, PruneMagnitudeOptions{});
    auto wrong = pr.masks;
    wrong.begin()->second.push_back(1);  // one entry too many
    o.masks = wrong;
    QVERIFY_THROWS_EXCEPTION(Error, recoverPruned(pruned, train, nullptr, o));
    o.masks.clear();
    o.gradual_sparsity = 1.0;
    QVERIFY_THROWS_EXCEPTION(Error, recoverPruned(m, train, nullptr, o));
    o.gradual_sparsity = 0.5;
    o.gradual_epochs = 5;  // more than epochs
    QVERIFY_THROWS_EXCEPTION(Error, recoverPruned(m, train, nullptr, o));
  }
};

QTEST_GUILESS_MAIN(TestRecovery)
#include "test_recovery.moc"
