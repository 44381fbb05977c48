#pragma once
// Model: owns an onnx::ModelProto and answers graph questions about it; loads with checks, saves atomically.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ir/opset_convert.h"
#include "core/ir/tensor.h"

namespace edgetune {

/// A graph value's declared type and shape; dimensions < 0 are unknown or symbolic.
struct ValueInfo {
  std::string name;
  DataType type = DataType::Float32;
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;  // symbolic names ("N", "batch") where a dimension has one
  bool has_shape = false;
};

/// The ONNX model every pass edits and every executor runs. Single source of truth.
/// Thread safety: a const Model is immutable. Its graph index (producers, consumers, initializers) is built
/// when the model is made (load, fromProto, copy) and when an edit ends (reindex(), which finishGraphEdit and
/// inferShapes call); const members only read it, so any number of threads may query one Model at the same
/// time (a studio job and the UI read the same shared baseline). Editing a Model that another thread reads
/// is a bug: share it as std::shared_ptr<const Model>, copy it to edit. Analyses computed from a Model
/// (stats, ...) are cached outside it, in an AnalysisCache the caller owns (core/ir/analysis_cache.h).
class Model {
 public:
  Model() = default;
  // A copy builds its own index (so it answers for the graph it holds); a move takes the index along.
  Model(const Model& other);
  Model(Model&& other) noexcept;
  Model& operator=(const Model& other);
  Model& operator=(Model&& other) noexcept;
  ~Model() = default;

  /// Parses, resolves external data, converts opset/IR into what ONNX 1.12 reads (see conversion()), runs the
  /// ONNX checker and shape inference.
  /// Throws Error naming `path` and the problem (not ONNX, truncated, missing external data, bad opset...).
  static Model load(const std::filesystem::path& path);
  /// Wraps a proto built in memory (converted like load()); `origin` names it in error messages.
  static Model fromProto(onnx::ModelProto proto, std::string origin = "<in-memory model>");

  /// What load()/fromProto() converted to make the model readable (opset 18+ -> 17, opset < 7 -> 7, IR 9+
  /// -> 8); changed() is false when the model needed nothing. Commands print its lines.
  const OpsetConversion& conversion() const { return conversion_; }

  onnx::ModelProto& proto() { return proto_; }
  const onnx::ModelProto& proto() const { return proto_; }
  onnx::GraphProto& graph() { return *proto_.mutable_graph(); }
  const onnx::GraphProto& graph() const { return proto_.graph(); }

  /// Where the model came from (file path or origin label).
  const std::string& origin() const { return origin_; }
  const std::filesystem::path& sourcePath() const { return source_path_; }

  /// ONNX checker; throws Error("<origin>: invalid ONNX model: ...").
  void check() const;
  /// Re-runs ONNX shape inference (with data propagation), replacing the graph's value_info. `generated`,
  /// when given, receives the values data propagation computed (shape tensors: Shape -> Gather -> Concat).
  void inferShapes(std::unordered_map<std::string, onnx::TensorShapeProto>* generated = nullptr);
  /// Opset of the default ("" / "ai.onnx") domain.
  int64_t opsetVersion() const;

  std::string serialize() const;
  /// Checks, then writes atomically. Refuses to overwrite the file this model was loaded from.
  void save(const std::filesystem::path& path) const;

  // --- graph queries (indices refer to graph().node(i)); call reindex() after editing the graph ---
  /// Rebuilds the graph index from the graph as it is now and starts a new revision(): the end of an edit.
  /// Until then, queries answer for the graph as it was at the last reindex() (a pass may rely on that while
  /// it rewrites).
  void reindex();
  /// Identifies this model's graph as of its last index build: unique in the process, new after every
  /// load, copy and reindex(). What an AnalysisCache keys its results by.
  uint64_t revision() const { return revision_; }
  /// Index of the node producing `tensor`, or -1 for graph inputs, initializers and unknown names.
  int producer(const std::string& tensor) const;
  /// Indices of nodes that read `tensor` (in graph order).
  const std::vector<int>& consumers(const std::string& tensor) const;
  /// True if `tensor` is a graph output.
  bool isGraphOutput(const std::string& tensor) const;
  /// Node indices in a topological order; throws Error if the graph has a cycle or a dangling input.
  std::vector<int> topologicalOrder() const;

  const onnx::TensorProto* initializer(const std::string& name) const;
  onnx::TensorProto* mutableInitializer(const std::string& name);
  bool isInitializer(const std::string& name) const { return initializer(name) != nullptr; }

  /// Graph inputs that are not initializers (what a caller must feed), and graph outputs.
  std::vector<ValueInfo> inputs() const;
  std::vector<ValueInfo> outputs() const;
  /// Declared or inferred type/shape of any tensor (input, output, value_info or initializer).
  std::optional<ValueInfo> valueInfo(const std::string& tensor) const;

  /// Learnable weights: elements of floating-point (and int8/uint8 quantized) initializers, excluding
  /// BatchNormalization running statistics and integer shape/index constants.
  int64_t parameterCount() const;

 private:
  void clearIndex() noexcept;

  onnx::ModelProto proto_;
  std::string origin_ = "<in-memory model>";
  std::filesystem::path source_path_;
  OpsetConversion conversion_;

  // The graph index; written only by non-const members (see the class comment).
  uint64_t revision_ = 0;  // 0: the empty default model, never indexed
  std::unordered_map<std::string, int> producer_;
  std::unordered_map<std::string, std::vector<int>> consumers_;
  std::unordered_map<std::string, int> initializer_index_;
};

/// Copies an initializer's data into a Tensor (raw_data or typed fields).
Tensor tensorFromProto(const onnx::TensorProto& proto);
/// Makes an initializer from a Tensor (stored as raw_data).
onnx::TensorProto tensorToProto(const std::string& name, const Tensor& tensor);
/// Reads an ONNX ValueInfoProto.
ValueInfo valueInfoFromProto(const onnx::ValueInfoProto& vi);

/// Attribute helpers with defaults.
int64_t attrInt(const onnx::NodeProto& node, const std::string& name, int64_t fallback);
float attrFloat(const onnx::NodeProto& node, const std::string& name, float fallback);
std::vector<int64_t> attrInts(const onnx::NodeProto& node, const std::string& name,
                              std::vector<int64_t> fallback = {});
std::string attrString(const onnx::NodeProto& node, const std::string& name, std::string fallback = {});
/// "Conv 'layer1.0.conv1'" — how messages name a node.
std::string describeNode(const onnx::NodeProto& node);

}  // namespace edgetune
