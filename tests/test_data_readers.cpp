// Dataset readers: tiny IDX (raw and gzip), CIFAR-10, image-folder, aclImdb, SpamAssassin, CSV and JSONL
// files are written to a temporary folder and read back exactly through openDataset(); corrupt inputs fail
// with the file named; the real Fashion-MNIST and SpamAssassin corpora load with their known counts.
#include <QtTest>

#include <zlib.h>

#include <chrono>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/data/image_header.h"
#include "core/data/readers.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "tests/tests_common.h"

using namespace edgetune;
using edgetune::test::contains;
using edgetune::test::errorOf;
namespace fs = std::filesystem;

namespace {

void writeBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void writeGz(const fs::path& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  QVERIFY(f != nullptr);
  QCOMPARE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  QCOMPARE(gzclose(f), Z_OK);
}

std::string bigEndian(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string idxImages(uint32_t n, uint32_t h, uint32_t w, const std::vector<uint8_t>& pixels) {
  return bigEndian(0x803) + bigEndian(n) + bigEndian(h) + bigEndian(w) +
         std::string(pixels.begin(), pixels.end());
}
std::string idxLabels(const std::vector<uint8_t>& labels) {
  return bigEndian(0x801) + bigEndian(static_cast<uint32_t>(labels.size())) +
         std::string(labels.begin(), labels.end());
}

// 3 images of 2 x 3 pixels: pixel value = 40 * image + 7 * position.
std::vector<uint8_t> miniPixels() {
  std::vector<uint8_t> p;
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 6; ++k) p.push_back(static_cast<uint8_t>(40 * i + 7 * k));
  return p;
}
const std::vector<uint8_t> kMiniLabels = {0, 9, 4};

std::vector<float> floats(const Tensor& t) {
  auto v = t.values<float>();
  return {v.begin(), v.end()};
}
std::vector<int64_t> ints(const Tensor& t) {
  auto v = t.values<int64_t>();
  return {v.begin(), v.end()};
}

// A vocabulary that encodes any ASCII text: specials, every printable character as "c" and "##c", and
// `words`.
fs::path writeAsciiVocab(const fs::path& dir, const std::vector<std::string>& words = {}) {
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (char c = 33; c < 127; ++c) {
    if (c >= 'A' && c <= 'Z') continue;
    vocab.push_back(std::string(1, c));
    vocab.push_back("##" + std::string(1, c));
  }
  vocab.insert(vocab.end(), words.begin(), words.end());
  writeVocab(dir / "vocab.txt", vocab);
  return dir / "vocab.txt";
}

// The [CLS] pieces [SEP] [PAD]... ids the text datasets must produce.
std::vector<int64_t> expectedIds(const fs::path& vocab, const std::string& text, size_t seq_len) {
  return WordPieceTokenizer::fromFile(vocab).encode(text, seq_len).input_ids;
}

void writeJsonMail(const fs::path& dir, const std::string& id, const std::string& group,
                   const std::string& text) {
  fs::create_directories(dir);
  nlohmann::json j = {
      {"id", id}, {"group", group}, {"checksum", {{"type", "MD5"}, {"value", "0"}}}, {"text", text}};
  writeBytes(dir / (id + ".0.json"), j.dump());
}

}  // namespace

class TestDataReaders : public QObject {
  Q_OBJECT
 private slots:
  void idxReadsBack_data() {
    QTest::addColumn<bool>("gzipped");
    QTest::addColumn<bool>("by_folder");
    QTest::newRow("raw, file") << false << false;
    QTest::newRow("raw, folder") << false << true;
    QTest::newRow("gzip, file") << true << false;
    QTest::newRow("gzip, folder") << true << true;
  }
  void idxReadsBack() {
    QFETCH(bool, gzipped);
    QFETCH(bool, by_folder);
    test::TempDir dir;
    const std::string ext = gzipped ? ".gz" : "";
    auto write = gzipped ? writeGz : writeBytes;
    write(dir / ("train-images-idx3-ubyte" + ext), idxImages(3, 2, 3, miniPixels()));
    write(dir / ("train-labels-idx1-ubyte" + ext), idxLabels(kMiniLabels));
    const std::string path =
        by_folder ? dir.path().string() : (dir / ("train-images-idx3-ubyte" + ext)).string();
    const std::string split = by_folder ? "split=train&" : "";
    auto data = openDataset("idx:" + path + "?" + split + "mean=0&std=1");
    QCOMPARE(data->size(), size_t{3});
    QCOMPARE(data->features().size(), size_t{1});
    QCOMPARE(data->features()[0].name, std::string("image"));
    QCOMPARE(data->features()[0].shape, (std::vector<int64_t>{1, 2, 3}));
    QCOMPARE(data->numClasses(), size_t{10});
    QCOMPARE(data->classNames()[9], std::string("9"));  // no "fashion" in the path: MNIST digits
    for (size_t i = 0; i < 3; ++i) {
      Example e = data->get(i);
      QCOMPARE(e.label, int64_t{kMiniLabels[i]});
      QCOMPARE(e.features[0].shape(), (std::vector<int64_t>{1, 2, 3}));
      auto v = floats(e.features[0]);
      for (size_t k = 0; k < 6; ++k) QCOMPARE(v[k], static_cast<float>(40 * i + 7 * k) / 255.0f);
    }
    // Default MNIST normalization, and Fashion-MNIST names on request.
    auto normalized = openDataset("idx:" + path + "?" + split + "classes=fashion-mnist");
    QCOMPARE(normalized->classNames()[0], std::string("T-shirt/top"));
    QCOMPARE(normalized->classNames()[9], std::string("Ankle boot"));
    auto v = floats(normalized->get(2).features[0]);
    QVERIFY(std::abs(v[5] - ((40 * 2 + 35) / 255.0f - 0.2860f) / 0.3530f) < 1e-6f);
    auto mnist = openDataset("idx:" + path + "?" + split);
    QVERIFY(std::abs(floats(mnist->get(0).features[0])[0] - (0.0f - 0.1307f) / 0.3081f) < 1e-6f);
  }

