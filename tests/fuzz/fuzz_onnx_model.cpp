// The ONNX loader as a user's model file meets it: Model::load (protobuf parse, external data confined to
// the model's folder, validateModelProto, opset conversion, the ONNX checker and shape inference), then what
// `inspect` and every command ask of a loaded model: statistics, parameters, order, shapes, size.
//
// The input is the model file. Beside it lie weights.bin (external data a model may legitimately name) and
// escape.bin, a symlink to a file outside the folder; ../fixed/secret.bin is that file by a relative path.
// A model that loads must not carry a byte of it (issue 16: a model could copy any file into the output).
#include <cstring>
#include <filesystem>
#include <string>

#include "core/ir/model.h"
#include "core/ir/stats.h"
#include "fuzz_common.h"

namespace fs = std::filesystem;
using namespace edgetune;

namespace {

constexpr std::string_view kSecret = "EDGETUNE-FUZZ-SECRET: bytes from outside the model's folder";

const fs::path& secretFile() {
  static const fs::path path = [] {
    const fs::path file = fuzz::fixedDir() / "secret.bin";
    std::string bytes;
    while (bytes.size() < 4096) bytes += kSecret;  // long enough for any tensor a small model declares
    fuzz::writeBytes(file, bytes);
    return file;
  }();
  return path;
}

// The model's folder for this input: model.onnx, weights.bin and the escape.bin symlink.
fs::path writeModelFolder(std::string_view model_bytes) {
  const fs::path& dir = fuzz::freshInputDir();
  fuzz::writeBytes(dir / "model.onnx", model_bytes);
  std::string weights(1024, '\0');
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<char>(i * 7 + 1);
  fuzz::writeBytes(dir / "weights.bin", weights);
  std::error_code ec;
  fs::create_symlink(secretFile(), dir / "escape.bin", ec);
  fuzz::require(!ec, "the harness can make its symlink");
  return dir / "model.onnx";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = fuzz::bytesOf(data, size);
  const fs::path path = writeModelFolder(bytes);
  fuzz::accepted([&] {
    const Model model = Model::load(path);
    const std::string serialized = model.serialize();
    // The secret may only be in the output if the input itself carried it.
    if (bytes.find(kSecret.substr(0, 21)) == std::string_view::npos)
      fuzz::require(serialized.find(kSecret.substr(0, 21)) == std::string::npos,
                    "a loaded model holds no bytes of a file outside its folder");
    const ModelStats stats = computeStats(model);
    fuzz::require(stats.node_count == model.graph().node_size(), "stats count every node");
    fuzz::require(stats.serialized_bytes == static_cast<int64_t>(serialized.size()),
                  "serializedBytes is the size Model::serialize writes");
    (void)toJson(stats).dump();
    (void)model.parameterCount();
    (void)model.topologicalOrder();
    (void)tensorShapes(model);
    for (const auto& input : model.inputs()) (void)model.valueInfo(input.name);
    for (const auto& node : model.graph().node())
      for (const auto& output : node.output()) (void)model.valueInfo(output);
    (void)Model(model);  // a copy builds its own index
  });
  return 0;
}
