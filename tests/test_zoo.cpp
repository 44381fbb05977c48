// Model zoo and GraphBuilder: exact parameter counts, valid ONNX that runs in ONNX Runtime at several batch
// sizes, torch.onnx-style names, PyTorch-style init, determinism, options, BERT masking, and bad options.
#include <QtTest>

#include <cmath>
#include <map>
#include <set>

#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/zoo/graph_builder.h"
#include "core/zoo/model_source.h"
#include "core/zoo/zoo.h"
#include "tests/tests_common.h"

using namespace edgetune;
using edgetune::test::contains;
using edgetune::test::errorOf;
using namespace edgetune::zoo;

Q_DECLARE_METATYPE(edgetune::zoo::ZooOptions)

namespace {

int countOps(const Model& m, const std::string& op_type) {
  int n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op_type;
  return n;
}

bool hasNode(const Model& m, const std::string& name) {
  for (const auto& node : m.graph().node())
    if (node.name() == name) return true;
  return false;
}

// Multiply-accumulates of Conv and Gemm per sample, from the inferred output shapes.
int64_t convAndGemmMacs(const Model& m) {
  int64_t macs = 0;
  for (const auto& node : m.graph().node()) {
    if (node.op_type() != "Conv" && node.op_type() != "Gemm") continue;
    auto out = m.valueInfo(node.output(0));
    auto w = m.valueInfo(node.input(1));
    if (!out || !out->has_shape || !w) return -1;
    int64_t out_elements = 1;
    for (size_t i = 1; i < out->shape.size(); ++i) out_elements *= out->shape[i];
    int64_t per_output = 1;  // Conv: in/groups * kh * kw; Gemm (transB): in
    for (size_t i = 1; i < w->shape.size(); ++i) per_output *= w->shape[i];
    macs += out_elements * per_output;
  }
  return macs;
}

// Rows [begin, end) of a batch tensor (leading dimension) as a new tensor.
Tensor rows(const Tensor& t, int64_t begin, int64_t end) {
  std::vector<int64_t> shape = t.shape();
  const size_t row_bytes = t.byteSize() / static_cast<size_t>(shape[0]);
  shape[0] = end - begin;
  Tensor out(t.type(), shape);
  std::memcpy(out.raw(), static_cast<const std::byte*>(t.raw()) + begin * row_bytes, out.byteSize());
  return out;
}

ZooOptions smallBert() {
  ZooOptions o;
  o.vocab_size = 50;
  o.hidden = 32;
  o.layers = 2;
  o.heads = 4;
  o.max_positions = 16;
  o.sequence_length = 8;
  o.classes = 3;
  return o;
}

}  // namespace

class TestZoo : public QObject {
  Q_OBJECT
 private slots:
  void resnet18ExactCountAndMacs() {
    // The one full-size build: conv1 1,728 + bn1 128; layer1 4x36,864 + 4 BN x128 = 147,968;
    // layer2 73,728 + 3x147,456 + projection 8,192 + 5 BN x256 = 525,568; layer3 294,912 + 3x589,824 + 32,768
    // + 5x512 = 2,099,712; layer4 1,179,648 + 3x2,359,296 + 131,072 + 5x1,024 = 8,393,728; fc 5,130.
    Model m = buildZooModel("resnet18", {});
    QCOMPARE(m.parameterCount(), int64_t{11'173'962});
    const int64_t macs = convAndGemmMacs(m);
    QVERIFY2(macs > 550'000'000 && macs < 570'000'000, std::to_string(macs).c_str());
    QCOMPARE(countOps(m, "Conv"), 20);  // 1 stem + 16 in blocks + 3 projections
    QCOMPARE(countOps(m, "MaxPool"), 0);
    QVERIFY(hasNode(m, "/layer1/layer1.0/conv1/Conv"));
    QVERIFY(hasNode(m, "/layer2/layer2.0/downsample/downsample.0/Conv"));
    QVERIFY(hasNode(m, "/fc/Gemm"));
    QVERIFY(m.isInitializer("layer1.0.conv1.weight"));
    QVERIFY(m.isInitializer("layer4.1.bn2.running_var"));
    // PyTorch default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), here fan_in = 64 * 3 * 3.
    Tensor w = tensorFromProto(*m.initializer("layer1.0.conv1.weight"));
    const float bound = 1.0f / std::sqrt(576.0f);
    float lo = 1, hi = -1;
    for (float v : w.values<float>()) lo = std::min(lo, v), hi = std::max(hi, v);
    QVERIFY(lo >= -bound && hi <= bound);
    QVERIFY(lo < -0.99f * bound && hi > 0.99f * bound);  // uses the whole range: not a narrower init
    for (const char* name : {"bn1.weight", "bn1.running_var", "bn1.bias", "bn1.running_mean"}) {
      const Tensor t = tensorFromProto(*m.initializer(name));
      const float expected =
          std::string(name).ends_with("weight") || std::string(name).ends_with("var") ? 1 : 0;
      for (float v : t.values<float>()) QCOMPARE(v, expected);
    }
  }

