// TFLite export (core/export): zoo models and small graphs covering the converted ops are written as .tflite,
// read back with the generated FlatBuffers reader (Transposes counted), and run through a real TFLite reader,
// Arm NN's TfLite parser on its reference CPU backend; outputs must equal ONNX Runtime's within 1e-4
// (relative to the output scale). An unsupported op stops the export with the node named and no file left.
// Without Arm NN (Debian libarmnntfliteparser-dev, libarmnn-cpuref-backend22) the test exits with code 77,
// which CTest reports as skipped.
#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "core/export/tflite_converter.h"
#include "core/export/tflite_export.h"
#include "core/export/tflite_schema_generated.h"
#include "core/passes/canonicalize.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/graph_builder.h"
#include "core/zoo/zoo.h"
#include "tests/cli_runner.h"
#include "tests/tests_common.h"

#ifdef EDGETUNE_HAVE_ARMNN
#include <armnn/ArmNN.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>
#endif

using namespace edgetune;
namespace fs = std::filesystem;

namespace {

constexpr int kSkipped = 77;  // SKIP_RETURN_CODE in tests/CMakeLists.txt

Tensor randomTensor(std::vector<int64_t> shape, uint64_t seed, float scale = 0.3f) {
  Tensor t(DataType::Float32, std::move(shape));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.f, scale);
  for (float& v : t.values<float>()) v = dist(rng);
  return t;
}

Model cleaned(Model m) {
  PassContext context;
  CanonicalizeOptions options;
  options.fold_batchnorm = true;
  canonicalize(m, options, context);
  return m;
}

// Operators of kind `kind` in a written file, read with the generated reader (both opcode fields must say
// it).
int countOperators(const std::string& bytes, tflite::BuiltinOperator kind) {
  const auto* model = tflite::GetModel(bytes.data());
  const auto* codes = model->operator_codes();
  int count = 0;
  for (const auto* op : *model->subgraphs()->Get(0)->operators()) {
    const auto* code = codes->Get(op->opcode_index());
    if (code->builtin_code() == kind && code->deprecated_builtin_code() == static_cast<int8_t>(kind)) ++count;
  }
  return count;
}

#ifdef EDGETUNE_HAVE_ARMNN
// Runs a .tflite through Arm NN (TfLite parser, CpuRef); inputs in the file's layout, outputs by name.
std::vector<Tensor> runArmnn(const std::string& bytes, const std::vector<NamedTensor>& inputs,
                             const std::vector<std::string>& outputs) {
  static armnn::IRuntimePtr runtime = armnn::IRuntime::Create(armnn::IRuntime::CreationOptions());
  auto parser = armnnTfLiteParser::ITfLiteParser::Create();
  armnn::INetworkPtr network =
      parser->CreateNetworkFromBinary(std::vector<uint8_t>(bytes.begin(), bytes.end()));
  armnn::IOptimizedNetworkPtr optimized =
      armnn::Optimize(*network, {armnn::Compute::CpuRef}, runtime->GetDeviceSpec());
  armnn::NetworkId id = 0;
  if (runtime->LoadNetwork(id, std::move(optimized)) != armnn::Status::Success)
    throw std::runtime_error("Arm NN could not load the network");
  armnn::InputTensors in;
  for (const auto& i : inputs) {
    const auto binding = parser->GetNetworkInputBindingInfo(0, i.name);
    in.emplace_back(binding.first, armnn::ConstTensor(binding.second, i.tensor.raw()));
  }
  std::vector<Tensor> results;
  armnn::OutputTensors out;
  for (const auto& name : outputs) {
    const auto binding = parser->GetNetworkOutputBindingInfo(0, name);
    std::vector<int64_t> shape;
    for (unsigned d = 0; d < binding.second.GetNumDimensions(); ++d)
      shape.push_back(binding.second.GetShape()[d]);
    results.emplace_back(DataType::Float32, shape);
  }
  for (size_t k = 0; k < outputs.size(); ++k)
    out.emplace_back(
        parser->GetNetworkOutputBindingInfo(0, outputs[k]).first,
        armnn::Tensor(parser->GetNetworkOutputBindingInfo(0, outputs[k]).second, results[k].raw()));
  runtime->EnqueueWorkload(id, in, out);
  runtime->UnloadNetwork(id);
  return results;
}
#endif

