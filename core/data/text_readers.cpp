// Text datasets: every source is read, tokenized once (only the first seq_len pieces of each text are
// computed) and kept as int32 token ids; get() pads them into the three int64 BERT inputs.
#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/data/readers.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune {
namespace fs = std::filesystem;

std::vector<FeatureInfo> textFeatures(int64_t seq_len) {
  return {{"input_ids", DataType::Int64, {seq_len}},
          {"attention_mask", DataType::Int64, {seq_len}},
          {"token_type_ids", DataType::Int64, {seq_len}}};
}

namespace {

class TextDataset : public Dataset {
 public:
  TextDataset(std::string name, const std::vector<std::string>& texts, std::vector<int64_t> labels,
              std::vector<std::string> class_names, const TextOptions& options)
      : name_(std::move(name)),
        labels_(std::move(labels)),
        class_names_(std::move(class_names)),
        seq_len_(options.seq_len) {
    if (!options.tokenizer) throw Error(name_ + ": a text dataset needs a tokenizer (vocab=PATH)");
    if (seq_len_ < 2 || seq_len_ > 1'000'000)
      throw Error(name_ + ": sequence length " + std::to_string(seq_len_) + " is out of range (2 or more)");
    if (texts.size() != labels_.size()) throw Error(name_ + ": texts and labels differ in number");
    const WordPieceTokenizer& tokenizer = *options.tokenizer;
    pad_id_ = tokenizer.padId();
    offsets_.reserve(texts.size() + 1);
    offsets_.push_back(0);
    for (const std::string& text : texts) {
      ids_.push_back(tokenizer.clsId());
      std::vector<int32_t> pieces = tokenizer.pieceIds(text, static_cast<size_t>(seq_len_ - 2));
      ids_.insert(ids_.end(), pieces.begin(), pieces.end());
      ids_.push_back(tokenizer.sepId());
      offsets_.push_back(ids_.size());
    }
    ids_.shrink_to_fit();
    name_ += " (" + std::to_string(labels_.size()) + " texts)";
  }
  std::string name() const override { return name_; }
  size_t size() const override { return labels_.size(); }
  Example get(size_t index) const override {
    if (index >= labels_.size())
      throw Error(name_ + ": example index " + std::to_string(index) + " is out of range");
    Tensor ids(DataType::Int64, {seq_len_}), mask(DataType::Int64, {seq_len_}),
        types(DataType::Int64, {seq_len_});
    auto id_values = ids.values<int64_t>();
    auto mask_values = mask.values<int64_t>();
    std::fill(id_values.begin(), id_values.end(), pad_id_);
    for (size_t i = offsets_[index], j = 0; i < offsets_[index + 1]; ++i, ++j) {
      id_values[j] = ids_[i];
      mask_values[j] = 1;
    }
    Example e;
    e.features = {std::move(ids), std::move(mask), std::move(types)};
    e.label = labels_[index];
    return e;
  }
  std::vector<FeatureInfo> features() const override { return textFeatures(seq_len_); }
  std::vector<std::string> classNames() const override { return class_names_; }

 private:
  std::string name_;
  std::vector<int64_t> labels_;
  std::vector<std::string> class_names_;
  int64_t seq_len_;
  int32_t pad_id_ = 0;
  std::vector<int32_t> ids_;     // [CLS] pieces [SEP] of every text, back to back
  std::vector<size_t> offsets_;  // text i is ids_[offsets_[i], offsets_[i+1])
};

std::vector<fs::path> sortedFiles(const fs::path& dir, const std::string& extension) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file() && entry.path().extension() == extension) files.push_back(entry.path());
  if (ec) throw Error(dir.string() + ": cannot list the folder (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  return files;
}

void replaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// Raw label strings -> label ids + class names (integers as is when `try_integers` and all are integers, else
// sorted distinct strings). `where[i]` names the row of label i for errors.
void resolveLabels(const std::vector<std::string>& raw, const std::vector<std::string>& where,
                   bool try_integers, std::vector<int64_t>& labels, std::vector<std::string>& class_names) {
  bool all_integers = try_integers && !raw.empty();
  std::vector<int64_t> values;
  for (size_t i = 0; all_integers && i < raw.size(); ++i) {
    const std::string& s = raw[i];
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) {
      all_integers = false;
      break;
    }
    values.push_back(v);
  }
  if (all_integers) {
    int64_t max_label = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i] < 0) throw Error(where[i] + ": negative label " + std::to_string(values[i]));
      if (values[i] > 100000)
        throw Error(where[i] + ": label " + std::to_string(values[i]) + " is implausibly large");
      max_label = std::max(max_label, values[i]);
    }
    labels = std::move(values);
    class_names.clear();
    for (int64_t c = 0; c <= max_label; ++c) class_names.push_back(std::to_string(c));
    return;
  }
  std::set<std::string> distinct(raw.begin(), raw.end());
  class_names.assign(distinct.begin(), distinct.end());
  labels.clear();
  for (const std::string& s : raw)
    labels.push_back(std::lower_bound(class_names.begin(), class_names.end(), s) - class_names.begin());
}

// RFC 4180 CSV: comma separated, fields optionally in double quotes ("" inside quotes is a quote; quoted
// fields may hold commas and line breaks). Returns rows with the 1-based line each starts on.
std::vector<std::pair<size_t, std::vector<std::string>>> parseCsv(const std::string& text,
                                                                  const fs::path& file) {
  std::vector<std::pair<size_t, std::vector<std::string>>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, field_quoted = false, row_has_content = false;
  size_t line = 1, row_line = 1;
  size_t i = text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // skip a UTF-8 BOM
  const auto endField = [&] {
    row.push_back(std::move(field));
    field.clear();
    field_quoted = false;
  };
  const auto endRow = [&] {
    endField();
    if (row_has_content) rows.emplace_back(row_line, std::move(row));  // blank lines are skipped
    row.clear();
    row_has_content = false;
  };
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (!row_has_content) row_line = line;
    if (c == '"') {
      if (!field.empty() || field_quoted)
        throw Error(file.string() + ":" + std::to_string(line) + ": a quote inside an unquoted field");
      in_quotes = field_quoted = row_has_content = true;
    } else if (c == ',') {
      endField();
      row_has_content = true;
    } else if (c == '\n') {
      endRow();
      ++line;
    } else if (c == '\r') {
      // CRLF line ends: the '\n' ends the row
    } else {
      if (field_quoted)
        throw Error(file.string() + ":" + std::to_string(line) + ": text after a closing quote");
      field += c;
      row_has_content = true;
    }
  }
  if (in_quotes) throw Error(file.string() + ":" + std::to_string(row_line) + ": unterminated quoted field");
  endRow();
  return rows;
}

}  // namespace

std::shared_ptr<const Dataset> makeTextDataset(std::string name, const std::vector<std::string>& texts,
                                               std::vector<int64_t> labels,
                                               std::vector<std::string> class_names,
                                               const TextOptions& options) {
  return std::make_shared<TextDataset>(std::move(name), texts, std::move(labels), std::move(class_names),
                                       options);
}

std::shared_ptr<const Dataset> makeTextDataset(TextCorpus corpus, const TextOptions& options) {
  return makeTextDataset(std::move(corpus.name), corpus.texts, std::move(corpus.labels),
                         std::move(corpus.class_names), options);
}

std::shared_ptr<const Dataset> openImdb(const fs::path& split_dir, const TextOptions& options) {
  return makeTextDataset(readImdb(split_dir), options);
}
std::shared_ptr<const Dataset> openSpamAssassin(const fs::path& dir, const TextOptions& options,
                                                MailText mail) {
  return makeTextDataset(readSpamAssassin(dir, mail), options);
}
std::shared_ptr<const Dataset> openCsv(const fs::path& file, const std::string& text_column,
                                       const std::string& label_column, const TextOptions& options) {
  return makeTextDataset(readCsv(file, text_column, label_column), options);
}
std::shared_ptr<const Dataset> openJsonl(const fs::path& file, const std::string& text_field,
                                         const std::string& label_field, const TextOptions& options) {
  return makeTextDataset(readJsonl(file, text_field, label_field), options);
}

