#pragma once
// Quantization error diagnosis: per-tensor SNR, MSE and cosine similarity between a float model's activations
// and the same tensors of its quantized version (the dequantized values its consumers see), worst first.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/jobs/job.h"

namespace edgetune {

/// Error of one activation tensor over the diagnosis batches.
struct TensorError {
  std::string tensor;            // name in the float model
  std::string quantized_tensor;  // what it was compared with in the quantized model
  std::string producer;          // producing node in the float model ("" for graph inputs)
  std::string op_type;
  double snr_db = 0;
  double mse = 0;
  double cosine = 0;
  int64_t elements = 0;
};

struct QuantErrorReport {
  std::vector<TensorError> tensors;  // sorted worst first (lowest SNR)
  size_t samples = 0;
  nlohmann::json toJson() const;
  /// A table: rank, tensor, op, SNR dB, MSE, cosine; `max_rows` <= 0 prints every row.
  std::string toTable(int max_rows = 30) const;
};

/// Runs both models over the first `samples` examples of `dataset` and compares every float tensor produced
/// in the float model with its counterpart in the quantized one (the output of a DequantizeLinear after the
/// QuantizeLinear of <name> if it was quantized, else "<name>"). Statistics are accumulated batch by batch
/// (memory does not grow with `samples`).
QuantErrorReport diagnoseQuantization(const Model& float_model, const Model& quantized_model,
                                      const Dataset& dataset, size_t samples = 64, int batch_size = 16,
                                      JobContext* job = nullptr);

}  // namespace edgetune
