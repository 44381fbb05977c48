#pragma once
// File helpers: whole-file reads with clear errors, and atomic writes (temporary file + rename).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace edgetune {

/// The most readFile reads unless told otherwise: ONNX's limit for one protobuf file (2 GB - 1), and far
/// more than any vocabulary, JSON or CSV file the tool reads whole.
inline constexpr uint64_t kDefaultReadLimitBytes = (uint64_t{1} << 31) - 1;

/// Reads a whole regular file of at most `max_size_bytes`; throws Error("PATH: problem") if it cannot.
/// Anything else (a directory, FIFO, device, socket) is refused before it is opened: a FIFO would block
/// open() and /dev/zero would fill memory.
std::string readFile(const std::filesystem::path& path, uint64_t max_size_bytes = kDefaultReadLimitBytes);

/// "a directory", "a FIFO", "a character device"...: what a path that is not a regular file is, for messages.
std::string describeFileType(std::filesystem::file_type type);

/// Writes `bytes` to a temporary file beside `path` (a TemporaryFile), flushes it and renames it over `path`.
/// Nothing is left at `path` (nor a temporary file) if any step fails.
void writeFileAtomic(const std::filesystem::path& path, std::string_view bytes);

/// True if both paths name the same existing file (or the same normalized path).
bool samePath(const std::filesystem::path& a, const std::filesystem::path& b);

/// Given the first bytes of a file's content (at most the `header_bytes` asked for; fewer if the content is
/// shorter), the most bytes the whole content may hold; throws Error naming the file if the header is bad.
using SizeFromHeader = std::function<uint64_t(std::string_view header)>;

/// Reads a file that may be gzip-compressed (detected by its magic bytes). The header is checked before the
/// rest is inflated, and inflating stops with an error one byte past what `size_from_header` allows: a small
/// file that expands to gigabytes is refused after reading only its header.
std::string readMaybeGzipped(const std::filesystem::path& path, size_t header_bytes,
                             const SizeFromHeader& size_from_header);

/// A portable file or folder name made from free text (a variant name, a label): ASCII letters, digits, '_',
/// '.' and '-' stay, each run of anything else becomes one '_'; leading '.', '-' and '_' and trailing '_' go
/// (no hidden files, nothing that reads as an option, never "." or ".."); at most 64 characters. `fallback`
/// when nothing is left.
std::string fileNameFrom(std::string_view text, std::string_view fallback);

}  // namespace edgetune
