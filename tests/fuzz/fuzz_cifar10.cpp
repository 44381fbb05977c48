// The CIFAR-10 binary reader through openDataset, as `eval --data cifar10:FILE` opens it: 3073-byte records,
// labels checked against the class names of batches.meta.txt beside the batch (when there is one).
//
// Input framing: bytes 0-1 = the length M of batches.meta.txt (little-endian; 0 = no such file), then M
// bytes of it, then the batch file.
#include <string>

#include "core/data/dataset.h"
#include "fuzz_datasets.h"

using namespace edgetune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t meta_size = std::min(fuzz::readU16(data), size - 2);
  const auto& dir = fuzz::freshInputDir();
  if (meta_size > 0) fuzz::writeBytes(dir / "batches.meta.txt", fuzz::bytesOf(data + 2, meta_size));
  fuzz::writeBytes(dir / "data_batch_1.bin", fuzz::bytesOf(data + 2 + meta_size, size - 2 - meta_size));
  fuzz::accepted([&] { fuzz::readExamples(*openDataset("cifar10:" + (dir / "data_batch_1.bin").string())); });
  return 0;
}
