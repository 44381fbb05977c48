// The libtorch interpreter on models as users export them: the committed torch.onnx fixtures against torch's
// own saved outputs and against ONNX Runtime, raw and canonicalized (fold_batchnorm = false, as the training
// commands run it), at batch sizes and sequence lengths other than the export's; MobileNetV3-style
// Hardswish/SE and DenseNet-style concatenation blocks as torch.onnx writes them; one SGD step lowering the
// loss; refusals. With EDGETUNE_EXPORTS_DIR set (make_export_matrix.py's output folder) the same checks run
// on the full matrix.
#include <ATen/ATen.h>

#include <QtTest>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "core/ir/model.h"
#include "core/passes/canonicalize.h"
#include "core/train/torch_executor.h"
#include "core/train/torch_graph.h"
#include "core/train/torch_ops.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/graph_builder.h"
#include "tests/tests_common.h"
#include "tests/torch_sample.h"
#include "tests/train/train_fixtures.h"

using namespace edgetune;
using zoo::Attr;
using zoo::GraphBuilder;

namespace {

using Sample = test::TorchSample;
const auto readSample = test::readTorchSample;

using test::floats;
using test::ints;
using test::normalTensor;

bool isTextModel(const Model& model) {
  for (const auto& in : model.inputs())
    if (in.type == DataType::Int64) return true;
  return false;
}

// Inputs at a chosen batch size (and sequence length for token inputs), whatever the export's sizes were.
// Token ids stay below `vocab_size`; the last sequence of the batch is padded (attention_mask 0 at its end).
std::vector<NamedTensor> inputsAt(const Model& model, int64_t batch, int64_t sequence, uint64_t seed,
                                  int64_t vocab_size = 100) {
  std::mt19937_64 rng(seed);
  std::vector<NamedTensor> result;
  for (const auto& in : model.inputs()) {
    std::vector<int64_t> shape = in.shape;
    if (shape.empty()) throw Error(model.origin() + ": input '" + in.name + "' has no shape");
    shape[0] = batch;
    if (in.type == DataType::Int64) {
      if (shape.size() != 2)
        throw Error(model.origin() + ": token input '" + in.name + "' is not [batch, sequence]");
      shape[1] = sequence;
    }
    for (auto& d : shape)
      if (d < 0)
        throw Error(model.origin() + ": input '" + in.name + "' has a dynamic dimension besides batch");
    Tensor t(in.type, shape);
    if (in.type == DataType::Float32) {
      std::normal_distribution<float> dist(0.f, 1.f);
      for (auto& v : t.values<float>()) v = dist(rng);
    } else {
      auto v = t.values<int64_t>();
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t s = 0; s < sequence; ++s) {
          int64_t& x = v[static_cast<size_t>(b * sequence + s)];
          if (in.name == "attention_mask")
            x = (b == batch - 1 && batch > 1 && s >= sequence * 2 / 3) ? 0 : 1;
          else if (in.name == "token_type_ids")
            x = s >= sequence / 2 ? 1 : 0;
          else
            x = std::uniform_int_distribution<int64_t>(0, vocab_size - 1)(rng);
        }
    }
    result.push_back({in.name, std::move(t)});
  }
  return result;
}

Model canonicalized(const Model& model) {
  Model copy = model;
  PassContext context;
  canonicalize(copy, CanonicalizeOptions{.fold_batchnorm = false}, context);
  return copy;
}

double interpreterVsOrt(const Model& model, const std::vector<NamedTensor>& inputs) {
  const std::vector<Tensor> expected = makeOrtExecutor(model)->run(inputs);
  const std::vector<Tensor> actual = makeTorchExecutor(model)->run(inputs);
  return test::relativeMaxDiff(expected, actual);
}

// One SGD step in training mode on a fixed batch: the loss must fall by about what the gradient predicts.
// The step size makes the first-order decrease lr * |g|^2 one percent of the loss, so wrong gradients (a
// missing path, a wrong sign or scale) show as a loss that does not fall, or falls far less than predicted.
struct StepResult {
  double loss_before = 0, loss_after = 0, predicted_decrease = 0;
  size_t parameters = 0, with_gradient = 0;
  std::string without_gradient;  // names of parameters that got no gradient at all
};

