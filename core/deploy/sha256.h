#pragma once
// SHA-256 of bytes and files (FIPS 180-4), to check uploads against the device's sha256sum.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace edgetune::deploy {

/// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  /// Lower-case hex digest (64 characters); the object must not be updated afterwards.
  std::string hexDigest();

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string sha256Hex(std::string_view bytes);
/// Hashes a file in chunks; throws Error naming the file if it cannot be read.
std::string sha256File(const std::filesystem::path& path);

}  // namespace edgetune::deploy
