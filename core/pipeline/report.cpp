// The run report's measurements (measureModels) and its JSON form. The table's speed-ups come from pairs: the
// base and one variant timed in interleaved rounds in one process, so each ratio sees one machine state even
// on a shared, busy machine; the absolute milliseconds of different rows are from different runs.
#include <malloc.h>

#include <algorithm>
#include <map>
#include <memory>
#include <system_error>

#include "core/analysis/evaluate.h"
#include "core/ir/stats.h"
#include "core/pipeline/report.h"
#include "core/runtime/benchmark.h"
#include "core/util/error.h"

namespace edgetune::pipeline {
namespace {

// One entry, loaded and sized before anything is timed, so a bad file or shape fails at once.
struct Prepared {
  const ReportEntry* entry = nullptr;
  InputShapes shapes;
  ModelMeasurement measurement;
};

Prepared prepare(const ReportEntry& entry, const Dataset* test, const ReportOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(entry.path, ec))
    throw Error(entry.path.string() + ": model file of step '" + entry.step_id + "' not found");
  Prepared p;
  p.entry = &entry;
  const Model model = Model::load(entry.path);
  ExampleShapes example;
  if (test) example = exampleShapesOf(*test);
  p.shapes = resolveInputShapes(model, options.input_shapes.dims, test ? &example : nullptr);
  const ModelStats stats = computeStats(model, &p.shapes);
  ModelMeasurement& m = p.measurement;
  m.step_id = entry.step_id;
  m.kind = entry.kind;
  m.file_bytes = static_cast<int64_t>(std::filesystem::file_size(entry.path));
  m.params = stats.params;
  m.macs = stats.macs;
  return p;
}

OrtOptions ortOptions(int threads) {
  OrtOptions ort;
  ort.intra_op_threads = threads;
  ort.allow_spinning = false;  // sessions take turns (interleavedSamples)
  return ort;
}

BenchmarkOptions benchOptions(const ReportOptions& options, const InputShapes& shapes) {
  BenchmarkOptions bench;
  bench.runs = options.latency_runs;
  bench.warmup_runs = options.warmup_runs;
  bench.input_shapes = shapes;
  return bench;
}

// Accuracy and session memory of one model on one thread.
void measureAccuracy(const Prepared& p, const Dataset* test, const ReportOptions& options, JobContext* job,
                     ModelMeasurement& m) {
  // Freed heap from earlier sessions would otherwise be reused and hide what this session takes.
  malloc_trim(0);
  const int64_t rss_before = currentRssBytes();
  auto executor = makeOrtExecutor(p.entry->path.string(), ortOptions(1));
  executor->run(makeRandomInputs(executor->inputs(), benchOptions(options, p.shapes)));
  m.session_peak_rss_bytes = std::max<int64_t>(0, currentRssBytes() - rss_before);
  if (!test) return;
  EvalOptions eval;
  eval.limit = options.test_limit;
  eval.batch_size = options.eval_batch_size;
  const EvalResult r = evaluate(*executor, *test, eval, job);
  const Interval ci = wilsonInterval(r.correct_top1, r.count);
  m.has_accuracy = true;
  m.accuracy = r.top1;
  m.accuracy_low = ci.low;
  m.accuracy_high = ci.high;
  m.test_examples = r.count;
}

std::string threadsText(int threads) {
  return std::to_string(threads) + (threads == 1 ? " thread" : " threads");
}

}  // namespace

