// bench_prune: what structured pruning buys in measured ONNX Runtime latency, not just FLOPs.
//   ResNet-18 (1x28x28, 10 classes, zoo-built) at channel ratios 0..0.8: params, MACs, ONNX file size, median
//   latency on 1 and 2 threads (>= 20 rounds); BERT (zoo) with 50% of heads and FFN neurons removed. All rows
//   of a table are timed interleaved: every round runs each model once, so all of them see the same machine
//   state. With --sensitivity [DATASET_SPEC]: time of a full sensitivity sweep on ResNet-20 and ResNet-18
//   (untrained weights: the accuracies mean nothing, the time does). With --model BASE.onnx --variant
//   LABEL=FILE.onnx ...: the rows for those files instead (e.g. a trained model and its pruned / recovered
//   versions made by tests/bench/prune_recovery.sh). With --scale LAYERS[,LAYERS...]: time of the dependency
//   analysis and of a 0.5 channel prune on residual MLP chains of that many layers (4 nodes each), to show
//   the analysis stays near-linear in graph size.
// Usage: bench_prune [--runs N] [--sensitivity [SPEC]] [--limit N]
//        bench_prune --model BASE.onnx [--variant LABEL=FILE]... [--runs N] [--seq-len N]
//        bench_prune --model BASE.onnx --variant LABEL=FILE --profile PREFIX   (ORT JSON profiles, 1 thread)
//        bench_prune --scale 1000,10000,25000
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "core/data/dataset.h"
#include "core/ir/stats.h"
#include "core/passes/prune_channels.h"
#include "core/runtime/benchmark.h"
#include "core/runtime/executor.h"
#include "core/tuning/sensitivity.h"
#include "core/util/error.h"
#include "core/zoo/zoo.h"

using namespace edgetune;

namespace {

struct Row {
  std::string label;
  int64_t params = 0, macs = 0, bytes = 0;
  double ms1 = 0, ms2 = 0;
};

void print(const std::vector<Row>& rows) {
  std::printf("%-26s %12s %10s %12s %10s %10s %8s %8s\n", "variant", "params", "MMACs", "file bytes", "1t ms",
              "2t ms", "1t x", "2t x");
  for (const auto& r : rows)
    std::printf("%-26s %12lld %10.1f %12lld %10.3f %10.3f %8.2f %8.2f\n", r.label.c_str(),
                static_cast<long long>(r.params), r.macs / 1e6, static_cast<long long>(r.bytes), r.ms1, r.ms2,
                rows[0].ms1 / r.ms1, rows[0].ms2 / r.ms2);
  std::fflush(stdout);
}

// Rows for `models` (the first is the reference), latency medians of interleaved rounds at 1 and 2 threads.
std::vector<Row> measureInterleaved(const std::vector<std::pair<std::string, Model>>& models, int runs,
                                    int64_t seq) {
  std::vector<Row> rows;
  for (const auto& [label, m] : models) {
    const ModelStats s = computeStats(m);
    rows.push_back({label, s.params, s.macs, s.serialized_bytes, 0, 0});
  }
  BenchmarkOptions b;
  b.sequence_length = seq;
  b.runs = runs;
  b.warmup_runs = 5;
  std::vector<const Model*> pointers;
  for (const auto& entry : models) pointers.push_back(&entry.second);
  for (int threads : {1, 2}) {
    OrtOptions ort;
    ort.intra_op_threads = threads;
    const std::vector<double> medians = interleavedMedians(pointers, ort, b);
    for (size_t i = 0; i < models.size(); ++i) (threads == 1 ? rows[i].ms1 : rows[i].ms2) = medians[i];
  }
  return rows;
}

void sweep(const std::string& arch, const std::string& spec, size_t limit) {
  zoo::ZooOptions z;
  z.input_channels = 1;
  z.image_size = 28;
  Model m = zoo::buildZooModel(arch, z);
  auto data = openDataset(spec);
  SensitivityOptions o;
  o.limit = limit;
  const auto start = std::chrono::steady_clock::now();
  SensitivityResult r = analyzeSensitivity(m, *data, o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // What a naive sweep would cost: every ratio of every group evaluates the whole network.
  int region_nodes = 0;
  for (const auto& c : r.curves) region_nodes += c.region_nodes;
  std::printf(
      "%s sensitivity: %zu groups x %zu ratios on %zu examples took %.1f s (nodes re-run per ratio: "
      "%.0f%% of a full pass on average)\n",
      arch.c_str(), r.curves.size(), o.ratios.size(), r.examples, s,
      r.curves.empty() ? 0.0 : 100.0 * region_nodes / (r.curves.size() * static_cast<double>(r.total_nodes)));
}

// x -> [MatMul(8->16) -> Relu -> MatMul(16->8) -> Add(residual)] x layers -> y, built directly in the proto.
Model residualChain(int layers) {
  onnx::ModelProto p;
  p.set_ir_version(8);
  p.add_opset_import()->set_version(13);
  auto* g = p.mutable_graph();
  g->set_name("chain");
  auto value = [](onnx::ValueInfoProto* vi, const std::string& name) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_param("N");
    tt->mutable_shape()->add_dim()->set_dim_value(8);
  };
  value(g->add_input(), "x");
  value(g->add_output(), "y");
  auto weight = [&](const std::string& name, int64_t rows, int64_t cols, uint64_t seed) {
    Tensor t(DataType::Float32, {rows, cols});
    auto v = t.values<float>();
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<float>(((i * 2654435761u + seed) % 1000) / 1000.0 - 0.5);
    *g->add_initializer() = tensorToProto(name, t);
  };
  auto node = [&](const std::string& op, std::vector<std::string> in, const std::string& out,
                  const std::string& name) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
  };
  std::string cur = "x";
  for (int i = 0; i < layers; ++i) {
    const std::string l = "l" + std::to_string(i);
    weight(l + ".w1", 8, 16, 2 * i);
    weight(l + ".w2", 16, 8, 2 * i + 1);
    node("MatMul", {cur, l + ".w1"}, l + ".h", l + ".fc1");
    node("Relu", {l + ".h"}, l + ".hr", l + ".relu");
    node("MatMul", {l + ".hr", l + ".w2"}, l + ".o", l + ".fc2");
    node("Add", {l + ".o", cur}, l + ".sum", l + ".add");
    cur = l + ".sum";
  }
  node("Identity", {cur}, "y", "out");
  Model m = Model::fromProto(p, "residual chain");
  m.inferShapes();
  return m;
}

