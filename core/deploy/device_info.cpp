// Device probe: one fixed shell script, its sections parsed here.
#include "core/deploy/device_info.h"

#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "core/deploy/shell.h"
#include "core/deploy/ssh_session.h"

namespace edgetune::deploy {

namespace {

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::string unquote(std::string s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  return s;
}

// ARM cores name themselves by implementer/part numbers; these are the ones on Raspberry Pi and similar
// boards.
std::string armPartName(const std::string& implementer, const std::string& part) {
  static const std::map<std::string, std::string> arm{
      {"0xd03", "Cortex-A53"},  {"0xd04", "Cortex-A35"},  {"0xd05", "Cortex-A55"}, {"0xd07", "Cortex-A57"},
      {"0xd08", "Cortex-A72"},  {"0xd09", "Cortex-A73"},  {"0xd0a", "Cortex-A75"}, {"0xd0b", "Cortex-A76"},
      {"0xd0c", "Neoverse-N1"}, {"0xd0d", "Cortex-A77"},  {"0xd41", "Cortex-A78"}, {"0xd46", "Cortex-A510"},
      {"0xd47", "Cortex-A710"}, {"0xd4f", "Neoverse-V2"}, {"0xd40", "Neoverse-V1"}};
  if (implementer == "0x41") {
    auto it = arm.find(part);
    if (it != arm.end()) return it->second;
  }
  return part.empty() ? "" : "ARM part " + part;
}

}  // namespace

std::string deviceProbeScript(const std::string& remote_root) {
  validateRemotePath(remote_root, "remote folder");
  const std::string dir = shellQuote(remoteJoin(remote_root, "runner"));
  const std::string runner = shellQuote(remoteJoin(remote_root, "runner/edgetune-runner"));
  return "echo @@uname; uname -s; uname -r; uname -m; "
         "echo @@os; cat /etc/os-release 2>/dev/null; "
         "echo @@cpuinfo; cat /proc/cpuinfo 2>/dev/null; "
         "echo @@nproc; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN; "
         "echo @@meminfo; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo 2>/dev/null; "
         "echo @@runner; if [ -x " +
         runner + " ]; then LD_LIBRARY_PATH=" + dir + " " + runner +
         " --version 2>/dev/null; fi; "
         "echo @@ortlib; ls /usr/lib/libonnxruntime.so* /usr/local/lib/libonnxruntime.so* "
         "/usr/lib/*/libonnxruntime.so* 2>/dev/null; "
         "echo @@python; python3 -c 'import onnxruntime; print(onnxruntime.__version__)' 2>/dev/null; "
         "echo @@end";
}

DeviceInfo parseDeviceProbe(const std::string& output) {
  std::map<std::string, std::vector<std::string>> sections;
  std::string current;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("@@", 0) == 0) {
      current = line.substr(2);
      sections[current];
      continue;
    }
    if (!current.empty()) sections[current].push_back(line);
  }
  DeviceInfo info;
  const auto& uname = sections["uname"];
  if (uname.size() >= 3) {
    info.os_name = trim(uname[0]);
    info.kernel = trim(uname[1]);
    info.arch = trim(uname[2]);
  }
  for (const auto& line : sections["os"])
    if (line.rfind("PRETTY_NAME=", 0) == 0) info.os_name = unquote(line.substr(12));

  std::string implementer, part, hardware_model, model_name;
  int processors = 0;
  std::set<std::string> flags;
  for (const auto& line : sections["cpuinfo"]) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon));
    const std::string value = trim(line.substr(colon + 1));
    if (key == "processor")
      ++processors;
    else if (key == "model name" && model_name.empty())
      model_name = value;
    else if (key == "Model" && hardware_model.empty())
      hardware_model = value;  // Raspberry Pi boards
    else if (key == "CPU implementer" && implementer.empty())
      implementer = value;
    else if (key == "CPU part" && part.empty())
      part = value;
    else if ((key == "flags" || key == "Features") && flags.empty()) {
      std::istringstream words(value);
      for (std::string w; words >> w;) flags.insert(w);
    }
  }
  const std::string arm = armPartName(implementer, part);
  if (!model_name.empty() && model_name.find("ARMv") == std::string::npos)
    info.cpu_model = model_name;
  else if (!arm.empty())
    info.cpu_model = hardware_model.empty() ? arm : arm + " (" + hardware_model + ")";
  else
    info.cpu_model = !hardware_model.empty() ? hardware_model : model_name;
  info.cpu_flags.assign(flags.begin(), flags.end());
  info.neon = flags.count("asimd") || flags.count("neon");
  info.dot_product = flags.count("asimddp") > 0;
  info.avx2 = flags.count("avx2") > 0;
  info.avx512_vnni = flags.count("avx512_vnni") > 0;
  info.avx_vnni = flags.count("avx_vnni") > 0;

  for (const auto& line : sections["nproc"]) {
    try {
      info.cores = std::stoi(trim(line));
      break;
    } catch (const std::exception&) {
    }
  }
  if (info.cores == 0) info.cores = processors;
  for (const auto& line : sections["meminfo"]) {
    std::istringstream words(line);
    std::string key;
    int64_t kb = 0;
    words >> key >> kb;
    // A size no machine has (negative, or past 2^63 bytes) is left unknown rather than wrapped.
    if (kb < 0 || kb > std::numeric_limits<int64_t>::max() / 1024) continue;
    if (key == "MemTotal:") info.ram_bytes = kb * 1024;
    if (key == "MemAvailable:") info.ram_available_bytes = kb * 1024;
  }
  for (const auto& line : sections["runner"])
    if (line.rfind("edgetune-runner ", 0) == 0) info.runner_version = trim(line.substr(16));
  for (const auto& line : sections["ortlib"])
    if (!trim(line).empty()) info.onnxruntime_libraries.push_back(trim(line));
  for (const auto& line : sections["python"])
    if (!trim(line).empty()) info.python_onnxruntime_version = trim(line);
  return info;
}

