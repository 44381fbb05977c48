#pragma once
// The width and height an image file declares, read from its header without decoding it: the image-folder
// reader checks them against a pixel limit before a decoder allocates the image (a 2.6 MB PNG can declare
// 30000 x 30000 pixels, 2.7 GB once decoded).
#include <cstdint>
#include <optional>
#include <string_view>

namespace edgetune {

struct ImageDimensions {
  uint64_t width = 0;
  uint64_t height = 0;
};

/// The most pixels (width x height) an image may declare: 8192 x 8192, far above what a classifier is fed
/// and about 200 MB decoded as 8-bit RGB.
inline constexpr uint64_t kMaxImagePixels = uint64_t{8192} * 8192;

/// The dimensions declared by a PNG, JPEG, BMP, PNM (PBM/PGM/PPM), TIFF or WebP file's header; nullopt if
/// `bytes` is none of these or its header is cut short or malformed.
std::optional<ImageDimensions> readImageDimensions(std::string_view bytes);

}  // namespace edgetune
