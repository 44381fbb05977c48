#pragma once
// LayerNorm written the way ONNX Runtime's CPU provider runs it fastest.
#include "core/ir/model.h"

namespace edgetune {

/// Rewrites every layer normalization over the last axis, fused (LayerNormalization) or as torch.onnx
/// decomposes it below opset 17 (ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div), into
/// ReduceMean, Sub, Mul(d, d), ReduceMean, Add eps, Sqrt, Reciprocal and Mul. ONNX Runtime fuses the first
/// two forms into its LayerNormalization kernel, which on x86 takes about 3x as long as the unfused
/// elementwise kernels of the third (225 vs 75 us for 128 x 256 floats, 1 thread, AVX2), so in a dynamic
/// INT8 encoder, whose GEMMs are faster, LayerNorm becomes a seventh of the time. Outputs change only by
/// rounding (a reciprocal and a multiply instead of a division). Returns how many were rewritten.
int writeLayerNormsUnfused(Model& model);

}  // namespace edgetune
