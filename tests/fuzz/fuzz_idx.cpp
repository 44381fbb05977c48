// The IDX reader (MNIST / Fashion-MNIST) through openDataset, as `eval --data idx:FILE` opens it: header
// checks, the gzip path that must not inflate past what the header promises, images against labels.
//
// Input framing: byte 0 = flags (bit 0: gzip the images file, bit 1: gzip the labels file, bit 2: classes=
// fashion-mnist instead of mnist), bytes 1-2 = the labels file's length L (little-endian), then L bytes of
// labels file, then the images file. Gzip is applied here so that the decoder sees valid streams with
// hostile content; raw bytes starting 1f 8b reach it as corrupt streams.
#include <zlib.h>

#include <string>

#include "core/data/dataset.h"
#include "fuzz_datasets.h"

using namespace edgetune;

namespace {

std::string gzip(std::string_view bytes) {
  z_stream zs{};
  fuzz::require(deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK,
                "zlib initialises");
  std::string out(deflateBound(&zs, static_cast<uLong>(bytes.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  fuzz::require(deflate(&zs, Z_FINISH) == Z_STREAM_END, "zlib compresses into deflateBound bytes");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t flags = data[0];
  const size_t labels_size = std::min(fuzz::readU16(data + 1), size - 3);
  const std::string_view labels = fuzz::bytesOf(data + 3, labels_size);
  const std::string_view images = fuzz::bytesOf(data + 3 + labels_size, size - 3 - labels_size);

  const auto& dir = fuzz::freshInputDir();
  fuzz::writeBytes(dir / "x-images-idx3-ubyte", (flags & 1) ? gzip(images) : std::string(images));
  fuzz::writeBytes(dir / "x-labels-idx1-ubyte", (flags & 2) ? gzip(labels) : std::string(labels));
  const std::string spec =
      "idx:" + (dir / "x-images-idx3-ubyte").string() + ((flags & 4) ? "?classes=fashion-mnist" : "");
  fuzz::accepted([&] { fuzz::readExamples(*openDataset(spec)); });
  return 0;
}
