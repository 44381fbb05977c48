#pragma once
// File helpers: whole-file reads with clear errors, and atomic writes (temporary file + rename).
#include <filesystem>
#include <string>
#include <string_view>

namespace edgetune {

/// Reads a whole file; throws Error("PATH: problem") if it cannot.
std::string readFile(const std::filesystem::path& path);

/// Writes `bytes` to a temporary file beside `path`, flushes it and renames it over `path`.
/// Nothing is left at `path` (nor a temporary file) if any step fails.
void writeFileAtomic(const std::filesystem::path& path, std::string_view bytes);

/// True if both paths name the same existing file (or the same normalized path).
bool samePath(const std::filesystem::path& a, const std::filesystem::path& b);

/// Reads a file that may be gzip-compressed (detected by its magic bytes).
std::string readMaybeGzipped(const std::filesystem::path& path);

/// A portable file or folder name made from free text (a variant name, a label): ASCII letters, digits, '_',
/// '.' and '-' stay, each run of anything else becomes one '_'; leading '.', '-' and '_' and trailing '_' go
/// (no hidden files, nothing that reads as an option, never "." or ".."); at most 64 characters. `fallback`
/// when nothing is left.
std::string fileNameFrom(std::string_view text, std::string_view fallback);

}  // namespace edgetune
