// InputShapes (one way to size symbolic dimensions) and canonicalize (the clean-up on the way in), on the
// torch.onnx fixtures with their dynamic batch and sequence axes.
#include <QtTest>

#include "core/ir/input_shapes.h"
#include "core/ir/stats.h"
#include "core/passes/canonicalize.h"
#include "core/runtime/benchmark.h"
#include "core/util/error.h"
#include "tests/test_passes_builder.h"
#include "tests/tests_common.h"

using namespace edgetune;
using edgetune::test::contains;
using edgetune::test::errorOf;

namespace {

// x: float [batch, 3, height, width] (a dynamic image size, named as torch.onnx names dynamic axes) -> Relu.
Model dynamicImageModel() {
  test::GraphBuilder b;
  b.input("x", {-1, 3, -1, -1}).output("y", {-1, 3, -1, -1});
  b.node("Relu", {"x"}, {"y"}, "relu");
  const char* names[] = {"batch", "", "height", "width"};
  for (auto* list : {b.proto().mutable_graph()->mutable_input(), b.proto().mutable_graph()->mutable_output()})
    for (int d : {0, 2, 3})
      list->Mutable(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(d)->set_dim_param(
          names[d]);
  return b.model();
}

}  // namespace

class TestInputShapes : public QObject {
  Q_OBJECT

 private slots:
  void parsesShapeSpecs() {
    const auto specs = parseShapeSpecs({"input_ids=1x128", "image=2,3,32,32"});
    QCOMPARE(specs.at("input_ids"), (std::vector<int64_t>{1, 128}));
    QCOMPARE(specs.at("image"), (std::vector<int64_t>{2, 3, 32, 32}));
    QVERIFY(contains(errorOf([] { parseShapeSpecs({"x=1xa"}); }), "dimension 'a'"));
    QVERIFY(contains(errorOf([] { parseShapeSpecs({"x=1x0"}); }), "dimension '0'"));
    QVERIFY(contains(errorOf([] { parseShapeSpecs({"x="}); }), "NAME=DIMS"));
    QVERIFY(contains(errorOf([] { parseShapeSpecs({"=1"}); }), "NAME=DIMS"));
    QVERIFY(contains(errorOf([] { parseShapeSpecs({"x=1", "x=2"}); }), "given twice"));
    QVERIFY(contains(errorOf([] { parseShapeSpecs({"x=1x99999999999"}); }), "not an integer"));
  }

  void tokenInputsDefaultToSequence128AndSayIt() {
    // tiny_bert has 64 positions (a position_ids buffer arange(64)): the default 128 would not run, so 64 it
    // is.
    const Model bert = Model::load(test::fixture("torch/tiny_bert.onnx"));
    const InputShapes shapes = resolveInputShapes(bert);
    for (const char* name : {"input_ids", "attention_mask", "token_type_ids"})
      QCOMPARE(shapes.dims.at(name), (std::vector<int64_t>{1, 64}));
    bool said = false;
    for (const auto& note : shapes.notes) said = said || contains(note, "64 positions");
    QVERIFY(said);
    // A model without a position buffer takes the default.
    test::GraphBuilder b;
    b.input("ids", {-1, -1}, onnx::TensorProto::INT64).output("y", {-1, -1}, onnx::TensorProto::INT64);
    b.node("Identity", {"ids"}, {"y"}, "same");
    b.proto()
        .mutable_graph()
        ->mutable_input(0)
        ->mutable_type()
        ->mutable_tensor_type()
        ->mutable_shape()
        ->mutable_dim(1)
        ->set_dim_param("sequence");
    QCOMPARE(resolveInputShapes(b.model()).dims.at("ids"), (std::vector<int64_t>{1, kDefaultSequenceLength}));
    // MACs are counted at the sequence length, not at 1 (the attention and every linear scale with it).
    const ModelStats at_128 = computeStats(bert, &shapes);
    const ModelStats at_1 = computeStats(bert);
    QVERIFY2(at_128.macs > 50 * at_1.macs,
             (std::to_string(at_128.macs) + " vs " + std::to_string(at_1.macs)).c_str());
    QVERIFY(shapes.dynamic_batch.count("input_ids"));
    QCOMPARE(shapes.withBatch(4).dims.at("attention_mask"), (std::vector<int64_t>{4, 64}));
  }

