#pragma once
// The torch.onnx fixtures' NAME.sample.bin: one sample input and torch's own output (format in
// tests/fixtures/torch/make_fixtures.py).
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/ir/tensor.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune::test {

struct TorchSample {
  std::vector<NamedTensor> inputs;
  std::vector<Tensor> outputs;
};

/// Reads NAME.sample.bin: a JSON header line, then raw little-endian tensors.
inline TorchSample readTorchSample(const std::filesystem::path& path) {
  const std::string bytes = readFile(path);
  const auto newline = bytes.find('\n');
  if (newline == std::string::npos) throw Error(path.string() + ": no header line");
  const auto header = nlohmann::json::parse(bytes.substr(0, newline));
  const char* data = bytes.data() + newline + 1;
  const size_t data_size = bytes.size() - newline - 1;
  auto read = [&](const nlohmann::json& t) {
    const std::string dtype = t["dtype"];
    Tensor tensor(dtype == "int64" ? DataType::Int64 : DataType::Float32,
                  t["shape"].get<std::vector<int64_t>>());
    const size_t offset = t["offset"], nbytes = t["nbytes"];
    if (nbytes != tensor.byteSize() || offset + nbytes > data_size)
      throw Error(path.string() + ": tensor '" + t["name"].get<std::string>() + "' does not fit");
    std::memcpy(tensor.raw(), data + offset, nbytes);
    return tensor;
  };
  TorchSample sample;
  for (const auto& t : header["inputs"]) sample.inputs.push_back({t["name"], read(t)});
  for (const auto& t : header["outputs"]) sample.outputs.push_back(read(t));
  return sample;
}

}  // namespace edgetune::test
