#pragma once
// The evaluation-subset file the device runner reads (written by core/deploy from a Dataset).
// Header-only and dependency-free so both the deploy layer and the cross-compiled edgetune-runner use it.
//
// Layout (little-endian):
//   char[8]  magic "ETEVAL01"
//   uint32   feature count F
//   F times: uint32 name length, name bytes, int32 ONNX element type (1 float, 7 int64, 6 int32),
//            uint32 rank R, int64 dims[R]  (per-example shape, no batch axis)
//   uint64   example count E
//   E times: F raw feature blocks (elements * element size), then int64 label
#include <cstdint>
#include <cstring>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgetune::evalfile {

/// Version of the runner's command line and JSON; the host reinstalls a runner that reports another one.
inline constexpr int kRunnerProtocolVersion = 3;  // 2: --shape NAME=DIMS; 3: --baseline FILE

inline constexpr char kMagic[8] = {'E', 'T', 'E', 'V', 'A', 'L', '0', '1'};

/// One feature of every example: name, ONNX element type and per-example shape.
struct Feature {
  std::string name;
  int32_t onnx_type = 1;
  std::vector<int64_t> shape;

  size_t elementSize() const {
    switch (onnx_type) {
      case 1:
      case 6:
        return 4;
      case 7:
        return 8;
      default:
        throw std::runtime_error("unsupported element type " + std::to_string(onnx_type));
    }
  }
  size_t elementCount() const {
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    return n;
  }
  size_t byteSize() const { return elementSize() * elementCount(); }
};

template <typename T>
void writePod(std::ostream& out, T value) {
  out.write(reinterpret_cast<const char*>(&value), sizeof(T));
}
template <typename T>
T readPod(std::istream& in) {
  T value{};
  if (!in.read(reinterpret_cast<char*>(&value), sizeof(T)))
    throw std::runtime_error("truncated evaluation file");
  return value;
}

inline void writeHeader(std::ostream& out, const std::vector<Feature>& features, uint64_t examples) {
  out.write(kMagic, sizeof(kMagic));
  writePod<uint32_t>(out, static_cast<uint32_t>(features.size()));
  for (const auto& f : features) {
    writePod<uint32_t>(out, static_cast<uint32_t>(f.name.size()));
    out.write(f.name.data(), static_cast<std::streamsize>(f.name.size()));
    writePod<int32_t>(out, f.onnx_type);
    writePod<uint32_t>(out, static_cast<uint32_t>(f.shape.size()));
    for (int64_t d : f.shape) writePod<int64_t>(out, d);
  }
  writePod<uint64_t>(out, examples);
}

/// Reads the header; `examples` receives the example count. Throws std::runtime_error on a malformed file.
inline std::vector<Feature> readHeader(std::istream& in, uint64_t& examples) {
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0)
    throw std::runtime_error("not an EdgeTune evaluation file (bad magic)");
  const uint32_t count = readPod<uint32_t>(in);
  if (count == 0 || count > 64) throw std::runtime_error("bad feature count " + std::to_string(count));
  std::vector<Feature> features(count);
  for (auto& f : features) {
    const uint32_t len = readPod<uint32_t>(in);
    if (len > 4096) throw std::runtime_error("bad feature name length");
    f.name.resize(len);
    if (!in.read(f.name.data(), len)) throw std::runtime_error("truncated evaluation file");
    f.onnx_type = readPod<int32_t>(in);
    const uint32_t rank = readPod<uint32_t>(in);
    if (rank > 8) throw std::runtime_error("bad rank for feature " + f.name);
    f.shape.resize(rank);
    for (auto& d : f.shape) {
      d = readPod<int64_t>(in);
      if (d <= 0 || d > (int64_t{1} << 24)) throw std::runtime_error("bad dimension for feature " + f.name);
    }
    (void)f.elementSize();  // validates the type
  }
  examples = readPod<uint64_t>(in);
  return features;
}

}  // namespace edgetune::evalfile
