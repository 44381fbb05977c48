// Dataset spec strings -> datasets.
//
// Grammar:   FORMAT:PATH[?key=value&key=value...]
//   PATH runs up to the LAST '?' (so it cannot contain '?'); keys are separated by '&', each key at most
//   once; list values are comma separated (mean=0.5,0.5,0.5). Whitespace around the spec is ignored, nowhere
//   else. Unknown formats or keys, a missing PATH, bad values and keys that do not apply are errors naming
//   the spec.
//
// Shorthands:
//   fashion-mnist[?keys]          = idx:/usr/share/datasets/fashion-mnist?split=test[&keys]
//   fashion-mnist:train[?keys]    = idx:/usr/share/datasets/fashion-mnist?split=train[&keys]   (also :test)
//
// Formats and their PATH:
//   idx           a folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (split= required), or
//   the
//                 images file itself (its labels file is the same name with images-idx3 -> labels-idx1).
//                 Features: image float32 [1,H,W].
//   cifar10       a folder with data_batch_1..5.bin / test_batch.bin (or its cifar-10-batches-bin subfolder;
//                 split= required), or one batch .bin file. Class names from batches.meta.txt if present.
//                 Features: image float32 [3,32,32].
//   imagefolder   ROOT/<class>/<image>; with split=NAME the root is PATH/NAME. Features: image float32
//   [C,size,size]. imdb          aclImdb folder with train/ and test/ (split= required) or one split folder
//   with neg/ and pos/. spamassassin  the corpus folder (DIR/data/<group>/*.json or DIR/<group>/*.json); no
//   split of its own. csv, jsonl    one file with a text and a label column/field. Text features: input_ids,
//   attention_mask, token_type_ids, each int64 [seq_len].
//
// Keys:
//   all formats   split=NAME     the source's own split: train|test (imagefolder: any subfolder name)
//                 subset=train|val|test   a seeded re-split of the loaded examples (splitIndices) ...
//                 val=0.1 test=0.1 seed=0 ... with these fractions and seed (only together with subset=)
//                 val_count=N    ... with exactly N validation examples instead of a fraction (not with val=;
//                                the Training dock's held-out examples: trainingSplitSpec)
//                 limit=N        keep the first N examples (after subset=, whose order is already shuffled)
//   idx           classes=fashion-mnist|mnist   class names and default normalization; default fashion-mnist
//   if
//                                the path contains "fashion" (any case), else mnist (digits "0".."9")
//   image formats mean=M[,M,M] std=S[,S,S]   one value or one per channel; pixels are scaled to [0,1] first.
//                 Defaults: Fashion-MNIST 0.2860 / 0.3530, MNIST 0.1307 / 0.3081,
//                 CIFAR-10 0.4914,0.4822,0.4465 / 0.2470,0.2435,0.2616, image folders (ImageNet)
//                 0.485,0.456,0.406 / 0.229,0.224,0.225. mean=0&std=1 gives plain [0,1] pixels.
//                 (imagefolder with channels=1 defaults to mean 0.449 std 0.226, ImageNet's grey level.)
//   imagefolder   size=224 (shorter side resized to size, then center crop size x size), channels=3 (1 or 3,
//   RGB) text formats  vocab=PATH (required; BERT vocab.txt), seq_len=128, lowercase=true|false (also strips
//   accents) csv, jsonl    text=text label=label   the column/field names spamassassin  mail=raw|body  raw:
//   each mail as stored (all headers); body: Subject and From headers + body Labels: idx/cifar10 from the
//   files; imagefolder = index of the sorted class folder; imdb neg=0 pos=1; spamassassin ham=0 spam=1;
//   csv/jsonl integers as is (classes "0".."max") or strings (sorted distinct values).
//
// Examples:
//   fashion-mnist:train?subset=val&val=0.1&seed=1&limit=500
//   cifar10:/data/cifar-10-batches-bin?split=test
//   imagefolder:/data/flowers?split=train&size=96&mean=0.5&std=0.5
//   spamassassin:third_party/datasets/spam-assassin?vocab=vocab.txt&seq_len=128&subset=test
//   csv:reviews.csv?vocab=vocab.txt&text=review&label=sentiment
//
// readTextCorpus(spec) takes the same text specs (vocab= not needed) and returns the raw texts, e.g. to build
// a vocabulary with buildWordPieceVocab().
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "core/data/readers.h"
#include "core/util/error.h"

