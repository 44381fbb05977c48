// Calibration: streamed histograms (fixed memory), the four range methods on synthetic distributions, and
// calibration of a real model through ONNX Runtime.
#include <QtTest>

#include <random>

#include "core/analysis/calibration.h"
#include "core/util/error.h"
#include "tests/test_quant_common.h"

using namespace edgetune;

namespace {
std::vector<float> gaussian(size_t n, uint64_t seed, float sigma = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}
}  // namespace

class TestQuantCalibration : public QObject {
  Q_OBJECT
 private slots:
  void histogramMergesAndKeepsCounts() {
    StreamingHistogram h(64);
    h.add(std::vector<float>{0.5f, -0.25f});
    const double r0 = h.halfRange();
    h.add(std::vector<float>{4.0f});  // forces several doublings
    QVERIFY(h.halfRange() >= 4.0);
    QVERIFY(h.halfRange() > r0);
    QCOMPARE(h.count(), int64_t{3});
    double total = 0;
    for (double c : h.counts()) total += c;
    QCOMPARE(total, 3.0);
    QCOMPARE(h.min(), -0.25f);
    QCOMPARE(h.max(), 4.0f);
    QVERIFY_THROWS_EXCEPTION(Error, StreamingHistogram(10));  // not a multiple of 4
  }

  void memoryDoesNotGrowWithSamples() {
    StreamingHistogram h(2048);
    h.add(gaussian(1000, 1));
    const size_t bytes = h.memoryBytes();
    for (uint64_t b = 0; b < 200; ++b) h.add(gaussian(1000, b + 2, 1.0f + static_cast<float>(b)));
    QCOMPARE(h.memoryBytes(), bytes);
    QCOMPARE(h.count(), int64_t{201000});
  }

  void percentileOfUniform() {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> v(200000);
    for (auto& x : v) x = u(rng);
    StreamingHistogram h;
    h.add(v);
    QVERIFY(std::fabs(h.quantile(0.5) - 0.5) < 0.01);
    RangeOptions o;
    o.method = CalibrationMethod::Percentile;
    o.percentile = 99.0;
    const QuantRange r = computeRange(h, o);
    QCOMPARE(r.min, 0.0f);  // one-sided data keeps 0 as the lower end
    QVERIFY2(std::fabs(r.max - 0.99f) < 0.01f, qPrintable(QString::number(r.max)));
    // Two-sided: N(0,1) at 99.73% is about +-3 sigma.
    StreamingHistogram g;
    g.add(gaussian(400000, 3));
    o.percentile = 99.73;
    const QuantRange rg = computeRange(g, o);
    QVERIFY2(std::fabs(rg.max - 3.0f) < 0.1f && std::fabs(rg.min + 3.0f) < 0.1f,
             qPrintable(QString("%1 %2").arg(rg.min).arg(rg.max)));
  }

  void entropyAndMseClipOutliers_data() {
    QTest::addColumn<int>("method");
    QTest::newRow("entropy") << static_cast<int>(CalibrationMethod::Entropy);
    QTest::newRow("mse") << static_cast<int>(CalibrationMethod::Mse);
  }
  void entropyAndMseClipOutliers() {
    QFETCH(int, method);
    auto v = gaussian(100000, 11);
    for (int i = 0; i < 10; ++i) v.push_back(60.0f);  // rare outliers far out
    StreamingHistogram h;
    h.add(v);
    RangeOptions o;
    const QuantRange minmax = computeRange(h, o);
    QCOMPARE(minmax.max, 60.0f);
    o.method = static_cast<CalibrationMethod>(method);
    const QuantRange r = computeRange(h, o);
    // Entropy clips the outliers; MSE weighs their squared clipping error against the rounding error of
    // every value, so it may keep them (here it does), but never widens the range.
    const float bound = method == static_cast<int>(CalibrationMethod::Entropy) ? 20.0f : 60.0f;
    QVERIFY2(r.max <= bound && r.max > 2.0f, qPrintable(QString("max %1").arg(r.max)));
    QVERIFY(r.min < -2.0f);
    // Without outliers nothing needs clipping much: the range stays near the extremes.
    StreamingHistogram clean;
    clean.add(std::vector<float>(1000, 1.0f));
    clean.add(std::vector<float>(1000, -1.0f));
    const QuantRange rc = computeRange(clean, o);
    QVERIFY2(rc.max >= 0.95f, qPrintable(QString::number(rc.max)));
  }

  void mseClipsSparseTail() {
    // A uniform bulk in [-1, 1] plus a sparse tail out to 10: clipping the last few tail values costs less
    // than the rounding error the full range adds to every value, so MSE picks a tighter range than MinMax.
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f), tail(1.0f, 10.0f);
    std::vector<float> v(200000);
    for (auto& x : v) x = u(rng);
    for (int i = 0; i < 20; ++i) v.push_back(tail(rng));
    StreamingHistogram h;
    h.add(v);
    RangeOptions o;
    o.method = CalibrationMethod::Mse;
    const QuantRange r = computeRange(h, o);
    QVERIFY2(r.max < h.max() - 1.0f && r.max >= 0.9f,
             qPrintable(QString("max %1 of %2").arg(r.max).arg(h.max())));
  }

  void methodNames() {
    // QVERIFY, not QCOMPARE: QTest's own unconstrained toString and enum_names.h's are both viable for these.
    QVERIFY(fromString<CalibrationMethod>("entropy") == CalibrationMethod::Entropy);
    QVERIFY(fromString<CalibrationMethod>("kl") == CalibrationMethod::Entropy);  // read, never written
    QCOMPARE(toString(CalibrationMethod::Entropy), std::string("entropy"));
    QCOMPARE(toString(CalibrationMethod::Mse), std::string("mse"));
    QCOMPARE(enumSpellingList<CalibrationMethod>(), std::string("minmax, percentile, entropy, mse"));
    try {
      fromString<CalibrationMethod>("magic");
      QFAIL("unknown method accepted");
    } catch (const Error& e) {
      QVERIFY(std::string(e.what()).find("magic") != std::string::npos);
      QVERIFY(std::string(e.what()).find("minmax, percentile, entropy, mse") != std::string::npos);
    }
  }

  void calibratesRealModelWithConstantMemory() {
    Model m = test::tinyResidualNet();
    auto data = test::randomDataFor(m, 64);
    CalibrationOptions o;
    o.batch_size = 4;
    o.histogram_bins = 256;
    o.samples = 8;
    const std::vector<std::string> tensors = {"x", "r1", "h2"};
    CalibrationData small = collectCalibration(m, *data, tensors, o);
    o.samples = 64;
    CalibrationData large = collectCalibration(m, *data, tensors, o);
    QCOMPARE(large.histogramBytes(), small.histogramBytes());
    QCOMPARE(large.samples, size_t{64});
    QCOMPARE(large.histograms.at("x").count(), int64_t{64 * 2 * 6 * 6});
    QVERIFY(large.histograms.at("r1").min() >= 0.0f);  // after Relu
    // Chunked runs (tiny output budget) give the same histograms.
    o.max_output_bytes_per_run = 1;
    CalibrationData chunked = collectCalibration(m, *data, tensors, o);
    QCOMPARE(chunked.runs, 3);
    QCOMPARE(chunked.histograms.at("h2").counts(), large.histograms.at("h2").counts());
    // Unknown tensor names are reported.
    QVERIFY_THROWS_EXCEPTION(Error, collectCalibration(m, *data, {"no_such_tensor"}, o));
  }
};

QTEST_GUILESS_MAIN(TestQuantCalibration)
#include "test_quant_calibration.moc"
