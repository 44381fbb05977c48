// edgetune-cli end to end: the real binary, real files. Bad input gives one clear message, a non-zero exit
// code and no output file.
#include <sys/stat.h>

#include <QProcess>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"
#include "tests/hostile_models.h"
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

  // Hostile models (issue 16): inspect and quantize refuse each with exit code 1 and one line naming the
  // file; no output and no temporary file is left, and nothing hangs on a FIFO or reads /dev/zero forever.
  void hostileModels_data() {
    QTest::addColumn<QString>("kind");
    for (const char* kind :
         {"FIFO as the model", "/dev/zero as the model", "absolute external data", "../ external data",
          "FIFO as external data", "dims overflow", "Conv strides 0", "short Conv bias"})
      QTest::newRow(kind) << kind;
  }
  void hostileModels() {
    namespace hostile = edgetune::test::hostile;
    QFETCH(QString, kind);
    TempDir dir;
    fs::create_directory(dir / "m");
    fs::path model = dir / "m" / "hostile.onnx";
    hostile::writeBytes(dir / "secret.bin", std::string(48, 'S'));  // outside the model's folder
    edgetune::test::GraphBuilder b = kind.contains("Conv") ? hostile::convModel() : hostile::matmulModel();
    onnx::TensorProto& first = *b.proto().mutable_graph()->mutable_initializer(0);  // W
    if (kind == "FIFO as the model") {
      QCOMPARE(::mkfifo(model.c_str(), 0600), 0);
    } else if (kind == "/dev/zero as the model") {
      model = "/dev/zero";
    } else {
      if (kind == "absolute external data") {
        hostile::setExternal(first, (dir / "secret.bin").string());
      } else if (kind == "../ external data") {
        hostile::setExternal(first, "../secret.bin");
      } else if (kind == "FIFO as external data") {
        QCOMPARE(::mkfifo((dir / "m" / "w.bin").c_str(), 0600), 0);
        hostile::setExternal(first, "w.bin");
      } else if (kind == "dims overflow") {
        first.clear_dims();
        first.add_dims(4);
        first.add_dims((int64_t{1} << 62) + 1);  // 4 x (2^62 + 1) wraps to 4 elements, 16 bytes
        first.set_raw_data(std::string(16, '\0'));
      } else if (kind == "Conv strides 0") {
        hostile::setInts(*b.proto().mutable_graph()->mutable_node(0), "strides", {0, 0});
      } else if (kind == "short Conv bias") {
        *b.proto().mutable_graph()->mutable_initializer(1) =
            edgetune::tensorToProto("B", edgetune::test::randomTensor({3}, 7));
      }
      hostile::writeProto(model, b.proto());
    }
    const auto out = dir / "out.onnx";
    for (const QStringList& args : {QStringList{"inspect", q(model)},
                                    QStringList{"quantize", q(model), "--mode", "dynamic", "-o", q(out)}}) {
      CliResult r = runCli(args);
      qInfo("%s", r.err.c_str());
      QVERIFY2(r.exit_code == 1, (std::to_string(r.exit_code) + ": " + r.err).c_str());
      QVERIFY2(r.err.find(model.string()) != std::string::npos, r.err.c_str());
      QCOMPARE(countLines(r.err), 1);
      QVERIFY(!fs::exists(out));
    }
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
    QCOMPARE(r.exit_code, 2);  // refused as a bad argument, before any work
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
    QCOMPARE(r.exit_code, 2);  // bad arguments exit 2, as the README says
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