namespace edgetune {
namespace fs = std::filesystem;

namespace {

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// The blanks around a spec a user typed or pasted; anything else (a form feed, say) belongs to its path.
std::string trimSpec(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

class SpecReader {
 public:
  explicit SpecReader(std::string spec) : spec_(std::move(spec)) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error("dataset spec '" + spec_ + "': " + problem);
  }

  void parse() {
    std::string text = trimSpec(spec_);
    if (text.empty()) fail("empty spec (expected FORMAT:PATH[?key=value&...] or fashion-mnist)");
    std::string query;
    const size_t question = text.rfind('?');
    if (question != std::string::npos) {
      query = text.substr(question + 1);
      text.resize(question);
    }
    if (text == "fashion-mnist" || text == "fashion-mnist:train" || text == "fashion-mnist:test") {
      format_ = "idx";
      path_ = kFashionMnistDir;
      keys_["split"] = text == "fashion-mnist:train" ? "train" : "test";
      shorthand_ = true;
    } else {
      const size_t colon = text.find(':');
      if (colon == std::string::npos) fail("no FORMAT: prefix (formats: " + formatList() + ")");
      format_ = text.substr(0, colon);
      path_ = text.substr(colon + 1);
      if (!formats().count(format_)) fail("unknown format '" + format_ + "' (formats: " + formatList() + ")");
      if (path_.empty()) fail("missing PATH after '" + format_ + ":'");
    }
    if (question != std::string::npos) {
      size_t start = 0;
      while (start <= query.size()) {
        size_t end = query.find('&', start);
        if (end == std::string::npos) end = query.size();
        const std::string item = query.substr(start, end - start);
        start = end + 1;
        if (item.empty()) continue;
        const size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0) fail("'" + item + "' is not key=value");
        const std::string key = item.substr(0, eq);
        if (shorthand_ && key == "split")
          fail("the shorthand already chooses the split (fashion-mnist:train or :test)");
        if (keys_.count(key)) fail("key '" + key + "' is given twice");
        keys_[key] = item.substr(eq + 1);
      }
    }
    const std::set<std::string>& allowed = formats().at(format_);
    for (const auto& [key, value] : keys_)
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
        fail("unknown key '" + key + "' for format " + format_ + " (keys: " + list + ")");
      }
  }

