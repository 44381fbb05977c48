// Evaluation: accuracy bookkeeping, the Wilson interval, binary metrics, progressive evaluation over a seeded
// subset (the same examples the device's evaluation file and edgetune-runner score), and running a real model
// in ONNX Runtime over an in-memory dataset whose answers are known.
#include <QtTest>

#include <QProcess>

#include <fstream>
#include <set>

#include "core/analysis/evaluate.h"
#include "core/deploy/deploy.h"
#include "core/deploy/eval_format.h"
#include "core/util/error.h"
#include "core/zoo/graph_builder.h"
#include "tests/tests_common.h"

using namespace edgetune;
using zoo::GraphBuilder;
namespace fs = std::filesystem;

namespace {

// Examples are 3-vectors; the label is the index of the largest element, so an identity "model" is always
// right and a model that negates its input is right only when the smallest and largest elements coincide
// (never here).
class ArgmaxDataset : public Dataset {
 public:
  explicit ArgmaxDataset(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      std::vector<float> v = {0.1f * static_cast<float>(i % 7), 0.2f * static_cast<float>(i % 5),
                              0.3f * static_cast<float>(i % 3)};
      v[i % 3] += 5.f;  // make the argmax unique: index i % 3
      rows_.push_back(v);
    }
  }
  std::string name() const override { return "argmax-toy"; }
  size_t size() const override { return rows_.size(); }
  Example get(size_t i) const override {
    return {{Tensor::from<float>({3}, rows_[i])}, static_cast<int64_t>(i % 3)};
  }
  std::vector<FeatureInfo> features() const override { return {{"image", DataType::Float32, {3}}}; }
  std::vector<std::string> classNames() const override { return {"a", "b", "c"}; }

 private:
  std::vector<std::vector<float>> rows_;
};

Model linearModel(float sign) {
  GraphBuilder b("linear");
  std::string x = b.addInput("x", DataType::Float32, {"N", 3});
  std::string s = b.addInitializer("sign", Tensor::from<float>({1}, std::vector<float>{sign}));
  std::string y = b.addNode("Mul", "/mul", {x, s}, {}, "logits");
  b.addOutput(y, DataType::Float32, {"N", 3});
  return b.finish("linear");
}

// Examples the identity model gets right only when they are in `chosen` (the label is 0; a chosen example
// scores class 0 highest, any other class 1): the accuracy of a run is the share of its examples in `chosen`.
// The third value, minus the example's index (never the highest), says which example it is.
class MarkedDataset : public Dataset {
 public:
  MarkedDataset(size_t n, const std::vector<size_t>& chosen) : n_(n), chosen_(chosen.begin(), chosen.end()) {}
  std::string name() const override { return "marked-toy"; }
  size_t size() const override { return n_; }
  Example get(size_t i) const override {
    const bool in = chosen_.count(i) > 0;
    return {{Tensor::from<float>({3},
                                 std::vector<float>{in ? 5.f : 0.f, in ? 0.f : 5.f, -static_cast<float>(i)})},
            0};
  }
  std::vector<FeatureInfo> features() const override { return {{"image", DataType::Float32, {3}}}; }
  std::vector<std::string> classNames() const override { return {"a", "b", "c"}; }

 private:
  size_t n_;
  std::set<size_t> chosen_;
};