// Every variant runs in ONNX Runtime at batch 2 and at two lengths of any other dynamic axis (3 and `seq`)
// and gives the original's output shapes; throws naming the variant otherwise.
void checkOutputShapes(const std::vector<std::pair<std::string, Model>>& models, int64_t seq) {
  for (int64_t other : {int64_t{3}, seq}) {
    BenchmarkOptions b;
    b.batch_size = 2;
    b.sequence_length = other;  // token inputs; a dynamic image size is refused (give the model fixed sizes)
    auto reference = makeOrtExecutor(models[0].second);
    const auto inputs = makeRandomInputs(reference->inputs(), b);
    const auto expected = reference->run(inputs);
    for (size_t i = 1; i < models.size(); ++i) {
      const auto got = makeOrtExecutor(models[i].second)->run(inputs);
      bool same = got.size() == expected.size();
      for (size_t k = 0; same && k < got.size(); ++k) same = got[k].shape() == expected[k].shape();
      if (!same) throw Error("variant '" + models[i].first + "' changes the output shapes");
    }
  }
  std::printf("output shapes match the original at batch 2, other dynamic axes 3 and %lld\n",
              static_cast<long long>(seq));
}

// ONNX Runtime's JSON profile of `runs` runs of each model (1 thread), written as PREFIX_<label>_*.json, to
// see which ops a variant's time goes to.
void profile(const std::vector<std::pair<std::string, Model>>& models, const std::string& prefix, int runs) {
  for (const auto& [label, m] : models) {
    OrtOptions ort;
    ort.enable_profiling = true;
    ort.profile_prefix = prefix + "_" + label;
    auto executor = makeOrtExecutor(m, ort);
    BenchmarkOptions b;
    const auto inputs = makeRandomInputs(executor->inputs(), b);
    for (int i = 0; i < runs; ++i) executor->run(inputs);
  }
}

