#include "core/util/name_pattern.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstdio>

#include "core/util/error.h"

namespace edgetune {
namespace {

RE2::Options patternOptions() {
  RE2::Options o;
  // Bytes, as std::regex saw them: a node name need not be valid UTF-8, and '.' then matches any one byte.
  o.set_encoding(RE2::Options::EncodingLatin1);
  o.set_log_errors(false);    // RE2 would print to stderr; the error is ours to phrase, on one line
  o.set_never_capture(true);  // only "does it match" is asked
  return o;
}

// The ECMAScript constructs RE2 does not have, named, so the user rewrites the pattern instead of looking for
// a typo. Only asked once RE2 refused the pattern.
std::string unsupportedConstruct(const std::string& p) {
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    if (p[i] == '\\') {
      const char c = p[i + 1];
      if (c >= '1' && c <= '9') return std::string("a backreference (\\") + c + ")";
      if (c == 'k' && i + 2 < p.size() && p[i + 2] == '<') return "a named backreference (\\k<...>)";
      ++i;  // the escaped character is a literal
      continue;
    }
    if (p.compare(i, 3, "(?=") == 0 || p.compare(i, 3, "(?!") == 0)
      return "a lookahead (" + p.substr(i, 3) + ")";
    if (p.compare(i, 4, "(?<=") == 0 || p.compare(i, 4, "(?<!") == 0)
      return "a lookbehind (" + p.substr(i, 4) + ")";
  }
  return {};
}

// The pattern as an error message quotes it: on one line (control bytes escaped) and of bounded length.
std::string printable(const std::string& text) {
  constexpr size_t kMaxShown = 200;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMaxShown) out += "... (" + std::to_string(text.size()) + " characters)";
  return out;
}

std::string problemOf(const re2::RE2& re, const std::string& pattern) {
  if (re.ok()) return {};
  const std::string construct = unsupportedConstruct(pattern);
  if (!construct.empty())
    return "uses " + construct +
           ", which node-name patterns do not support (RE2 syntax: they match in time linear in the name)";
  return "is not a valid regular expression (" + printable(re.error()) + ")";
}

}  // namespace

NamePattern::NamePattern(const std::string& pattern, const std::string& option) : pattern_(pattern) {
  auto re = std::make_shared<const re2::RE2>(pattern, patternOptions());
  const std::string problem = problemOf(*re, pattern);
  if (!problem.empty()) throw Error(option + ": '" + printable(pattern) + "' " + problem);
  re_ = std::move(re);
}

bool NamePattern::search(std::string_view name) const {
  return re2::RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), *re_);
}

std::vector<NamePattern> compileNamePatterns(const std::vector<std::string>& patterns,
                                             const std::string& option) {
  std::vector<NamePattern> compiled;
  compiled.reserve(patterns.size());
  for (const auto& p : patterns) compiled.emplace_back(p, option);
  return compiled;
}

bool anyNamePatternMatches(const std::vector<NamePattern>& patterns, std::string_view name) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const NamePattern& p) { return p.search(name); });
}

std::string namePatternProblem(const std::string& pattern) {
  const re2::RE2 re(pattern, patternOptions());
  const std::string problem = problemOf(re, pattern);
  return problem.empty() ? problem : "'" + printable(pattern) + "' " + problem;
}

}  // namespace edgetune
