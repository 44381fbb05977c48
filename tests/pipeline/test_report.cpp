// The run report: a zoo MLP measured against a channel-pruned copy of itself on a small random labelled test
// set (sizes, counts, accuracy, interleaved latency, JSON, Markdown, plots), the bundled BERT spam model on
// random tokens, and the errors a user can cause.
#include <QProcess>
#include <QXmlStreamReader>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "core/analysis/evaluate.h"
#include "core/ir/stats.h"
#include "core/passes/prune_channels.h"
#include "core/pipeline/report.h"
#include "core/runtime/benchmark.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/zoo.h"
#include "tests/random_dataset.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;
namespace fs = std::filesystem;

namespace {

/// Random features (RandomDataset's) with seeded labels over `classes` classes, so accuracy is not trivially
/// 0 or 1.
class LabelledRandom final : public Dataset {
 public:
  LabelledRandom(std::vector<FeatureInfo> features, size_t size, size_t classes)
      : features_(std::move(features), size, 2), classes_(classes) {}
  std::string name() const override { return "random labelled test set"; }
  size_t size() const override { return features_.size(); }
  std::vector<FeatureInfo> features() const override { return features_.features(); }
  std::vector<std::string> classNames() const override {
    std::vector<std::string> names;
    for (size_t c = 0; c < classes_; ++c) names.push_back("c" + std::to_string(c));
    return names;
  }
  Example get(size_t index) const override {
    Example e = features_.get(index);
    e.label = static_cast<int64_t>((index * 7 + 3) % classes_);
    return e;
  }

 private:
  test::RandomDataset features_;
  size_t classes_;
};

const LabelledRandom kImages({{"input", DataType::Float32, {1, 28, 28}}}, 120, 10);

/// The base MLP and a copy with half its hidden neurons removed, saved in `dir`.
std::vector<ReportEntry> mlpAndPruned(const fs::path& dir) {
  zoo::MlpOptions options;
  options.hidden_sizes = {256, 128};
  options.seed = 3;
  const Model base = zoo::buildMlp(options);
  base.save(dir / "base.onnx");
  Model pruned = base;
  PruneChannelsOptions prune;
  prune.ratio = 0.5;
  const ChannelPruneResult result = pruneChannels(pruned, prune);
  if (!result.prunedAnything()) throw Error("test setup: pruning removed nothing");
  pruned.save(dir / "pruned.onnx");
  return {{"base", "base", dir / "base.onnx"}, {"pruned", "prune", dir / "pruned.onnx"}};
}

ReportOptions quickOptions() {
  ReportOptions options;
  options.threads = {1, 2};
  options.latency_runs = 7;
  options.warmup_runs = 2;
  options.eval_batch_size = 32;
  return options;
}

InputShapes shapesFor(const Model& model, const Dataset& data) {
  const ExampleShapes example = exampleShapesOf(data);
  return resolveInputShapes(model, {}, &example);
}

bool parsesAsSvg(const fs::path& path, int min_texts = 3) {
  const std::string bytes = readFile(path);
  QXmlStreamReader xml(QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size())));
  bool root_is_svg = false, first = true;
  int texts = 0;
  while (!xml.atEnd()) {
    if (xml.readNext() == QXmlStreamReader::StartElement) {
      if (first) root_is_svg = xml.name() == QStringLiteral("svg");
      first = false;
      if (xml.name() == QStringLiteral("text")) ++texts;
    }
  }
  if (xml.hasError()) qWarning("%s: %s", path.string().c_str(), qPrintable(xml.errorString()));
  return !xml.hasError() && root_is_svg && texts >= min_texts;
}

}  // namespace

class TestReport : public QObject {
  Q_OBJECT

 private:
  test::TempDir dir_;
  std::vector<ReportEntry> entries_;
  RunReport report_;
  std::vector<Progress> progress_;

 private slots:
  void initTestCase() {
    entries_ = mlpAndPruned(dir_.path());
    JobContext job([this](const Progress& p) { progress_.push_back(p); }, std::chrono::milliseconds(0));
    report_ = measureModels(entries_, &kImages, quickOptions(), &job);
    QCOMPARE(report_.models.size(), size_t(2));
  }

