#pragma once
// What the dataset fuzz targets share: a tiny WordPiece vocabulary for the text formats, and a pass over a
// dataset that opened which touches every example the way training and evaluation do.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "core/data/dataset.h"
#include "fuzz_common.h"

namespace edgetune::fuzz {

/// A vocab.txt of the special tokens, the printable ASCII characters (as "c" and "##c", so any ASCII word
/// encodes) and a few words, written once. Tiny on purpose: a text spec reads it on every input.
inline const std::filesystem::path& tinyVocab() {
  static const std::filesystem::path path = [] {
    std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    for (char c = '!'; c <= '~'; ++c) vocab += std::string(1, c) + "\n##" + std::string(1, c) + "\n";
    for (const char* word : {"the", "spam", "free", "money", "movie", "good", "bad", "##ing", "##s"})
      vocab += std::string(word) + "\n";
    const std::filesystem::path file = fixedDir() / "vocab.txt";
    writeBytes(file, vocab);
    return file;
  }();
  return path;
}

/// Reads examples of an opened dataset the way the trainer and the evaluator do, and checks what Dataset
/// promises: every example's features line up with features() (type and shape), labels index classNames(),
/// and an index past the end is refused with Error (never read). Bounded so a large input stays fast; the
/// last example is always read, since an off-by-one in a reader shows there.
inline void readExamples(const Dataset& dataset) {
  const size_t size = dataset.size();
  const auto features = dataset.features();
  const size_t classes = dataset.classNames().size();
  (void)dataset.name();
  const auto check = [&](size_t index) {
    const Example example = dataset.get(index);
    require(example.features.size() == features.size(), "example has as many features as features() says");
    for (size_t f = 0; f < features.size(); ++f) {
      require(example.features[f].type() == features[f].type, "feature type as features() says");
      require(example.features[f].shape() == features[f].shape, "feature shape as features() says");
    }
    require(example.label >= 0 && static_cast<size_t>(example.label) < classes, "label indexes classNames()");
  };
  constexpr size_t kMaxExamples = 256;
  for (size_t i = 0; i < std::min(size, kMaxExamples); ++i) check(i);
  if (size > kMaxExamples) check(size - 1);
  require(!accepted([&] { dataset.get(size); }), "get(size()) is refused");
  if (size > 0) (void)makeBatch(dataset, 0, std::min<size_t>(size, 4));
}

}  // namespace edgetune::fuzz
