// Recipe text <-> JSON (see recipe_yaml.h). Reading is two passes over yaml-cpp's node tree: the shape check
// (iterative, so hostile input cannot exhaust the stack), then the conversion by the YAML 1.2 core schema:
// plain scalars resolve to null, bool, int64 or double, anything else (and anything quoted, which yaml-cpp
// tags "!") stays a string. Writing does not use YAML::Emitter: it does not quote strings that read back as
// numbers ("0.5"), and it prints doubles with too few digits; emitBlock writes block style by hand, doubles
// in their shortest exact form.
#include "core/pipeline/recipe_yaml.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <set>
#include <string_view>

namespace edgetune::pipeline::recipe_yaml {

using nlohmann::json;

int lineOf(const YAML::Node& node) {
  const int line = node.Mark().line;
  return line >= 0 ? line + 1 : 0;
}

bool isValidUtf8(const std::string& text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    int extra = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++p;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, code = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      code = (code << 6) | (p[i] & 0x3F);
    }
    const uint32_t min_code[] = {0, 0x80, 0x800, 0x10000};
    if (code < min_code[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    p += extra + 1;
  }
  return true;
}

// ---- YAML 1.2 core schema (yaml.org/spec/1.2.2, 10.3.2) ----

bool allOf(std::string_view text, size_t from, int (*predicate)(int)) {
  if (from >= text.size()) return false;
  return std::all_of(text.begin() + from, text.end(),
                     [&](char c) { return predicate((unsigned char)c) != 0; });
}
int isOctal(int c) {
  return c >= '0' && c <= '7';
}

// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool isCoreFloat(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && std::isdigit((unsigned char)s[i])) ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Resolves a plain (unquoted, untagged) scalar. Sets `out_of_range` for a number no int64 / double holds.
json resolvePlain(const std::string& text, bool& out_of_range) {
  out_of_range = false;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  std::string_view s = text;
  auto toInt = [&](std::string_view digits, int base, bool negative) -> json {
    // Parse with the sign attached so INT64_MIN fits.
    std::string signed_digits = (negative ? "-" : "") + std::string(digits);
    int64_t value = 0;
    const auto r =
        std::from_chars(signed_digits.data(), signed_digits.data() + signed_digits.size(), value, base);
    if (r.ec == std::errc::result_out_of_range) out_of_range = true;
    return value;
  };
  if (s.size() > 2 && s.substr(0, 2) == "0o" && allOf(s, 2, isOctal)) return toInt(s.substr(2), 8, false);
  if (s.size() > 2 && s.substr(0, 2) == "0x" && allOf(s, 2, isxdigit)) return toInt(s.substr(2), 16, false);
  {
    const bool sign = s[0] == '-' || s[0] == '+';
    if (allOf(s, sign ? 1 : 0, isdigit)) return toInt(s.substr(sign ? 1 : 0), 10, s[0] == '-');
  }
  if (isCoreFloat(s)) {
    const std::string_view unsigned_part = s[0] == '+' ? s.substr(1) : s;
    double value = 0;
    const auto r = std::from_chars(unsigned_part.data(), unsigned_part.data() + unsigned_part.size(), value);
    if (r.ec == std::errc::result_out_of_range) out_of_range = true;
    return value;
  }
  const std::string_view magnitude = (s[0] == '-' || s[0] == '+') ? s.substr(1) : s;
  if (magnitude == ".inf" || magnitude == ".Inf" || magnitude == ".INF")
    return s[0] == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  return text;
}

// ---- YAML nodes -> JSON ----

std::string typeName(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "nothing (null)";
  return "'" + node.Scalar() + "'";
}

// Pass 1 (see the top of the file). Iterative: the point is that nothing here recurses on the input's shape.
void checkShape(const YAML::Node& root, const Failure& fail) {
  struct Frame {
    YAML::Node node;
    int depth;
    std::string key;
  };
  std::vector<Frame> stack = {{root, 1, ""}};
  size_t values = 0;
  while (!stack.empty()) {
    Frame frame = std::move(stack.back());
    stack.pop_back();
    if (++values > kMaxValues)
      throw fail(frame.node, frame.key,
                 "more than " + std::to_string(kMaxValues) + " values (aliases counted each time " +
                     "they are used); a recipe is small");
    const YAML::Node& node = frame.node;
    if (node.IsScalar()) {
      if (!isValidUtf8(node.Scalar())) throw fail(node, frame.key, "not valid UTF-8 text");
      continue;
    }
    if (!node.IsMap() && !node.IsSequence()) continue;
    if (frame.depth > kMaxDepth)
      throw fail(node, frame.key, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    if (node.IsSequence()) {
      for (const auto& item : node) stack.push_back({item, frame.depth + 1, frame.key});
      continue;
    }
    std::map<std::string, int> first_line;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) throw fail(key, frame.key, "a map key must be text, not " + typeName(key));
      if (!isValidUtf8(key.Scalar())) throw fail(key, frame.key, "a key is not valid UTF-8 text");
      const auto [it, inserted] = first_line.emplace(key.Scalar(), lineOf(key));
      if (!inserted)
        throw fail(key, key.Scalar(), "duplicate key (first at line " + std::to_string(it->second) + ")");
      stack.push_back({entry.second, frame.depth + 1, key.Scalar()});
    }
  }
}

