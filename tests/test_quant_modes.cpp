// Dynamic INT8 (BERT), FP16, weight-only INT8, automatic mixed precision, error diagnosis and the
// "will it be faster?" check, each run through ONNX Runtime.
#include <QtTest>

#include <tuple>

#include "core/analysis/quant_error.h"
#include "core/analysis/speedup_check.h"
#include "core/passes/fp16.h"
#include "core/passes/layernorm_form.h"
#include "core/passes/quantize_passes.h"
#include "core/util/error.h"
#include "core/zoo/zoo.h"
#include "tests/test_quant_common.h"
#include "tests/tests_common.h"

using namespace edgetune;

namespace {

Model smallBert() {
  zoo::ZooOptions z;
  z.vocab_size = 500;
  z.hidden = 64;
  z.heads = 2;
  z.layers = 2;
  z.sequence_length = 16;
  z.max_positions = 16;
  return zoo::buildZooModel("bert", z);
}

double snrOn(const Model& a, const Model& b, const std::vector<NamedTensor>& inputs) {
  return snrDb(makeOrtExecutor(a)->run(inputs).at(0).values<float>(),
               makeOrtExecutor(b)->run(inputs).at(0).values<float>());
}

Model resnet20() {
  zoo::ZooOptions z;
  z.image_size = 16;
  return zoo::buildZooModel("resnet20", z);
}

// x[N, 8, 16] -> LayerNorm over the last axis -> y, as torch.onnx writes it below opset 17 (ReduceMean, Sub,
// Pow 2, ReduceMean, Add eps, Sqrt, Div, Mul gamma, Add beta) or as one LayerNormalization node (opset 17).
Model layerNormModel(bool decomposed) {
  using zoo::Attr;
  using zoo::GraphBuilder;
  GraphBuilder g("layernorm", decomposed ? 14 : 17);
  const std::string x = g.addInput("x", DataType::Float32, {"N", 8, 16});
  const std::string gamma = g.addInitializer("gamma", test::filled({16}, 3));
  const std::string beta = g.addInitializer("beta", test::filled({16}, 4));
  std::string y;
  if (decomposed) {
    const auto scalar = [&](const std::string& name, float v) {
      return g.addInitializer(name, Tensor::from<float>({}, std::vector<float>{v}));
    };
    const std::vector<Attr> last = {Attr::ints("axes", {-1})};
    const auto mean = g.addNode("ReduceMean", "mean", {x}, last);
    const auto d = g.addNode("Sub", "sub", {x, mean});
    const auto sq = g.addNode("Pow", "pow", {d, scalar("two", 2.0f)});
    const auto var = g.addNode("ReduceMean", "var", {sq}, last);
    const auto std_ = g.addNode("Sqrt", "sqrt", {g.addNode("Add", "add_eps", {var, scalar("eps", 1e-5f)})});
    const auto n = g.addNode("Div", "div", {d, std_});
    y = g.addNode("Add", "shift", {g.addNode("Mul", "scale", {n, gamma}), beta}, {}, "y");
  } else {
    y = g.addNode("LayerNormalization", "ln", {x, gamma, beta},
                  {Attr::i("axis", -1), Attr::f("epsilon", 1e-5f)}, "y");
  }
  g.addOutput(y, DataType::Float32, {"N", 8, 16});
  return g.finish("layernorm");
}
}  // namespace

class TestQuantModes : public QObject {
  Q_OBJECT
 private slots:
  void dynamicBert() {
    Model f = smallBert();
    Model q = f;
    QuantizeOptions o;
    o.mode = QuantizeMode::Dynamic;
    QuantizePass pass(o);
    PassContext ctx;
    pass.apply(q, ctx);
    // Every MatMul with a constant weight (Q, K, V, attention output, FFN x2 per layer) and the two Gemms.
    int weight_matmuls = 0;
    for (const auto& n : f.graph().node())
      weight_matmuls += (n.op_type() == "MatMul" || n.op_type() == "Gemm") && f.isInitializer(n.input(1));
    QCOMPARE(test::countOps(q, "MatMulInteger"), weight_matmuls);
    QCOMPARE(test::countOps(q, "DynamicQuantizeLinear"), weight_matmuls);
    // ONNX Runtime fuses the pattern into its integer kernels; no MatMulInteger + Cast + Mul remains.
    const auto ops = ortOptimizedOpCounts(q);
    const int fused = (ops.count("DynamicQuantizeMatMul") ? ops.at("DynamicQuantizeMatMul") : 0) +
                      (ops.count("MatMulIntegerToFloat") ? ops.at("MatMulIntegerToFloat") : 0);
    QCOMPARE(fused, weight_matmuls);
    QCOMPARE(ops.count("MatMulInteger") ? ops.at("MatMulInteger") : 0, 0);
    // The encoder's LayerNorms are written unfused (ONNX Runtime's LayerNormalization kernel is the slow
    // one).
    QVERIFY(ortOptimizedOpCounts(f).count("LayerNormalization"));
    QCOMPARE(ops.count("LayerNormalization"), size_t{0});
    const auto declared = makeOrtExecutor(f)->inputs();
    test::RandomDataset tokens(declared, 4, 16, 1.0f, 500);  // ids < vocab, masks 1, token types 0
    const auto inputs = datasetBatch(tokens, declared, 0, 4);
    const double snr = snrOn(f, q, inputs);
    QVERIFY2(snr > 20.0, qPrintable(QString("SNR %1 dB").arg(snr)));
  }

