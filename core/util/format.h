#pragma once
// Numbers and lists as people read them in status lines, messages, tables and model cards.
#include <cstdint>
#include <string>

namespace edgetune {

/// "1.30 GB", "12.34 MB", "845.0 KB", "12 B" (decimal units, as file managers show sizes).
std::string formatBytes(int64_t bytes);

/// "a, b, c": the items of any range of strings, in its order (the accepted names an error message lists).
template <class Range>
std::string joinedWithCommas(const Range& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

}  // namespace edgetune
