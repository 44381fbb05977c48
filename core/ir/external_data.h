#pragma once
// External tensor data (ONNX's `data_location: EXTERNAL`), read into the model confined to its folder.
#include <onnx/onnx_pb.h>

#include <filesystem>

namespace edgetune {

/// Replaces every external-data reference of `model` (initializers, tensor attributes, in every graph and
/// model function) with the bytes it points at, so the model is self-contained in memory.
/// A model file names files for the tool to read, so it is treated as hostile: a location must be a
/// relative path without "..", whose real path (after symlinks) is a regular file inside the real folder of
/// `model_path`; offset and length are whole numbers >= 0, the length is what the tensor's dims need, and
/// offset + length fits the file; tensors may not read more bytes in total than their files hold.
/// Throws one Error naming `model_path`, the tensor and the location otherwise.
void resolveExternalData(onnx::ModelProto& model, const std::filesystem::path& model_path);

}  // namespace edgetune
