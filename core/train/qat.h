#pragma once
// Quantization-aware training: static INT8 Q/DQ from post-training calibration, then training with fake
// quantization (weights trained through their QuantizeLinear with a straight-through gradient), then the
// weights folded back to int8. Torch-free header.
#include <functional>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"
#include "core/passes/quantize_passes.h"
#include "core/train/trainer.h"

namespace edgetune {

/// The trainable ("shadow") form of a QDQ model: every int8 weight initializer read by DequantizeLinear nodes
/// that feed Conv/Gemm/MatMul weights becomes a float initializer (its dequantized values) followed by a
/// QuantizeLinear with the same scale, zero point and axis, whose output keeps the int8 initializer's name.
/// Biases (int32), activation scales and zero points stay fixed. Returns the number of weights converted;
/// throws Error if there is none (not a static QDQ model).
int makeQatShadow(Model& model);

/// The inverse of makeQatShadow: each QuantizeLinear reading a float initializer is evaluated (round, clamp
/// to
/// [-qmax, qmax], qmax = 63 with reduce_range, else 127) into an int8 initializer with the QuantizeLinear's
/// output name, and the node and float initializer are removed. Returns the number of weights folded.
int foldQatShadow(Model& model, bool reduce_range = false);

struct QatOptions {
  TrainOptions train;  // training settings (a lower learning rate than from scratch, e.g. 0.01 SGD)
  QuantizeOptions
      quantize;  // static post-training quantization that provides the scales (mode must be static)
};

struct QatResult {
  Model ptq_model;  // the post-training-quantized starting point
  Model model;      // after QAT, weights int8 again (format as quantize.format)
  std::vector<EpochStats> history;
  double final_validation_accuracy = -1;  // interpreter (fake-quant) accuracy after the last epoch
  int weights = 0;                        // weight tensors trained through fake quantization
  double seconds = 0;
};

/// Quantizes `float_model` statically with `calibration` (options.quantize; its data field is ignored),
/// trains the result with fake quantization on `train`, and folds it back to int8 Q/DQ. Throws Error for a
/// mode other than static or anything the quantizer or trainer refuses.
QatResult quantizationAwareTraining(const Model& float_model, const Dataset& train, const Dataset* validation,
                                    const Dataset& calibration, const QatOptions& options,
                                    JobContext* job = nullptr,
                                    const std::function<void(const EpochStats&)>& on_epoch = {});

/// Same, starting from an existing static QDQ model (e.g. written by `edgetune-cli quantize`).
QatResult quantizationAwareTrainingFromQdq(const Model& qdq_model, const Dataset& train,
                                           const Dataset* validation, const TrainOptions& options,
                                           bool reduce_range = false, JobContext* job = nullptr,
                                           const std::function<void(const EpochStats&)>& on_epoch = {});

}  // namespace edgetune