  // Both LayerNorm forms are rewritten so that ONNX Runtime's LayerNormFusion no longer matches them; the
  // outputs stay the same up to rounding.
  void layerNormsWrittenUnfused_data() {
    QTest::addColumn<bool>("decomposed");
    QTest::newRow("torch.onnx below opset 17") << true;
    QTest::newRow("LayerNormalization") << false;
  }
  void layerNormsWrittenUnfused() {
    QFETCH(bool, decomposed);
    const Model f = layerNormModel(decomposed);
    QCOMPARE(ortOptimizedOpCounts(f).count("LayerNormalization"), size_t{1});  // what ORT would run
    Model u = f;
    QCOMPARE(writeLayerNormsUnfused(u), 1);
    QCOMPARE(test::countOps(u, "LayerNormalization") + test::countOps(u, "Pow") + test::countOps(u, "Div"),
             0);
    QCOMPARE(ortOptimizedOpCounts(u).count("LayerNormalization"), size_t{0});
    const auto inputs = test::randomInputs(f, 3, 2);
    const double rel =
        test::relativeMaxDiff(makeOrtExecutor(f)->run(inputs), makeOrtExecutor(u)->run(inputs));
    QVERIFY2(rel < 1e-5, qPrintable(QString("relative diff %1").arg(rel)));
    QCOMPARE(writeLayerNormsUnfused(u), 0);  // nothing left to rewrite
  }

  void fp16HalvesSizeAndRuns() {
    Model f = resnet20();
    Model h = f;
    Fp16Options o;
    convertToFp16(h, o);
    const double ratio =
        static_cast<double>(h.serialize().size()) / static_cast<double>(f.serialize().size());
    QVERIFY2(ratio > 0.45 && ratio < 0.56, qPrintable(QString("size ratio %1").arg(ratio)));
    // Inputs/outputs stay float32, so callers feed the same tensors.
    QCOMPARE(h.inputs().at(0).type, DataType::Float32);
    QCOMPARE(h.outputs().at(0).type, DataType::Float32);
    auto inputs = test::randomInputs(f, 2, 2);
    const double rel =
        test::relativeMaxDiff(makeOrtExecutor(f)->run(inputs), makeOrtExecutor(h)->run(inputs));
    QVERIFY2(rel < 2e-2, qPrintable(QString("relative diff %1").arg(rel)));
    // Without keep_io_types the graph input itself is float16.
    Model raw = f;
    o.keep_io_types = false;
    convertToFp16(raw, o);
    QCOMPARE(raw.inputs().at(0).type, DataType::Float16);
    // Half conversion round trip and clamping.
    QCOMPARE(halfToFloat(floatToHalf(1.5f)), 1.5f);
    QCOMPARE(halfToFloat(floatToHalf(-0.000061035156f)), -0.000061035156f);
    QVERIFY(std::isinf(halfToFloat(floatToHalf(1e6f))));
  }

  void weightOnlyInt8() {
    Model f = resnet20();
    Model q = f;
    QuantizeOptions o;
    o.mode = QuantizeMode::WeightOnly;
    QuantizePass pass(o);
    PassContext ctx;
    pass.apply(q, ctx);
    QCOMPARE(test::countOps(q, "DequantizeLinear"), test::countOps(f, "Conv") + test::countOps(f, "Gemm"));
    const double ratio =
        static_cast<double>(q.serialize().size()) / static_cast<double>(f.serialize().size());
    QVERIFY2(ratio < 0.3, qPrintable(QString("size ratio %1").arg(ratio)));
    auto inputs = test::randomInputs(f, 4, 2);
    QVERIFY(snrOn(f, q, inputs) > 25.0);
  }

