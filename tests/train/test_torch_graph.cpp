// The libtorch interpreter: parity with ONNX Runtime per op family and on zoo / torch.onnx models, gradients
// (against finite differences), BatchNormalization statistics, fake-quantization gradients, write-back,
// refusals.
#include <ATen/ATen.h>

#include <QtTest>

#include <filesystem>
#include <functional>
#include <map>
#include <random>

#include "core/ir/model.h"
#include "core/train/torch_executor.h"
#include "core/train/torch_graph.h"
#include "core/train/torch_ops.h"
#include "core/util/error.h"
#include "core/zoo/graph_builder.h"
#include "core/zoo/zoo.h"
#include "tests/tests_common.h"
#include "tests/train/train_fixtures.h"

using namespace edgetune;
using zoo::Attr;
using zoo::GraphBuilder;

namespace {

using test::floats;
using test::ints;
using test::normalTensor;
Tensor scalarInt(int64_t v) {
  return Tensor::from<int64_t>({}, std::vector<int64_t>{v});
}

// Declares a graph output of the given rank with unknown dimensions (shape inference fills them in).
void output(GraphBuilder& g, const std::string& name, int rank, DataType type = DataType::Float32) {
  g.addOutput(name, type, std::vector<zoo::Dim>(static_cast<size_t>(rank), zoo::Dim(-1)));
}

// Each case is a small graph over one op family, with some inputs fed at run time.
std::map<std::string, std::function<Model()>> opCases() {
  std::map<std::string, std::function<Model()>> cases;
  cases["conv_asymmetric_pads_groups_dilation"] = [] {
    GraphBuilder g("conv");
    auto x = g.addInput("x", DataType::Float32, {"N", 4, 9, 8});
    g.addInitializer("w", normalTensor({6, 2, 3, 3}, 1));
    g.addInitializer("b", normalTensor({6}, 2));
    auto y = g.addNode("Conv", "conv", {x, "w", "b"},
                       {Attr::ints("pads", {1, 0, 2, 1}), Attr::ints("strides", {2, 1}),
                        Attr::ints("dilations", {1, 2}), Attr::i("group", 2)});
    output(g, y, 4);
    return g.finish("conv");
  };
  cases["conv_same_upper_and_valid_1d"] = [] {
    GraphBuilder g("conv_same");
    auto x = g.addInput("x", DataType::Float32, {"N", 3, 7, 7});
    g.addInitializer("w", normalTensor({5, 3, 3, 3}, 3));
    auto y = g.addNode("Conv", "conv_same", {x, "w"},
                       {Attr::s("auto_pad", "SAME_UPPER"), Attr::ints("strides", {2, 2})});
    output(g, y, 4);
    auto x1 = g.addInput("x1", DataType::Float32, {"N", 2, 10});
    g.addInitializer("w1", normalTensor({3, 2, 4}, 4));
    auto y1 = g.addNode("Conv", "conv_valid_1d", {x1, "w1"}, {Attr::s("auto_pad", "VALID")});
    output(g, y1, 3);
    return g.finish("conv_same");
  };
  cases["batchnorm_activations"] = [] {
    GraphBuilder g("act");
    auto x = g.addInput("x", DataType::Float32, {"N", 3, 4, 4});
    g.addInitializer("scale", floats({3}, {1.5f, 0.5f, -1.f}));
    g.addInitializer("bias", floats({3}, {0.1f, -0.2f, 0.3f}));
    g.addInitializer("mean", floats({3}, {0.2f, -0.1f, 0.f}));
    g.addInitializer("var", floats({3}, {0.5f, 2.f, 1.f}));
    auto bn = g.addNode("BatchNormalization", "bn", {x, "scale", "bias", "mean", "var"},
                        {Attr::f("epsilon", 1e-3f)});
    auto lo = g.addConstant("lo", floats({}, {-0.5f}));
    auto hi = g.addConstant("hi", floats({}, {0.8f}));
    output(g, g.addNode("Clip", "clip", {bn, lo, hi}), 4);
    output(g, g.addNode("Clip", "clip_min_only", {bn, lo}), 4);
    output(g, g.addNode("Relu", "relu", {bn}), 4);
    output(g, g.addNode("Sigmoid", "sigmoid", {bn}), 4);
    output(g, g.addNode("HardSigmoid", "hsig", {bn}, {Attr::f("alpha", 0.3f), Attr::f("beta", 0.4f)}), 4);
    output(g, g.addNode("HardSwish", "hswish", {bn}), 4);
    output(g, g.addNode("Tanh", "tanh", {bn}), 4);
    output(g, g.addNode("Erf", "erf", {bn}), 4);
    output(g, g.addNode("LeakyRelu", "lrelu", {bn}, {Attr::f("alpha", 0.2f)}), 4);
    output(g, g.addNode("Neg", "neg", {bn}), 4);
    return g.finish("act");
  };
  cases["arithmetic_broadcast"] = [] {
    GraphBuilder g("arith");
    auto a = g.addInput("a", DataType::Float32, {"N", 3, 4});
    auto b = g.addInput("b", DataType::Float32, {4});
    g.addInitializer("c", normalTensor({3, 1}, 5));
    auto s = g.addNode("Add", "add", {a, b});
    auto d = g.addNode("Sub", "sub", {s, "c"});
    auto m = g.addNode("Mul", "mul", {d, a});
    auto sq = g.addNode("Mul", "sq", {b, b});
    auto one = g.addConstant("one", floats({}, {1.f}));
    auto den = g.addNode("Add", "den", {sq, one});
    auto q = g.addNode("Div", "div", {m, den});
    auto two = g.addConstant("two", floats({}, {2.f}));
    auto p = g.addNode("Pow", "pow", {q, two});
    output(g, g.addNode("Sqrt", "sqrt", {p}), 3);
    output(g, q, 3);
    auto three = g.addConstant("three", floats({}, {3.f}));
    output(g, g.addNode("Pow", "cube", {d, three}), 3);
    return g.finish("arith");
  };
  cases["gemm_matmul"] = [] {
    GraphBuilder g("gemm");
    auto x = g.addInput("x", DataType::Float32, {5, 4});
    g.addInitializer("w", normalTensor({6, 5}, 6));
    g.addInitializer("c", normalTensor({6}, 7));
    output(
        g,
        g.addNode("Gemm", "gemm", {x, "w", "c"},
                  {Attr::i("transA", 1), Attr::i("transB", 1), Attr::f("alpha", 0.5f), Attr::f("beta", 2.f)}),
        2);
    g.addInitializer("w2", normalTensor({4, 3}, 8));
    output(g, g.addNode("Gemm", "gemm_no_c", {x, "w2"}), 2);
    auto x3 = g.addInput("x3", DataType::Float32, {"N", 2, 4});
    output(g, g.addNode("MatMul", "matmul", {x3, "w2"}), 3);
    auto y3 = g.addInput("y3", DataType::Float32, {"N", 4, 3});
    output(g, g.addNode("MatMul", "bmm", {x3, y3}), 3);
    return g.finish("gemm");
  };
  cases["pooling"] = [] {
    GraphBuilder g("pool");
    auto x = g.addInput("x", DataType::Float32, {"N", 2, 7, 8});
    output(g,
           g.addNode("MaxPool", "max_asym", {x},
                     {Attr::ints("kernel_shape", {3, 3}), Attr::ints("pads", {0, 1, 2, 1}),
                      Attr::ints("strides", {2, 2})}),
           4);
    output(g,
           g.addNode(
               "MaxPool", "max_ceil", {x},
               {Attr::ints("kernel_shape", {2, 3}), Attr::ints("strides", {2, 2}), Attr::i("ceil_mode", 1)}),
           4);
    output(g,
           g.addNode("MaxPool", "max_same", {x},
                     {Attr::ints("kernel_shape", {3, 3}), Attr::ints("strides", {2, 2}),
                      Attr::s("auto_pad", "SAME_UPPER")}),
           4);
    output(g,
           g.addNode("AveragePool", "avg_excl", {x},
                     {Attr::ints("kernel_shape", {3, 3}), Attr::ints("pads", {1, 1, 1, 1})}),
           4);
    output(g,
           g.addNode("AveragePool", "avg_incl", {x},
                     {Attr::ints("kernel_shape", {3, 3}), Attr::ints("pads", {1, 1, 1, 1}),
                      Attr::i("count_include_pad", 1)}),
           4);
    output(g,
           g.addNode("AveragePool", "avg_asym_excl", {x},
                     {Attr::ints("kernel_shape", {3, 2}), Attr::ints("pads", {0, 1, 2, 0}),
                      Attr::ints("strides", {2, 1})}),
           4);
    output(g,
           g.addNode("AveragePool", "avg_asym_incl", {x},
                     {Attr::ints("kernel_shape", {3, 2}), Attr::ints("pads", {0, 1, 2, 0}),
                      Attr::ints("strides", {2, 1}), Attr::i("count_include_pad", 1)}),
           4);
    output(g,
           g.addNode(
               "AveragePool", "avg_ceil", {x},
               {Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 3}), Attr::i("ceil_mode", 1)}),
           4);
    // ceil_mode with pads where the last window would start in the padding (torch and ONNX Runtime drop it).
    output(g,
           g.addNode("MaxPool", "max_ceil_pads", {x},
                     {Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 2}),
                      Attr::ints("pads", {1, 1, 1, 1}), Attr::i("ceil_mode", 1)}),
           4);
    output(g,
           g.addNode("AveragePool", "avg_ceil_pads", {x},
                     {Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 2}),
                      Attr::ints("pads", {1, 1, 1, 1}), Attr::i("ceil_mode", 1)}),
           4);
    output(g,
           g.addNode(
               "AveragePool", "avg_ceil_pads_incl", {x},
               {Attr::ints("kernel_shape", {3, 3}), Attr::ints("strides", {2, 2}),
                Attr::ints("pads", {1, 1, 1, 1}), Attr::i("ceil_mode", 1), Attr::i("count_include_pad", 1)}),
           4);
    auto gap = g.addNode("GlobalAveragePool", "gap", {x});
    output(g, g.addNode("Flatten", "flatten", {gap}), 2);
    output(g, g.addNode("Flatten", "flatten_axis2", {x}, {Attr::i("axis", 2)}), 2);
    return g.finish("pool");
  };
  cases["shape_subgraph_and_indexing"] = [] {
    GraphBuilder g("shape");
    auto x = g.addInput("x", DataType::Float32, {"N", 3, 4, 5});
    // torch.onnx's dynamic reshape: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
    auto shape = g.addNode("Shape", "shape", {x});
    auto n =
        g.addNode("Gather", "gather_n", {shape, g.addConstant("zero", scalarInt(0))}, {Attr::i("axis", 0)});
    auto n1 = g.addNode("Unsqueeze", "unsq_n", {n, g.addInitializer("axes0", ints({0}))});
    auto target = g.addNode("Concat", "concat_shape", {n1, g.addInitializer("minus1", ints({-1}))},
                            {Attr::i("axis", 0)});
    output(g, g.addNode("Reshape", "reshape", {x, target}), 2);
    output(g, g.addNode("Reshape", "reshape_zero", {x, g.addInitializer("s0", ints({0, 0, -1}))}), 3);
    auto t = g.addNode("Transpose", "transpose", {x}, {Attr::ints("perm", {0, 2, 3, 1})});
    output(g, t, 4);
    auto parts = g.addNodeWithOutputs("Split", "split", {t, g.addInitializer("split", ints({1, 3}))}, 2,
                                      {Attr::i("axis", 1)});
    output(g, parts[0], 4);
    output(g, parts[1], 4);
    output(g,
           g.addNode("Slice", "slice_neg_step",
                     {x, g.addInitializer("st", ints({-1, 4})), g.addInitializer("en", ints({-100, 0})),
                      g.addInitializer("ax", ints({2, 3})), g.addInitializer("sp", ints({-2, -1}))}),
           4);
    output(g,
           g.addNode("Slice", "slice_big_end",
                     {x, g.addInitializer("st2", ints({1})), g.addInitializer("en2", ints({INT64_MAX})),
                      g.addInitializer("ax2", ints({-1}))}),
           4);
    output(g,
           g.addNode(
               "Gather", "gather_neg",
               {x, g.addInitializer("idx", Tensor::from<int64_t>({2, 2}, std::vector<int64_t>{-1, 0, 2, 1}))},
               {Attr::i("axis", 2)}),
           5);
    auto row = g.addNode("Slice", "first_row",
                         {x, g.addInitializer("st3", ints({0})), g.addInitializer("en3", ints({1})),
                          g.addInitializer("ax3", ints({2}))});
    output(g, g.addNode("Squeeze", "squeeze", {row, g.addInitializer("sqa", ints({2}))}), 3);
    auto b = g.addInput("b", DataType::Float32, {3, 1, 1});
    output(g, g.addNode("Expand", "expand", {b, g.addInitializer("eshape", ints({2, 1, 4, 5}))}), 4);
    auto zeros = g.addNode("ConstantOfShape", "cos", {shape}, {Attr::t("value", floats({1}, {0.25f}))});
    auto eq = g.addNode("Equal", "equal",
                        {g.addNode("Cast", "cast_i", {x}, {Attr::i("to", 7)}),
                         g.addNode("Cast", "cast_i0", {zeros}, {Attr::i("to", 7)})});
    output(g, g.addNode("Where", "where", {eq, zeros, x}), 4);
    output(g, g.addNode("Cast", "cast_back", {eq}, {Attr::i("to", 1)}), 4);
    return g.finish("shape");
  };
  cases["softmax_reduce_layernorm"] = [] {
    GraphBuilder g("norm");
    auto x = g.addInput("x", DataType::Float32, {"N", 3, 8});
    output(g, g.addNode("Softmax", "softmax", {x}), 3);
    output(g, g.addNode("Softmax", "softmax_axis1", {x}, {Attr::i("axis", 1)}), 3);
    output(g, g.addNode("LogSoftmax", "logsoftmax", {x}, {Attr::i("axis", -1)}), 3);
    output(g, g.addNode("ReduceMean", "rmean", {x}, {Attr::ints("axes", {-1})}), 3);
    output(g, g.addNode("ReduceMean", "rmean_all", {x}, {Attr::i("keepdims", 0)}), 0);
    output(g,
           g.addNode("ReduceSum", "rsum", {x, g.addInitializer("axes", ints({1}))}, {Attr::i("keepdims", 0)}),
           2);
    g.addInitializer("gamma", normalTensor({8}, 9));
    g.addInitializer("beta", normalTensor({8}, 10));
    output(g, g.addNode("LayerNormalization", "ln", {x, "gamma", "beta"}, {Attr::f("epsilon", 1e-5f)}), 3);
    g.addInitializer("gamma2", normalTensor({3, 8}, 11));
    output(g, g.addNode("LayerNormalization", "ln_axis1", {x, "gamma2"}, {Attr::i("axis", 1)}), 3);
    return g.finish("norm");
  };
  cases["pad_modes_dropout_identity"] = [] {
    GraphBuilder g("pad");
    auto x = g.addInput("x", DataType::Float32, {"N", 2, 5, 6});
    output(g,
           g.addNode("Pad", "pad_const",
                     {x, g.addInitializer("p1", ints({0, 0, 1, 2, 0, 0, 2, 1})),
                      g.addInitializer("v", floats({}, {1.5f}))}),
           4);
    output(g,
           g.addNode("Pad", "pad_reflect", {x, g.addInitializer("p2", ints({0, 0, 2, 1, 0, 0, 1, 2}))},
                     {Attr::s("mode", "reflect")}),
           4);
    output(g,
           g.addNode("Pad", "pad_edge", {x, g.addInitializer("p3", ints({0, 0, 0, 3, 0, 0, 2, 0}))},
                     {Attr::s("mode", "edge")}),
           4);
    output(g, g.addNode("Pad", "pad_crop", {x, g.addInitializer("p4", ints({0, 0, -1, 1, 0, 0, 0, -2}))}), 4);
    auto d = g.addNode("Dropout", "dropout", {x, g.addInitializer("ratio", floats({}, {0.3f}))});
    output(g, g.addNode("Identity", "identity", {d}), 4);
    return g.finish("pad");
  };
  cases["resize_modes"] = [] {
    GraphBuilder g("resize");
    auto x = g.addInput("x", DataType::Float32, {"N", 2, 5, 6});
    auto none = g.addInitializer("roi", Tensor(DataType::Float32, {0}));
    auto up = g.addInitializer("up", floats({4}, {1.f, 1.f, 2.f, 1.5f}));
    auto down = g.addInitializer("down", floats({4}, {1.f, 1.f, 0.6f, 0.5f}));
    auto sizes = g.addInitializer("sizes", ints({1, 2, 7, 4}));
    // torch.onnx's F.interpolate(mode="nearest") and bilinear with and without align_corners.
    output(g,
           g.addNode("Resize", "nearest_asym_floor", {x, none, up},
                     {Attr::s("mode", "nearest"), Attr::s("coordinate_transformation_mode", "asymmetric"),
                      Attr::s("nearest_mode", "floor")}),
           4);
    output(g, g.addNode("Resize", "nearest_default_down", {x, none, down}), 4);
    output(g,
           g.addNode("Resize", "nearest_half_pixel_ceil", {x, none, up},
                     {Attr::s("nearest_mode", "round_prefer_ceil")}),
           4);
    output(g, g.addNode("Resize", "linear_half_pixel", {x, none, up}, {Attr::s("mode", "linear")}), 4);
    output(g,
           g.addNode(
               "Resize", "linear_pytorch_half_pixel_down", {x, none, down},
               {Attr::s("mode", "linear"), Attr::s("coordinate_transformation_mode", "pytorch_half_pixel")}),
           4);
    // Sizes instead of scales (ORT accepts them only where N and C stay, so on a fixed-size input).
    auto fixed = g.addInput("x_fixed", DataType::Float32, {1, 2, 5, 6});
    output(g,
           g.addNode("Resize", "linear_align_corners_sizes", {fixed, none, "", sizes},
                     {Attr::s("mode", "linear"), Attr::s("coordinate_transformation_mode", "align_corners")}),
           4);
    output(g, g.addNode("Resize", "nearest_sizes", {fixed, none, "", sizes}), 4);
    output(g,
           g.addNode("Resize", "linear_asymmetric", {x, none, up},
                     {Attr::s("mode", "linear"), Attr::s("coordinate_transformation_mode", "asymmetric")}),
           4);
    return g.finish("resize");
  };
  cases["upsample_opset9"] = [] {
    GraphBuilder g("upsample", 9);
    auto x = g.addInput("x", DataType::Float32, {"N", 2, 3, 4});
    auto scales = g.addInitializer("scales", floats({4}, {1.f, 1.f, 2.f, 3.f}));
    output(g, g.addNode("Upsample", "up_nearest", {x, scales}), 4);
    output(g, g.addNode("Upsample", "up_linear", {x, scales}, {Attr::s("mode", "linear")}), 4);
    return g.finish("upsample");
  };
  cases["trilu_gathernd_scatternd"] = [] {
    GraphBuilder g("masks");
    auto x = g.addInput("x", DataType::Float32, {"N", 4, 5});
    output(g, g.addNode("Trilu", "triu", {x}), 3);
    output(g,
           g.addNode("Trilu", "tril_k",
                     {x, g.addInitializer("k", Tensor::from<int64_t>({}, std::vector<int64_t>{-1}))},
                     {Attr::i("upper", 0)}),
           3);
    auto idx =
        g.addInitializer("idx", Tensor::from<int64_t>({3, 2}, std::vector<int64_t>{0, 1, 0, -1, 0, 2}));
    output(g, g.addNode("GatherND", "gathernd", {x, idx}), 2);
    auto row = g.addInitializer("rows", Tensor::from<int64_t>({2, 1}, std::vector<int64_t>{0, 3}));
    output(g,
           g.addNode("ScatterND", "scatternd",
                     {x, g.addInitializer("first", Tensor::from<int64_t>({1, 1}, std::vector<int64_t>{0})),
                      g.addNode("Slice", "first_batch",
                                {x, g.addInitializer("s0", ints({0})), g.addInitializer("e0", ints({1})),
                                 g.addInitializer("a0", ints({0}))})}),
           3);
    auto t = g.addNode("Transpose", "t", {x}, {Attr::ints("perm", {1, 2, 0})});
    output(g,
           g.addNode("ScatterND", "scatternd_add",
                     {t, row,
                      g.addNode("Slice", "two_rows",
                                {t, g.addInitializer("s1", ints({1})), g.addInitializer("e1", ints({3})),
                                 g.addInitializer("a1", ints({0}))})},
                     {Attr::s("reduction", "add")}),
           3);
    return g.finish("masks");
  };
  cases["topk_cumsum_onehot_misc"] = [] {
    GraphBuilder g("misc");
    auto x = g.addInput("x", DataType::Float32, {"N", 3, 6});
    auto top = g.addNodeWithOutputs("TopK", "topk", {x, g.addInitializer("k", ints({4}))}, 2);
    output(g, top[0], 3);
    g.addOutput(top[1], DataType::Int64, {-1, 3, 4});
    auto low = g.addNodeWithOutputs("TopK", "topk_smallest_axis1", {x, g.addInitializer("k2", ints({2}))}, 2,
                                    {Attr::i("axis", 1), Attr::i("largest", 0)});
    output(g, low[0], 3);
    auto axis = g.addInitializer("axis", Tensor::from<int64_t>({}, std::vector<int64_t>{-1}));
    output(g, g.addNode("CumSum", "cumsum", {x, axis}), 3);
    output(g,
           g.addNode("CumSum", "cumsum_exclusive_reverse", {x, axis},
                     {Attr::i("exclusive", 1), Attr::i("reverse", 1)}),
           3);
    // RoBERTa's position ids: cumsum over a mask of non-padding tokens, in int64.
    auto mask = g.addNode("Cast", "mask",
                          {g.addNode("Greater", "positive", {x, g.addConstant("zero", floats({}, {0.f}))})},
                          {Attr::i("to", 7)});
    g.addOutput(g.addNode("CumSum", "cumsum_int", {mask, axis}), DataType::Int64, {-1, 3, 6});
    auto idx = g.addInput("labels", DataType::Int64, {"N", 5});
    output(g,
           g.addNode("OneHot", "onehot",
                     {idx, g.addInitializer("depth", ints({2})),
                      g.addInitializer("onoff", floats({2}, {-1.f, 3.f}))},
                     {Attr::i("axis", 1)}),
           3);
    output(g, g.addNode("Sign", "sign", {x}), 3);
    output(g, g.addNode("Celu", "celu", {x}, {Attr::f("alpha", 0.5f)}), 3);
    output(g, g.addNode("ThresholdedRelu", "trelu", {x}, {Attr::f("alpha", 0.3f)}), 3);
    output(g, g.addNode("ReduceL1", "rl1", {x}, {Attr::ints("axes", {1})}), 3);
    output(g, g.addNode("ReduceLogSumExp", "rlse", {x}, {Attr::ints("axes", {-1}), Attr::i("keepdims", 0)}),
           2);
    g.addOutput(g.addNode("IsInf", "isinf",
                          {g.addNode("Div", "div_zero", {x, g.addConstant("zero_d", floats({}, {0.f}))})}),
                DataType::Bool, {-1, 3, 6});
    return g.finish("misc");
  };
  cases["quantize_dequantize"] = [] {
    GraphBuilder g("qdq");
    auto x = g.addInput("x", DataType::Float32, {"N", 3, 6, 6});
    auto q = g.addNode("QuantizeLinear", "q",
                       {x, g.addInitializer("xs", floats({}, {0.02f})),
                        g.addInitializer("xz", Tensor::from<uint8_t>({}, std::vector<uint8_t>{128}))});
    output(g, q, 4, DataType::UInt8);
    auto xq = g.addNode("DequantizeLinear", "dq", {q, "xs", "xz"});
    output(g, xq, 4);
    // Per-channel int8 weights, as a quantization pass leaves them.
    std::vector<int8_t> wq(4 * 3 * 9);
    for (size_t i = 0; i < wq.size(); ++i) wq[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 255) - 127);
    g.addInitializer("wq", Tensor::from<int8_t>({4, 3, 3, 3}, wq));
    g.addInitializer("ws", floats({4}, {0.01f, 0.02f, 0.005f, 0.03f}));
    g.addInitializer("wz", Tensor::from<int8_t>({4}, std::vector<int8_t>{0, 0, 0, 0}));
    auto w = g.addNode("DequantizeLinear", "dq_w", {"wq", "ws", "wz"}, {Attr::i("axis", 0)});
    output(g, g.addNode("Conv", "conv", {xq, w}, {Attr::ints("pads", {1, 1, 1, 1})}), 4);
    // Per-axis float -> int8 fake quantization on a float weight (QAT style).
    g.addInitializer("wf", normalTensor({4, 3}, 12, 0.1f));
    auto wfq = g.addNode("QuantizeLinear", "q_wf",
                         {"wf", g.addInitializer("wfs", floats({3}, {0.002f, 0.001f, 0.003f})),
                          g.addInitializer("wfz", Tensor::from<int8_t>({3}, std::vector<int8_t>{0, 5, -3}))},
                         {Attr::i("axis", 1)});
    output(g, g.addNode("DequantizeLinear", "dq_wf", {wfq, "wfs", "wfz"}, {Attr::i("axis", 1)}), 2);
    return g.finish("qdq");
  };
  return cases;
}

