// edgetune-runner: the small program a device runs to benchmark an ONNX model with ONNX Runtime and report
// JSON. Depends on ONNX Runtime (and the header-only JSON library) only, so it stays small and
// cross-compiles.
//
//   edgetune-runner MODEL [--threads 1,2,4] [--runs N] [--warmup N] [--dynamic-dim N] [--profile] [--eval
//   FILE] [--baseline FILE]
//   edgetune-runner --version
// With --baseline, each run of MODEL alternates with a run of the baseline model in the same process, and
// each result holds the baseline's latency and the speed-up: both models see the same device state (clock,
// heat, other load), which separate runs cannot promise. Prints one JSON object on stdout; on failure prints
// {"error": "..."} and exits with 1 (2 for bad arguments).
#include <onnxruntime_cxx_api.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/deploy/eval_format.h"
#include "core/util/thread_list.h"

namespace {

constexpr int kProtocolVersion = edgetune::evalfile::kRunnerProtocolVersion;

struct Args {
  std::string model;
  std::vector<int> threads{1};
  int runs = 50;
  int warmup = 5;
  int64_t dynamic_dim = 1;
  std::map<std::string, std::vector<int64_t>> shapes;  // --shape NAME=DIMS: exact sizes of these inputs
  bool profile = false;
  std::string eval_path;
  std::string baseline;  // --baseline FILE: timed interleaved with MODEL
};

[[noreturn]] void fail(const std::string& message, int code = 1) {
  std::cout << nlohmann::json{{"error", message}}.dump() << "\n";
  std::exit(code);
}

int parsePositive(const std::string& flag, const std::string& text, int minimum) {
  try {
    size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used != text.size() || value < minimum) throw std::invalid_argument("range");
    return value;
  } catch (const std::exception&) {
    fail(flag + ": expected an integer >= " + std::to_string(minimum) + ", got '" + text + "'", 2);
  }
}

Args parseArgs(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail(a + " needs a value", 2);
      return argv[++i];
    };
    if (a == "--threads") {
      try {
        args.threads = edgetune::parseThreadList(value());
      } catch (const std::invalid_argument& e) {
        fail("--threads: " + std::string(e.what()), 2);
      }
    } else if (a == "--runs") {
      args.runs = parsePositive(a, value(), 1);
    } else if (a == "--warmup") {
      args.warmup = parsePositive(a, value(), 0);
    } else if (a == "--dynamic-dim") {
      args.dynamic_dim = parsePositive(a, value(), 1);
    } else if (a == "--shape") {
      const std::string spec = value();
      const auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0) fail("--shape: expected NAME=DIMS, got '" + spec + "'", 2);
      std::vector<int64_t> dims;
      std::stringstream list(spec.substr(eq + 1));
      for (std::string item; std::getline(list, item, 'x');) dims.push_back(parsePositive(a, item, 1));
      if (dims.empty()) fail("--shape: no dimensions in '" + spec + "'", 2);
      args.shapes[spec.substr(0, eq)] = dims;
    } else if (a == "--profile") {
      args.profile = true;
    } else if (a == "--eval") {
      args.eval_path = value();
    } else if (a == "--baseline") {
      args.baseline = value();
    } else if (!a.empty() && a[0] == '-') {
      fail("unknown option " + a, 2);
    } else if (args.model.empty()) {
      args.model = a;
    } else {
      fail("unexpected argument " + a, 2);
    }
  }
  if (args.model.empty())
    fail(
        "usage: edgetune-runner MODEL [--threads 1,2] [--runs N] [--warmup N] "
        "[--dynamic-dim N] [--shape NAME=DIMS]... [--profile] [--eval FILE] [--baseline FILE]",
        2);
  return args;
}

int64_t statusBytes(const char* field) {
  std::ifstream status("/proc/self/status");
  const std::string key = std::string(field) + ":";
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size())) * 1024;  // reported in kB
  }
  return 0;
}

// Writing "5" to clear_refs resets VmHWM, so each thread count gets its own peak (no-op where unsupported).
void resetPeak() {
  std::ofstream clear("/proc/self/clear_refs");
  if (clear) clear << "5";
}

