// CpuInfo: the CPU a report's numbers come from. Only the SIMD flags ONNX Runtime's MLAS kernels choose
// between are kept: a speed-up measured with VNNI or AMX says nothing about a CPU without them, so they go
// beside every figure, while the hundred other flags would hide them.
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/pipeline/report.h"

namespace edgetune::pipeline {
namespace {

// In the order they are printed: older and narrower first.
const std::vector<std::string>& relevantFlags() {
  static const std::vector<std::string> flags = {
      // x86-64
      "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
      "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16",
      // aarch64 ("Features")
      "asimd", "asimdhp", "asimddp", "i8mm", "bf16", "sve", "sve2"};
  return flags;
}

// "key\t: value" -> value, when the line's key is `key`.
bool fieldValue(const std::string& line, const std::string& key, std::string& value) {
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return false;
  std::string name = line.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
  if (name != key) return false;
  value = line.substr(colon + 1);
  const size_t first = value.find_first_not_of(" \t");
  value = first == std::string::npos ? std::string() : value.substr(first);
  return true;
}

}  // namespace

CpuInfo CpuInfo::ofThisMachine() {
  CpuInfo info;
  info.cores = static_cast<int>(std::thread::hardware_concurrency());
  std::ifstream in("/proc/cpuinfo");
  std::string line, value, flag_line;
  // The first processor's block is enough: the cores of the machines this runs on are all alike.
  while (std::getline(in, line)) {
    if (line.empty() && (!info.model_name.empty() || !flag_line.empty())) break;
    if (info.model_name.empty() &&
        (fieldValue(line, "model name", value) || fieldValue(line, "Model", value)))
      info.model_name = value;
    else if (flag_line.empty() && (fieldValue(line, "flags", value) || fieldValue(line, "Features", value)))
      flag_line = value;
  }
  std::set<std::string> present;
  std::istringstream words(flag_line);
  for (std::string word; words >> word;) present.insert(word);
  for (const auto& flag : relevantFlags())
    if (present.count(flag)) info.flags.push_back(flag);
  if (info.model_name.empty()) info.model_name = "unknown CPU";
  return info;
}

nlohmann::json CpuInfo::toJson() const {
  return {{"model_name", model_name}, {"flags", flags}, {"cores", cores}};
}

}  // namespace edgetune::pipeline
