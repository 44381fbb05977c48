// The dataset-spec grammar (core/data/spec.cpp: FORMAT:PATH?key=value&...) and every format's keys, as the
// CLI's --data and a recipe's datasets: take them.
//
// Input framing: byte 0 picks the mode, the rest is text.
//   mode 0  the text is a whole spec, only parsed (datasetSpecFiles, trainingSplitSpec): no file is opened.
//   mode 1+ the text is the query of a spec whose FORMAT:PATH is a tiny fixture this target wrote (an IDX
//           folder or file, a CIFAR-10 folder or batch, an image folder, CSV, JSONL, SpamAssassin, aclImdb),
//           opened with openDataset and read. The text formats get &vocab= appended (so a second vocab= is
//           refused as a duplicate key and never names a file of the fuzzer's choosing).
// trainingSplitSpec must give a spec that parses to the same files, and a dataset that opens must read.
#include <array>
#include <filesystem>
#include <string>

#include "core/data/dataset.h"
#include "core/data/readers.h"
#include "fuzz_datasets.h"

namespace fs = std::filesystem;
using namespace edgetune;

namespace {

std::string idxFile(uint32_t magic, std::initializer_list<uint32_t> dims, size_t data_bytes) {
  std::string bytes;
  const auto put = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((v >> shift) & 0xFF);
  };
  put(magic);
  for (uint32_t d : dims) put(d);
  for (size_t i = 0; i < data_bytes; ++i) bytes += static_cast<char>(i % 10);  // pixels; labels 0..9
  return bytes;
}

// The fixtures, written once: FORMAT:PATH for each open mode.
const std::array<std::string, 10>& fixtures() {
  static const std::array<std::string, 10> specs = [] {
    const fs::path& dir = fuzz::fixedDir();
    for (const char* split : {"train", "t10k"}) {
      fuzz::writeBytes(dir / "idx" / (std::string(split) + "-images-idx3-ubyte"),
                       idxFile(0x803, {6, 2, 2}, 24));
      fuzz::writeBytes(dir / "idx" / (std::string(split) + "-labels-idx1-ubyte"), idxFile(0x801, {6}, 6));
    }
    const std::string cat = '\x03' + std::string(3072, '\x80'), horse = '\x07' + std::string(3072, '\x40');
    for (const char* batch : {"data_batch_1.bin", "data_batch_2.bin", "test_batch.bin"})
      fuzz::writeBytes(dir / "cifar" / batch, cat + horse);
    for (const char* cls : {"cat", "dog"})
      for (const char* split : {"train", "test"})
        fuzz::writeBytes(dir / "images" / split / cls / "a.pgm",
                         std::string("P5\n2 2\n255\n\x01\x02\x03\x04", 15));
    fuzz::writeBytes(dir / "reviews.csv", "text,label\ngood movie,1\nbad movie,0\n\"free, money\",1\n");
    fuzz::writeBytes(dir / "mails.jsonl",
                     "{\"text\": \"free money\", \"label\": \"spam\"}\n"
                     "{\"text\": \"the movie\", \"label\": \"ham\"}\n");
    fuzz::writeBytes(dir / "spam" / "data" / "spam-1" / "00001.a.json",
                     "{\"text\": \"Subject: free\\n\\nmoney\"}");
    fuzz::writeBytes(dir / "spam" / "data" / "easy-ham-1" / "00002.b.json", "{\"text\": \"the movie\"}");
    for (const char* split : {"train", "test"})
      for (const char* label : {"neg", "pos"})
        fuzz::writeBytes(dir / "imdb" / split / label / "0_1.txt",
                         std::string("a ") + label + "<br />review");
    return std::array<std::string, 10>{
        "",  // mode 0: the text is the spec
        "idx:" + (dir / "idx").string(),
        "idx:" + (dir / "idx" / "t10k-images-idx3-ubyte").string(),
        "cifar10:" + (dir / "cifar").string(),
        "cifar10:" + (dir / "cifar" / "test_batch.bin").string(),
        "imagefolder:" + (dir / "images").string(),
        "csv:" + (dir / "reviews.csv").string(),
        "jsonl:" + (dir / "mails.jsonl").string(),
        "spamassassin:" + (dir / "spam").string(),
        "imdb:" + (dir / "imdb").string(),
    };
  }();
  return specs;
}

bool isTextSpec(const std::string& spec) {
  for (const char* format : {"csv:", "jsonl:", "spamassassin:", "imdb:"})
    if (spec.rfind(format, 0) == 0) return true;
  return false;
}

// The parse-only functions; a spec they accept must come back from trainingSplitSpec naming the same files.
void parseOnly(const std::string& spec) {
  DatasetSpecFiles files;
  if (!fuzz::accepted([&] { files = datasetSpecFiles(spec); })) return;
  for (const auto part : {TrainingSplitPart::Train, TrainingSplitPart::Validation}) {
    std::string split;
    if (!fuzz::accepted([&] { split = trainingSplitSpec(spec, part, 3, 42); })) continue;
    DatasetSpecFiles split_files;
    fuzz::require(fuzz::accepted([&] { split_files = datasetSpecFiles(split); }),
                  "trainingSplitSpec gives a spec that parses");
    fuzz::require(split_files.data == files.data && split_files.vocab == files.vocab,
                  "trainingSplitSpec keeps the spec's files");
  }
}

// True if every split= in `query` names one of the fixture's folders.
bool onlyFixtureSplits(const std::string& query) {
  for (size_t at = query.find("split="); at != std::string::npos; at = query.find("split=", at + 1)) {
    const size_t end = std::min(query.find('&', at), query.size());
    const std::string value = query.substr(at + 6, end - at - 6);
    if (value != "train" && value != "test") return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto& specs = fixtures();
  const size_t mode = data[0] % specs.size();
  const std::string text(fuzz::bytesOf(data + 1, size - 1));
  if (mode == 0) {
    parseOnly(text);
    return 0;
  }
  std::string spec = specs[mode] + "?" + text;
  if (isTextSpec(spec)) spec += "&vocab=" + fuzz::tinyVocab().string();
  // split= of an image folder is a folder name under PATH ("../.." included): the fuzzer must not go
  // listing and decoding the machine's files.
  if (mode == 5 && !onlyFixtureSplits(text)) return 0;
  parseOnly(spec);
  fuzz::accepted([&] { fuzz::readExamples(*openDataset(spec)); });
  if (isTextSpec(spec)) fuzz::accepted([&] { (void)readTextCorpus(spec); });
  return 0;
}