StepResult sgdStep(const Model& model, const std::vector<NamedTensor>& inputs) {
  TorchGraph graph(model);
  graph.train(true);
  std::vector<std::pair<std::string, at::Tensor>> named_inputs;
  for (const auto& nt : inputs) named_inputs.emplace_back(nt.name, torch_ops::toTorch(nt.tensor));
  auto lossOf = [&] {
    at::manual_seed(7);  // the same dropout masks in both passes
    at::Tensor logits = graph.forward(named_inputs)[0];
    if (logits.dim() != 2) throw Error(model.origin() + ": the first output is not [batch, classes]");
    at::Tensor labels = at::arange(logits.size(0), at::kLong).remainder(logits.size(1));
    return at::nll_loss(at::log_softmax(logits.to(at::kDouble), 1), labels);
  };
  StepResult r;
  at::Tensor loss = lossOf();
  r.loss_before = loss.item<double>();
  loss.backward();
  double grad_norm2 = 0;
  for (const auto& [name, p] : graph.namedParameters()) {
    ++r.parameters;
    if (p.grad().defined() && p.grad().abs().sum().item<double>() > 0) {
      ++r.with_gradient;
      grad_norm2 += p.grad().to(at::kDouble).pow(2).sum().item<double>();
    } else {
      r.without_gradient += (r.without_gradient.empty() ? "" : ", ") + name;
    }
  }
  const double lr = grad_norm2 > 0 ? 0.01 * r.loss_before / grad_norm2 : 0.0;
  r.predicted_decrease = lr * grad_norm2;
  {
    at::NoGradGuard no_grad;
    for (const auto& p : graph.parameters())
      if (p.grad().defined()) p.sub_(p.grad() * lr);
  }
  at::NoGradGuard no_grad;
  r.loss_after = lossOf().item<double>();
  return r;
}

void checkStep(const Model& model, const std::vector<NamedTensor>& inputs) {
  const StepResult r = sgdStep(model, inputs);
  qInfo("%s: loss %.6f -> %.6f (predicted -%.6f), %zu/%zu parameters with gradient", model.origin().c_str(),
        r.loss_before, r.loss_after, r.predicted_decrease, r.with_gradient, r.parameters);
  QVERIFY2(r.parameters > 0, "no trainable parameters");
  QVERIFY2(r.with_gradient == r.parameters,
           qPrintable("no gradient reached: " + QString::fromStdString(r.without_gradient)));
  QVERIFY2(r.loss_after < r.loss_before,
           qPrintable(QString("loss %1 -> %2").arg(r.loss_before).arg(r.loss_after)));
  const double decrease = r.loss_before - r.loss_after;
  QVERIFY2(
      decrease > 0.3 * r.predicted_decrease && decrease < 3.0 * r.predicted_decrease,
      qPrintable(
          QString("loss fell by %1, the gradient predicted %2").arg(decrease).arg(r.predicted_decrease)));
}

int countOps(const Model& model, const std::string& op) {
  int n = 0;
  for (const auto& node : model.graph().node()) n += node.op_type() == op;
  return n;
}

void output(GraphBuilder& g, const std::string& name, int rank) {
  g.addOutput(name, DataType::Float32, std::vector<zoo::Dim>(static_cast<size_t>(rank), zoo::Dim(-1)));
}