json toJsonValue(const YAML::Node& node, const std::string& key, const Failure& fail) {
  if (node.IsNull() || !node.IsDefined()) return nullptr;
  if (node.IsMap()) {
    json object = json::object();
    for (const auto& entry : node) {
      const std::string& name = entry.first.Scalar();
      object[name] = toJsonValue(entry.second, key.empty() ? name : key + "." + name, fail);
    }
    return object;
  }
  if (node.IsSequence()) {
    json array = json::array();
    for (const auto& item : node) array.push_back(toJsonValue(item, key, fail));
    return array;
  }
  const std::string& text = node.Scalar();
  const std::string& tag = node.Tag();
  static const std::string kCore = "tag:yaml.org,2002:";
  if (tag == "!" || tag == kCore + "str") return text;  // "!" = quoted (or a non-plain scalar)
  bool out_of_range = false;
  json value = resolvePlain(text, out_of_range);
  if (out_of_range) throw fail(node, key, "the number " + text + " is out of range");
  if (tag == "?" || tag.empty()) return value;
  // An explicit core tag: the text must be of that type.
  if (tag == kCore + "int" && value.is_number_integer()) return value;
  if (tag == kCore + "float" && value.is_number()) return value.get<double>();
  if (tag == kCore + "bool" && value.is_boolean()) return value;
  if (tag == kCore + "null" && value.is_null()) return value;
  static const std::set<std::string> kCoreScalarTags = {"int", "float", "bool", "null"};
  if (tag.rfind(kCore, 0) == 0 && kCoreScalarTags.count(tag.substr(kCore.size())))
    throw fail(node, key, "'" + text + "' is not a !!" + tag.substr(kCore.size()));
  throw fail(node, key, "unsupported tag '" + tag + "' (use plain or quoted values)");
}

