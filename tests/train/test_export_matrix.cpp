// The real-export matrix: every model tests/fixtures/torch/make_export_matrix.py exports with the real
// torch.onnx (torchvision classifiers, a Hugging-Face-style BERT) goes through what a user's first commands
// do: clean-up on the way in, inspect at concrete sizes, channel pruning 0.5, static INT8 with calibration,
// dynamic INT8, FP16, and a forward pass of the training interpreter. Each result runs in ONNX Runtime with
// the original's output shape, or the step refuses with one message naming the node; nothing reaches a user
// as "internal error".
//
// The exports are made during the build (target export_matrix) into build/fixtures/exports; where Debian's
// python3-torch is missing the test exits with code 77, which CTest reports as skipped.
#include <QtTest>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "core/analysis/speedup_check.h"
#include "core/data/dataset.h"
#include "core/ir/input_shapes.h"
#include "core/ir/stats.h"
#include "core/passes/canonicalize.h"
#include "core/passes/prune_channels.h"
#include "core/passes/quantize_passes.h"
#include "core/runtime/benchmark.h"
#include "core/runtime/executor.h"
#include "core/train/torch_executor.h"
#include "core/util/error.h"
#include "tests/random_dataset.h"
#include "tests/tests_common.h"

using namespace edgetune;
namespace fs = std::filesystem;

namespace {

constexpr int kSkipped = 77;  // SKIP_RETURN_CODE in tests/CMakeLists.txt

fs::path exportsDir() {
  return fs::path(EDGETUNE_BINARY_DIR) / "fixtures" / "exports";
}

std::vector<NamedTensor> inputsAt(const Executor& executor, const InputShapes& shapes) {
  BenchmarkOptions options;
  options.input_shapes = shapes;
  return makeRandomInputs(executor.inputs(), options);
}

// Runs `model` in ONNX Runtime at `shapes`; returns the first output.
Tensor runOrt(const Model& model, const InputShapes& shapes) {
  auto executor = makeOrtExecutor(model);
  auto outputs = executor->run(inputsAt(*executor, shapes));
  return outputs.at(0);
}

// A refusal a user may see: one line, naming something, never an internal error.
void checkRefusal(const std::string& step, const std::string& message) {
  QVERIFY2(!message.empty(), (step + ": threw an empty message").c_str());
  QVERIFY2(message.find("internal error") == std::string::npos, (step + ": " + message).c_str());
  QVERIFY2(message.find("unordered_map") == std::string::npos, (step + ": " + message).c_str());
}

struct Entry {
  std::string name;
  std::string kind;  // "image" or "text"
  fs::path file;
};

std::vector<Entry> readMatrix() {
  std::ifstream in(exportsDir() / "matrix.json");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  std::vector<Entry> entries;
  if (j.is_discarded()) return entries;
  for (const auto& m : j.at("models"))
    entries.push_back({m.at("name").get<std::string>(), m.at("kind").get<std::string>(),
                       exportsDir() / m.at("file").get<std::string>()});
  return entries;
}

}  // namespace

class TestExportMatrix : public QObject {
  Q_OBJECT

 private:
  // Loads and cleans one export; every step below starts from this.
  static Model cleaned(const Entry& e) {
    Model model = Model::load(e.file);
    PassContext context;
    const CanonicalizeReport report = canonicalize(model, CanonicalizeOptions{}, context);
    if (!report.ran) throw Error("clean-up did not run");
    return model;
  }

  static void addRows() {
    QTest::addColumn<QString>("name");
    for (const auto& e : readMatrix()) QTest::newRow(e.name.c_str()) << QString::fromStdString(e.name);
  }

  static Entry entry(const QString& name) {
    for (const auto& e : readMatrix())
      if (e.name == name.toStdString()) return e;
    throw Error("no export named " + name.toStdString());
  }

 private Q_SLOTS:
  void cleanKeepsOutputsAndInspectUsesRealSizes_data() { addRows(); }
  void cleanKeepsOutputsAndInspectUsesRealSizes() {
    QFETCH(QString, name);
    const Entry e = entry(name);
    const Model raw = Model::load(e.file);
    const Model model = cleaned(e);
    QVERIFY(model.graph().node_size() <= raw.graph().node_size());
    const InputShapes shapes = resolveInputShapes(model);
    const Tensor a = runOrt(raw, shapes), b = runOrt(model, shapes);
    QCOMPARE(a.shape(), b.shape());
    const auto av = a.values<float>(), bv = b.values<float>();
    for (size_t i = 0; i < av.size(); ++i)
      QVERIFY(std::abs(av[i] - bv[i]) <= 1e-4f * (1.0f + std::abs(av[i])));

    const ModelStats stats = computeStats(model, &shapes);
    QVERIFY(stats.macs > 0);
    if (e.kind == "text") {
      // The sequence is symbolic: the default length (128) must be what MACs are counted at, not 1.
      QVERIFY(!shapes.notes.empty());
      QCOMPARE(shapes.dims.at("input_ids"), (std::vector<int64_t>{1, kDefaultSequenceLength}));
      const ModelStats at_one = computeStats(model);
      QVERIFY2(stats.macs > 50 * at_one.macs,
               (std::to_string(stats.macs) + " vs " + std::to_string(at_one.macs)).c_str());
    }
  }