// x[1,4,8,8]: grouped Conv (SAME pads) -> HardSwish -> depthwise Conv (stride 2, asymmetric pads: an explicit
// PAD) -> Clip(-1, 2) -> MaxPool (SAME) -> Concat with an AveragePool (count_include_pad) -> Pad -> Sigmoid /
// Tanh branches Added -> Flatten of the 4x4 map -> Gemm -> Softmax. Every layout rule of the converter once.
Model opsNet() {
  using namespace edgetune::zoo;
  GraphBuilder g("ops");
  const std::string x = g.addInput("x", DataType::Float32, {1, 4, 8, 8});
  auto grouped = g.addNode("Conv", "/grouped/Conv",
                           {x, g.addInitializer("w_grouped", randomTensor({8, 2, 3, 3}, 1)),
                            g.addInitializer("b_grouped", randomTensor({8}, 2))},
                           {Attr::i("group", 2), Attr::ints("pads", {1, 1, 1, 1})});
  auto hs = g.addNode("HardSwish", "/act/HardSwish", {grouped});
  auto dw = g.addNode("Conv", "/dw/Conv", {hs, g.addInitializer("w_dw", randomTensor({8, 1, 3, 3}, 3))},
                      {Attr::i("group", 8), Attr::ints("strides", {2, 2}), Attr::ints("pads", {1, 1, 0, 0})});
  auto clip = g.addNode("Clip", "/clip/Clip",
                        {dw, g.addInitializer("lo", Tensor::from<float>({}, std::vector<float>{-1.f})),
                         g.addInitializer("hi", Tensor::from<float>({}, std::vector<float>{2.f}))});
  auto mp = g.addNode("MaxPool", "/pool/MaxPool", {clip},
                      {Attr::ints("kernel_shape", {3, 3}), Attr::ints("pads", {1, 1, 1, 1})});
  auto ap = g.addNode("AveragePool", "/pool/AveragePool", {clip},
                      {Attr::ints("kernel_shape", {3, 3}), Attr::ints("pads", {1, 1, 1, 1}),
                       Attr::i("count_include_pad", 1)});
  auto cat = g.addNode("Concat", "/cat/Concat", {mp, ap}, {Attr::i("axis", 1)});
  auto pad = g.addNode(
      "Pad", "/pad/Pad",
      {cat,
       g.addInitializer("pads", Tensor::from<int64_t>({8}, std::vector<int64_t>{0, 0, 0, 0, 0, 0, 1, 1}))});
  auto sig = g.addNode("Sigmoid", "/sig/Sigmoid", {pad});
  auto tanh = g.addNode("Tanh", "/tanh/Tanh", {pad});
  auto scale = g.addInitializer("scale", randomTensor({16, 1, 1}, 4));
  auto scaled = g.addNode("Mul", "/scale/Mul", {tanh, scale});
  auto sum = g.addNode("Add", "/sum/Add", {sig, scaled});
  auto flat = g.addNode("Flatten", "/Flatten", {sum}, {Attr::i("axis", 1)});  // [1, 16 * 5 * 5]
  auto fc = g.addNode("Gemm", "/fc/Gemm",
                      {flat, g.addInitializer("w_fc", randomTensor({5, 400}, 5, 0.05f)),
                       g.addInitializer("b_fc", randomTensor({5}, 6))},
                      {Attr::i("transB", 1)});
  g.addNode("Softmax", "/softmax/Softmax", {fc}, {Attr::i("axis", -1)}, "probs");
  g.addOutput("probs", DataType::Float32, {1, 5});
  return g.finish("ops");
}

