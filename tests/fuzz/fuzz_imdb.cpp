// The aclImdb reader through openDataset: a split folder with neg/*.txt and pos/*.txt reviews ("<br />"
// read as a line break), then tokenized.
//
// Input framing: the reviews, separated by NUL bytes; the first half go to neg/, the rest to pos/ (a split
// with one review has an empty pos/, which must be refused).
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "fuzz_datasets.h"

using namespace edgetune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = fuzz::bytesOf(data, size);
  std::vector<std::string_view> reviews;
  for (size_t start = 0; reviews.size() < 16;) {
    const size_t end = std::min(input.find('\0', start), input.size());
    reviews.push_back(input.substr(start, end - start));
    if (end == input.size()) break;
    start = end + 1;
  }
  const auto split = fuzz::freshInputDir() / "train";
  std::filesystem::create_directories(split / "neg");
  std::filesystem::create_directories(split / "pos");
  for (size_t i = 0; i < reviews.size(); ++i)
    fuzz::writeBytes(split / (i < reviews.size() / 2 ? "neg" : "pos") / (std::to_string(i) + "_7.txt"),
                     reviews[i]);
  const std::string spec = "imdb:" + split.string() + "?vocab=" + fuzz::tinyVocab().string() + "&seq_len=16";
  fuzz::accepted([&] { fuzz::readExamples(*openDataset(spec)); });
  return 0;
}