// MobileNetV3's building blocks as torch.onnx 1.13 writes them: Hardswish is HardSigmoid(alpha=1/6)+Mul at
// opset 13 and HardSwish from opset 14; squeeze-excitation is GlobalAveragePool -> Conv -> Relu -> Conv ->
// HardSigmoid -> Mul with the block input; the classifier is Flatten -> Gemm(transB) -> Hardswish -> Gemm.
Model mobileNetV3Block(int64_t opset) {
  GraphBuilder g("mobilenet_v3_block", opset);
  auto x = g.addInput("input", DataType::Float32, {"batch", 3, 16, 16});
  auto hardswish = [&](const std::string& in, const std::string& scope) {
    if (opset >= 14) return g.addNode("HardSwish", scope + "/HardSwish", {in});
    auto gate = g.addNode("HardSigmoid", scope + "/HardSigmoid", {in}, {Attr::f("alpha", 1.f / 6.f)});
    return g.addNode("Mul", scope + "/Mul", {in, gate});
  };
  g.addInitializer("stem.weight", normalTensor({8, 3, 3, 3}, 1, 0.3f));
  g.addInitializer("stem.bias", normalTensor({8}, 2, 0.1f));
  auto stem = g.addNode("Conv", "/stem/Conv", {x, "stem.weight", "stem.bias"},
                        {Attr::ints("pads", {1, 1, 1, 1}), Attr::ints("strides", {2, 2})});
  auto h = hardswish(stem, "/stem");
  // Depthwise 5x5, stride 2, then SE.
  g.addInitializer("dw.weight", normalTensor({8, 1, 5, 5}, 3, 0.3f));
  g.addInitializer("dw.bias", normalTensor({8}, 4, 0.1f));
  auto dw = g.addNode("Conv", "/dw/Conv", {h, "dw.weight", "dw.bias"},
                      {Attr::ints("pads", {2, 2, 2, 2}), Attr::ints("strides", {2, 2}), Attr::i("group", 8)});
  auto dwa = hardswish(dw, "/dw");
  auto pooled = g.addNode("GlobalAveragePool", "/se/avgpool/GlobalAveragePool", {dwa});
  g.addInitializer("se.fc1.weight", normalTensor({4, 8, 1, 1}, 5, 0.5f));
  g.addInitializer("se.fc1.bias", normalTensor({4}, 6, 0.1f));
  g.addInitializer("se.fc2.weight", normalTensor({8, 4, 1, 1}, 7, 0.5f));
  g.addInitializer("se.fc2.bias", normalTensor({8}, 8, 0.1f));
  auto fc1 = g.addNode("Relu", "/se/relu/Relu",
                       {g.addNode("Conv", "/se/fc1/Conv", {pooled, "se.fc1.weight", "se.fc1.bias"})});
  auto fc2 = g.addNode("Conv", "/se/fc2/Conv", {fc1, "se.fc2.weight", "se.fc2.bias"});
  auto scale =
      g.addNode("HardSigmoid", "/se/scale_activation/HardSigmoid", {fc2}, {Attr::f("alpha", 1.f / 6.f)});
  auto se = g.addNode("Mul", "/se/Mul", {scale, dwa});
  // Project and add the residual of the same shape.
  g.addInitializer("project.weight", normalTensor({8, 8, 1, 1}, 9, 0.3f));
  auto projected = g.addNode("Conv", "/project/Conv", {se, "project.weight"});
  auto sum = g.addNode("Add", "/Add", {projected, dwa});
  auto gap = g.addNode("GlobalAveragePool", "/avgpool/GlobalAveragePool", {sum});
  auto flat = g.addNode("Flatten", "/Flatten", {gap}, {Attr::i("axis", 1)});
  g.addInitializer("classifier.0.weight", normalTensor({16, 8}, 10, 0.4f));
  g.addInitializer("classifier.0.bias", normalTensor({16}, 11, 0.1f));
  g.addInitializer("classifier.3.weight", normalTensor({5, 16}, 12, 0.4f));
  g.addInitializer("classifier.3.bias", normalTensor({5}, 13, 0.1f));
  auto fc = g.addNode("Gemm", "/classifier/classifier.0/Gemm",
                      {flat, "classifier.0.weight", "classifier.0.bias"}, {Attr::i("transB", 1)});
  auto fca = hardswish(fc, "/classifier/classifier.1");
  g.addNode("Gemm", "/classifier/classifier.3/Gemm", {fca, "classifier.3.weight", "classifier.3.bias"},
            {Attr::i("transB", 1)}, "logits");
  output(g, "logits", 2);
  return g.finish(opset >= 14 ? "mobilenet_v3_block_opset14" : "mobilenet_v3_block_opset13");
}

