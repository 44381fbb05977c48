// Static INT8: golden Q/DQ placement and parameters on a tiny graph, ONNX Runtime's fused integer kernels,
// outputs close to float on zoo models, exclusions, per-tensor/symmetric variants and bad input.
#include <QtTest>
#include <algorithm>

#include "core/analysis/speedup_check.h"
#include "core/passes/quantize_passes.h"
#include "core/util/error.h"
#include "core/zoo/zoo.h"
#include "tests/test_quant_common.h"
#include "tests/tests_common.h"

using namespace edgetune;

namespace {

std::map<std::string, QuantRange> tinyRanges() {
  return {{"x", {-1.0f, 1.55f}},
          {"r1", {0.0f, 2.55f}},
          {"h2", {-2.0f, 2.0f}},
          {"r2", {0.0f, 3.0f}},
          {"gap", {0.0f, 1.0f}}};
}

float scalarFloat(const Model& m, const std::string& name) {
  const auto* init = m.initializer(name);
  if (!init) throw Error("missing initializer " + name);
  return tensorFromProto(*init).values<float>()[0];
}

const onnx::NodeProto* producerOf(const Model& m, const std::string& tensor) {
  const int p = m.producer(tensor);
  return p < 0 ? nullptr : &m.graph().node(p);
}

// The QuantizeLinear of `tensor` (static INT8 writes one per quantized tensor).
const onnx::NodeProto& quantizerOf(const Model& m, const std::string& tensor) {
  for (int c : m.consumers(tensor))
    if (m.graph().node(c).op_type() == "QuantizeLinear") return m.graph().node(c);
  throw Error("no QuantizeLinear reads " + tensor);
}
float scaleOf(const Model& m, const std::string& tensor) {
  return scalarFloat(m, quantizerOf(m, tensor).input(1));
}
const onnx::TensorProto& zeroPointOf(const Model& m, const std::string& tensor) {
  return *m.initializer(quantizerOf(m, tensor).input(2));
}

// Zero points of the DequantizeLinear nodes on Conv weights and biases that hold only zeros: static INT8
// leaves those out (the input is optional), so this is the list of what would waste bytes.
std::vector<std::string> allZeroConvZeroPoints(const Model& m) {
  std::vector<std::string> out;
  for (const auto& n : m.graph().node()) {
    if (n.op_type() != "DequantizeLinear" || n.input_size() < 3 || !m.isInitializer(n.input(0))) continue;
    const auto& readers = m.consumers(n.output(0));
    if (readers.empty() || m.graph().node(readers[0]).op_type() != "Conv") continue;
    const Tensor zp = tensorFromProto(*m.initializer(n.input(2)));
    const auto* bytes = static_cast<const uint8_t*>(zp.raw());
    if (std::all_of(bytes, bytes + zp.byteSize(), [](uint8_t b) { return b == 0; }))
      out.push_back(n.input(2));
  }
  return out;
}

const onnx::NodeProto* nodeNamed(const Model& m, const std::string& name) {
  for (const auto& n : m.graph().node())
    if (n.name() == name) return &n;
  return nullptr;
}

// Output SNR of `quantized` against `reference` on dataset examples [begin, begin+n).
double outputSnrOn(const Model& reference, const Model& quantized, const Dataset& data, size_t begin,
                   size_t n) {
  auto a = makeOrtExecutor(reference), b = makeOrtExecutor(quantized);
  const auto inputs = datasetBatch(data, a->inputs(), begin, n);
  return snrDb(a->run(inputs).at(0).values<float>(), b->run(inputs).at(0).values<float>());
}

Model calibratedQuantize(const Model& source, const std::shared_ptr<const Dataset>& data,
                         QuantizeOptions o = {}) {
  Model m = source;
  o.samples = 32;
  o.batch_size = 8;
  QuantizePass pass(o);
  pass.setDataset(data);
  PassContext ctx;
  pass.apply(m, ctx);
  return m;
}

}  // namespace