  void resnet18OneInputChannel() {
    // Only the stem changes: 1x64x3x3 = 576 weights instead of 1,728, so 11,173,962 - 1,152 = 11,172,810.
    ZooOptions o;
    o.input_channels = 1;
    o.image_size = 28;
    Model m = buildZooModel("resnet18", o);
    QCOMPARE(m.parameterCount(), int64_t{11'172'810});
    QCOMPARE(m.inputs().at(0).shape, (std::vector<int64_t>{-1, 1, 28, 28}));
  }

  void cifarResNetCounts() {
    // ResNet-20: conv1 432 + bn 32; stage 1: 6 convs x 2,304 + 6 BN x 32 = 14,016; stage 2: 4,608 + 5x9,216
    // + 6 BN x 64 + projection 512 + 64 = 51,648; stage 3: 18,432 + 5x36,864 + 6x128 + 2,048 + 128 = 205,696;
    // fc 650. Total 272,474 (269,722 with option A's parameter-free shortcuts).
    Model m20 = buildZooModel("resnet20", {});
    QCOMPARE(m20.parameterCount(), int64_t{272'474});
    QCOMPARE(countOps(m20, "Conv"), 19 + 2);
    QVERIFY(hasNode(m20, "/layer3/layer3.2/relu_1/Relu"));
    QVERIFY(!hasNode(m20, "/layer3/layer3.3/relu_1/Relu"));
    // Depth 6n+2 has 6n+1 convs plus 2 projections.
    QCOMPARE(countOps(buildZooModel("resnet8", {}), "Conv"), 7 + 2);
    CifarResNetOptions o56;
    o56.depth = 56;
    o56.width_multiplier = 0.25;  // only the structure matters here
    o56.image_size = 8;
    QCOMPARE(countOps(buildCifarResNet(o56), "Conv"), 55 + 2);
  }

  void runsInOrt_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<ZooOptions>("options");
    QTest::addColumn<int>("sequence");  // >0: run BERT at this sequence length (dynamic S)
    ZooOptions o;
    o.width_multiplier = 0.125;
    o.image_size = 16;
    o.classes = 7;
    QTest::newRow("resnet18") << "resnet18" << o << 0;
    o.width_multiplier = 0.5;
    QTest::newRow("resnet8") << "resnet8" << o << 0;
    QTest::newRow("resnet20") << "resnet20" << o << 0;
    o.width_multiplier = 0.25;
    o.image_size = 8;
    QTest::newRow("resnet56") << "resnet56" << o << 0;
    o.image_size = 32;
    o.input_channels = 1;
    QTest::newRow("mobilenetv2") << "mobilenetv2" << o << 0;
    o.image_size = 12;
    o.hidden_sizes = {32, 16};
    QTest::newRow("mlp") << "mlp" << o << 0;
    QTest::newRow("bert") << "bert" << smallBert() << 0;
    ZooOptions dyn = smallBert();
    dyn.dynamic_sequence = true;
    QTest::newRow("bert dynamic S=5") << "bert" << dyn << 5;
    QTest::newRow("bert dynamic S=16") << "bert" << dyn << 16;
  }
  void runsInOrt() {
    QFETCH(QString, arch);
    QFETCH(ZooOptions, options);
    QFETCH(int, sequence);
    Model m = buildZooModel(arch.toStdString(), options);
    QCOMPARE(m.proto().ir_version(), int64_t{8});
    QCOMPARE(m.opsetVersion(), int64_t{17});
    std::set<std::string> names;
    for (const auto& node : m.graph().node()) {
      QVERIFY2(node.name().size() > 1 && node.name()[0] == '/', node.name().c_str());
      QVERIFY2(names.insert(node.name()).second, ("duplicate node name " + node.name()).c_str());
    }
    for (const auto& in : m.inputs()) QCOMPARE(in.dim_names.at(0), std::string("N"));
    QCOMPARE(m.outputs().size(), size_t{1});
    QCOMPARE(m.outputs()[0].name, std::string("logits"));
    QCOMPARE(m.outputs()[0].dim_names.at(0), std::string("N"));
    QCOMPARE(m.outputs()[0].shape, (std::vector<int64_t>{-1, options.classes}));

    auto ort = makeOrtExecutor(m);
    auto inputs3 = test::randomInputs(m, 11, 3, 2);  // int inputs in {0, 1}: valid ids, masks and token types
    if (sequence > 0)
      for (auto& in : inputs3) {
        // randomInputs would give S the batch size; build [3, sequence] tensors of 0/1 instead.
        Tensor t(DataType::Int64, {3, sequence});
        auto values = t.values<int64_t>();
        for (size_t i = 0; i < values.size(); ++i)
          values[i] = static_cast<int64_t>((i * 7 + in.name.size()) % 3 % 2);
        in.tensor = t;
      }
    auto out3 = ort->run(inputs3);
    QCOMPARE(out3.size(), size_t{1});
    QCOMPARE(out3[0].shape(), (std::vector<int64_t>{3, options.classes}));
    for (float v : out3[0].values<float>()) QVERIFY(std::isfinite(v));
    // Batch 1 on the last sample gives that sample's row of the batch-3 result: samples do not mix.
    std::vector<NamedTensor> inputs1;
    for (const auto& in : inputs3) inputs1.push_back({in.name, rows(in.tensor, 2, 3)});
    auto out1 = ort->run(inputs1);
    QCOMPARE(out1[0].shape(), (std::vector<int64_t>{1, options.classes}));
    QVERIFY(test::relativeMaxDiff(out1, {rows(out3[0], 2, 3)}) < 1e-5);
    // Different samples give different logits (the input reaches the output).
    QVERIFY(test::relativeMaxDiff({rows(out3[0], 0, 1)}, {rows(out3[0], 1, 2)}) > 0 ||
            test::relativeMaxDiff({rows(out3[0], 0, 1)}, {rows(out3[0], 2, 3)}) > 0);
  }

  void deterministicWeights_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<ZooOptions>("options");
    ZooOptions o;
    o.width_multiplier = 0.25;
    QTest::newRow("resnet20") << "resnet20" << o;
    QTest::newRow("mobilenetv2") << "mobilenetv2" << o;
    QTest::newRow("mlp") << "mlp" << o;
    QTest::newRow("bert") << "bert" << smallBert();
  }
  void deterministicWeights() {
    QFETCH(QString, arch);
    QFETCH(ZooOptions, options);
    const std::string a = buildZooModel(arch.toStdString(), options).serialize();
    QCOMPARE(buildZooModel(arch.toStdString(), options).serialize(), a);
    options.seed = 1;
    Model other = buildZooModel(arch.toStdString(), options);
    QVERIFY(other.serialize() != a);
    QCOMPARE(other.serialize().size(), a.size());  // same graph, other weights
  }

