// The CSV text reader through openDataset, as `eval --data csv:FILE?vocab=...` opens it: RFC 4180 quoting,
// the header's text and label columns, integer or string labels, then tokenization into the BERT inputs.
// The input is the CSV file.
#include <string>

#include "core/data/dataset.h"
#include "fuzz_datasets.h"

using namespace edgetune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = fuzz::freshInputDir() / "reviews.csv";
  fuzz::writeBytes(file, fuzz::bytesOf(data, size));
  const std::string spec = "csv:" + file.string() + "?vocab=" + fuzz::tinyVocab().string() + "&seq_len=16";
  fuzz::accepted([&] { fuzz::readExamples(*openDataset(spec)); });
  return 0;
}