  void pruneChannelsHalf_data() { addRows(); }
  void pruneChannelsHalf() {
    QFETCH(QString, name);
    const Entry e = entry(name);
    const Model model = cleaned(e);
    const InputShapes shapes = resolveInputShapes(model);
    Model pruned = model;
    PruneChannelsOptions options;
    options.ratio = 0.5;
    PruneChannelsPass pass(options);
    PassContext context;
    PassReport report;
    const std::string error = test::errorOf([&] { report = pass.apply(pruned, context); });
    if (!error.empty()) {
      checkRefusal("prune", error);
      QFAIL(("prune refused: " + error).c_str());
    }
    QVERIFY2(computeStats(pruned, &shapes).macs < computeStats(model, &shapes).macs,
             "channel pruning 0.5 removed no MACs");
    QCOMPARE(runOrt(pruned, shapes).shape(), runOrt(model, shapes).shape());
  }

  void quantizeStatic_data() { addRows(); }
  void quantizeStatic() {
    QFETCH(QString, name);
    const Entry e = entry(name);
    const Model model = cleaned(e);
    const InputShapes shapes = resolveInputShapes(model);
    QuantizeOptions options;
    options.mode = QuantizeMode::Static;
    options.samples = 16;
    options.batch_size = 8;
    QuantizePass pass(options);
    pass.setDataset(test::RandomDataset::forModel(model, shapes, 16));
    Model quantized = model;
    PassContext context;
    PassReport report;
    const std::string error = test::errorOf([&] { report = pass.apply(quantized, context); });
    if (!error.empty()) {
      checkRefusal("quantize static", error);
      QFAIL(("quantize static refused: " + error).c_str());
    }
    QCOMPARE(runOrt(quantized, shapes).shape(), runOrt(model, shapes).shape());
    QVERIFY2(report.coverage.has_value(), "static INT8 reported no coverage");
    if (e.kind == "image") {
      // Every weight is int8 (the raw export's bug was 5 of 21 weights: 1.12x), and >= 90% of MACs run in
      // integer kernels as ONNX Runtime runs it (its optimized graph, not our plan). The size target (3.5x)
      // is measured by tests/bench/bench_exports: per-channel scales, zero points and int32 biases of
      // depthwise layers keep MobileNet-style models near 3.4x at 10 classes (about 15% of the file beside
      // the int8 weights).
      const double smaller = static_cast<double>(fs::file_size(e.file)) / quantized.serialize().size();
      QVERIFY2(smaller >= 2.9, (std::to_string(smaller) + "x smaller").c_str());
      QVERIFY2(report.coverage->macsShare() >= 0.9, report.coverage->toJson().dump().c_str());
      const IntegerMacsReport ort = integerMacsInOrt(model, quantized, &shapes);
      QVERIFY2(ort.integerShare() >= 0.9, ort.toJson().dump().c_str());
    }
  }

  void quantizeDynamicAndFp16_data() { addRows(); }
  void quantizeDynamicAndFp16() {
    QFETCH(QString, name);
    const Entry e = entry(name);
    const Model model = cleaned(e);
    const InputShapes shapes = resolveInputShapes(model);
    const auto expected = runOrt(model, shapes).shape();
    for (const QuantizeMode mode : {QuantizeMode::Dynamic, QuantizeMode::Fp16}) {
      QuantizeOptions options;
      options.mode = mode;
      QuantizePass pass(options);
      Model quantized = model;
      PassContext context;
      PassReport report;
      const std::string error = test::errorOf([&] { report = pass.apply(quantized, context); });
      if (!error.empty()) {
        checkRefusal(toString(mode), error);
        QFAIL((toString(mode) + " refused: " + error).c_str());
      }
      QCOMPARE(runOrt(quantized, shapes).shape(), expected);
      QVERIFY2(report.coverage.has_value(), (toString(mode) + " reported no coverage").c_str());
    }
  }

  void trainingInterpreterForward_data() { addRows(); }
  void trainingInterpreterForward() {
    QFETCH(QString, name);
    const Entry e = entry(name);
    // Training keeps BatchNormalization, so the interpreter sees the model as the training commands give it.
    Model model = Model::load(e.file);
    PassContext context;
    CanonicalizeOptions keep_bn;
    keep_bn.fold_batchnorm = false;
    canonicalize(model, keep_bn, context);
    const InputShapes shapes = resolveInputShapes(model);
    std::unique_ptr<Executor> torch;
    const std::string error = test::errorOf([&] { torch = makeTorchExecutor(model); });
    if (!error.empty()) {
      checkRefusal("interpreter", error);
      QFAIL(("interpreter refused: " + error).c_str());
    }
    auto ort = makeOrtExecutor(model);
    const auto inputs = inputsAt(*ort, shapes);
    const Tensor want = ort->run(inputs).at(0);
    const Tensor got = torch->run(inputs).at(0);
    QCOMPARE(got.shape(), want.shape());
    const auto w = want.values<float>(), g = got.values<float>();
    double max_abs = 0, max_err = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      max_abs = std::max(max_abs, static_cast<double>(std::abs(w[i])));
      max_err = std::max(max_err, static_cast<double>(std::abs(w[i] - g[i])));
    }
    QVERIFY2(max_err <= 1e-3 * (1.0 + max_abs), (std::to_string(max_err) + " off").c_str());
  }
};

int main(int argc, char** argv) {
  if (readMatrix().empty()) {
    std::printf(
        "SKIP: no exports in %s (they need Debian's python3-torch and python3-torchvision at build time)\n",
        exportsDir().c_str());
    return kSkipped;
  }
  QCoreApplication app(argc, argv);
  TestExportMatrix test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_export_matrix.moc"
