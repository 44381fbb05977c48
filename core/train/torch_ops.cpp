// ONNX operators as libtorch kernels. Attributes and constant inputs are parsed once here, so a forward pass
// only dispatches tensors. Semantics follow the ONNX operator specification (opsets 7..18 where they differ).
// This file is the dispatch table (op name -> compile function, the one-line kernels inline) and the tensor
// conversions; the kernels live by family in torch_ops_elementwise.cpp, torch_ops_nn.cpp,
// torch_ops_shape.cpp, torch_ops_reduce.cpp, torch_ops_resize.cpp and torch_ops_quantize.cpp.
#include "core/train/torch_ops.h"

#include <ATen/ATen.h>

#include <cstring>
#include <unordered_map>

#include "core/ir/model.h"
#include "core/train/torch_ops_kernels.h"
#include "core/util/error.h"

namespace edgetune::torch_ops {
namespace {

using namespace kernels;

// ---------- the registry ----------

using Compiler = CompiledOp (*)(const NodeContext&);

const std::unordered_map<std::string, Compiler>& registry() {
  static const std::unordered_map<std::string, Compiler> table = {
      // element-wise unary
      {"Relu", [](const NodeContext&) { return unary([](const Tensor& x) { return at::relu(x); }); }},
      {"Sigmoid", [](const NodeContext&) { return unary([](const Tensor& x) { return at::sigmoid(x); }); }},
      {"Tanh", [](const NodeContext&) { return unary([](const Tensor& x) { return at::tanh(x); }); }},
      {"Erf", [](const NodeContext&) { return unary([](const Tensor& x) { return at::erf(x); }); }},
      {"Sqrt", [](const NodeContext&) { return unary([](const Tensor& x) { return at::sqrt(x); }); }},
      {"Exp", [](const NodeContext&) { return unary([](const Tensor& x) { return at::exp(x); }); }},
      {"Log", [](const NodeContext&) { return unary([](const Tensor& x) { return at::log(x); }); }},
      {"Neg", [](const NodeContext&) { return unary([](const Tensor& x) { return at::neg(x); }); }},
      {"Abs", [](const NodeContext&) { return unary([](const Tensor& x) { return at::abs(x); }); }},
      {"Reciprocal",
       [](const NodeContext&) { return unary([](const Tensor& x) { return at::reciprocal(x); }); }},
      {"Floor", [](const NodeContext&) { return unary([](const Tensor& x) { return at::floor(x); }); }},
      {"Ceil", [](const NodeContext&) { return unary([](const Tensor& x) { return at::ceil(x); }); }},
      {"Round", [](const NodeContext&) { return unary([](const Tensor& x) { return at::round(x); }); }},
      {"Sin", [](const NodeContext&) { return unary([](const Tensor& x) { return at::sin(x); }); }},
      {"Cos", [](const NodeContext&) { return unary([](const Tensor& x) { return at::cos(x); }); }},
      {"Not", [](const NodeContext&) { return unary([](const Tensor& x) { return at::logical_not(x); }); }},
      {"Softplus", [](const NodeContext&) { return unary([](const Tensor& x) { return at::softplus(x); }); }},
      {"Softsign",
       [](const NodeContext&) { return unary([](const Tensor& x) { return x / (at::abs(x) + 1); }); }},
      {"HardSwish",
       [](const NodeContext&) { return unary([](const Tensor& x) { return at::hardswish(x); }); }},
      {"Identity", [](const NodeContext&) { return unary([](const Tensor& x) { return x; }); }},
      {"Sign", [](const NodeContext&) { return unary([](const Tensor& x) { return at::sign(x); }); }},
      {"IsNaN", [](const NodeContext&) { return unary([](const Tensor& x) { return at::isnan(x); }); }},
      {"IsInf", compileIsInf},
      {"Celu", compileCelu},
      {"ThresholdedRelu", compileThresholdedRelu},
      {"Mish",
       [](const NodeContext&) {
         return unary([](const Tensor& x) { return x * at::tanh(at::softplus(x)); });
       }},
      {"HardSigmoid", compileHardSigmoid},
      {"LeakyRelu", compileLeakyRelu},
      {"Elu", compileElu},
      {"Selu", compileSelu},
      {"Gelu", compileGelu},
      {"Clip", compileClip},
      {"PRelu",
       [](const NodeContext&) {
         return binary([](const Tensor& x, const Tensor& slope) { return at::where(x >= 0, x, x * slope); });
       }},
      // element-wise binary / variadic
      {"Add",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::add(a, b); });
       }},
      {"Sub",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::sub(a, b); });
       }},
      {"Mul",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::mul(a, b); });
       }},
      {"Div", compileDiv},
      {"Pow", compilePow},
      {"Mod", compileMod},
      {"Equal",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::eq(a, b); });
       }},
      {"Less",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::lt(a, b); });
       }},
      {"LessOrEqual",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::le(a, b); });
       }},
      {"Greater",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::gt(a, b); });
       }},
      {"GreaterOrEqual",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::ge(a, b); });
       }},
      {"And",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::logical_and(a, b); });
       }},
      {"Or",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::logical_or(a, b); });
       }},
      {"Xor",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::logical_xor(a, b); });
       }},
      {"Sum",
       [](const NodeContext&) {
         return variadic([](const Tensor& a, const Tensor& b) { return at::add(a, b); }, false);
       }},
      {"Mean",
       [](const NodeContext&) {
         return variadic([](const Tensor& a, const Tensor& b) { return at::add(a, b); }, true);
       }},
      {"Max",
       [](const NodeContext&) {
         return variadic([](const Tensor& a, const Tensor& b) { return at::maximum(a, b); }, false);
       }},
      {"Min",
       [](const NodeContext&) {
         return variadic([](const Tensor& a, const Tensor& b) { return at::minimum(a, b); }, false);
       }},
      {"Where", compileWhere},
      // linear algebra, convolution, normalization
      {"MatMul",
       [](const NodeContext&) {
         return binary([](const Tensor& a, const Tensor& b) { return at::matmul(a, b); });
       }},
      {"Gemm", compileGemm},
      {"Einsum", compileEinsum},
      {"Conv", compileConv},
      {"ConvTranspose", compileConvTranspose},
      {"BatchNormalization", compileBatchNorm},
      {"InstanceNormalization", compileInstanceNorm},
      {"LayerNormalization", compileLayerNorm},
      {"Dropout", compileDropout},
      // pooling
      {"MaxPool", compileMaxPool},
      {"AveragePool", compileAveragePool},
      {"GlobalAveragePool", [](const NodeContext&) { return compileGlobalPool(false); }},
      {"GlobalMaxPool", [](const NodeContext&) { return compileGlobalPool(true); }},
      // shape and indexing
      {"Flatten", compileFlatten},
      {"Reshape", compileReshape},
      {"Transpose", compileTranspose},
      {"Concat", compileConcat},
      {"Split", compileSplit},
      {"Slice", compileSlice},
      {"Gather", compileGather},
      {"GatherElements", compileGatherElements},
      {"Unsqueeze", compileUnsqueeze},
      {"Squeeze", compileSqueeze},
      {"Shape", compileShape},
      {"Size", compileSize},
      {"Constant", compileConstant},
      {"ConstantOfShape", compileConstantOfShape},
      {"Expand", compileExpand},
      {"Tile", compileTile},
      {"Range", compileRange},
      {"Pad", compilePad},
      {"Cast", compileCast},
      {"Resize", compileResize},
      {"Upsample", compileResize},
      {"Trilu", compileTrilu},
      {"GatherND", compileGatherND},
      {"ScatterND", compileScatterND},
      {"CastLike", compileCastLike},
      // reductions and normalizers
      {"Softmax", [](const NodeContext& c) { return compileSoftmax(c, false); }},
      {"LogSoftmax", [](const NodeContext& c) { return compileSoftmax(c, true); }},
      {"ReduceMean", [](const NodeContext& c) { return compileReduce(c, Reduce::Mean); }},
      {"ReduceSum", [](const NodeContext& c) { return compileReduce(c, Reduce::Sum); }},
      {"ReduceMax", [](const NodeContext& c) { return compileReduce(c, Reduce::Max); }},
      {"ReduceMin", [](const NodeContext& c) { return compileReduce(c, Reduce::Min); }},
      {"ReduceProd", [](const NodeContext& c) { return compileReduce(c, Reduce::Prod); }},
      {"ReduceL2", [](const NodeContext& c) { return compileReduce(c, Reduce::L2); }},
      {"ReduceSumSquare", [](const NodeContext& c) { return compileReduce(c, Reduce::SumSquare); }},
      {"ReduceL1", [](const NodeContext& c) { return compileReduce(c, Reduce::L1); }},
      {"ReduceLogSum", [](const NodeContext& c) { return compileReduce(c, Reduce::LogSum); }},
      {"ReduceLogSumExp", [](const NodeContext& c) { return compileReduce(c, Reduce::LogSumExp); }},
      {"TopK", compileTopK},
      {"CumSum", compileCumSum},
      {"OneHot", compileOneHot},
      {"ArgMax", [](const NodeContext& c) { return compileArg(c, true); }},
      {"ArgMin", [](const NodeContext& c) { return compileArg(c, false); }},
      // quantization
      {"QuantizeLinear", compileQuantize},
      {"DequantizeLinear", compileDequantize},
  };
  return table;
}

}  // namespace

