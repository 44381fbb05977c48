// edgetune-cli against hostile command lines and names (issue #16, items 4-6): outputs that name an input or
// each other are refused before any work (exit 2, one line naming both options, the input's bytes unchanged);
// a number outside its range, an unknown option or a bad pattern is exit 2 with one line; node-name patterns
// on 30,000-character names and pathological patterns such as (a*)*b return at once with the right answer.
#include <QProcess>
#include <QProcessEnvironment>
#include <QtTest>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/util/files.h"
#include "core/zoo/zoo.h"
#include "tests/cli_runner.h"
#include "tests/test_passes_builder.h"
#include "tests/tests_common.h"

namespace fs = std::filesystem;
using edgetune::Model;
using edgetune::test::contains;
using edgetune::test::TempDir;

namespace {

struct Run {
  int exit_code = -1;
  bool finished = false;  // false: still running after the time-out (then killed)
  std::string out, err;
};

// Runs edgetune-cli in `dir` (relative paths are the test's point) with HOME and the config folder there
// too, so nothing a test runs can touch the user's device list. A command that hangs is killed: what
// std::regex did on a pathological pattern must fail the test, not hold it for the suite's time-out.
Run runIn(const fs::path& dir, const QStringList& args, int timeout_s = 180) {
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("HOME", QString::fromStdString(dir.string()));
  env.insert("XDG_CONFIG_HOME", QString::fromStdString((dir / "config").string()));
  p.setProcessEnvironment(env);
  p.setWorkingDirectory(QString::fromStdString(dir.string()));
  p.start(QString(EDGETUNE_BINARY_DIR) + "/bin/edgetune-cli", args);
  Run r;
  r.finished = p.waitForFinished(timeout_s * 1000);
  if (!r.finished) {
    p.kill();
    p.waitForFinished();
  }
  r.exit_code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;  // -1: killed by a signal
  r.out = p.readAllStandardOutput().toStdString();
  r.err = p.readAllStandardError().toStdString();
  return r;
}

bool oneLine(const std::string& text) {
  return !text.empty() && text.back() == '\n' && std::count(text.begin(), text.end(), '\n') == 1;
}

std::string describe(const Run& r) {
  return "exit " + std::to_string(r.exit_code) + (r.finished ? "" : " (timed out)") + ", stderr: " + r.err;
}

// An MLP that reads Fashion-MNIST (1x28x28), so the commands that measure it would run to the end (and, on
// the code before, write their output over it).
Model fashionMlp() {
  edgetune::zoo::ZooOptions o;
  o.input_channels = 1;
  o.image_size = 28;
  return edgetune::zoo::buildZooModel("mlp", o);
}

// Conv (named `first_name`, 16 channels) -> Relu -> Conv "mid" (16) -> Relu -> Conv "tail" (4, the graph
// output): the first two Convs' channels are prunable groups, and all three have weights to prune or
// quantize.
Model threeConvModel(const std::string& first_name) {
  using namespace edgetune::test;
  GraphBuilder b;
  b.input("x", {1, 1, 8, 8}).output("y", {1, 4, 8, 8});
  b.init("w1", randomTensor({16, 1, 3, 3}, 1)).init("b1", randomTensor({16}, 2));
  b.init("w2", randomTensor({16, 16, 3, 3}, 3)).init("b2", randomTensor({16}, 4));
  b.init("w3", randomTensor({4, 16, 3, 3}, 5)).init("b3", randomTensor({4}, 6));
  const std::vector<int64_t> same = {1, 1, 1, 1};
  setAttr(b.node("Conv", {"x", "w1", "b1"}, {"h1"}, first_name), "pads", same);
  b.node("Relu", {"h1"}, {"r1"}, "relu1");
  setAttr(b.node("Conv", {"r1", "w2", "b2"}, {"h2"}, "mid"), "pads", same);
  b.node("Relu", {"h2"}, {"r2"}, "relu2");
  setAttr(b.node("Conv", {"r2", "w3", "b3"}, {"y"}, "tail"), "pads", same);
  return b.model();
}

// The hostile name: std::regex's recursion per character overflowed the stack on it (SIGSEGV).
const std::string kLongName = "/" + std::string(30'000, 'a') + "/Conv";

// Node names quantize left in float because the user excluded them.
std::vector<std::string> excludedByUser(const nlohmann::json& report) {
  std::vector<std::string> names;
  const auto& skipped = report.at("coverage").at("skipped");
  if (skipped.contains("excluded by user"))
    for (const auto& n : skipped.at("excluded by user")) names.push_back(n.at("node").get<std::string>());
  return names;
}

}  // namespace

class TestCliHostile : public QObject {
  Q_OBJECT
 private slots:
  // Every output of a command against its inputs and its other outputs. Relative spellings (./m.onnx), a
  // symlink to the input and paths inside a dataset spec all name the same file. On the code before, prune
  // --report m.onnx and sensitivity --csv/--save-json m.onnx replaced the model (after the whole sweep).
  void outputNamesAnInput_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("output_option");
    QTest::addColumn<QString>("other_option");
    const QStringList prune = {"prune", "m.onnx", "--ratio", "0.5"};
    const QStringList sweep = {"sensitivity", "m.onnx", "--data",   "fashion-mnist",
                               "--limit",     "16",     "--ratios", "0.5"};
    QTest::newRow("prune --report MODEL")
        << (prune + QStringList{"-o", "out.onnx", "--report", "m.onnx"}) << "--report"
        << "MODEL";
    QTest::newRow("prune --report ./MODEL")
        << (prune + QStringList{"-o", "out.onnx", "--report", "./m.onnx"}) << "--report"
        << "MODEL";
    QTest::newRow("prune --report = -o")
        << (prune + QStringList{"-o", "out.onnx", "--report", "out.onnx"}) << "--report"
        << "-o";
    QTest::newRow("prune -o symlink to MODEL") << (prune + QStringList{"-o", "link.onnx"}) << "-o"
                                               << "MODEL";
    QTest::newRow("prune --report --sensitivity")
        << (prune + QStringList{"-o", "out.onnx", "--report", "sens.json", "--allocate", "macs=0.5",
                                "--sensitivity", "sens.json"})
        << "--report"
        << "--sensitivity";
    QTest::newRow("sensitivity --csv MODEL") << (sweep + QStringList{"--csv", "m.onnx"}) << "--csv"
                                             << "MODEL";
    QTest::newRow("sensitivity --save-json ./MODEL")
        << (sweep + QStringList{"--save-json", "./m.onnx"}) << "--save-json"
        << "MODEL";
    QTest::newRow("sensitivity --save-json = --csv")
        << (sweep + QStringList{"--csv", "s.out", "--save-json", "s.out"}) << "--save-json"
        << "--csv";
    QTest::newRow("sensitivity --csv the dataset file")
        << QStringList{"sensitivity", "m.onnx",   "--data", "csv:texts.csv?vocab=vocab.txt",
                       "--csv",       "texts.csv"}
        << "--csv"
        << "--data";
    QTest::newRow("quantize -o symlink to MODEL")
        << QStringList{"quantize", "m.onnx", "--mode", "dynamic", "-o", "link.onnx"} << "-o"
        << "MODEL";
    QTest::newRow("quantize -o the vocab= of --data")
        << QStringList{"quantize", "m.onnx", "--data", "csv:texts.csv?vocab=vocab.txt", "-o", "vocab.txt"}
        << "-o"
        << "--data vocab=";
    QTest::newRow("clean -o ./MODEL") << QStringList{"clean", "m.onnx", "-o", "./m.onnx"} << "-o"
                                      << "MODEL";
    QTest::newRow("export -o symlink to MODEL")
        << QStringList{"export", "m.onnx", "--format", "onnx", "-o", "link.onnx"} << "-o"
        << "MODEL";
    QTest::newRow("run -o RECIPE") << QStringList{"run", "recipe.yaml", "-o", "recipe.yaml"} << "-o"
                                   << "RECIPE";
    QTest::newRow("device add --known-hosts = --key")
        << QStringList{"device", "add",   "pi", "--host",        "h", "--user", "u", "--auth",
                       "key",    "--key", "id", "--known-hosts", "id"}
        << "--known-hosts"
        << "--key";
  }
  void outputNamesAnInput() {
    QFETCH(QStringList, args);
    QFETCH(QString, output_option);
    QFETCH(QString, other_option);
    TempDir dir;
    fashionMlp().save(dir / "m.onnx");
    fs::create_symlink("m.onnx", dir / "link.onnx");
    for (const char* name : {"sens.json", "texts.csv", "vocab.txt", "recipe.yaml", "id"})
      edgetune::writeFileAtomic(dir / name, std::string("kept as it is\n"));
    const std::string model_before = edgetune::readFile(dir / "m.onnx");

    const Run r = runIn(dir.path(), args);
    QVERIFY2(r.exit_code == 2, describe(r).c_str());
    QVERIFY2(oneLine(r.err), r.err.c_str());
    QVERIFY2(
        contains(r.err, output_option.toStdString() + " '") && contains(r.err, other_option.toStdString()),
        r.err.c_str());
    QCOMPARE(edgetune::readFile(dir / "m.onnx"), model_before);
    QVERIFY(fs::is_symlink(dir / "link.onnx"));
    for (const char* name : {"sens.json", "texts.csv", "vocab.txt", "recipe.yaml", "id"})
      QCOMPARE(edgetune::readFile(dir / name), std::string("kept as it is\n"));
    for (const char* name : {"out.onnx", "s.out"}) QVERIFY2(!fs::exists(dir / name), name);
    QVERIFY(!fs::exists(dir / "config"));  // refused before the device store was touched
  }