// DenseNet's blocks as torch.onnx writes them with training=PRESERVE (BatchNormalization kept): a dense layer
// reads the Concat of every earlier output (BN -> Relu -> 1x1 Conv -> BN -> Relu -> 3x3 Conv), the transition
// pads explicitly (a Pad node with its pads from a Constant) before a 2x2 AveragePool, the stem MaxPool has
// pads. Two BatchNorms share their fresh statistics through Identity, as torch deduplicates equal
// initializers.
Model denseNetBlock() {
  GraphBuilder g("densenet_block", 13);
  auto x = g.addInput("input", DataType::Float32, {"batch", 3, 16, 16});
  uint64_t seed = 100;
  auto bn = [&](const std::string& in, int64_t channels, const std::string& scope, bool fresh_statistics) {
    g.addInitializer(scope + ".weight", normalTensor({channels}, seed++, 0.1f));
    g.addInitializer(scope + ".bias", normalTensor({channels}, seed++, 0.1f));
    std::string mean = scope + ".running_mean", var = scope + ".running_var";
    if (fresh_statistics && g.hasTensor("fresh.running_mean." + std::to_string(channels))) {
      mean = g.addNode("Identity", "Identity_" + scope + "_mean",
                       {"fresh.running_mean." + std::to_string(channels)});
      var = g.addNode("Identity", "Identity_" + scope + "_var",
                      {"fresh.running_var." + std::to_string(channels)});
    } else if (fresh_statistics) {
      mean = g.addInitializer("fresh.running_mean." + std::to_string(channels),
                              floats({channels}, std::vector<float>(channels, 0.f)));
      var = g.addInitializer("fresh.running_var." + std::to_string(channels),
                             floats({channels}, std::vector<float>(channels, 1.f)));
    } else {
      g.addInitializer(mean, normalTensor({channels}, seed++, 0.2f));
      Tensor v = normalTensor({channels}, seed++, 0.2f);
      for (auto& e : v.values<float>()) e = std::fabs(e) + 0.5f;
      g.addInitializer(var, v);
    }
    return g.addNode("BatchNormalization", scope + "/BatchNormalization",
                     {in, scope + ".weight", scope + ".bias", mean, var},
                     {Attr::f("epsilon", 1e-5f), Attr::f("momentum", 0.9f)});
  };
  auto conv = [&](const std::string& in, int64_t out_channels, int64_t in_channels, int64_t k,
                  const std::string& scope) {
    g.addInitializer(scope + ".weight", normalTensor({out_channels, in_channels, k, k}, seed++, 0.3f));
    const int64_t p = k / 2;
    return g.addNode("Conv", scope + "/Conv", {in, scope + ".weight"}, {Attr::ints("pads", {p, p, p, p})});
  };
  g.addInitializer("conv0.weight", normalTensor({8, 3, 3, 3}, seed++, 0.3f));
  auto c0 =
      g.addNode("Conv", "/features/conv0/Conv", {x, "conv0.weight"}, {Attr::ints("pads", {1, 1, 1, 1})});
  auto r0 = g.addNode("Relu", "/features/relu0/Relu", {bn(c0, 8, "/features/norm0", false)});
  auto pool0 = g.addNode(
      "MaxPool", "/features/pool0/MaxPool", {r0},
      {Attr::ints("kernel_shape", {3, 3}), Attr::ints("pads", {1, 1, 1, 1}), Attr::ints("strides", {2, 2})});
  std::vector<std::string> features = {pool0};
  int64_t channels = 8;
  const int64_t growth = 4;
  for (int layer = 1; layer <= 3; ++layer) {
    const std::string scope = "/features/denseblock1/denselayer" + std::to_string(layer);
    auto cat = g.addNode("Concat", scope + "/Concat", features, {Attr::i("axis", 1)});
    auto a = g.addNode("Relu", scope + "/relu1/Relu", {bn(cat, channels, scope + "/norm1", layer == 1)});
    auto b = conv(a, 8, channels, 1, scope + "/conv1");
    auto c = g.addNode("Relu", scope + "/relu2/Relu", {bn(b, 8, scope + "/norm2", true)});
    features.push_back(conv(c, growth, 8, 3, scope + "/conv2"));
    channels += growth;
  }
  auto block = g.addNode("Concat", "/features/denseblock1/Concat", features, {Attr::i("axis", 1)});
  auto t = g.addNode("Relu", "/features/transition1/relu/Relu",
                     {bn(block, channels, "/features/transition1/norm", false)});
  auto tc = conv(t, 8, channels, 1, "/features/transition1/conv");
  auto pads = g.addConstant("/features/transition1/pool/Constant", ints({0, 0, 0, 0, 0, 0, 0, 0}));
  auto padded = g.addNode("Pad", "/features/transition1/pool/Pad", {tc, pads}, {Attr::s("mode", "constant")});
  auto avg = g.addNode("AveragePool", "/features/transition1/pool/AveragePool", {padded},
                       {Attr::ints("kernel_shape", {2, 2}), Attr::ints("pads", {0, 0, 0, 0}),
                        Attr::ints("strides", {2, 2}), Attr::i("ceil_mode", 0)});
  auto gap = g.addNode("GlobalAveragePool", "/GlobalAveragePool", {g.addNode("Relu", "/Relu", {avg})});
  auto flat = g.addNode("Flatten", "/Flatten", {gap}, {Attr::i("axis", 1)});
  g.addInitializer("classifier.weight", normalTensor({5, 8}, seed++, 0.4f));
  g.addInitializer("classifier.bias", normalTensor({5}, seed++, 0.1f));
  g.addNode("Gemm", "/classifier/Gemm", {flat, "classifier.weight", "classifier.bias"},
            {Attr::i("transB", 1)}, "logits");
  output(g, "logits", 2);
  return g.finish("densenet_block");
}