// JSON writes characters outside the BMP as a UTF-16 surrogate pair of escapes ("\ud83d\ude80", what Python's
// json.dump does by default); YAML escapes code points, and yaml-cpp refuses each half. Each such pair
// becomes the one YAML escape "\U0001F680". Only a pair preceded by an odd number of backslashes is an
// escape; the line numbers do not change.
std::string joinSurrogateEscapes(const std::string& text) {
  if (text.find("\\u") == std::string::npos) return text;
  auto hexAt = [&](size_t at, uint32_t& value) {
    if (at + 4 > text.size()) return false;
    value = 0;
    for (size_t i = at; i < at + 4; ++i) {
      const char c = text[i];
      if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
      value = value * 16 + static_cast<uint32_t>(
                               std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return true;
  };
  std::string out;
  out.reserve(text.size());
  size_t backslashes = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    uint32_t high = 0, low = 0;
    if (text[i] == 'u' && backslashes % 2 == 1 && hexAt(i + 1, high) && high >= 0xD800 && high <= 0xDBFF &&
        text.compare(i + 5, 2, "\\u") == 0 && hexAt(i + 7, low) && low >= 0xDC00 && low <= 0xDFFF) {
      char code[16];
      std::snprintf(code, sizeof code, "U%08X", 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
      out += code;
      i += 10;
      backslashes = 0;
      continue;
    }
    backslashes = text[i] == '\\' ? backslashes + 1 : 0;
    out += text[i];
  }
  return out;
}

// ---- writing YAML ----

std::string yamlDouble(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value < 0 ? "-.inf" : ".inf";
  char buffer[64];
  const auto r =
      std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest form that reads back exactly
  std::string text(buffer, r.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";  // stays a float, not an int
  return text;
}

// Characters that end a line in some YAML readers (NEL, LS, PS) or that a reader may strip (BOM).
bool hasUnicodeBreak(const std::string& text) {
  return text.find("\xC2\x85") != std::string::npos || text.find("\xE2\x80\xA8") != std::string::npos ||
         text.find("\xE2\x80\xA9") != std::string::npos || text.find("\xEF\xBB\xBF") != std::string::npos;
}

// May `text` be written unquoted in block context and read back as this same string?
bool isSafePlain(const std::string& text) {
  if (text.empty() || hasUnicodeBreak(text)) return false;
  bool out_of_range = false;
  if (!resolvePlain(text, out_of_range).is_string()) return false;
  const unsigned char first = text.front();
  if (!(std::isalnum(first) || first >= 0x80 || first == '_' || first == '.' || first == '/')) return false;
  if (text.back() == ' ' || text.back() == ':') return false;
  if (text.find(": ") != std::string::npos || text.find(" #") != std::string::npos) return false;
  static const std::string kPunctuation = " _.-/+:?=&,()@%~;<>";
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || u >= 0x80 || kPunctuation.find(c) != std::string::npos;
  });
}

std::string yamlString(const std::string& text) {
  if (isSafePlain(text)) return text;
  // Escapes by code (\uXXXX): yaml-cpp 0.7 decodes the named \N and \_ to a raw byte, not to UTF-8.
  std::string out = "\"";
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    auto escape = [&](const char* code, size_t length) {
      out += code;
      i += length - 1;
    };
    if (c == '"')
      out += "\\\"";
    else if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else if (c < 0x20 || c == 0x7F) {
      char code[8];
      std::snprintf(code, sizeof code, "\\x%02X", c);
      out += code;
    } else if (text.compare(i, 2, "\xC2\x85") == 0)
      escape("\\u0085", 2);
    else if (text.compare(i, 3, "\xE2\x80\xA8") == 0)
      escape("\\u2028", 3);
    else if (text.compare(i, 3, "\xE2\x80\xA9") == 0)
      escape("\\u2029", 3);
    else if (text.compare(i, 3, "\xEF\xBB\xBF") == 0)
      escape("\\uFEFF", 3);
    else
      out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string yamlScalar(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
      return std::to_string(value.get<int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(value.get<uint64_t>());
    case json::value_t::number_float:
      return yamlDouble(value.get<double>());
    case json::value_t::string:
      return yamlString(value.get<std::string>());
    case json::value_t::object:
      return "{}";  // only empty ones come here
    case json::value_t::array:
      return "[]";
    default:
      return "null";  // binary and discarded values do not occur in recipes
  }
}

bool isBlock(const json& value) {
  return (value.is_object() || value.is_array()) && !value.empty();
}

// "KEY: VALUE" at column `indent` (the caller has padded the line already when line_started).
void emitEntry(std::string& out, const std::string& key, const json& value, int indent, bool line_started) {
  if (!line_started) out += std::string(indent, ' ');
  out += yamlString(key) + ":";
  if (isBlock(value)) {
    out += "\n";
    emitBlock(out, value, indent + 2, false);
  } else {
    out += " " + yamlScalar(value) + "\n";
  }
}

// A non-empty map or list, one entry a line. When line_started, the cursor is already at column `indent`
// (after "- "), so the first entry goes there.
void emitBlock(std::string& out, const json& value, int indent, bool line_started) {
  bool first = true;
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      emitEntry(out, key, item, indent, first && line_started);
      first = false;
    }
    return;
  }
  for (const auto& item : value) {
    if (!(first && line_started)) out += std::string(indent, ' ');
    first = false;
    out += "- ";
    if (isBlock(item))
      emitBlock(out, item, indent + 2, true);
    else
      out += yamlScalar(item) + "\n";
  }
}

}  // namespace edgetune::pipeline::recipe_yaml
