#pragma once
// TFLite export: EdgeTune's ONNX graph written as a .tflite file by EdgeTune itself (no TensorFlow), with the
// NCHW -> NHWC layout change propagated through the graph so that a CNN has no Transpose inside it.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/ir/model.h"

namespace edgetune {

struct TfliteExportOptions {
  /// Image inputs are fed NHWC ([N, H, W, C]): no Transpose at the input. Otherwise they keep the ONNX
  /// model's NCHW and one Transpose turns them into NHWC.
  bool nhwc_input = false;
  /// Concrete sizes for symbolic input dimensions (TFLite tensors have static shapes); a symbolic batch
  /// dimension defaults to 1. Input name -> shape in the ONNX model's layout.
  std::map<std::string, std::vector<int64_t>> input_shapes;
};

/// What the export wrote. Weights and activations are float32 (FP16 weights and INT8 come next: the builder's
/// tensors already carry per-tensor / per-channel Quantization).
struct TfliteExportReport {
  int operators = 0;
  int transposes = 0;  // TRANSPOSE operators in the file (layout changes and the model's own)
  int64_t file_bytes = 0;
  std::vector<std::string> inputs, outputs;  // tensor names in the file
  /// Per input: the shape the file expects (NHWC where the input is an image and nhwc_input is set).
  std::map<std::string, std::vector<int64_t>> input_shapes;
  std::vector<std::string> lines() const;
};

/// Converts `model` to a .tflite file in memory. Throws Error naming the node and the op for an op (or an
/// attribute) the exporter does not support, and naming the tensor for a shape it cannot make static.
std::string buildTflite(const Model& model, const TfliteExportOptions& options = {},
                        TfliteExportReport* report = nullptr);

/// buildTflite, then written atomically to `path` (nothing is left at `path` when the export fails). Refuses
/// to overwrite the file `model` was loaded from.
TfliteExportReport writeTflite(const Model& model, const TfliteExportOptions& options,
                               const std::filesystem::path& path);

}  // namespace edgetune
