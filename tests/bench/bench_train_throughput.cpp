// Training throughput (images/s) of the libtorch interpreter's training step vs the same architecture in PyTorch
// eager (tests/bench/train_throughput_torch.py, run with Debian's /usr/bin/python3), same batch, threads and input.
// Usage: bench_train_throughput [arch=resnet20] [batch=128] [threads=2] [steps=20] [rounds=3] [image=28]
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
    zoo::ZooOptions zo;
    zo.input_channels = 1;
    zo.image_size = image;
    zo.classes = 10;
    Model model = zoo::buildZooModel(arch, zo);
    RandomImages data(static_cast<size_t>(batch) * static_cast<size_t>(steps), 1, image, 10);
    TrainOptions o;
    o.epochs = rounds + 1;  // the first epoch warms up (allocator, oneDNN primitives) and is not counted
    o.batch_size = batch;
    o.learning_rate = 0.01;
    o.threads = threads;
    o.max_steps_per_epoch = static_cast<size_t>(steps);
    std::vector<double> rates;
    trainModel(model, data, nullptr, o, nullptr, [&](const EpochStats& s) {
      if (s.epoch > 1) rates.push_back(s.examples_per_second);
    });
    const double ours = median(rates);

    char cmd[512];
    std::snprintf(cmd, sizeof cmd,
                  "/usr/bin/python3 %s/train_throughput_torch.py --arch %s --batch %d --threads %d "
                  "--steps %d --rounds %d --image %d --channels 1",
                  EDGETUNE_BENCH_DIR, arch.c_str(), batch, threads, steps, rounds, image);
    double theirs = 0;
    if (FILE* p = ::popen(cmd, "r")) {
      char line[256];
      while (std::fgets(line, sizeof line, p))
        if (std::sscanf(line, "images_per_second %lf", &theirs) == 1) break;
      ::pclose(p);
    }
    std::printf("arch %s, batch %d, threads %d, input 1x%dx%d, %d steps x %d rounds (medians)\n", arch.c_str(), batch,
                threads, image, image, steps, rounds);
    std::printf("interpreter training  %8.1f images/s\n", ours);
    if (theirs > 0) {
      std::printf("PyTorch eager         %8.1f images/s\n", theirs);
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
