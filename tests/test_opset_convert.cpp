// Opset down-conversion (18..23 -> 17) and IR lowering: hand-built newer models load, and the converted model
// computes what ONNX Runtime 1.29 computes on the original file; models that cannot be expressed at 17 refuse
// with one message naming the node and "opset_version=17".
#include <QProcess>
#include <QtTest>

#include <google/protobuf/unknown_field_set.h>

#include <fstream>

#include "core/ir/opset_convert.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/zoo/zoo.h"
#include "tests/test_passes_builder.h"

using namespace edgetune;
using namespace edgetune::test;
namespace fs = std::filesystem;

namespace {

// A newer model as an exporter would write it (no EdgeTune conversion applied).
GraphBuilder newer(int opset, int ir_version) {
  GraphBuilder b(opset);
  b.proto().set_ir_version(ir_version);
  return b;
}

Tensor int64s(std::vector<int64_t> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return Tensor::from<int64_t>({n}, values);
}

void writeProto(const onnx::ModelProto& proto, const fs::path& path) {
  std::string bytes;
  QVERIFY(proto.SerializeToString(&bytes));
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Runs the original (unconverted) file in ONNX Runtime, which knows these opsets, and the converted Model, on
// the same seeded inputs; returns the relative max difference.
double compareWithOriginal(const onnx::ModelProto& original, const Model& converted,
                           std::vector<NamedTensor> inputs = {}) {
  TempDir dir;
  writeProto(original, dir / "original.onnx");
  if (inputs.empty()) inputs = randomInputs(converted, 7, 2);
  auto ort_original = makeOrtExecutor((dir / "original.onnx").string());
  auto ort_converted = makeOrtExecutor(converted);
  return relativeMaxDiff(ort_original->run(inputs), ort_converted->run(inputs));
}

bool hasLine(const Model& m, const std::string& part) {
  for (const auto& line : m.conversion().lines)
    if (contains(line, part)) return true;
  return false;
}

std::string allLines(const Model& m) {
  std::string s;
  for (const auto& line : m.conversion().lines) s += line + "\n";
  return s;
}

// Adds a field ONNX 1.12's protobuf does not know (as a newer writer would), by field number.
void addUnknownString(google::protobuf::Message& msg, int number, const std::string& value) {
  msg.GetReflection()->MutableUnknownFields(&msg)->AddLengthDelimited(number, value);
}

}  // namespace

class TestOpsetConvert : public QObject {
  Q_OBJECT
 private slots:
  void reduceMeanAxesInputAt18() {
    auto b = newer(18, 8);
    b.input("x", {2, 3, 4}).output("y", {2, 1, 4}).output("z", {2, 3}).init("axes", int64s({1}));
    b.node("ReduceMean", {"x", "axes"}, {"y"}, "mean");
    // The axes of the second reduction come from a Constant node (what torch's exporter writes).
    auto& c = b.node("Constant", {}, {"max_axes"}, "max_axes_const");
    setAttr(c, "value", int64s({-1}));
    auto& mx = b.node("ReduceMax", {"x", "max_axes"}, {"z"}, "max");
    setAttr(mx, "keepdims", int64_t{0});
    Model m = b.model();
    QCOMPARE(m.opsetVersion(), int64_t{17});
    QCOMPARE(m.conversion().from, int64_t{18});
    QCOMPARE(m.conversion().to, int64_t{17});
    QVERIFY2(hasLine(m, "opset 18 -> 17: ReduceMean 'mean': axes input -> attribute axes=[1]"),
             allLines(m).c_str());
    QVERIFY2(hasLine(m, "ReduceMax 'max': axes input -> attribute axes=[-1]"), allLines(m).c_str());
    for (const auto& n : m.graph().node())
      if (n.op_type() == "ReduceMean" || n.op_type() == "ReduceMax") {
        QCOMPARE(n.input_size(), 1);
        QCOMPARE(attrInts(n, "axes").size(), size_t{1});
      }
    const double diff = compareWithOriginal(b.proto(), m);
    QVERIFY2(diff <= 1e-6, std::to_string(diff).c_str());
  }