  void modelSources() {
    // One parser for the CLI, the studio and recipes: every option has a key, width= included.
    const ZooSource source =
        parseZooSource("zoo:resnet20?width=0.5&classes=4&input_channels=5&image_size=16&seed=3");
    QCOMPARE(source.arch, std::string("resnet20"));
    QCOMPARE(source.options.width_multiplier, 0.5);
    QCOMPARE(source.options.classes, int64_t{4});
    QCOMPARE(source.options.input_channels, int64_t{5});
    QCOMPARE(source.options.image_size, int64_t{16});
    QCOMPARE(source.options.seed, uint64_t{3});
    QCOMPARE(parseZooSource("zoo:bert?seq_len=32&dynamic_sequence=1").options.sequence_length, int64_t{32});
    QCOMPARE(parseZooSource("zoo:mlp?width_multiplier=0.25").options.width_multiplier, 0.25);
    QCOMPARE(zooArchitecture("zoo:resnet8?classes=10"), std::string("resnet8"));
    QCOMPARE(zooArchitecture("zoo:mlp"), std::string("mlp"));
    QCOMPARE(zooArchitecture("model.onnx"), std::string());
    const Model loaded =
        loadModelSource("zoo:resnet20?width=0.5&classes=4&input_channels=5&image_size=16&seed=3");
    QCOMPARE(loaded.serialize(), buildZooModel(source.arch, source.options).serialize());
    const std::string unknown = test::errorOf([] { parseZooSource("zoo:resnet20?depth=2"); });
    QVERIFY2(test::contains(unknown, "unknown key 'depth'") && test::contains(unknown, "width"),
             unknown.c_str());
    const std::string not_number = test::errorOf([] { parseZooSource("zoo:resnet20?width=half"); });
    QVERIFY2(test::contains(not_number, "width=half is not a number"), not_number.c_str());
  }

