// Image datasets: IDX and CIFAR-10 binaries (held as uint8, normalized on get()) and image folders (decoded
// on get()).
#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/data/image_header.h"
#include "core/data/readers.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/util/format.h"

namespace edgetune {
namespace fs = std::filesystem;

const std::vector<std::string>& fashionMnistClassNames() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}
const std::vector<std::string>& cifar10ClassNames() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                 "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}
Normalization fashionMnistNormalization() {
  return {{0.2860f}, {0.3530f}};
}
Normalization mnistNormalization() {
  return {{0.1307f}, {0.3081f}};
}
Normalization cifar10Normalization() {
  return {{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}};
}
Normalization imagenetNormalization() {
  return {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
}

namespace {

// Expands a 1-value normalization to `channels` and checks it; `what` names the dataset in errors.
Normalization perChannel(const Normalization& n, int64_t channels, const std::string& what) {
  const auto expand = [&](const std::vector<float>& values, const char* key) {
    if (values.size() == 1) return std::vector<float>(static_cast<size_t>(channels), values[0]);
    if (values.size() != static_cast<size_t>(channels))
      throw Error(what + ": " + key + " has " + std::to_string(values.size()) + " values, the images have " +
                  std::to_string(channels) + " channels");
    return values;
  };
  Normalization out{expand(n.mean, "mean"), expand(n.std, "std")};
  for (float s : out.std)
    if (!(s > 0.0f)) throw Error(what + ": std values must be positive");
  return out;
}

// Images held as uint8 [N, C, H, W]; get() converts one to normalized float32 [C, H, W].
class ByteImageDataset : public Dataset {
 public:
  ByteImageDataset(std::string name, std::vector<uint8_t> pixels, std::vector<uint8_t> labels,
                   std::vector<int64_t> shape, std::vector<std::string> class_names,
                   const Normalization& norm)
      : name_(std::move(name)),
        pixels_(std::move(pixels)),
        labels_(std::move(labels)),
        shape_(std::move(shape)),
        class_names_(std::move(class_names)),
        norm_(perChannel(norm, shape_[0], name_)) {
    plane_ = static_cast<size_t>(shape_[1] * shape_[2]);
    for (size_t c = 0; c < norm_.mean.size(); ++c) {
      scale_.push_back(1.0f / (255.0f * norm_.std[c]));
      offset_.push_back(-norm_.mean[c] / norm_.std[c]);
    }
  }
  std::string name() const override { return name_; }
  size_t size() const override { return labels_.size(); }
  Example get(size_t index) const override {
    if (index >= labels_.size())
      throw Error(name_ + ": example index " + std::to_string(index) + " is out of range");
    Tensor image(DataType::Float32, shape_);
    auto out = image.values<float>();
    const uint8_t* src = pixels_.data() + index * plane_ * scale_.size();
    for (size_t c = 0; c < scale_.size(); ++c)
      for (size_t i = 0; i < plane_; ++i)
        out[c * plane_ + i] = static_cast<float>(src[c * plane_ + i]) * scale_[c] + offset_[c];
    Example e;
    e.features.push_back(std::move(image));
    e.label = labels_[index];
    return e;
  }
  std::vector<FeatureInfo> features() const override { return {{"image", DataType::Float32, shape_}}; }
  std::vector<std::string> classNames() const override { return class_names_; }

 private:
  std::string name_;
  std::vector<uint8_t> pixels_;
  std::vector<uint8_t> labels_;
  std::vector<int64_t> shape_;  // [C, H, W]
  std::vector<std::string> class_names_;
  Normalization norm_;
  size_t plane_ = 0;
  std::vector<float> scale_, offset_;
};

uint32_t bigEndian32(std::string_view bytes, size_t offset) {
  const auto b = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[offset + i]));
  };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

// The most an IDX file may hold once inflated: it is held whole in memory, as a std::string.
constexpr uint64_t kMaxIdxBytes = kDefaultReadLimitBytes;

struct IdxContent {
  std::vector<uint32_t> dims;
  std::string bytes;  // the header and the data
};

