// Deploy building blocks without a network: shell quoting checked by a real /bin/sh, validation of hostile
// names and paths, SHA-256 against sha256sum, the device store, probe parsing, runner JSON, evaluation files.
#include <QtTest>

#include <fstream>
#include <sstream>

#include "core/deploy/deploy.h"
#include "core/deploy/device.h"
#include "core/deploy/device_benchmark.h"
#include "core/deploy/device_info.h"
#include "core/deploy/eval_format.h"
#include "core/deploy/sha256.h"
#include "core/deploy/shell.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "tests/deploy/ssh_server.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::deploy;
namespace fs = std::filesystem;

class TestDeployUnits : public QObject {
  Q_OBJECT
 private slots:
  void shellQuoteSurvivesARealShell_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("plain") << "model.onnx";
    QTest::newRow("space") << "my model.onnx";
    QTest::newRow("single quote") << "it's";
    QTest::newRow("break out") << "'; touch /tmp/edgetune-pwned; echo '";
    QTest::newRow("command substitution") << "$(touch /tmp/edgetune-pwned)";
    QTest::newRow("backticks") << "`touch /tmp/edgetune-pwned`";
    QTest::newRow("variables") << "$HOME ${PATH} $1";
    QTest::newRow("glob") << "*";
    QTest::newRow("newline") << "a\nb; touch /tmp/edgetune-pwned";
    QTest::newRow("option-like") << "-n";
    QTest::newRow("backslashes") << "a\\'b\\\\";
    QTest::newRow("unicode") << QString::fromUtf8("modèle-ß");
    QTest::newRow("empty") << "";
  }
  void shellQuoteSurvivesARealShell() {
    QFETCH(QString, text);
    const std::string s = text.toStdString();
    fs::remove("/tmp/edgetune-pwned");
    const fs::path script = fs::temp_directory_path() / "edgetune-quote-test.sh";
    std::ofstream(script) << "printf '%s' " << shellQuote(s) << "\n";
    std::string out;
    QCOMPARE(test::runLocal("/bin/sh '" + script.string() + "'", &out), 0);
    fs::remove(script);
    QCOMPARE(out, s);
    QVERIFY(!fs::exists("/tmp/edgetune-pwned"));
  }
  void shellQuoteRejectsNul() { QVERIFY_THROWS_EXCEPTION(Error, shellQuote(std::string("a\0b", 3))); }

  void names_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");
    QTest::newRow("simple") << "pi4" << true;
    QTest::newRow("dots and dashes") << "resnet18_int8.v2-final" << true;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("option") << "-rf" << false;
    QTest::newRow("dotdot") << ".." << false;
    QTest::newRow("hidden") << ".ssh" << false;
    QTest::newRow("slash") << "a/b" << false;
    QTest::newRow("space") << "a b" << false;
    QTest::newRow("substitution") << "$(reboot)" << false;
    QTest::newRow("semicolon") << "a;b" << false;
    QTest::newRow("quote") << "a'b" << false;
    QTest::newRow("newline") << "a\nb" << false;
    QTest::newRow("too long") << QString(65, 'a') << false;
  }
  void names() {
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QCOMPARE(isValidName(name.toStdString()), valid);
    if (!valid) {
      try {
        validateName(name.toStdString(), "model name");
        QFAIL("accepted");
      } catch (const Error& e) {
        QVERIFY(std::string(e.what()).rfind("model name '", 0) == 0);
      }
    }
  }

  void remotePaths_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("valid");
    QTest::newRow("relative") << "edgetune/models/r18" << true;
    QTest::newRow("absolute") << "/home/pi/edgetune/models/r18/model.onnx" << true;
    QTest::newRow("parent") << "edgetune/../../etc" << false;
    QTest::newRow("dot") << "edgetune/./x" << false;
    QTest::newRow("double slash") << "a//b" << false;
    QTest::newRow("trailing slash") << "a/b/" << false;
    QTest::newRow("root") << "/" << false;
    QTest::newRow("option segment") << "a/-rf" << false;
    QTest::newRow("space") << "a b" << false;
    QTest::newRow("quote") << "a'b" << false;
    QTest::newRow("dollar") << "$HOME/x" << false;
    QTest::newRow("tilde") << "~/x" << false;
    QTest::newRow("newline") << "a\nb" << false;
  }
  void remotePaths() {
    QFETCH(QString, path);
    QFETCH(bool, valid);
    bool ok = true;
    try {
      validateRemotePath(path.toStdString(), "remote folder");
    } catch (const Error& e) {
      ok = false;
      QVERIFY(std::string(e.what()).find("is not a valid device path") != std::string::npos);
    }
    QCOMPARE(ok, valid);
  }

  void hostsAndUsers() {
    validateHost("raspberrypi.local");
    validateHost("192.168.1.20");
    validateHost("fe80::1");
    QVERIFY_THROWS_EXCEPTION(Error, validateHost("-oProxyCommand=reboot"));
    QVERIFY_THROWS_EXCEPTION(Error, validateHost("pi;reboot"));
    QVERIFY_THROWS_EXCEPTION(Error, validateHost(""));
    validateUser("pi");
    QVERIFY_THROWS_EXCEPTION(Error, validateUser("-l"));
    QVERIFY_THROWS_EXCEPTION(Error, validateUser("pi root"));
  }

  void runnerCommandQuotesEverything() {
    RemoteBenchOptions o;
    o.threads = {1, 4};
    o.eval_remote_path = "edgetune/models/m/eval.bin";
    const std::string cmd =
        runnerCommand("edgetune/runner/edgetune-runner", "edgetune/models/m/model.onnx", o);
    QCOMPARE(cmd, std::string(
                      "LD_LIBRARY_PATH='edgetune/runner' 'edgetune/runner/edgetune-runner' "
                      "'edgetune/models/m/model.onnx' --threads '1,4' --runs 50 --warmup 5 --dynamic-dim 1 "
                      "--eval 'edgetune/models/m/eval.bin'"));
    QVERIFY_THROWS_EXCEPTION(Error, runnerCommand("r/edgetune-runner", "m/$(reboot).onnx", o));
    // The host's input sizes travel as --shape, quoted (an input name is the model's, not trusted).
    o.eval_remote_path.clear();
    o.input_shapes.dims = {{"input_ids", {1, 128}}, {"x;reboot", {2}}};
    const std::string sized =
        runnerCommand("edgetune/runner/edgetune-runner", "edgetune/models/m/model.onnx", o);
    QVERIFY2(sized.find("--shape 'input_ids=1x128' --shape 'x;reboot=2'") != std::string::npos,
             sized.c_str());
    o.input_shapes.dims = {{"x", {0}}};
    QVERIFY_THROWS_EXCEPTION(Error, runnerCommand("r/edgetune-runner", "m/x.onnx", o));
    o.input_shapes.dims.clear();
    o.threads = {0};
    QVERIFY_THROWS_EXCEPTION(Error, runnerCommand("r/edgetune-runner", "m/x.onnx", o));
  }

  void sha256KnownVectors() {
    QCOMPARE(sha256Hex(""), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    QCOMPARE(sha256Hex("abc"),
             std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    QCOMPARE(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
             std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    // A file across many block and buffer boundaries, against the system's sha256sum.
    test::TempDir tmp;
    std::string bytes;
    for (int i = 0; i < 200003; ++i) bytes += static_cast<char>((i * 7919) & 0xff);
    writeFileAtomic(tmp / "f.bin", bytes);
    std::string out;
    test::runLocal("sha256sum '" + (tmp / "f.bin").string() + "'", &out);
    QCOMPARE(sha256File(tmp / "f.bin"), out.substr(0, 64));
  }

  void deviceStore() {
    test::TempDir tmp;
    DeviceStore store(tmp / "cfg" / "devices.json");
    QVERIFY(store.list().empty());
    Device pi{"pi5", "raspberrypi.local", 22, "pi", AuthMethod::Password, {}, {}};
    store.add(pi);
    Device lab{"lab-x86", "10.0.0.7", 2222, "edge", AuthMethod::Key, "/home/me/.ssh/id_ed25519", {}};
    store.add(lab);
    QCOMPARE(store.list().size(), size_t{2});
    QCOMPARE(store.get("lab-x86").port, 2222);
    QVERIFY(store.get("pi5").auth == AuthMethod::Password);
    QVERIFY_THROWS_EXCEPTION(Error, store.add(pi));  // duplicate name
    QVERIFY(store.remove("pi5"));
    QVERIFY(!store.remove("pi5"));
    QCOMPARE(store.list().size(), size_t{1});
    try {
      store.get("pi5");
      QFAIL("found a removed device");
    } catch (const Error& e) {
      QVERIFY(std::string(e.what()).find("no device named 'pi5'") != std::string::npos);
    }
    // Hostile and broken entries.
    QVERIFY_THROWS_EXCEPTION(Error, store.add(Device{"../x", "h", 22, "u", AuthMethod::Agent, {}, {}}));
    QVERIFY_THROWS_EXCEPTION(Error, store.add(Device{"k", "h", 22, "u", AuthMethod::Key, {}, {}}));
    QVERIFY_THROWS_EXCEPTION(Error, store.add(Device{"p", "h", 70000, "u", AuthMethod::Agent, {}, {}}));
    writeFileAtomic(store.file(), "{ not json");
    try {
      store.list();
      QFAIL("bad JSON accepted");
    } catch (const Error& e) {
      QVERIFY(std::string(e.what()).find(store.file().string()) != std::string::npos);
    }
  }

  void probeParsesRaspberryPi() {
    const std::string out =
        "@@uname\nLinux\n6.6.31+rpt-rpi-v8\naarch64\n@@os\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
        "@@cpuinfo\nprocessor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n"
        "CPU implementer\t: 0x41\nCPU part\t: 0xd08\n\nprocessor\t: 1\nFeatures\t: fp asimd evtstrm crc32 "
        "cpuid\n"
        "processor\t: 2\nprocessor\t: 3\nRevision\t: d03114\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
        "@@nproc\n4\n@@meminfo\nMemTotal:        7998820 kB\nMemAvailable:    7000000 kB\n"
        "@@runner\nedgetune-runner 1 onnxruntime 1.30.0\n@@ortlib\n@@python\n@@end\n";
    const DeviceInfo info = parseDeviceProbe(out);
    QCOMPARE(info.os_name, std::string("Debian GNU/Linux 12 (bookworm)"));
    QCOMPARE(info.arch, std::string("aarch64"));
    QCOMPARE(info.cpu_model, std::string("Cortex-A72 (Raspberry Pi 4 Model B Rev 1.4)"));
    QCOMPARE(info.cores, 4);
    QVERIFY(info.neon);
    QVERIFY(!info.dot_product);  // the Pi 4's A72 has no SDOT; the Pi 5's A76 does
    QVERIFY(!info.avx2);
    QCOMPARE(info.ram_bytes, int64_t{7998820} * 1024);
    QCOMPARE(info.runner_version, std::string("1 onnxruntime 1.30.0"));
    QVERIFY(info.hasRunner());

    const DeviceInfo pi5 = parseDeviceProbe(
        "@@uname\nLinux\n6.6\naarch64\n@@cpuinfo\nprocessor : 0\nFeatures : fp asimd asimddp\nCPU "
        "implementer : 0x41\n"
        "CPU part : 0xd0b\n@@nproc\n4\n@@runner\n@@end\n");
    QVERIFY(pi5.dot_product);
    QCOMPARE(pi5.cpu_model, std::string("Cortex-A76"));
    QVERIFY(!pi5.hasRunner());
  }

  void runnerJson() {
    const std::string out =
        "some "
        "warning\n{\"runner_version\":1,\"arch\":\"aarch64\",\"cpu_cores\":4,\"onnxruntime_version\":\"1.30."
        "0\","
        "\"model\":\"m.onnx\",\"results\":[{\"threads\":1,\"runs\":3,\"warmup\":1,\"min_ms\":1,\"median_ms\":"
        "2,"
        "\"mean_ms\":2,\"p90_ms\":3,\"p99_ms\":3,\"max_ms\":3,\"stdev_ms\":1,\"peak_rss_bytes\":100}],"
        "\"peak_rss_bytes\":100,\"profile\":{\"threads\":1,\"runs\":3,\"nodes\":[{\"name\":\"conv1\",\"op\":"
        "\"Conv\","
        "\"total_us\":30,\"calls\":3,\"mean_us\":10}]},\"accuracy\":{\"examples\":10,\"correct\":7,\"top1\":"
        "0.7}}\n";
    const DeviceBenchmark b = parseRunnerOutput(out);
    QCOMPARE(b.arch, std::string("aarch64"));
    QCOMPARE(b.latency.size(), size_t{1});
    QCOMPARE(b.latency[0].median_ms, 2.0);
    QCOMPARE(b.profile.at(0).op, std::string("Conv"));
    QCOMPARE(b.accuracy->correct, int64_t{7});
    QCOMPARE(DeviceBenchmark::fromJson(b.toJson()).toJson(), b.toJson());
    try {
      parseRunnerOutput("{\"error\":\"model.onnx: Load model failed\"}\n");
      QFAIL("error JSON accepted");
    } catch (const Error& e) {
      QCOMPARE(std::string(e.what()), std::string("the device runner failed: model.onnx: Load model failed"));
    }
    QVERIFY_THROWS_EXCEPTION(Error, parseRunnerOutput("Segmentation fault\n"));
    QVERIFY_THROWS_EXCEPTION(Error, parseRunnerOutput("{\"results\":[{\"threads\":1}]}"));
  }

  void evalFileRoundTrip() {
    std::ostringstream out;
    evalfile::writeHeader(out, {{"input_ids", 7, {16}}, {"attention_mask", 7, {16}}}, 3);
    std::istringstream in(out.str());
    uint64_t examples = 0;
    const auto features = evalfile::readHeader(in, examples);
    QCOMPARE(examples, uint64_t{3});
    QCOMPARE(features.size(), size_t{2});
    QCOMPARE(features[1].name, std::string("attention_mask"));
    QCOMPARE(features[0].byteSize(), size_t{128});
    std::istringstream bad("NOTEVAL!");
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, evalfile::readHeader(bad, examples));
    std::istringstream truncated(out.str().substr(0, 20));
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, evalfile::readHeader(truncated, examples));
  }

  void companionFiles() {
    test::TempDir tmp;
    writeFileAtomic(tmp / "bert.onnx", "x");
    writeFileAtomic(tmp / "vocab.txt", "[PAD]\n");
    writeFileAtomic(tmp / "bert.card.json", "{}");
    writeFileAtomic(tmp / "bert.card.md", "# Model card");
    writeFileAtomic(tmp / "unrelated.onnx", "y");
    const auto files = modelCompanionFiles(tmp / "bert.onnx");
    QCOMPARE(files.size(), size_t{4});
    QCOMPARE(files[0].filename().string(), std::string("bert.onnx"));
    QVERIFY_THROWS_EXCEPTION(Error, modelCompanionFiles(tmp / "missing.onnx"));
  }

  void elfArchitectures() {
    QCOMPARE(elfArchitecture("/bin/sh"), std::string("x86_64"));
    QCOMPARE(elfArchitecture(EDGETUNE_SOURCE_DIR "/README.md"), std::string());
  }
};

QTEST_GUILESS_MAIN(TestDeployUnits)
#include "test_deploy_units.moc"