  void widthMultiplierAndChannels() {
    ZooOptions o;
    o.width_multiplier = 0.5;
    o.input_channels = 5;
    o.classes = 4;
    Model m = buildZooModel("resnet20", o);
    QCOMPARE(m.inputs().at(0).shape, (std::vector<int64_t>{-1, 5, 32, 32}));
    QCOMPARE(m.valueInfo("conv1.weight")->shape, (std::vector<int64_t>{8, 5, 3, 3}));
    QCOMPARE(m.valueInfo("fc.weight")->shape, (std::vector<int64_t>{4, 32}));
    // Halving the widths divides the conv weights by about 4.
    o.width_multiplier = 1.0;
    const double ratio = static_cast<double>(buildZooModel("resnet20", o).parameterCount()) /
                         static_cast<double>(m.parameterCount());
    QVERIFY2(ratio > 3.5 && ratio < 4.1, std::to_string(ratio).c_str());

    MobileNetV2Options mo;
    mo.width_multiplier = 0.5;
    Model mb = buildMobileNetV2(mo);
    QCOMPARE(mb.valueInfo("features.0.0.weight")->shape, (std::vector<int64_t>{16, 3, 3, 3}));
    // Block 2 (expansion 6): 1x1 expand, 3x3 depthwise with group = channels, 1x1 linear projection, no Clip.
    QCOMPARE(mb.valueInfo("features.2.conv.1.0.weight")->shape, (std::vector<int64_t>{48, 1, 3, 3}));
    QVERIFY(hasNode(mb, "/features/features.2/conv/conv.2/Conv"));
    QVERIFY(!hasNode(mb, "/features/features.2/conv/conv.3/Clip"));
    QVERIFY(hasNode(mb, "/features/features.3/Add"));    // stride 1, same width: residual
    QVERIFY(!hasNode(mb, "/features/features.2/Add"));   // width changes: none
    QCOMPARE(countOps(mb, "Clip"), 1 + 1 + 16 * 2 + 1);  // stem, block 1 (t=1), 16 expanded blocks, last conv
    int depthwise = 0;
    for (const auto& node : mb.graph().node())
      depthwise += node.op_type() == "Conv" && attrInt(node, "group", 1) > 1;
    QCOMPARE(depthwise, 17);

    MlpOptions mlp;
    mlp.hidden_sizes = {20, 10, 5};
    mlp.classes = 3;
    Model mm = buildMlp(mlp);
    QCOMPARE(countOps(mm, "Gemm"), 4);
    QCOMPARE(countOps(mm, "Relu"), 3);
    QCOMPARE(mm.parameterCount(), int64_t{784 * 20 + 20 + 20 * 10 + 10 + 10 * 5 + 5 + 5 * 3 + 3});
  }

