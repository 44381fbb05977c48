// Does the benchmark harness add overhead? Compares its median with a bare ONNX Runtime loop on the same
// file, interleaving rounds so both see the same machine state. Usage: bench_harness_overhead MODEL [threads]
// [runs]
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "core/ir/model.h"
#include "core/runtime/benchmark.h"
#include "core/runtime/ort_env.h"

using namespace edgetune;

static double bareOrtMedian(const char* path, int threads, int warmup, int runs) {
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(threads);
  so.SetInterOpNumThreads(1);
  so.SetGraphOptimizationLevel(ORT_ENABLE_ALL);
  Ort::Session session(ortEnv(), path, so);
  Ort::AllocatorWithDefaultOptions alloc;
  std::vector<std::string> in_names, out_names;
  std::vector<Ort::Value> values;
  std::vector<std::vector<float>> buffers;
  auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  for (size_t i = 0; i < session.GetInputCount(); ++i) {
    in_names.push_back(session.GetInputNameAllocated(i, alloc).get());
    auto type_info = session.GetInputTypeInfo(i);
    auto shape = type_info.GetTensorTypeAndShapeInfo().GetShape();
    for (auto& d : shape)
      if (d < 0) d = 1;
    size_t n = 1;
    for (auto d : shape) n *= static_cast<size_t>(d);
    buffers.emplace_back(n, 0.5f);
    values.push_back(
        Ort::Value::CreateTensor<float>(memory, buffers.back().data(), n, shape.data(), shape.size()));
  }
  for (size_t i = 0; i < session.GetOutputCount(); ++i)
    out_names.push_back(session.GetOutputNameAllocated(i, alloc).get());
  std::vector<const char*> in_ptrs, out_ptrs;
  for (auto& s : in_names) in_ptrs.push_back(s.c_str());
  for (auto& s : out_names) out_ptrs.push_back(s.c_str());
  std::vector<double> samples;
  for (int i = 0; i < warmup + runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto out = session.Run(Ort::RunOptions{nullptr}, in_ptrs.data(), values.data(), values.size(),
                           out_ptrs.data(), out_ptrs.size());
    auto t1 = std::chrono::steady_clock::now();
    if (i >= warmup) samples.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return percentile(samples, 50);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [threads=1] [runs=50] [rounds=5]\n", argv[0]);
    return 2;
  }
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 50;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 5;
  Model model = Model::load(argv[1]);
  std::vector<double> bare, harness;
  for (int r = 0; r < rounds; ++r) {
    bare.push_back(bareOrtMedian(argv[1], threads, 10, runs));
    OrtOptions ort;
    ort.intra_op_threads = threads;
    BenchmarkOptions opt;
    opt.runs = runs;
    harness.push_back(benchmarkModel(model, ort, opt).median_ms);
  }
  const double bare_ms = percentile(bare, 50), harness_ms = percentile(harness, 50);
  std::printf("model %s, %d thread(s), %d rounds x %d runs\n", argv[1], threads, rounds, runs);
  std::printf("bare ONNX Runtime loop median  %.3f ms\n", bare_ms);
  std::printf("EdgeTune harness median        %.3f ms\n", harness_ms);
  std::printf("harness / bare                 %.3f  (target: within 0.95 .. 1.05)\n", harness_ms / bare_ms);
  return 0;
}