DeviceInfo probeDevice(SshSession& session, const std::string& remote_root) {
  const std::string out = session.execChecked(deviceProbeScript(remote_root), "the device probe");
  if (out.find("@@end") == std::string::npos)
    throw Error("device " + session.device().describe() + ": the device probe printed an incomplete answer");
  return parseDeviceProbe(out);
}

nlohmann::json DeviceInfo::toJson() const {
  return {{"os", os_name},
          {"kernel", kernel},
          {"arch", arch},
          {"cpu_model", cpu_model},
          {"cores", cores},
          {"neon", neon},
          {"dot_product", dot_product},
          {"avx2", avx2},
          {"avx512_vnni", avx512_vnni},
          {"avx_vnni", avx_vnni},
          {"ram_bytes", ram_bytes},
          {"ram_available_bytes", ram_available_bytes},
          {"runner_version", runner_version},
          {"onnxruntime_libraries", onnxruntime_libraries},
          {"python_onnxruntime_version", python_onnxruntime_version}};
}

std::string DeviceInfo::toText() const {
  std::ostringstream out;
  auto yes = [](bool b) { return b ? "yes" : "no"; };
  out << "OS:        " << os_name << " (kernel " << kernel << ", " << arch << ")\n"
      << "CPU:       " << cpu_model << ", " << cores << " cores\n"
      << "SIMD:      NEON " << yes(neon) << ", dot-product " << yes(dot_product) << ", AVX2 " << yes(avx2)
      << ", AVX-512 VNNI " << yes(avx512_vnni) << ", AVX-VNNI " << yes(avx_vnni) << "\n"
      << "RAM:       " << ram_bytes / (1024 * 1024) << " MiB (" << ram_available_bytes / (1024 * 1024)
      << " MiB available)\n"
      << "Runner:    "
      << (hasRunner() ? "edgetune-runner " + runner_version : "not installed (uploaded on deploy)") << "\n";
  if (!onnxruntime_libraries.empty()) out << "ORT libs:  " << onnxruntime_libraries.front() << "\n";
  if (!python_onnxruntime_version.empty()) out << "Python ORT: " << python_onnxruntime_version << "\n";
  return out.str();
}

}  // namespace edgetune::deploy
