#pragma once
// Where the program's own files are: the folder of the running binary (the build puts edgetune-runner and its
// ONNX Runtime beside edgetune-cli and the studio) and the bundled resources/ (demo models, recipes). One
// lookup for the CLI, the studio and the pipeline.
#include <filesystem>

namespace edgetune {

/// The folder of the running program (/proc/self/exe); the current folder if it cannot be read.
std::filesystem::path programDir();

/// The bundled resources folder (models/, recipes/): $EDGETUNE_RESOURCES when set, else share/edgetune beside
/// the program's bin/ (an installed build), else the source tree's resources/ this build was configured from.
std::filesystem::path resourcesDir();

}  // namespace edgetune
