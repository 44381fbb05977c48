#pragma once
// GraphBuilder: builds an ONNX graph in code (inputs, initializers, nodes, outputs) and finishes it into a
// Model.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "core/ir/model.h"
#include "core/ir/tensor.h"

namespace edgetune::zoo {

/// One dimension of a graph input/output: a fixed size, or a symbolic name such as "N" (dynamic).
struct Dim {
  Dim(int value) : value(value) {}                     // NOLINT: {"N", 3, 32, 32} should read naturally
  Dim(int64_t value) : value(value) {}                 // NOLINT
  Dim(const char* param) : param(param) {}             // NOLINT
  Dim(std::string param) : param(std::move(param)) {}  // NOLINT
  int64_t value = -1;
  std::string param;  // non-empty = symbolic dimension
};

/// A node attribute; build one with the named constructors (Attr::i("axis", 1), Attr::ints("perm", {0, 2,
/// 1})).
struct Attr {
  static Attr i(const std::string& name, int64_t value);
  static Attr f(const std::string& name, float value);
  static Attr s(const std::string& name, const std::string& value);
  static Attr ints(const std::string& name, std::vector<int64_t> values);
  static Attr floats(const std::string& name, std::vector<float> values);
  static Attr t(const std::string& name, const Tensor& value);
  onnx::AttributeProto proto;
};

/// Builds an ONNX graph (default opset 17, IR version 8) and turns it into a checked, shape-inferred Model.
/// Node names are made unique ("/relu/Relu", "/relu/Relu_1"); outputs are "<node name>_output_<i>" like
/// torch.onnx names them, unless an explicit output name is given. Duplicate tensor names throw Error.
class GraphBuilder {
 public:
  explicit GraphBuilder(std::string graph_name, int64_t opset = 17);

  /// Declares a graph input; returns its name.
  std::string addInput(const std::string& name, DataType type, const std::vector<Dim>& dims);
  /// Declares a graph output of an existing tensor (produced by a node).
  void addOutput(const std::string& name, DataType type, const std::vector<Dim>& dims);
  /// Adds an initializer (weights, shape constants); returns its name.
  std::string addInitializer(const std::string& name, const Tensor& value);
  /// Adds a Constant node holding `value` (for scalars that are not weights); returns its output name.
  std::string addConstant(const std::string& node_name, const Tensor& value);

  /// Adds a node with one output; returns the output's name (`output_name` if given, else generated).
  std::string addNode(const std::string& op_type, const std::string& node_name,
                      const std::vector<std::string>& inputs, const std::vector<Attr>& attributes = {},
                      const std::string& output_name = {});
  /// Adds a node with `output_count` generated outputs; returns their names.
  std::vector<std::string> addNodeWithOutputs(const std::string& op_type, const std::string& node_name,
                                              const std::vector<std::string>& inputs, int output_count,
                                              const std::vector<Attr>& attributes = {});

  /// `base` if no node has that name yet, else "base_1", "base_2", ...
  std::string uniqueNodeName(const std::string& base) const;
  bool hasTensor(const std::string& name) const { return tensor_names_.count(name) != 0; }

  /// Direct access for what the helpers above do not cover (doc strings, metadata, other domains).
  onnx::ModelProto& proto() { return proto_; }

  /// Runs the ONNX checker and shape inference (Model::fromProto); the builder is empty afterwards.
  Model finish(const std::string& origin = {});

 private:
  void claimTensorName(const std::string& name);
  void appendNode(const std::string& op_type, const std::string& name, const std::vector<std::string>& inputs,
                  const std::vector<std::string>& outputs, const std::vector<Attr>& attributes);

  onnx::ModelProto proto_;
  std::set<std::string> tensor_names_;
  std::set<std::string> node_names_;
};

}  // namespace edgetune::zoo