// Parses an IDX header of `rank` dimensions; returns them, and in `total_bytes` the size the whole file must
// have. Checked without overflow and against kMaxIdxBytes, so a header can never make the reader allocate
// more.
std::vector<uint32_t> idxHeader(std::string_view bytes, const fs::path& path, uint32_t rank,
                                uint64_t& total_bytes) {
  if (bytes.size() < 4)
    throw Error(path.string() + ": not an IDX file (only " + std::to_string(bytes.size()) + " bytes)");
  const uint32_t magic = bigEndian32(bytes, 0);
  if ((magic >> 16) != 0 || ((magic >> 8) & 0xFF) != 0x08)
    throw Error(path.string() + ": not an IDX uint8 file (magic number 0x" + [&] {
      char hex[9];
      std::snprintf(hex, sizeof hex, "%08x", magic);
      return std::string(hex);
    }() + ")");
  if ((magic & 0xFF) != rank)
    throw Error(path.string() + ": IDX file has " + std::to_string(magic & 0xFF) + " dimensions, expected " +
                std::to_string(rank) + (rank == 3 ? " (images)" : " (labels)"));
  if (bytes.size() < 4 + 4 * rank)
    throw Error(path.string() + ": truncated IDX header (" + std::to_string(bytes.size()) + " bytes)");
  std::vector<uint32_t> dims;
  for (uint32_t d = 0; d < rank; ++d) dims.push_back(bigEndian32(bytes, 4 + 4 * d));
  uint64_t example_bytes = 1;  // at most 65536^2: the per-image dimensions are bounded below
  for (uint32_t d = 1; d < rank; ++d) {
    if (dims[d] == 0 || dims[d] > 65536)
      throw Error(path.string() + ": implausible image dimension " + std::to_string(dims[d]));
    example_bytes *= dims[d];
  }
  const uint64_t header_bytes = 4 + 4 * rank;
  if (dims[0] > (kMaxIdxBytes - header_bytes) / example_bytes)
    throw Error(path.string() + ": the header promises " + std::to_string(dims[0]) + " examples of " +
                std::to_string(example_bytes) + " bytes, more than the " +
                formatBytes(static_cast<int64_t>(kMaxIdxBytes)) + " an IDX file may hold");
  total_bytes = header_bytes + dims[0] * example_bytes;
  return dims;
}

// Reads an IDX file (raw or gzip): the header is checked first, and a gzip stream is inflated no further
// than the header promises.
IdxContent readIdx(const fs::path& path, uint32_t rank) {
  IdxContent idx;
  uint64_t expected = 0;
  idx.bytes = readMaybeGzipped(path, 4 + 4 * rank, [&](std::string_view header) {
    idx.dims = idxHeader(header, path, rank, expected);
    return expected;
  });
  if (idx.bytes.size() < expected)
    throw Error(path.string() + ": truncated: " + std::to_string(idx.bytes.size()) +
                " bytes, the header promises " + std::to_string(expected));
  return idx;
}

}  // namespace

std::shared_ptr<const Dataset> openIdx(const fs::path& images, const fs::path& labels,
                                       const IdxOptions& options) {
  const IdxContent image_idx = readIdx(images, 3);
  const std::vector<uint32_t>& image_dims = image_idx.dims;
  const std::string& image_bytes = image_idx.bytes;
  const IdxContent label_idx = readIdx(labels, 1);
  const std::vector<uint32_t>& label_dims = label_idx.dims;
  const std::string& label_bytes = label_idx.bytes;
  if (image_dims[0] != label_dims[0])
    throw Error(images.string() + " holds " + std::to_string(image_dims[0]) + " images but " +
                labels.string() + " holds " + std::to_string(label_dims[0]) + " labels");
  std::vector<uint8_t> label_values(label_bytes.begin() + 8, label_bytes.end());
  std::vector<std::string> class_names = options.class_names;
  const uint8_t max_label =
      label_values.empty() ? 0 : *std::max_element(label_values.begin(), label_values.end());
  if (class_names.empty()) {
    for (int c = 0; c <= max_label; ++c) class_names.push_back(std::to_string(c));
  } else if (max_label >= class_names.size()) {
    size_t at = static_cast<size_t>(std::find(label_values.begin(), label_values.end(), max_label) -
                                    label_values.begin());
    throw Error(labels.string() + ": label " + std::to_string(max_label) + " of example " +
                std::to_string(at) + " is out of range (" + std::to_string(class_names.size()) + " classes)");
  }
  std::vector<uint8_t> pixels(image_bytes.begin() + 16, image_bytes.end());
  const std::string name = options.name + " (" + std::to_string(label_values.size()) + " images)";
  return std::make_shared<ByteImageDataset>(name, std::move(pixels), std::move(label_values),
                                            std::vector<int64_t>{1, image_dims[1], image_dims[2]},
                                            std::move(class_names), options.normalization);
}

