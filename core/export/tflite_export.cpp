// buildTflite / writeTflite: the converter's result, checked by the FlatBuffers verifier and written
// atomically.
#include "core/export/tflite_export.h"

#include "core/export/tflite_converter.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune {

std::vector<std::string> TfliteExportReport::lines() const {
  std::string in;
  for (const auto& [name, dims] : input_shapes)
    in += (in.empty() ? "" : ", ") + name + " " + shapeToString(dims);
  return {std::to_string(operators) + " TFLite operators, " + std::to_string(transposes) + " TRANSPOSE",
          "inputs: " + in};
}

std::string buildTflite(const Model& model, const TfliteExportOptions& options, TfliteExportReport* report) {
  tflite_export::TfliteConverter converter(model, options);
  std::string bytes = converter.run(report);
  // The writer's own check that the file is well-formed FlatBuffers of the schema (offsets, alignment).
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!tflite::VerifyModelBuffer(verifier))
    throw Error(model.origin() + ": TFLite export produced a file that does not verify (a bug in EdgeTune)");
  if (report) report->file_bytes = static_cast<int64_t>(bytes.size());
  return bytes;
}

TfliteExportReport writeTflite(const Model& model, const TfliteExportOptions& options,
                               const std::filesystem::path& path) {
  if (!model.sourcePath().empty() && samePath(model.sourcePath(), path))
    throw Error("TFLite export: refusing to overwrite the input model '" + path.string() + "'");
  TfliteExportReport report;
  const std::string bytes = buildTflite(model, options, &report);
  writeFileAtomic(path, bytes);
  return report;
}

}  // namespace edgetune