  void sizesAndCountsMatchTheFiles() {
    const auto& base = report_.models[0];
    const auto& pruned = report_.models[1];
    QCOMPARE(base.step_id, std::string("base"));
    QCOMPARE(pruned.kind, std::string("prune"));
    for (size_t i = 0; i < 2; ++i) {
      const auto& m = report_.models[i];
      QCOMPARE(m.file_bytes, static_cast<int64_t>(fs::file_size(entries_[i].path)));
      const Model model = Model::load(entries_[i].path);
      const InputShapes shapes = shapesFor(model, kImages);
      const ModelStats stats = computeStats(model, &shapes);
      QCOMPARE(m.params, stats.params);
      QCOMPARE(m.macs, stats.macs);
    }
    QCOMPARE(base.size_ratio, 1.0);
    QCOMPARE(pruned.size_ratio,
             static_cast<double>(base.file_bytes) / static_cast<double>(pruned.file_bytes));
    QVERIFY(pruned.size_ratio > 1.5);  // half the hidden neurons: most of the weights
    QVERIFY(pruned.params < base.params / 2 + 1000);
    QVERIFY(pruned.macs < base.macs);
    QCOMPARE(report_.input_shapes, std::string("input=1x1x28x28"));
    QCOMPARE(report_.latency_runs, 7);
    QCOMPARE(report_.warmup_runs, 2);
  }

  void accuracyIsMeasuredInOrtWithItsInterval() {
    for (size_t i = 0; i < 2; ++i) {
      const auto& m = report_.models[i];
      QVERIFY(m.has_accuracy);
      QCOMPARE(m.test_examples, kImages.size());
      QVERIFY(m.accuracy_low <= m.accuracy && m.accuracy <= m.accuracy_high);
      QVERIFY(m.accuracy_high - m.accuracy_low > 0.05);  // 120 examples: a wide interval
      // The same number evaluate() gives on its own.
      auto executor = makeOrtExecutor(entries_[i].path.string());
      const EvalResult r = evaluate(*executor, kImages, {});
      QCOMPARE(m.accuracy, r.top1);
      const Interval ci = wilsonInterval(r.correct_top1, r.count);
      QCOMPARE(m.accuracy_low, ci.low);
      QCOMPARE(m.accuracy_high, ci.high);
    }
    QCOMPARE(report_.models[0].accuracy_drop_points, 0.0);
    QCOMPARE(report_.models[1].accuracy_drop_points,
             (report_.models[0].accuracy - report_.models[1].accuracy) * 100);
  }

  void latencyIsTimedInPairsWithTheBase() {
    for (const auto& m : report_.models) {
      QCOMPARE(m.latency.size(), size_t(2));
      QCOMPARE(m.latency[0].threads, 1);
      QCOMPARE(m.latency[1].threads, 2);
      for (const auto& l : m.latency) {
        QVERIFY(l.median_ms > 0);
        QVERIFY(l.p90_ms >= l.median_ms);
        QVERIFY(l.base_median_ms > 0);
        QCOMPARE(l.speedup, l.base_median_ms / l.median_ms);
      }
    }
    for (const auto& l : report_.models[0].latency) {
      QCOMPARE(l.speedup, 1.0);
      QCOMPARE(l.base_median_ms, l.median_ms);
    }
    // The session of the first model measured brings ONNX Runtime's arena and the weights (about 1 MB).
    QVERIFY(report_.models[0].session_peak_rss_bytes > 0);
  }

  void progressNamesTheModelAndWhatIsMeasured() {
    QVERIFY(!progress_.empty());
    QCOMPARE(progress_.back().fraction, 1.0);
    bool accuracy = false, latency = false;
    double last = 0;
    for (const auto& p : progress_) {
      accuracy |= test::contains(p.message, "'pruned' accuracy");
      latency |= test::contains(p.message, "'pruned' latency, 2 threads");
      QVERIFY2(p.fraction >= last - 1e-9, p.message.c_str());  // composed, never restarted
      last = p.fraction;
    }
    QVERIFY(accuracy);
    QVERIFY(latency);
  }

