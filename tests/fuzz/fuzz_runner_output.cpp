// What a device sends back, parsed on the host: the edgetune-runner's JSON report (parseRunnerOutput, with
// DeviceBenchmark's toJson/fromJson round trip and its table) and the device probe's sectioned output
// (parseDeviceProbe). A device is not trusted: a compromised or broken one may print anything.
// The input is the program's stdout.
#include <string>

#include "core/deploy/device_benchmark.h"
#include "core/deploy/device_info.h"
#include "fuzz_common.h"

using namespace edgetune;
using namespace edgetune::deploy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string output(fuzz::bytesOf(data, size));
  fuzz::accepted([&] {
    const DeviceBenchmark benchmark = parseRunnerOutput(output);
    (void)benchmark.toTable();
    const nlohmann::json stored = benchmark.toJson();
    DeviceBenchmark reread;
    fuzz::require(fuzz::accepted([&] { reread = DeviceBenchmark::fromJson(stored); }),
                  "a stored benchmark reads back");
    fuzz::require(reread.toJson().dump() == stored.dump(), "toJson() and fromJson() round-trip");
  });
  fuzz::accepted([&] {
    const DeviceInfo info = parseDeviceProbe(output);
    (void)info.toText();
  });
  return 0;
}