void scale(const std::string& list) {
  std::printf("%10s %10s %14s %14s %14s\n", "layers", "nodes", "analysis s", "prune 0.5 s", "us per node");
  size_t start = 0;
  while (start < list.size()) {
    const size_t comma = list.find(',', start);
    const int layers = std::stoi(list.substr(start, comma - start));
    start = comma == std::string::npos ? list.size() : comma + 1;
    const Model m = residualChain(layers);
    auto t0 = std::chrono::steady_clock::now();
    const auto groups = findPruneGroups(m);
    auto t1 = std::chrono::steady_clock::now();
    Model pruned = m;
    PruneChannelsOptions o;
    o.ratio = 0.5;
    pruneChannels(pruned, o);
    auto t2 = std::chrono::steady_clock::now();
    const double analysis = std::chrono::duration<double>(t1 - t0).count();
    const double prune = std::chrono::duration<double>(t2 - t1).count();
    const int nodes = m.graph().node_size();
    std::printf("%10d %10d %14.3f %14.3f %14.1f\n", layers, nodes, analysis, prune, 1e6 * prune / nodes);
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 30;
  std::string spec;
  bool sensitivity = false;
  size_t limit = 200;
  std::string base_model;
  std::vector<std::pair<std::string, std::string>> variants;
  int64_t seq = 128;
  std::string scale_list, profile_prefix;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc)
      runs = std::stoi(argv[++i]);
    else if (a == "--limit" && i + 1 < argc)
      limit = std::stoul(argv[++i]);
    else if (a == "--model" && i + 1 < argc)
      base_model = argv[++i];
    else if (a == "--seq-len" && i + 1 < argc)
      seq = std::stoll(argv[++i]);
    else if (a == "--scale" && i + 1 < argc)
      scale_list = argv[++i];
    else if (a == "--profile" && i + 1 < argc)
      profile_prefix = argv[++i];
    else if (a == "--variant" && i + 1 < argc) {
      const std::string v = argv[++i];
      const size_t eq = v.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "bench_prune: --variant %s: expected LABEL=FILE.onnx\n", v.c_str());
        return 2;
      }
      variants.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else if (a == "--sensitivity") {
      sensitivity = true;
      spec = i + 1 < argc && argv[i + 1][0] != '-' ? argv[++i] : "fashion-mnist";
    }
  }
  try {
    if (!scale_list.empty()) {
      scale(scale_list);
      return 0;
    }
    if (!base_model.empty()) {
      std::vector<std::pair<std::string, Model>> models;
      models.emplace_back("original", Model::load(base_model));
      for (const auto& [label, file] : variants) models.emplace_back(label, Model::load(file));
      checkOutputShapes(models, seq);
      if (!profile_prefix.empty()) {
        profile(models, profile_prefix, runs);
        return 0;
      }
      std::printf("%s and %zu variants, median of %d interleaved rounds\n", base_model.c_str(),
                  variants.size(), runs);
      print(measureInterleaved(models, runs, seq));
      return 0;
    }
    zoo::ZooOptions z;
    z.input_channels = 1;
    z.image_size = 28;
    z.classes = 10;
    const Model resnet18 = zoo::buildZooModel("resnet18", z);
    std::printf(
        "ResNet-18 (1x28x28, 10 classes), channel pruning (L1, round to 8), median of %d interleaved "
        "rounds\n",
        runs);
    std::vector<std::pair<std::string, Model>> ratios;
    for (double ratio : {0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8}) {
      Model m = resnet18;
      PruneChannelsOptions o;
      o.ratio = ratio;
      pruneChannels(m, o);
      char label[64];
      std::snprintf(label, sizeof label, "ratio %.1f", ratio);
      ratios.emplace_back(label, std::move(m));
    }
    print(measureInterleaved(ratios, runs, 1));

    for (auto [hidden, layers, heads] : {std::tuple<int, int, int>{128, 2, 2}, {256, 4, 4}}) {
      zoo::ZooOptions b;
      b.hidden = hidden;
      b.layers = layers;
      b.heads = heads;
      b.sequence_length = 128;
      const Model bert = zoo::buildZooModel("bert", b);
      PruneChannelsOptions o;
      o.ratio = 0.0;
      for (const auto& g : findPruneGroups(bert))
        if (g.prunable && (g.kind == "heads" || g.id.find("intermediate") != std::string::npos))
          o.per_group[g.id] = 0.5;
      Model pruned = bert;
      pruneChannels(pruned, o);
      std::printf(
          "\nBERT hidden %d, %d layers, %d heads, sequence 128: 50%% of heads and FFN neurons removed\n",
          hidden, layers, heads);
      print(measureInterleaved({{"unpruned", bert}, {"heads+FFN 50%", pruned}}, runs, 128));
    }
    if (sensitivity) {
      std::printf("\n");
      sweep("resnet20", spec, limit);
      sweep("resnet18", spec, limit);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_prune: %s\n", e.what());
    return 1;
  }
  return 0;
}
