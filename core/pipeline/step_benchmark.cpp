// Step "benchmark": `edgetune-cli bench` per thread count on the host, or with `device` the on-device
// benchmark of `edgetune-cli deploy --bench` (the model is uploaded first). The model is timed as given and
// passes through.
#include <cstdio>

#include "core/pipeline/step_kinds.h"
#include "core/runtime/benchmark.h"

namespace edgetune::pipeline {
namespace {

constexpr const char* kKind = "benchmark";

struct BenchmarkStepOptions {
  std::vector<int> threads = {1, 2};
  int runs = 50;
  int warmup = 10;
  int batch = 1;                                            // for a dynamic batch dimension (host)
  std::vector<std::string> shapes;                          // "NAME=1x3x224x224", as --shape
  GraphOptimization optimization = GraphOptimization::All;  // host
  std::string device;                                       // empty: the host
  std::string name;      // device: the model's folder there (default: the step id)
  bool samples = false;  // host: keep every timed run's latency (samples_ms), as `edgetune-cli bench --json`
  bool compare_base =
      false;  // device: time the recipe's base interleaved with this model (the speed-up there)
  DeviceConnection connection;
};

void to_json(nlohmann::json& j, const BenchmarkStepOptions& o) {
  j = {{"threads", o.threads}, {"runs", o.runs},
       {"warmup", o.warmup},   {"batch", o.batch},
       {"shapes", o.shapes},   {"optimization", o.optimization},
       {"device", o.device},   {"name", o.name},
       {"samples", o.samples}, {"compare_base", o.compare_base}};
  writeConnection(j, o.connection);
}

void readOptions(OptionsReader& r, BenchmarkStepOptions& o) {
  r.read("threads", o.threads);
  r.read("runs", o.runs);
  r.read("warmup", o.warmup);
  r.read("batch", o.batch);
  r.read("shapes", o.shapes);
  r.read("optimization", o.optimization);
  r.read("device", o.device);
  r.read("name", o.name);
  r.read("samples", o.samples);
  r.read("compare_base", o.compare_base);
  readConnection(r, o.connection, kKind);
  if (o.compare_base && o.device.empty())
    throwOptionError(
        kKind, "compare_base",
        "is for a device (option 'device'); the run report times every model against the base on "
        "the host already");
  checkTimingOptions(kKind, o.threads, /*min_threads=*/0, o.runs, o.warmup);
  if (o.batch < 1 || o.batch > 4096) throwOptionError(kKind, "batch", "must be in 1..4096");
}

class BenchmarkStep final : public StepWithOptions<BenchmarkStepOptions> {
 public:
  std::string kind() const override { return kKind; }
  std::vector<std::string> references() const override {
    if (options_.compare_base) return {"base"};
    return {};
  }

  StepOutput run(StepContext& context) override {
    const Model& model = context.input();
    const InputShapes shapes = resolveInputShapes(model, parseShapeSpecs(options_.shapes));
    if (!options_.device.empty()) return onDevice(context, shapes);
    StepOutput out;
    const InputShapes sized = shapes.withBatch(options_.batch);
    OrtOptions ort;
    ort.optimization = options_.optimization;
    BenchmarkOptions bench;
    bench.runs = options_.runs;
    bench.warmup_runs = options_.warmup;
    bench.input_shapes = sized;
    nlohmann::json per_threads = nlohmann::json::object();
    const size_t n = options_.threads.size();
    for (size_t i = 0; i < n; ++i) {
      ort.intra_op_threads = options_.threads[i];
      std::unique_ptr<JobContext> part;
      if (context.job())
        part = context.job()->child(static_cast<double>(i) / static_cast<double>(n),
                                    static_cast<double>(i + 1) / static_cast<double>(n),
                                    std::to_string(options_.threads[i]) + " thread(s)");
      BenchmarkResult r = benchmarkModel(model, ort, bench, part.get());
      nlohmann::json j = r.toJson();
      if (!options_.samples) j.erase("samples_ms");  // results stay small: the percentiles say enough
      per_threads[std::to_string(options_.threads[i])] = j;
      char line[160];
      std::snprintf(line, sizeof line, "host, %d thread(s): median %.3f ms, p90 %.3f ms (%d runs)",
                    options_.threads[i], r.median_ms, r.p90_ms, r.runs);
      out.lines.push_back(line);
    }
    out.result = {{"where", "host"}, {"input_shapes", sized.describe()}, {"threads", per_threads}};
    return out;
  }

 private:
  StepOutput onDevice(StepContext& context, const InputShapes& shapes) const {
    const deploy::Device device = unattendedDevice(options_.device, context.stepId());
    auto session = connectUnattended(device, options_.connection);
    JobContext* job = context.job();
    std::unique_ptr<JobContext> upload = job ? job->child(0, 0.3, "upload") : nullptr;
    const std::string folder = options_.name.empty() ? context.stepId() : options_.name;
    const deploy::DeployResult deployed = uploadModel(*session, context.input(), context, "model.onnx",
                                                      folder, options_.connection, upload.get());
    const std::string baseline = options_.compare_base ? uploadBaseline(*session, context.base(), context,
                                                                        folder, options_.connection, nullptr)
                                                       : std::string();
    std::unique_ptr<JobContext> bench = job ? job->child(0.3, 1, "benchmark") : nullptr;
    const deploy::DeviceBenchmark r =
        benchmarkOnDevice(*session, deployed.files.at(0).remote_path, options_.threads, options_.runs,
                          options_.warmup, shapes, options_.connection, bench.get(), false, "", baseline);
    StepOutput out;
    out.result = {{"where", "device"}, {"device", device.name}, {"benchmark", r.toJson()}};
    for (const auto& l : r.latency) {
      char line[200];
      std::snprintf(line, sizeof line, "%s, %d thread(s): median %.3f ms, p90 %.3f ms (%d runs)",
                    device.name.c_str(), l.threads, l.median_ms, l.p90_ms, l.runs);
      out.lines.push_back(line);
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> makeBenchmarkStep() {
  return std::make_unique<BenchmarkStep>();
}

}  // namespace edgetune::pipeline