  void cpuIsDescribed() {
    const CpuInfo cpu = CpuInfo::ofThisMachine();
    QVERIFY(cpu.cores >= 1);
    QVERIFY(!cpu.model_name.empty());
    const std::string cpuinfo = readFile("/proc/cpuinfo");
    for (const auto& flag : cpu.flags) QVERIFY2(test::contains(cpuinfo, " " + flag), flag.c_str());
#if defined(__x86_64__)
    // Every x86-64 machine this runs on has SSE4.2 (and the flags list keeps it).
    QVERIFY(std::find(cpu.flags.begin(), cpu.flags.end(), "sse4_2") != cpu.flags.end());
    QVERIFY(std::find(cpu.flags.begin(), cpu.flags.end(), "sse") == cpu.flags.end());  // filtered
#endif
    QCOMPARE(report_.cpu.toJson(), cpu.toJson());
  }

  void jsonRoundTripsExactly() {
    const nlohmann::json json = report_.toJson();
    const RunReport back = RunReport::fromJson(nlohmann::json::parse(json.dump()));
    QCOMPARE(back.toJson(), json);
    QCOMPARE(back.models.size(), report_.models.size());
    QCOMPARE(back.models[1].latency[1].p90_ms, report_.models[1].latency[1].p90_ms);
    QCOMPARE(back.models[1].accuracy_low, report_.models[1].accuracy_low);
    QCOMPARE(back.cpu.flags, report_.cpu.flags);
    const auto& m = report_.models[1];
    QCOMPARE(ModelMeasurement::fromJson(nlohmann::json::parse(m.toJson().dump())).toJson(), m.toJson());
    // A malformed report is one Error, not a JSON library exception.
    nlohmann::json broken = json;
    broken["models"][0].erase("macs");
    QVERIFY(test::contains(test::errorOf([&] { RunReport::fromJson(broken); }), "macs"));
  }

  void markdownIsThePapersTable() {
    RunReport report = report_;
    report.recipe_name = "paper-image";
    const std::string md = report.toMarkdown();
    QVERIFY(test::contains(md, "# Run report: paper-image"));
    QVERIFY(
        test::contains(md, "| step | kind | size (MB) | x smaller | params | MACs | accuracy % (95% CI) |"));
    QVERIFY(test::contains(md, "1 thread ms (median / p90)"));
    QVERIFY(test::contains(md, "x faster (2 threads)"));
    QVERIFY(test::contains(md, "| base | base |"));
    QVERIFY(test::contains(md, "| **pruned** | **prune** |"));  // the final model in bold
    const auto& p = report.models[1];
    char ratio[32];
    std::snprintf(ratio, sizeof(ratio), "**%.2fx**", p.size_ratio);
    QVERIFY2(test::contains(md, ratio), md.c_str());
    char accuracy[64];
    std::snprintf(accuracy, sizeof(accuracy), "%.2f (%.2f-%.2f)", 100 * p.accuracy, 100 * p.accuracy_low,
                  100 * p.accuracy_high);
    QVERIFY2(test::contains(md, accuracy), md.c_str());
    QVERIFY(test::contains(md, "CPU: " + report.cpu.model_name));
    QVERIFY(test::contains(md, "at input=1x1x28x28"));
    QVERIFY(test::contains(md, "7 interleaved runs"));
    QVERIFY(test::contains(md, "2 warm-up runs"));
    QVERIFY(test::contains(md, "on 120 test examples of random labelled test set"));
  }

