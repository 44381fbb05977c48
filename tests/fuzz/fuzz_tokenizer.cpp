// The WordPiece tokenizer on hostile text and hostile vocabularies, with what tokenizer.h promises checked:
// encode() gives exactly max_length ids of [CLS] pieces [SEP] [PAD]..., a mask of ones then zeros and ids
// inside the vocabulary; pieceIds(text, n) is the first n of pieceIds(text); tokenize() spells pieceIds().
//
// Input framing: byte 0 = flags (bit 0: lower-case and strip accents; bits 1-2: where the vocabulary comes
// from), byte 1 = a size (encode's max_length, or the built vocabulary's size), then the payload:
//   0, 1  the text, tokenized with the bundled BERT vocabulary (resources/models/bert_spam_vocab.txt);
//   2     a vocab.txt up to the first NUL byte, read with fromFile, then the text after it;
//   3     NUL-separated texts: a vocabulary built from them (buildWordPieceVocab) must encode every word of
//         them without [UNK] (words under max_chars_per_word), and survive writeVocab + fromFile.
#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/data/tokenizer.h"
#include "fuzz_common.h"

using namespace edgetune;

namespace {

const WordPieceTokenizer& bundledTokenizer(bool lower_case) {
  static const auto load = [](bool lower) {
    WordPieceTokenizer::Options options;
    options.lower_case = options.strip_accents = lower;
    return WordPieceTokenizer::fromFile(EDGETUNE_SOURCE_DIR "/resources/models/bert_spam_vocab.txt", options);
  };
  static const WordPieceTokenizer lower = load(true), cased = load(false);
  return lower_case ? lower : cased;
}

void checkPromises(const WordPieceTokenizer& tokenizer, std::string_view text, size_t max_length) {
  const std::vector<int32_t> ids = tokenizer.pieceIds(text);
  for (const int32_t id : ids)
    fuzz::require(id >= 0 && static_cast<size_t>(id) < tokenizer.vocabSize(),
                  "piece ids are in the vocabulary");
  const size_t cut = max_length / 2;
  const std::vector<int32_t> first = tokenizer.pieceIds(text, cut);
  fuzz::require(
      first.size() == std::min(cut, ids.size()) && std::equal(first.begin(), first.end(), ids.begin()),
      "pieceIds(text, n) is the first n pieces");
  const std::vector<std::string> pieces = tokenizer.tokenize(text);
  fuzz::require(pieces.size() == ids.size(), "tokenize() has a string per piece id");
  for (size_t i = 0; i < pieces.size(); ++i)
    fuzz::require(pieces[i] == tokenizer.token(ids[i]), "tokenize() spells pieceIds()");
  (void)tokenizer.basicTokenize(text);

  fuzz::accepted([&] {
    const Encoding encoding = tokenizer.encode(text, max_length);
    fuzz::require(encoding.input_ids.size() == max_length && encoding.attention_mask.size() == max_length &&
                      encoding.token_type_ids.size() == max_length,
                  "encode() gives max_length of each");
    const size_t real = std::min(ids.size(), max_length - 2) + 2;
    fuzz::require(
        encoding.input_ids[0] == tokenizer.clsId() && encoding.input_ids[real - 1] == tokenizer.sepId(),
        "[CLS] pieces [SEP]");
    for (size_t i = 0; i < max_length; ++i) {
      fuzz::require(encoding.attention_mask[i] == (i < real ? 1 : 0), "the mask covers [CLS] ... [SEP]");
      fuzz::require(encoding.token_type_ids[i] == 0, "one segment");
      if (i >= real) fuzz::require(encoding.input_ids[i] == tokenizer.padId(), "[PAD] after [SEP]");
      if (i > 0 && i + 1 < real) fuzz::require(encoding.input_ids[i] == ids[i - 1], "the pieces in order");
    }
  });
}

// Mode 3: a vocabulary built from the texts encodes them.
void buildAndCheck(std::string_view payload, size_t target_size, const WordPieceTokenizer::Options& options) {
  std::vector<std::string> corpus;
  for (size_t start = 0; start <= payload.size();) {
    const size_t end = std::min(payload.find('\0', start), payload.size());
    corpus.emplace_back(payload.substr(start, end - start));
    start = end + 1;
  }
  std::vector<std::string> vocab;
  if (!fuzz::accepted([&] { vocab = buildWordPieceVocab(corpus, target_size, options); })) return;
  const WordPieceTokenizer tokenizer(vocab, options);
  for (const std::string& text : corpus) {
    const auto words = tokenizer.basicTokenize(text);
    const bool has_long_word = std::any_of(words.begin(), words.end(), [&](const std::string& w) {
      return w.size() >
             options.max_chars_per_word;  // bytes >= characters: no word under the limit is skipped
    });
    if (has_long_word) continue;
    const auto ids = tokenizer.pieceIds(text);
    fuzz::require(std::find(ids.begin(), ids.end(), tokenizer.unkId()) == ids.end(),
                  "a vocabulary built from a corpus encodes its words without [UNK]");
  }
  const auto file = fuzz::freshInputDir() / "vocab.txt";
  writeVocab(file, vocab);
  const WordPieceTokenizer reread = WordPieceTokenizer::fromFile(file, options);
  fuzz::require(reread.vocabSize() == vocab.size(), "writeVocab + fromFile keep every token");
  for (size_t i = 0; i < vocab.size(); ++i)
    fuzz::require(reread.token(static_cast<int32_t>(i)) == vocab[i], "writeVocab + fromFile keep the order");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  WordPieceTokenizer::Options options;
  options.lower_case = options.strip_accents = (data[0] & 1) != 0;
  const int mode = (data[0] >> 1) & 3;
  const std::string_view payload = fuzz::bytesOf(data + 2, size - 2);
  const size_t max_length = 2 + data[1] % 64;
  if (mode <= 1) {
    checkPromises(bundledTokenizer(options.lower_case), payload, max_length);
  } else if (mode == 2) {
    const size_t nul = std::min(payload.find('\0'), payload.size());
    const auto file = fuzz::freshInputDir() / "vocab.txt";
    fuzz::writeBytes(file, payload.substr(0, nul));
    const std::string_view text = nul < payload.size() ? payload.substr(nul + 1) : std::string_view();
    std::optional<WordPieceTokenizer> tokenizer;
    if (fuzz::accepted([&] { tokenizer.emplace(WordPieceTokenizer::fromFile(file, options)); }))
      checkPromises(*tokenizer, text, max_length);
  } else {
    buildAndCheck(payload, 5 + 4 * static_cast<size_t>(data[1]), options);
  }
  return 0;
}