// x[1,6,5,5]: BatchNormalization (not after a Conv) -> Relu -> Split 2 + 4 channels -> HardSigmoid of the
// first part, Concat with the second. No op here needs NHWC, so it all runs in the ONNX layout: no Transpose.
Model opsNet2() {
  using namespace edgetune::zoo;
  GraphBuilder g("ops2");
  const std::string x = g.addInput("x", DataType::Float32, {1, 6, 5, 5});
  Tensor var = randomTensor({6}, 4);
  for (float& v : var.values<float>()) v = v * v + 0.5f;
  auto bn = g.addNode(
      "BatchNormalization", "/bn/BatchNormalization",
      {x, g.addInitializer("gamma", randomTensor({6}, 1)), g.addInitializer("beta", randomTensor({6}, 2)),
       g.addInitializer("mean", randomTensor({6}, 3)), g.addInitializer("var", var)});
  auto relu = g.addNode("Relu", "/relu/Relu", {bn});
  auto parts = g.addNodeWithOutputs(
      "Split", "/split/Split",
      {relu, g.addInitializer("split", Tensor::from<int64_t>({2}, std::vector<int64_t>{2, 4}))}, 2,
      {Attr::i("axis", 1)});
  auto hs = g.addNode("HardSigmoid", "/hsig/HardSigmoid", {parts[0]},
                      {Attr::f("alpha", 1.0f / 6), Attr::f("beta", 0.5f)});
  g.addNode("Concat", "/cat/Concat", {hs, parts[1]}, {Attr::i("axis", 1)}, "y");
  g.addOutput("y", DataType::Float32, {1, 6, 5, 5});
  return g.finish("ops2");
}

// "ops", a committed torch.onnx fixture ("torch/small_cnn.onnx"), a model file path, or a zoo architecture.
Model erfModel() {
  using namespace edgetune::zoo;
  GraphBuilder g("erf");
  const std::string x = g.addInput("x", DataType::Float32, {1, 8});
  auto r = g.addNode("Relu", "/relu/Relu", {x});
  g.addNode("Erf", "/gelu/Erf", {r}, {}, "y");
  g.addOutput("y", DataType::Float32, {1, 8});
  return g.finish("erf");
}

Model loadCase(const QString& name) {
  if (name == "ops") return cleaned(opsNet());
  if (name == "ops2")
    return opsNet2();  // as built: clean-up would not change it, and must not fold the BN away
  if (name.endsWith(".onnx"))
    return cleaned(
        Model::load(name.startsWith("/") ? fs::path(name.toStdString()) : test::fixture(name.toStdString())));
  zoo::ZooOptions zoo_options;
  zoo_options.width_multiplier = name == "resnet18" ? 0.25 : name == "mobilenetv2" ? 0.5 : 1.0;
  return cleaned(zoo::buildZooModel(name.toStdString(), zoo_options));
}

// Max |a - b| / max |a|: the error relative to the largest output (stricter than relativeMaxDiff's scale of
// at least 1 when logits are small).
double relativeToLargest(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  double largest = 0, diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a[i].values<float>().size(); ++j) {
      largest = std::max(largest, static_cast<double>(std::fabs(a[i].values<float>()[j])));
      diff =
          std::max(diff, static_cast<double>(std::fabs(a[i].values<float>()[j] - b[i].values<float>()[j])));
    }
  return largest > 0 ? diff / largest : diff;
}

}  // namespace

class TestExportTflite : public QObject {
  Q_OBJECT

