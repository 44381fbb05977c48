// edgetune-cli end to end: the real binary, real files. Bad input gives one clear message, a non-zero exit
// code and no output file.
#include <QProcess>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"
#include "tests/tests_common.h"

namespace fs = std::filesystem;
using edgetune::test::CliResult;
using edgetune::test::q;
using edgetune::test::runCli;
using edgetune::test::TempDir;

namespace {

int countLines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

class TestCli : public QObject {
  Q_OBJECT
 private slots:
  void zooInspectResNet18() {
    TempDir dir;
    auto model = dir / "r18.onnx";
    CliResult zoo = runCli({"zoo", "resnet18", "-o", q(model)});
    QCOMPARE(zoo.exit_code, 0);
    CliResult inspect = runCli({"inspect", q(model), "--json"});
    QCOMPARE(inspect.exit_code, 0);
    auto j = nlohmann::json::parse(inspect.out);
    QCOMPARE(j["params"].get<int64_t>(), int64_t{11173962});
    const double gmacs = static_cast<double>(j["macs"].get<int64_t>()) / 1e9;
    QVERIFY2(gmacs > 0.55 && gmacs < 0.57, std::to_string(gmacs).c_str());
    CliResult text = runCli({"inspect", q(model)});
    QVERIFY(text.out.find("11,173,962") != std::string::npos);
    QVERIFY(text.out.find("/layer4/layer4.1/conv2/Conv") != std::string::npos);
  }

  void benchJson() {
    TempDir dir;
    auto model = dir / "r8.onnx";
    QCOMPARE(
        runCli({"zoo", "resnet8", "--input-channels", "1", "--image-size", "28", "-o", q(model)}).exit_code,
        0);
    CliResult bench = runCli({"bench", q(model), "--runs", "5", "--warmup", "1", "--json"});
    QCOMPARE(bench.exit_code, 0);
    auto j = nlohmann::json::parse(bench.out);
    QCOMPARE(j["runs"].get<int>(), 5);
    QCOMPARE(j["samples_ms"].size(), size_t{5});
    QVERIFY(j["median_ms"].get<double>() > 0);
    QVERIFY(j["min_ms"].get<double>() <= j["median_ms"].get<double>());
    QVERIFY(j["median_ms"].get<double>() <= j["p99_ms"].get<double>());
  }

  void evalFashionMnistSubset() {
    TempDir dir;
    auto model = dir / "r8.onnx";
    QCOMPARE(
        runCli({"zoo", "resnet8", "--input-channels", "1", "--image-size", "28", "-o", q(model)}).exit_code,
        0);
    CliResult eval = runCli({"eval", q(model), "--data", "fashion-mnist", "--limit", "300", "--json"});
    QVERIFY2(eval.exit_code == 0, eval.err.c_str());
    auto j = nlohmann::json::parse(eval.out);
    QCOMPARE(j["count"].get<int>(), 300);
    const double top1 = j["top1"].get<double>();
    QVERIFY(j["top1_ci95"][0].get<double>() <= top1 && top1 <= j["top1_ci95"][1].get<double>());
  }

  void cleanTorchFixture() {
    TempDir dir;
    auto out = dir / "clean.onnx";
    auto fixture = edgetune::test::fixture("torch/small_cnn.onnx");
    CliResult clean = runCli({"clean", q(fixture), "-o", q(out), "--json"});
    QVERIFY2(clean.exit_code == 0, clean.err.c_str());
    auto j = nlohmann::json::parse(clean.out);
    QVERIFY(j["nodes_after"].get<int>() < j["nodes_before"].get<int>());
    QVERIFY(fs::exists(out));
  }

