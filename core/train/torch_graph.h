#pragma once
// TorchGraph: runs an ONNX Model with libtorch and autograd, so its float initializers can be trained.
// This header includes ATen's Tensor (not <torch/torch.h>); never include it in a file that includes Qt
// widget headers. Code that only needs an Executor or the list of unsupported ops includes
// core/train/torch_executor.h.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/ir/model.h"

namespace edgetune {

/// A trainable libtorch interpretation of an ONNX graph: parameters, BN buffers and pre-compiled nodes.
///
/// Float32 initializers in weight positions (or with more than one element) become parameters
/// (requires_grad); BatchNormalization running mean/variance become buffers; everything else (integer
/// initializers, Q/DQ scales and zero points, scalar constants, shape inputs) stays constant. Sub-graphs over
/// constants are folded at build time. QuantizeLinear outputs are carried as float tensors holding the
/// integer values (fake quantization), so the gradient passes straight through the rounding. An Identity on
/// an initializer (torch.onnx's deduplicated weights) is another name for the same tensor: both uses train
/// one parameter. Runs raw exports and canonicalized models.
class TorchGraph {
 public:
  /// Converts the initializers and compiles every node; throws one Error naming the first unsupported node,
  /// every missing operator and what to do ("<model>: NonZero 'nz' cannot be trained: the training engine has
  /// no NonZero operator (...). Training ... need every node; re-export ..."), or a node with unusable
  /// attributes.
  explicit TorchGraph(const Model& model);
  ~TorchGraph();
  TorchGraph(TorchGraph&&) noexcept;
  TorchGraph& operator=(TorchGraph&&) noexcept;

  /// Training mode: BatchNormalization uses batch statistics and updates its running statistics, Dropout is
  /// active.
  void train(bool on = true);
  void eval() { train(false); }
  bool isTraining() const;

  /// Names of the inputs forward() takes, in order (graph inputs that are not initializers), and graph
  /// outputs.
  const std::vector<std::string>& inputNames() const;
  const std::vector<std::string>& outputNames() const;
  /// True if `name` is a tensor of the graph (input, initializer or node output) that forward() can return.
  bool hasTensor(const std::string& name) const;

  /// Runs the nodes needed for `outputs` (graph outputs if empty; any intermediate tensor name works) with
  /// autograd recording unless a NoGradGuard is active. `inputs` are in inputNames() order.
  std::vector<at::Tensor> forward(const std::vector<at::Tensor>& inputs,
                                  const std::vector<std::string>& outputs = {});
  std::vector<at::Tensor> forward(const std::vector<std::pair<std::string, at::Tensor>>& named_inputs,
                                  const std::vector<std::string>& outputs = {});

  /// Trainable tensors (leaf tensors with requires_grad), in initializer order; hand these to an optimizer.
  const std::vector<at::Tensor>& parameters() const;
  std::vector<std::pair<std::string, at::Tensor>> namedParameters() const;
  /// BatchNormalization running statistics (updated in training mode, not trained by gradients).
  std::vector<std::pair<std::string, at::Tensor>> namedBuffers() const;

  /// Writes parameters and buffers back into `model`'s initializers of the same names (as float32 raw data).
  /// Throws Error if `model` lacks one of them or its shape differs.
  void writeBack(Model& model) const;

  /// Operator types in `model` the interpreter cannot run (sorted, unique; "domain:Op" outside the ONNX
  /// domain).
  static std::vector<std::string> unsupportedOps(const Model& model);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgetune
