// Quantization benchmark: FP32 vs INT8 file size, latency (1 and 2 threads, medians of interleaved runs in
// the same process and sessions), accuracy or output agreement, fused-kernel counts, and the four calibration
// methods' accuracy / calibration time / peak memory.
// Usage: bench_quant MODEL|zoo:resnet18|zoo:bert [DATA_SPEC] [--calib SPEC] [--mode static|dynamic]
//                   [--samples N] [--runs N] [--methods minmax,percentile,entropy,mse] [--save OUT.onnx]
//                   [--per-tensor] [--reduce-range] [--no-clean] [--eval-limit N] [--format qdq|qoperator]
// A model file goes through the same clean-up every command runs (canonicalize) before it is quantized; the
// file size ratio is against the raw file, as the user exported it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>

#include "core/analysis/calibration.h"
#include "core/analysis/evaluate.h"
#include "core/analysis/speedup_check.h"
#include "core/ir/input_shapes.h"
#include "core/ir/stats.h"
#include "core/passes/canonicalize.h"
#include "core/passes/quantize_passes.h"
#include "core/runtime/benchmark.h"
#include "core/util/error.h"
#include "core/zoo/model_source.h"
#include "core/zoo/zoo.h"
#include "tests/random_dataset.h"

using namespace edgetune;

namespace {

// Accuracy (if labels make sense), argmax agreement and output SNR of `quant` against `fp32` over the
// dataset.
struct Agreement {
  double fp32_top1 = -1, int8_top1 = -1, argmax_agreement = 0, snr_db = 0;
  size_t count = 0;
};
Agreement compare(Executor& fp32, Executor& quant, const Dataset& data, bool labelled) {
  Agreement r;
  size_t agree = 0, correct_a = 0, correct_b = 0;
  std::vector<float> all_a, all_b;
  const auto inputs = fp32.inputs();
  const size_t batch = inputs[0].shape[0] > 0 ? static_cast<size_t>(inputs[0].shape[0]) : 64;
  for (size_t begin = 0; begin < data.size(); begin += batch) {
    const size_t count = std::min(batch, data.size() - begin);
    std::vector<size_t> idx(count);
    for (size_t i = 0; i < count; ++i) idx[i] = begin + i;
    Batch b = makeBatch(data, idx);
    auto labels = b.labels;
    auto bound = bindInputs(inputs, std::move(b), data.name());
    const Tensor la = fp32.run(bound).at(0), lb = quant.run(bound).at(0);
    const int64_t classes = la.shape().back();
    auto va = la.values<float>(), vb = lb.values<float>();
    all_a.insert(all_a.end(), va.begin(), va.end());
    all_b.insert(all_b.end(), vb.begin(), vb.end());
    for (size_t i = 0; i < count; ++i) {
      auto row = [&](std::span<const float> v) {
        auto first = v.begin() + static_cast<std::ptrdiff_t>(i * static_cast<size_t>(classes));
        return std::max_element(first, first + classes) - first;
      };
      const auto pa = row(va), pb = row(vb);
      agree += pa == pb;
      correct_a += pa == labels[i];
      correct_b += pb == labels[i];
    }
    r.count += count;
  }
  r.argmax_agreement = 100.0 * static_cast<double>(agree) / static_cast<double>(r.count);
  if (labelled) {
    r.fp32_top1 = 100.0 * static_cast<double>(correct_a) / static_cast<double>(r.count);
    r.int8_top1 = 100.0 * static_cast<double>(correct_b) / static_cast<double>(r.count);
  }
  r.snr_db = snrDb(all_a, all_b);
  return r;
}

int integerOps(const std::map<std::string, int>& ops) {
  int n = 0;
  for (const auto& [op, c] : ops)
    if (isIntegerKernel(op)) n += c;
  return n;
}

std::string opSummary(const std::map<std::string, int>& ops) {
  std::ostringstream s;
  for (const auto& [op, c] : ops) s << op << "=" << c << " ";
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s MODEL|zoo:resnet18|zoo:bert [DATA_SPEC] [--calib SPEC] [--mode static|dynamic] "
                 "[--samples N] [--runs N] [--methods LIST] [--save OUT]\n",
                 argv[0]);
    return 2;
  }
  try {
    std::string model_arg = argv[1], data_spec, calib_spec, mode, methods = "minmax,percentile,entropy,mse",
                save;
    int64_t samples = 256;
    int runs = 30;
    bool per_tensor = false, reduce_range = false, no_clean = false;
    size_t eval_limit = 0;
    std::string format = "qdq";
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      auto next = [&] {
        return i + 1 < argc ? std::string(argv[++i]) : throw Error("missing value after " + a);
      };
      if (a == "--calib")
        calib_spec = next();
      else if (a == "--mode")
        mode = next();
      else if (a == "--samples")
        samples = std::stoll(next());
      else if (a == "--runs")
        runs = std::stoi(next());
      else if (a == "--methods")
        methods = next();
      else if (a == "--save")
        save = next();
      else if (a == "--per-tensor")
        per_tensor = true;
      else if (a == "--format")
        format = next();
      else if (a == "--reduce-range")
        reduce_range = true;
      else if (a == "--no-clean")
        no_clean = true;
      else if (a == "--eval-limit")
        eval_limit = static_cast<size_t>(std::stoll(next()));
      else if (data_spec.empty())
        data_spec = a;
      else
        throw Error("unexpected argument '" + a + "'");
    }
    // A bare zoo:resnet18 is the Fashion-MNIST-sized one (1x28x28), as this benchmark always measured it.
    Model model = zoo::loadModelSource(
        model_arg == "zoo:resnet18" ? "zoo:resnet18?input_channels=1&image_size=28" : model_arg);
    const int64_t raw_bytes = serializedBytes(model);
    if (!no_clean) {
      PassContext clean_context;
      CanonicalizeOptions co;
      std::printf("%s\n", canonicalize(model, co, clean_context).summary().c_str());
    }
    {
      std::string flags;
      for (const auto& f : hostCpuSupport().flags) flags += (flags.empty() ? "" : " ") + f;
      std::printf("CPU flags: %s\n", flags.c_str());
    }
    bool has_float_input = false;
    for (const auto& in : model.inputs()) has_float_input |= in.type == DataType::Float32;
    if (mode.empty()) mode = has_float_input ? "static" : "dynamic";

    std::shared_ptr<const Dataset> eval_data, calib_data;
    auto probe = makeOrtExecutor(model);
    if (!data_spec.empty()) {
      eval_data = openDataset(data_spec);
      if (eval_limit > 0 && eval_limit < eval_data->size()) {
        std::vector<size_t> first_n(eval_limit);
        for (size_t i = 0; i < eval_limit; ++i) first_n[i] = i;
        eval_data =
            std::make_shared<SubsetDataset>(eval_data, first_n, "first " + std::to_string(eval_limit));
      }
    } else
      eval_data = test::RandomDataset::forModel(model, resolveInputShapes(model), 256);
    calib_data = calib_spec.empty() ? eval_data : openDataset(calib_spec);
    const bool labelled = !data_spec.empty();

    const std::vector<std::string> method_list = [&] {
      std::vector<std::string> v;
      std::stringstream ss(methods);
      for (std::string m; std::getline(ss, m, ',');) v.push_back(m);
      return v;
    }();
    std::printf("model: %s   mode: %s   eval: %s (%zu)   calibration: %s, %lld samples\n", model_arg.c_str(),
                mode.c_str(), eval_data->name().c_str(), eval_data->size(), calib_data->name().c_str(),
                static_cast<long long>(samples));

    // The quantized models (one per calibration method in static mode).
    struct Variant {
      std::string name;
      Model model;
      double calib_seconds = 0;
      int64_t peak_rss_delta = 0;
      size_t histogram_bytes = 0;
    };
    std::vector<Variant> variants;
    auto quantize = [&](const std::string& method) {
      QuantizeOptions o;
      o.mode = fromString<QuantizeMode>(mode);
      o.calibration = fromString<CalibrationMethod>(method.empty() ? "minmax" : method);
      o.samples = samples;
      o.per_channel = !per_tensor;
      o.reduce_range = reduce_range;
      o.format = fromString<QuantFormat>(format);
      QuantizePass pass(o);
      if (mode == "static") pass.setDataset(calib_data);
      Variant v{mode == "static" ? toString(o.calibration) : mode, model, 0, 0, 0};
      resetPeakRss();
      const int64_t rss_before = currentRssBytes();
      PassContext ctx;
      auto t0 = std::chrono::steady_clock::now();
      pass.apply(v.model, ctx);
      v.calib_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      v.peak_rss_delta = peakRssBytes() - rss_before;
      v.histogram_bytes = pass.lastCalibration().histogramBytes();
      variants.push_back(std::move(v));
    };
    if (mode == "static") {
      for (const auto& m : method_list) quantize(m);
    } else {
      quantize("");
    }
    if (!save.empty()) variants.front().model.save(save);

    const int64_t fp32_bytes = raw_bytes;
    const Variant& main_variant = variants.front();
    const int64_t int8_bytes = static_cast<int64_t>(main_variant.model.serialize().size());
    const auto fp32_ops = ortOptimizedOpCounts(model), int8_ops = ortOptimizedOpCounts(main_variant.model);
    std::printf("\nfile size: FP32 %.2f MB, INT8 (%s) %.2f MB, ratio %.2fx\n", fp32_bytes / 1e6,
                main_variant.name.c_str(), int8_bytes / 1e6, static_cast<double>(fp32_bytes) / int8_bytes);
    std::printf("ORT optimized graph FP32: %s\nORT optimized graph INT8: %s\n(integer kernels: %d)\n",
                opSummary(fp32_ops).c_str(), opSummary(int8_ops).c_str(), integerOps(int8_ops));
    {
      std::optional<InputShapes> shapes;
      try {
        shapes = resolveInputShapes(model);
      } catch (const Error&) {
      }
      const IntegerMacsReport im = integerMacsInOrt(model, main_variant.model, shapes ? &*shapes : nullptr);
      std::printf(
          "MACs in ORT integer kernels: %.1f%% (%lld of %lld; %lld left in float, %d nodes unsized)\n",
          100.0 * im.integerShare(), static_cast<long long>(im.integer_macs),
          static_cast<long long>(im.float_model_macs), static_cast<long long>(im.float_macs),
          im.unknown_shape_nodes);
      for (size_t i = 0; i < im.float_nodes.size() && i < 5; ++i)
        std::printf("  float: %s '%s' %lld MACs\n", im.float_nodes[i].op_type.c_str(),
                    im.float_nodes[i].name.c_str(), static_cast<long long>(im.float_nodes[i].macs));
    }

    // Latency at batch 1, same process, same sessions, interleaved rounds.
    std::vector<size_t> first = {0};
    for (int threads : {1, 2}) {
      OrtOptions ort;
      ort.intra_op_threads = threads;
      ort.allow_spinning =
          false;  // sessions take turns: no idle spinning threads competing with the timed one
      auto a = makeOrtExecutor(model, ort), b = makeOrtExecutor(main_variant.model, ort);
      auto inputs = bindInputs(a->inputs(), makeBatch(*eval_data, first), eval_data->name());
      BenchmarkOptions timing;  // each round runs FP32 then INT8 once, so both see the same machine state
      timing.runs = runs;
      timing.warmup_runs = 5;
      const auto ms = interleavedMedians({a.get(), b.get()}, {inputs, inputs}, timing);  // FP32, INT8
      std::printf("latency %d thread(s), batch 1, median of %d: FP32 %.3f ms, INT8 %.3f ms, speed-up %.2fx\n",
                  threads, runs, ms[0], ms[1], ms[0] / ms[1]);
    }

    // Accuracy / agreement per variant.
    std::printf("\n%-12s %10s %10s %11s %9s %10s %12s %12s\n", "variant", "fp32 top1", "int8 top1",
                "agreement", "SNR dB", "calib s", "peak MB", "hist KB");
    auto fp32 = makeOrtExecutor(model);
    for (const auto& v : variants) {
      auto q = makeOrtExecutor(v.model);
      Agreement ag = compare(*fp32, *q, *eval_data, labelled);
      std::printf("%-12s %10.2f %10.2f %10.2f%% %9.2f %10.2f %12.1f %12.1f\n", v.name.c_str(), ag.fp32_top1,
                  ag.int8_top1, ag.argmax_agreement, ag.snr_db, v.calib_seconds, v.peak_rss_delta / 1e6,
                  v.histogram_bytes / 1e3);
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_quant: error: %s\n", e.what());
    return 1;
  }
}