  void reduceWithoutAxesAt18ReducesAll() {
    auto b = newer(18, 8);
    b.input("x", {2, 3}).output("y", {1, 1});
    b.node("ReduceSumSquare", {"x"}, {"y"}, "ss");
    Model m = b.model();
    QCOMPARE(m.opsetVersion(), int64_t{17});
    QVERIFY(compareWithOriginal(b.proto(), m) <= 1e-6);
  }

  void splitNumOutputsAt18() {
    // Even (6 / 3) and uneven (7 / 3 -> 3, 3, 1) splits.
    auto b = newer(18, 8);
    b.input("x", {2, 6}).input("w", {2, 7});
    for (int i = 0; i < 3; ++i) b.output("a" + std::to_string(i), {2, 2});
    b.output("b0", {2, 3}).output("b1", {2, 3}).output("b2", {2, 1});
    auto& even = b.node("Split", {"x"}, {"a0", "a1", "a2"}, "even");
    setAttr(even, "axis", int64_t{1});
    setAttr(even, "num_outputs", int64_t{3});
    auto& uneven = b.node("Split", {"w"}, {"b0", "b1", "b2"}, "uneven");
    setAttr(uneven, "axis", int64_t{-1});
    setAttr(uneven, "num_outputs", int64_t{3});
    Model m = b.model();
    QVERIFY2(hasLine(m, "Split 'even': num_outputs=3 -> equal split by output count"), allLines(m).c_str());
    QVERIFY2(hasLine(m, "Split 'uneven': num_outputs=3 -> split sizes [3,3,1]"), allLines(m).c_str());
    const double diff = compareWithOriginal(b.proto(), m);
    QVERIFY2(diff <= 1e-6, std::to_string(diff).c_str());
  }

  void splitNumOutputsOnDynamicAxisRefuses() {
    auto b = newer(18, 8);
    b.input("x", {-1, 4}).output("a", {-1, 4}).output("c", {-1, 4});
    auto& s = b.node("Split", {"x"}, {"a", "c"}, "split_batch");
    setAttr(s, "num_outputs", int64_t{2});
    const std::string err = errorOf([&] { b.model(); });
    qInfo("%s", err.c_str());
    QVERIFY2(contains(err, "Split 'split_batch'") && contains(err, "opset_version=17"), err.c_str());
  }

  void geluAt20BothForms() {
    auto b = newer(20, 9);
    b.input("x", {2, 16}).output("y", {2, 16}).output("t", {2, 16});
    b.node("Gelu", {"x"}, {"y"}, "gelu");
    auto& tanh_form = b.node("Gelu", {"x"}, {"t"}, "gelu_tanh");
    auto* a = tanh_form.add_attribute();
    a->set_name("approximate");
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s("tanh");
    Model m = b.model();
    QCOMPARE(countOps(m, "Gelu"), 0);
    QCOMPARE(countOps(m, "Erf"), 1);
    QCOMPARE(countOps(m, "Tanh"), 1);
    QVERIFY2(hasLine(m, "opset 20 -> 17: Gelu 'gelu': decomposed into the Erf form"), allLines(m).c_str());
    const double diff = compareWithOriginal(b.proto(), m);
    QVERIFY2(diff <= 1e-6, std::to_string(diff).c_str());
    // The two forms differ by more than the tolerance, so the comparison above tells them apart.
    auto outputs = makeOrtExecutor(m)->run(randomInputs(m, 7, 2));
    QVERIFY(relativeMaxDiff({outputs[0]}, {outputs[1]}) > 1e-5);
  }

  void typeOnlyBumpReshapeAt21() {
    auto b = newer(21, 10);
    b.input("x", {2, 6}).output("y", {3, 4}).init("shape", int64s({3, 4}));
    b.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
    Model m = b.model();
    QCOMPARE(m.opsetVersion(), int64_t{17});
    QCOMPARE(m.proto().ir_version(), int64_t{8});
    QVERIFY2(hasLine(m, "Reshape x1"), allLines(m).c_str());
    QVERIFY2(hasLine(m, "IR version 10 -> 8"), allLines(m).c_str());
    QVERIFY(compareWithOriginal(b.proto(), m) <= 1e-6);
  }