RunReport measureModels(const std::vector<ReportEntry>& entries, const Dataset* test,
                        const ReportOptions& options, JobContext* job) {
  if (entries.empty()) throw Error("run report: there is no model to measure");
  if (options.latency_runs < 1) throw Error("run report: latency_runs must be at least 1");
  if (options.warmup_runs < 0) throw Error("run report: warmup_runs must not be negative");
  for (int threads : options.threads)
    if (threads < 1)
      throw Error("run report: thread count " + std::to_string(threads) + " must be at least 1");

  std::vector<Prepared> prepared;
  for (const auto& entry : entries) {
    if (job) job->throwIfCancelled();
    prepared.push_back(prepare(entry, test, options));
  }

  RunReport report;
  report.test_dataset = test ? test->name() : "";
  report.cpu = CpuInfo::ofThisMachine();
  report.latency_runs = options.latency_runs;
  report.warmup_runs = options.warmup_runs;
  report.input_shapes = prepared.front().shapes.describe();

  // The base's sessions (one per thread count) live through the whole measurement: it is timed against each
  // variant in turn. Spinning is off, so idle sessions do not compete with the ones being timed.
  const Prepared& base = prepared.front();
  // ONNX Runtime's environment (thread pools, allocators) comes with the first session of the process: made
  // here, it is not counted as the base's session memory.
  makeOrtExecutor(base.entry->path.string(), ortOptions(1)).reset();
  std::map<int, std::unique_ptr<Executor>> base_sessions;
  std::map<int, std::vector<NamedTensor>> base_inputs;

  const double n = static_cast<double>(prepared.size());
  const double accuracy_share = test ? 0.5 : 0.1;  // of each model's slice; the rest is latency
  for (size_t i = 0; i < prepared.size(); ++i) {
    const Prepared& p = prepared[i];
    ModelMeasurement m = p.measurement;
    const std::string name = "'" + m.step_id + "'";
    const double begin = static_cast<double>(i) / n, end = static_cast<double>(i + 1) / n;
    const double split = begin + (end - begin) * accuracy_share;

    {
      std::unique_ptr<JobContext> part;
      if (job) {
        job->throwIfCancelled();
        part = job->child(begin, split, test ? name + " accuracy" : name + " memory");
        part->report(0, "session");
      }
      measureAccuracy(p, test, options, part.get(), m);
    }

    const double per_threads =
        (end - split) / static_cast<double>(std::max<size_t>(1, options.threads.size()));
    for (size_t t = 0; t < options.threads.size(); ++t) {
      const int threads = options.threads[t];
      std::unique_ptr<JobContext> part;
      if (job) {
        job->throwIfCancelled();
        const double from = split + per_threads * static_cast<double>(t);
        part = job->child(from, from + per_threads, name + " latency, " + threadsText(threads));
        part->report(0, "sessions");
      }
      if (!base_sessions.count(threads)) {
        base_sessions[threads] = makeOrtExecutor(base.entry->path.string(), ortOptions(threads));
        base_inputs[threads] =
            makeRandomInputs(base_sessions[threads]->inputs(), benchOptions(options, base.shapes));
      }
      std::vector<Executor*> executors = {base_sessions[threads].get()};
      std::vector<std::vector<NamedTensor>> inputs = {base_inputs[threads]};
      std::unique_ptr<Executor> variant;
      if (i > 0) {
        variant = makeOrtExecutor(p.entry->path.string(), ortOptions(threads));
        executors.push_back(variant.get());
        inputs.push_back(makeRandomInputs(variant->inputs(), benchOptions(options, p.shapes)));
      }
      const auto samples = interleavedSamples(executors, inputs, benchOptions(options, p.shapes), part.get());
      ModelMeasurement::Latency latency;
      latency.threads = threads;
      latency.median_ms = percentile(samples.back(), 50);
      latency.p90_ms = percentile(samples.back(), 90);
      latency.base_median_ms = percentile(samples.front(), 50);
      latency.speedup = latency.median_ms > 0 ? latency.base_median_ms / latency.median_ms : 0;
      m.latency.push_back(latency);
    }

    const ModelMeasurement& first = i == 0 ? m : report.models.front();
    m.size_ratio =
        m.file_bytes > 0 ? static_cast<double>(first.file_bytes) / static_cast<double>(m.file_bytes) : 0;
    m.accuracy_drop_points = m.has_accuracy ? (first.accuracy - m.accuracy) * 100 : 0;
    report.models.push_back(std::move(m));
  }
  if (job) job->report(1.0, "measured " + std::to_string(prepared.size()) + " models");
  return report;
}

