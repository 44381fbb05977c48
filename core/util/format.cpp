#include "core/util/format.h"

#include <cstdio>

namespace edgetune {

std::string formatBytes(int64_t bytes) {
  char buf[64];
  if (bytes >= int64_t{1000} * 1000 * 1000)
    std::snprintf(buf, sizeof buf, "%.2f GB", static_cast<double>(bytes) / 1e9);
  else if (bytes >= 1000 * 1000)
    std::snprintf(buf, sizeof buf, "%.2f MB", bytes / 1e6);
  else if (bytes >= 1000)
    std::snprintf(buf, sizeof buf, "%.1f KB", bytes / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  return buf;
}

}  // namespace edgetune