  void averagePoolAt19AndConvAt22() {
    auto b = newer(22, 10);
    b.input("x", {1, 2, 8, 8}).output("y", {1, 3, 4, 4});
    b.init("w", randomTensor({3, 2, 3, 3}, 3));
    auto& pool = b.node("AveragePool", {"x"}, {"p"}, "pool");
    setAttr(pool, "kernel_shape", std::vector<int64_t>{2, 2});
    setAttr(pool, "strides", std::vector<int64_t>{2, 2});
    setAttr(pool, "dilations", std::vector<int64_t>{1, 1});
    auto& conv = b.node("Conv", {"p", "w"}, {"y"}, "conv");
    setAttr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
    Model m = b.model();
    QVERIFY2(hasLine(m, "AveragePool 'pool': dilations all 1 -> attribute dropped"), allLines(m).c_str());
    QVERIFY2(hasLine(m, "Conv x1"), allLines(m).c_str());
    QVERIFY(compareWithOriginal(b.proto(), m) <= 1e-6);
  }

  void zooModelsRestampedAt22() {
    // Whole networks (ResNet-18; a BERT encoder with fused LayerNorm, Erf GELU and a dynamic sequence)
    // stamped opset 22 / IR 10, as a newer exporter would write them: everything relabels and ONNX Runtime
    // agrees.
    zoo::ResNet18Options resnet;
    resnet.image_size = 32;
    zoo::BertOptions bert;
    bert.vocab_size = 64;
    bert.hidden = 32;
    bert.layers = 1;
    bert.dynamic_sequence = true;
    for (onnx::ModelProto proto : {zoo::buildResNet18(resnet).proto(), zoo::buildBert(bert).proto()}) {
      proto.set_ir_version(10);
      for (auto& op : *proto.mutable_opset_import())
        if (op.domain().empty()) op.set_version(22);
      Model m = Model::fromProto(proto, "restamped " + proto.graph().name());
      QCOMPARE(m.opsetVersion(), int64_t{17});
      QVERIFY2(hasLine(m, "relabeled"), allLines(m).c_str());
      const double diff = compareWithOriginal(proto, m);
      QVERIFY2(diff <= 1e-6, std::to_string(diff).c_str());
    }
  }

  void averagePoolDilatedRefuses() {
    auto b = newer(19, 9);
    b.input("x", {1, 1, 8, 8}).output("y", {1, 1, 6, 6});
    auto& pool = b.node("AveragePool", {"x"}, {"y"}, "dilated_pool");
    setAttr(pool, "kernel_shape", std::vector<int64_t>{2, 2});
    setAttr(pool, "dilations", std::vector<int64_t>{2, 2});
    const std::string err = errorOf([&] { b.model(); });
    qInfo("%s", err.c_str());
    QVERIFY2(contains(err, "ONNX opset 19") && contains(err, "AveragePool 'dilated_pool'") &&
                 contains(err, "dilations [2,2]") && contains(err, "opset_version=17"),
             err.c_str());
  }

  void padAxesAt18() {
    auto b = newer(18, 8);
    b.input("x", {1, 2, 3, 4}).output("y", {1, 2, 3, 7});
    b.init("pads", int64s({1, 2})).init("axes", int64s({-1}));
    b.node("Pad", {"x", "pads", "", "axes"}, {"y"}, "pad_last");
    Model m = b.model();
    QVERIFY2(hasLine(m, "Pad 'pad_last': pads for axes [-1] -> pads for every axis [0,0,0,1,0,0,0,2]"),
             allLines(m).c_str());
    QVERIFY(compareWithOriginal(b.proto(), m) <= 1e-6);
  }