TextCorpus readImdb(const fs::path& split_dir) {
  std::vector<std::string> texts;
  std::vector<int64_t> labels;
  const std::vector<std::string> class_names = {"neg", "pos"};
  for (size_t label = 0; label < class_names.size(); ++label) {
    const fs::path dir = split_dir / class_names[label];
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      throw Error(dir.string() + ": missing (expected an aclImdb split with neg/ and pos/)");
    const std::vector<fs::path> files = sortedFiles(dir, ".txt");
    if (files.empty()) throw Error(dir.string() + ": no .txt reviews");
    for (const fs::path& file : files) {
      std::string text = readFile(file);
      replaceAll(text, "<br />", "\n");
      texts.push_back(std::move(text));
      labels.push_back(static_cast<int64_t>(label));
    }
  }
  return {"IMDB " + split_dir.filename().string(), std::move(texts), std::move(labels), class_names};
}

std::string mailSubjectAndBody(const std::string& mail) {
  // Header block = the lines before the first empty line; a line starting with a space or tab continues the
  // header above it (RFC 822 folding). The mbox "From " line some corpora keep is not a header and is
  // dropped.
  std::string subject, from;
  bool in_subject = false, in_from = false, saw_header = false;
  size_t pos = 0;
  while (pos < mail.size()) {
    size_t end = mail.find('\n', pos);
    if (end == std::string::npos) end = mail.size();
    std::string line = mail.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t next = end + 1;
    if (line.empty()) {
      if (!saw_header) return mail;
      std::string out;
      if (!subject.empty()) out += "Subject: " + subject + "\n";
      if (!from.empty()) out += "From: " + from + "\n";
      out += "\n";
      if (next < mail.size()) out += mail.substr(next);
      return out;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (!saw_header) return mail;
      if (in_subject) subject += line;
      if (in_from) from += line;
    } else if (pos == 0 && line.rfind("From ", 0) == 0) {
      in_subject = in_from = false;
    } else {
      const size_t colon = line.find(':');
      if (colon == std::string::npos || colon == 0 || line.find(' ') < colon)
        return mail;  // not a header block
      saw_header = true;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      const size_t start = value.find_first_not_of(" \t");
      value = start == std::string::npos ? std::string() : value.substr(start);
      in_subject = name == "subject";
      in_from = name == "from";
      if (in_subject) subject += value;
      if (in_from) from += value;
    }
    pos = next;
  }
  return mail;  // headers only, or no header block at all: keep the text as it is
}

TextCorpus readSpamAssassin(const fs::path& dir, MailText mail_text) {
  static const std::vector<std::pair<std::string, int64_t>> groups = {
      {"easy-ham-1", 0}, {"easy-ham-2", 0}, {"hard-ham-1", 0}, {"spam-1", 1}, {"spam-2", 1}};
  std::error_code ec;
  const fs::path data = fs::is_directory(dir / "data", ec) ? dir / "data" : dir;
  std::vector<std::string> texts;
  std::vector<int64_t> labels;
  size_t groups_found = 0;
  for (const auto& [group, label] : groups) {
    const fs::path group_dir = data / group;
    if (!fs::is_directory(group_dir, ec)) continue;
    ++groups_found;
    for (const fs::path& file : sortedFiles(group_dir, ".json")) {
      nlohmann::json mail;
      try {
        mail = nlohmann::json::parse(readFile(file));
      } catch (const nlohmann::json::exception& e) {
        throw Error(file.string() + ": not valid JSON (" + e.what() + ")");
      }
      if (!mail.is_object() || !mail.contains("text") || !mail["text"].is_string())
        throw Error(file.string() + ": no string field \"text\"");
      if (mail.contains("group") && mail["group"].is_string() && mail["group"].get<std::string>() != group)
        throw Error(file.string() + ": group \"" + mail["group"].get<std::string>() +
                    "\" does not match its folder " + group);
      std::string text = mail["text"].get<std::string>();
      texts.push_back(mail_text == MailText::SubjectBody ? mailSubjectAndBody(text) : std::move(text));
      labels.push_back(label);
    }
  }
  if (groups_found == 0)
    throw Error(dir.string() +
                ": no SpamAssassin groups (expected data/easy-ham-1, ..., data/spam-2 with *.json mails)");
  if (texts.empty()) throw Error(dir.string() + ": the SpamAssassin groups hold no .json mails");
  return {"SpamAssassin", std::move(texts), std::move(labels), {"ham", "spam"}};
}