  void bertStructure_data() {
    QTest::addColumn<int>("layers");
    QTest::addColumn<int>("heads");
    QTest::newRow("1 layer, 2 heads") << 1 << 2;
    QTest::newRow("3 layers, 8 heads") << 3 << 8;
  }
  void bertStructure() {
    QFETCH(int, layers);
    QFETCH(int, heads);
    BertOptions o;
    o.vocab_size = 40;
    o.hidden = 32;
    o.layers = layers;
    o.heads = heads;
    o.max_positions = 20;
    o.sequence_length = 6;
    o.classes = 4;
    Model m = buildBert(o);
    QCOMPARE(countOps(m, "Softmax"), layers);
    QCOMPARE(countOps(m, "Erf"), layers);
    QCOMPARE(countOps(m, "LayerNormalization"), 2 * layers + 1);
    QCOMPARE(countOps(m, "MatMul"), 8 * layers + 2);  // Q K V QK^T PV out FFN1 FFN2; pooler, classifier
    QCOMPARE(countOps(m, "Tanh"), 1);
    Tensor split = tensorFromProto(*m.initializer("bert.encoder.layer.0.attention.self.split_heads_shape"));
    QCOMPARE(std::vector<int64_t>(split.values<int64_t>().begin(), split.values<int64_t>().end()),
             (std::vector<int64_t>{0, 0, heads, 32 / heads}));
    QVERIFY(hasNode(m, "/bert/encoder/layer.0/attention/self/query/MatMul"));
    QVERIFY(hasNode(m, "/bert/embeddings/LayerNorm/LayerNormalization"));
    QCOMPARE(m.valueInfo("bert.encoder.layer.0.attention.self.query.weight")->shape,
             (std::vector<int64_t>{32, 32}));
    QCOMPARE(m.valueInfo("bert.encoder.layer.0.intermediate.dense.weight")->shape,
             (std::vector<int64_t>{32, 128}));  // intermediate defaults to 4 * hidden, stored [in, out]
    for (const auto& node : m.graph().node())
      if (node.op_type() == "LayerNormalization") QCOMPARE(attrFloat(node, "epsilon", 0), 1e-12f);
    // Hand count: embeddings 40*32 + 20*32 + 2*32 + LN 64; per layer 4*(32*32+32) + 2*64 (LNs)
    // + 32*128+128 + 128*32+32; pooler 32*32+32; classifier 32*4+4.
    const int64_t per_layer = 4 * (32 * 32 + 32) + 2 * 64 + (32 * 128 + 128) + (128 * 32 + 32);
    QCOMPARE(m.parameterCount(),
             int64_t{40 * 32 + 20 * 32 + 2 * 32 + 64} + layers * per_layer + (32 * 32 + 32) + (32 * 4 + 4));
    // BERT init: N(0, 0.02) for weights, zero biases.
    Tensor w = tensorFromProto(*m.initializer("bert.encoder.layer.0.intermediate.dense.weight"));
    double sum = 0, sum_sq = 0;
    for (float v : w.values<float>()) sum += v, sum_sq += double(v) * v;
    const double n = static_cast<double>(w.numel());
    QVERIFY(std::fabs(sum / n) < 0.002);
    QVERIFY(std::fabs(std::sqrt(sum_sq / n) - 0.02) < 0.001);
    const Tensor bias = tensorFromProto(*m.initializer("classifier.bias"));
    for (float v : bias.values<float>()) QCOMPARE(v, 0.0f);
  }

  void bertAttentionMaskMasks() {
    BertOptions o;
    o.vocab_size = 50;
    o.hidden = 32;
    o.layers = 2;
    o.heads = 4;
    o.max_positions = 16;
    o.sequence_length = 8;
    o.classes = 3;
    o.seed = 5;
    Model m = buildBert(o);
    auto ort = makeOrtExecutor(m);
    std::vector<int64_t> ids = {2, 17, 33, 8, 41, 0, 0, 0};
    const std::vector<int64_t> mask = {1, 1, 1, 1, 1, 0, 0, 0};
    const std::vector<int64_t> types = {0, 0, 0, 1, 1, 0, 0, 0};
    auto run = [&](const std::vector<int64_t>& token_ids) {
      return ort->run({{"input_ids", Tensor::from<int64_t>({1, 8}, token_ids)},
                       {"attention_mask", Tensor::from<int64_t>({1, 8}, mask)},
                       {"token_type_ids", Tensor::from<int64_t>({1, 8}, types)}});
    };
    auto base = run(ids);
    auto padded_changed = ids;
    padded_changed[6] = 29;  // a masked position
    // Exactly 0 here (exp(-10000) underflows to 0); without the mask it is about 1e-4.
    QVERIFY(test::relativeMaxDiff(base, run(padded_changed)) < 1e-7);
    auto attended_changed = ids;
    attended_changed[3] = 29;  // an attended position (not the pooled first token)
    QVERIFY2(test::relativeMaxDiff(base, run(attended_changed)) > 1e-6,  // logits are ~0.01, this is ~1e-4
             std::to_string(test::relativeMaxDiff(base, run(attended_changed))).c_str());
  }