  // The same from the device: edgetune-runner really measures the base and the pruned model (here, locally:
  // the loopback device of the SSH tests runs this same binary), the results arrive as the deploy and
  // benchmark steps record them, and the report gives the speed-up over the base on that device.
  void deviceMeasurementsAreReportedFromTheDevice() {
    const fs::path runner = fs::path(EDGETUNE_BINARY_DIR) / "bin" / "edgetune-runner";
    if (!fs::exists(runner)) QSKIP("edgetune-runner is not built in this build folder");
    auto measure = [&](const fs::path& model) {
      QProcess p;
      p.start(QString::fromStdString(runner.string()),
              {QString::fromStdString(model.string()), "--runs", "5", "--warmup", "1", "--threads", "1,2"});
      if (!p.waitForFinished(120000) || p.exitCode() != 0)
        qFatal("edgetune-runner failed on %s", model.c_str());
      nlohmann::json bench = deploy::parseRunnerOutput(p.readAllStandardOutput().toStdString()).toJson();
      bench["device"] = "bench-board";
      return bench;
    };
    const nlohmann::json base_bench = measure(entries_[0].path), pruned_bench = measure(entries_[1].path);
    const auto base = deviceMeasurementOf(
        "bench-base", "base", {{"where", "device"}, {"device", "bench-board"}, {"benchmark", base_bench}});
    const auto pruned =
        deviceMeasurementOf("ship", "pruned", {{"device", "bench-board"}, {"bench", pruned_bench}});
    QVERIFY(base && pruned);
    // A step that measured nothing on a device (a host benchmark, a deploy without bench) is not one.
    QVERIFY(
        !deviceMeasurementOf("host", "pruned", {{"where", "host"}, {"threads", nlohmann::json::array()}}));
    QVERIFY(!deviceMeasurementOf("upload", "pruned", {{"device", "bench-board"}, {"bench", nullptr}}));
    std::vector<DeviceMeasurement> device = {*base, *pruned};
    addDeviceSpeedups(device);
    QCOMPARE(device[1].speedups.size(), size_t{2});
    for (size_t i = 0; i < 2; ++i) {
      QCOMPARE(device[1].bench.latency[i].threads, device[0].bench.latency[i].threads);
      QCOMPARE(device[1].speedups[i],
               device[0].bench.latency[i].median_ms / device[1].bench.latency[i].median_ms);
      QCOMPARE(device[0].speedups[i], 1.0);
    }
    RunReport report = report_;
    report.device = device;
    const std::string md = report.toMarkdown();
    QVERIFY2(test::contains(md, "## On the device"), md.c_str());
    QVERIFY2(test::contains(md, "| ship | pruned | bench-board (x86_64, "), md.c_str());
    char speedup[32];
    std::snprintf(speedup, sizeof(speedup), "| %.2fx |", device[1].speedups[0]);
    QVERIFY2(test::contains(md, speedup), md.c_str());
    QVERIFY(test::contains(md, "separate runs on the same device"));
    QVERIFY(!test::contains(md, "(interleaved)"));
    const RunReport back = RunReport::fromJson(nlohmann::json::parse(report.toJson().dump()));
    QCOMPARE(back.toJson(), report.toJson());
    // Without the base measured on the device there is no speed-up, and the report says how to get one.
    report.device = {*pruned};
    addDeviceSpeedups(report.device);
    QCOMPARE(report.device[0].speedups, std::vector<double>(2, 0.0));
    QVERIFY(test::contains(report.toMarkdown(), "did not measure the base on the device"));
    // A malformed device measurement names the step.
    QVERIFY(test::contains(test::errorOf([&] {
                             deviceMeasurementOf("ship", "pruned", {{"bench", {{"results", "many"}}}});
                           }),
                           "'ship'"));
  }

