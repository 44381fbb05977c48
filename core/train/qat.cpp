// QAT: the quantizer stores int8 weights, which cannot be trained, so training uses a float shadow of each
// weight followed by QuantizeLinear (TorchGraph fake-quantizes it with a straight-through gradient); scales
// stay the post-training ones, so the int32 biases (scale s_x * s_w) remain valid when the weights are folded
// back.
#include "core/train/qat.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <set>

#include "core/passes/graph_edit.h"
#include "core/util/error.h"

namespace edgetune {

namespace {

int64_t attrAxis(const onnx::NodeProto& node) {
  for (const auto& a : node.attribute())
    if (a.name() == "axis") return a.i();
  return 1;  // the ONNX default
}

// Index of the element's channel along `axis` for per-axis parameters (0 for per-tensor).
struct AxisIndexer {
  int64_t channels = 1, inner = 1;
  AxisIndexer(const std::vector<int64_t>& shape, int64_t axis, int64_t param_count) {
    if (param_count <= 1) return;
    if (axis < 0) axis += static_cast<int64_t>(shape.size());
    channels = shape.at(static_cast<size_t>(axis));
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  }
  size_t operator()(int64_t i) const {
    return channels == 1 ? 0 : static_cast<size_t>((i / inner) % channels);
  }
};

float zeroPointAt(const Tensor& zp, size_t c) {
  if (zp.numel() == 0) return 0;
  const size_t k = zp.numel() == 1 ? 0 : c;
  switch (zp.type()) {
    case DataType::Int8:
      return zp.values<int8_t>()[k];
    case DataType::UInt8:
      return zp.values<uint8_t>()[k];
    default:
      throw Error("qat: unsupported zero point type " + dataTypeName(zp.type()));
  }
}

}  // namespace

int makeQatShadow(Model& model) {
  model.reindex();
  auto& g = model.graph();
  std::set<std::string> weight_ops = {"Conv", "Gemm", "MatMul", "ConvTranspose"};
  std::set<std::string> done;
  std::vector<onnx::NodeProto> quantizers;
  for (const auto& n : g.node()) {
    if (n.op_type() != "DequantizeLinear" || n.input_size() < 2) continue;
    const std::string& qname = n.input(0);
    const onnx::TensorProto* qinit = model.initializer(qname);
    if (!qinit || qinit->data_type() != onnx::TensorProto::INT8 || done.count(qname)) continue;
    // Only weights: the DQ output feeds input 1 of a Conv/Gemm/MatMul.
    bool is_weight = false;
    for (int c : model.consumers(n.output(0))) {
      const auto& consumer = g.node(c);
      if (weight_ops.count(consumer.op_type()) && consumer.input_size() > 1 &&
          consumer.input(1) == n.output(0))
        is_weight = true;
    }
    if (!is_weight) continue;
    const onnx::TensorProto* sinit = model.initializer(n.input(1));
    const onnx::TensorProto* zinit =
        n.input_size() > 2 && !n.input(2).empty() ? model.initializer(n.input(2)) : nullptr;
    if (!sinit || (n.input_size() > 2 && !n.input(2).empty() && !zinit))
      throw Error(model.origin() + ": DequantizeLinear '" + n.name() +
                  "' has a non-constant scale or zero point");
    const Tensor q = tensorFromProto(*qinit);
    const Tensor scale = tensorFromProto(*sinit);
    const Tensor zp = zinit ? tensorFromProto(*zinit) : Tensor(DataType::Int8, scale.shape());
    const int64_t axis = attrAxis(n);
    const AxisIndexer channel(q.shape(), axis, scale.numel());
    Tensor w(DataType::Float32, q.shape());
    auto wv = w.values<float>();
    const auto qv = q.values<int8_t>();
    const auto sv = scale.values<float>();
    for (int64_t i = 0; i < q.numel(); ++i) {
      const size_t c = channel(i);
      wv[static_cast<size_t>(i)] =
          (static_cast<float>(qv[static_cast<size_t>(i)]) - zeroPointAt(zp, c)) * sv[c];
    }
    const std::string float_name = uniqueName(model, qname + "_float");
    *g.add_initializer() = tensorToProto(float_name, w);
    onnx::NodeProto quant;
    quant.set_op_type("QuantizeLinear");
    quant.set_name(uniqueName(model, qname + "_QuantizeLinear"));
    quant.add_input(float_name);
    quant.add_input(n.input(1));
    // Static INT8 leaves out all-zero weight zero points; a QuantizeLinear without one would write uint8.
    if (zinit) {
      quant.add_input(n.input(2));
    } else {
      const std::string zp_name = uniqueName(model, qname + "_zero_point");
      *g.add_initializer() = tensorToProto(zp_name, zp);
      quant.add_input(zp_name);
    }
    quant.add_output(qname);
    for (const auto& a : n.attribute())
      if (a.name() == "axis") *quant.add_attribute() = a;
    quantizers.push_back(std::move(quant));
    done.insert(qname);
  }
  if (done.empty())
    throw Error(model.origin() +
                ": has no int8 weights behind DequantizeLinear; QAT needs a static QDQ model");
  removeInitializers(model, done);
  // Quantizers read only initializers, so putting them first keeps the node list topologically sorted.
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (auto& qn : quantizers) *nodes.Add() = std::move(qn);
  for (auto& n : *g.mutable_node()) *nodes.Add() = std::move(n);
  g.mutable_node()->Swap(&nodes);
  finishGraphEdit(model, "qat shadow");
  return static_cast<int>(done.size());
}

int foldQatShadow(Model& model, bool reduce_range) {
  model.reindex();
  auto& g = model.graph();
  const float qmax = reduce_range ? 63.0f : 127.0f;
  std::vector<bool> remove(static_cast<size_t>(g.node_size()), false);
  std::set<std::string> floats;
  std::vector<onnx::TensorProto> folded;
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    if (n.op_type() != "QuantizeLinear" || n.input_size() < 3) continue;
    const onnx::TensorProto* winit = model.initializer(n.input(0));
    const onnx::TensorProto* sinit = model.initializer(n.input(1));
    const onnx::TensorProto* zinit = model.initializer(n.input(2));
    if (!winit || winit->data_type() != onnx::TensorProto::FLOAT || !sinit || !zinit ||
        zinit->data_type() != onnx::TensorProto::INT8)
      continue;
    const Tensor w = tensorFromProto(*winit), scale = tensorFromProto(*sinit), zp = tensorFromProto(*zinit);
    const int64_t axis = attrAxis(n);
    const AxisIndexer channel(w.shape(), axis, scale.numel());
    Tensor q(DataType::Int8, w.shape());
    auto qv = q.values<int8_t>();
    const auto wv = w.values<float>();
    const auto sv = scale.values<float>();
    for (int64_t k = 0; k < w.numel(); ++k) {
      const size_t c = channel(k);
      const float v = std::nearbyint(wv[static_cast<size_t>(k)] / sv[c]) + zeroPointAt(zp, c);
      qv[static_cast<size_t>(k)] = static_cast<int8_t>(std::clamp(v, -qmax, qmax));
    }
    folded.push_back(tensorToProto(n.output(0), q));
    floats.insert(n.input(0));
    floats.insert(n.input(2));  // a zero point only the quantizer read (makeQatShadow added it)
    remove[static_cast<size_t>(i)] = true;
  }
  removeNodes(model, remove);
  for (auto& t : folded) *g.add_initializer() = std::move(t);
  // A float weight (or zero point) read by something other than its quantizer would be left dangling; keep it
  // then.
  model.reindex();
  for (auto it = floats.begin(); it != floats.end();)
    it = model.consumers(*it).empty() ? std::next(it) : floats.erase(it);
  removeInitializers(model, floats);
  finishGraphEdit(model, "qat fold");
  return static_cast<int>(folded.size());
}