bool isSupported(const onnx::NodeProto& node) {
  if (!node.domain().empty() && node.domain() != "ai.onnx") return false;
  return registry().count(node.op_type()) > 0;
}

CompiledOp compile(const NodeContext& context) {
  auto it = registry().find(context.node->op_type());
  if (it == registry().end() || !isSupported(*context.node))
    throw Error(describeNode(*context.node) + ": operator " + context.node->op_type() +
                " is not supported by the training engine");
  try {
    return it->second(context);
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind(describeNode(*context.node), 0) == 0) throw;
    throw Error(describeNode(*context.node) + ": " + what);
  }
}

at::ScalarType toScalarType(DataType type) {
  switch (type) {
    case DataType::Float32:
      return at::kFloat;
    case DataType::UInt8:
      return at::kByte;
    case DataType::Int8:
      return at::kChar;
    case DataType::Int16:
      return at::kShort;
    case DataType::Int32:
      return at::kInt;
    case DataType::Int64:
      return at::kLong;
    case DataType::Bool:
      return at::kBool;
    case DataType::Float16:
      return at::kHalf;
    case DataType::Float64:
      return at::kDouble;
    case DataType::UInt16:
      break;
  }
  throw Error("element type " + dataTypeName(type) + " is not supported by the training engine");
}

