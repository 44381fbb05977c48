#pragma once
// Internal to core/analysis/channel_*.cpp: the walker that fills a ChannelDependencies, one rule per op kind
// (channel_rules.cpp), the attention pattern (channel_attention.cpp) and the grouping
// (channel_dependencies.cpp).
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/analysis/channel_dependencies.h"

namespace edgetune::channel_deps {

inline bool isDefaultDomain(const onnx::NodeProto& n) {
  return n.domain().empty() || n.domain() == "ai.onnx";
}

inline const std::set<std::string> kUnaryPassThrough = {
    "Relu",       "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid",
    "HardSwish",  "Erf",       "Gelu",    "Elu",  "Selu", "Celu",
    "Softplus",   "Softsign",  "Neg",     "Abs",  "Sqrt", "Exp",
    "Log",        "Identity",  "Dropout", "Cast", "Mish", "ThresholdedRelu",
    "Reciprocal", "Sign",      "Floor",   "Ceil", "Round"};
inline const std::set<std::string> kSpatialOps = {"MaxPool",       "AveragePool", "GlobalAveragePool",
                                                  "GlobalMaxPool", "LpPool",      "GlobalLpPool"};
inline const std::set<std::string> kBinary = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean"};
inline const std::set<std::string> kReduce = {"ReduceMean", "ReduceSum",       "ReduceMax",
                                              "ReduceMin",  "ReduceProd",      "ReduceL1",
                                              "ReduceL2",   "ReduceSumSquare", "ReduceLogSumExp"};

struct Attention {
  int rs_q, rs_k, rs_v, rs_out;  // the head-splitting Reshapes and the head-merging Reshape
  std::string q, k, v;           // the projections' outputs (tracked on the last axis)
  int ctx = -1, scores = -1;     // the two activation MatMuls (their MACs shrink with the heads)
  std::vector<int> claimed;      // nodes handled by the pattern (not by the generic rules)
};

class ChannelDependencyWalker {
 public:
  explicit ChannelDependencyWalker(ChannelDependencies& facts);
  /// Walks the graph in topological order, then groups the surviving element ids.
  void run();

 private:
  // The facts being filled, under the names the rules use.
  ChannelDependencies& facts_;
  const Model& m_;
  UnionFind& uf;
  std::vector<std::string>& element_poison;
  std::vector<int>& element_producer;
  std::unordered_map<std::string, Track>& tracks;
  std::vector<SliceSite>& slices;
  std::vector<ShapeSite>& shapes;
  std::vector<GroupAttrSite>& group_attrs;
  std::set<int>& head_roots;
  std::vector<std::pair<int, int>>& attention_matmuls;
  std::unordered_map<int, std::string>& layer_notes;
  std::vector<ChannelDependencies::GroupData>& groups;
  std::map<std::string, size_t>& group_by_id;

  bool isConstantInit(const std::string& name) const { return facts_.isConstantInit(name); }
  bool isOutput(const std::string& name) const { return facts_.isOutput(name); }
  std::optional<Tensor> constant(const std::string& name) const { return facts_.constant(name); }
  bool isConstant(const std::string& name) const { return facts_.isConstant(name); }
  std::optional<std::vector<int64_t>> shapeOf(const std::string& name) const { return facts_.shapeOf(name); }

  std::vector<int> fresh(size_t n, int producer);
  void poison(const std::vector<int>& ids, const std::string& reason);
  void poisonInputs(const onnx::NodeProto& node, const std::string& why = {});
  const Track* track(const std::string& name) const;
  void unite(const std::vector<int>& a, const std::vector<int>& b);

  // --- the attention pattern ---
  // The producer of `name` through a chain of Transposes; returns the composed permutation and the first
  // non-Transpose tensor.
  std::pair<std::string, std::vector<int64_t>> throughTransposes(std::string name, std::vector<int>& nodes);
  // For a Reshape into heads: returns its node index if `name` is such a Reshape's output.
  int reshapeProducer(const std::string& name) const;

  // Where element `index` of a Reshape's shape input lives: (node, slot, element within that input), for an
  // initializer/Constant shape or a Concat of small pieces (the torch.onnx pattern). Also its value if
  // constant.
  struct ShapeRef {
    int node = -1, slot = -1, element = -1;
    std::optional<int64_t> value;
  };
  std::optional<ShapeRef> shapeElement(int reshape, int index) const;

  bool singleReader(const std::string& tensor) const;

  // Recognizes softmax(Q K^T / s + mask) V with Q/K/V split into heads by Reshape+Transpose, starting from
  // the context MatMul.
  std::optional<Attention> matchAttention(int ctx);

  void handleAttention(const Attention& a);

  // --- generic rules ---
  int rankOf(const std::string& name) const;

  // ONNX shape inference gives up after ops it cannot type (LayerNormalization in ONNX 1.12, torch's
  // data-dependent Reshapes), but the rules above only need ranks, which a simple forward pass recovers.
  std::unordered_map<std::string, int> ranks_;
  void inferRanks();

  void conv(int n, const onnx::NodeProto& node);

  void gemm(int n, const onnx::NodeProto& node);

  void matmul(int n, const onnx::NodeProto& node);

  void normalization(int n, const onnx::NodeProto& node, int params);

  void binary(int n, const onnx::NodeProto& node);

  void concat(const onnx::NodeProto& node);

  // Flatten / Reshape / Squeeze that collapse the channel axis and everything after it into the last axis:
  // channel c becomes the block of columns [c * inner, (c + 1) * inner).
  void collapse(int n, const onnx::NodeProto& node);

  void reduce(const onnx::NodeProto& node);

  void transpose(const onnx::NodeProto& node);

  void shape(const onnx::NodeProto& node);

  void gather(const onnx::NodeProto& node);

  // Pad that leaves the channel axis alone (DenseNet's transitions pad H/W by zero before AveragePool).
  void pad(const onnx::NodeProto& node);

  // Slice along axes other than the channel axis (a spatial crop) keeps every channel.
  void slice(const onnx::NodeProto& node);

  void buildGroups();
};

}  // namespace edgetune::channel_deps
