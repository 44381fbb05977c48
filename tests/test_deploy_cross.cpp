// The cross-compiled aarch64 runner (installer/build-runner-aarch64.sh) executes: started once under Debian's
// qemu-user, inside a private mount namespace with an ARM /proc/cpuinfo and an empty /sys CPU folder, because
// ONNX Runtime's CPU detection otherwise reads the x86 host's files and crashes. Builds nothing; skips with
// the reason when the binary, qemu-aarch64 or root is missing.
#include <QtTest>

#include <fstream>

#include "core/deploy/deploy.h"
#include "core/deploy/device_benchmark.h"
#include "core/deploy/shell.h"
#include "core/zoo/zoo.h"
#include "tests/deploy/ssh_server.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::deploy;
namespace fs = std::filesystem;

namespace {
// /proc/cpuinfo of a Raspberry Pi 4 (4x Cortex-A72), as ONNX Runtime's cpuinfo library parses it.
const char* kPi4CpuInfo =
    "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\n"
    "CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n"
    "Hardware\t: BCM2835\nRevision\t: d03114\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n";
}  // namespace

class TestDeployCross : public QObject {
  Q_OBJECT
 private slots:
  void aarch64RunnerExecutesUnderQemu() {
    const fs::path dir = fs::path(EDGETUNE_BINARY_DIR) / "bin" / "aarch64";
    const fs::path runner = dir / "edgetune-runner";
    if (!fs::exists(runner) || !fs::exists(dir / "libonnxruntime.so.1"))
      QSKIP(
          "no aarch64 runner in bin/aarch64: build it with installer/build-runner-aarch64.sh "
          "<build>/bin/aarch64");
    if (test::runLocal("command -v qemu-aarch64 >/dev/null") != 0)
      QSKIP("qemu-aarch64 is not installed (Debian package qemu-user)");
    if (geteuid() != 0)
      QSKIP("emulating ONNX Runtime needs a private mount namespace (unshare -m), i.e. root");
    if (!fs::exists("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1"))
      QSKIP(
          "the arm64 C library is missing (Debian package libc6-arm64-cross, pulled in by "
          "g++-aarch64-linux-gnu)");
    QCOMPARE(elfArchitecture(runner), std::string("aarch64"));

    test::TempDir tmp;
    zoo::MlpOptions mlp;
    mlp.hidden_sizes = {16};
    zoo::buildMlp(mlp).save(tmp / "mlp.onnx");
    std::ofstream(tmp / "cpuinfo") << kPi4CpuInfo;
    const std::string emulate = "qemu-aarch64 -L /usr/aarch64-linux-gnu -E " +
                                shellQuote("LD_LIBRARY_PATH=" + dir.string()) + " " +
                                shellQuote(runner.string());
    const std::string inner = "mount --bind " + shellQuote((tmp / "cpuinfo").string()) +
                              " /proc/cpuinfo && mount -t tmpfs tmpfs /sys/devices/system/cpu && " + emulate +
                              " " + shellQuote((tmp / "mlp.onnx").string()) +
                              " --threads 1 --runs 3 --warmup 1";
    std::string out;
    const int status = test::runLocal(
        "unshare -m sh -c " + shellQuote(inner) + " 2>" + shellQuote((tmp / "stderr.txt").string()), &out);
    if (status != 0 && out.empty()) {
      std::string err;
      test::runLocal("cat " + shellQuote((tmp / "stderr.txt").string()), &err);
      if (err.find("unshare failed") != std::string::npos ||
          err.find("Operation not permitted") != std::string::npos)
        QSKIP(("this machine does not allow private mount namespaces: " + err).c_str());
      QFAIL(("the aarch64 runner did not start under qemu: " + err).c_str());
    }
    const DeviceBenchmark result = parseRunnerOutput(out);
    QCOMPARE(result.arch, std::string("aarch64"));
    QCOMPARE(result.latency.size(), size_t{1});
    QCOMPARE(result.latency[0].runs, 3);
    QVERIFY(result.latency[0].median_ms > 0);
  }
};

QTEST_GUILESS_MAIN(TestDeployCross)
#include "test_deploy_cross.moc"