std::shared_ptr<const Dataset> openCifar10(const std::vector<fs::path>& batch_files,
                                           const Cifar10Options& options) {
  constexpr size_t kImageBytes = 3 * 32 * 32;
  constexpr size_t kRecordBytes = 1 + kImageBytes;
  if (batch_files.empty()) throw Error(options.name + ": no CIFAR-10 batch files given");
  std::vector<std::string> class_names = options.class_names;
  if (class_names.empty()) {
    fs::path meta = batch_files.front().parent_path() / "batches.meta.txt";
    std::error_code ec;
    if (fs::is_regular_file(meta, ec)) {
      std::string text = readFile(meta);
      size_t start = 0;
      while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) class_names.push_back(line);
        start = end + 1;
      }
      if (class_names.empty()) throw Error(meta.string() + ": no class names");
    } else {
      class_names = cifar10ClassNames();
    }
  }
  std::vector<uint8_t> pixels, labels;
  for (const fs::path& file : batch_files) {
    const std::string bytes = readFile(file);
    if (bytes.empty()) throw Error(file.string() + ": empty CIFAR-10 batch file");
    if (bytes.size() % kRecordBytes != 0)
      throw Error(file.string() + ": truncated or not a CIFAR-10 binary batch (" +
                  std::to_string(bytes.size()) + " bytes is not a multiple of the 3073-byte record)");
    const size_t records = bytes.size() / kRecordBytes;
    pixels.reserve(pixels.size() + records * kImageBytes);
    for (size_t r = 0; r < records; ++r) {
      const auto* record = reinterpret_cast<const uint8_t*>(bytes.data()) + r * kRecordBytes;
      if (record[0] >= class_names.size())
        throw Error(file.string() + ": label " + std::to_string(record[0]) + " of record " +
                    std::to_string(r) + " is out of range (" + std::to_string(class_names.size()) +
                    " classes)");
      labels.push_back(record[0]);
      pixels.insert(pixels.end(), record + 1, record + kRecordBytes);
    }
  }
  const std::string name = options.name + " (" + std::to_string(labels.size()) + " images)";
  return std::make_shared<ByteImageDataset>(name, std::move(pixels), std::move(labels),
                                            std::vector<int64_t>{3, 32, 32}, std::move(class_names),
                                            options.normalization);
}

