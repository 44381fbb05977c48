#include "core/pipeline/measurement_explanation.h"

#include <cmath>
#include <cstdio>

namespace edgetune::pipeline {
namespace {

// Latency differences smaller than this share are noise in a few dozen timed runs.
constexpr double kLatencyNoise = 0.03;

std::string quantizeMode(const nlohmann::json& recipe) {
  for (const auto& pass : recipe.value("passes", nlohmann::json::array()))
    if (pass.value("pass", "") == "quantize")
      return pass.value("options", nlohmann::json::object()).value("mode", "");
  return "";
}

bool hasPass(const nlohmann::json& recipe, const std::string& name) {
  for (const auto& pass : recipe.value("passes", nlohmann::json::array()))
    if (pass.value("pass", "") == name) return true;
  return false;
}

std::string fixed(double value, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace

std::vector<std::string> explainMeasurement(const MeasurementToExplain& m) {
  std::vector<std::string> out;
  const bool structured = hasPass(m.recipe, "prune_channels");
  const bool unstructured = hasPass(m.recipe, "prune_magnitude");
  const std::string mode = quantizeMode(m.recipe);
  const bool int8 = mode == "static" || mode == "dynamic";

  // Accuracy: judged on its 95% interval, so an estimate from a handful of examples says nothing yet.
  if (m.measured.accuracy && m.measured.accuracy_high && m.reference.accuracy && m.classes >= 2) {
    const double chance = 1.0 / static_cast<double>(m.classes);
    const double drop_points = 100 * (*m.reference.accuracy - *m.measured.accuracy);
    const bool at_chance = *m.measured.accuracy_high<2 * chance&& * m.reference.accuracy> 3 * chance;
    if (at_chance && (structured || unstructured))
      out.push_back("Accuracy fell to chance (" + fixed(100 * *m.measured.accuracy, 1) + "% with " +
                    std::to_string(m.classes) +
                    " classes): the pruned model needs recovery training (Training dock, Distill from the "
                    "baseline) before it is worth measuring.");
    else if (at_chance && int8)
      out.push_back(
          "Accuracy fell to chance in INT8: the calibrated ranges do not fit this model. Try "
          "percentile calibration, or keep the layers Run > Diagnose quantization error names in "
          "float.");
    else if (drop_points > 5 && *m.measured.accuracy_high < *m.reference.accuracy &&
             (structured || unstructured))
      out.push_back("Accuracy fell " + fixed(drop_points, 1) +
                    " points: recovery training (Training dock) usually wins most of it back.");
  }

  // Latency against the starting model, timed the same way on this machine.
  if (m.measured.latency_ms && m.reference.latency_ms && *m.reference.latency_ms > 0) {
    const double ratio = *m.measured.latency_ms / *m.reference.latency_ms;
    const bool dot_product = m.cpu.avx512_vnni || m.cpu.avx_vnni || m.cpu.asimddp;
    if (int8 && ratio > 1 + kLatencyNoise)
      out.push_back(dot_product
                        ? "INT8 is slower here than float: the quantize and dequantize steps around the "
                          "integer layers cost more than they save; a larger model, or fewer layers "
                          "kept in float, changes that."
                        : "INT8 is slower here than float: this CPU has no integer dot-product "
                          "instructions (AVX-512 VNNI or AVX-VNNI), so ONNX Runtime's INT8 kernels "
                          "gain little over its float ones. A CPU with them, or an Arm board with "
                          "dot-product, runs the same file faster.");
    else if (int8 && ratio < 1 - kLatencyNoise)
      out.push_back("INT8 runs " + fixed(1 / ratio, 2) + "x faster than float" +
                    (dot_product ? std::string(": this CPU has integer dot-product instructions.")
                                 : std::string(", even without integer dot-product instructions.")));
    if (mode == "fp16" && ratio > 1 + kLatencyNoise)
      out.push_back(
          "FP16 halves the file but is slower on this CPU, which has no native half-precision "
          "arithmetic: ONNX Runtime converts to float around every layer.");
    if (unstructured && !structured && ratio > 1 - kLatencyNoise)
      out.push_back(
          "Unstructured pruning zeroes weights but keeps them: the file compresses better, the model "
          "is not faster. Structured channel pruning removes them.");
  }
  return out;
}

}  // namespace edgetune::pipeline
