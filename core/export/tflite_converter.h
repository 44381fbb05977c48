#pragma once
// TfliteConverter: walks an ONNX graph in topological order and emits TFLite operators, keeping track of the
// layout each ONNX value has in the TFLite graph. Internal to core/export (the public API is
// tflite_export.h).
//
// Layout: every value carries a permutation `perm` with TFLite dimension i = ONNX dimension perm[i]
// ({0, 2, 3, 1} is NCHW stored as NHWC; {0, 1, ..., r-1} is the ONNX layout). Operators that need NHWC (Conv,
// pooling) ask for their input in NHWC, operators that are layout-blind (activations, Add, Concat, Pad, Mean)
// work in whatever layout their input has and remap their axes, and operators that need the ONNX order
// (Reshape of a spatial tensor, MatMul, graph outputs) ask for the identity layout. A Transpose is inserted
// only when a value is asked for in a layout it does not have (and then cached). Constants are permuted at
// export instead. So a CNN gets one Transpose at its input (none with nhwc_input) and none inside.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/export/tflite_builder.h"
#include "core/export/tflite_export.h"
#include "core/ir/model.h"
#include "core/ir/tensor.h"

namespace edgetune::tflite_export {

/// TFLite dimension i holds ONNX dimension perm[i].
using Perm = std::vector<int>;

Perm identityPerm(size_t rank);
bool isIdentity(const Perm& perm);
/// NCHW -> NHWC for rank 4 (the identity for other ranks).
Perm nhwcPerm(size_t rank);
/// `shape` (ONNX order) in TFLite order.
std::vector<int64_t> permuteShape(const std::vector<int64_t>& shape, const Perm& perm);
/// The dense tensor `t` (ONNX order) with its dimensions reordered to TFLite order.
Tensor permuteTensor(const Tensor& t, const Perm& perm);
/// True when the TFLite tensor holds its elements in the ONNX tensor's row-major order (only size-1
/// dimensions moved), so a Reshape can read it without a Transpose.
bool sameElementOrder(const std::vector<int64_t>& shape, const Perm& perm);
/// Position of ONNX axis `axis` in the TFLite tensor.
int tfliteAxis(const Perm& perm, int64_t axis);

tfl::TensorType tfliteType(DataType type);

class TfliteConverter {
 public:
  TfliteConverter(const Model& model, const TfliteExportOptions& options);
  /// Converts the whole graph; returns the file's bytes.
  std::string run(TfliteExportReport* report);

  // --- for the op converters (tflite_ops_*.cpp) ---
  const Model& model() const { return model_; }
  const TfliteExportOptions& options() const { return options_; }
  TfliteBuilder& builder() { return builder_; }

  bool isConstant(const std::string& name) const { return constants_.count(name) != 0; }
  /// A constant's value (initializer or Constant node); throws Error naming `node` if `name` is not one.
  const Tensor& constant(const onnx::NodeProto& node, const std::string& name) const;
  /// The static ONNX shape of any value; throws Error naming the value when it is unknown.
  std::vector<int64_t> shape(const std::string& name) const;
  DataType type(const std::string& name) const;
  /// The layout of a computed value (the identity for constants).
  Perm layoutOf(const std::string& name) const;

  /// The tensor holding `name` in layout `perm`: the value itself, a cached Transpose of it, or for a
  /// constant a permuted copy.
  int32_t input(const std::string& name, const Perm& perm);
  /// A new run-time tensor for `node`'s output `index`, stored in layout `perm`; it becomes the value's
  /// tensor.
  int32_t output(const onnx::NodeProto& node, int index, const Perm& perm);
  /// output(node, 0, perm), or, when the node's only reader is a Relu / Relu6 (Clip 0..6) the TFLite op can
  /// fuse, the tensor of that activation's output (the activation node is then skipped) and its kind in
  /// `activation`.
  int32_t outputFusingActivation(const onnx::NodeProto& node, const Perm& perm,
                                 tfl::ActivationFunctionType& activation);
  /// `name` is an existing tensor seen in layout `perm` (an ONNX Transpose or Identity costs no operator).
  void defineValue(const std::string& name, int32_t tensor, const Perm& perm);
  /// `name` is a constant computed at export (a Reshape or Transpose of a constant).
  void defineConstant(const std::string& name, Tensor value);
  /// A constant tensor holding `value` as it is.
  int32_t constantTensor(const std::string& name, const Tensor& value);
  /// An int32 constant (shapes, axes, paddings).
  int32_t int32Constant(const std::string& name, const std::vector<int32_t>& values,
                        std::vector<int32_t> shape = {});
  /// A run-time float tensor that is not an ONNX value (the middle of a decomposition).
  int32_t scratchTensor(const std::string& name, DataType type, const std::vector<int64_t>& tflite_shape);

  /// For a value flattened from a spatial NHWC tensor without a Transpose: onnx_index[k] is the ONNX feature
  /// index of TFLite feature k. A FullyConnected reading it permutes its weight columns the same way.
  const std::vector<int64_t>* flattenOrder(const std::string& name) const;
  void setFlattenOrder(const std::string& name, std::vector<int64_t> onnx_index);
  /// The tensor of a value with a flatten order, for the FullyConnected that permutes its weights to match;
  /// input() refuses such a value (its elements are not in ONNX order).
  int32_t flattenedInput(const std::string& name) const;

  [[noreturn]] void unsupported(const onnx::NodeProto& node, const std::string& why) const;

 private:
  struct Value {
    int32_t tensor = -1;
    Perm perm;
  };
  void collectConstants();
  void addGraphInputs();
  void addGraphOutputs();

  std::set<const onnx::NodeProto*> fused_;  // activations folded into the op before them
  const Model& source_;
  Model model_;  // the source with concrete input sizes and shapes inferred
  TfliteExportOptions options_;
  TfliteBuilder builder_;
  std::map<std::string, Tensor> constants_;
  std::map<std::string, Value> values_;
  std::map<std::pair<std::string, Perm>, int32_t> layout_copies_;  // transposed values, permuted constants
  std::map<std::string, std::vector<int64_t>> flatten_orders_;
};

/// A Clip's bounds (attributes before opset 11, constant inputs after); absent or infinite bounds are
/// nullopt.
std::pair<std::optional<float>, std::optional<float>> clipBounds(TfliteConverter& c,
                                                                 const onnx::NodeProto& node);

/// Converts one ONNX node; the table is keyed by op type (domain "" / ai.onnx).
using OpConverter = std::function<void(TfliteConverter&, const onnx::NodeProto&)>;
void addNnConverters(std::map<std::string, OpConverter>& table);      // tflite_ops_nn.cpp
void addTensorConverters(std::map<std::string, OpConverter>& table);  // tflite_ops_tensor.cpp

}  // namespace edgetune::tflite_export