class TestQuantStatic : public QObject {
  Q_OBJECT
 private slots:
  void goldenPlacementAndParameters() {
    Model m = test::tinyResidualNet();
    QuantizeOptions o;
    auto tensors = staticCalibrationTensors(m, o);
    QCOMPARE(tensors, (std::vector<std::string>{"x", "r1", "h2", "r2", "p", "gap", "flat"}));
    quantizeStaticWithRanges(m, tinyRanges(), o);
    // 7 quantized activations (x, r1, h2, r2 and the MaxPool / Flatten outputs sharing their input's params).
    QCOMPARE(test::countOps(m, "QuantizeLinear"), 7);
    // One DQ per reading input: 8 for activations, 6 for weights and biases.
    QCOMPARE(test::countOps(m, "DequantizeLinear"), 14);
    QCOMPARE(test::countOps(m, "Relu"), 0);  // folded into the zero point 0 of uint8 outputs
    QCOMPARE(test::countOps(m, "Conv"), 2);
    // Exact parameters: x in [-1, 1.55] -> scale 0.01, zero point 100; r1 in [0, 2.55] -> 0.01, 0.
    QCOMPARE(scaleOf(m, "x"), 2.55f / 255.0f);
    QCOMPARE(static_cast<int>(tensorFromProto(zeroPointOf(m, "x")).values<uint8_t>()[0]), 100);
    QCOMPARE(static_cast<int>(tensorFromProto(zeroPointOf(m, "r1")).values<uint8_t>()[0]), 0);
    // MaxPool output reuses r2's parameters so ONNX Runtime can drop its Q/DQ.
    QCOMPARE(scaleOf(m, "p"), scaleOf(m, "r2"));
    // Per-channel weights: axis 0 for Conv, axis 0 for Gemm with transB=1; int8 values within +-63 (7-bit,
    // the default: u8 x s8 saturates on AVX2 without VNNI), +-127 with full range.
    const auto* conv1 = nodeNamed(m, "conv1");
    QVERIFY(conv1);
    const auto* wdq = producerOf(m, conv1->input(1));
    QVERIFY(wdq && wdq->op_type() == "DequantizeLinear");
    QCOMPARE(attrInt(*wdq, "axis", -1), 0);
    const Tensor wscale = tensorFromProto(*m.initializer(wdq->input(1)));
    QCOMPARE(wscale.shape(), (std::vector<int64_t>{4}));
    const Tensor wq = tensorFromProto(*m.initializer(wdq->input(0)));
    QCOMPARE(wq.type(), DataType::Int8);
    int max_abs = 0;
    for (int8_t v : wq.values<int8_t>()) max_abs = std::max(max_abs, std::abs(static_cast<int>(v)));
    QCOMPARE(max_abs, 63);
    Model full = test::tinyResidualNet();
    QuantizeOptions full_range = o;
    full_range.reduce_range = false;
    quantizeStaticWithRanges(full, tinyRanges(), full_range);
    // The tensor must outlive the loop over its values.
    const Tensor full_wq =
        tensorFromProto(*full.initializer(producerOf(full, nodeNamed(full, "conv1")->input(1))->input(0)));
    int full_max = 0;
    for (int8_t v : full_wq.values<int8_t>()) full_max = std::max(full_max, std::abs(static_cast<int>(v)));
    QCOMPARE(full_max, 127);
    // Bias: int32 with scale = s_x * s_w per channel.
    const auto* bdq = producerOf(m, conv1->input(2));
    QVERIFY(bdq && bdq->op_type() == "DequantizeLinear");
    const Tensor bscale = tensorFromProto(*m.initializer(bdq->input(1)));
    QCOMPARE(tensorFromProto(*m.initializer(bdq->input(0))).type(), DataType::Int32);
    for (int c = 0; c < 4; ++c)
      QCOMPARE(bscale.values<float>()[c], scaleOf(m, "x") * wscale.values<float>()[c]);
    // Weights and biases have zero point 0, which DequantizeLinear leaves out; activations keep theirs (ORT's
    // Q/DQ pair rules need all three inputs).
    QCOMPARE(wdq->input_size(), 2);
    QCOMPARE(bdq->input_size(), 2);
    for (const auto& n : m.graph().node())
      if (n.op_type() == "QuantizeLinear" ||
          (n.op_type() == "DequantizeLinear" && !m.isInitializer(n.input(0))))
        QCOMPARE(n.input_size(), 3);
    const auto* fc = nodeNamed(m, "fc");
    QCOMPARE(attrInt(*producerOf(m, fc->input(1)), "axis", -1), 0);
    // Gemm keeps a float graph output (QGemm can produce float); output name unchanged.
    QCOMPARE(fc->output(0), std::string("logits"));
    QVERIFY(m.isGraphOutput("logits"));
    // The model still runs.
    auto inputs = test::randomInputs(m, 3, 2);
    QCOMPARE(makeOrtExecutor(m)->run(inputs).at(0).shape(), (std::vector<int64_t>{2, 3}));
  }

  void fusedIntegerKernels() {
    Model f = test::tinyResidualNet();
    auto data = test::randomDataFor(f, 48);
    Model q = calibratedQuantize(f, data);
    const auto ops = ortOptimizedOpCounts(q);
    auto count = [&](const char* op) { return ops.count(op) ? ops.at(op) : 0; };
    QCOMPARE(count("QLinearConv"), 2);
    QCOMPARE(count("QLinearAdd"), 1);
    QCOMPARE(count("QLinearGlobalAveragePool"), 1);
    QCOMPARE(count("QGemm"), 1);
    QCOMPARE(count("Conv"), 0);
    QCOMPARE(count("DequantizeLinear"), 0);  // every DQ was folded into an integer kernel
    QCOMPARE(count("QuantizeLinear"), 1);    // only the graph input is quantized by a standalone node
    const SpeedupReport report = checkSpeedup(q);
    for (const auto& issue : report.issues) QVERIFY2(issue.kind != "unfused_qdq", issue.detail.c_str());
    QVERIFY(outputSnrOn(f, q, *data, 32, 16) > 25.0);
  }