 private slots:
  void matchesOnnxRuntime_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<bool>("nhwc_input");
    QTest::addColumn<int>("transposes");
    QTest::newRow("resnet20") << "resnet20" << false << 1;
    QTest::newRow("resnet20 nhwc input") << "resnet20" << true << 0;
    QTest::newRow("resnet18 x0.25") << "resnet18" << false << 1;
    QTest::newRow("mobilenetv2 x0.5") << "mobilenetv2" << false << 1;
    QTest::newRow("mobilenetv2 x0.5 nhwc input") << "mobilenetv2" << true << 0;
    QTest::newRow("mlp") << "mlp" << false << 0;
    QTest::newRow("ops") << "ops" << false << 1;
    QTest::newRow("ops2") << "ops2" << false << 0;
    QTest::newRow("torch small_cnn") << "torch/small_cnn.onnx" << false << 1;
    // Big torchvision exports (build/fixtures/exports-224 of a full build), run by hand:
    // EDGETUNE_TFLITE_EXPORTS="/path/resnet18.onnx /path/mobilenet_v2.onnx" test_export_tflite
    for (const QString& path : qEnvironmentVariable("EDGETUNE_TFLITE_EXPORTS").split(' ', Qt::SkipEmptyParts))
      QTest::newRow(qPrintable(path)) << path << false << 1;
  }

  // Exported, read back, run by Arm NN: the outputs of ONNX Runtime, and the promised number of Transposes.
  void matchesOnnxRuntime() {
    QFETCH(QString, arch);
    QFETCH(bool, nhwc_input);
    QFETCH(int, transposes);
    const Model model = loadCase(arch);
    TfliteExportOptions options;
    options.nhwc_input = nhwc_input;
    TfliteExportReport report;
    const auto start = std::chrono::steady_clock::now();
    const std::string bytes = buildTflite(model, options, &report);
    [[maybe_unused]] const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    QCOMPARE(countOperators(bytes, tflite::BuiltinOperator::TRANSPOSE), transposes);
    QCOMPARE(report.transposes, transposes);
    // Every Relu / Relu6 of these models follows a Conv, Gemm or Add, and is fused into it.
    QCOMPARE(countOperators(bytes, tflite::BuiltinOperator::RELU), 0);
    QCOMPARE(countOperators(bytes, tflite::BuiltinOperator::RELU6), 0);

#ifdef EDGETUNE_HAVE_ARMNN
    const auto inputs = test::randomInputs(model, 7);
    const auto expected = makeOrtExecutor(model)->run(inputs);
    std::vector<NamedTensor> fed = inputs;
    for (auto& in : fed)
      if (nhwc_input && in.tensor.shape().size() == 4)
        in.tensor = tflite_export::permuteTensor(in.tensor, {0, 2, 3, 1});
    std::vector<Tensor> actual;
    try {
      actual = runArmnn(bytes, fed, report.outputs);
    } catch (const std::exception& e) {
      QFAIL((std::string("Arm NN: ") + e.what()).c_str());
    }
    const double diff = test::relativeMaxDiff(expected, actual);
    const double strict = relativeToLargest(expected, actual);
    std::printf(
        "%-34s %3d operators, %d TRANSPOSE, %9lld bytes, export %6.1f ms, relative diff %.2e (to the "
        "largest output %.2e)\n",
        qPrintable(arch.section('/', -1) + (nhwc_input ? " (nhwc)" : "")), report.operators,
        report.transposes, static_cast<long long>(bytes.size()), ms, diff, strict);
    QVERIFY2(diff < 1e-4, qPrintable(QString("relative difference %1").arg(diff)));
    QVERIFY2(strict < 1e-4, qPrintable(QString("difference relative to the largest output %1").arg(strict)));
#endif
  }

  // A spatial Flatten that also leaves the graph cannot keep the NHWC order: one Transpose back before it.
  void flattenSeenOutsideTransposesBack() {
    using namespace edgetune::zoo;
    GraphBuilder g("flat");
    const std::string x = g.addInput("x", DataType::Float32, {1, 2, 3, 3});
    auto conv = g.addNode("Conv", "/conv/Conv", {x, g.addInitializer("w", randomTensor({4, 2, 1, 1}, 1))});
    g.addNode("Flatten", "/Flatten", {conv}, {Attr::i("axis", 1)}, "features");
    g.addOutput("features", DataType::Float32, {1, 36});
    const Model model = g.finish("flat");
    TfliteExportReport report;
    const std::string bytes = buildTflite(model, {}, &report);
    QCOMPARE(countOperators(bytes, tflite::BuiltinOperator::TRANSPOSE), 2);
#ifdef EDGETUNE_HAVE_ARMNN
    const auto inputs = test::randomInputs(model, 3);
    QVERIFY(test::relativeMaxDiff(makeOrtExecutor(model)->run(inputs),
                                  runArmnn(bytes, inputs, {"features"})) < 1e-4);
#endif
  }

  void unsupportedOpNamesTheNodeAndWritesNothing() {
    const Model model = erfModel();
    test::TempDir dir;
    const fs::path out = dir / "model.tflite";
    const std::string message = test::errorOf([&] { writeTflite(model, {}, out); });
    QVERIFY2(test::contains(message, "Erf '/gelu/Erf'"), message.c_str());
    QVERIFY2(test::contains(message, "not supported"), message.c_str());
    QVERIFY(!fs::exists(out));
    QCOMPARE(static_cast<int>(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator())),
             0);
  }

  // The command: JSON report, --nhwc-input, and for a bad op one line on stderr, exit code 1 and no file.
  void cliExport() {
    using test::q;
    using test::runCli;
    test::TempDir dir;
    const fs::path onnx = dir / "r8.onnx", tfl = dir / "r8.tflite", nhwc = dir / "r8_nhwc.tflite";
    QCOMPARE(runCli({"zoo", "resnet8", "-o", q(onnx)}).exit_code, 0);
    const auto plain = runCli({"export", q(onnx), "--format", "tflite", "-o", q(tfl), "--json"});
    QCOMPARE(plain.exit_code, 0);
    const auto j = nlohmann::json::parse(plain.out);
    QCOMPARE(j.at("transposes").get<int>(), 1);
    QCOMPARE(j.at("file_bytes").get<int64_t>(), static_cast<int64_t>(fs::file_size(tfl)));
    QCOMPARE(countOperators(readFile(tfl), tflite::BuiltinOperator::TRANSPOSE), 1);
    const auto channels_last = runCli({"export", q(onnx), "-o", q(nhwc), "--nhwc-input", "--json"});
    QCOMPARE(channels_last.exit_code, 0);
    QCOMPARE(nlohmann::json::parse(channels_last.out).at("input_shapes").at("input"),
             nlohmann::json({1, 32, 32, 3}));
    QCOMPARE(countOperators(readFile(nhwc), tflite::BuiltinOperator::TRANSPOSE), 0);
    const auto same = runCli({"export", q(onnx), "-o", q(onnx)});
    QCOMPARE(same.exit_code, 2);  // a bad command line (README: one output rule)
    QVERIFY2(test::contains(same.err, "refusing to overwrite the input model"), same.err.c_str());

    const fs::path erf = dir / "erf.onnx", out = dir / "erf.tflite";
    erfModel().save(erf);
    const auto bad = runCli({"export", q(erf), "-o", q(out)});
    QCOMPARE(bad.exit_code, 1);
    QVERIFY2(
        test::contains(bad.err, "Erf '/gelu/Erf'") && std::count(bad.err.begin(), bad.err.end(), '\n') == 1,
        bad.err.c_str());
    QVERIFY(!fs::exists(out));
  }

  void writesAtomicallyAndVerifies() {
    const Model model = cleaned(zoo::buildZooModel("resnet8"));
    test::TempDir dir;
    const fs::path out = dir / "resnet8.tflite";
    const TfliteExportReport report = writeTflite(model, {}, out);
    QCOMPARE(static_cast<int64_t>(fs::file_size(out)), report.file_bytes);
    const std::string bytes = readFile(out);
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    QVERIFY(tflite::VerifyModelBuffer(verifier));
    QCOMPARE(report.input_shapes.at("input"), (std::vector<int64_t>{1, 3, 32, 32}));
  }
};

int main(int argc, char** argv) {
#ifndef EDGETUNE_HAVE_ARMNN
  std::printf("SKIP: built without Arm NN (libarmnntfliteparser-dev, libarmnn-cpuref-backend22)\n");
  return kSkipped;
#endif
  QCoreApplication app(argc, argv);
  TestExportTflite test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_export_tflite.moc"
