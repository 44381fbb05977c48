#include "fuzz_common.h"

#include <fstream>
#include <system_error>

namespace edgetune::fuzz {
namespace fs = std::filesystem;

namespace {

// One folder per process (two fuzzers, or libFuzzer's -jobs, never share files), removed at a normal exit.
// A crash leaves it behind; run_fuzzers.sh points TMPDIR at a folder of its own and removes that.
const fs::path& processDir() {
  static const fs::path dir = [] {
    std::error_code ec;
    fs::path tmp = fs::temp_directory_path(ec);
    if (ec) tmp = "/tmp";
    std::string pattern = (tmp / "edgetune-fuzz-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) {
      std::perror("fuzz: mkdtemp");
      std::abort();
    }
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(processDir(), ignored);
    });
    return fs::path(pattern);
  }();
  return dir;
}

void makeFolder(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "fuzz: cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    std::abort();
  }
}

}  // namespace

const fs::path& fixedDir() {
  static const fs::path dir = [] {
    const fs::path fixed = processDir() / "fixed";
    makeFolder(fixed);
    return fixed;
  }();
  return dir;
}

const fs::path& freshInputDir() {
  static const fs::path dir = processDir() / "input";
  std::error_code ec;
  fs::remove_all(dir, ec);
  makeFolder(dir);
  return dir;
}

void writeBytes(const fs::path& path, std::string_view bytes) {
  makeFolder(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
}

}  // namespace edgetune::fuzz