  void idxRejectsBadFiles_data() {
    QTest::addColumn<QByteArray>("images");
    QTest::addColumn<QByteArray>("labels");
    QTest::addColumn<bool>("gzip_images");
    QTest::addColumn<QString>("bad_file");
    QTest::addColumn<QString>("problem");
    const auto qb = [](const std::string& s) { return QByteArray(s.data(), static_cast<int>(s.size())); };
    const std::string images = idxImages(3, 2, 3, miniPixels());
    const std::string labels = idxLabels(kMiniLabels);
    QTest::newRow("truncated images")
        << qb(images.substr(0, images.size() - 1)) << qb(labels) << false << "images"
        << "truncated";
    QTest::newRow("trailing bytes") << qb(images + "x") << qb(labels) << false << "images"
                                    << "unexpected bytes";
    QTest::newRow("labels as images") << qb(labels) << qb(labels) << false << "images"
                                      << "dimensions";
    QTest::newRow("not idx") << qb("hello, not an IDX file at all") << qb(labels) << false << "images"
                             << "not an IDX";
    QTest::newRow("empty") << QByteArray() << qb(labels) << false << "images"
                           << "not an IDX";
    QTest::newRow("count mismatch") << qb(images) << qb(idxLabels({1, 2})) << false << "labels"
                                    << "2 labels";
    QTest::newRow("label out of range") << qb(images) << qb(idxLabels({1, 10, 2})) << false << "labels"
                                        << "label 10 of example 1";
    QTest::newRow("truncated gzip") << qb(images) << qb(labels) << true << "images"
                                    << "truncated";
  }
  void idxRejectsBadFiles() {
    QFETCH(QByteArray, images);
    QFETCH(QByteArray, labels);
    QFETCH(bool, gzip_images);
    QFETCH(QString, bad_file);
    QFETCH(QString, problem);
    test::TempDir dir;
    fs::path images_path = dir / "fashion-images-idx3-ubyte";
    if (gzip_images) {
      writeGz(dir / "full.gz", images.toStdString());
      std::string gz = readFile(dir / "full.gz");
      writeBytes(images_path, gz.substr(0, gz.size() / 2));
    } else {
      writeBytes(images_path, images.toStdString());
    }
    const fs::path labels_path = dir / "fashion-labels-idx1-ubyte";
    writeBytes(labels_path, labels.toStdString());
    const std::string msg = errorOf([&] { openDataset("idx:" + images_path.string()); });
    QVERIFY2(!msg.empty(), "a bad IDX file was accepted");
    const std::string named = (bad_file == "images" ? images_path : labels_path).string();
    QVERIFY2(contains(msg, named), msg.c_str());
    QVERIFY2(contains(msg, problem.toStdString()), msg.c_str());
  }

  // A header may not promise more than the reader will hold: 2^32 - 1 images of 65536 x 65536 pixels is
  // refused from the header alone, raw or gzip, before anything is allocated.
  void idxRefusesHeaderPastTheLimit() {
    test::TempDir dir;
    const std::string header =
        bigEndian(0x803) + bigEndian(0xFFFFFFFFu) + bigEndian(65536) + bigEndian(65536);
    writeBytes(dir / "x-labels-idx1-ubyte", idxLabels(kMiniLabels));
    for (const bool gzipped : {false, true}) {
      const fs::path images = dir / (gzipped ? "g-images-idx3-ubyte" : "x-images-idx3-ubyte");
      if (gzipped) {
        writeGz(images, header);
        writeBytes(dir / "g-labels-idx1-ubyte", idxLabels(kMiniLabels));
      } else {
        writeBytes(images, header);
      }
      const std::string msg = errorOf([&] { openDataset("idx:" + images.string()); });
      QVERIFY2(contains(msg, images.string()) && contains(msg, "more than the 2.15 GB an IDX file may hold"),
               msg.c_str());
    }
  }