  void ifBodyWithReduceAxesAt19() {
    // Subgraphs bind to the model's opset: the ReduceMean inside each branch is converted too; its axes are
    // an initializer of the outer graph.
    auto b = newer(19, 9);
    b.input("c", {}, onnx::TensorProto::BOOL)
        .input("x", {2, 3})
        .output("y", {2, 1})
        .init("axes", int64s({1}));
    auto branch = [](const std::string& op, const std::string& out) {
      onnx::GraphProto g;
      g.set_name(op + "_branch");
      auto* n = g.add_node();
      n->set_op_type(op);
      n->set_name(op + "_in_branch");
      n->add_input("x");
      n->add_input("axes");
      n->add_output(out);
      auto* o = g.add_output();
      o->set_name(out);
      o->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
      return g;
    };
    auto& n = b.node("If", {"c"}, {"y"}, "if");
    auto* then_branch = n.add_attribute();
    then_branch->set_name("then_branch");
    then_branch->set_type(onnx::AttributeProto::GRAPH);
    *then_branch->mutable_g() = branch("ReduceMean", "m");
    auto* else_branch = n.add_attribute();
    else_branch->set_name("else_branch");
    else_branch->set_type(onnx::AttributeProto::GRAPH);
    *else_branch->mutable_g() = branch("ReduceMax", "mx");
    Model m = b.model();
    QVERIFY2(hasLine(m, "ReduceMean 'ReduceMean_in_branch' (in the 'then_branch' body of If 'if')"),
             allLines(m).c_str());
    for (bool cond : {true, false}) {
      Tensor c(DataType::Bool, {});
      c.values<bool>()[0] = cond;
      std::vector<NamedTensor> inputs = {{"c", c}, {"x", randomTensor({2, 3}, 5)}};
      const double diff = compareWithOriginal(b.proto(), m, inputs);
      QVERIFY2(diff <= 1e-6, std::to_string(diff).c_str());
    }
  }

  void modelFunctionAt18() {
    // A model-local function that imports opset 18 and reduces with Constant axes inside its body.
    auto b = newer(18, 8);
    auto* custom = b.proto().add_opset_import();
    custom->set_domain("local");
    custom->set_version(1);
    b.input("x", {2, 3}).output("y", {2, 1});
    auto& call = b.node("RowMean", {"x"}, {"y"}, "call");
    call.set_domain("local");
    auto* f = b.proto().add_functions();
    f->set_name("RowMean");
    f->set_domain("local");
    f->add_input("in");
    f->add_output("out");
    f->add_opset_import()->set_version(18);
    auto* c = f->add_node();
    c->set_op_type("Constant");
    c->add_output("ax");
    setAttr(*c, "value", int64s({1}));
    auto* r = f->add_node();
    r->set_op_type("ReduceMean");
    r->set_name("fn_mean");
    r->add_input("in");
    r->add_input("ax");
    r->add_output("out");
    Model m = b.model();
    QVERIFY2(hasLine(m, "ReduceMean 'fn_mean' (in model function 'RowMean'): axes input -> attribute"),
             allLines(m).c_str());
    QCOMPARE(m.proto().functions(0).opset_import(0).version(), int64_t{17});
    QVERIFY(compareWithOriginal(b.proto(), m) <= 1e-6);
  }

  void functionAttributeDefaultsAtIr9() {
    // IR 9 lets a function declare attribute defaults (attribute_proto); ONNX 1.12 cannot read them, so they
    // are written into the calls that omit them. ONNX Runtime applies the default to the original.
    auto b = newer(18, 9);
    auto* custom = b.proto().add_opset_import();
    custom->set_domain("local");
    custom->set_version(1);
    b.input("x", {2, 3}).output("y", {2, 3});
    b.node("Leaky", {"x"}, {"y"}, "call").set_domain("local");
    auto* f = b.proto().add_functions();
    f->set_name("Leaky");
    f->set_domain("local");
    f->add_input("in");
    f->add_output("out");
    f->add_opset_import()->set_version(18);
    auto* r = f->add_node();
    r->set_op_type("LeakyRelu");
    r->add_input("in");
    r->add_output("out");
    auto* ref = r->add_attribute();
    ref->set_name("alpha");
    ref->set_type(onnx::AttributeProto::FLOAT);
    ref->set_ref_attr_name("alpha");
    onnx::AttributeProto fallback;
    fallback.set_name("alpha");
    fallback.set_type(onnx::AttributeProto::FLOAT);
    fallback.set_f(0.3f);
    addUnknownString(*f, 11, fallback.SerializeAsString());  // FunctionProto.attribute_proto (IR 9)
    Model m = b.model();
    QVERIFY2(hasLine(m, "attribute defaults of model functions written into 1 call"), allLines(m).c_str());
    QCOMPARE(m.proto().ir_version(), int64_t{8});
    QCOMPARE(attrFloat(m.graph().node(0), "alpha", 0.f), 0.3f);
    const double diff = compareWithOriginal(b.proto(), m);
    QVERIFY2(diff <= 1e-6, std::to_string(diff).c_str());
  }

