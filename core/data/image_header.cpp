// Header parsers for the image formats the image-folder reader accepts. Each reads only the fields that give
// the size, from the formats' public specifications, and treats every offset as untrusted.
#include "core/data/image_header.h"

#include <cctype>

namespace edgetune {
namespace {

// Bounds-checked readers: empty or nullopt past the end of the bytes.
std::string_view field(std::string_view b, size_t at, size_t width) {
  return at > b.size() ? std::string_view() : b.substr(at, width);
}
std::optional<uint64_t> bigEndian(std::string_view b, size_t at, size_t width) {
  if (at > b.size() || b.size() - at < width) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}
std::optional<uint64_t> littleEndian(std::string_view b, size_t at, size_t width) {
  if (at > b.size() || b.size() - at < width) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = width; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

std::optional<ImageDimensions> dimensions(std::optional<uint64_t> width, std::optional<uint64_t> height) {
  if (!width || !height) return std::nullopt;
  return ImageDimensions{*width, *height};
}

// PNG: the IHDR chunk comes first, right after the 8-byte signature.
std::optional<ImageDimensions> png(std::string_view b) {
  if (field(b, 12, 4) != "IHDR") return std::nullopt;
  return dimensions(bigEndian(b, 16, 4), bigEndian(b, 20, 4));
}

// JPEG: walk the marker segments to the first start-of-frame (SOF0..SOF15 but DHT, JPG and DAC).
std::optional<ImageDimensions> jpeg(std::string_view b) {
  size_t at = 2;
  while (at + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[at]) != 0xFF) return std::nullopt;
    const auto marker = static_cast<unsigned char>(b[at + 1]);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // standalone markers carry no length
      at += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // end of image or scan data before a frame
    const std::optional<uint64_t> length = bigEndian(b, at + 2, 2);
    if (!length || *length < 2) return std::nullopt;
    const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame) return dimensions(bigEndian(b, at + 7, 2), bigEndian(b, at + 5, 2));  // height comes first
    at += 2 + static_cast<size_t>(*length);
  }
  return std::nullopt;
}

// BMP: the DIB header after the 14-byte file header; OS/2 1.x headers (12 bytes) hold 16-bit sizes, the
// others signed 32-bit ones (a negative height means top-down rows).
std::optional<ImageDimensions> bmp(std::string_view b) {
  const std::optional<uint64_t> header_size = littleEndian(b, 14, 4);
  if (!header_size) return std::nullopt;
  if (*header_size == 12) return dimensions(littleEndian(b, 18, 2), littleEndian(b, 20, 2));
  const std::optional<uint64_t> width = littleEndian(b, 18, 4), height = littleEndian(b, 22, 4);
  if (!width || !height) return std::nullopt;
  const auto magnitude = [](uint64_t v) {
    const auto s = static_cast<int32_t>(static_cast<uint32_t>(v));
    return s < 0 ? -static_cast<int64_t>(s) : static_cast<int64_t>(s);
  };
  return ImageDimensions{static_cast<uint64_t>(magnitude(*width)), static_cast<uint64_t>(magnitude(*height))};
}

// PNM: "P1".."P6", then width and height as ASCII decimals separated by whitespace and '#' comments.
std::optional<ImageDimensions> pnm(std::string_view b) {
  size_t at = 2;
  const auto number = [&]() -> std::optional<uint64_t> {
    while (at < b.size()) {
      if (b[at] == '#') {
        while (at < b.size() && b[at] != '\n' && b[at] != '\r') ++at;
      } else if (std::isspace(static_cast<unsigned char>(b[at]))) {
        ++at;
      } else {
        break;
      }
    }
    uint64_t v = 0;
    size_t digits = 0;
    for (; at < b.size() && std::isdigit(static_cast<unsigned char>(b[at])); ++at, ++digits) {
      if (digits == 12) return std::nullopt;  // far past any real size; stops overflow
      v = v * 10 + static_cast<uint64_t>(b[at] - '0');
    }
    if (digits == 0) return std::nullopt;
    // "2#2": decoders disagree whether that is a comment or a separator (OpenCV reads a second 2), so a
    // size glued to a comment is refused rather than guessed.
    if (at < b.size() && b[at] == '#') return std::nullopt;
    return v;
  };
  const std::optional<uint64_t> width = number();
  const std::optional<uint64_t> height = width ? number() : std::nullopt;
  return dimensions(width, height);
}