  // compare_base: the runner times the pruned model alternately with the base in one process, and the report
  // takes that speed-up (marked interleaved) over one from a separate measurement of the base.
  void interleavedDeviceSpeedupsWinOverSeparateRuns() {
    const fs::path runner = fs::path(EDGETUNE_BINARY_DIR) / "bin" / "edgetune-runner";
    if (!fs::exists(runner)) QSKIP("edgetune-runner is not built in this build folder");
    QProcess p;
    p.start(QString::fromStdString(runner.string()),
            {QString::fromStdString(entries_[1].path.string()), "--runs", "6", "--warmup", "1", "--threads",
             "1", "--baseline", QString::fromStdString(entries_[0].path.string())});
    QVERIFY(p.waitForFinished(120000) && p.exitCode() == 0);
    nlohmann::json bench = deploy::parseRunnerOutput(p.readAllStandardOutput().toStdString()).toJson();
    bench["device"] = "bench-board";
    const auto pruned = deviceMeasurementOf("ship", "pruned", {{"device", "bench-board"}, {"bench", bench}});
    QVERIFY(pruned);
    const deploy::DeviceLatency& l = pruned->bench.latency.at(0);
    QVERIFY(l.speedup > 0);
    QCOMPARE(l.speedup, l.baseline_median_ms / l.median_ms);
    // A separate measurement of the base that says otherwise does not replace it.
    DeviceMeasurement base = *pruned;
    base.step_id = "bench-base";
    base.model_id = "base";
    for (auto& b : base.bench.latency) {
      b.median_ms = 1000 * l.median_ms;
      b.speedup = 0;
    }
    std::vector<DeviceMeasurement> device = {base, *pruned};
    addDeviceSpeedups(device);
    QCOMPARE(device[1].speedups.at(0), l.speedup);
    RunReport report = report_;
    report.device = device;
    const std::string md = report.toMarkdown();
    char cell[48];
    std::snprintf(cell, sizeof(cell), "| %.2fx (interleaved) |", l.speedup);
    QVERIFY2(test::contains(md, cell), md.c_str());
    QVERIFY(test::contains(md, "alternating with the base's in one process on the device"));
  }

