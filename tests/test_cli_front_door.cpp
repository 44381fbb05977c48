// The front door from the command line: models as torch.onnx exports them are cleaned on the way in (and the
// command says so), symbolic sizes come from --shape or stated defaults, and the input file is never changed.
#include <QtTest>

#include <nlohmann/json.hpp>

#include "core/util/files.h"
#include "tests/cli_runner.h"
#include "tests/tests_common.h"

namespace fs = std::filesystem;
using edgetune::test::CliResult;
using edgetune::test::contains;
using edgetune::test::q;
using edgetune::test::runCli;
using edgetune::test::TempDir;

class TestCliFrontDoor : public QObject {
  Q_OBJECT
 private slots:
  void inspectCountsMacsAtTheStatedSequenceLength() {
    const fs::path bert = edgetune::test::fixture("torch/tiny_bert.onnx");
    const std::string before = edgetune::readFile(bert);
    const CliResult text = runCli({"inspect", q(bert), "--summary"});
    QCOMPARE(text.exit_code, 0);
    QVERIFY2(contains(text.out, "input_ids=1x64"), text.out.c_str());  // its position buffer holds 64
    QVERIFY2(contains(text.out, "64 positions"), text.out.c_str());
    QVERIFY2(contains(text.out, "clean: "), text.out.c_str());  // the first step of what it did

    const auto at_128 = nlohmann::json::parse(runCli({"inspect", q(bert), "--json"}).out);
    const auto at_16 =
        nlohmann::json::parse(runCli({"inspect", q(bert), "--json", "--shape", "input_ids=1x16"}).out);
    QVERIFY(at_128.at("clean").at("ran").get<bool>());
    QCOMPARE(at_16.at("input_shapes").at("inputs").at("attention_mask"), nlohmann::json({1, 16}));
    QVERIFY(at_128.at("macs").get<int64_t>() > 3 * at_16.at("macs").get<int64_t>());

    const auto raw = nlohmann::json::parse(runCli({"inspect", q(bert), "--json", "--no-clean"}).out);
    QVERIFY(!raw.at("clean").at("ran").get<bool>());
    QVERIFY(raw.at("node_count").get<int>() > at_128.at("node_count").get<int>());
    QCOMPARE(edgetune::readFile(bert), before);  // the input is never changed
  }

  void badShapesGetOneLineAndExitCode() {
    const fs::path bert = edgetune::test::fixture("torch/tiny_bert.onnx");
    for (const QString& spec :
         {QString("tokens=1x16"), QString("input_ids=1xq"), QString("input_ids=1x2x3")}) {
      const CliResult r = runCli({"inspect", q(bert), "--shape", spec});
      QVERIFY2(r.exit_code != 0, r.out.c_str());
      QVERIFY2(std::count(r.err.begin(), r.err.end(), '\n') <= 2, r.err.c_str());
      QVERIFY2(!contains(r.err, "internal error"), r.err.c_str());
    }
  }

  void benchTimesTheStatedSizes() {
    const fs::path bert = edgetune::test::fixture("torch/tiny_bert.onnx");
    const CliResult r =
        runCli({"bench", q(bert), "--runs", "3", "--warmup", "1", "--json", "--shape", "input_ids=1x32"});
    QCOMPARE(r.exit_code, 0);
    const auto j = nlohmann::json::parse(r.out);
    QVERIFY2(contains(j.at("input_shapes").get<std::string>(), "token_type_ids=1x32"), r.out.c_str());
  }
};

QTEST_GUILESS_MAIN(TestCliFrontDoor)
#include "test_cli_front_door.moc"