  void moreAdaptersConvert() {
    // Mish (18) decomposed, Resize (18) with its new attributes at their defaults, GridSample (20) mode
    // renamed, DFT (20) axis input -> attribute, DequantizeLinear (21) per-tensor: all compared with ONNX
    // Runtime.
    auto b = newer(21, 10);
    b.input("x", {1, 2, 4, 4}).input("grid", {1, 3, 3, 2}).input("sig", {1, 8, 1});
    b.output("mish", {1, 2, 4, 4}).output("up", {1, 2, 8, 8}).output("gs", {1, 2, 3, 3});
    b.output("dft", {1, 8, 2}).output("dq", {4});
    b.node("Mish", {"x"}, {"mish"}, "mish");
    b.init("scales", Tensor::from<float>({4}, std::vector<float>{1, 1, 2, 2}));
    auto& resize = b.node("Resize", {"x", "", "scales"}, {"up"}, "resize");
    setAttr(resize, "antialias", int64_t{0});
    auto* policy = resize.add_attribute();
    policy->set_name("keep_aspect_ratio_policy");
    policy->set_type(onnx::AttributeProto::STRING);
    policy->set_s("stretch");
    auto& gs = b.node("GridSample", {"x", "grid"}, {"gs"}, "sample");
    auto* mode = gs.add_attribute();
    mode->set_name("mode");
    mode->set_type(onnx::AttributeProto::STRING);
    mode->set_s("linear");
    b.init("dft_axis", Tensor::from<int64_t>({}, std::vector<int64_t>{1}));
    b.node("DFT", {"sig", "", "dft_axis"}, {"dft"}, "dft");
    b.init("q", Tensor::from<uint8_t>({4}, std::vector<uint8_t>{0, 10, 128, 255}));
    b.init("q_scale", Tensor::from<float>({}, std::vector<float>{0.5f}));
    b.init("q_zero", Tensor::from<uint8_t>({}, std::vector<uint8_t>{128}));
    b.node("DequantizeLinear", {"q", "q_scale", "q_zero"}, {"dq"}, "dq");
    Model m = b.model();
    QCOMPARE(countOps(m, "Mish"), 0);
    QVERIFY2(hasLine(m, "Mish 'mish': decomposed into Softplus, Tanh, Mul"), allLines(m).c_str());
    QVERIFY2(hasLine(m, "GridSample 'sample': mode 'linear' -> 'bilinear'"), allLines(m).c_str());
    QVERIFY2(hasLine(m, "DFT 'dft': axis input -> attribute axis=1"), allLines(m).c_str());
    QVERIFY2(hasLine(m, "Resize x1"), allLines(m).c_str());
    QVERIFY2(hasLine(m, "DequantizeLinear x1"), allLines(m).c_str());
    std::vector<NamedTensor> inputs = {{"x", randomTensor({1, 2, 4, 4}, 1)},
                                       {"grid", randomTensor({1, 3, 3, 2}, 2, -0.9f, 0.9f)},
                                       {"sig", randomTensor({1, 8, 1}, 3)}};
    const double diff = compareWithOriginal(b.proto(), m, inputs);
    QVERIFY2(diff <= 1e-6, std::to_string(diff).c_str());
  }