  // Embedding tables: the int8 table is looked up first and only the gathered rows are scaled, per row
  // (per_channel) or with one scale (per tensor); no DequantizeLinear of a whole table runs per inference.
  void weightOnlyEmbeddingsScaleOnlyTheGatheredRows_data() {
    QTest::addColumn<bool>("per_channel");
    QTest::newRow("per row") << true;
    QTest::newRow("per tensor") << false;
  }
  void weightOnlyEmbeddingsScaleOnlyTheGatheredRows() {
    QFETCH(bool, per_channel);
    Model f = smallBert();
    Model q = f;
    QuantizeOptions o;
    o.mode = QuantizeMode::WeightOnly;
    o.per_channel = per_channel;
    o.exclude_ops = {"MatMul", "Gemm"};
    QuantizePass pass(o);
    PassContext ctx;
    pass.apply(q, ctx);
    int int8_tables = 0;
    for (const auto& n : q.graph().node()) {
      if (n.op_type() == "DequantizeLinear") {
        // Only gathered rows are dequantized: the input is a Gather's output, never an initializer.
        QVERIFY2(!q.isInitializer(n.input(0)), n.name().c_str());
      }
      if (n.op_type() == "Gather" && q.initializer(n.input(0)) &&
          q.initializer(n.input(0))->data_type() == onnx::TensorProto::INT8)
        ++int8_tables;
    }
    QVERIFY(int8_tables >= 1);
    QCOMPARE(test::countOps(q, "Mul") > test::countOps(f, "Mul"), per_channel);
    QVERIFY(q.serialize().size() < f.serialize().size());
    auto inputs = test::randomInputs(f, 5, 1, 2);
    QVERIFY(snrOn(f, q, inputs) > 25.0);
  }

  void mixedPrecisionKeepsWorstLayersFloat() {
    Model f = test::tinyResidualNet();
    auto data = test::randomDataFor(f, 32);
    QuantizeOptions o;
    o.samples = 32;
    o.batch_size = 8;
    o.min_output_snr_db = 80;  // unreachable with every layer in int8: forces layers back to float
    o.mixed_precision_samples = 16;
    Model q = f;
    QuantizePass pass(o);
    pass.setDataset(data);
    PassContext ctx;
    PassReport report = pass.apply(q, ctx);
    const auto& mp = report.details.at("mixed_precision");
    QVERIFY(!mp.at("float_nodes").empty());
    QCOMPARE(mp.at("ranking").size(), size_t{5});
    // The SNR never gets worse as layers return to float.
    const auto& steps = mp.at("steps");
    QVERIFY(steps.back().at("output_snr_db").get<double>() >=
            steps.front().at("output_snr_db").get<double>());
    // A budget already met keeps everything quantized.
    o.min_output_snr_db = 1;
    Model q2 = f;
    QuantizePass easy(o);
    easy.setDataset(data);
    PassReport r2 = easy.apply(q2, ctx);
    QVERIFY(r2.details.at("mixed_precision").at("float_nodes").empty());
    QCOMPARE(test::countOps(q2, "Conv"), 2);
  }

  void diagnosisSortedWorstFirst() {
    Model f = test::tinyResidualNet();
    auto data = test::randomDataFor(f, 32);
    QuantizeOptions o;
    o.samples = 32;
    Model q = f;
    QuantizePass pass(o);
    pass.setDataset(data);
    PassContext ctx;
    pass.apply(q, ctx);
    QuantErrorReport report = diagnoseQuantization(f, q, *data, 16, 8);
    QVERIFY(report.tensors.size() >= 5);
    for (size_t i = 1; i < report.tensors.size(); ++i)
      QVERIFY(report.tensors[i - 1].snr_db <= report.tensors[i].snr_db);
    for (const auto& t : report.tensors) {
      QVERIFY(t.cosine > 0.9 && t.cosine <= 1.0 + 1e-9);
      QVERIFY(t.snr_db > 10);
    }
    // A far too wide range on r1 (coarse steps) shows up in the table.
    auto tensors = staticCalibrationTensors(f, o);
    std::map<std::string, QuantRange> ranges;
    for (const auto& t : tensors) ranges[t] = {-8.0f, 8.0f};
    ranges["r1"] = {0.0f, 500.0f};
    Model bad = f;
    quantizeStaticWithRanges(bad, ranges, o);
    QuantErrorReport worse = diagnoseQuantization(f, bad, *data, 16, 8);
    auto snrOf = [](const QuantErrorReport& r, const std::string& name) {
      for (const auto& t : r.tensors)
        if (t.tensor == name) return t.snr_db;
      return 1000.0;
    };
    // r1 itself, and the tensors computed from it, lose far more than with calibrated ranges.
    QVERIFY2(snrOf(worse, "r1") < snrOf(report, "r1") - 10, worse.toTable().c_str());
    QVERIFY(worse.tensors.front().snr_db < report.tensors.front().snr_db);
    QVERIFY(worse.toJson().at("tensors").size() == worse.tensors.size());
    QVERIFY(worse.toTable().find("r1") != std::string::npos);
  }