  const std::string& format() const { return format_; }
  const fs::path& path() const { return path_; }
  bool has(const std::string& key) const { return keys_.count(key) > 0; }
  std::string str(const std::string& key, const std::string& fallback) const {
    auto it = keys_.find(key);
    if (it == keys_.end()) return fallback;
    if (it->second.empty()) fail("key '" + key + "' has an empty value");
    return it->second;
  }
  int64_t integer(const std::string& key, int64_t fallback, int64_t low, int64_t high) const {
    if (!has(key)) return fallback;
    const std::string value = str(key, "");
    int64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size())
      fail(key + "=" + value + " is not an integer");
    if (v < low || v > high)
      fail(key + "=" + value +
           (high == INT64_MAX
                ? " must be at least " + std::to_string(low)
                : " is out of range [" + std::to_string(low) + ", " + std::to_string(high) + "]"));
    return v;
  }
  uint64_t unsignedInteger(const std::string& key, uint64_t fallback) const {
    if (!has(key)) return fallback;
    const std::string value = str(key, "");
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size())
      fail(key + "=" + value + " is not a non-negative integer");
    return v;
  }
  std::vector<float> floats(const std::string& key, std::vector<float> fallback) const {
    if (!has(key)) return fallback;
    const std::string value = str(key, "");
    std::vector<float> out;
    size_t start = 0;
    while (start <= value.size()) {
      size_t end = value.find(',', start);
      if (end == std::string::npos) end = value.size();
      float v = 0;
      auto [stop, ec] = std::from_chars(value.data() + start, value.data() + end, v);
      if (start == end || ec != std::errc() || stop != value.data() + end)
        fail(key + "=" + value + " is not a number or comma-separated list of numbers");
      out.push_back(v);
      start = end + 1;
    }
    return out;
  }
  double fraction(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const std::string value = str(key, "");
    double v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || !(v >= 0.0 && v <= 1.0))
      fail(key + "=" + value + " is not a fraction in [0, 1]");
    return v;
  }
  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const std::string value = str(key, "");
    if (value == "true" || value == "1") return true;
    if (value == "false" || value == "0") return false;
    fail(key + "=" + value + " is not true or false");
  }

  static const std::map<std::string, std::set<std::string>>& formats() {
    static const std::map<std::string, std::set<std::string>> table = [] {
      const std::set<std::string> common = {"split", "subset", "val", "val_count", "test", "seed", "limit"};
      const auto with = [&](std::initializer_list<const char*> extra) {
        std::set<std::string> keys = common;
        keys.insert(extra.begin(), extra.end());
        return keys;
      };
      return std::map<std::string, std::set<std::string>>{
          {"idx", with({"mean", "std", "classes"})},
          {"cifar10", with({"mean", "std"})},
          {"imagefolder", with({"mean", "std", "size", "channels"})},
          {"imdb", with({"vocab", "seq_len", "lowercase"})},
          {"spamassassin", with({"vocab", "seq_len", "lowercase", "mail"})},
          {"csv", with({"vocab", "seq_len", "lowercase", "text", "label"})},
          {"jsonl", with({"vocab", "seq_len", "lowercase", "text", "label"})},
      };
    }();
    return table;
  }
  static std::string formatList() {
    std::string list;
    for (const auto& [name, keys] : formats()) list += (list.empty() ? "" : ", ") + name;
    return list;
  }

 private:
  std::string spec_;
  std::string format_;
  fs::path path_;
  std::map<std::string, std::string> keys_;
  bool shorthand_ = false;
};

bool isDirectory(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}
bool isFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The split named by split= for sources that hold both (train|test); fails when missing or unknown.
std::string requireSplit(const SpecReader& spec, const std::string& what) {
  if (!spec.has("split")) spec.fail(what + " holds both splits; add ?split=train or ?split=test");
  const std::string split = spec.str("split", "");
  if (split != "train" && split != "test") spec.fail("split=" + split + " is not train or test");
  return split;
}

void forbidSplit(const SpecReader& spec, const std::string& why) {
  if (spec.has("split")) spec.fail("split= does not apply: " + why + " (use subset=train|val|test)");
}

// Existing file `base` or `base.gz`.
fs::path plainOrGz(const SpecReader& spec, const fs::path& base) {
  if (isFile(base)) return base;
  fs::path gz = base;
  gz += ".gz";
  if (isFile(gz)) return gz;
  spec.fail("neither " + base.string() + " nor " + gz.string() + " exists");
}

