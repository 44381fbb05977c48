#pragma once
// Transfer learning on ONNX graphs: find the classifier head, replace it for a new class count, list what to
// freeze. Torch-free header.
#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/model.h"

namespace edgetune {

/// The final fully connected layer producing a model's logits: a Gemm, or a MatMul followed by an Add.
struct ClassifierHead {
  std::string node;    // name of the Gemm or MatMul node
  std::string weight;  // initializer names
  std::string bias;    // empty if the layer has no bias
  int64_t in_features = 0;
  int64_t classes = 0;
  bool weight_classes_first = false;  // weight is [classes, in_features] (Gemm transB=1), else [in, classes]
};

/// Finds the head that produces `output` (the first output if empty); throws Error naming the output and the
/// node that produces it if that is not a Gemm / MatMul(+Add) over initializers.
ClassifierHead findClassifierHead(const Model& model, const std::string& output = {});

/// Replaces the head's weight and bias with freshly initialized ones for `classes` classes (uniform in
/// +-1/sqrt(in_features), PyTorch's nn.Linear default, from `seed`) and updates the output's declared shape.
ClassifierHead replaceClassifierHead(Model& model, int64_t classes, uint64_t seed,
                                     const std::string& output = {});

/// The trained parameters of `model` except the head's: what "freeze everything before the head" freezes.
std::vector<std::string> parametersBeforeHead(const Model& model, const ClassifierHead& head);

}  // namespace edgetune
