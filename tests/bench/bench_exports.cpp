// The front door's targets on real torch.onnx exports (the export matrix, see
// tests/fixtures/torch/make_export_matrix.py), starting from the raw export file as a user would:
//   - static INT8 (after the clean-up on the way in): file size ratio, share of MACs in integer kernels as
//   ONNX
//     Runtime runs it, latency vs FP32 on 1 and 2 threads;
//   - channel pruning 0.5: latency vs FP32 on 1 thread;
//   - the encoders: dynamic INT8 latency vs FP32 on 1 and 2 threads and, for the trained spam model
//   re-exported by
//     torch.onnx, argmax agreement with FP32 on real SpamAssassin test mails.
// Every latency ratio comes from one process timing the models in interleaved rounds (medians).
// Usage: bench_exports [EXPORTS_DIR] [--runs N] [--only NAME] [--text SPEC] [--keep DIR]
//        (--keep writes the INT8 and pruned models it measured to DIR, to profile them)
//        (EXPORTS_DIR defaults to build/fixtures/exports, which the build fills)
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/analysis/speedup_check.h"
#include "core/data/dataset.h"
#include "core/ir/input_shapes.h"
#include "core/ir/stats.h"
#include "core/passes/canonicalize.h"
#include "core/passes/prune_channels.h"
#include "core/passes/quantize_passes.h"
#include "core/runtime/benchmark.h"
#include "core/util/error.h"
#include "tests/random_dataset.h"

using namespace edgetune;
namespace fs = std::filesystem;

namespace {

std::vector<double> timeInterleaved(const std::vector<const Model*>& models, int threads,
                                    const InputShapes& shapes, int runs) {
  OrtOptions ort;
  ort.intra_op_threads = threads;
  BenchmarkOptions b;
  b.input_shapes = shapes;
  b.runs = runs;
  b.warmup_runs = 5;
  return interleavedMedians(models, ort, b);
}

// Argmax agreement of two executors over a dataset (batch 1, as the device runs it).
double argmaxAgreement(const Model& a, const Model& b, const Dataset& data, size_t limit) {
  auto ea = makeOrtExecutor(a), eb = makeOrtExecutor(b);
  const size_t n = std::min(limit, data.size());
  size_t agree = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t index[] = {i};
    const auto inputs = bindInputs(ea->inputs(), makeBatch(data, index), data.name());
    const Tensor ta = ea->run(inputs).at(0), tb = eb->run(inputs).at(0);
    const auto va = ta.values<float>(), vb = tb.values<float>();
    agree += std::max_element(va.begin(), va.end()) - va.begin() ==
             std::max_element(vb.begin(), vb.end()) - vb.begin();
  }
  return n ? static_cast<double>(agree) / static_cast<double>(n) : 0.0;
}

