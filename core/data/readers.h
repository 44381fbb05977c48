#pragma once
// Dataset readers behind openDataset(): IDX (MNIST / Fashion-MNIST), CIFAR-10 binary, image folders and text
// corpora. Every reader loads eagerly into compact memory (images as uint8, text as token ids) except image
// folders, which decode lazily; all get() calls are const and thread-safe. Errors name the file and the
// problem.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/data/tokenizer.h"

namespace edgetune {

/// Per-channel normalization: value = (pixel / 255 - mean[c]) / std[c]; one value applies to every channel.
struct Normalization {
  std::vector<float> mean;
  std::vector<float> std;
};

/// Class names of Fashion-MNIST (T-shirt/top, Trouser, ...) and of CIFAR-10 (airplane, ...).
const std::vector<std::string>& fashionMnistClassNames();
const std::vector<std::string>& cifar10ClassNames();

/// Default normalizations: Fashion-MNIST mean 0.2860 std 0.3530; MNIST mean 0.1307 std 0.3081;
/// CIFAR-10 mean 0.4914,0.4822,0.4465 std 0.2470,0.2435,0.2616; ImageNet (image folders) mean
/// 0.485,0.456,0.406 std 0.229,0.224,0.225.
Normalization fashionMnistNormalization();
Normalization mnistNormalization();
Normalization cifar10Normalization();
Normalization imagenetNormalization();

struct IdxOptions {
  std::string name = "IDX";              // description prefix, e.g. "Fashion-MNIST test"
  std::vector<std::string> class_names;  // empty: "0".."max label"
  Normalization normalization = fashionMnistNormalization();
};
/// IDX images (magic 0x00000803, uint8 N x H x W) + labels (0x00000801, uint8 N), raw or gzipped.
/// Features: "image" float32 [1, H, W].
std::shared_ptr<const Dataset> openIdx(const std::filesystem::path& images,
                                       const std::filesystem::path& labels, const IdxOptions& options);

struct Cifar10Options {
  std::string name = "CIFAR-10";
  std::vector<std::string>
      class_names;  // empty: batches.meta.txt beside the first file, else the CIFAR-10 names
  Normalization normalization = cifar10Normalization();
};
/// CIFAR-10 binary batches (records of 1 label byte + 3072 pixel bytes, R then G then B planes).
/// Features: "image" float32 [3, 32, 32].
std::shared_ptr<const Dataset> openCifar10(const std::vector<std::filesystem::path>& batch_files,
                                           const Cifar10Options& options);

struct ImageFolderOptions {
  int64_t size = 224;    // output is size x size: the shorter side is resized to `size`, then center-cropped
  int64_t channels = 3;  // 1 (grayscale) or 3 (RGB order)
  Normalization normalization = imagenetNormalization();
};
/// ROOT/<class>/<image>: one subfolder per class (sorted names = class names, hidden folders skipped); files
/// with an image extension (png, jpg, jpeg, bmp, ppm, pgm, pbm, pnm, tif, tiff, webp) in sorted order. Images
/// are decoded in get() (thread-safe); an unreadable image throws Error naming it then. Features: "image"
/// float32 [C, size, size].
std::shared_ptr<const Dataset> openImageFolder(const std::filesystem::path& root,
                                               const ImageFolderOptions& options);

struct TextOptions {
  std::shared_ptr<const WordPieceTokenizer> tokenizer;  // required
  int64_t seq_len = 128;                                // tokens per example incl. [CLS] and [SEP]
};
/// Features of every text dataset: input_ids, attention_mask, token_type_ids, each int64 [seq_len].
std::vector<FeatureInfo> textFeatures(int64_t seq_len);

/// aclImdb split folder: DIR/neg/*.txt (label 0) and DIR/pos/*.txt (label 1); "<br />" is read as a line
/// break.
std::shared_ptr<const Dataset> openImdb(const std::filesystem::path& split_dir, const TextOptions& options);
/// SpamAssassin JSON corpus: DIR/data/<group>/*.json (or DIR/<group>/*.json) with fields id, group, checksum,
/// text; groups easy-ham-1, easy-ham-2, hard-ham-1 are ham (label 0), spam-1, spam-2 spam (label 1).
/// MailText::Raw keeps each mail as stored (mbox line and all headers); MailText::SubjectBody keeps the
/// Subject and From headers and the body, which is what a short token budget should be spent on (the
/// Received: chains fill the first hundred tokens of a raw mail and say more about the 2002 mail servers than
/// about spam).
enum class MailText { Raw, SubjectBody };
std::shared_ptr<const Dataset> openSpamAssassin(const std::filesystem::path& dir, const TextOptions& options,
                                                MailText mail = MailText::Raw);
/// "Subject: ...\nFrom: ...\n\n<body>" of one RFC 822 mail (folded header lines unfolded); a text without a
/// header block is returned unchanged.
std::string mailSubjectAndBody(const std::string& mail);
/// CSV with a header row (RFC 4180 quoting) / JSON Lines (one object per line). Labels that are all integers
/// (>= 0) are used as is, with class names "0".."max"; otherwise they are strings, class names are the sorted
/// distinct values and the label is the index.
std::shared_ptr<const Dataset> openCsv(const std::filesystem::path& file, const std::string& text_column,
                                       const std::string& label_column, const TextOptions& options);
std::shared_ptr<const Dataset> openJsonl(const std::filesystem::path& file, const std::string& text_field,
                                         const std::string& label_field, const TextOptions& options);

/// Raw texts with labels, before tokenization (what a vocabulary is built from).
struct TextCorpus {
  std::string name;  // "SpamAssassin", "IMDB train", "CSV reviews.csv"
  std::vector<std::string> texts;
  std::vector<int64_t> labels;
  std::vector<std::string> class_names;
};
/// The raw forms of the text readers above (same layouts, same errors).
TextCorpus readImdb(const std::filesystem::path& split_dir);
TextCorpus readSpamAssassin(const std::filesystem::path& dir, MailText mail = MailText::Raw);
TextCorpus readCsv(const std::filesystem::path& file, const std::string& text_column,
                   const std::string& label_column);
TextCorpus readJsonl(const std::filesystem::path& file, const std::string& text_field,
                     const std::string& label_field);
/// The raw texts a text dataset spec names (vocab=, seq_len= and lowercase= are accepted but not needed;
/// subset= and limit= apply), e.g. to build a vocabulary: buildWordPieceVocab(readTextCorpus(spec).texts,
/// 8000). Throws Error for image formats and the same errors as openDataset().
TextCorpus readTextCorpus(const std::string& spec);

/// Tokenized texts with labels, the common form of every text reader (exposed for tests and custom sources).
std::shared_ptr<const Dataset> makeTextDataset(std::string name, const std::vector<std::string>& texts,
                                               std::vector<int64_t> labels,
                                               std::vector<std::string> class_names,
                                               const TextOptions& options);
std::shared_ptr<const Dataset> makeTextDataset(TextCorpus corpus, const TextOptions& options);

}  // namespace edgetune
