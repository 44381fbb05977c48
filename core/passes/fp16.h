#pragma once
// FP16 conversion: float32 weights and activations become float16 (half the weight bytes); graph inputs and
// outputs can stay float32 behind Cast nodes so callers feed the same tensors as before.
#include <string>
#include <vector>

#include "core/passes/pass.h"

namespace edgetune {

struct Fp16Options {
  bool keep_io_types = true;             // graph inputs/outputs stay float32 (Cast at the boundary)
  std::vector<std::string> exclude_ops;  // op types kept in float32 (with Casts around them)
};

/// Converts float32 initializers, Constant values and value types to float16. Values beyond the float16 range
/// are clamped to +-65504 (e.g. attention masks of -1e9). Throws Error for models with no float32 tensors.
PassReport convertToFp16(Model& model, const Fp16Options& options);

/// Float16 bits of a float (round to nearest even), and back.
uint16_t floatToHalf(float value);
float halfToFloat(uint16_t bits);

}  // namespace edgetune