TextCorpus readCsv(const fs::path& file, const std::string& text_column, const std::string& label_column) {
  const auto rows = parseCsv(readFile(file), file);
  if (rows.empty()) throw Error(file.string() + ": empty CSV file (expected a header row)");
  const std::vector<std::string>& header = rows[0].second;
  const auto column = [&](const std::string& name) {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) throw Error(file.string() + ": no column \"" + name + "\" in the header");
    return static_cast<size_t>(it - header.begin());
  };
  const size_t text_at = column(text_column), label_at = column(label_column);
  std::vector<std::string> texts, raw_labels, where;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& [line, row] = rows[r];
    const std::string place = file.string() + ":" + std::to_string(line);
    if (row.size() != header.size())
      throw Error(place + ": " + std::to_string(row.size()) + " fields, the header has " +
                  std::to_string(header.size()));
    texts.push_back(row[text_at]);
    raw_labels.push_back(row[label_at]);
    if (raw_labels.back().empty()) throw Error(place + ": empty label");
    where.push_back(place);
  }
  if (texts.empty()) throw Error(file.string() + ": no rows after the header");
  std::vector<int64_t> labels;
  std::vector<std::string> class_names;
  resolveLabels(raw_labels, where, true, labels, class_names);
  return {"CSV " + file.filename().string(), std::move(texts), std::move(labels), std::move(class_names)};
}

TextCorpus readJsonl(const fs::path& file, const std::string& text_field, const std::string& label_field) {
  const std::string content = readFile(file);
  std::vector<std::string> texts, raw_labels, where;
  size_t start = 0, line = 0;
  bool integer_labels_only = true;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    ++line;
    std::string_view text_line(content.data() + start, end - start);
    start = end + 1;
    if (text_line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string place = file.string() + ":" + std::to_string(line);
    nlohmann::json row;
    try {
      row = nlohmann::json::parse(text_line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(place + ": not valid JSON (" + e.what() + ")");
    }
    if (!row.is_object()) throw Error(place + ": expected a JSON object");
    if (!row.contains(text_field) || !row[text_field].is_string())
      throw Error(place + ": no string field \"" + text_field + "\"");
    if (!row.contains(label_field)) throw Error(place + ": no field \"" + label_field + "\"");
    const auto& label = row[label_field];
    if (label.is_number_integer()) {
      raw_labels.push_back(std::to_string(label.get<int64_t>()));
    } else if (label.is_string()) {
      raw_labels.push_back(label.get<std::string>());
      integer_labels_only = false;
    } else {
      throw Error(place + ": field \"" + label_field + "\" is neither an integer nor a string");
    }
    texts.push_back(row[text_field].get<std::string>());
    where.push_back(place);
  }
  if (texts.empty()) throw Error(file.string() + ": no JSON lines");
  std::vector<int64_t> labels;
  std::vector<std::string> class_names;
  // JSON string labels are names even when they look like numbers ("1", "2" next to "other").
  resolveLabels(raw_labels, where, integer_labels_only, labels, class_names);
  return {"JSONL " + file.filename().string(), std::move(texts), std::move(labels), std::move(class_names)};
}

}  // namespace edgetune