namespace {

bool isImageFile(const fs::path& path) {
  static const std::set<std::string> extensions = {".png", ".jpg", ".jpeg", ".bmp",  ".ppm", ".pgm",
                                                   ".pbm", ".pnm", ".tif",  ".tiff", ".webp"};
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extensions.count(ext) > 0;
}

bool isHidden(const fs::path& path) {
  return path.filename().string().starts_with('.');
}

// The most bytes one image file may hold: a lossless 8192 x 8192 RGB image is about 200 MB.
constexpr uint64_t kMaxImageFileBytes = uint64_t{256} << 20;

// Reads and decodes one image, after checking the size its header declares: a decoder would otherwise
// allocate whatever a small crafted file claims.
cv::Mat decodeImage(const fs::path& file, int64_t channels) {
  const std::string bytes = readFile(file, kMaxImageFileBytes);
  const std::optional<ImageDimensions> declared = readImageDimensions(bytes);
  if (!declared)
    throw Error(file.string() + ": not a PNG, JPEG, BMP, PNM, TIFF or WebP image, or its header is corrupt");
  if (declared->width == 0 || declared->height == 0 || declared->width > kMaxImagePixels ||
      declared->height > kMaxImagePixels || declared->width * declared->height > kMaxImagePixels)
    throw Error(file.string() + ": the image declares " + std::to_string(declared->width) + " x " +
                std::to_string(declared->height) + " pixels; at most " + std::to_string(kMaxImagePixels) +
                " pixels (8192 x 8192) are read");
  const cv::Mat encoded(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat image = cv::imdecode(encoded, channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  if (image.empty()) throw Error(file.string() + ": cannot decode the image (unsupported or corrupt)");
  return image;
}

class ImageFolderDataset : public Dataset {
 public:
  ImageFolderDataset(const fs::path& root, const ImageFolderOptions& options)
      : root_(root), size_(options.size), channels_(options.channels) {
    if (options.size <= 0 || options.size > 16384)
      throw Error(root.string() + ": image size " + std::to_string(options.size) + " is out of range");
    if (options.channels != 1 && options.channels != 3)
      throw Error(root.string() + ": channels must be 1 or 3, not " + std::to_string(options.channels));
    norm_ = perChannel(options.normalization, channels_, root.string());
    std::error_code ec;
    if (!fs::is_directory(root, ec)) throw Error(root.string() + ": not a folder of class folders");
    std::vector<fs::path> class_dirs;
    for (const auto& entry : fs::directory_iterator(root, ec))
      if (entry.is_directory() && !isHidden(entry.path())) class_dirs.push_back(entry.path());
    if (ec) throw Error(root.string() + ": cannot list the folder (" + ec.message() + ")");
    if (class_dirs.empty()) throw Error(root.string() + ": no class folders (expected ROOT/<class>/<image>)");
    std::sort(class_dirs.begin(), class_dirs.end());
    for (const fs::path& dir : class_dirs) {
      std::vector<fs::path> images;
      for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.is_regular_file() && !isHidden(entry.path()) && isImageFile(entry.path()))
          images.push_back(entry.path());
      if (ec) throw Error(dir.string() + ": cannot list the folder (" + ec.message() + ")");
      if (images.empty()) throw Error(dir.string() + ": class folder holds no images");
      std::sort(images.begin(), images.end());
      for (auto& image : images) {
        files_.push_back(std::move(image));
        labels_.push_back(static_cast<int64_t>(class_names_.size()));
      }
      class_names_.push_back(dir.filename().string());
    }
  }
  std::string name() const override {
    return "image folder " + root_.string() + " (" + std::to_string(files_.size()) + " images)";
  }
  size_t size() const override { return files_.size(); }
  Example get(size_t index) const override {
    if (index >= files_.size())
      throw Error(name() + ": example index " + std::to_string(index) + " is out of range");
    const fs::path& file = files_[index];
    cv::Mat image = decodeImage(file, channels_);
    if (image.depth() != CV_8U) image.convertTo(image, CV_8U);
    if (channels_ == 3) cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
    // Resize the shorter side to size_, then take the centred size_ x size_ square.
    const double scale = static_cast<double>(size_) / std::min(image.cols, image.rows);
    const int width =
        std::max<int>(static_cast<int>(size_), static_cast<int>(std::lround(image.cols * scale)));
    const int height =
        std::max<int>(static_cast<int>(size_), static_cast<int>(std::lround(image.rows * scale)));
    if (width != image.cols || height != image.rows)
      cv::resize(image, image, cv::Size(width, height), 0, 0,
                 scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
    const int side = static_cast<int>(size_);
    cv::Mat crop = image(cv::Rect((width - side) / 2, (height - side) / 2, side, side));
    Tensor tensor(DataType::Float32, {channels_, size_, size_});
    auto out = tensor.values<float>();
    const size_t plane = static_cast<size_t>(side) * static_cast<size_t>(side);
    for (int y = 0; y < side; ++y) {
      const uint8_t* row = crop.ptr<uint8_t>(y);
      for (int x = 0; x < side; ++x)
        for (int64_t c = 0; c < channels_; ++c) {
          const float value = row[x * channels_ + c] / 255.0f;
          out[static_cast<size_t>(c) * plane + static_cast<size_t>(y * side + x)] =
              (value - norm_.mean[c]) / norm_.std[c];
        }
    }
    Example e;
    e.features.push_back(std::move(tensor));
    e.label = labels_[index];
    return e;
  }
  std::vector<FeatureInfo> features() const override {
    return {{"image", DataType::Float32, {channels_, size_, size_}}};
  }
  std::vector<std::string> classNames() const override { return class_names_; }

 private:
  fs::path root_;
  int64_t size_, channels_;
  Normalization norm_;
  std::vector<fs::path> files_;
  std::vector<int64_t> labels_;
  std::vector<std::string> class_names_;
};

}  // namespace

std::shared_ptr<const Dataset> openImageFolder(const fs::path& root, const ImageFolderOptions& options) {
  return std::make_shared<ImageFolderDataset>(root, options);
}

}  // namespace edgetune
