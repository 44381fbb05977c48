#pragma once
// The formats a model is exported in for a device runtime: one closed set for the CLI's `export --format` and
// the recipe's export step (spelled "onnx" / "tflite", enum_names.h). Exporters of other formats join here.
#include <array>

#include "core/util/enum_names.h"

namespace edgetune {

enum class ExportFormat { Onnx = 1, Tflite };
constexpr auto enumNames(ExportFormat) {
  return std::array{EnumName<ExportFormat>{ExportFormat::Onnx, "onnx"},
                    EnumName<ExportFormat>{ExportFormat::Tflite, "tflite"}};
}

/// The file extension of a format, with the dot (".onnx", ".tflite").
constexpr const char* fileExtension(ExportFormat format) {
  return format == ExportFormat::Tflite ? ".tflite" : ".onnx";
}

}  // namespace edgetune
