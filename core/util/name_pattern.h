#pragma once
// Node-name patterns users write (--protect, --exclude, a recipe's include/exclude regexes), matched by RE2.
// std::regex backtracks and recurses once per character: a 30,000-character node name overflowed the stack
// and a pattern such as (a*)*b ran for minutes. RE2 matches in time linear in the name, without recursion.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace edgetune {

/// One compiled node-name pattern: RE2 syntax (what std::regex's ECMAScript accepts for ordinary patterns,
/// without backreferences and lookaround), matched anywhere in the name like std::regex_search. Names and
/// patterns are taken byte by byte (Latin-1), as std::regex took them, so any name can be matched.
class NamePattern {
 public:
  /// Compiles `pattern`. Throws Error "OPTION: 'PATTERN' ..." naming `option` (e.g. "--protect", "pass
  /// 'prune_magnitude': option 'exclude_regex'") and the problem; a backreference or a lookaround is refused
  /// with a message saying these are not supported.
  NamePattern(const std::string& pattern, const std::string& option);

  /// True if the pattern matches somewhere in `name`.
  bool search(std::string_view name) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::shared_ptr<const re2::RE2> re_;  // shared: RE2 is not copyable, and matching is thread-safe
};

/// Compiles every pattern given for `option`.
std::vector<NamePattern> compileNamePatterns(const std::vector<std::string>& patterns,
                                             const std::string& option);

/// True if any of `patterns` matches somewhere in `name`.
bool anyNamePatternMatches(const std::vector<NamePattern>& patterns, std::string_view name);

/// What NamePattern's error says after "OPTION: " ("'PATTERN' is not a valid ..."), or "" when `pattern` is
/// valid: for callers that name the option their own way (the CLI's argument checks).
std::string namePatternProblem(const std::string& pattern);

}  // namespace edgetune
