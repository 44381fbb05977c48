#pragma once
// "Test connection": what a device is (OS, CPU model, cores, SIMD flags, RAM) and whether it can run models.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace edgetune::deploy {

class SshSession;

/// What a device told us about itself.
struct DeviceInfo {
  std::string os_name;  // PRETTY_NAME of /etc/os-release, else uname -s
  std::string kernel;   // uname -r
  std::string arch;     // uname -m: aarch64, x86_64, armv7l...
  std::string cpu_model;
  int cores = 0;
  std::vector<std::string> cpu_flags;  // /proc/cpuinfo "flags" (x86) or "Features" (ARM)
  bool neon = false;                   // asimd (aarch64) or neon (32-bit ARM)
  bool dot_product = false;            // asimddp: ARMv8.2 SDOT/UDOT (Cortex-A76, Raspberry Pi 5)
  bool avx2 = false;
  bool avx512_vnni = false;
  bool avx_vnni = false;
  int64_t ram_bytes = 0;
  int64_t ram_available_bytes = 0;
  std::string runner_version;  // `edgetune-runner --version` of the installed runner, or ""
  std::vector<std::string> onnxruntime_libraries;  // system-wide libonnxruntime.so* found on the device
  std::string python_onnxruntime_version;          // `import onnxruntime` version, or ""

  /// True when an EdgeTune runner is installed and answers.
  bool hasRunner() const { return !runner_version.empty(); }
  nlohmann::json toJson() const;
  std::string toText() const;
};

/// The fixed shell script probeDevice runs (no user text except the quoted runner folder).
std::string deviceProbeScript(const std::string& remote_root);
/// Parses the probe script's output (exposed for tests).
DeviceInfo parseDeviceProbe(const std::string& output);
/// Runs the probe on the device; `remote_root` is where EdgeTune keeps its files there ("edgetune" =
/// ~/edgetune).
DeviceInfo probeDevice(SshSession& session, const std::string& remote_root = "edgetune");

}  // namespace edgetune::deploy