std::shared_ptr<const Dataset> openIdxSpec(const SpecReader& spec) {
  std::string lower = spec.path().string();
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string classes =
      spec.str("classes", lower.find("fashion") != std::string::npos ? "fashion-mnist" : "mnist");
  IdxOptions options;
  if (classes == "fashion-mnist") {
    options.name = "Fashion-MNIST";
    options.class_names = fashionMnistClassNames();
    options.normalization = fashionMnistNormalization();
  } else if (classes == "mnist") {
    options.name = "MNIST";
    for (int d = 0; d < 10; ++d) options.class_names.push_back(std::to_string(d));
    options.normalization = mnistNormalization();
  } else {
    spec.fail("classes=" + classes + " is not fashion-mnist or mnist");
  }
  options.normalization.mean = spec.floats("mean", options.normalization.mean);
  options.normalization.std = spec.floats("std", options.normalization.std);
  fs::path images, labels;
  if (isDirectory(spec.path())) {
    const std::string split = requireSplit(spec, "the IDX folder " + spec.path().string());
    const std::string prefix = split == "train" ? "train" : "t10k";
    images = plainOrGz(spec, spec.path() / (prefix + "-images-idx3-ubyte"));
    labels = plainOrGz(spec, spec.path() / (prefix + "-labels-idx1-ubyte"));
    options.name += " " + split;
  } else if (isFile(spec.path())) {
    forbidSplit(spec, "PATH is one IDX file");
    images = spec.path();
    const std::string file_name = images.filename().string();
    const size_t at = file_name.find("images-idx3");
    if (at == std::string::npos)
      spec.fail(images.string() +
                ": cannot find the labels file (the images file name must contain images-idx3)");
    std::string label_name = file_name;
    label_name.replace(at, std::string("images-idx3").size(), "labels-idx1");
    labels = images.parent_path() / label_name;
    if (!isFile(labels)) spec.fail("labels file " + labels.string() + " does not exist");
    options.name += " " + file_name;
  } else {
    spec.fail(spec.path().string() + " does not exist");
  }
  return openIdx(images, labels, options);
}

std::shared_ptr<const Dataset> openCifarSpec(const SpecReader& spec) {
  Cifar10Options options;
  options.normalization.mean = spec.floats("mean", options.normalization.mean);
  options.normalization.std = spec.floats("std", options.normalization.std);
  std::vector<fs::path> files;
  if (isDirectory(spec.path())) {
    fs::path dir = spec.path();
    if (isDirectory(dir / "cifar-10-batches-bin")) dir /= "cifar-10-batches-bin";
    const std::string split = requireSplit(spec, "the CIFAR-10 folder " + dir.string());
    if (split == "train") {
      for (int b = 1; b <= 5; ++b)
        if (isFile(dir / ("data_batch_" + std::to_string(b) + ".bin")))
          files.push_back(dir / ("data_batch_" + std::to_string(b) + ".bin"));
      if (files.empty()) spec.fail(dir.string() + " holds no data_batch_1.bin ... data_batch_5.bin");
    } else {
      if (!isFile(dir / "test_batch.bin")) spec.fail((dir / "test_batch.bin").string() + " does not exist");
      files.push_back(dir / "test_batch.bin");
    }
    options.name += " " + split;
  } else if (isFile(spec.path())) {
    forbidSplit(spec, "PATH is one CIFAR-10 batch file");
    files.push_back(spec.path());
    options.name += " " + spec.path().filename().string();
  } else {
    spec.fail(spec.path().string() + " does not exist");
  }
  return openCifar10(files, options);
}

std::shared_ptr<const Dataset> openImageFolderSpec(const SpecReader& spec) {
  ImageFolderOptions options;
  options.size = spec.integer("size", options.size, 1, 16384);
  options.channels = spec.integer("channels", options.channels, 1, 3);
  options.normalization.mean = spec.floats("mean", options.normalization.mean);
  options.normalization.std = spec.floats("std", options.normalization.std);
  if (!spec.has("mean") && options.channels == 1)
    options.normalization.mean = {0.449f};  // ImageNet grey level
  if (!spec.has("std") && options.channels == 1) options.normalization.std = {0.226f};
  fs::path root = spec.path();
  if (spec.has("split")) root /= spec.str("split", "");
  if (!isDirectory(root)) spec.fail(root.string() + " is not a folder");
  return openImageFolder(root, options);
}