  // A gzip file whose stream expands far past what its header promises (3 images of 2 x 3 pixels, then
  // 256 MB of zeros, about 250 KB compressed) is stopped one byte past the promise, not inflated whole.
  void idxGzipBombStopsAtTheHeadersPromise() {
    test::TempDir dir;
    const fs::path images = dir / "bomb-images-idx3-ubyte.gz";
    gzFile f = gzopen(images.c_str(), "wb9");
    QVERIFY(f != nullptr);
    const std::string real = idxImages(3, 2, 3, miniPixels());
    QCOMPARE(gzwrite(f, real.data(), static_cast<unsigned>(real.size())), static_cast<int>(real.size()));
    const std::string zeros(1 << 20, '\0');
    for (int mb = 0; mb < 256; ++mb)
      QCOMPARE(gzwrite(f, zeros.data(), static_cast<unsigned>(zeros.size())), static_cast<int>(zeros.size()));
    QCOMPARE(gzclose(f), Z_OK);
    QVERIFY(fs::file_size(images) < (4u << 20));
    writeBytes(dir / "bomb-labels-idx1-ubyte.gz", idxLabels(kMiniLabels));  // plain bytes: read as they are
    const std::string msg = errorOf([&] { openDataset("idx:" + images.string()); });
    QVERIFY2(contains(msg, images.string()) && contains(msg, "expands past the 34 bytes its header promises"),
             msg.c_str());
  }

  void idxMissingLabelsFile() {
    test::TempDir dir;
    writeBytes(dir / "x-images-idx3-ubyte", idxImages(3, 2, 3, miniPixels()));
    const std::string msg = errorOf([&] { openDataset("idx:" + (dir / "x-images-idx3-ubyte").string()); });
    QVERIFY2(contains(msg, "x-labels-idx1-ubyte") && contains(msg, "does not exist"), msg.c_str());
    const std::string no_split = errorOf([&] { openDataset("idx:" + dir.path().string()); });
    QVERIFY2(contains(no_split, "split=train"), no_split.c_str());
  }

  void cifarReadsBack() {
    test::TempDir dir;
    // Record r: label r % 3, pixel (c, y, x) = (r * 31 + c * 7 + y + 2 * x) % 256.
    const auto record = [](int r) {
      std::string bytes(1, static_cast<char>(r % 3));
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 32; ++y)
          for (int x = 0; x < 32; ++x) bytes += static_cast<char>((r * 31 + c * 7 + y + 2 * x) % 256);
      return bytes;
    };
    writeBytes(dir / "data_batch_1.bin", record(0) + record(1));
    writeBytes(dir / "data_batch_2.bin", record(2));
    writeBytes(dir / "test_batch.bin", record(5));
    auto train = openDataset("cifar10:" + dir.path().string() + "?split=train&mean=0&std=1");
    QCOMPARE(train->size(), size_t{3});
    QCOMPARE(train->features()[0].shape, (std::vector<int64_t>{3, 32, 32}));
    QCOMPARE(train->classNames(), cifar10ClassNames());
    for (int r = 0; r < 3; ++r) {
      Example e = train->get(static_cast<size_t>(r));
      QCOMPARE(e.label, int64_t{r % 3});
      auto v = floats(e.features[0]);
      for (int c : {0, 2})
        for (int y : {0, 17})
          for (int x : {0, 31})
            QCOMPARE(v[static_cast<size_t>(c * 1024 + y * 32 + x)],
                     static_cast<float>((r * 31 + c * 7 + y + 2 * x) % 256) / 255.0f);
    }
    writeBytes(dir / "batches.meta.txt", "zero\none\r\ntwo\n\n");
    auto test = openDataset("cifar10:" + dir.path().string() + "?split=test");
    QCOMPARE(test->size(), size_t{1});
    QCOMPARE(test->classNames(), (std::vector<std::string>{"zero", "one", "two"}));
    QCOMPARE(test->get(0).label, int64_t{2});
    // Default CIFAR-10 normalization, channel 1.
    const float g = floats(test->get(0).features[0])[1024];
    QVERIFY(std::abs(g - ((5 * 31 + 7) / 255.0f - 0.4822f) / 0.2435f) < 1e-5f);
    // One batch file directly.
    QCOMPARE(openDataset("cifar10:" + (dir / "data_batch_2.bin").string())->size(), size_t{1});