QatResult quantizationAwareTrainingFromQdq(const Model& qdq_model, const Dataset& train,
                                           const Dataset* validation, const TrainOptions& options,
                                           bool reduce_range, JobContext* job,
                                           const std::function<void(const EpochStats&)>& on_epoch) {
  const auto started = std::chrono::steady_clock::now();
  QatResult result;
  result.ptq_model = qdq_model;
  Model shadow = qdq_model;
  result.weights = makeQatShadow(shadow);
  TrainResult r = trainModel(shadow, train, validation, options, job, on_epoch);
  result.history = std::move(r.history);
  result.final_validation_accuracy = r.final_validation_accuracy;
  result.model = std::move(r.model);
  foldQatShadow(result.model, reduce_range);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

QatResult quantizationAwareTraining(const Model& float_model, const Dataset& train, const Dataset* validation,
                                    const Dataset& calibration, const QatOptions& options, JobContext* job,
                                    const std::function<void(const EpochStats&)>& on_epoch) {
  const auto started = std::chrono::steady_clock::now();
  QuantizeOptions q = options.quantize;
  if (q.mode != QuantizeMode::Static)
    throw Error("qat: quantize mode must be static (got '" + toString(q.mode) +
                "'); QAT trains static Q/DQ scales' weights");
  validate(q);
  Model ptq = float_model;
  {
    PassContext context(job);
    QuantizePass pass(q);
    // Non-owning: the pass only uses the dataset during apply().
    pass.setDataset(std::shared_ptr<const Dataset>(std::shared_ptr<const Dataset>(), &calibration));
    pass.apply(ptq, context);
  }
  QatResult result =
      quantizationAwareTrainingFromQdq(ptq, train, validation, options.train, q.reduce_range, job, on_epoch);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace edgetune