  // Each bad input: exit code 1, a single-line message naming the file, and no output file left behind.
  void badInput_data() {
    QTest::addColumn<QString>("kind");
    QTest::newRow("not onnx") << "text";
    QTest::newRow("truncated") << "truncated";
    QTest::newRow("missing file") << "missing";
    QTest::newRow("directory") << "directory";
  }
  void badInput() {
    QFETCH(QString, kind);
    TempDir dir;
    auto good = dir / "good.onnx";
    QCOMPARE(runCli({"zoo", "mlp", "-o", q(good)}).exit_code, 0);
    fs::path bad = dir / "bad.onnx";
    if (kind == "text") {
      std::ofstream(bad) << "name,label\ncat,1\n";
    } else if (kind == "truncated") {
      std::ifstream in(good, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), {});
      std::ofstream(bad, std::ios::binary)
          .write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 3));
    } else if (kind == "directory") {
      fs::create_directory(bad);
    }
    auto out = dir / "out.onnx";
    for (const QStringList& args :
         {QStringList{"inspect", q(bad)}, QStringList{"clean", q(bad), "-o", q(out)},
          QStringList{"bench", q(bad), "--runs", "1"}}) {
      CliResult r = runCli(args);
      QCOMPARE(r.exit_code, 1);
      QVERIFY2(r.err.find(bad.string()) != std::string::npos, r.err.c_str());
      QCOMPARE(countLines(r.err), 1);
      QVERIFY(!fs::exists(out));
    }
    // No temporary files either.
    for (const auto& entry : fs::directory_iterator(dir.path()))
      QVERIFY2(entry.path().filename().string().find(".tmp") == std::string::npos, entry.path().c_str());
  }

  void refusesToOverwriteInput() {
    TempDir dir;
    auto model = dir / "m.onnx";
    QCOMPARE(runCli({"zoo", "mlp", "-o", q(model)}).exit_code, 0);
    auto before = fs::file_size(model);
    auto mtime = fs::last_write_time(model);
    CliResult r = runCli({"clean", q(model), "-o", q(model)});
    QCOMPARE(r.exit_code, 1);
    QVERIFY(r.err.find("overwrite") != std::string::npos);
    QCOMPARE(fs::file_size(model), before);
    QVERIFY(fs::last_write_time(model) == mtime);
  }

  void modelDoesNotFitDataset() {
    TempDir dir;
    auto model = dir / "r8.onnx";  // expects 3x32x32, Fashion-MNIST gives 1x28x28
    QCOMPARE(runCli({"zoo", "resnet8", "-o", q(model)}).exit_code, 0);
    CliResult r = runCli({"eval", q(model), "--data", "fashion-mnist", "--limit", "10"});
    QCOMPARE(r.exit_code, 1);
    QCOMPARE(countLines(r.err), 1);
    QVERIFY2(r.err.find("input") != std::string::npos && r.err.find("28") != std::string::npos,
             r.err.c_str());
  }

  // prune --allocate: per-group ratios from a saved sensitivity sweep, meeting a MACs target (deterministic)
  // and a measured-latency one; the report carries the allocation; misuse gets one message and no output
  // file.
  void pruneAllocate() {
    TempDir dir;
    auto model = dir / "r8.onnx", sens = dir / "sens.json", out = dir / "p.onnx", mlp = dir / "mlp.onnx";
    QCOMPARE(
        runCli({"zoo", "resnet8", "--input-channels", "1", "--image-size", "28", "-o", q(model)}).exit_code,
        0);
    CliResult s = runCli({"-q", "sensitivity", q(model), "--data", "fashion-mnist", "--limit", "64",
                          "--ratios", "0.3", "0.6", "0.9", "--save-json", q(sens)});
    QVERIFY2(s.exit_code == 0, s.err.c_str());
    CliResult p = runCli({"--json", "-q", "prune", q(model), "-o", q(out), "--allocate", "macs=0.6",
                          "--sensitivity", q(sens), "--round", "1"});
    QVERIFY2(p.exit_code == 0, p.err.c_str());
    auto j = nlohmann::json::parse(p.out);
    QVERIFY(j["allocation"]["reached"].get<bool>());
    QVERIFY(!j["allocation"]["ratios"].empty());
    QVERIFY(j["macs_after"].get<double>() <= 0.6 * j["macs_before"].get<double>());
    QCOMPARE(j["allocation"]["metric_after"].get<double>(), j["macs_after"].get<double>());
    QVERIFY(fs::exists(out));
    fs::remove(out);
    p = runCli({"--json", "-q", "prune", q(model), "-o", q(out), "--allocate", "latency=0.7", "--sensitivity",
                q(sens)});
    QVERIFY2(p.exit_code == 0, p.err.c_str());
    j = nlohmann::json::parse(p.out);
    QVERIFY(j["allocation"]["metric_before"].get<double>() > 0);  // milliseconds, measured
    QVERIFY(j["allocation"]["metric_after"].get<double>() > 0);
    QVERIFY(j["macs_after"].get<double>() < j["macs_before"].get<double>());
    fs::remove(out);
    QCOMPARE(runCli({"zoo", "mlp", "-o", q(mlp)}).exit_code, 0);
    const std::vector<std::pair<QStringList, std::string>> bad = {
        {{"prune", q(model), "-o", q(out), "--allocate", "macs=0.6"}, "--sensitivity"},
        {{"prune", q(model), "-o", q(out), "--allocate", "flops=0.6", "--sensitivity", q(sens)}, "flops=0.6"},
        {{"prune", q(model), "-o", q(out), "--allocate", "macs=half", "--sensitivity", q(sens)},
         "not a number"},
        {{"prune", q(model), "-o", q(out), "--allocate", "macs=1.5", "--sensitivity", q(sens)}, "(0, 1)"},
        {{"prune", q(mlp), "-o", q(out), "--allocate", "macs=0.6", "--sensitivity", q(sens)}, "parameters"},
        {{"prune", q(model), "-o", q(out), "--allocate", "macs=0.6", "--sensitivity", q(model)}, "not JSON"},
        {{"prune", q(model), "-o", q(out), "--allocate", "macs=0.6", "--sensitivity", q(sens), "--protect",
          "conv1"},
         "--protect"},
        {{"prune", q(model), "-o", q(out), "--method", "magnitude", "--allocate", "macs=0.6", "--sensitivity",
          q(sens)},
         "channels"}};
    for (const auto& [args, needle] : bad) {
      CliResult r = runCli(args);
      QCOMPARE(r.exit_code, 1);
      QCOMPARE(countLines(r.err), 1);
      QVERIFY2(r.err.find(needle) != std::string::npos, (needle + " not in: " + r.err).c_str());
      QVERIFY(!fs::exists(out));
    }
  }

  void badArguments() {
    TempDir dir;
    auto out = dir / "x.onnx";
    CliResult r = runCli({"zoo", "resnet19", "-o", q(out)});
    QCOMPARE(r.exit_code, 105);  // CLI11's validation error code
    QVERIFY(!fs::exists(out));
    QVERIFY(runCli({"eval"}).exit_code != 0);
    QVERIFY(runCli({}).exit_code != 0);
  }

  void badDatasetSpec() {
    TempDir dir;
    auto model = dir / "m.onnx";
    QCOMPARE(runCli({"zoo", "mlp", "-o", q(model)}).exit_code, 0);
    CliResult r = runCli({"eval", q(model), "--data", "idx:/nonexistent/folder?split=test"});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(r.err.find("/nonexistent/folder") != std::string::npos, r.err.c_str());
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