Tensor logits(std::vector<std::vector<float>> rows) {
  std::vector<float> flat;
  for (auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return Tensor::from<float>({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, flat);
}

}  // namespace

class TestEvaluate : public QObject {
  Q_OBJECT
 private slots:
  void wilson() {
    // Reference values: Wilson 95% interval for 80/100 is [0.7112, 0.8666].
    Interval ci = wilsonInterval(80, 100);
    QVERIFY(std::abs(ci.low - 0.7112) < 5e-4);
    QVERIFY(std::abs(ci.high - 0.8666) < 5e-4);
    Interval all = wilsonInterval(10, 10);
    QCOMPARE(all.high, 1.0);
    QVERIFY(all.low > 0.69 && all.low < 0.73);
    Interval none = wilsonInterval(0, 0);
    QCOMPARE(none.low, 0.0);
    QCOMPARE(none.high, 1.0);
  }

  void meterTopKAndConfusion() {
    AccuracyMeter meter(3);
    meter.add(logits({{3, 2, 1}, {1, 3, 2}, {3, 1, 2}, {1, 2, 3}}), std::vector<int64_t>{0, 2, 1, 2});
    EvalResult r = meter.result();
    QCOMPARE(r.count, size_t{4});
    QCOMPARE(r.correct_top1, size_t{2});  // rows 0 and 3
    QCOMPARE(r.correct_top5, size_t{4});  // 3 classes: top-5 holds everything
    QCOMPARE(r.confusion[2][1], int64_t{1});
    QCOMPARE(r.confusion[1][0], int64_t{1});
    QVERIFY(!r.binary);
    QVERIFY_THROWS_EXCEPTION(Error, meter.add(logits({{1, 2, 3}}), std::vector<int64_t>{0, 1}));
  }

  void binaryMetrics() {
    AccuracyMeter meter(2);
    // true labels 1,1,1,0,0 ; predictions 1,1,0,1,0 -> tp 2, fn 1, fp 1, tn 1
    meter.add(logits({{0, 1}, {0, 1}, {1, 0}, {0, 1}, {1, 0}}), std::vector<int64_t>{1, 1, 1, 0, 0});
    EvalResult r = meter.result();
    QVERIFY(r.binary);
    QCOMPARE(r.precision, 2.0 / 3.0);
    QCOMPARE(r.recall, 2.0 / 3.0);
    QCOMPARE(r.f1, 2.0 / 3.0);
    // What a recipe step records reads back to the same figures (the CLI prints them from it).
    const EvalResult back = EvalResult::fromJson(nlohmann::json::parse(r.toJson().dump()));
    QCOMPARE(back.toJson(), r.toJson());
    QCOMPARE(back.toText(), r.toText());
  }

  void evaluatesRealModel() {
    ArgmaxDataset data(250);
    auto right = makeOrtExecutor(linearModel(1.f));
    EvalOptions options;
    options.batch_size = 16;
    EvalResult r = evaluate(*right, data, options);
    QCOMPARE(r.count, size_t{250});
    QCOMPARE(r.top1, 1.0);
    auto wrong = makeOrtExecutor(linearModel(-1.f));
    QCOMPARE(evaluate(*wrong, data, options).top1, 0.0);
  }

  void progressiveSubsetIsSeededAndReportsEveryBatch() {
    ArgmaxDataset data(1000);
    auto exec = makeOrtExecutor(linearModel(1.f));
    EvalOptions options;
    options.limit = 100;
    options.batch_size = 32;
    options.shuffle = true;
    options.seed = 7;
    std::vector<size_t> counts;
    EvalResult r = evaluate(*exec, data, options, nullptr, [&](const EvalResult& partial) {
      counts.push_back(partial.count);
      QVERIFY(partial.top1_ci.low <= partial.top1 && partial.top1 <= partial.top1_ci.high);
      QCOMPARE(partial.total, size_t{100});
    });
    QCOMPARE(counts, (std::vector<size_t>{32, 64, 96, 100}));
    QCOMPARE(r.count, size_t{100});
  }

  void theHostAndTheDevicePickTheSameSeededExamples() {
    // "N examples, seeded" is one function (seededSubset): evaluate --limit visits exactly its examples, and
    // the device's evaluation file (which edgetune-runner reads whole) holds exactly them, in that order.
    const size_t n = 300, limit = 40;
    const uint64_t seed = 11;
    const std::vector<size_t> chosen = seededSubset(n, limit, seed);
    const MarkedDataset data(n, chosen);
    auto exec = makeOrtExecutor(linearModel(1.f));
    EvalOptions options;
    options.limit = limit;
    options.seed = seed;
    options.batch_size = 16;
    const EvalResult host = evaluate(*exec, data, options);
    QCOMPARE(host.count, limit);
    QCOMPARE(host.top1, 1.0);  // every visited example is a chosen one
    options.seed = seed + 1;
    QVERIFY(evaluate(*exec, data, options).top1 < 1.0);  // another seed, other examples

    test::TempDir dir;
    const fs::path file = dir / "eval.bin";
    QCOMPARE(deploy::writeEvalSubset(data, limit, seed, file), limit);
    std::ifstream in(file, std::ios::binary);
    uint64_t examples = 0;
    const auto features = evalfile::readHeader(in, examples);
    QCOMPARE(examples, uint64_t{limit});
    QCOMPARE(features.at(0).byteSize(), sizeof(float) * 3);
    for (size_t k = 0; k < limit; ++k) {
      float values[3];
      int64_t label = -1;
      in.read(reinterpret_cast<char*>(values), sizeof values);
      in.read(reinterpret_cast<char*>(&label), sizeof label);
      QVERIFY(in.good());
      QCOMPARE(static_cast<size_t>(-values[2]), chosen[k]);  // the example's index, carried in its feature
      QCOMPARE(label, int64_t{0});
    }

    // The runner, run as the device runs it, scores the file's examples: all of them chosen ones.
    const fs::path runner = fs::path(EDGETUNE_BINARY_DIR) / "bin" / "edgetune-runner";
    if (!fs::exists(runner)) QSKIP("edgetune-runner is not built in this build folder");
    const fs::path model_file = dir / "identity.onnx";
    linearModel(1.f).save(model_file);
    QProcess p;
    p.start(QString::fromStdString(runner.string()),
            {QString::fromStdString(model_file.string()), "--runs", "1", "--warmup", "0", "--dynamic-dim",
             "1", "--eval", QString::fromStdString(file.string())});
    QVERIFY(p.waitForFinished(60000));
    const std::string out = p.readAllStandardOutput().toStdString();
    QVERIFY2(p.exitCode() == 0, out.c_str());
    const nlohmann::json report = nlohmann::json::parse(out);
    QCOMPARE(report.at("accuracy").at("examples").get<uint64_t>(), uint64_t{limit});
    QCOMPARE(report.at("accuracy").at("top1").get<double>(), 1.0);
  }

  void cancellation() {
    ArgmaxDataset data(500);
    auto exec = makeOrtExecutor(linearModel(1.f));
    JobContext job;
    EvalOptions options;
    options.batch_size = 10;
    int batches = 0;
    QVERIFY_THROWS_EXCEPTION(CancelledError, evaluate(*exec, data, options, &job, [&](const EvalResult&) {
                               if (++batches == 3) job.cancel();
                             }));
    QCOMPARE(batches, 3);
  }

  void classCountMismatch() {
    // The model has 3 outputs; a dataset claiming 4 classes must be refused with a message naming both.
    class FourClasses : public ArgmaxDataset {
     public:
      FourClasses() : ArgmaxDataset(10) {}
      std::vector<std::string> classNames() const override { return {"a", "b", "c", "d"}; }
    } data;
    auto exec = makeOrtExecutor(linearModel(1.f));
    try {
      evaluate(*exec, data, {});
      QFAIL("class mismatch accepted");
    } catch (const Error& e) {
      std::string msg = e.what();
      QVERIFY2(msg.find("3 classes") != std::string::npos && msg.find("has 4") != std::string::npos,
               e.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestEvaluate)
#include "test_evaluate.moc"