  // The QOperator format writes the integer kernels into the file; ONNX Runtime runs them as it runs the
  // fused Q/DQ form, so the outputs agree closely, and the file no longer contains float Conv/Add/Gemm nodes.
  void qoperatorFormat() {
    Model f = test::tinyResidualNet();
    auto data = test::randomDataFor(f, 48);
    Model qdq = calibratedQuantize(f, data);
    QuantizeOptions o;
    o.format = QuantFormat::QOperator;
    Model qop = calibratedQuantize(f, data, o);
    QCOMPARE(test::countOps(qop, "QLinearConv"), 2);
    QCOMPARE(test::countOps(qop, "QLinearAdd"), 1);
    QCOMPARE(test::countOps(qop, "QLinearGlobalAveragePool"), 1);
    QCOMPARE(test::countOps(qop, "QGemm"), 1);
    for (const char* op : {"Conv", "Add", "Gemm", "GlobalAveragePool"}) QCOMPARE(test::countOps(qop, op), 0);
    // Weights are stored once, as int8, and read by the integer operators directly, with the zero point the
    // Q/DQ form left out.
    const auto* conv1 = nodeNamed(qop, "conv1");
    QVERIFY(conv1 && conv1->op_type() == "QLinearConv");
    const auto* w = qop.initializer(conv1->input(3));
    QVERIFY(w && w->data_type() == onnx::TensorProto::INT8);
    const auto* wzp = qop.initializer(conv1->input(5));
    QVERIFY(wzp && wzp->data_type() == onnx::TensorProto::INT8);
    QCOMPARE(tensorFromProto(*wzp).values<int8_t>()[0], int8_t{0});
    for (const auto& n : qop.graph().node())
      QVERIFY(n.op_type() != "DequantizeLinear" || n.input(0) != conv1->input(3));
    bool microsoft = false;
    for (const auto& o2 : qop.proto().opset_import()) microsoft = microsoft || o2.domain() == "com.microsoft";
    QVERIFY(microsoft);
    QVERIFY(outputSnrOn(qdq, qop, *data, 0, 32) > 40.0);
    QVERIFY(outputSnrOn(f, qop, *data, 0, 32) > 25.0);
    // QOperator is a static-quantization format only.
    QuantizePass p;
    try {
      p.setOptionsJson({{"mode", "dynamic"}, {"format", "qoperator"}});
      QFAIL("qoperator with dynamic mode accepted");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("format") != std::string::npos, e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, p.setOptionsJson({{"format", "qlinear"}}));
  }

