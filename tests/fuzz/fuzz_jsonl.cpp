// The JSON Lines text reader through openDataset, as `eval --data jsonl:FILE?vocab=...` opens it: one object
// a line with a string "text" and an integer or string "label", then tokenization into the BERT inputs.
// The input is the .jsonl file.
#include <string>

#include "core/data/dataset.h"
#include "fuzz_datasets.h"

using namespace edgetune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = fuzz::freshInputDir() / "mails.jsonl";
  fuzz::writeBytes(file, fuzz::bytesOf(data, size));
  const std::string spec = "jsonl:" + file.string() + "?vocab=" + fuzz::tinyVocab().string() + "&seq_len=16";
  fuzz::accepted([&] { fuzz::readExamples(*openDataset(spec)); });
  return 0;
}
