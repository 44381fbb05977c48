// BERT WordPiece tokenization without an ICU dependency: the Unicode classes BERT relies on are covered by
// small tables (ASCII, Latin-1, common punctuation/space/format ranges, CJK ideographs), which is what
// English-centric vocabularies and the datasets EdgeTune reads need.
#include "core/data/tokenizer.h"

#include <algorithm>
#include <unordered_map>

#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune {

namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

// Decodes one UTF-8 character at text[pos]; returns kInvalid (and length 1) for a malformed byte sequence.
char32_t decodeUtf8(std::string_view text, size_t pos, size_t& length) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char b0 = byte(pos);
  length = 1;
  if (b0 < 0x80) return b0;
  size_t extra;
  char32_t cp;
  if ((b0 & 0xE0) == 0xC0)
    extra = 1, cp = b0 & 0x1F;
  else if ((b0 & 0xF0) == 0xE0)
    extra = 2, cp = b0 & 0x0F;
  else if ((b0 & 0xF8) == 0xF0)
    extra = 3, cp = b0 & 0x07;
  else
    return kInvalid;
  if (pos + extra >= text.size()) return kInvalid;  // truncated sequence
  for (size_t i = 1; i <= extra; ++i) {
    const unsigned char b = byte(pos + i);
    if ((b & 0xC0) != 0x80) return kInvalid;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMinimum[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return kInvalid;
  length = extra + 1;
  return cp;
}

void appendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool isWhitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// Unicode Cc and the common Cf characters (soft hyphen, zero-width and bidi marks, BOM); BERT drops both.
bool isControl(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0xAD || (c >= 0x200B && c <= 0x200F) ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF || c == 0xFFFD;
}

// BERT counts every non-alphanumeric ASCII character as punctuation, plus Unicode P* characters.
bool isPunctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
    return true;
  return c == 0xA1 || c == 0xA7 || c == 0xAB || c == 0xB6 || c == 0xB7 || c == 0xBB || c == 0xBF ||
         c == 0x37E || c == 0x387 || (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205E) ||
         (c >= 0x3001 && c <= 0x3003) || (c >= 0x3008 && c <= 0x3011) || (c >= 0x3014 && c <= 0x301F) ||
         (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
         (c >= 0xFF5B && c <= 0xFF65);
}

// The CJK Unified Ideographs blocks BERT splits into single-character words.
bool isCjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

char32_t toLower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;     // Latin-1 capitals
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;  // Greek capitals
  if (c >= 0x410 && c <= 0x42F) return c + 32;                // Cyrillic capitals
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

// Latin-1 letters with a canonical decomposition, mapped to their base letter (what NFD + dropping Mn gives);
// 0 means "no decomposition".
char32_t stripAccent(char32_t c) {
  static constexpr char kLatin1[] =
      "AAAAAA\0CEEEEIIII\0NOOOOO\0\0UUUUY\0\0"
      "aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0y";
  if (c >= 0xC0 && c <= 0xFF) {
    char base = kLatin1[c - 0xC0];
    if (c == 0xC6 || c == 0xE6) base = 0;  // Æ/æ are letters of their own
    return base ? static_cast<char32_t>(base) : c;
  }
  return c;
}

bool isCombiningMark(char32_t c) {
  return c >= 0x300 && c <= 0x36F;
}

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, Options options,
                                       const std::string& source)
    : vocab_(std::move(vocab)), options_(options) {
  ids_.reserve(vocab_.size());
  for (size_t i = 0; i < vocab_.size(); ++i)
    ids_.emplace(vocab_[i], static_cast<int32_t>(i));  // first one wins
  const auto special = [&](const char* name) {
    int32_t found = id(name);
    if (found < 0) throw Error(source + ": the vocabulary has no " + name + " token");
    return found;
  };
  pad_id_ = special("[PAD]");
  unk_id_ = special("[UNK]");
  cls_id_ = special("[CLS]");
  sep_id_ = special("[SEP]");
  if (options_.max_chars_per_word == 0) throw Error(source + ": max_chars_per_word must be positive");
}

WordPieceTokenizer WordPieceTokenizer::fromFile(const std::filesystem::path& vocab_path, Options options) {
  std::string text = readFile(vocab_path);
  std::vector<std::string> vocab;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    vocab.emplace_back(line);
    start = end + 1;
  }
  if (vocab.empty()) throw Error(vocab_path.string() + ": empty vocabulary file");
  return WordPieceTokenizer(std::move(vocab), options, vocab_path.string());
}

int32_t WordPieceTokenizer::id(std::string_view token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

void WordPieceTokenizer::forEachWord(std::string_view text,
                                     const std::function<bool(std::string_view)>& word) const {
  std::string current;
  std::string single;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length;
    char32_t c = decodeUtf8(text, pos, length);
    pos += length;
    if (c == kInvalid || c == 0) continue;
    if (isWhitespace(c)) {
      if (!current.empty()) {
        if (!word(current)) return;
        current.clear();
      }
      continue;
    }
    if (isControl(c)) continue;
    if (options_.lower_case) c = toLower(c);
    if (options_.strip_accents) {
      if (isCombiningMark(c)) continue;
      c = stripAccent(c);
    }
    if (isPunctuation(c) || isCjk(c)) {
      if (!current.empty()) {
        if (!word(current)) return;
        current.clear();
      }
      single.clear();
      appendUtf8(single, c);
      if (!word(single)) return;
      continue;
    }
    appendUtf8(current, c);
  }
  if (!current.empty()) word(current);
}

