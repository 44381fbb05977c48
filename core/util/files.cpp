#include "core/util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "core/util/error.h"
#include "core/util/format.h"
#include "core/util/temporary_file.h"

namespace edgetune {
namespace fs = std::filesystem;

std::string describeFileType(fs::file_type type) {
  switch (type) {
    case fs::file_type::regular:
      return "a regular file";
    case fs::file_type::directory:
      return "a directory";
    case fs::file_type::fifo:
      return "a FIFO (named pipe)";
    case fs::file_type::character:
      return "a character device";
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::socket:
      return "a socket";
    case fs::file_type::symlink:
      return "a symbolic link";
    case fs::file_type::not_found:
      return "missing";
    default:
      return "not a regular file";
  }
}

std::string readFile(const fs::path& path, uint64_t max_size_bytes) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);  // follows symlinks: the target is what is read
  if (status.type() == fs::file_type::not_found)
    throw Error(path.string() + ": cannot open for reading (no such file)");
  if (status.type() == fs::file_type::directory)
    throw Error(path.string() + ": is a directory, expected a file");
  // Checked before open(): open() of a FIFO blocks until a writer comes, and a device never ends.
  if (!ec && status.type() != fs::file_type::regular)
    throw Error(path.string() + ": is " + describeFileType(status.type()) + ", not a regular file");
  // O_NONBLOCK: if the path is swapped for a FIFO after the check, open() still returns (and fstat refuses).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw Error(path.string() + ": cannot open for reading (" + std::strerror(errno) + ")");
  auto fail = [&](const std::string& problem) {
    ::close(fd);
    return Error(path.string() + ": " + problem);
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw fail(std::string("cannot stat (") + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode)) throw fail("is not a regular file");
  const auto too_large = [&] {
    return fail("is larger than " + formatBytes(static_cast<int64_t>(max_size_bytes)) +
                ", the most this file may hold");
  };
  if (static_cast<uint64_t>(st.st_size) > max_size_bytes) throw too_large();
  std::string bytes;
  bytes.reserve(static_cast<size_t>(st.st_size));
  // Read to the end rather than st_size bytes: /proc files say 0, and a file may grow while read.
  char chunk[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail(std::string("read error (") + std::strerror(errno) + ")");
    if (n == 0) break;
    if (bytes.size() + static_cast<size_t>(n) > max_size_bytes) throw too_large();
    bytes.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  return bytes;
}

void writeFileAtomic(const fs::path& path, std::string_view bytes) {
  TemporaryFile temporary(path);
  temporary.write(bytes);
  temporary.commit();
}

bool samePath(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

std::string readMaybeGzipped(const fs::path& path, size_t header_bytes,
                             const SizeFromHeader& size_from_header) {
  std::string raw = readFile(path);
  if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0x1f ||
      static_cast<unsigned char>(raw[1]) != 0x8b) {
    const uint64_t limit = size_from_header(std::string_view(raw).substr(0, header_bytes));
    if (raw.size() > limit)
      throw Error(path.string() + ": " + std::to_string(raw.size() - limit) +
                  " unexpected bytes after the data");
    return raw;
  }
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw Error(path.string() + ": cannot initialise gzip decoder");
  // One owner for the decoder, so every throw below (including size_from_header's) releases it.
  std::unique_ptr<z_stream, int (*)(z_stream*)> decoder(&zs, inflateEnd);
  zs.next_in = reinterpret_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  std::string out;
  std::optional<uint64_t> limit;  // known once the header has been inflated
  if (header_bytes == 0) limit = size_from_header({});
  char chunk[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    // Before the header is known, inflate no more than the header: a bomb is stopped at its first bytes.
    const size_t room = limit ? sizeof(chunk) : std::min(sizeof(chunk), header_bytes - out.size());
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = static_cast<uInt>(room);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) throw Error(path.string() + ": corrupt or truncated gzip data");
    out.append(chunk, room - zs.avail_out);
    if (!limit && (out.size() >= header_bytes || rc == Z_STREAM_END)) {
      limit = size_from_header(out);
      // Deflate expands at most about 1032:1, so a tiny file whose header claims a gigabyte gets room for
      // what it can hold, not for what it claims (growth past that is the string's, as data arrives).
      const uint64_t deflate_bound = static_cast<uint64_t>(raw.size()) * 1032 + header_bytes;
      out.reserve(static_cast<size_t>(std::min({*limit, deflate_bound, kDefaultReadLimitBytes})));
    }
    if (limit && out.size() > *limit)
      throw Error(path.string() + ": the gzip data expands past the " + std::to_string(*limit) +
                  " bytes its header promises");
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)
      throw Error(path.string() + ": truncated gzip data");
  }
  return out;
}

std::string fileNameFrom(std::string_view text, std::string_view fallback) {
  constexpr size_t kMaxLength = 64;  // what a device's folder-name check (deploy::isValidName) accepts
  std::string out;
  for (const char c : text) {
    const bool kept = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-';
    if (kept)
      out += c;
    else if (!out.empty() && out.back() != '_')
      out += '_';  // one '_' per run of other characters
  }
  const size_t first = out.find_first_not_of(".-_");
  out.erase(0, first == std::string::npos ? out.size() : first);
  if (out.size() > kMaxLength) out.resize(kMaxLength);
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? std::string(fallback) : out;
}

}  // namespace edgetune