// Runs the same inputs through ONNX Runtime and the interpreter.
double torchVsOrt(const Model& model, const std::vector<NamedTensor>& inputs) {
  auto ort = makeOrtExecutor(model);
  auto torch = makeTorchExecutor(model);
  std::vector<Tensor> a = ort->run(inputs), b = torch->run(inputs);
  // Integer outputs must match exactly; they are left out of the float comparison.
  std::vector<Tensor> fa, fb;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].type() != b[i].type() || a[i].shape() != b[i].shape()) {
      qWarning("output %zu: ORT %s %s vs torch %s %s", i, dataTypeName(a[i].type()).c_str(),
               a[i].shapeString().c_str(), dataTypeName(b[i].type()).c_str(), b[i].shapeString().c_str());
      return INFINITY;
    }
    if (a[i].type() == DataType::Float32) {
      fa.push_back(a[i]);
      fb.push_back(b[i]);
    } else if (a[i].byteSize() != b[i].byteSize() ||
               std::memcmp(a[i].raw(), b[i].raw(), a[i].byteSize()) != 0) {
      // Rounding of a value exactly halfway may differ by one step; report it as a large difference.
      qWarning("integer output %zu differs", i);
      return INFINITY;
    }
  }
  double worst = 0;
  for (size_t i = 0; i < fa.size(); ++i) {
    const double d = test::relativeMaxDiff({fa[i]}, {fb[i]});
    if (d > 1e-4) qWarning("output %zu (%s) differs by %g", i, model.outputs()[i].name.c_str(), d);
    worst = std::max(worst, d);
  }
  return worst;
}

