#include "core/util/resources.h"

#include <cstdlib>

#ifndef EDGETUNE_RESOURCES_DIR
#error "EDGETUNE_RESOURCES_DIR (the source tree's resources/) is set by core/CMakeLists.txt"
#endif

namespace edgetune {

std::filesystem::path programDir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}

std::filesystem::path resourcesDir() {
  if (const char* env = std::getenv("EDGETUNE_RESOURCES"); env && *env) return env;
  std::error_code ec;
  const std::filesystem::path installed = programDir() / ".." / "share" / "edgetune";
  if (std::filesystem::is_directory(installed / "models", ec)) return installed.lexically_normal();
  return EDGETUNE_RESOURCES_DIR;
}

}  // namespace edgetune