std::vector<std::string> committedFixtures() {
  return {"small_cnn", "shufflenet_v2_x0_5", "tiny_bert", "tiny_bert_opset14"};
}

// The generated matrix (make_export_matrix.py), when EDGETUNE_EXPORTS_DIR names its folder.
std::vector<std::filesystem::path> matrixExports() {
  std::vector<std::filesystem::path> files;
  const char* dir = std::getenv("EDGETUNE_EXPORTS_DIR");
  if (!dir || !std::filesystem::is_directory(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".onnx") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

class TestTorchExports : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { setTorchThreads(2); }

  // Torch's own outputs are the truth: the interpreter reproduces them on the export's sample, raw and
  // cleaned.
  void fixturesMatchTorch_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("clean");
    for (const auto& name : committedFixtures()) {
      QTest::newRow((name + "/raw").c_str()) << QString::fromStdString(name) << false;
      QTest::newRow((name + "/canonical").c_str()) << QString::fromStdString(name) << true;
    }
  }
  void fixturesMatchTorch() {
    QFETCH(QString, name);
    QFETCH(bool, clean);
    const auto dir = test::fixture("torch");
    Model model = Model::load(dir / (name.toStdString() + ".onnx"));
    if (clean) {
      const Model raw = model;
      model = canonicalized(raw);
      // The canonical rows test a different graph wherever the exporter left something to clean.
      if (countOps(raw, "Identity") + countOps(raw, "Constant") > 0)
        QVERIFY(model.graph().node_size() < raw.graph().node_size());
      QCOMPARE(countOps(model, "BatchNormalization"), countOps(raw, "BatchNormalization"));
    }
    const Sample sample = readSample(dir / (name.toStdString() + ".sample.bin"));
    auto torch = makeTorchExecutor(model);
    const double vs_torch = test::relativeMaxDiff(torch->run(sample.inputs), sample.outputs);
    QVERIFY2(vs_torch <= 1e-4, qPrintable(QString("interpreter vs torch: %1").arg(vs_torch)));
    const double vs_ort = interpreterVsOrt(model, sample.inputs);
    QVERIFY2(vs_ort <= 1e-4, qPrintable(QString("interpreter vs ONNX Runtime: %1").arg(vs_ort)));
  }

  // Shape arithmetic runs on run-time tensors: other batch sizes and sequence lengths than the export's.
  void fixturesAtOtherSizes_data() { fixturesMatchTorch_data(); }
  void fixturesAtOtherSizes() {
    QFETCH(QString, name);
    QFETCH(bool, clean);
    Model model = Model::load(test::fixture("torch") / (name.toStdString() + ".onnx"));
    if (clean) model = canonicalized(model);
    const bool text = isTextModel(model);
    for (const auto& [batch, sequence] : std::vector<std::pair<int64_t, int64_t>>{{1, 5}, {3, 20}, {4, 12}}) {
      auto inputs = inputsAt(model, batch, sequence, 17 + static_cast<uint64_t>(batch));
      const double diff = interpreterVsOrt(model, inputs);
      QVERIFY2(diff <= 1e-4, qPrintable(QString("batch %1%2: %3")
                                            .arg(batch)
                                            .arg(text ? QString(", sequence %1").arg(sequence) : QString())
                                            .arg(diff)));
    }
  }

  // The opset-14 encoder is the opset-17 one with LayerNorm written out; both compute the same function.
  void decomposedLayerNormMatchesFused() {
    const auto dir = test::fixture("torch");
    Model fused = Model::load(dir / "tiny_bert.onnx");
    Model decomposed = Model::load(dir / "tiny_bert_opset14.onnx");
    QCOMPARE(countOps(decomposed, "LayerNormalization"), 0);
    QVERIFY(countOps(fused, "LayerNormalization") > 0);
    for (const char* op :
         {"ReduceMean", "Pow", "Sqrt", "Div", "Erf", "Shape", "Gather", "Unsqueeze", "Concat"})
      QVERIFY2(countOps(decomposed, op) > 0, op);
    auto inputs = inputsAt(decomposed, 2, 30, 5, 500);
    const double diff = test::relativeMaxDiff(makeTorchExecutor(fused)->run(inputs),
                                              makeTorchExecutor(decomposed)->run(inputs));
    QVERIFY2(diff <= 1e-4, qPrintable(QString::number(diff)));
  }

  void mobileNetV3Blocks_data() {
    QTest::addColumn<int>("opset");
    QTest::newRow("opset13 HardSigmoid+Mul") << 13;
    QTest::newRow("opset14 HardSwish") << 14;
  }
  void mobileNetV3Blocks() {
    QFETCH(int, opset);
    Model model = mobileNetV3Block(opset);
    QCOMPARE(countOps(model, "HardSwish") > 0, opset >= 14);
    for (int64_t batch : {1, 3}) {
      const double diff = interpreterVsOrt(model, inputsAt(model, batch, 0, 3));
      QVERIFY2(diff <= 1e-4, qPrintable(QString("batch %1: %2").arg(batch).arg(diff)));
      const double canonical = interpreterVsOrt(canonicalized(model), inputsAt(model, batch, 0, 3));
      QVERIFY2(canonical <= 1e-4, qPrintable(QString("canonical, batch %1: %2").arg(batch).arg(canonical)));
    }
    checkStep(model, inputsAt(model, 4, 0, 9));
  }

  void denseNetBlocks() {
    Model model = denseNetBlock();
    QVERIFY(countOps(model, "Identity") > 0);
    for (int64_t batch : {1, 3}) {
      const double diff = interpreterVsOrt(model, inputsAt(model, batch, 0, 4));
      QVERIFY2(diff <= 1e-4, qPrintable(QString("batch %1: %2").arg(batch).arg(diff)));
    }
    Model clean = canonicalized(model);
    QCOMPARE(countOps(clean, "BatchNormalization"),
             countOps(model, "BatchNormalization"));  // kept for training
    QVERIFY(interpreterVsOrt(clean, inputsAt(model, 2, 0, 4)) <= 1e-4);
    // The Identity-shared statistics are one buffer, not a trained parameter.
    TorchGraph graph(model);
    for (const auto& [name, _] : graph.namedParameters())
      QVERIFY2(name.find("running") == std::string::npos, name.c_str());
    // Five pairs of statistics: norm0, two norm1, the transition's, and one pair the four fresh 8-channel BNs
    // share.
    QCOMPARE(graph.namedBuffers().size(), size_t{10});
    checkStep(model, inputsAt(model, 4, 0, 10));
    checkStep(clean, inputsAt(model, 4, 0, 10));
  }

  void trainingStepLowersLoss_data() { fixturesMatchTorch_data(); }
  void trainingStepLowersLoss() {
    QFETCH(QString, name);
    QFETCH(bool, clean);
    Model model = Model::load(test::fixture("torch") / (name.toStdString() + ".onnx"));
    if (clean) model = canonicalized(model);
    checkStep(model, inputsAt(model, 4, 16, 21));
  }

  // A BatchNormalization exported in training mode (running statistics wired as outputs) normalizes with the
  // batch's statistics in ONNX Runtime even at inference; the interpreter computes the same.
  void batchNormExportedInTrainingMode() {
    GraphBuilder g("bn_train", 15);
    auto x = g.addInput("x", DataType::Float32, {"N", 3, 4, 4});
    g.addInitializer("s", floats({3}, {1.f, 0.5f, 2.f}));
    g.addInitializer("b", floats({3}, {0.f, 0.1f, -0.2f}));
    g.addInitializer("m", floats({3}, {0.3f, -0.2f, 0.1f}));
    g.addInitializer("v", floats({3}, {0.7f, 1.5f, 1.f}));
    auto outs = g.addNodeWithOutputs("BatchNormalization", "bn", {x, "s", "b", "m", "v"}, 3,
                                     {Attr::i("training_mode", 1), Attr::f("momentum", 0.8f)});
    output(g, outs[0], 4);
    output(g, outs[1], 1);
    output(g, outs[2], 1);
    Model model = g.finish("bn_train");
    auto inputs = inputsAt(model, 3, 0, 8);
    const double diff = interpreterVsOrt(model, inputs);
    QVERIFY2(diff <= 1e-4, qPrintable(QString::number(diff)));
  }

  // An operator the interpreter lacks fails once, naming the node, the operator, every other missing
  // operator, and what to do; nothing of torch's internals reaches the message.
  void unsupportedOperatorMessage() {
    GraphBuilder g("unsupported");
    auto x = g.addInput("x", DataType::Float32, {"N", 6});
    auto nz = g.addNode("NonZero", "/find/NonZero", {x});
    auto unique = g.addNodeWithOutputs("Unique", "/unique/Unique", {x}, 1);
    auto nz2 = g.addNode("NonZero", "/find/NonZero_1", {unique[0]});
    g.addOutput(nz, DataType::Int64, {2, -1});
    g.addOutput(nz2, DataType::Int64, {1, -1});
    Model model = g.finish("unsupported.onnx");
    const std::string msg = test::errorOf([&] { TorchGraph graph(model); });
    qInfo("%s", msg.c_str());
    QVERIFY2(test::contains(msg, "unsupported.onnx: NonZero '/find/NonZero'"), msg.c_str());
    QVERIFY2(test::contains(msg, "3 nodes use unsupported operators: NonZero, Unique"), msg.c_str());
    QVERIFY2(test::contains(msg, "re-export"), msg.c_str());
    QCOMPARE(test::errorOf([&] { makeTorchExecutor(model); }), msg);
    QCOMPARE(torchUnsupportedOps(model), (std::vector<std::string>{"NonZero", "Unique"}));
  }

  // A shape problem that only shows at run time names the node and what it was given, without a torch dump.
  void runTimeErrorNamesNodeAndInputs() {
    Model model = Model::load(test::fixture("torch") / "tiny_bert_opset14.onnx");
    auto torch = makeTorchExecutor(model);
    // Longer than the 64 position embeddings: the position Gather reads past its table.
    const std::string msg = test::errorOf([&] { torch->run(inputsAt(model, 1, 80, 3, 500)); });
    qInfo("%s", msg.c_str());
    QVERIFY2(!msg.empty(), "an over-long sequence ran");
    QVERIFY2(test::contains(msg, "tiny_bert_opset14"), msg.c_str());
    QVERIFY2(test::contains(msg, "'/"), msg.c_str());  // a node name, as torch.onnx writes them
    QVERIFY2(!test::contains(msg, "Exception raised from") && !test::contains(msg, "frame #") &&
                 !test::contains(msg, "\n"),
             msg.c_str());
  }

  // The full real-export matrix (make_export_matrix.py), when its folder is given.
  void exportMatrix_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<bool>("clean");
    const auto files = matrixExports();
    if (files.empty()) QTest::newRow("no EDGETUNE_EXPORTS_DIR") << QString() << false;
    for (const auto& f : files) {
      const std::string stem = f.stem().string();
      QTest::newRow((stem + "/raw").c_str()) << QString::fromStdString(f.string()) << false;
      QTest::newRow((stem + "/canonical").c_str()) << QString::fromStdString(f.string()) << true;
    }
  }
  void exportMatrix() {
    QFETCH(QString, file);
    QFETCH(bool, clean);
    if (file.isEmpty()) QSKIP("set EDGETUNE_EXPORTS_DIR to make_export_matrix.py's output folder");
    Model model = Model::load(file.toStdString());
    if (clean) model = canonicalized(model);
    for (const auto& [batch, sequence] : std::vector<std::pair<int64_t, int64_t>>{{1, 128}, {2, 37}}) {
      const double diff = interpreterVsOrt(model, inputsAt(model, batch, sequence, 31, 1000));
      QVERIFY2(diff <= 1e-4, qPrintable(QString("batch %1: %2").arg(batch).arg(diff)));
    }
    checkStep(model, inputsAt(model, 2, 24, 41, 1000));
  }
};

QTEST_GUILESS_MAIN(TestTorchExports)
#include "test_torch_exports.moc"