// ----- JSON

nlohmann::json ModelMeasurement::toJson() const {
  nlohmann::json latencies = nlohmann::json::array();
  for (const auto& l : latency)
    latencies.push_back({{"threads", l.threads},
                         {"median_ms", l.median_ms},
                         {"p90_ms", l.p90_ms},
                         {"base_median_ms", l.base_median_ms},
                         {"speedup", l.speedup}});
  return {{"step_id", step_id},
          {"kind", kind},
          {"file_bytes", file_bytes},
          {"size_ratio", size_ratio},
          {"params", params},
          {"macs", macs},
          {"has_accuracy", has_accuracy},
          {"accuracy", accuracy},
          {"accuracy_low", accuracy_low},
          {"accuracy_high", accuracy_high},
          {"accuracy_drop_points", accuracy_drop_points},
          {"test_examples", test_examples},
          {"latency", latencies},
          {"session_peak_rss_bytes", session_peak_rss_bytes}};
}

ModelMeasurement ModelMeasurement::fromJson(const nlohmann::json& json) {
  try {
    ModelMeasurement m;
    json.at("step_id").get_to(m.step_id);
    json.at("kind").get_to(m.kind);
    json.at("file_bytes").get_to(m.file_bytes);
    json.at("size_ratio").get_to(m.size_ratio);
    json.at("params").get_to(m.params);
    json.at("macs").get_to(m.macs);
    json.at("has_accuracy").get_to(m.has_accuracy);
    json.at("accuracy").get_to(m.accuracy);
    json.at("accuracy_low").get_to(m.accuracy_low);
    json.at("accuracy_high").get_to(m.accuracy_high);
    json.at("accuracy_drop_points").get_to(m.accuracy_drop_points);
    json.at("test_examples").get_to(m.test_examples);
    for (const auto& l : json.at("latency")) {
      Latency latency;
      l.at("threads").get_to(latency.threads);
      l.at("median_ms").get_to(latency.median_ms);
      l.at("p90_ms").get_to(latency.p90_ms);
      l.at("base_median_ms").get_to(latency.base_median_ms);
      l.at("speedup").get_to(latency.speedup);
      m.latency.push_back(latency);
    }
    json.at("session_peak_rss_bytes").get_to(m.session_peak_rss_bytes);
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("run report: a model's measurement is malformed: ") + e.what());
  }
}

nlohmann::json RunReport::toJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : models) list.push_back(m.toJson());
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : device) devices.push_back(d.toJson());
  return {{"recipe_name", recipe_name},
          {"test_dataset", test_dataset},
          {"cpu", cpu.toJson()},
          {"latency_runs", latency_runs},
          {"warmup_runs", warmup_runs},
          {"input_shapes", input_shapes},
          {"models", list},
          {"device", devices}};
}

RunReport RunReport::fromJson(const nlohmann::json& json) {
  try {
    RunReport r;
    json.at("recipe_name").get_to(r.recipe_name);
    json.at("test_dataset").get_to(r.test_dataset);
    const auto& cpu = json.at("cpu");
    cpu.at("model_name").get_to(r.cpu.model_name);
    cpu.at("flags").get_to(r.cpu.flags);
    cpu.at("cores").get_to(r.cpu.cores);
    json.at("latency_runs").get_to(r.latency_runs);
    json.at("warmup_runs").get_to(r.warmup_runs);
    json.at("input_shapes").get_to(r.input_shapes);
    for (const auto& m : json.at("models")) r.models.push_back(ModelMeasurement::fromJson(m));
    // Reports written before device measurements were reported have none.
    if (json.contains("device"))
      for (const auto& d : json.at("device")) r.device.push_back(DeviceMeasurement::fromJson(d));
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("run report: malformed: ") + e.what());
  }
}

}  // namespace edgetune::pipeline