std::vector<std::string> WordPieceTokenizer::basicTokenize(std::string_view text) const {
  std::vector<std::string> words;
  forEachWord(text, [&](std::string_view w) {
    words.emplace_back(w);
    return true;
  });
  return words;
}

void WordPieceTokenizer::appendPieces(std::string_view word, std::vector<int32_t>& out) const {
  // Byte offsets of character starts, plus the end; words are valid UTF-8 (forEachWord re-encodes them).
  std::vector<size_t> starts;
  for (size_t i = 0; i < word.size(); ++i)
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) starts.push_back(i);
  if (starts.size() > options_.max_chars_per_word) {
    out.push_back(unk_id_);
    return;
  }
  starts.push_back(word.size());
  const size_t first_piece = out.size();
  std::string candidate;
  size_t start = 0;  // index into starts
  const size_t chars = starts.size() - 1;
  while (start < chars) {
    int32_t found = -1;
    size_t end = chars;
    for (; end > start; --end) {
      candidate.assign(start > 0 ? "##" : "");
      candidate.append(word.substr(starts[start], starts[end] - starts[start]));
      found = id(candidate);
      if (found >= 0) break;
    }
    if (found < 0) {  // BERT: a word with any unmatchable part is [UNK] as a whole
      out.resize(first_piece);
      out.push_back(unk_id_);
      return;
    }
    out.push_back(found);
    start = end;
  }
}

std::vector<int32_t> WordPieceTokenizer::pieceIds(std::string_view text, size_t max_pieces) const {
  std::vector<int32_t> ids;
  if (max_pieces == 0) return ids;
  forEachWord(text, [&](std::string_view w) {
    appendPieces(w, ids);
    return ids.size() < max_pieces;
  });
  if (ids.size() > max_pieces) ids.resize(max_pieces);
  return ids;
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> tokens;
  for (int32_t piece : pieceIds(text)) tokens.push_back(token(piece));
  return tokens;
}

Encoding WordPieceTokenizer::encode(std::string_view text, size_t max_length) const {
  if (max_length < 2)
    throw Error("sequence length " + std::to_string(max_length) + " is too short for [CLS] and [SEP]");
  std::vector<int32_t> pieces = pieceIds(text, max_length - 2);
  Encoding e;
  e.input_ids.assign(max_length, pad_id_);
  e.attention_mask.assign(max_length, 0);
  e.token_type_ids.assign(max_length, 0);
  e.input_ids[0] = cls_id_;
  std::copy(pieces.begin(), pieces.end(), e.input_ids.begin() + 1);
  e.input_ids[pieces.size() + 1] = sep_id_;
  std::fill(e.attention_mask.begin(), e.attention_mask.begin() + static_cast<ptrdiff_t>(pieces.size() + 2),
            1);
  return e;
}

std::vector<std::string> buildWordPieceVocab(const std::vector<std::string>& corpus, size_t target_size,
                                             const WordPieceTokenizer::Options& options) {
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  // A throwaway tokenizer gives the exact normalization and word splitting used later.
  const WordPieceTokenizer normalizer(vocab, options);
  std::unordered_map<std::string, uint64_t> word_counts;
  for (const std::string& text : corpus)
    for (std::string& w : normalizer.basicTokenize(text)) ++word_counts[std::move(w)];
  std::unordered_map<std::string, uint64_t> char_counts;
  std::unordered_map<std::string, uint64_t> piece_scores;
  std::vector<size_t> starts;
  for (const auto& [word, count] : word_counts) {
    starts.clear();
    for (size_t i = 0; i < word.size(); ++i)
      if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) starts.push_back(i);
    starts.push_back(word.size());
    const size_t chars = starts.size() - 1;
    for (size_t c = 0; c < chars; ++c)
      char_counts[word.substr(starts[c], starts[c + 1] - starts[c])] += count;
    // Too long words are [UNK] whatever the vocabulary holds: only their characters count.
    if (chars > options.max_chars_per_word) continue;
    if (chars >= 2) piece_scores[word] += 2 * count;
    for (size_t length = 2; length <= 8 && length < chars; ++length)
      piece_scores["##" + word.substr(starts[chars - length])] += count;
  }
  // Highest count first, ties in byte order: a total order, so the result never depends on hash order.
  const auto ranked = [](std::unordered_map<std::string, uint64_t>& counts) {
    std::vector<std::pair<std::string, uint64_t>> items;
    items.reserve(counts.size());
    for (auto& [token, count] : counts) items.emplace_back(token, count);
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    return items;
  };
  const size_t minimum = vocab.size() + 2 * char_counts.size();
  if (target_size < minimum)
    throw Error("vocabulary size " + std::to_string(target_size) + " is too small: the corpus has " +
                std::to_string(char_counts.size()) + " distinct characters, which need at least " +
                std::to_string(minimum) + " entries");
  for (const auto& [c, count] : ranked(char_counts)) {
    vocab.push_back(c);
    vocab.push_back("##" + c);
  }
  for (const auto& [piece, score] : ranked(piece_scores)) {
    if (vocab.size() >= target_size) break;
    vocab.push_back(piece);
  }
  return vocab;
}

void writeVocab(const std::filesystem::path& path, const std::vector<std::string>& vocab) {
  std::string text;
  for (const std::string& token : vocab) {
    if (token.find('\n') != std::string::npos) throw Error(path.string() + ": token contains a line break");
    text += token;
    text += '\n';
  }
  writeFileAtomic(path, text);
}

}  // namespace edgetune
