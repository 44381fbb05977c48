// The ONNX Runtime executor and the benchmark harness: input checks, outputs, statistics, JSON.
#include <QtTest>

#include "core/runtime/benchmark.h"
#include "core/util/error.h"
#include "core/zoo/graph_builder.h"

using namespace edgetune;
using zoo::GraphBuilder;

namespace {
Model addOne() {
  GraphBuilder b("add_one");
  std::string x = b.addInput("x", DataType::Float32, {"N", 4});
  std::string one = b.addInitializer("one", Tensor::from<float>({1}, std::vector<float>{1.f}));
  b.addOutput(b.addNode("Add", "/add", {x, one}, {}, "y"), DataType::Float32, {"N", 4});
  return b.finish("add_one");
}
}  // namespace

class TestRuntime : public QObject {
  Q_OBJECT
 private slots:
  void runsAndDescribes() {
    auto exec = makeOrtExecutor(addOne());
    QCOMPARE(exec->inputs().size(), size_t{1});
    QCOMPARE(exec->inputs()[0].shape, (std::vector<int64_t>{-1, 4}));
    auto out = exec->run({{"x", Tensor::from<float>({2, 4}, std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7})}});
    QCOMPARE(out.at(0).shape(), (std::vector<int64_t>{2, 4}));
    QCOMPARE(out.at(0).values<float>()[7], 8.f);
  }

  void inputErrorsNameTheInput_data() {
    QTest::addColumn<QString>("kind");
    QTest::newRow("missing") << "missing";
    QTest::newRow("wrong type") << "type";
    QTest::newRow("wrong shape") << "shape";
    QTest::newRow("unknown name") << "unknown";
  }
  void inputErrorsNameTheInput() {
    QFETCH(QString, kind);
    auto exec = makeOrtExecutor(addOne());
    std::vector<NamedTensor> inputs;
    if (kind == "type") inputs.push_back({"x", Tensor(DataType::Int64, {1, 4})});
    if (kind == "shape") inputs.push_back({"x", Tensor(DataType::Float32, {1, 5})});
    if (kind == "unknown") {
      inputs.push_back({"x", Tensor(DataType::Float32, {1, 4})});
      inputs.push_back({"z", Tensor(DataType::Float32, {1, 4})});
    }
    try {
      exec->run(inputs);
      QFAIL("bad input accepted");
    } catch (const Error& e) {
      std::string msg = e.what();
      QVERIFY2(msg.find(kind == "unknown" ? "'z'" : "'x'") != std::string::npos, e.what());
    }
  }

  void percentileNearestRank() {
    std::vector<double> s = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
    QCOMPARE(percentile(s, 50), 5.0);
    QCOMPARE(percentile(s, 90), 9.0);
    QCOMPARE(percentile(s, 99), 10.0);
    QCOMPARE(percentile(s, 0), 1.0);
    QCOMPARE(percentile({}, 50), 0.0);
  }

  void benchmarkStatistics() {
    Model m = addOne();
    OrtOptions ort;
    BenchmarkOptions opt;
    opt.runs = 30;
    opt.warmup_runs = 3;
    opt.batch_size = 4;
    BenchmarkResult r = benchmarkModel(m, ort, opt);
    QCOMPARE(r.samples_ms.size(), size_t{30});
    QCOMPARE(r.batch_size, 4);
    QVERIFY(r.min_ms > 0);
    QVERIFY(r.min_ms <= r.median_ms && r.median_ms <= r.p90_ms && r.p90_ms <= r.p99_ms &&
            r.p99_ms <= r.max_ms);
    QVERIFY(r.peak_rss_bytes > 0);
    auto j = r.toJson();
    for (const char* key : {"median_ms", "p90_ms", "p99_ms", "stdev_ms", "peak_rss_bytes", "threads"})
      QVERIFY2(j.contains(key), key);
    QVERIFY(r.toTable().find("median") != std::string::npos);
    // What a recipe step records reads back to the same figures (the CLI prints them from it).
    const BenchmarkResult back = BenchmarkResult::fromJson(nlohmann::json::parse(j.dump()));
    QCOMPARE(back.toJson(), j);
    QCOMPARE(back.toTable(), r.toTable());
  }

  void benchmarkRejectsBadOptionsAndCancels() {
    auto exec = makeOrtExecutor(addOne());
    BenchmarkOptions opt;
    auto inputs = makeRandomInputs(exec->inputs(), opt);
    QCOMPARE(inputs.at(0).tensor.shape(), (std::vector<int64_t>{1, 4}));
    opt.runs = 0;
    QVERIFY_THROWS_EXCEPTION(Error, benchmark(*exec, inputs, opt));
    opt.runs = 10;
    JobContext job;
    job.cancel();
    QVERIFY_THROWS_EXCEPTION(CancelledError, benchmark(*exec, inputs, opt, &job));
  }
};

QTEST_GUILESS_MAIN(TestRuntime)
#include "test_runtime.moc"
