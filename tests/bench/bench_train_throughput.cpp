// Training throughput (images/s, or sequences/s for bert) of the libtorch interpreter's training step vs the
// same architecture in PyTorch eager (tests/bench/train_throughput_torch.py, run with Debian's
// /usr/bin/python3), same batch, threads and input. Usage: bench_train_throughput [arch=resnet20] [batch=128]
// [threads=2] [steps=20] [rounds=3] [image=28]
//   arch bert: the demo encoder's shape (4 layers, hidden 256, 4 heads, vocab 8000, 2 classes); `image` is
//   then the sequence length (e.g. bench_train_throughput bert 32 1 10 3 128), trained with AdamW as the text
//   demos are.
// Prints both medians and their ratio (interpreter / PyTorch). Run it on an otherwise idle machine.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/train/trainer.h"
#include "core/util/error.h"
#include "core/zoo/zoo.h"

using namespace edgetune;

namespace {

// Random normalized images with random labels: the step's cost does not depend on the values.
class RandomImages final : public Dataset {
 public:
  RandomImages(size_t size, int64_t channels, int64_t image, size_t classes)
      : size_(size), channels_(channels), image_(image), classes_(classes) {}
  std::string name() const override { return "random images"; }
  size_t size() const override { return size_; }
  Example get(size_t index) const override {
    std::mt19937 rng(static_cast<unsigned>(index));
    std::normal_distribution<float> d;
    Example e;
    Tensor t(DataType::Float32, {channels_, image_, image_});
    for (auto& v : t.values<float>()) v = d(rng);
    e.features.push_back(std::move(t));
    e.label = static_cast<int64_t>(index % classes_);
    return e;
  }
  std::vector<FeatureInfo> features() const override {
    return {{"image", DataType::Float32, {channels_, image_, image_}}};
  }
  std::vector<std::string> classNames() const override {
    std::vector<std::string> n;
    for (size_t c = 0; c < classes_; ++c) n.push_back(std::to_string(c));
    return n;
  }

 private:
  size_t size_;
  int64_t channels_, image_;
  size_t classes_;
};

// Random token ids (full attention mask, token type 0) with random labels.
class RandomTokens final : public Dataset {
 public:
  RandomTokens(size_t size, int64_t seq_len, int64_t vocab) : size_(size), seq_len_(seq_len), vocab_(vocab) {}
  std::string name() const override { return "random tokens"; }
  size_t size() const override { return size_; }
  Example get(size_t index) const override {
    std::mt19937 rng(static_cast<unsigned>(index));
    Example e;
    Tensor ids(DataType::Int64, {seq_len_}), mask(DataType::Int64, {seq_len_}),
        types(DataType::Int64, {seq_len_});
    for (auto& v : ids.values<int64_t>()) v = static_cast<int64_t>(rng() % static_cast<uint64_t>(vocab_));
    for (auto& v : mask.values<int64_t>()) v = 1;
    e.features = {std::move(ids), std::move(mask), std::move(types)};
    e.label = static_cast<int64_t>(index % 2);
    return e;
  }
  std::vector<FeatureInfo> features() const override {
    return {{"input_ids", DataType::Int64, {seq_len_}},
            {"attention_mask", DataType::Int64, {seq_len_}},
            {"token_type_ids", DataType::Int64, {seq_len_}}};
  }
  std::vector<std::string> classNames() const override { return {"0", "1"}; }

 private:
  size_t size_;
  int64_t seq_len_, vocab_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string arch = argc > 1 ? argv[1] : "resnet20";
  const int batch = argc > 2 ? std::atoi(argv[2]) : 128;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const int steps = argc > 4 ? std::atoi(argv[4]) : 20;
  const int rounds = argc > 5 ? std::atoi(argv[5]) : 3;
  const int image = argc > 6 ? std::atoi(argv[6]) : 28;
  try {
    const bool bert = arch == "bert";
    zoo::ZooOptions zo;
    zo.input_channels = 1;
    zo.image_size = image;
    zo.classes = bert ? 2 : 10;
    zo.vocab_size = 8000;
    zo.hidden = 256;
    zo.layers = 4;
    zo.heads = 4;
    zo.max_positions = zo.sequence_length = image;
    Model model = zoo::buildZooModel(arch, zo);
    const size_t examples = static_cast<size_t>(batch) * static_cast<size_t>(steps);
    std::unique_ptr<Dataset> data;
    if (bert)
      data = std::make_unique<RandomTokens>(examples, image, zo.vocab_size);
    else
      data = std::make_unique<RandomImages>(examples, 1, image, 10);
    TrainOptions o;
    if (bert) {
      o.optimizer = OptimizerKind::AdamW;
      o.weight_decay = 0.01;
    }
    o.epochs = rounds + 1;  // the first epoch warms up (allocator, oneDNN primitives) and is not counted
    o.batch_size = batch;
    o.learning_rate = 0.01;
    o.threads = threads;
    o.max_steps_per_epoch = static_cast<size_t>(steps);
    std::vector<double> rates;
    trainModel(model, *data, nullptr, o, nullptr, [&](const EpochStats& s) {
      if (s.epoch > 1) rates.push_back(s.examples_per_second);
    });
    const double ours = median(rates);

    char cmd[512];
    std::snprintf(cmd, sizeof cmd,
                  "/usr/bin/python3 %s/train_throughput_torch.py --arch %s --batch %d --threads %d "
                  "--steps %d --rounds %d --image %d --seq-len %d --channels 1 --classes %d",
                  EDGETUNE_BENCH_DIR, arch.c_str(), batch, threads, steps, rounds, image, image,
                  static_cast<int>(zo.classes));
    double theirs = 0;
    if (FILE* p = ::popen(cmd, "r")) {
      char line[256];
      while (std::fgets(line, sizeof line, p))
        if (std::sscanf(line, "images_per_second %lf", &theirs) == 1) break;
      ::pclose(p);
    }
    const char* unit = bert ? "sequences/s" : "images/s";
    if (bert)
      std::printf(
          "arch bert (4 layers, hidden 256), batch %d, threads %d, %d tokens, %d steps x %d rounds "
          "(medians)\n",
          batch, threads, image, steps, rounds);
    else
      std::printf("arch %s, batch %d, threads %d, input 1x%dx%d, %d steps x %d rounds (medians)\n",
                  arch.c_str(), batch, threads, image, image, steps, rounds);
    std::printf("interpreter training  %8.1f %s\n", ours, unit);
    if (theirs > 0) {
      std::printf("PyTorch eager         %8.1f %s\n", theirs, unit);
      std::printf("ratio                 %8.2fx\n", ours / theirs);
    } else {
      std::printf("PyTorch eager         not measured (%s failed)\n", cmd);
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_train_throughput: %s\n", e.what());
    return 1;
  }
}