double nearestRank(std::vector<double> sorted, double q) {
  if (sorted.empty()) return 0.0;
  std::sort(sorted.begin(), sorted.end());
  const auto rank = static_cast<size_t>(std::ceil(q / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

struct InputSpec {
  std::string name;
  ONNXTensorElementDataType type;
  std::vector<int64_t> shape;
};

std::vector<InputSpec> inputSpecs(Ort::Session& session) {
  Ort::AllocatorWithDefaultOptions allocator;
  std::vector<InputSpec> specs;
  for (size_t i = 0; i < session.GetInputCount(); ++i) {
    const Ort::TypeInfo type_info = session.GetInputTypeInfo(i);  // the shape view below points into it
    auto info = type_info.GetTensorTypeAndShapeInfo();
    specs.push_back(
        {session.GetInputNameAllocated(i, allocator).get(), info.GetElementType(), info.GetShape()});
  }
  return specs;
}

std::vector<std::string> outputNames(Ort::Session& session) {
  Ort::AllocatorWithDefaultOptions allocator;
  std::vector<std::string> names;
  for (size_t i = 0; i < session.GetOutputCount(); ++i)
    names.push_back(session.GetOutputNameAllocated(i, allocator).get());
  return names;
}

// Owns the buffers behind a set of input tensors.
struct Feed {
  std::vector<std::vector<char>> buffers;
  std::vector<Ort::Value> values;
  std::vector<std::string> names;
  std::vector<const char*> namePtrs() const {
    std::vector<const char*> p;
    for (const auto& n : names) p.push_back(n.c_str());
    return p;
  }
};

size_t elementSize(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
      return 4;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
      return 8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
      return 1;
    default:
      fail("model input has an element type the runner does not feed (ONNX type " +
           std::to_string(static_cast<int>(type)) + ")");
  }
}

void addTensor(Feed& feed, const std::string& name, ONNXTensorElementDataType type,
               std::vector<int64_t> shape, std::vector<char> bytes) {
  static const Ort::MemoryInfo memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  feed.buffers.push_back(std::move(bytes));
  auto& buffer = feed.buffers.back();
  feed.values.push_back(
      Ort::Value::CreateTensor(memory, buffer.data(), buffer.size(), shape.data(), shape.size(), type));
  feed.names.push_back(name);
}

// Random inputs: floats N(0,1), integers in [0, 2) (valid token ids and masks for any text model).
Feed randomFeed(const std::vector<InputSpec>& specs, int64_t dynamic_dim,
                const std::map<std::string, std::vector<int64_t>>& shapes) {
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal;
  Feed feed;
  feed.buffers.reserve(specs.size());
  for (const auto& spec : specs) {
    auto given = shapes.find(spec.name);
    std::vector<int64_t> shape = given != shapes.end() ? given->second : spec.shape;
    size_t count = 1;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] < 0) shape[d] = d == 0 ? 1 : dynamic_dim;  // batch 1; other dynamic axes (tokens) as asked
      count *= static_cast<size_t>(shape[d]);
    }
    std::vector<char> bytes(count * elementSize(spec.type));
    for (size_t i = 0; i < count; ++i) {
      switch (spec.type) {
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
          reinterpret_cast<float*>(bytes.data())[i] = normal(rng);
          break;
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
          reinterpret_cast<int64_t*>(bytes.data())[i] = rng() % 2;
          break;
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
          reinterpret_cast<int32_t*>(bytes.data())[i] = rng() % 2;
          break;
        default:
          bytes[i] = static_cast<char>(rng() % 2);
          break;
      }
    }
    addTensor(feed, spec.name, spec.type, shape, std::move(bytes));
  }
  return feed;
}

Ort::SessionOptions sessionOptions(int threads) {
  Ort::SessionOptions options;
  options.SetIntraOpNumThreads(threads);
  options.SetInterOpNumThreads(1);
  options.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  return options;
}

// A model loaded for timing: its session and a fixed random feed.
class TimedModel {
 public:
  TimedModel(Ort::Env& env, const std::string& path, int threads, const Args& args)
      : session_(env, path.c_str(), sessionOptions(threads)),
        outputs_(outputNames(session_)),
        feed_(randomFeed(inputSpecs(session_), args.dynamic_dim, args.shapes)),
        input_names_(feed_.namePtrs()) {
    for (const auto& n : outputs_) output_names_.push_back(n.c_str());
  }
  void runOnce() {
    session_.Run(Ort::RunOptions{nullptr}, input_names_.data(), feed_.values.data(), feed_.values.size(),
                 output_names_.data(), output_names_.size());
  }
  double timedRunMs() {
    const auto start = std::chrono::steady_clock::now();
    runOnce();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }

 private:
  Ort::Session session_;
  std::vector<std::string> outputs_;
  Feed feed_;
  std::vector<const char*> input_names_, output_names_;
};

