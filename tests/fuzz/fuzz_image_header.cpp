// The image header reader (readImageDimensions) that guards the image-folder reader's pixel limit, and that
// reader itself on the same file. The limit only holds if the decoder never makes a larger image than the
// header reader declared, so a decode by OpenCV (the reader's decoder, with its flags) is checked against it.
// The input is the image file.
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <string>

#include "core/data/dataset.h"
#include "core/data/image_header.h"
#include "fuzz_datasets.h"

using namespace edgetune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = fuzz::bytesOf(data, size);
  const std::optional<ImageDimensions> declared = readImageDimensions(bytes);
  // Decoding is what the header check exists to avoid for large images; fuzzing stays on small ones.
  constexpr uint64_t kMaxDecodedPixels = uint64_t{1} << 20;
  if (!declared || declared->width == 0 || declared->height == 0 || declared->width > kMaxDecodedPixels ||
      declared->height > kMaxDecodedPixels || declared->width * declared->height > kMaxDecodedPixels)
    return 0;
  const uint64_t declared_pixels = declared->width * declared->height;
  for (const int flags : {cv::IMREAD_COLOR, cv::IMREAD_GRAYSCALE}) {
    try {
      const cv::Mat encoded(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
      const cv::Mat image = cv::imdecode(encoded, flags);
      fuzz::require(image.empty() || static_cast<uint64_t>(image.rows) * image.cols <= declared_pixels,
                    "the decoder makes no more pixels than readImageDimensions declared");
    } catch (const cv::Exception&) {
      // OpenCV refusing the bytes is its business; the reader's handling of that is checked below.
    }
  }
  const auto& dir = fuzz::freshInputDir();
  fuzz::writeBytes(dir / "images" / "cat" / "image.png", bytes);
  for (const char* channels : {"3", "1"})
    fuzz::accepted([&] {
      fuzz::readExamples(
          *openDataset("imagefolder:" + (dir / "images").string() + "?size=8&channels=" + channels));
    });
  return 0;
}