// TIFF: the first image file directory's ImageWidth (256) and ImageLength (257) entries, SHORT or LONG.
std::optional<ImageDimensions> tiff(std::string_view b) {
  const bool little = b[0] == 'I';
  const auto read = [&](size_t at, size_t width) {
    return little ? littleEndian(b, at, width) : bigEndian(b, at, width);
  };
  const std::optional<uint64_t> directory = read(4, 4);
  if (!directory) return std::nullopt;
  const std::optional<uint64_t> entries = read(static_cast<size_t>(*directory), 2);
  if (!entries) return std::nullopt;
  std::optional<uint64_t> width, height;
  for (uint64_t e = 0; e < *entries; ++e) {
    const size_t entry = static_cast<size_t>(*directory + 2 + 12 * e);
    const std::optional<uint64_t> tag = read(entry, 2), type = read(entry + 2, 2);
    if (!tag || !type) return std::nullopt;
    if (*tag != 256 && *tag != 257) continue;
    std::optional<uint64_t> value;
    if (*type == 3) value = read(entry + 8, 2);  // SHORT, left-justified in the 4-byte value field
    if (*type == 4) value = read(entry + 8, 4);  // LONG
    std::optional<uint64_t>& slot = *tag == 256 ? width : height;
    // A repeated entry: which one a decoder uses is its choice, so no size can be promised.
    if (slot) return std::nullopt;
    slot = value;
  }
  return dimensions(width, height);
}

// WebP: a RIFF container whose first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended).
std::optional<ImageDimensions> webp(std::string_view b) {
  const std::string_view chunk = field(b, 12, 4);
  if (chunk == "VP8 ") {  // frame tag (3), start code 9d 01 2a (3), then 14-bit width and height
    const std::optional<uint64_t> width = littleEndian(b, 26, 2), height = littleEndian(b, 28, 2);
    if (!width || !height) return std::nullopt;
    return ImageDimensions{*width & 0x3FFF, *height & 0x3FFF};
  }
  if (chunk == "VP8L") {  // signature 0x2f, then width - 1 and height - 1 in 14 bits each
    const std::optional<uint64_t> bits = littleEndian(b, 21, 4);
    if (!bits) return std::nullopt;
    return ImageDimensions{(*bits & 0x3FFF) + 1, ((*bits >> 14) & 0x3FFF) + 1};
  }
  if (chunk == "VP8X") {  // flags (4), then canvas width - 1 and height - 1 in 24 bits each
    const std::optional<uint64_t> width = littleEndian(b, 24, 3), height = littleEndian(b, 27, 3);
    if (!width || !height) return std::nullopt;
    return ImageDimensions{*width + 1, *height + 1};
  }
  return std::nullopt;
}

}  // namespace

std::optional<ImageDimensions> readImageDimensions(std::string_view bytes) {
  if (bytes.size() < 8) return std::nullopt;
  if (bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) return png(bytes);
  if (bytes.substr(0, 2) == "\xFF\xD8") return jpeg(bytes);
  if (bytes.substr(0, 2) == "BM") return bmp(bytes);
  if (bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '6') return pnm(bytes);
  if (bytes.substr(0, 4) == std::string_view("II*\0", 4) ||
      bytes.substr(0, 4) == std::string_view("MM\0*", 4))
    return tiff(bytes);
  if (bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") return webp(bytes);
  return std::nullopt;
}

}  // namespace edgetune
