// The seeded epoch order and augmented batches of training (training_batches.h).
#include "core/train/training_batches.h"

#include <algorithm>

namespace edgetune {
namespace {

// Random crop from the image padded by `pad` pixels, then a random horizontal flip. Padding takes each
// channel's darkest value: the normalized value of a black pixel for images with a black background (as
// Fashion-MNIST), where a literal 0 would be mid-grey after normalization.
void augmentImage(Tensor& image, const AugmentOptions& options, uint64_t rng) {
  const auto& shape = image.shape();
  const int64_t channels = shape[0], height = shape[1], width = shape[2];
  const int64_t pad = options.crop_padding;
  const int64_t oy =
      pad > 0 ? static_cast<int64_t>(mix(rng, 1) % static_cast<uint64_t>(2 * pad + 1)) - pad : 0;
  const int64_t ox =
      pad > 0 ? static_cast<int64_t>(mix(rng, 2) % static_cast<uint64_t>(2 * pad + 1)) - pad : 0;
  const bool flip = options.horizontal_flip && (mix(rng, 3) & 1);
  if (oy == 0 && ox == 0 && !flip) return;
  auto values = image.values<float>();
  std::vector<float> plane(static_cast<size_t>(height * width));
  for (int64_t c = 0; c < channels; ++c) {
    float* src = values.data() + c * height * width;
    std::copy(src, src + height * width, plane.begin());
    const float fill = *std::min_element(plane.begin(), plane.end());
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x) {
        const int64_t sy = y + oy, sx = (flip ? width - 1 - x : x) + ox;
        src[y * width + x] = sy >= 0 && sy < height && sx >= 0 && sx < width
                                 ? plane[static_cast<size_t>(sy * width + sx)]
                                 : fill;
      }
  }
}

}  // namespace

uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
uint64_t mix(uint64_t a, uint64_t b) {
  return mix(a ^ mix(b + 0x632BE59BD9B4E019ull));
}
uint64_t mix(uint64_t a, uint64_t b, uint64_t c) {
  return mix(mix(a, b), c);
}

std::vector<size_t> epochOrder(size_t n, uint64_t seed, int epoch) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  uint64_t state = mix(seed, 0x5EED, static_cast<uint64_t>(epoch));
  for (size_t i = n; i > 1; --i) {
    state = mix(state);
    std::swap(order[i - 1], order[state % i]);
  }
  return order;
}

Batch assembleBatch(const Dataset& dataset, const std::vector<size_t>& indices, const AugmentOptions& augment,
                    uint64_t seed, int epoch) {
  std::vector<Example> examples;
  examples.reserve(indices.size());
  for (size_t index : indices) {
    Example e = dataset.get(index);
    if (augment.enabled)
      for (auto& f : e.features)
        if (f.type() == DataType::Float32 && f.shape().size() == 3)
          augmentImage(f, augment, mix(seed, static_cast<uint64_t>(epoch), index));
    examples.push_back(std::move(e));
  }
  Batch batch;
  const auto infos = dataset.features();
  for (size_t f = 0; f < infos.size(); ++f) {
    std::vector<Tensor> items;
    items.reserve(examples.size());
    for (auto& e : examples) items.push_back(std::move(e.features[f]));
    batch.features.push_back({infos[f].name, stack(items)});
  }
  for (const auto& e : examples) batch.labels.push_back(e.label);
  return batch;
}

}  // namespace edgetune