  void zooModelsCloseToFloat_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<double>("min_snr_db");
    QTest::newRow("resnet20") << "resnet20" << 18.0;
    QTest::newRow("mobilenetv2") << "mobilenetv2" << 12.0;
  }
  void zooModelsCloseToFloat() {
    QFETCH(QString, arch);
    QFETCH(double, min_snr_db);
    zoo::ZooOptions z;
    z.image_size = 16;
    z.width_multiplier = arch == "mobilenetv2" ? 0.5 : 1.0;
    Model f = zoo::buildZooModel(arch.toStdString(), z);
    auto data = test::randomDataFor(f, 48);
    Model q = calibratedQuantize(f, data);
    const double snr = outputSnrOn(f, q, *data, 32, 16);
    QVERIFY2(snr > min_snr_db, qPrintable(QString("%1: output SNR %2 dB").arg(arch).arg(snr)));
    // Every float Conv became an integer kernel.
    const auto float_ops = ortOptimizedOpCounts(f), ops = ortOptimizedOpCounts(q);
    QVERIFY(ops.count("QLinearConv"));
    QCOMPARE(ops.count("Conv") ? ops.at("Conv") : 0, 0);
    QCOMPARE(ops.at("QLinearConv"), test::countOps(f, "Conv"));
    // No byte spent on Conv zero points that are all zero (one per output channel of every weight and bias).
    QCOMPARE(allZeroConvZeroPoints(q), std::vector<std::string>{});
  }

  void perTensorSymmetricInt8() {
    Model m = test::tinyResidualNet();
    QuantizeOptions o;
    o.per_channel = false;
    o.activation_type = ActivationType::Int8;
    o.symmetric_activations = true;
    // Without Relu folding the pre-Relu tensors (h1, s) and the MaxPool output need their own ranges.
    const auto tensors = staticCalibrationTensors(m, o);
    QCOMPARE(tensors, (std::vector<std::string>{"x", "h1", "r1", "h2", "s", "p", "gap", "flat"}));
    std::map<std::string, QuantRange> ranges;
    for (const auto& t : tensors) ranges[t] = {-3.0f, 3.0f};
    ranges["x"] = {-1.0f, 1.55f};
    quantizeStaticWithRanges(m, ranges, o);
    const auto* wdq = producerOf(m, nodeNamed(m, "conv1")->input(1));
    QCOMPARE(m.initializer(wdq->input(1))->dims_size(), 0);  // one scale for the tensor
    QCOMPARE(attrInt(*wdq, "axis", -1), -1);
    // Symmetric int8: zero point 0 and scale max|range| / 127; Relu cannot be folded and stays.
    QCOMPARE(static_cast<int>(tensorFromProto(zeroPointOf(m, "x")).values<int8_t>()[0]), 0);
    QCOMPARE(zeroPointOf(m, "x").data_type(), static_cast<int>(onnx::TensorProto::INT8));
    QCOMPARE(scaleOf(m, "x"), 1.55f / 127.0f);
    QCOMPARE(test::countOps(m, "Relu"), 2);
    auto inputs = test::randomInputs(m, 3, 2);
    QCOMPARE(makeOrtExecutor(m)->run(inputs).size(), size_t{1});
  }

  void exclusionsKeepNodesFloat() {
    Model m = test::tinyResidualNet();
    QuantizeOptions o;
    o.exclude_nodes = {"^conv2$"};
    o.exclude_ops = {"Gemm"};
    const auto nodes = staticQuantizableNodes(m, o);
    QCOMPARE(nodes, (std::vector<std::string>{"conv1", "add", "gap"}));
    quantizeStaticWithRanges(m, tinyRanges(), o);
    const auto* conv2 = nodeNamed(m, "conv2");
    QCOMPARE(conv2->input(1), std::string("conv2.weight"));  // float weight, no DQ
    QCOMPARE(m.initializer("conv2.weight")->data_type(), static_cast<int>(onnx::TensorProto::FLOAT));
    QCOMPARE(nodeNamed(m, "fc")->input(1), std::string("fc.weight"));
    QCOMPARE(test::countOps(m, "Conv"), 2);
  }

  void badInput() {
    Model m = test::tinyResidualNet();
    // A dataset whose examples do not fit the model input.
    auto wrong = std::make_shared<test::RandomDataset>(
        std::vector<TensorInfo>{{"image", DataType::Float32, {-1, 1, 28, 28}}}, 8);
    QuantizePass pass;
    pass.setDataset(wrong);
    PassContext ctx;
    try {
      Model copy = m;
      pass.apply(copy, ctx);
      QFAIL("a dataset that does not fit was accepted");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("'x'") != std::string::npos, e.what());
    }
    // Static mode without data.
    try {
      Model copy = m;
      QuantizePass none;
      none.apply(copy, ctx);
      QFAIL("static quantization without data was accepted");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("data") != std::string::npos, e.what());
    }
    // Unknown mode / wrong option type / bad regex / missing range.
    QuantizePass p;
    try {
      p.setOptionsJson({{"mode", "int3"}});
      QFAIL("unknown mode accepted");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("mode") != std::string::npos, e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, p.setOptionsJson({{"samples", "many"}}));
    QVERIFY_THROWS_EXCEPTION(Error, p.setOptionsJson({{"calibration", "magic"}}));
    QuantizeOptions bad_regex;
    bad_regex.exclude_nodes = {"("};
    QVERIFY_THROWS_EXCEPTION(Error, staticQuantizableNodes(m, bad_regex));
    auto ranges = tinyRanges();
    ranges.erase("h2");
    try {
      Model copy = m;
      quantizeStaticWithRanges(copy, ranges, {});
      QFAIL("missing range accepted");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("h2") != std::string::npos, e.what());
    }
  }

  void registryAndOptionsRoundTrip() {
    PassRegistry registry;
    registerQuantizePasses(registry);
    auto pass =
        registry.create("quantize", {{"mode", "dynamic"}, {"per_channel", false}, {"exclude_ops", {"Gemm"}}});
    const auto json = pass->optionsJson();
    QCOMPARE(json.at("mode").get<std::string>(), std::string("dynamic"));
    QCOMPARE(json.at("per_channel").get<bool>(), false);
    auto again = registry.create("quantize", json);
    QCOMPARE(again->optionsJson(), json);
    QVERIFY_THROWS_EXCEPTION(Error, registry.create("quantize", {{"no_such_option", 1}}));
  }
};

QTEST_GUILESS_MAIN(TestQuantStatic)
#include "test_quant_static.moc"