  void speedupCheck() {
    Model f = test::tinyResidualNet();
    SpeedupReport before = checkSpeedup(f, {"rpi4", "rpi5"});
    auto has = [](const SpeedupReport& r, const std::string& kind) {
      return std::any_of(r.issues.begin(), r.issues.end(),
                         [&](const SpeedupIssue& i) { return i.kind == kind; });
    };
    QVERIFY(has(before, "no_integer_ops"));
    QVERIFY(has(before, "channels_not_multiple_of_8"));  // 4 and 3 channels
    QCOMPARE(before.targets.size(), size_t{2});
    QVERIFY(!before.targets[0].asimddp);  // Cortex-A72 has no dot product
    QVERIFY(before.targets[1].asimddp);
    QVERIFY(has(before, "cpu"));  // the Pi 4 target has NEON but no integer dot product
    // A quantized model with a float op between int8 ops (excluded GlobalAveragePool).
    auto data = test::randomDataFor(f, 16);
    QuantizeOptions o;
    o.samples = 16;
    o.exclude_ops = {"GlobalAveragePool"};
    Model q = f;
    QuantizePass pass(o);
    pass.setDataset(data);
    PassContext ctx;
    pass.apply(q, ctx);
    SpeedupReport after = checkSpeedup(q);
    QVERIFY(after.integer_ops >= 3);
    QVERIFY(!has(after, "no_integer_ops"));
    QVERIFY(has(after, "unfused_qdq"));
    QVERIFY(after.toText().find("integer kernel") != std::string::npos);
    // CPU flags.
    CpuIntegerSupport vnni = cpuSupportFromFlags("fpu sse avx2 avx512bw avx512_vnni", "test");
    QVERIFY(vnni.avx512_vnni && vnni.avx2);
    QVERIFY(vnni.verdict().find("VNNI") != std::string::npos);
    QVERIFY(!hostCpuSupport().flags.empty());
    QVERIFY_THROWS_EXCEPTION(Error, targetCpuSupport("pentium-mmx"));
  }

  void badInput() {
    // Dynamic mode touches only MatMul/Gemm with constant weights: resnet20's classifier, not its Convs.
    Model f = resnet20();
    Model q = f;
    QuantizeOptions o;
    o.mode = QuantizeMode::Dynamic;
    quantizeDynamic(q, o);
    QCOMPARE(test::countOps(q, "MatMulInteger"), 1);
    QCOMPARE(test::countOps(q, "Conv"), test::countOps(f, "Conv"));
    // Excluding Gemm leaves nothing to do, and the report says so.
    Model untouched = f;
    o.exclude_ops = {"Gemm"};
    PassReport r = quantizeDynamic(untouched, o);
    QCOMPARE(r.nodes_added, 0);
    QCOMPARE(untouched.serialize(), f.serialize());
    // A spelling outside the closed sets is refused when the options are read, naming the key and the
    // choices.
    QuantizePass pass;
    for (const auto& [key, value, choices] :
         {std::tuple{"mode", "int4", "static, dynamic, fp16, weight-only"},
          std::tuple{"activation_type", "float8", "uint8, int8"},
          std::tuple{"calibration", "magic", "minmax, percentile, entropy, mse"},
          std::tuple{"format", "qlinear", "qdq, qoperator"}}) {
      const std::string error = test::errorOf([&, key = key, value = value] {
        pass.setOptionsJson({{key, value}});
      });
      QVERIFY2(test::contains(
                   error, std::string("option '") + key + "' is '" + value + "' (expected " + choices + ")"),
               error.c_str());
    }
    o.mode = QuantizeMode::Dynamic;
    o.format = QuantFormat::QOperator;  // integer kernels written out exist for static only
    QVERIFY_THROWS_EXCEPTION(Error, validate(o));
    // FP16 on a model with no float tensors.
    zoo::GraphBuilder g("ints");
    auto x = g.addInput("x", DataType::Int64, {2});
    g.addNode("Neg", "neg", {x}, {}, "y");
    g.addOutput("y", DataType::Int64, {2});
    Model ints = g.finish("ints");
    QVERIFY_THROWS_EXCEPTION(Error, convertToFp16(ints, {}));
  }
};

QTEST_GUILESS_MAIN(TestQuantModes)
#include "test_quant_modes.moc"