at::Tensor toAt(const Tensor& t) {
  return torch_ops::toTorch(t);
}

// Conv -> BN -> Relu -> GlobalAveragePool -> Flatten -> Gemm: the shape of every CNN's training step.
Model smallCnn() {
  GraphBuilder g("small_cnn");
  auto x = g.addInput("input", DataType::Float32, {"N", 2, 6, 6});
  g.addInitializer("conv.weight", normalTensor({4, 2, 3, 3}, 21, 0.4f));
  g.addInitializer("conv.bias", normalTensor({4}, 22, 0.1f));
  g.addInitializer("bn.weight", floats({4}, {1.f, 0.8f, 1.2f, 0.9f}));
  g.addInitializer("bn.bias", floats({4}, {0.1f, 0.f, -0.1f, 0.2f}));
  g.addInitializer("bn.running_mean", floats({4}, {0.f, 0.1f, -0.1f, 0.f}));
  g.addInitializer("bn.running_var", floats({4}, {1.f, 0.9f, 1.1f, 1.f}));
  g.addInitializer("fc.weight", normalTensor({3, 4}, 23, 0.5f));
  g.addInitializer("fc.bias", normalTensor({3}, 24, 0.1f));
  auto c =
      g.addNode("Conv", "/conv/Conv", {x, "conv.weight", "conv.bias"}, {Attr::ints("pads", {1, 1, 1, 1})});
  auto b = g.addNode("BatchNormalization", "/bn/BatchNormalization",
                     {c, "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"});
  auto r = g.addNode("Relu", "/relu/Relu", {b}, {}, "relu_out");
  auto p = g.addNode("GlobalAveragePool", "/pool/GlobalAveragePool", {r});
  auto f = g.addNode("Flatten", "/Flatten", {p});
  g.addNode("Gemm", "/fc/Gemm", {f, "fc.weight", "fc.bias"}, {Attr::i("transB", 1)}, "logits");
  output(g, "logits", 2);
  return g.finish("small_cnn");
}

}  // namespace