  void moreRefusals_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("expected");
    QTest::newRow("block quantization") << 0 << "block quantization (block_size=2, opset 21)";
    QTest::newRow("scatter max") << 1 << "reduction 'max' (opset 18)";
    QTest::newRow("deform conv") << 2 << "DeformConv is new in opset 19";
    QTest::newRow("pad wrap") << 3 << "mode 'wrap' (opset 19)";
    QTest::newRow("resize antialias") << 4 << "antialias=1 (opset 18)";
  }
  void moreRefusals() {
    QFETCH(int, kind);
    QFETCH(QString, expected);
    auto b = newer(21, 10);
    b.input("x", {1, 1, 4, 4}).output("y", {-1, -1, -1, -1});
    if (kind == 0) {
      b.init("scale", randomTensor({1, 1, 2, 4}, 1, 0.1f, 1.f));
      auto& q = b.node("QuantizeLinear", {"x", "scale"}, {"y"}, "node");
      setAttr(q, "axis", int64_t{2});
      setAttr(q, "block_size", int64_t{2});
    } else if (kind == 1) {
      b.init("idx", Tensor::from<int64_t>({1, 1, 1, 1}, std::vector<int64_t>{0}));
      b.init("upd", randomTensor({1, 1, 1, 1}, 2));
      auto& sc = b.node("ScatterElements", {"x", "idx", "upd"}, {"y"}, "node");
      auto* r = sc.add_attribute();
      r->set_name("reduction");
      r->set_type(onnx::AttributeProto::STRING);
      r->set_s("max");
    } else if (kind == 2) {
      b.init("w", randomTensor({1, 1, 3, 3}, 3)).init("off", randomTensor({1, 18, 2, 2}, 4));
      b.node("DeformConv", {"x", "w", "off"}, {"y"}, "node");
    } else if (kind == 3) {
      b.init("pads", int64s({0, 0, 1, 1, 0, 0, 1, 1}));
      auto& pad = b.node("Pad", {"x", "pads"}, {"y"}, "node");
      auto* mode = pad.add_attribute();
      mode->set_name("mode");
      mode->set_type(onnx::AttributeProto::STRING);
      mode->set_s("wrap");
    } else {
      b.init("scales", Tensor::from<float>({4}, std::vector<float>{1, 1, 0.5f, 0.5f}));
      auto& r = b.node("Resize", {"x", "", "scales"}, {"y"}, "node");
      setAttr(r, "antialias", int64_t{1});
    }
    const std::string err = errorOf([&] { b.model(); });
    qInfo("%s", err.c_str());
    QVERIFY2(contains(err, "ONNX opset 21") && contains(err, "'node'") &&
                 contains(err, expected.toStdString()) && contains(err, "opset_version=17"),
             err.c_str());
  }

  void computedAxesRefuse() {
    auto b = newer(18, 8);
    b.input("x", {2, 3}).input("axes", {1}, onnx::TensorProto::INT64).output("y", {-1, -1});
    auto& n = b.node("ReduceMean", {"x", "axes"}, {"y"}, "mean_dynamic");
    setAttr(n, "keepdims", int64_t{1});
    const std::string err = errorOf([&] { b.model(); });
    qInfo("%s", err.c_str());
    QVERIFY2(contains(err, "ONNX opset 18") && contains(err, "ReduceMean 'mean_dynamic'") &&
                 contains(err, "computed at run time") && contains(err, "opset_version=17"),
             err.c_str());
  }

  void bitwiseAndRefuses() {
    auto b = newer(18, 8);
    b.input("a", {4}, onnx::TensorProto::INT32).input("b", {4}, onnx::TensorProto::INT32);
    b.output("y", {4}, onnx::TensorProto::INT32);
    b.node("Relu", {"a"}, {"r"}, "relu_first");
    b.node("BitwiseAnd", {"r", "b"}, {"y"}, "band");
    const std::string err = errorOf([&] { b.model(); });
    qInfo("%s", err.c_str());
    QVERIFY2(contains(err, "ONNX opset 18") && contains(err, "BitwiseAnd 'band'") &&
                 contains(err, "new in opset 18") && contains(err, "opset_version=17"),
             err.c_str());
  }

