// The TFLite writer's input: the fuzz bytes as an ONNX model file, loaded as `export --format tflite` loads
// it; a model that loads is converted in memory, with NCHW and with NHWC image inputs. buildTflite checks its
// own output with the FlatBuffers verifier and says so when it fails: that, as any crash, is a finding here.
#include <filesystem>
#include <string>

#include "core/export/tflite_export.h"
#include "core/ir/model.h"
#include "fuzz_common.h"

using namespace edgetune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path path = fuzz::freshInputDir() / "model.onnx";
  fuzz::writeBytes(path, fuzz::bytesOf(data, size));
  fuzz::accepted([&] {
    const Model model = Model::load(path);
    for (const bool nhwc_input : {false, true}) {
      TfliteExportOptions options;
      options.nhwc_input = nhwc_input;
      TfliteExportReport report;
      std::string file;
      try {
        file = buildTflite(model, options, &report);
      } catch (const Error& e) {
        // The writer's own verification failing is EdgeTune's bug, not a refusal of the model.
        fuzz::require(std::string_view(e.what()).find("does not verify") == std::string_view::npos,
                      "buildTflite writes a file that verifies");
        continue;
      }
      fuzz::require(report.file_bytes == static_cast<int64_t>(file.size()),
                    "the report gives the file's size");
      (void)report.lines();
    }
  });
  return 0;
}