  void aGivenShapeSizesEveryInputSharingTheDimension() {
    const Model bert = Model::load(test::fixture("torch/tiny_bert.onnx"));
    const InputShapes shapes = resolveInputShapes(bert, parseShapeSpecs({"input_ids=2x16"}));
    QCOMPARE(shapes.dims.at("input_ids"), (std::vector<int64_t>{2, 16}));
    QCOMPARE(shapes.dims.at("attention_mask"), (std::vector<int64_t>{2, 16}));
    QCOMPARE(shapes.dims.at("token_type_ids"), (std::vector<int64_t>{2, 16}));
    // The benchmark's random inputs take exactly these sizes, and ONNX Runtime runs them.
    auto executor = makeOrtExecutor(bert);
    BenchmarkOptions options;
    options.input_shapes = shapes;
    const auto inputs = makeRandomInputs(executor->inputs(), options);
    QCOMPARE(inputs.at(0).tensor.shape(), (std::vector<int64_t>{2, 16}));
    QCOMPARE(executor->run(inputs).at(0).shape(), (std::vector<int64_t>{2, 2}));
  }

  void wrongShapesAreRefusedNamingTheInput() {
    const Model cnn = Model::load(test::fixture("torch/small_cnn.onnx"));  // input [batch, 3, 16, 16]
    QVERIFY(contains(errorOf([&] { resolveInputShapes(cnn, parseShapeSpecs({"images=1x3x16x16"})); }),
                     "not an input (inputs: input)"));
    QVERIFY(contains(errorOf([&] { resolveInputShapes(cnn, parseShapeSpecs({"input=1x3x16"})); }),
                     "has 4 dimensions"));
    QVERIFY(contains(errorOf([&] { resolveInputShapes(cnn, parseShapeSpecs({"input=1x3x32x32"})); }),
                     "is fixed at 16"));
    const InputShapes shapes = resolveInputShapes(cnn, parseShapeSpecs({"input=8x3x16x16"}));
    QCOMPARE(shapes.dims.at("input"), (std::vector<int64_t>{8, 3, 16, 16}));
    QVERIFY(contains(errorOf([] { InputShapes{}.withBatch(2); }), "fixed batch"));
  }

  void aDynamicImageSizeNeedsDataOrShapeNeverOneByOne() {
    const Model model = dynamicImageModel();
    const std::string error = errorOf([&] { resolveInputShapes(model); });
    QVERIFY2(contains(error, "input 'x'") && contains(error, "--shape x="), error.c_str());
    // The benchmark refuses the same way rather than timing a 1x1 image.
    auto executor = makeOrtExecutor(model);
    QVERIFY(
        contains(errorOf([&] { makeRandomInputs(executor->inputs(), BenchmarkOptions{}); }), "--shape x="));
    const ExampleShapes example{{"image", {3, 32, 24}}};
    const InputShapes shapes = resolveInputShapes(model, {}, &example);
    QCOMPARE(shapes.dims.at("x"), (std::vector<int64_t>{1, 3, 32, 24}));
    const InputShapes given = resolveInputShapes(model, parseShapeSpecs({"x=1x3x64x64"}));
    QCOMPARE(given.dims.at("x"), (std::vector<int64_t>{1, 3, 64, 64}));
  }

  void canonicalizeCleansInMemoryAndKeepsOutputs() {
    const Model raw =
        Model::load(test::fixture("torch/small_cnn.onnx"));  // exported with BatchNorm and Dropout
    Model model = raw;
    PassContext context;
    const CanonicalizeReport report = canonicalize(model, CanonicalizeOptions{}, context);
    QVERIFY(report.ran);
    QCOMPARE(report.nodes_before, raw.graph().node_size());
    QVERIFY2(report.nodes_after < report.nodes_before, report.summary().c_str());
    int batchnorms = 0;
    for (const auto& n : model.graph().node()) batchnorms += n.op_type() == "BatchNormalization";
    QCOMPARE(batchnorms, 0);
    QVERIFY(contains(report.summary(), "->"));
    QCOMPARE(report.toJson().at("step").get<std::string>(), std::string("clean"));
    test::verifyEquivalent(raw, model);

    // Training keeps BatchNorm; --no-clean keeps everything.
    Model keep_bn = raw;
    CanonicalizeOptions training;
    training.fold_batchnorm = false;
    canonicalize(keep_bn, training, context);
    batchnorms = 0;
    for (const auto& n : keep_bn.graph().node()) batchnorms += n.op_type() == "BatchNormalization";
    QVERIFY(batchnorms > 0);
    Model as_given = raw;
    CanonicalizeOptions off;
    off.enabled = false;
    const CanonicalizeReport skipped = canonicalize(as_given, off, context);
    QVERIFY(!skipped.ran);
    QCOMPARE(as_given.graph().node_size(), raw.graph().node_size());
    QVERIFY(contains(skipped.summary(), "--no-clean"));
  }
};

QTEST_GUILESS_MAIN(TestInputShapes)
#include "test_input_shapes.moc"