TextOptions textOptions(const SpecReader& spec) {
  if (!spec.has("vocab")) spec.fail("vocab=PATH is required for text datasets (a BERT vocab.txt)");
  WordPieceTokenizer::Options tokenizer_options;
  tokenizer_options.lower_case = tokenizer_options.strip_accents = spec.boolean("lowercase", true);
  TextOptions options;
  options.tokenizer = std::make_shared<WordPieceTokenizer>(
      WordPieceTokenizer::fromFile(spec.str("vocab", ""), tokenizer_options));
  options.seq_len = spec.integer("seq_len", options.seq_len, 2, 1 << 20);
  return options;
}

bool isTextFormat(const std::string& format) {
  return format == "imdb" || format == "spamassassin" || format == "csv" || format == "jsonl";
}

TextCorpus readTextSpec(const SpecReader& spec) {
  const std::string& format = spec.format();
  if (format == "imdb") {
    fs::path dir = spec.path();
    if (!isDirectory(dir)) spec.fail(dir.string() + " is not a folder");
    if (isDirectory(dir / "neg") || isDirectory(dir / "pos")) {
      forbidSplit(spec, dir.string() + " is one split (it holds neg/ and pos/)");
    } else {
      dir /= requireSplit(spec, "the aclImdb folder " + dir.string());
      if (!isDirectory(dir)) spec.fail(dir.string() + " is not a folder");
    }
    return readImdb(dir);
  }
  if (format == "spamassassin") {
    forbidSplit(spec, "SpamAssassin has no split of its own");
    if (!isDirectory(spec.path())) spec.fail(spec.path().string() + " is not a folder");
    const std::string mail = spec.str("mail", "raw");
    if (mail != "raw" && mail != "body") spec.fail("mail=" + mail + " is not one of raw, body");
    return readSpamAssassin(spec.path(), mail == "body" ? MailText::SubjectBody : MailText::Raw);
  }
  forbidSplit(spec, "a " + format + " file has no split of its own");
  if (!isFile(spec.path())) spec.fail(spec.path().string() + " is not a file");
  const std::string text = spec.str("text", "text"), label = spec.str("label", "label");
  if (format == "csv") return readCsv(spec.path(), text, label);
  return readJsonl(spec.path(), text, label);
}

// subset=, val=, test=, seed= and limit=, validated before anything is loaded (loading can take seconds).
struct Selection {
  bool has_subset = false;
  std::string subset;
  double val = 0.1, test = 0.1;
  int64_t val_count = -1;  // >= 0: a count instead of the fraction `val`
  uint64_t seed = 0;
  int64_t limit = -1;

  explicit Selection(const SpecReader& spec) {
    has_subset = spec.has("subset");
    subset = spec.str("subset", "");
    if (has_subset && subset != "train" && subset != "val" && subset != "test")
      spec.fail("subset=" + subset + " is not train, val or test");
    if (!has_subset && (spec.has("val") || spec.has("val_count") || spec.has("test") || spec.has("seed")))
      spec.fail("val=, val_count=, test= and seed= apply only together with subset=train|val|test");
    if (spec.has("val") && spec.has("val_count"))
      spec.fail("val= and val_count= both size the validation part: give one");
    val_count = spec.integer("val_count", -1, 0, INT64_MAX);
    if (val_count >= 0) val = 0;
    val = spec.fraction("val", val);
    test = spec.fraction("test", test);
    if (val + test > 1.0) spec.fail("val + test fractions exceed 1");
    seed = spec.unsignedInteger("seed", seed);
    limit = spec.integer("limit", -1, 1, INT64_MAX);
  }

  std::string subsetLabel() const {
    char label[128];
    if (val_count >= 0)
      std::snprintf(label, sizeof label, "subset %s (val_count=%lld, test=%g, seed=%llu)", subset.c_str(),
                    static_cast<long long>(val_count), test, static_cast<unsigned long long>(seed));
    else
      std::snprintf(label, sizeof label, "subset %s (val=%g, test=%g, seed=%llu)", subset.c_str(), val, test,
                    static_cast<unsigned long long>(seed));
    return label;
  }
  std::vector<size_t> subsetIndices(size_t n) const {
    SplitIndices split =
        val_count >= 0
            ? splitIndicesByCount(n, static_cast<size_t>(val_count),
                                  static_cast<size_t>(std::llround(static_cast<double>(n) * test)), seed)
            : splitIndices(n, val, test, seed);
    return std::move(subset == "train" ? split.train : subset == "val" ? split.validation : split.test);
  }

