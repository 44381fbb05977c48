// The SpamAssassin corpus reader through openDataset: one mail as a JSON file (fields id, group, checksum,
// text) in one of the corpus's group folders, read raw or as Subject + From + body (mailSubjectAndBody, the
// RFC 822 header unfolding), then tokenized.
//
// Input framing: byte 0 = flags (bit 0: mail=body; bits 1-3: the group folder, easy-ham-1 ... spam-2), then
// the .json file.
#include <string>

#include "core/data/readers.h"
#include "fuzz_datasets.h"

using namespace edgetune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* const kGroups[] = {"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"};
  const uint8_t flags = data[0];
  const std::string_view mail = fuzz::bytesOf(data + 1, size - 1);
  const auto& dir = fuzz::freshInputDir();
  fuzz::writeBytes(dir / "data" / kGroups[((flags >> 1) & 7) % 5] / "00001.0123456789abcdef.json", mail);
  const std::string spec = "spamassassin:" + dir.string() + "?vocab=" + fuzz::tinyVocab().string() +
                           "&seq_len=16" + ((flags & 1) ? "&mail=body" : "");
  fuzz::accepted([&] { fuzz::readExamples(*openDataset(spec)); });
  // The header parser on its own, on the raw bytes (the JSON above hides most of them inside a string).
  (void)mailSubjectAndBody(std::string(mail));
  return 0;
}