nlohmann::json latencyAt(Ort::Env& env, const Args& args, int threads) {
  resetPeak();
  TimedModel model(env, args.model, threads, args);
  for (int i = 0; i < args.warmup; ++i) model.runOnce();
  // The peak is the model's own: taken before a baseline session shares the process.
  int64_t peak_rss_bytes = statusBytes("VmHWM");
  std::vector<double> samples_ms, baseline_ms;
  if (args.baseline.empty()) {
    for (int i = 0; i < args.runs; ++i) samples_ms.push_back(model.timedRunMs());
    peak_rss_bytes = statusBytes("VmHWM");
  } else {
    TimedModel baseline(env, args.baseline, threads, args);
    for (int i = 0; i < args.warmup; ++i) baseline.runOnce();
    // Alternating which goes first keeps either from always running on the other's warm caches.
    for (int i = 0; i < args.runs; ++i) {
      if (i % 2 == 0) {
        samples_ms.push_back(model.timedRunMs());
        baseline_ms.push_back(baseline.timedRunMs());
      } else {
        baseline_ms.push_back(baseline.timedRunMs());
        samples_ms.push_back(model.timedRunMs());
      }
    }
  }
  double mean = 0;
  for (double s : samples_ms) mean += s;
  mean /= static_cast<double>(samples_ms.size());
  double var = 0;
  for (double s : samples_ms) var += (s - mean) * (s - mean);
  const double stdev =
      samples_ms.size() > 1 ? std::sqrt(var / static_cast<double>(samples_ms.size() - 1)) : 0.0;
  nlohmann::json result{{"threads", threads},
                        {"runs", args.runs},
                        {"warmup", args.warmup},
                        {"min_ms", *std::min_element(samples_ms.begin(), samples_ms.end())},
                        {"median_ms", nearestRank(samples_ms, 50)},
                        {"mean_ms", mean},
                        {"p90_ms", nearestRank(samples_ms, 90)},
                        {"p99_ms", nearestRank(samples_ms, 99)},
                        {"max_ms", *std::max_element(samples_ms.begin(), samples_ms.end())},
                        {"stdev_ms", stdev},
                        {"peak_rss_bytes", peak_rss_bytes}};
  if (!baseline_ms.empty()) {
    const double median_ms = nearestRank(samples_ms, 50);
    result["baseline"] = {{"model", args.baseline},
                          {"median_ms", nearestRank(baseline_ms, 50)},
                          {"p90_ms", nearestRank(baseline_ms, 90)}};
    result["speedup"] = median_ms > 0 ? nearestRank(baseline_ms, 50) / median_ms : 0.0;
  }
  return result;
}

// ORT's profile is a JSON array of trace events; node kernels are cat "Node", name "<node>_kernel_time".
nlohmann::json profileSummary(Ort::Env& env, const Args& args) {
  const int threads = args.threads.front();
  Ort::SessionOptions options = sessionOptions(threads);
  const std::string prefix = "/tmp/edgetune-runner-profile-" + std::to_string(getpid());
  options.EnableProfiling(prefix.c_str());
  Ort::Session session(env, args.model.c_str(), options);
  const auto specs = inputSpecs(session);
  const auto outputs = outputNames(session);
  std::vector<const char*> outPtrs;
  for (const auto& n : outputs) outPtrs.push_back(n.c_str());
  Feed feed = randomFeed(specs, args.dynamic_dim, args.shapes);
  const auto inPtrs = feed.namePtrs();
  for (int i = 0; i < args.runs; ++i)
    session.Run(Ort::RunOptions{nullptr}, inPtrs.data(), feed.values.data(), feed.values.size(),
                outPtrs.data(), outPtrs.size());
  Ort::AllocatorWithDefaultOptions allocator;
  const std::string file = session.EndProfilingAllocated(allocator).get();
  std::ifstream in(file);
  nlohmann::json events = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  std::remove(file.c_str());
  if (!events.is_array()) fail("could not parse ONNX Runtime's profile " + file);

  struct NodeTotal {
    std::string op;
    int64_t total_us = 0;
    int64_t calls = 0;
  };
  std::map<std::string, NodeTotal> totals;
  const std::string suffix = "_kernel_time";
  for (const auto& e : events) {
    if (e.value("cat", "") != "Node") continue;
    std::string name = e.value("name", "");
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    name.resize(name.size() - suffix.size());
    auto& t = totals[name];
    if (e.contains("args")) t.op = e["args"].value("op_name", t.op);
    t.total_us += e.value("dur", int64_t{0});
    t.calls += 1;
  }
  std::vector<std::pair<std::string, NodeTotal>> sorted(totals.begin(), totals.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second.total_us > b.second.total_us; });
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& [name, t] : sorted) {
    nodes.push_back(
        {{"name", name},
         {"op", t.op},
         {"total_us", t.total_us},
         {"calls", t.calls},
         {"mean_us", t.calls ? static_cast<double>(t.total_us) / static_cast<double>(t.calls) : 0.0}});
  }
  return {{"threads", threads}, {"runs", args.runs}, {"nodes", nodes}};
}

