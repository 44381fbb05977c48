// RunReport::toMarkdown: the paper's table, one row per model (the final one in bold), then one line saying
// on what and how it was measured, since a speed-up is only evidence for CPUs like the one it was measured
// on.
#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>

#include "core/pipeline/report.h"

namespace edgetune::pipeline {
namespace {

std::string format(const char* pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), pattern, value);
  return buffer;
}

// 1234567 -> "1.23 M": parameter and MAC counts span K to G.
std::string count(int64_t value) {
  const double v = static_cast<double>(value);
  if (v >= 1e9) return format("%.2f G", v / 1e9);
  if (v >= 1e6) return format("%.2f M", v / 1e6);
  if (v >= 1e3) return format("%.1f K", v / 1e3);
  return std::to_string(value);
}

// Latencies from tens of microseconds (a tiny MLP) to seconds: about three significant digits.
std::string milliseconds(double ms) {
  return format(ms >= 100 ? "%.1f" : ms >= 1 ? "%.2f" : ms >= 0.1 ? "%.3f" : "%.4f", ms);
}

std::string ratio(double value) {
  return value > 0 ? format("%.2fx", value) : "-";
}

std::string threadsText(int threads) {
  return std::to_string(threads) + (threads == 1 ? " thread" : " threads");
}

// Thread counts over all rows, in the order they were first measured.
std::vector<int> threadColumns(const std::vector<ModelMeasurement>& models) {
  std::vector<int> columns;
  for (const auto& m : models)
    for (const auto& l : m.latency)
      if (std::find(columns.begin(), columns.end(), l.threads) == columns.end()) columns.push_back(l.threads);
  return columns;
}

// Markdown table cells must not contain a bare '|'.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

// The same from the device: one row per measurement and thread count.
std::string deviceSection(const std::vector<DeviceMeasurement>& device) {
  std::ostringstream out;
  out << "## On the device\n\n";
  out << "| step | model | device | threads | ms (median / p90) | x faster than the base there | peak memory "
         "(MB) "
         "| accuracy % on the device |\n";
  out << "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
  bool any_separate = false, any_interleaved = false;
  for (const auto& d : device) {
    const deploy::DeviceBenchmark& b = d.bench;
    const std::string where = cell(b.device) + " (" + cell(b.arch) + ", " + std::to_string(b.cpu_cores) +
                              " cores, ONNX Runtime " + cell(b.onnxruntime_version) + ")";
    const std::string accuracy =
        b.accuracy ? format("%.2f", 100 * b.accuracy->top1) + " of " + std::to_string(b.accuracy->examples)
                   : "-";
    for (size_t i = 0; i < b.latency.size(); ++i) {
      const deploy::DeviceLatency& l = b.latency[i];
      const double speedup = i < d.speedups.size() ? d.speedups[i] : 0;
      const bool interleaved = speedup > 0 && l.speedup > 0;
      any_interleaved = any_interleaved || interleaved;
      any_separate = any_separate || (speedup > 0 && !interleaved);
      out << "| " << cell(d.step_id) << " | " << cell(d.model_id) << " | " << where << " | " << l.threads
          << " | " << milliseconds(l.median_ms) << " / " << milliseconds(l.p90_ms) << " | " << ratio(speedup)
          << (interleaved ? " (interleaved)" : "") << " | "
          << format("%.1f", static_cast<double>(l.peak_rss_bytes) / 1e6) << " | " << (i == 0 ? accuracy : "")
          << " |\n";
    }
  }
  out << "\nMeasured on the device by edgetune-runner (ONNX Runtime, batch 1); accuracy on the evaluation "
         "subset "
         "the step uploaded.";
  if (any_interleaved)
    out << " A speed-up marked (interleaved) is the base's median over the step's from runs alternating with "
           "the base's in one process on the device (the step's `compare_base: true`).";
  if (any_separate)
    out << " Other speed-ups are the base's median over the step's from separate runs on the same device "
           "(one "
           "model at a time, not interleaved).";
  if (!any_interleaved && !any_separate)
    out << " No speed-up: the recipe did not measure the base on the device (`compare_base: true` on the "
           "step times it interleaved with the step's model; a benchmark step with `input: base` and the "
           "same "
           "device measures it separately).";
  out << "\n";
  return out.str();
}

}  // namespace

