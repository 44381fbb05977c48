#pragma once
// Numbers as people read them in status lines, tables and model cards.
#include <cstdint>
#include <string>

namespace edgetune {

/// "1.30 GB", "12.34 MB", "845.0 KB", "12 B" (decimal units, as file managers show sizes).
std::string formatBytes(int64_t bytes);

}  // namespace edgetune
