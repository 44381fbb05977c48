#pragma once
// Thread-count lists as users write them ("1,2,4"): the CLI's --threads, the Devices tab's field and the
// device runner's --threads. Header-only and dependency-free, so the cross-compiled edgetune-runner (which
// links no edgetune library) parses them with the same rules as the host.
#include <charconv>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace edgetune {

/// The most threads any thread count may ask for: far above the cores of any machine EdgeTune measures on,
/// and low enough that a typo (3000) is refused instead of making ONNX Runtime fail to start its threads.
inline constexpr int kMaxThreadCount = 256;

/// Parses comma-separated thread counts, each in 1..kMaxThreadCount; spaces around an item are ignored.
/// Throws std::invalid_argument with a message naming the bad item (callers prefix the option's name): an
/// empty list, an empty item, an item that is not an integer >= 1, or one above kMaxThreadCount.
inline std::vector<int> parseThreadList(std::string_view text) {
  std::vector<int> threads;
  const auto trimmed = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  if (trimmed(text).empty()) throw std::invalid_argument("empty list (expected e.g. 1,2,4)");
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = trimmed(text.substr(start, end - start));
    int value = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || value < 1)
      throw std::invalid_argument("'" + std::string(item) +
                                  "' is not a positive integer (expected e.g. 1,2,4)");
    if (value > kMaxThreadCount)
      throw std::invalid_argument("'" + std::string(item) + "' is more than " +
                                  std::to_string(kMaxThreadCount) + " threads (expected e.g. 1,2,4)");
    threads.push_back(value);
    start = end + 1;
  }
  return threads;
}

}  // namespace edgetune