  void newTypesRefuse() {
    // float8 (opset 19, IR 9): opset 17 has no such type at all.
    {
      auto b = newer(19, 9);
      b.input("x", {4}).output("y", {4});
      auto& c = b.node("Cast", {"x"}, {"f8"}, "to_float8");
      setAttr(c, "to", int64_t{17});
      auto& back = b.node("Cast", {"f8"}, {"y"}, "back");
      setAttr(back, "to", int64_t{1});
      const std::string err = errorOf([&] { b.model(); });
      qInfo("%s", err.c_str());
      QVERIFY2(contains(err, "Cast 'to_float8'") && contains(err, "float8e4m3fn") &&
                   contains(err, "opset_version=17"),
               err.c_str());
    }
    // bfloat16 into an op whose opset-17 version does not accept it (Sin gained bfloat16 at 22).
    {
      auto b = newer(22, 10);
      b.input("x", {4}).output("y", {4});
      auto& c = b.node("Cast", {"x"}, {"bf"}, "to_bf16");
      setAttr(c, "to", int64_t{onnx::TensorProto::BFLOAT16});
      b.node("Sin", {"bf"}, {"s"}, "sin_bf16");
      auto& back = b.node("Cast", {"s"}, {"y"}, "back");
      setAttr(back, "to", int64_t{1});
      const std::string err = errorOf([&] { b.model(); });
      qInfo("%s", err.c_str());
      QVERIFY2(
          contains(err, "Sin 'sin_bf16'") && contains(err, "bfloat16") && contains(err, "opset_version=17"),
          err.c_str());
    }
    // int4 weights (IR 10).
    {
      auto b = newer(21, 10);
      b.input("x", {2}).output("y", {2});
      onnx::TensorProto q;
      q.set_name("q");
      q.set_data_type(22);
      q.add_dims(2);
      q.set_raw_data(std::string(1, '\x21'));
      *b.proto().mutable_graph()->add_initializer() = q;
      b.init("scale", Tensor::from<float>({}, std::vector<float>{0.5f}));
      b.node("DequantizeLinear", {"q", "scale"}, {"dq"}, "dq_int4");
      b.node("Add", {"x", "dq"}, {"y"}, "add");
      const std::string err = errorOf([&] { b.model(); });
      qInfo("%s", err.c_str());
      QVERIFY2(contains(err, "DequantizeLinear 'dq_int4'") && contains(err, "int4"), err.c_str());
    }
  }

  void castToBfloat16ConvertsBecauseCast13HasIt() {
    // Cast-19 only added float8 targets: a bfloat16 Cast is valid opset-17 ONNX, so it converts (not
    // refuses).
    auto b = newer(19, 9);
    b.input("x", {4}).output("y", {4});
    auto& c = b.node("Cast", {"x"}, {"bf"}, "to_bf16");
    setAttr(c, "to", int64_t{onnx::TensorProto::BFLOAT16});
    auto& back = b.node("Cast", {"bf"}, {"y"}, "back");
    setAttr(back, "to", int64_t{1});
    Model m = b.model();
    QCOMPARE(m.opsetVersion(), int64_t{17});
    QVERIFY2(hasLine(m, "Cast x2"), allLines(m).c_str());
  }

  void irVersion10Lowered() {
    // An opset-17 model stamped IR 10 with IR-10 node metadata: the metadata is dropped, the IR lowered to 8.
    auto b = newer(17, 10);
    b.input("x", {2, 3}).output("y", {2, 3});
    auto& relu = b.node("Relu", {"x"}, {"y"}, "relu");
    onnx::StringStringEntryProto entry;
    entry.set_key("source");
    entry.set_value("model.py:12");
    addUnknownString(relu, 9, entry.SerializeAsString());  // NodeProto.metadata_props (IR 10)
    Model m = b.model();
    QCOMPARE(m.proto().ir_version(), int64_t{8});
    QCOMPARE(m.conversion().ir_from, int64_t{10});
    QVERIFY2(hasLine(m, "IR version 10 -> 8"), allLines(m).c_str());
    QVERIFY2(hasLine(m, "annotations dropped"), allLines(m).c_str());
    QVERIFY(m.graph().node(0).GetReflection()->GetUnknownFields(m.graph().node(0)).empty());
  }

  void irVersion10OverloadRefuses() {
    auto b = newer(21, 10);
    b.input("x", {2}).output("y", {2});
    auto& relu = b.node("Relu", {"x"}, {"y"}, "relu");
    addUnknownString(relu, 8, "fast");  // NodeProto.overload (IR 10)
    const std::string err = errorOf([&] { b.model(); });
    qInfo("%s", err.c_str());
    QVERIFY2(contains(err, "IR version 10") && contains(err, "overload") && contains(err, "opset_version=17"),
             err.c_str());
  }