  void writeReportWritesEveryFile() {
    const fs::path out = dir_ / "run";
    writeReport(report_, out);
    if (const char* keep = std::getenv("EDGETUNE_KEEP_REPORT")) writeReport(report_, keep);
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(out)) names.insert(e.path().filename().string());
    const std::set<std::string> expected = {
        "report.json",   "report.md",        "plot_accuracy.png", "plot_accuracy.svg", "plot_size.png",
        "plot_size.svg", "plot_latency.png", "plot_latency.svg",  "plot_pareto.png",   "plot_pareto.svg"};
    QCOMPARE(names, expected);  // and no temporary file left behind
    QCOMPARE(RunReport::fromJson(nlohmann::json::parse(readFile(out / "report.json"))).toJson(),
             report_.toJson());
    QCOMPARE(readFile(out / "report.md"), report_.toMarkdown());
    for (const char* plot : {"plot_accuracy", "plot_size", "plot_latency", "plot_pareto"}) {
      const cv::Mat image = cv::imread((out / (std::string(plot) + ".png")).string());
      QVERIFY2(!image.empty(), plot);
      QVERIFY(image.cols >= 640 && image.cols <= 2000);
      QVERIFY(image.rows >= 400 && image.rows <= 1000);
      // Something was drawn: not a blank canvas.
      cv::Mat grey;
      cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
      QVERIFY2(cv::countNonZero(grey < 200) > 500, plot);
      QVERIFY2(parsesAsSvg(out / (std::string(plot) + ".svg")), plot);
    }
    // The step ids are the labels.
    QVERIFY(test::contains(readFile(out / "plot_pareto.svg"), ">pruned</text>"));
  }

  void plotsWithoutATestSetAndWithOddNamesStillParse() {
    RunReport report = report_;
    for (auto& m : report.models) m.has_accuracy = false;
    report.models[1].step_id = "q<8>&\"int\"";
    const fs::path out = dir_ / "odd";
    writeReport(report, out);
    for (const char* plot : {"plot_accuracy", "plot_size", "plot_latency", "plot_pareto"})
      QVERIFY2(parsesAsSvg(out / (std::string(plot) + ".svg"), 2), plot);
    QVERIFY(test::contains(readFile(out / "plot_size.svg"), "q&lt;8&gt;&amp;&quot;int&quot;"));
    QVERIFY(test::contains(readFile(out / "plot_accuracy.svg"), "no test set"));
    QVERIFY(!test::contains(report.toMarkdown(), "accuracy %"));
  }

  // The paper-image chain's shape, by hand (five models, long ids): the layout holds and the front is right.
  void aFiveStepChainIsPlotted() {
    RunReport report;
    report.recipe_name = "paper-image";
    report.cpu = report_.cpu;
    report.latency_runs = 50;
    report.warmup_runs = 10;
    report.input_shapes = "input=1x1x28x28";
    struct Row {
      const char* id;
      const char* kind;
      double mb, accuracy, ms1, ms2;
    };
    const std::vector<Row> rows = {{"base", "base", 44.75, 0.9326, 16.7, 11.5},
                                   {"sensitivity-allocated-prune", "prune", 11.3, 0.861, 5.1, 3.2},
                                   {"recover", "recover", 11.3, 0.8976, 5.1, 3.2},
                                   {"int8", "quantize", 2.89, 0.8721, 2.36, 2.08},
                                   {"export", "export", 2.89, 0.8721, 2.37, 2.09}};
    for (const auto& row : rows) {
      ModelMeasurement m;
      m.step_id = row.id;
      m.kind = row.kind;
      m.file_bytes = static_cast<int64_t>(row.mb * 1e6);
      m.size_ratio = rows[0].mb / row.mb;
      m.has_accuracy = true;
      m.test_examples = 10000;
      m.accuracy = row.accuracy;
      const Interval ci = wilsonInterval(static_cast<size_t>(row.accuracy * 10000), 10000);
      m.accuracy_low = ci.low, m.accuracy_high = ci.high;
      m.accuracy_drop_points = (rows[0].accuracy - row.accuracy) * 100;
      m.latency = {{1, row.ms1, row.ms1 * 1.1, rows[0].ms1, rows[0].ms1 / row.ms1},
                   {2, row.ms2, row.ms2 * 1.1, rows[0].ms2, rows[0].ms2 / row.ms2}};
      report.models.push_back(m);
    }
    const fs::path out = dir_ / "chain";
    writeReport(report, out);
    if (const char* keep = std::getenv("EDGETUNE_KEEP_REPORT")) writeReport(report, fs::path(keep) / "chain");
    for (const char* plot : {"plot_accuracy", "plot_size", "plot_latency", "plot_pareto"}) {
      QVERIFY2(parsesAsSvg(out / (std::string(plot) + ".svg")), plot);
      QVERIFY(!cv::imread((out / (std::string(plot) + ".png")).string()).empty());
    }
    // base, recover and int8 are non-dominated (export is slower than int8 at the same accuracy, the pruned
    // model less accurate than recover at the same speed): two segments.
    const std::string pareto = readFile(out / "plot_pareto.svg");
    size_t front_segments = 0;
    for (size_t at = pareto.find("stroke=\"#f58518\" stroke-width=\"2.0\""); at != std::string::npos;
         at = pareto.find("stroke=\"#f58518\" stroke-width=\"2.0\"", at + 1))
      ++front_segments;
    QCOMPARE(front_segments, size_t(2 + 1));  // + the legend's sample line
    const std::string md = report.toMarkdown();
    QVERIFY(test::contains(md, "| **export** | **export** | **2.89** | **15.48x** |"));
    QVERIFY(test::contains(md, "| 87.21 (86.54-87.85) | 6.05 |"));
    QVERIFY(test::contains(md, "| 2.36 / 2.60 | 7.08x |"));
  }

  void withoutATestSetThereIsNoAccuracy() {
    ReportOptions options = quickOptions();
    options.threads = {1};
    options.latency_runs = 2;
    const RunReport r = measureModels({entries_[0]}, nullptr, options);
    QCOMPARE(r.models.size(), size_t(1));
    QVERIFY(!r.models[0].has_accuracy);
    QCOMPARE(r.models[0].latency.size(), size_t(1));
    QCOMPARE(r.models[0].latency[0].speedup, 1.0);
    QCOMPARE(r.test_dataset, std::string());
  }

  void aMissingModelFileIsNamed() {
    std::vector<ReportEntry> entries = entries_;
    entries.push_back({"int8", "quantize", dir_ / "nowhere" / "int8.onnx"});
    const std::string error = test::errorOf([&] { measureModels(entries, &kImages, quickOptions()); });
    QVERIFY2(test::contains(error, (dir_ / "nowhere" / "int8.onnx").string()), error.c_str());
    QVERIFY2(test::contains(error, "'int8'"), error.c_str());
  }

  void aTestSetThatDoesNotFitIsRefused() {
    const LabelledRandom colour({{"input", DataType::Float32, {3, 32, 32}}}, 8, 10);
    const std::string error = test::errorOf([&] { measureModels(entries_, &colour, quickOptions()); });
    qInfo("%s", error.c_str());
    QVERIFY2(!error.empty(), "no error for 3x32x32 features on a 1x28x28 model");
    QVERIFY2(test::contains(error, "input"), error.c_str());
    const LabelledRandom classes({{"input", DataType::Float32, {1, 28, 28}}}, 8, 3);
    const std::string class_error = test::errorOf([&] { measureModels(entries_, &classes, quickOptions()); });
    qInfo("%s", class_error.c_str());
    QVERIFY2(test::contains(class_error, "classes"), class_error.c_str());
  }

  void badOptionsAreRefused() {
    ReportOptions options = quickOptions();
    options.latency_runs = 0;
    QVERIFY(
        test::contains(test::errorOf([&] { measureModels(entries_, nullptr, options); }), "latency_runs"));
    options = quickOptions();
    options.threads = {0};
    QVERIFY(
        test::contains(test::errorOf([&] { measureModels(entries_, nullptr, options); }), "thread count 0"));
    QVERIFY(test::contains(test::errorOf([&] { measureModels({}, nullptr, quickOptions()); }), "no model"));
  }

  void cancellationStopsTheMeasurement() {
    JobContext job;
    job.cancel();
    bool cancelled = false;
    try {
      measureModels(entries_, &kImages, quickOptions(), &job);
    } catch (const CancelledError&) {
      cancelled = true;
    }
    QVERIFY(cancelled);
  }

  void bertOnRandomTokens() {
    const fs::path bert = fs::path(EDGETUNE_SOURCE_DIR) / "resources" / "models" / "bert_spam.onnx";
    const Model model = Model::load(bert);
    const InputShapes shapes = resolveInputShapes(model);
    const auto tokens = test::RandomDataset::forModel(model, shapes, 24);
    // A second entry that is the same model: everything but the timing must then agree exactly.
    fs::copy_file(bert, dir_ / "bert_copy.onnx");
    ReportOptions options;
    options.threads = {1};
    options.latency_runs = 3;
    options.warmup_runs = 1;
    options.test_limit = 16;
    options.eval_batch_size = 8;
    const RunReport r = measureModels({{"base", "base", bert}, {"copy", "export", dir_ / "bert_copy.onnx"}},
                                      tokens.get(), options);
    QCOMPARE(r.models.size(), size_t(2));
    QCOMPARE(r.input_shapes, std::string("attention_mask=1x128 input_ids=1x128 token_type_ids=1x128"));
    const ModelStats stats = computeStats(model, &shapes);
    for (const auto& m : r.models) {
      QCOMPARE(m.params, stats.params);
      QCOMPARE(m.macs, stats.macs);
      QVERIFY(m.macs > 10'000'000);  // attention and FFN at 128 tokens
      QCOMPARE(m.test_examples, size_t(16));
      QVERIFY(m.has_accuracy);
      QVERIFY(m.latency.at(0).median_ms > 0);
    }
    QCOMPARE(r.models[1].size_ratio, 1.0);
    QCOMPARE(r.models[1].accuracy, r.models[0].accuracy);
    QCOMPARE(r.models[1].accuracy_drop_points, 0.0);
    QVERIFY(test::contains(r.toMarkdown(), "| **copy** | **export** |"));
  }
};

QTEST_GUILESS_MAIN(TestReport)
#include "test_report.moc"