class TestTorchGraph : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { setTorchThreads(1); }

  void opParity_data() {
    QTest::addColumn<QString>("name");
    for (const auto& [name, _] : opCases()) QTest::newRow(name.c_str()) << QString::fromStdString(name);
  }
  void opParity() {
    QFETCH(QString, name);
    Model model = opCases().at(name.toStdString())();
    QVERIFY(torchUnsupportedOps(model).empty());
    for (int64_t batch : {1, 3}) {
      auto inputs = test::randomInputs(model, 42 + static_cast<uint64_t>(batch), batch);
      const double diff = torchVsOrt(model, inputs);
      QVERIFY2(diff <= 1e-4,
               qPrintable(QString("%1 (batch %2): relative max diff %3").arg(name).arg(batch).arg(diff)));
    }
  }

  void zooParity_data() {
    QTest::addColumn<QString>("arch");
    for (const char* arch : {"mlp", "resnet8", "resnet18", "mobilenetv2", "bert"})
      QTest::newRow(arch) << arch;
  }
  void zooParity() {
    QFETCH(QString, arch);
    zoo::ZooOptions options;
    options.seed = 3;
    if (arch == "resnet18") {
      options.width_multiplier = 0.25;
      options.image_size = 16;
    }
    if (arch == "mobilenetv2") {
      options.width_multiplier = 0.5;
      options.image_size = 16;
    }
    if (arch == "bert") {
      options.vocab_size = 100;
      options.hidden = 32;
      options.heads = 2;
      options.sequence_length = 12;
      options.max_positions = 64;
    }
    Model model = zoo::buildZooModel(arch.toStdString(), options);
    QVERIFY(torchUnsupportedOps(model).empty());
    auto inputs = test::randomInputs(model, 7, 2, 2);
    const double diff = torchVsOrt(model, inputs);
    QVERIFY2(diff <= 1e-4, qPrintable(QString("%1: relative max diff %2").arg(arch).arg(diff)));
  }

  void bertDynamicSequence() {
    zoo::ZooOptions options;
    options.vocab_size = 50;
    options.hidden = 16;
    options.heads = 2;
    options.layers = 1;
    options.dynamic_sequence = true;
    options.max_positions = 32;
    options.sequence_length = 16;
    Model model = zoo::buildZooModel("bert", options);
    // Different sequence lengths through the same interpreter exercise the runtime shape sub-graph.
    auto torch = makeTorchExecutor(model);
    auto ort = makeOrtExecutor(model);
    for (int64_t s : {5, 9}) {
      std::vector<NamedTensor> inputs;
      for (const auto& in : model.inputs()) {
        Tensor t(DataType::Int64, {2, s});
        auto v = t.values<int64_t>();
        for (size_t i = 0; i < v.size(); ++i)
          v[i] = in.name == "attention_mask" ? (i % 7 != 6) : int64_t(i % 2);
        if (in.name == "input_ids")
          for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>(i * 13 % 50);
        inputs.push_back({in.name, t});
      }
      const double diff = test::relativeMaxDiff(ort->run(inputs), torch->run(inputs));
      QVERIFY2(diff <= 1e-4, qPrintable(QString("S=%1: %2").arg(s).arg(diff)));
    }
  }

  void torchOnnxFixtures_data() {
    QTest::addColumn<QString>("file");
    const auto dir = test::fixture("torch");
    std::vector<std::string> files;
    if (std::filesystem::is_directory(dir))
      for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.path().extension() == ".onnx") files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty()) QTest::newRow("none") << QString();
    for (const auto& f : files)
      QTest::newRow(std::filesystem::path(f).filename().string().c_str()) << QString::fromStdString(f);
  }
  void torchOnnxFixtures() {
    QFETCH(QString, file);
    if (file.isEmpty()) QSKIP("no torch.onnx fixtures under tests/fixtures/torch yet");
    Model model = Model::load(file.toStdString());
    const auto unsupported = torchUnsupportedOps(model);
    QVERIFY2(unsupported.empty(),
             qPrintable("unsupported: " + QString::fromStdString(unsupported.empty() ? "" : unsupported[0])));
    for (int64_t batch : {1, 2}) {
      auto inputs = test::randomInputs(model, 11, batch, 2);
      const double diff = torchVsOrt(model, inputs);
      QVERIFY2(diff <= 1e-4, qPrintable(QString("batch %1: relative max diff %2").arg(batch).arg(diff)));
    }
  }

  void intermediateOutputs() {
    Model model = smallCnn();
    TorchGraph graph(model);
    QVERIFY(graph.hasTensor("relu_out"));
    auto inputs = test::randomInputs(model, 5, 2);
    at::NoGradGuard no_grad;
    auto both = graph.forward({toAt(inputs[0].tensor)}, {"relu_out", "logits"});
    QCOMPARE(both.size(), size_t{2});
    QCOMPARE(both[0].sizes().vec(), (std::vector<int64_t>{2, 4, 6, 6}));
    // ORT can only return graph outputs: expose the intermediate as one and compare.
    onnx::ModelProto proto = model.proto();
    auto* extra = proto.mutable_graph()->add_output();
    extra->set_name("relu_out");
    extra->mutable_type()->mutable_tensor_type()->set_elem_type(1);
    for (int d = 0; d < 4; ++d) extra->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim();
    Model exposed = Model::fromProto(proto, "exposed");
    auto ort = makeOrtExecutor(exposed)->run(inputs, {"relu_out"});
    QVERIFY(test::relativeMaxDiff(ort, {torch_ops::fromTorch(both[0])}) <= 1e-5);
    // Asking only for the intermediate runs a shorter plan and gives the same values.
    auto only = graph.forward({toAt(inputs[0].tensor)}, {"relu_out"});
    QVERIFY(at::allclose(only[0], both[0]));
    QVERIFY_THROWS_EXCEPTION(Error, graph.forward({toAt(inputs[0].tensor)}, {"no_such_tensor"}));
  }

  void gradientsMatchFiniteDifferences() {
    Model model = smallCnn();
    TorchGraph graph(model);
    const auto named = graph.namedParameters();
    std::vector<std::string> names;
    for (const auto& [name, _] : named) names.push_back(name);
    QCOMPARE(names, (std::vector<std::string>{"conv.weight", "conv.bias", "bn.weight", "bn.bias", "fc.weight",
                                              "fc.bias"}));
    QCOMPARE(graph.namedBuffers().size(), size_t{2});
    for (const auto& p : graph.parameters()) QVERIFY(p.requires_grad() && p.is_leaf());

    graph.train(true);
    at::Tensor x = toAt(normalTensor({4, 2, 6, 6}, 31));
    auto loss_of = [&] { return graph.forward({x})[0].to(at::kDouble).pow(2).sum(); };
    at::Tensor loss = loss_of();
    loss.backward();
    for (const auto& [name, p] : named) {
      QVERIFY2(p.grad().defined(), name.c_str());
      QVERIFY2(p.grad().abs().sum().item<double>() > 0, name.c_str());
    }
    // Central differences on one conv weight (its gradient passes through BN in training mode) and one fc
    // weight.
    for (const auto& [name, index] :
         std::vector<std::pair<std::string, int64_t>>{{"conv.weight", 7}, {"fc.weight", 5}}) {
      at::Tensor p;
      for (const auto& [n, t] : named)
        if (n == name) p = t;
      const double analytic = p.grad().reshape({-1})[index].item<double>();
      const double eps = 1e-2;
      double plus, minus;
      {
        at::NoGradGuard no_grad;
        auto flat = p.view({-1});
        flat[index] += eps;
        plus = loss_of().item<double>();
        flat[index] -= 2 * eps;
        minus = loss_of().item<double>();
        flat[index] += eps;
      }
      const double numeric = (plus - minus) / (2 * eps);
      QVERIFY2(
          std::fabs(numeric - analytic) <= 2e-2 * std::max(1.0, std::fabs(analytic)),
          qPrintable(QString("%1: analytic %2, numeric %3").arg(name.c_str()).arg(analytic).arg(numeric)));
    }
  }

  void batchNormTrainingUpdatesRunningStatistics() {
    GraphBuilder g("bn");
    auto x = g.addInput("x", DataType::Float32, {"N", 2, 3, 3});
    g.addInitializer("s", floats({2}, {1.f, 2.f}));
    g.addInitializer("b", floats({2}, {0.f, 1.f}));
    g.addInitializer("m", floats({2}, {0.5f, -0.5f}));
    g.addInitializer("v", floats({2}, {1.f, 4.f}));
    output(g,
           g.addNode("BatchNormalization", "bn", {x, "s", "b", "m", "v"},
                     {Attr::f("momentum", 0.8f), Attr::f("epsilon", 1e-5f)}),
           4);
    Model model = g.finish("bn");
    TorchGraph graph(model);
    at::Tensor input = toAt(normalTensor({4, 2, 3, 3}, 41, 2.f)) + 3.0;
    graph.train(true);
    at::Tensor y = graph.forward({input})[0].detach();
    // Training mode normalizes with the batch's statistics: per channel, mean 0 / std 1 before scale and
    // bias.
    at::Tensor normalized0 = y.select(1, 0);
    QVERIFY(std::fabs(normalized0.mean().item<double>()) < 1e-4);
    QVERIFY(std::fabs(normalized0.var(false).item<double>() - 1.0) < 1e-3);
    at::Tensor batch_mean = input.mean({0, 2, 3});
    at::Tensor batch_var = input.var({0, 2, 3}, /*unbiased=*/false);
    at::Tensor expected_mean = at::tensor({0.5f, -0.5f}) * 0.8 + batch_mean * 0.2;
    at::Tensor expected_var = at::tensor({1.f, 4.f}) * 0.8 + batch_var * 0.2;
    auto buffers = graph.namedBuffers();
    QCOMPARE(buffers[0].first, std::string("m"));
    QVERIFY(at::allclose(buffers[0].second, expected_mean, 1e-5, 1e-5));
    QVERIFY(at::allclose(buffers[1].second, expected_var, 1e-4, 1e-5));
    // Eval mode uses the updated running statistics, exactly as ONNX Runtime does after write-back.
    graph.eval();
    at::Tensor y_eval;
    {
      at::NoGradGuard no_grad;
      y_eval = graph.forward({input})[0];
    }
    QVERIFY(!at::allclose(y_eval, y, 1e-3, 1e-3));
    Model trained = model;
    graph.writeBack(trained);
    QVERIFY(tensorFromProto(*trained.initializer("m")).values<float>()[0] != 0.5f);
    auto ort = makeOrtExecutor(trained)->run({{"x", torch_ops::fromTorch(input)}});
    QVERIFY(test::relativeMaxDiff(ort, {torch_ops::fromTorch(y_eval)}) <= 1e-5);
    // Eval mode leaves the statistics alone.
    QVERIFY(at::allclose(graph.namedBuffers()[0].second, expected_mean, 1e-5, 1e-5));
  }

  void dropoutOnlyInTraining() {
    GraphBuilder g("drop");
    auto x = g.addInput("x", DataType::Float32, {"N", 1000});
    output(g, g.addNode("Dropout", "drop", {x, g.addInitializer("r", floats({}, {0.5f}))}), 2);
    Model model = g.finish("drop");
    TorchGraph graph(model);
    at::Tensor input = at::ones({2, 1000});
    QVERIFY(at::equal(graph.forward({input})[0], input));
    graph.train(true);
    at::Tensor y = graph.forward({input})[0];
    const double zero_fraction = (y == 0).to(at::kFloat).mean().item<double>();
    QVERIFY2(zero_fraction > 0.4 && zero_fraction < 0.6, qPrintable(QString::number(zero_fraction)));
    QVERIFY(at::allclose(y.sum() / 2000.0, at::scalar_tensor(1.0), 0.1, 0.1));
  }

  void fakeQuantizationPassesGradientStraightThrough() {
    GraphBuilder g("fq");
    auto x = g.addInput("x", DataType::Float32, {6});
    auto q = g.addNode("QuantizeLinear", "q",
                       {x, g.addInitializer("s", floats({}, {0.1f})),
                        g.addInitializer("z", Tensor::from<uint8_t>({}, std::vector<uint8_t>{128}))});
    output(g, g.addNode("DequantizeLinear", "dq", {q, "s", "z"}), 1);
    Model model = g.finish("fq");
    TorchGraph graph(model);
    QVERIFY(graph.parameters().empty());  // scales and zero points are not trained
    // In range: -12.8 .. 12.7; the outer two values clip.
    at::Tensor input = at::tensor({-20.f, -3.14f, 0.04f, 0.06f, 12.6f, 30.f}).set_requires_grad(true);
    at::Tensor y = graph.forward({input})[0];
    QVERIFY(at::allclose(y.detach(), at::tensor({-12.8f, -3.1f, 0.f, 0.1f, 12.6f, 12.7f}), 1e-5, 1e-5));
    y.sum().backward();
    QVERIFY(at::equal(input.grad(), at::tensor({0.f, 1.f, 1.f, 1.f, 1.f, 0.f})));
    // And the forward pass is what ONNX Runtime computes.
    Tensor in = Tensor::from<float>({6}, std::vector<float>{-20.f, -3.14f, 0.04f, 0.06f, 12.6f, 30.f});
    QVERIFY(torchVsOrt(model, {{"x", in}}) <= 1e-6);
  }

  void writeBackRoundTrip() {
    Model model = smallCnn();
    auto inputs = test::randomInputs(model, 9, 3);
    const Tensor before = makeOrtExecutor(model)->run(inputs)[0];
    TorchGraph graph(model);
    {
      at::NoGradGuard no_grad;
      for (const auto& p : graph.parameters()) p.add_(0.25);
      graph.namedBuffers()[1].second.mul_(2.0);  // running var
    }
    const Tensor mine =
        makeTorchExecutor(model)->run(inputs)[0];  // a fresh interpreter reads the old weights
    QVERIFY(test::relativeMaxDiff({before}, {mine}) <= 1e-4);
    Model trained = model;
    graph.writeBack(trained);
    QCOMPARE(tensorFromProto(*trained.initializer("fc.bias")).type(), DataType::Float32);
    QCOMPARE(tensorFromProto(*trained.initializer("conv.weight")).shape(),
             (std::vector<int64_t>{4, 2, 3, 3}));
    const Tensor after = makeOrtExecutor(trained)->run(inputs)[0];
    QVERIFY(test::relativeMaxDiff({before}, {after}) > 0.05);
    at::Tensor expected;
    {
      at::NoGradGuard no_grad;
      expected = graph.forward({toAt(inputs[0].tensor)})[0];
    }
    QVERIFY(test::relativeMaxDiff({after}, {torch_ops::fromTorch(expected)}) <= 1e-4);
    // A model without those initializers cannot take the weights.
    Model other = opCases().at("gemm_matmul")();
    QVERIFY_THROWS_EXCEPTION(Error, graph.writeBack(other));
  }

  void refusesUnsupportedOpNamingNode() {
    GraphBuilder g("unsupported");
    auto x = g.addInput("x", DataType::Float32, {4});
    auto nz = g.addNode("NonZero", "find_nonzero", {x});
    output(g, nz, 2, DataType::Int64);
    Model model = g.finish("unsupported");
    QCOMPARE(TorchGraph::unsupportedOps(model), (std::vector<std::string>{"NonZero"}));
    try {
      TorchGraph graph(model);
      QFAIL("an unsupported op was accepted");
    } catch (const Error& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find("NonZero 'find_nonzero'") != std::string::npos, msg.c_str());
    }
    QVERIFY_THROWS_EXCEPTION(Error, makeTorchExecutor(model));
  }

  void reportsBadAttributesAndRuntimeErrorsByNode() {
    {
      GraphBuilder g("bad_pool");
      auto x = g.addInput("x", DataType::Float32, {1, 2, 4, 4});
      auto outs =
          g.addNodeWithOutputs("MaxPool", "pool_with_indices", {x}, 2, {Attr::ints("kernel_shape", {2, 2})});
      output(g, outs[0], 4);
      output(g, outs[1], 4, DataType::Int64);
      Model model = g.finish("bad_pool");
      QVERIFY(TorchGraph::unsupportedOps(model).empty());  // the op is supported, this use of it is not
      try {
        TorchGraph graph(model);
        QFAIL("MaxPool's Indices output was accepted");
      } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find("MaxPool 'pool_with_indices'") != std::string::npos, e.what());
        QVERIFY2(std::string(e.what()).find("Indices") != std::string::npos, e.what());
      }
    }
    {
      // The reshape target comes from an input, so the mismatch shows only when running.
      GraphBuilder g("bad_reshape");
      auto x = g.addInput("x", DataType::Float32, {2, 3});
      auto s = g.addInput("s", DataType::Int64, {2});
      output(g, g.addNode("Reshape", "reshape_it", {x, s}), 2);
      Model model = g.finish("bad_reshape");
      auto exec = makeTorchExecutor(model);
      try {
        exec->run({{"x", Tensor(DataType::Float32, {2, 3})}, {"s", ints({4, 4})}});
        QFAIL("a bad reshape ran");
      } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find("Reshape 'reshape_it'") != std::string::npos, e.what());
      }
      // Wrong input type and missing input are refused like ONNX Runtime refuses them.
      QVERIFY_THROWS_EXCEPTION(Error,
                               exec->run({{"x", Tensor(DataType::Int64, {2, 3})}, {"s", ints({3, 2})}}));
      QVERIFY_THROWS_EXCEPTION(Error, exec->run({{"x", Tensor(DataType::Float32, {2, 3})}}));
    }
  }
};

QTEST_GUILESS_MAIN(TestTorchGraph)
#include "test_torch_graph.moc"