ONNXTensorElementDataType ortType(int32_t onnx_type) {
  return static_cast<ONNXTensorElementDataType>(onnx_type);  // ORT's enum uses ONNX's numbering
}

nlohmann::json evaluate(Ort::Env& env, const Args& args) {
  std::ifstream in(args.eval_path, std::ios::binary);
  if (!in) fail(args.eval_path + ": cannot open the evaluation file");
  uint64_t examples = 0;
  std::vector<edgetune::evalfile::Feature> features;
  try {
    features = edgetune::evalfile::readHeader(in, examples);
  } catch (const std::exception& e) {
    fail(args.eval_path + ": " + e.what());
  }
  Ort::Session session(env, args.model.c_str(), sessionOptions(args.threads.front()));
  const auto specs = inputSpecs(session);
  const auto outputs = outputNames(session);
  // Bind features to inputs by name, or a single feature to a single input.
  std::vector<std::string> bound;
  for (const auto& f : features) {
    bool named = false;
    for (const auto& s : specs) named = named || s.name == f.name;
    if (named)
      bound.push_back(f.name);
    else if (features.size() == 1 && specs.size() == 1)
      bound.push_back(specs[0].name);
    else
      fail("evaluation feature '" + f.name + "' matches no model input");
  }
  if (bound.size() != specs.size())
    fail("the evaluation file has " + std::to_string(features.size()) + " features but the model has " +
         std::to_string(specs.size()) + " inputs");
  const char* outName = outputs.front().c_str();
  int64_t correct = 0;
  double total_ms = 0;
  for (uint64_t e = 0; e < examples; ++e) {
    Feed feed;
    feed.buffers.reserve(features.size());
    for (size_t f = 0; f < features.size(); ++f) {
      std::vector<char> bytes(features[f].byteSize());
      if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
        fail(args.eval_path + ": truncated at example " + std::to_string(e));
      std::vector<int64_t> shape{1};
      shape.insert(shape.end(), features[f].shape.begin(), features[f].shape.end());
      addTensor(feed, bound[f], ortType(features[f].onnx_type), shape, std::move(bytes));
    }
    int64_t label = 0;
    if (!in.read(reinterpret_cast<char*>(&label), sizeof(label)))
      fail(args.eval_path + ": truncated at example " + std::to_string(e));
    const auto inPtrs = feed.namePtrs();
    const auto start = std::chrono::steady_clock::now();
    auto out = session.Run(Ort::RunOptions{nullptr}, inPtrs.data(), feed.values.data(), feed.values.size(),
                           &outName, 1);
    total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const auto info = out[0].GetTensorTypeAndShapeInfo();
    if (info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
      fail("the model's first output is not float");
    const float* scores = out[0].GetTensorData<float>();
    const size_t n = info.GetElementCount();
    const size_t best = static_cast<size_t>(std::max_element(scores, scores + n) - scores);
    correct += static_cast<int64_t>(best) == label ? 1 : 0;
  }
  return {{"examples", examples},
          {"correct", correct},
          {"top1", examples ? static_cast<double>(correct) / static_cast<double>(examples) : 0.0},
          {"mean_latency_ms", examples ? total_ms / static_cast<double>(examples) : 0.0}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--version") {
    std::cout << "edgetune-runner " << kProtocolVersion << " onnxruntime " << Ort::GetVersionString() << "\n";
    return 0;
  }
  const Args args = parseArgs(argc, argv);
  try {
    Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "edgetune-runner");
    utsname host{};
    uname(&host);
    nlohmann::json report{{"runner_version", kProtocolVersion},
                          {"onnxruntime_version", Ort::GetVersionString()},
                          {"model", args.model},
                          {"arch", host.machine},
                          {"cpu_cores", sysconf(_SC_NPROCESSORS_ONLN)}};
    nlohmann::json results = nlohmann::json::array();
    for (int threads : args.threads) results.push_back(latencyAt(env, args, threads));
    report["results"] = results;
    if (!args.baseline.empty()) resetPeak();  // the baseline's session must not count as the model's memory
    if (args.profile) report["profile"] = profileSummary(env, args);
    if (!args.eval_path.empty()) report["accuracy"] = evaluate(env, args);
    // Peaks were reset per thread count, so the whole run's peak is the largest of them.
    int64_t peak = statusBytes("VmHWM");
    for (const auto& r : results) peak = std::max(peak, r["peak_rss_bytes"].get<int64_t>());
    report["peak_rss_bytes"] = peak;
    std::cout << report.dump() << "\n";
    return 0;
  } catch (const Ort::Exception& e) {
    fail(std::string("ONNX Runtime: ") + e.what());
  } catch (const std::exception& e) {
    fail(e.what());
  }
}
