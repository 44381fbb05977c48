// The quick learning-rate check: a destructive rate is found out in a few steps, the suggestion is a rate
// that lowered the loss, the same options give the same answer, and bad requests and cancellation stop it.
#include <QtTest>

#include "core/train/rate_check.h"
#include "core/util/error.h"
#include "tests/train/train_fixtures.h"

using namespace edgetune;
using test::PatternDataset;
using test::quickOptions;
using test::tinyResNet;

class TestRateCheck : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void findsTheDestructiveRate() {
    PatternDataset train(256, 1);
    const Model model = tinyResNet(3);
    const TrainOptions o = quickOptions();
    const std::vector<double> rates = {0.005, 0.05, 50.0};
    const RateCheck check = checkLearningRates(model, train, o, rates, 12);
    QCOMPARE(check.trials.size(), rates.size());
    for (size_t i = 0; i < rates.size(); ++i) QCOMPARE(check.trials[i].learning_rate, rates[i]);
    qInfo("%s", describeRateCheck(check).c_str());
    const RateTrial& huge = check.trials[2];
    QVERIFY2(huge.diverged || huge.rising, describeRateCheck(check).c_str());
    QVERIFY2(check.suggested_rate == 0.005 || check.suggested_rate == 0.05, describeRateCheck(check).c_str());
    for (const auto& t : check.trials)
      if (t.learning_rate == check.suggested_rate) QVERIFY(t.last_loss < check.reference_loss);
    const std::string text = describeRateCheck(check);
    QVERIFY2(text.find("rate 50:") != std::string::npos, text.c_str());
    QVERIFY2(text.find("suggested: ") != std::string::npos, text.c_str());
    // Same weights, same seeded batches: the same losses.
    const RateCheck again = checkLearningRates(model, train, o, {0.05}, 12);
    QCOMPARE(again.trials[0].last_loss, check.trials[1].last_loss);
  }

  // Every rate asked is too large: smaller ones are tried, a decade at a time, until one keeps the loss down.
  void goesDownWhenEveryRateFails() {
    PatternDataset train(256, 1);
    const RateCheck check = checkLearningRates(tinyResNet(3), train, quickOptions(), {500.0}, 12);
    qInfo("%s", describeRateCheck(check).c_str());
    QVERIFY2(check.trials.size() >= 2 && check.trials.size() <= 4, describeRateCheck(check).c_str());
    QVERIFY(check.trials[0].diverged || check.trials[0].rising);
    QVERIFY2(check.suggested_rate > 0 && check.suggested_rate < 500.0, describeRateCheck(check).c_str());
    QCOMPARE(check.suggested_rate,
             check.trials.back().learning_rate);  // the first that worked ends the search
  }

  void ratesAroundADefault() {
    const auto rates = ratesAround(0.001);
    QCOMPARE(rates.size(), size_t(5));
    QVERIFY(std::is_sorted(rates.begin(), rates.end()));
    QVERIFY(std::find(rates.begin(), rates.end(), 0.001) != rates.end());
    QVERIFY(std::abs(rates.front() - 0.0001) < 1e-12 && std::abs(rates.back() - 0.01) < 1e-12);
  }

  void refusesAndCancels() {
    PatternDataset train(64, 1);
    const Model model = tinyResNet(3);
    QVERIFY_THROWS_EXCEPTION(Error, checkLearningRates(model, train, quickOptions(), {}, 12));
    QVERIFY_THROWS_EXCEPTION(Error, checkLearningRates(model, train, quickOptions(), {0.1}, 2));
    QVERIFY_THROWS_EXCEPTION(Error, checkLearningRates(model, train, quickOptions(), {0.1, -1.0}, 12));
    JobContext job;
    job.cancel();
    QVERIFY_THROWS_EXCEPTION(CancelledError,
                             checkLearningRates(model, train, quickOptions(), {0.1}, 12, &job));
  }
};

QTEST_MAIN(TestRateCheck)
#include "test_rate_check.moc"