  void oldOpsetUpgradedTo7() {
    auto b = newer(6, 3);
    b.input("x", {2, 3}).output("y", {2, 3});
    b.node("Relu", {"x"}, {"y"}, "relu");
    Model m = b.model();
    QCOMPARE(m.opsetVersion(), int64_t{7});
    QVERIFY2(hasLine(m, "opset 6 -> 7"), allLines(m).c_str());
  }

  void readableModelUntouched() {
    auto b = newer(17, 8);
    b.input("x", {2, 3}).output("y", {2, 3});
    b.node("Relu", {"x"}, {"y"}, "relu");
    Model m = b.model();
    QVERIFY(!m.conversion().changed());
    QCOMPARE(m.conversion().from, int64_t{17});
  }

  void aiOnnxDomainIsTheDefaultDomain() {
    auto b = newer(18, 8);
    b.proto().mutable_opset_import(0)->set_domain("ai.onnx");
    b.input("x", {2, 3}).output("y", {2, 3});
    auto& n = b.node("Relu", {"x"}, {"y"}, "relu");
    n.set_domain("ai.onnx");
    Model m = b.model();
    QCOMPARE(m.opsetVersion(), int64_t{17});
    QCOMPARE(m.proto().opset_import(0).domain(), std::string());
    QVERIFY2(hasLine(m, "domain 'ai.onnx'"), allLines(m).c_str());
  }

  void tooNewOpsetRefuses() {
    auto b = newer(30, 11);
    b.input("x", {2}).output("y", {2});
    b.node("Relu", {"x"}, {"y"}, "relu");
    const std::string err = errorOf([&] { b.model(); });
    qInfo("%s", err.c_str());
    QVERIFY2(contains(err, "ONNX opset 30") && contains(err, "opset_version=17"), err.c_str());
  }

  void cliInspectsNewerExport() {
    TempDir dir;
    auto b = newer(21, 10);
    b.input("x", {1, 8}).output("y", {1, 1});
    b.init("w", randomTensor({8, 8}, 9)).init("axes", int64s({1}));
    b.node("MatMul", {"x", "w"}, {"h"}, "fc");
    b.node("Gelu", {"h"}, {"g"}, "gelu");
    b.node("ReduceMean", {"g", "axes"}, {"y"}, "pool");
    writeProto(b.proto(), dir / "opset21.onnx");
    QProcess p;
    p.start(QString(EDGETUNE_BINARY_DIR) + "/bin/edgetune-cli",
            {"inspect", QString::fromStdString((dir / "opset21.onnx").string())});
    QVERIFY(p.waitForFinished(5 * 60 * 1000));
    const std::string err = p.readAllStandardError().toStdString();
    QVERIFY2(p.exitCode() == 0, err.c_str());
    const std::string out = p.readAllStandardOutput().toStdString();
    // The conversion is the first thing the command says it did.
    QVERIFY2(contains(out, "load: opset 21 -> 17"), out.c_str());
    qInfo("inspect of an opset-21 export:\n%s%s", err.c_str(), out.c_str());

    auto bad = newer(18, 8);
    bad.input("a", {4}, onnx::TensorProto::INT32).input("b", {4}, onnx::TensorProto::INT32);
    bad.output("y", {4}, onnx::TensorProto::INT32);
    bad.node("BitwiseAnd", {"a", "b"}, {"y"}, "band");
    writeProto(bad.proto(), dir / "bitwise.onnx");
    QProcess q;
    q.start(QString(EDGETUNE_BINARY_DIR) + "/bin/edgetune-cli",
            {"inspect", QString::fromStdString((dir / "bitwise.onnx").string())});
    QVERIFY(q.waitForFinished(5 * 60 * 1000));
    const std::string bad_err = q.readAllStandardError().toStdString();
    QVERIFY(q.exitCode() != 0);
    QVERIFY2(contains(bad_err, "BitwiseAnd 'band'") && contains(bad_err, "opset_version=17"),
             bad_err.c_str());
  }
};

QTEST_GUILESS_MAIN(TestOpsetConvert)
#include "test_opset_convert.moc"