  std::shared_ptr<const Dataset> apply(std::shared_ptr<const Dataset> dataset) const {
    if (has_subset)
      dataset = std::make_shared<SubsetDataset>(dataset, subsetIndices(dataset->size()), subsetLabel());
    if (limit > 0 && static_cast<size_t>(limit) < dataset->size()) {
      std::vector<size_t> first(static_cast<size_t>(limit));
      for (size_t i = 0; i < first.size(); ++i) first[i] = i;
      dataset = std::make_shared<SubsetDataset>(dataset, std::move(first), "first " + std::to_string(limit));
    }
    return dataset;
  }

  TextCorpus apply(TextCorpus corpus) const {
    std::vector<size_t> chosen(corpus.texts.size());
    for (size_t i = 0; i < chosen.size(); ++i) chosen[i] = i;
    if (has_subset) {
      chosen = subsetIndices(corpus.texts.size());
      corpus.name += ", " + subsetLabel();
    }
    if (limit > 0 && static_cast<size_t>(limit) < chosen.size()) {
      chosen.resize(static_cast<size_t>(limit));
      corpus.name += ", first " + std::to_string(limit);
    }
    TextCorpus out{std::move(corpus.name), {}, {}, std::move(corpus.class_names)};
    for (size_t i : chosen) {
      out.texts.push_back(std::move(corpus.texts[i]));
      out.labels.push_back(corpus.labels[i]);
    }
    return out;
  }
};

}  // namespace

std::shared_ptr<const Dataset> openDataset(const std::string& spec_string) {
  SpecReader spec(spec_string);
  spec.parse();
  const Selection selection(spec);
  std::shared_ptr<const Dataset> dataset;
  const std::string& format = spec.format();
  if (format == "idx")
    dataset = openIdxSpec(spec);
  else if (format == "cifar10")
    dataset = openCifarSpec(spec);
  else if (format == "imagefolder")
    dataset = openImageFolderSpec(spec);
  else {
    // The options first: a missing vocab= is the mistake to report, before any file is read (and argument
    // order is unspecified: GCC and clang would read them in opposite orders).
    const TextOptions options = textOptions(spec);
    dataset = makeTextDataset(readTextSpec(spec), options);
  }
  return selection.apply(dataset);
}

DatasetSpecFiles datasetSpecFiles(const std::string& spec_string) {
  SpecReader spec(spec_string);
  spec.parse();
  return {spec.path(), spec.has("vocab") ? fs::path(spec.str("vocab", "")) : fs::path()};
}

std::string trainingSplitSpec(const std::string& spec_string, TrainingSplitPart part, size_t validation_count,
                              uint64_t seed) {
  SpecReader spec(spec_string);
  spec.parse();  // a bad spec is refused as itself, before anything is added to it
  for (const char* key : {"subset", "val", "val_count", "test", "seed"})
    if (spec.has(key))
      spec.fail(std::string(key) +
                "= is given: it already selects part of the examples, and the training split adds its own " +
                "subset= (open it without subset=, val=, val_count=, test= and seed=)");
  std::string text = trimSpec(spec_string);
  text += text.find('?') == std::string::npos ? "?" : "&";
  text += std::string("subset=") + (part == TrainingSplitPart::Train ? "train" : "val") +
          "&val_count=" + std::to_string(validation_count) + "&test=0&seed=" + std::to_string(seed);
  return text;
}

TextCorpus readTextCorpus(const std::string& spec_string) {
  SpecReader spec(spec_string);
  spec.parse();
  if (!isTextFormat(spec.format())) spec.fail("format " + spec.format() + " holds images, not texts");
  const Selection selection(spec);
  return selection.apply(readTextSpec(spec));
}

}  // namespace edgetune