  // Bad arguments: exit 2 and one line naming the option, never CLI11's 105/106, "terminate called" or
  // "internal error". The model is never read (and never changed).
  void badArgumentsExitTwo_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("needle");
    QTest::newRow("--threads 3000") << QStringList{"bench", "m.onnx", "--runs", "1", "--threads", "3000"}
                                    << "--threads";
    QTest::newRow("--threads 3000 (eval)")
        << QStringList{"eval", "m.onnx", "--data", "fashion-mnist", "--limit", "8", "--threads", "3000"}
        << "--threads";
    QTest::newRow("--threads 1,3000 (deploy)")
        << QStringList{"deploy", "m.onnx", "--device", "pi", "--threads", "1,3000"} << "3000";
    QTest::newRow("--runs 2147483647") << QStringList{"bench", "m.onnx", "--runs", "2147483647"} << "--runs";
    QTest::newRow("--runs without a value") << QStringList{"bench", "m.onnx", "--runs"} << "--runs";
    QTest::newRow("unknown option") << QStringList{"inspect", "m.onnx", "--no-such-option"}
                                    << "--no-such-option";
    QTest::newRow("unknown command") << QStringList{"no-such-command"} << "no-such-command";
    QTest::newRow("--limit -1") << QStringList{"eval", "m.onnx", "--data", "fashion-mnist", "--limit", "-1"}
                                << "--limit";
    QTest::newRow("--ratio 1.5") << QStringList{"prune", "m.onnx", "-o", "out.onnx", "--ratio", "1.5"}
                                 << "[0, 1)";
    QTest::newRow("--per-layer x=2") << QStringList{"prune", "m.onnx", "-o", "out.onnx", "--per-layer", "x=2"}
                                     << "--per-layer";
    QTest::newRow("--ratios 0") << QStringList{"sensitivity",   "m.onnx",   "--data",
                                               "fashion-mnist", "--ratios", "0"}
                                << "(0, 1)";
    QTest::newRow("--samples 0") << QStringList{"quantize", "m.onnx", "-o", "out.onnx", "--samples", "0"}
                                 << "--samples";
    QTest::newRow("--image-size 100000")
        << QStringList{"zoo", "mlp", "--image-size", "100000", "-o", "out.onnx"} << "--image-size";
    QTest::newRow("--port 70000") << QStringList{"device", "add", "pi",     "--host", "h",
                                                 "--user", "u",   "--port", "70000"}
                                  << "--port";
    QTest::newRow("--protect lookahead")
        << QStringList{"prune", "m.onnx", "-o", "out.onnx", "--protect", "fc(?=1)"} << "lookahead";
    QTest::newRow("--exclude backreference")
        << QStringList{"quantize", "m.onnx", "-o", "out.onnx", "--mode", "dynamic", "--exclude", "(a)\\1"}
        << "backreference";
    QTest::newRow("--exclude unbalanced")
        << QStringList{"quantize", "m.onnx", "-o", "out.onnx", "--mode", "dynamic", "--exclude", "conv("}
        << "--exclude";
  }
  void badArgumentsExitTwo() {
    QFETCH(QStringList, args);
    QFETCH(QString, needle);
    TempDir dir;
    fashionMlp().save(dir / "m.onnx");
    const std::string before = edgetune::readFile(dir / "m.onnx");
    const Run r = runIn(dir.path(), args);
    QVERIFY2(r.exit_code == 2, describe(r).c_str());
    QVERIFY2(oneLine(r.err), r.err.c_str());
    QVERIFY2(contains(r.err, needle.toStdString()), r.err.c_str());
    QVERIFY2(!contains(r.err, "internal error"), r.err.c_str());
    QCOMPARE(edgetune::readFile(dir / "m.onnx"), before);
    QVERIFY(!fs::exists(dir / "out.onnx"));
    QVERIFY(!fs::exists(dir / "config"));
  }

  // --help still exits 0 and shows the ranges the parser enforces.
  void helpShowsTheRanges() {
    TempDir dir;
    const Run r = runIn(dir.path(), {"bench", "--help"});
    QVERIFY2(r.exit_code == 0, describe(r).c_str());
    QVERIFY2(contains(r.out, "--threads") && contains(r.out, "[0 - 256]"), r.out.c_str());
    QVERIFY2(contains(r.out, "[1 - 100000]"), r.out.c_str());
  }

  // A run folder over an existing file: the file system's refusal is a failed operation with one line naming
  // the path (exit 1), not the "internal error" (exit 3) it was.
  void runFolderOverAFile() {
    TempDir dir;
    edgetune::writeFileAtomic(dir / "r.yaml", std::string("format: edgetune-recipe\nversion: 2\nmodel: ") +
                                                  EDGETUNE_SOURCE_DIR +
                                                  "/resources/models/resnet20_fmnist.onnx\n"
                                                  "steps:\n  - prune: {method: channels, ratio: 0.25}\n");
    edgetune::writeFileAtomic(dir / "taken", std::string("kept as it is\n"));
    const Run r = runIn(dir.path(), {"-q", "run", "r.yaml", "-o", "taken", "--no-report"});
    QVERIFY2(r.exit_code == 1, describe(r).c_str());
    QVERIFY2(oneLine(r.err) && contains(r.err, "taken") && !contains(r.err, "internal error"), r.err.c_str());
    QCOMPARE(edgetune::readFile(dir / "taken"), std::string("kept as it is\n"));
  }

  // --protect and --exclude on a Conv named with 30,000 characters: the same answers as on a short name.
  void patternsOnAVeryLongName() {
    TempDir dir;
    threeConvModel(kLongName).save(dir / "long.onnx");
    const std::string before = edgetune::readFile(dir / "long.onnx");

    Run r = runIn(dir.path(), {"--json", "-q", "prune", "long.onnx", "-o", "p.onnx", "--method", "channels",
                               "--ratio", "0.5", "--protect", "a+/Conv$"});
    QVERIFY2(r.exit_code == 0, describe(r).c_str());
    nlohmann::json j = nlohmann::json::parse(r.out);
    int protected_groups = 0;
    for (const auto& [group, reason] : j.at("result").at("left_alone").items())
      protected_groups += reason == "protected by user";
    QVERIFY2(protected_groups == 1, j.at("result").at("left_alone").dump().c_str());
    const int64_t params_protected = j.at("params_after").get<int64_t>();
    QVERIFY(params_protected < j.at("params_before").get<int64_t>());  // "mid" was pruned

    // A pattern that matches no node leaves the long-named group to be pruned too.
    r = runIn(dir.path(), {"--json", "-q", "prune", "long.onnx", "-o", "p2.onnx", "--method", "channels",
                           "--ratio", "0.5", "--protect", "^no-such-node$"});
    QVERIFY2(r.exit_code == 0, describe(r).c_str());
    j = nlohmann::json::parse(r.out);
    QVERIFY(!contains(j.at("result").at("left_alone").dump(), "protected by user"));
    QVERIFY(j.at("params_after").get<int64_t>() < params_protected);

    r = runIn(dir.path(), {"--json", "-q", "prune", "long.onnx", "-o", "p3.onnx", "--method", "magnitude",
                           "--ratio", "0.5", "--protect", "a+/Conv$"});
    QVERIFY2(r.exit_code == 0, describe(r).c_str());
    const nlohmann::json layers = nlohmann::json::parse(r.out).at("result").at("layers");
    std::vector<std::string> pruned;
    for (const auto& layer : layers) pruned.push_back(layer.at("node").get<std::string>());
    QVERIFY2(pruned == (std::vector<std::string>{"mid", "tail"}), layers.dump().substr(0, 300).c_str());

    r = runIn(dir.path(), {"--json", "-q", "quantize", "long.onnx", "-o", "q.onnx", "--mode", "weight-only",
                           "--exclude", "a+/Conv$"});
    QVERIFY2(r.exit_code == 0, describe(r).c_str());
    QCOMPARE(excludedByUser(nlohmann::json::parse(r.out)), std::vector<std::string>{kLongName});
    QCOMPARE(edgetune::readFile(dir / "long.onnx"), before);
  }

  // (a*)*b backtracks exponentially in std::regex: over a minute on a 20-character name, a stack overflow
  // on a 30,000-character one. It matches neither name here, so nothing is protected or excluded.
  void pathologicalPatternReturnsPromptly_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("64 characters") << QString::fromStdString(std::string(64, 'a'));
    QTest::newRow("30,000 characters") << QString::fromStdString(kLongName);
  }
  void pathologicalPatternReturnsPromptly() {
    QFETCH(QString, name);
    TempDir dir;
    threeConvModel(name.toStdString()).save(dir / "m.onnx");
    Run r = runIn(dir.path(), {"--json", "-q", "prune", "m.onnx", "-o", "p.onnx", "--method", "magnitude",
                               "--ratio", "0.5", "--protect", "(a*)*b"});
    QVERIFY2(r.exit_code == 0, describe(r).c_str());
    QCOMPARE(nlohmann::json::parse(r.out).at("result").at("layers").size(), size_t{3});
    r = runIn(dir.path(), {"--json", "-q", "quantize", "m.onnx", "-o", "q.onnx", "--mode", "weight-only",
                           "--exclude", "(a*)*b", "--exclude", "b|(a+)+$"});
    QVERIFY2(r.exit_code == 0, describe(r).c_str());
    // The second pattern matches the name (it ends in a's only for the 64-character one).
    const std::vector<std::string> excluded = excludedByUser(nlohmann::json::parse(r.out));
    const bool all_a = name.toStdString().find('/') == std::string::npos;
    QCOMPARE(excluded, all_a ? std::vector<std::string>{name.toStdString()} : std::vector<std::string>{});
  }
};

QTEST_GUILESS_MAIN(TestCliHostile)
#include "test_cli_hostile.moc"