  void badOptions_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<ZooOptions>("options");
    QTest::addColumn<QString>("expected");
    ZooOptions zero_classes;
    zero_classes.classes = 0;
    for (const auto& arch : zooArchitectures())
      QTest::newRow(("zero classes " + arch).c_str())
          << QString::fromStdString(arch) << zero_classes << "classes";
    ZooOptions bad_heads = smallBert();
    bad_heads.heads = 5;
    QTest::newRow("heads do not divide hidden") << "bert" << bad_heads << "heads (5) must divide hidden (32)";
    ZooOptions too_long = smallBert();
    too_long.sequence_length = 17;
    QTest::newRow("sequence > positions") << "bert" << too_long << "max_positions";
    ZooOptions zero_width;
    zero_width.width_multiplier = 0;
    QTest::newRow("zero width") << "resnet20" << zero_width << "width_multiplier";
    ZooOptions no_channels;
    no_channels.input_channels = 0;
    QTest::newRow("no channels") << "mobilenetv2" << no_channels << "input_channels";
    ZooOptions bad_hidden;
    bad_hidden.hidden_sizes = {16, -1};
    QTest::newRow("bad hidden size") << "mlp" << bad_hidden << "hidden_sizes[1]";
    QTest::newRow("unknown arch")
        << "resnet19" << ZooOptions{}
        << "unknown model architecture 'resnet19' (valid: resnet18, resnet8, resnet20, "
           "resnet56, mobilenetv2, mlp, bert)";
  }
  void badOptions() {
    QFETCH(QString, arch);
    QFETCH(ZooOptions, options);
    QFETCH(QString, expected);
    const std::string msg = errorOf([&] { buildZooModel(arch.toStdString(), options); });
    QVERIFY2(msg.find(expected.toStdString()) != std::string::npos, msg.c_str());
  }

  void cifarDepthMustBe6nPlus2() {
    CifarResNetOptions o;
    o.depth = 21;
    QVERIFY(errorOf([&] { buildCifarResNet(o); }).find("6n+2") != std::string::npos);
  }

  void graphBuilderForTestGraphs() {
    GraphBuilder g("tiny");
    const std::string x = g.addInput("x", DataType::Float32, {"N", 4});
    const std::string w =
        g.addInitializer("w", Tensor::from<float>({4, 2}, std::vector<float>{1, 0, 0, 1, 1, 0, 0, 1}));
    std::string h = g.addNode("MatMul", "/fc/MatMul", {x, w});
    QCOMPARE(h, std::string("/fc/MatMul_output_0"));
    h = g.addNode("Relu", "/relu/Relu", {h});
    const std::string y = g.addNode("Relu", "/relu/Relu", {h}, {}, "y");  // same base name: made unique
    g.addOutput(y, DataType::Float32, {"N", 2});
    QVERIFY(errorOf([&] {
              g.addInitializer("w", Tensor(DataType::Float32, {1}));
            }).find("'w' is already used") != std::string::npos);
    QVERIFY(errorOf([&] { g.addNode("Relu", "/bad", {"nope"}); }).find("'nope'") != std::string::npos);
    QVERIFY(errorOf([&] { g.addOutput("missing", DataType::Float32, {"N"}); }).find("missing") !=
            std::string::npos);
    QVERIFY(errorOf([&] { g.addNode("Relu", "/again", {h}, {}, "y"); }).find("writes 'y'") !=
            std::string::npos);
    Model m = g.finish();
    QVERIFY(hasNode(m, "/relu/Relu") && hasNode(m, "/relu/Relu_1"));
    QCOMPARE(m.valueInfo("/fc/MatMul_output_0")->shape, (std::vector<int64_t>{-1, 2}));  // shapes inferred
    auto out = makeOrtExecutor(m)->run(
        {{"x", Tensor::from<float>({2, 4}, std::vector<float>{1, -2, 3, -4, -1, 2, -3, 4})}});
    // x @ w = [x0 + x2, x1 + x3]; then Relu.
    QCOMPARE(std::vector<float>(out[0].values<float>().begin(), out[0].values<float>().end()),
             (std::vector<float>{4, 0, 0, 6}));
  }

  void graphBuilderFinishChecksTheGraph() {
    GraphBuilder g("broken");
    const std::string x = g.addInput("x", DataType::Float32, {"N", 4});
    const std::string y = g.addNode("NoSuchOp", "/bad/NoSuchOp", {x});
    g.addOutput(y, DataType::Float32, {"N", 4});
    const std::string msg = errorOf([&] { g.finish(); });
    QVERIFY2(msg.find("NoSuchOp") != std::string::npos, msg.c_str());
  }
};

QTEST_GUILESS_MAIN(TestZoo)
#include "test_zoo.moc"