    // Labels beyond the meta file's classes, truncated records, no split.
    writeBytes(dir / "bad_label.bin", std::string(1, '\x07') + record(0).substr(1));
    std::string msg = errorOf([&] { openDataset("cifar10:" + (dir / "bad_label.bin").string()); });
    QVERIFY2(contains(msg, "bad_label.bin") && contains(msg, "label 7"), msg.c_str());
    writeBytes(dir / "short.bin", record(0) + record(1).substr(0, 100));
    msg = errorOf([&] { openDataset("cifar10:" + (dir / "short.bin").string()); });
    QVERIFY2(contains(msg, "short.bin") && contains(msg, "truncated"), msg.c_str());
    msg = errorOf([&] { openDataset("cifar10:" + dir.path().string()); });
    QVERIFY2(contains(msg, "split="), msg.c_str());
  }

  void imageFolderReadsBack() {
    test::TempDir dir;
    const fs::path root = dir / "train";
    fs::create_directories(root / "cat");
    fs::create_directories(root / "dog");
    // cat/a.png: 4 x 6 (rows x cols), BGR pixel (b, g, r) = (10 * x, 20 + y, 200 - 10 * x).
    cv::Mat wide(4, 6, CV_8UC3);
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 6; ++x) wide.at<cv::Vec3b>(y, x) = cv::Vec3b(10 * x, 20 + y, 200 - 10 * x);
    QVERIFY(cv::imwrite((root / "cat" / "a.png").string(), wide));
    // dog/b.png: 8 x 8 uniform, resized down to 4 x 4 stays uniform.
    QVERIFY(cv::imwrite((root / "dog" / "b.png").string(), cv::Mat(8, 8, CV_8UC3, cv::Scalar(60, 120, 180))));
    writeBytes(root / "dog" / "notes.txt", "not an image, ignored");
    auto data = openDataset("imagefolder:" + dir.path().string() + "?split=train&size=4&mean=0&std=1");
    QCOMPARE(data->size(), size_t{2});
    QCOMPARE(data->classNames(), (std::vector<std::string>{"cat", "dog"}));
    QCOMPARE(data->features()[0].shape, (std::vector<int64_t>{3, 4, 4}));
    Example cat = data->get(0);
    QCOMPARE(cat.label, int64_t{0});
    auto v = floats(cat.features[0]);
    // No resize (shorter side is 4); centre crop keeps columns 1..4. Channel 0 is red (RGB order).
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) {
        QCOMPARE(v[static_cast<size_t>(0 * 16 + y * 4 + x)], (200 - 10 * (x + 1)) / 255.0f);
        QCOMPARE(v[static_cast<size_t>(1 * 16 + y * 4 + x)], (20 + y) / 255.0f);
        QCOMPARE(v[static_cast<size_t>(2 * 16 + y * 4 + x)], (10 * (x + 1)) / 255.0f);
      }
    Example dog = data->get(1);
    QCOMPARE(dog.label, int64_t{1});
    auto d = floats(dog.features[0]);
    QCOMPARE(d[0], 180 / 255.0f);
    QCOMPARE(d[15], 180 / 255.0f);
    QCOMPARE(d[16 + 5], 120 / 255.0f);
    QCOMPARE(d[32 + 10], 60 / 255.0f);
    // Grayscale, default (ImageNet grey) normalization.
    auto gray = openDataset("imagefolder:" + root.string() + "?size=2&channels=1");
    QCOMPARE(gray->features()[0].shape, (std::vector<int64_t>{1, 2, 2}));
    const float expected_gray = static_cast<float>(
        cv::imread((root / "dog" / "b.png").string(), cv::IMREAD_GRAYSCALE).at<uint8_t>(0, 0));
    QVERIFY(std::abs(floats(gray->get(1).features[0])[3] - (expected_gray / 255.0f - 0.449f) / 0.226f) <
            1e-5f);

    // A corrupt image fails when read, naming the file; an empty class folder fails at open.
    writeBytes(root / "dog" / "c.png", "this is not a PNG");
    auto with_corrupt = openDataset("imagefolder:" + root.string() + "?size=4");
    std::string msg = errorOf([&] { with_corrupt->get(2); });
    QVERIFY2(contains(msg, (root / "dog" / "c.png").string()), msg.c_str());
    fs::create_directories(root / "emu");
    msg = errorOf([&] { openDataset("imagefolder:" + root.string()); });
    QVERIFY2(contains(msg, (root / "emu").string()) && contains(msg, "no images"), msg.c_str());
    msg = errorOf([&] { openDataset("imagefolder:" + (dir / "nowhere").string()); });
    QVERIFY2(contains(msg, (dir / "nowhere").string()), msg.c_str());
    msg = errorOf([&] { openDataset("imagefolder:" + root.string() + "?channels=2"); });
    QVERIFY2(contains(msg, "channels"), msg.c_str());
    msg = errorOf([&] { openDataset("imagefolder:" + root.string() + "?mean=0.5,0.5"); });
    QVERIFY2(contains(msg, "mean has 2 values"), msg.c_str());
  }

  // The header parser reads the size every format declares, checked against OpenCV's own encoders; every
  // cut-short prefix of those files gives no size (or a size) but never reads past the bytes.
  void imageHeadersGiveTheDeclaredSize() {
    const cv::Mat image(23, 37, CV_8UC3, cv::Scalar(10, 200, 30));  // 37 wide, 23 high
    int formats = 0;
    for (const std::string ext : {".png", ".jpg", ".bmp", ".ppm", ".pgm", ".tiff", ".webp"}) {
      if (!cv::haveImageWriter(ext)) continue;
      std::vector<uchar> encoded;
      cv::Mat source = image;
      if (ext == ".pgm") cv::cvtColor(image, source, cv::COLOR_BGR2GRAY);
      QVERIFY2(cv::imencode(ext, source, encoded), ext.c_str());
      const std::string bytes(encoded.begin(), encoded.end());
      const std::optional<ImageDimensions> size = readImageDimensions(bytes);
      QVERIFY2(size.has_value(), ext.c_str());
      QCOMPARE(size->width, uint64_t{37});
      QCOMPARE(size->height, uint64_t{23});
      for (size_t cut = 0; cut < std::min<size_t>(bytes.size(), 512); ++cut) {
        const std::string prefix =
            bytes.substr(0, cut);  // its own buffer: a read past it would be an ASan error
        const std::optional<ImageDimensions> partial = readImageDimensions(prefix);
        if (partial) QVERIFY2(partial->width == 37 && partial->height == 23, ext.c_str());
      }
      ++formats;
    }
    QVERIFY2(formats >= 5, "OpenCV here writes fewer than 5 of the formats");
    QVERIFY(!readImageDimensions("this is not a PNG").has_value());
  }

  // A 30000 x 30000 PNG (2.7 GB decoded; here only its header, which is all a crafted file needs) is refused
  // from the size it declares, naming the file; the limit itself, 8192 x 8192, is still read.
  void imageFolderRefusesImagesPastThePixelLimit() {
    test::TempDir dir;
    fs::create_directories(dir / "train" / "big");
    const auto ihdr = [](uint32_t width, uint32_t height) {
      std::string chunk =
          "IHDR" + bigEndian(width) + bigEndian(height) + std::string("\x08\x00\x00\x00\x00", 5);
      const uLong crc =
          crc32(0, reinterpret_cast<const Bytef*>(chunk.data()), static_cast<uInt>(chunk.size()));
      return std::string("\x89PNG\r\n\x1a\n", 8) + bigEndian(13) + chunk +
             bigEndian(static_cast<uint32_t>(crc));
    };
    const fs::path huge = dir / "train" / "big" / "huge.png";
    writeBytes(huge, ihdr(30000, 30000));
    auto data = openDataset("imagefolder:" + (dir / "train").string() + "?size=4");
    const std::string msg = errorOf([&] { data->get(0); });
    QVERIFY2(contains(msg, huge.string()) && contains(msg, "30000 x 30000"), msg.c_str());
    const std::optional<ImageDimensions> at_limit = readImageDimensions(ihdr(8192, 8192));
    QVERIFY(at_limit && at_limit->width * at_limit->height == kMaxImagePixels);
  }

  void imdbReadsBack() {
    test::TempDir dir;
    const fs::path vocab = writeAsciiVocab(dir.path(), {"great", "movie", "bad", "plot"});
    const std::vector<std::pair<std::string, std::string>> reviews = {
        {"train/neg/0_1.txt", "Bad plot.<br /><br />Really bad!"},
        {"train/neg/1_2.txt", "bad"},
        {"train/pos/0_9.txt", "A great movie"},
        {"test/pos/0_10.txt", "great great great great great great great great great great"},
    };
    for (const auto& [file, text] : reviews) {
      fs::create_directories((dir / file).parent_path());
      writeBytes(dir / file, text);
    }
    fs::create_directories(dir / "test/neg");
    writeBytes(dir / "test/neg/5_3.txt", "meh");
    auto train =
        openDataset("imdb:" + dir.path().string() + "?split=train&vocab=" + vocab.string() + "&seq_len=8");
    QCOMPARE(train->size(), size_t{3});
    QCOMPARE(train->classNames(), (std::vector<std::string>{"neg", "pos"}));
    QCOMPARE(train->features().size(), size_t{3});
    QCOMPARE(train->features()[1].name, std::string("attention_mask"));
    QCOMPARE(train->features()[0].shape, (std::vector<int64_t>{8}));
    for (size_t i = 0; i < 3; ++i) {
      Example e = train->get(i);
      QCOMPARE(e.label, int64_t{i < 2 ? 0 : 1});
      std::string text = reviews[i].second;
      if (i == 0) text = "Bad plot.\n\nReally bad!";
      QCOMPARE(ints(e.features[0]), expectedIds(vocab, text, 8));
      auto encoding = WordPieceTokenizer::fromFile(vocab).encode(text, 8);
      QCOMPARE(ints(e.features[1]), encoding.attention_mask);
      QCOMPARE(ints(e.features[2]), std::vector<int64_t>(8, 0));
    }
    QCOMPARE(ints(train->get(1).features[1]), (std::vector<int64_t>{1, 1, 1, 0, 0, 0, 0, 0}));
    auto test = openDataset("imdb:" + (dir / "test").string() + "?vocab=" + vocab.string() + "&seq_len=4");
    QCOMPARE(test->size(), size_t{2});
    QCOMPARE(test->get(1).label, int64_t{1});
    QCOMPARE(ints(test->get(1).features[1]), (std::vector<int64_t>{1, 1, 1, 1}));  // truncated

    std::string msg =
        errorOf([&] { openDataset("imdb:" + dir.path().string() + "?vocab=" + vocab.string()); });
    QVERIFY2(contains(msg, "split="), msg.c_str());
    msg = errorOf([&] { openDataset("imdb:" + dir.path().string() + "?split=train"); });
    QVERIFY2(contains(msg, "vocab="), msg.c_str());
    msg = errorOf([&] {
      openDataset("imdb:" + dir.path().string() + "?split=train&vocab=" + (dir / "nov.txt").string());
    });
    QVERIFY2(contains(msg, (dir / "nov.txt").string()), msg.c_str());
  }

  void spamAssassinReadsBack() {
    test::TempDir dir;
    const fs::path vocab = writeAsciiVocab(dir.path(), {"free", "money", "meeting"});
    writeJsonMail(dir / "data/easy-ham-1", "00001", "easy-ham-1", "Meeting at noon");
    writeJsonMail(dir / "data/easy-ham-1", "00002", "easy-ham-1", "Re: meeting");
    writeJsonMail(dir / "data/hard-ham-1", "00001", "hard-ham-1", "newsletter");
    writeJsonMail(dir / "data/spam-2", "00001", "spam-2", "FREE MONEY!!!");
    writeBytes(dir / "data/spam-2/00001.0.txt", "raw copy, ignored");
    auto data =
        openDataset("spamassassin:" + dir.path().string() + "?vocab=" + vocab.string() + "&seq_len=6");
    QCOMPARE(data->size(), size_t{4});
    QCOMPARE(data->classNames(), (std::vector<std::string>{"ham", "spam"}));
    const std::vector<std::string> texts = {"Meeting at noon", "Re: meeting", "newsletter", "FREE MONEY!!!"};
    for (size_t i = 0; i < 4; ++i) {
      QCOMPARE(data->get(i).label, int64_t{i == 3 ? 1 : 0});
      QCOMPARE(ints(data->get(i).features[0]), expectedIds(vocab, texts[i], 6));
    }
    // The raw texts, e.g. to build a vocabulary from; no vocab= needed.
    TextCorpus corpus = readTextCorpus("spamassassin:" + dir.path().string());
    QCOMPARE(corpus.texts, texts);
    QCOMPARE(corpus.labels, (std::vector<int64_t>{0, 0, 0, 1}));
    QCOMPARE(readTextCorpus("spamassassin:" + dir.path().string() + "?limit=2").texts.size(), size_t{2});
    std::string image_msg = errorOf([] { readTextCorpus("fashion-mnist"); });
    QVERIFY2(contains(image_msg, "holds images"), image_msg.c_str());
    // Seeded re-split (SpamAssassin has no split of its own) and its errors.
    auto val = openDataset("spamassassin:" + dir.path().string() + "?vocab=" + vocab.string() +
                           "&subset=val&val=0.5&test=0&seed=3");
    QCOMPARE(val->size(), size_t{2});
    std::string msg = errorOf([&] {
      openDataset("spamassassin:" + dir.path().string() + "?vocab=" + vocab.string() + "&split=test");
    });
    QVERIFY2(contains(msg, "split="), msg.c_str());

    writeBytes(dir / "data/spam-2/00002.0.json", "{\"id\": \"00002\", \"text\": ");
    msg = errorOf([&] { openDataset("spamassassin:" + dir.path().string() + "?vocab=" + vocab.string()); });
    QVERIFY2(contains(msg, "00002.0.json") && contains(msg, "JSON"), msg.c_str());
    writeBytes(dir / "data/spam-2/00002.0.json", "{\"id\": \"00002\", \"body\": \"x\"}");
    msg = errorOf([&] { openDataset("spamassassin:" + dir.path().string() + "?vocab=" + vocab.string()); });
    QVERIFY2(contains(msg, "00002.0.json") && contains(msg, "text"), msg.c_str());
    msg = errorOf(
        [&] { openDataset("spamassassin:" + (dir / "data/spam-2").string() + "?vocab=" + vocab.string()); });
    QVERIFY2(contains(msg, "no SpamAssassin groups"), msg.c_str());
  }

  void mailSubjectAndBodyKeepsWhatMatters() {
    const std::string mail =
        "From spammer@example.com  Tue Aug  6 11:51:02 2002\r\n"
        "Received: from a.example (a [10.0.0.1])\r\n\tby b.example\r\n"
        "Subject: Make money\r\n fast\r\n"
        "From: \"Rich\" <rich@example.com>\r\n"
        "X-Mailer: Outlook\r\n"
        "\r\n"
        "Dear friend,\nclick here: no colon header\n";
    QCOMPARE(mailSubjectAndBody(mail),
             std::string("Subject: Make money fast\nFrom: \"Rich\" <rich@example.com>\n\n"
                         "Dear friend,\nclick here: no colon header\n"));
    // Not a header block: left as it is (a body that happens to contain a colon later on, or plain prose).
    QCOMPARE(mailSubjectAndBody("Meeting at noon"), std::string("Meeting at noon"));
    QCOMPARE(mailSubjectAndBody("Hello there: friends\n\nbody"), std::string("Hello there: friends\n\nbody"));
    QCOMPARE(mailSubjectAndBody("Subject: only headers"), std::string("Subject: only headers"));
    QCOMPARE(mailSubjectAndBody("X-A: 1\n\nbody"), std::string("\nbody"));

    test::TempDir dir;
    writeJsonMail(dir / "data/easy-ham-1", "00001", "easy-ham-1", "Received: x\nSubject: lunch\n\nSee you");
    writeJsonMail(dir / "data/spam-2", "00001", "spam-2", "FREE MONEY!!!");
    const std::string base = "spamassassin:" + dir.path().string();
    QCOMPARE(readTextCorpus(base + "?mail=body").texts,
             (std::vector<std::string>{"Subject: lunch\n\nSee you", "FREE MONEY!!!"}));
    QCOMPARE(readTextCorpus(base).texts,
             (std::vector<std::string>{"Received: x\nSubject: lunch\n\nSee you", "FREE MONEY!!!"}));
    const std::string msg = errorOf([&] { readTextCorpus(base + "?mail=headers"); });
    QVERIFY2(contains(msg, "mail=headers") && contains(msg, "raw, body"), msg.c_str());
  }

  void csvReadsBack() {
    test::TempDir dir;
    const fs::path vocab = writeAsciiVocab(dir.path());
    writeBytes(dir / "reviews.csv",
               "id,review,sentiment\r\n"
               "1,\"Good, very good\",positive\r\n"
               "2,\"He said \"\"meh\"\"\nand left\",neutral\r\n"
               "\r\n"
               "3,plain text,negative\r\n");
    auto data = openDataset("csv:" + (dir / "reviews.csv").string() + "?vocab=" + vocab.string() +
                            "&text=review&label=sentiment&seq_len=32");
    QCOMPARE(data->size(), size_t{3});
    QCOMPARE(data->classNames(), (std::vector<std::string>{"negative", "neutral", "positive"}));
    const std::vector<std::string> texts = {"Good, very good", "He said \"meh\"\nand left", "plain text"};
    const std::vector<int64_t> labels = {2, 1, 0};
    for (size_t i = 0; i < 3; ++i) {
      QCOMPARE(data->get(i).label, labels[i]);
      QCOMPARE(ints(data->get(i).features[0]), expectedIds(vocab, texts[i], 32));
    }
    writeBytes(dir / "ints.csv", "text,label\nzero,0\nthree,3\n");
    auto ints_data = openDataset("csv:" + (dir / "ints.csv").string() + "?vocab=" + vocab.string());
    QCOMPARE(ints_data->classNames(), (std::vector<std::string>{"0", "1", "2", "3"}));
    QCOMPARE(ints_data->get(1).label, int64_t{3});

    writeBytes(dir / "ragged.csv", "text,label\nfine,1\nextra,1,2\n");
    std::string msg =
        errorOf([&] { openDataset("csv:" + (dir / "ragged.csv").string() + "?vocab=" + vocab.string()); });
    QVERIFY2(contains(msg, (dir / "ragged.csv").string() + ":3") && contains(msg, "3 fields"), msg.c_str());
    msg = errorOf([&] {
      openDataset("csv:" + (dir / "ints.csv").string() + "?vocab=" + vocab.string() + "&text=body");
    });
    QVERIFY2(contains(msg, "ints.csv") && contains(msg, "\"body\""), msg.c_str());
    writeBytes(dir / "open.csv", "text,label\n\"never closed,1\n");
    msg = errorOf([&] { openDataset("csv:" + (dir / "open.csv").string() + "?vocab=" + vocab.string()); });
    QVERIFY2(contains(msg, "open.csv:2") && contains(msg, "unterminated"), msg.c_str());
    writeBytes(dir / "neg.csv", "text,label\na,-1\n");
    msg = errorOf([&] { openDataset("csv:" + (dir / "neg.csv").string() + "?vocab=" + vocab.string()); });
    QVERIFY2(contains(msg, "neg.csv:2") && contains(msg, "negative label"), msg.c_str());
  }

  void jsonlReadsBack() {
    test::TempDir dir;
    const fs::path vocab = writeAsciiVocab(dir.path());
    writeBytes(dir / "a.jsonl",
               "{\"text\": \"first \\u00e9t\\u00e9\", \"label\": 1}\n"
               "\n"
               "{\"text\": \"second\", \"label\": 0, \"extra\": true}\n");
    auto data =
        openDataset("jsonl:" + (dir / "a.jsonl").string() + "?vocab=" + vocab.string() + "&seq_len=16");
    QCOMPARE(data->size(), size_t{2});
    QCOMPARE(data->classNames(), (std::vector<std::string>{"0", "1"}));
    QCOMPARE(data->get(0).label, int64_t{1});
    QCOMPARE(ints(data->get(0).features[0]), expectedIds(vocab, "first \xC3\xA9t\xC3\xA9", 16));
    writeBytes(dir / "b.jsonl", "{\"body\": \"x\", \"y\": \"spam\"}\n{\"body\": \"y\", \"y\": \"ham\"}\n");
    auto named = openDataset("jsonl:" + (dir / "b.jsonl").string() + "?vocab=" + vocab.string() +
                             "&text=body&label=y");
    QCOMPARE(named->classNames(), (std::vector<std::string>{"ham", "spam"}));
    QCOMPARE(named->get(0).label, int64_t{1});

    writeBytes(dir / "c.jsonl", "{\"text\": \"ok\", \"label\": 1}\n{\"text\": \"broken\", \n");
    std::string msg =
        errorOf([&] { openDataset("jsonl:" + (dir / "c.jsonl").string() + "?vocab=" + vocab.string()); });
    QVERIFY2(contains(msg, (dir / "c.jsonl").string() + ":2") && contains(msg, "JSON"), msg.c_str());
    writeBytes(dir / "d.jsonl", "{\"text\": \"ok\", \"label\": 1.5}\n");
    msg = errorOf([&] { openDataset("jsonl:" + (dir / "d.jsonl").string() + "?vocab=" + vocab.string()); });
    QVERIFY2(contains(msg, "d.jsonl:1") && contains(msg, "label"), msg.c_str());
  }

  void realFashionMnist() {
    const auto start = std::chrono::steady_clock::now();
    auto test = openDataset("fashion-mnist");
    auto train = openDataset("fashion-mnist:train");
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    qInfo("loaded 70,000 Fashion-MNIST images in %.2f s", load_s);
    QCOMPARE(test->size(), size_t{10000});
    QCOMPARE(train->size(), size_t{60000});
    QCOMPARE(test->classNames(), fashionMnistClassNames());
    QCOMPARE(test->features()[0].shape, (std::vector<int64_t>{1, 28, 28}));
    QVERIFY2(contains(test->name(), "Fashion-MNIST test"), test->name().c_str());
    for (const auto& [data, per_class] : {std::pair{test, 1000}, std::pair{train, 6000}}) {
      std::vector<int> counts(10, 0);
      for (size_t i = 0; i < data->size(); ++i) ++counts[static_cast<size_t>(data->get(i).label)];
      QCOMPARE(counts, std::vector<int>(10, per_class));
    }
    const std::vector<int64_t> first_test_labels = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    for (size_t i = 0; i < first_test_labels.size(); ++i) QCOMPARE(test->get(i).label, first_test_labels[i]);
    // Raw pixels of test image 0 (values checked with Python's gzip module): sum 33456, centre pixel 110.
    auto raw = openDataset("fashion-mnist?mean=0&std=1");
    auto v = floats(raw->get(0).features[0]);
    double sum = 0;
    for (float x : v) sum += x * 255.0;
    QVERIFY(std::abs(sum - 33456.0) < 0.05);
    QCOMPARE(v[14 * 28 + 14], 110 / 255.0f);
    QVERIFY(std::abs(floats(test->get(0).features[0])[0] - (-0.2860f / 0.3530f)) < 1e-6f);
  }

  void realSpamAssassin() {
    const fs::path corpus = fs::path(EDGETUNE_SOURCE_DIR) / "third_party/datasets/spam-assassin";
    if (!fs::is_directory(corpus / "data"))
      QSKIP("SpamAssassin corpus not installed (installer/install-deps.sh)");
    test::TempDir dir;
    const fs::path vocab =
        writeAsciiVocab(dir.path(), {"the", "to", "and", "from", "received", "by", "with"});
    const auto start = std::chrono::steady_clock::now();
    auto data = openDataset("spamassassin:" + corpus.string() + "?vocab=" + vocab.string() + "&seq_len=128");
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    qInfo("loaded %zu SpamAssassin mails in %.2f s", data->size(), load_s);
    // The npm package holds 6,046 .json mails (2500 + 1400 + 250 ham, 500 + 1396 spam; its file_list.json
    // agrees).
    QCOMPARE(data->size(), size_t{6046});
    size_t spam = 0;
    for (size_t i = 0; i < data->size(); ++i) spam += static_cast<size_t>(data->get(i).label);
    QCOMPARE(spam, size_t{1896});
    // Mails are long: every one fills all 128 positions, and most pieces are known.
    Example e = data->get(0);
    QCOMPARE(ints(e.features[1]), std::vector<int64_t>(128, 1));
    auto ids = ints(e.features[0]);
    QCOMPARE(ids.front(), int64_t{2});
    QCOMPARE(ids.back(), int64_t{3});
    QVERIFY(std::count(ids.begin(), ids.end(), int64_t{1}) < 10);
  }
};

QTEST_GUILESS_MAIN(TestDataReaders)
#include "test_data_readers.moc"
