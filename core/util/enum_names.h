#pragma once
// Closed sets of options as enums, spelled in recipes and on the command line as they always were. Each enum
// declares its spellings once, next to it, as `constexpr auto enumNames(E)` returning EnumName<E> entries;
// from that one table come the conversion pair toString / fromString<E> and JSON (so YAML too, through the
// recipe conversion). A wrong spelling is refused with the accepted ones listed; OptionsReader::read adds the
// key (pass.h).
#include <nlohmann/json.hpp>

#include <array>
#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/util/error.h"

namespace edgetune {

/// One value of a closed set with its spelling. An alias is read but never written (nor listed): the first
/// entry of a value that is no alias is how it is written.
template <class E>
struct EnumName {
  E value;
  const char* name;
  bool alias = false;
};

/// An enum with a spelling table found next to it (by argument-dependent lookup).
template <class E>
concept NamedEnum = std::is_enum_v<E> && requires(E e) {
  {enumNames(e)};
  { enumNames(e).front().name } -> std::convertible_to<const char*>;
};

/// A spelling that is none of a closed set's; `problem()` says so and lists them ("is 'x' (expected a, b)").
class UnknownNameError : public Error {
 public:
  UnknownNameError(const std::string& name, const std::string& accepted)
      : Error("'" + name + "' is not one of " + accepted),
        problem_("is '" + name + "' (expected " + accepted + ")") {}
  const std::string& problem() const { return problem_; }

 private:
  std::string problem_;
};

/// The spellings of `E`, in declaration order (for help texts and CLI11's IsMember).
template <NamedEnum E>
std::vector<std::string> enumSpellings() {
  std::vector<std::string> out;
  for (const auto& entry : enumNames(E{}))
    if (!entry.alias) out.emplace_back(entry.name);
  return out;
}

/// "a, b, c": the spellings of `E` for messages.
template <NamedEnum E>
std::string enumSpellingList() {
  std::string out;
  for (const auto& entry : enumNames(E{}))
    if (!entry.alias) out += (out.empty() ? "" : ", ") + std::string(entry.name);
  return out;
}

template <NamedEnum E>
std::string toString(E value) {
  for (const auto& entry : enumNames(value))
    if (entry.value == value && !entry.alias) return entry.name;
  // Only a value cast from an integer gets here: name it rather than print nothing.
  return "#" + std::to_string(static_cast<std::underlying_type_t<E>>(value));
}

/// The value spelled `text`; throws UnknownNameError listing the spellings otherwise.
template <NamedEnum E>
E fromString(std::string_view text) {
  for (const auto& entry : enumNames(E{}))
    if (text == entry.name) return entry.value;
  throw UnknownNameError(std::string(text), enumSpellingList<E>());
}

template <NamedEnum E>
void to_json(nlohmann::json& j, E value) {
  j = toString(value);
}

template <NamedEnum E>
void from_json(const nlohmann::json& j, E& value) {
  value = fromString<E>(j.get<std::string>());  // a non-string is nlohmann's type_error: "the wrong type"
}

}  // namespace edgetune