std::string flagsText() {
  const CpuIntegerSupport cpu = hostCpuSupport();
  std::string s;
  for (const auto& f : cpu.flags) s += (s.empty() ? "" : " ") + f;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = "build/fixtures/exports";
  int runs = 30;
  std::string only;
  fs::path keep_dir;
  std::string text_spec =
      "spamassassin:third_party/datasets/spam-assassin?vocab=resources/models/"
      "bert_spam_vocab.txt&mail=body&seq_len="
      "128&subset=test&val=0.1&test=0.2&seed=0";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc)
      runs = std::atoi(argv[++i]);
    else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (a == "--text" && i + 1 < argc)
      text_spec = argv[++i];
    else if (a == "--keep" && i + 1 < argc)
      keep_dir = argv[++i];
    else if (!a.empty() && a[0] != '-')
      dir = a;
    else {
      std::fprintf(
          stderr, "usage: bench_exports [EXPORTS_DIR] [--runs N] [--only NAME] [--text SPEC] [--keep DIR]\n");
      return 2;
    }
  }
  try {
    std::ifstream in(dir / "matrix.json");
    const nlohmann::json matrix = nlohmann::json::parse(in, nullptr, false);
    if (matrix.is_discarded())
      throw Error((dir / "matrix.json").string() + ": missing; build the export_matrix target");
    std::printf("CPU flags: %s\nruns per median: %d (interleaved rounds, one process)\n\n",
                flagsText().c_str(), runs);
    std::printf(
        "| model | nodes raw -> clean | INT8 smaller | integer MACs | INT8 x 1T | INT8 x 2T | prune 0.5 x 1T "
        "|\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    for (const auto& m : matrix.at("models")) {
      const std::string name = m.at("name");
      if (!only.empty() && name != only) continue;
      const fs::path file = dir / m.at("file").get<std::string>();
      const Model raw = Model::load(file);
      Model clean = raw;
      PassContext context;
      canonicalize(clean, CanonicalizeOptions{}, context);
      const InputShapes shapes = resolveInputShapes(clean);
      const double raw_bytes = static_cast<double>(fs::file_size(file));
      if (m.at("kind") == "image") {
        QuantizeOptions q;
        q.mode = QuantizeMode::Static;
        q.samples = 64;
        QuantizePass quantize(q);
        // Random weights were trained on nothing: random calibration images (size and latency do not depend
        // on it).
        quantize.setDataset(test::RandomDataset::forModel(clean, shapes, 64));
        Model int8 = clean;
        const PassReport qr = quantize.apply(int8, context);
        Model pruned = clean;
        PruneChannelsOptions p;
        p.ratio = 0.5;
        PruneChannelsPass prune(p);
        prune.apply(pruned, context);
        if (!keep_dir.empty()) {
          fs::create_directories(keep_dir);
          int8.save(keep_dir / (name + "_int8.onnx"));
          pruned.save(keep_dir / (name + "_channels50.onnx"));
        }
        const auto t1 = timeInterleaved({&raw, &int8, &pruned}, 1, shapes, runs);
        const auto t2 = timeInterleaved({&raw, &int8}, 2, shapes, runs);
        const IntegerMacsReport integer = integerMacsInOrt(clean, int8, &shapes);
        std::printf(
            "| %s | %d -> %d | %.2fx | %.1f%% (ours %.1f%%) | %.2fx (%.3f -> %.3f ms) | %.2fx (%.3f -> %.3f "
            "ms) | %.2fx (%.3f ms) |\n",
            name.c_str(), raw.graph().node_size(), clean.graph().node_size(),
            raw_bytes / static_cast<double>(int8.serialize().size()), 100 * integer.integerShare(),
            qr.coverage ? 100 * qr.coverage->macsShare() : -1.0, t1[0] / t1[1], t1[0], t1[1], t2[0] / t2[1],
            t2[0], t2[1], t1[0] / t1[2], t1[2]);
      } else {
        QuantizeOptions q;
        q.mode = QuantizeMode::Dynamic;
        QuantizePass quantize(q);
        Model int8 = clean;
        quantize.apply(int8, context);
        if (!keep_dir.empty()) {
          fs::create_directories(keep_dir);
          int8.save(keep_dir / (name + "_dynamic_int8.onnx"));
        }
        const auto t1 = timeInterleaved({&raw, &int8}, 1, shapes, runs);
        const auto t2 = timeInterleaved({&raw, &int8}, 2, shapes, runs);
        std::string agreement = "-";
        if (name == "bert_spam_export") {
          auto text = openDataset(text_spec);
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.2f%% of %zu mails",
                        100 * argmaxAgreement(raw, int8, *text, 100000), text->size());
          agreement = buf;
        }
        std::printf(
            "| %s (dynamic INT8, %s) | %d -> %d | %.2fx | agreement %s | %.2fx (%.3f -> %.3f ms) | %.2fx "
            "(%.3f -> %.3f ms) | - |\n",
            name.c_str(), shapes.describe().c_str(), raw.graph().node_size(), clean.graph().node_size(),
            raw_bytes / static_cast<double>(int8.serialize().size()), agreement.c_str(), t1[0] / t1[1], t1[0],
            t1[1], t2[0] / t2[1], t2[0], t2[1]);
      }
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_exports: %s\n", e.what());
    return 1;
  }
  return 0;
}
