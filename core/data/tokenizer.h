#pragma once
// BERT WordPiece tokenizer (vocab.txt, one token per line) and a small deterministic WordPiece vocabulary
// builder.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace edgetune {

/// Token ids, attention mask and token type ids of one encoded text, each exactly max_length long.
struct Encoding {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> attention_mask;  // 1 for real tokens ([CLS] ... [SEP]), 0 for [PAD]
  std::vector<int64_t> token_type_ids;  // all 0: a single segment
};

/// Splits text the way BERT's BasicTokenizer + WordpieceTokenizer do and maps pieces to vocabulary ids.
/// Text is UTF-8; invalid bytes and control characters are dropped, multi-byte characters are never split.
/// Lower-casing covers ASCII and Latin-1 letters; accent stripping maps Latin-1 accented letters to their
/// base letter and drops combining marks (U+0300..U+036F).
class WordPieceTokenizer {
 public:
  struct Options {
    bool lower_case = true;
    bool strip_accents = true;        // BERT uncased strips accents whenever it lower-cases
    size_t max_chars_per_word = 100;  // longer words (in characters) become [UNK]
  };

  /// `vocab[i]` is the token of id i. Requires [PAD], [UNK], [CLS] and [SEP]; throws Error naming `source`.
  WordPieceTokenizer(std::vector<std::string> vocab, Options options,
                     const std::string& source = "vocabulary");
  explicit WordPieceTokenizer(std::vector<std::string> vocab)
      : WordPieceTokenizer(std::move(vocab), Options{}) {}
  /// Reads vocab.txt (one token per line, a trailing '\r' is ignored); throws Error naming the file.
  static WordPieceTokenizer fromFile(const std::filesystem::path& vocab_path, Options options);
  static WordPieceTokenizer fromFile(const std::filesystem::path& vocab_path) {
    return fromFile(vocab_path, Options{});
  }

  /// Normalized words and punctuation marks (BERT's basic tokenization), in order.
  std::vector<std::string> basicTokenize(std::string_view text) const;
  /// Word-piece ids of `text` without special tokens; stops after `max_pieces` pieces (text past that is not
  /// read).
  std::vector<int32_t> pieceIds(std::string_view text, size_t max_pieces = SIZE_MAX) const;
  /// Word-piece strings of `text` ("un", "##aff", "##able"), for inspection and tests.
  std::vector<std::string> tokenize(std::string_view text) const;
  /// [CLS] pieces [SEP], truncated to max_length (>= 2), then padded with [PAD].
  Encoding encode(std::string_view text, size_t max_length) const;

  size_t vocabSize() const { return vocab_.size(); }
  const std::string& token(int32_t id) const { return vocab_.at(static_cast<size_t>(id)); }
  /// Id of a token, or -1.
  int32_t id(std::string_view token) const;
  int32_t padId() const { return pad_id_; }
  int32_t unkId() const { return unk_id_; }
  int32_t clsId() const { return cls_id_; }
  int32_t sepId() const { return sep_id_; }
  const Options& options() const { return options_; }

 private:
  // Calls `word` for each normalized word/punctuation mark until it returns false.
  void forEachWord(std::string_view text, const std::function<bool(std::string_view)>& word) const;
  // Appends the pieces of one normalized word; returns false if it became [UNK].
  void appendPieces(std::string_view word, std::vector<int32_t>& out) const;

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> ids_;
  Options options_;
  int32_t pad_id_ = -1, unk_id_ = -1, cls_id_ = -1, sep_id_ = -1;
};

/// Builds a WordPiece vocabulary of exactly `target_size` tokens from a corpus, deterministically:
///   ids 0..4 are [PAD], [UNK], [CLS], [SEP], [MASK];
///   then every character seen, as "c" and "##c" (so every word of the corpus encodes without [UNK]),
///        most frequent first (ties in byte order);
///   then whole words and "##suffix" pieces (the last 2..8 characters of a longer word), ranked by how many
///   word
///        occurrences they cover (a suffix counts half, so whole words win ties), ties in byte order.
/// Words longer than max_chars_per_word only contribute their characters (they encode as [UNK] anyway).
/// Cost: about linear in the corpus size (the 6,046 SpamAssassin mails, 8,000 tokens: see the test's log).
/// Words are normalized with `options` (use the same options when tokenizing). Throws Error if target_size is
/// smaller than the special tokens plus the characters. Fewer tokens are returned if the corpus runs out.
std::vector<std::string> buildWordPieceVocab(const std::vector<std::string>& corpus, size_t target_size,
                                             const WordPieceTokenizer::Options& options = {});

/// Writes one token per line, atomically (temporary file + rename).
void writeVocab(const std::filesystem::path& path, const std::vector<std::string>& vocab);

}  // namespace edgetune