DataType fromScalarType(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return DataType::Float32;
    case at::kByte:
      return DataType::UInt8;
    case at::kChar:
      return DataType::Int8;
    case at::kShort:
      return DataType::Int16;
    case at::kInt:
      return DataType::Int32;
    case at::kLong:
      return DataType::Int64;
    case at::kBool:
      return DataType::Bool;
    case at::kHalf:
      return DataType::Float16;
    case at::kDouble:
      return DataType::Float64;
    default:
      break;
  }
  throw Error(std::string("torch element type ") + c10::toString(type) + " has no EdgeTune equivalent");
}

at::Tensor toTorch(const edgetune::Tensor& tensor, bool copy) {
  auto& mutable_tensor =
      const_cast<edgetune::Tensor&>(tensor);  // from_blob wants a non-const pointer; we never write
  at::Tensor view = at::from_blob(mutable_tensor.raw(), tensor.shape(), toScalarType(tensor.type()));
  return copy ? view.clone() : view;
}

edgetune::Tensor fromTorch(const at::Tensor& tensor, DataType as_type) {
  at::Tensor t = tensor.detach();
  const at::ScalarType target = toScalarType(as_type);
  if (t.scalar_type() != target) {
    // Quantized values are carried as floats; round before narrowing so 2.9999 becomes 3, not 2.
    if (at::isFloatingType(t.scalar_type()) && at::isIntegralType(target, false)) t = at::round(t);
    t = t.to(target);
  }
  t = t.contiguous();
  edgetune::Tensor out(as_type, Ints(t.sizes().begin(), t.sizes().end()));
  if (out.byteSize()) std::memcpy(out.raw(), t.data_ptr(), out.byteSize());
  return out;
}

edgetune::Tensor fromTorch(const at::Tensor& tensor) {
  return fromTorch(tensor, fromScalarType(tensor.scalar_type()));
}

}  // namespace edgetune::torch_ops
