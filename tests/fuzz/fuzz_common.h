#pragma once
// What every fuzz target shares: the rule that edgetune::Error is a refusal and not a finding, a private
// scratch folder for readers that take a path, and a check that trips loudly where an invariant breaks.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/util/error.h"

namespace edgetune::fuzz {

/// The fuzz input as text (the parsers take std::string / std::string_view).
inline std::string_view bytesOf(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Aborts with `what` when `condition` fails: an invariant the code documents, broken by this input.
inline void require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

/// Runs `body` and says whether the input was accepted. edgetune::Error is the documented refusal of bad
/// input (one message naming the thing and the problem) and ends the run cleanly. Any other exception
/// escapes, and std::terminate makes libFuzzer report it, as a crash or a sanitizer report would be.
template <typename Body>
bool accepted(Body&& body) {
  try {
    body();
    return true;
  } catch (const Error&) {
    return false;
  }
}

/// A folder of this process's own under $TMPDIR (created on first use, removed at exit), for fixtures a
/// target writes once.
const std::filesystem::path& fixedDir();

/// An empty folder for this input's files: what the previous input left there is removed first.
const std::filesystem::path& freshInputDir();

/// Writes `bytes` as the whole content of `path`, creating its folders; aborts if it cannot (a harness that
/// fails to write its input must not pass for a clean run).
void writeBytes(const std::filesystem::path& path, std::string_view bytes);

/// Reads a little-endian uint16 at `data` (the length fields of the targets' small framings).
inline size_t readU16(const uint8_t* data) {
  return static_cast<size_t>(data[0]) | (static_cast<size_t>(data[1]) << 8);
}

}  // namespace edgetune::fuzz