std::string RunReport::toMarkdown() const {
  std::ostringstream out;
  out << "# Run report" << (recipe_name.empty() ? "" : ": " + recipe_name) << "\n\n";
  const bool accuracy_column =
      std::any_of(models.begin(), models.end(), [](const ModelMeasurement& m) { return m.has_accuracy; });
  const std::vector<int> threads = threadColumns(models);

  std::vector<std::string> header = {"step", "kind", "size (MB)", "x smaller", "params", "MACs"};
  if (accuracy_column) {
    header.push_back("accuracy % (95% CI)");
    header.push_back("drop (points)");  // > 0 = less accurate than the base
  }
  for (int t : threads) {
    header.push_back(threadsText(t) + " ms (median / p90)");
    header.push_back("x faster (" + threadsText(t) + ")");
  }
  header.push_back("session memory (MB)");

  auto row = [&out](const std::vector<std::string>& cells, bool bold) {
    out << "|";
    for (const auto& c : cells) out << " " << (bold && !c.empty() ? "**" + c + "**" : c) << " |";
    out << "\n";
  };
  row(header, false);
  out << "|";
  for (size_t i = 0; i < header.size(); ++i) out << (i < 2 ? " --- |" : " ---: |");
  out << "\n";

  for (size_t i = 0; i < models.size(); ++i) {
    const ModelMeasurement& m = models[i];
    std::vector<std::string> cells = {
        cell(m.step_id),     cell(m.kind),    format("%.2f", static_cast<double>(m.file_bytes) / 1e6),
        ratio(m.size_ratio), count(m.params), count(m.macs)};
    if (accuracy_column) {
      if (m.has_accuracy) {
        cells.push_back(format("%.2f", 100 * m.accuracy) + " (" + format("%.2f", 100 * m.accuracy_low) + "-" +
                        format("%.2f", 100 * m.accuracy_high) + ")");
        cells.push_back(i == 0 ? "-" : format("%.2f", m.accuracy_drop_points));
      } else {
        cells.push_back("-");
        cells.push_back("-");
      }
    }
    for (int t : threads) {
      auto it = std::find_if(m.latency.begin(), m.latency.end(),
                             [t](const ModelMeasurement::Latency& l) { return l.threads == t; });
      if (it == m.latency.end()) {
        cells.push_back("-");
        cells.push_back("-");
      } else {
        cells.push_back(milliseconds(it->median_ms) + " / " + milliseconds(it->p90_ms));
        cells.push_back(ratio(it->speedup));
      }
    }
    cells.push_back(format("%.1f", static_cast<double>(m.session_peak_rss_bytes) / 1e6));
    row(cells, i + 1 == models.size() && models.size() > 1);
  }

  out << "\n";
  std::string flags;
  for (const auto& f : cpu.flags) flags += (flags.empty() ? "" : " ") + f;
  out << "CPU: " << cpu.model_name << ", " << cpu.cores << (cpu.cores == 1 ? " core" : " cores")
      << ", flags: " << (flags.empty() ? "none of the SIMD ones ONNX Runtime uses" : flags) << ". ";
  out << "Measured with ONNX Runtime"
      << (input_shapes.empty() ? std::string(" at the model's declared sizes") : " at " + input_shapes);
  if (!threads.empty())
    out << "; latency: median / p90 of " << latency_runs << " interleaved runs with the base after "
        << warmup_runs
        << " warm-up runs, the speed-up is the base's median over the step's from the same rounds";
  if (accuracy_column) {
    size_t examples = 0;
    for (const auto& m : models) examples = std::max(examples, m.test_examples);
    out << "; accuracy: top-1 on " << examples << " test examples"
        << (test_dataset.empty() ? std::string() : " of " + test_dataset)
        << ", with the Wilson 95% interval, the drop in points from the base";
  }
  out << "; session memory: resident memory added by creating the session and running it once.\n";
  if (!device.empty()) out << "\n" << deviceSection(device);
  return out.str();
}

}  // namespace edgetune::pipeline
