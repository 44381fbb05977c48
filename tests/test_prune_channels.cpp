// prune_channels: dependency groups (residual, concat, depthwise, squeeze-excitation, flatten->Gemm,
// attention heads, FFN neurons) on zoo models, hand-built graphs and real torch.onnx exports; removal is
// checked against the original model with the same channels zeroed, run in ONNX Runtime.
#include <QtTest>

#include <regex>

#include "core/ir/stats.h"
#include "core/passes/prune_channels.h"
#include "core/util/error.h"
#include "core/zoo/zoo.h"
#include "tests/prune_groups.h"
#include "tests/test_passes_builder.h"

using namespace edgetune;
using namespace edgetune::test;

namespace {

Model concatNet() {
  // x[1,3,8,8] -> convA(8) -> Relu --.
  //            -> convB(8) -> Relu -> Concat(16) -> convC(16->8) -> GAP -> Flatten -> Gemm(10)
  GraphBuilder b;
  b.input("x", {-1, 3, 8, 8}).output("logits", {-1, 10});
  b.init("a.w", randomTensor({8, 3, 3, 3}, 1)).init("a.b", randomTensor({8}, 2));
  b.init("b.w", randomTensor({8, 3, 1, 1}, 3));
  b.init("c.w", randomTensor({16, 16, 3, 3}, 4, -0.2f, 0.2f));
  b.init("fc.w", randomTensor({10, 16}, 5)).init("fc.b", randomTensor({10}, 6));
  setAttr(b.node("Conv", {"x", "a.w", "a.b"}, {"a"}, "convA"), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"a"}, {"ar"}, "reluA");
  b.node("Conv", {"x", "b.w"}, {"bb"}, "convB");
  b.node("Relu", {"bb"}, {"br"}, "reluB");
  setAttr(b.node("Concat", {"ar", "br"}, {"cat"}, "concat"), "axis", int64_t{1});
  setAttr(b.node("Conv", {"cat", "c.w"}, {"c"}, "convC"), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c"}, {"cr"}, "reluC");
  b.node("GlobalAveragePool", {"cr"}, {"gap"}, "gap");
  b.node("Flatten", {"gap"}, {"flat"}, "flatten");
  setAttr(b.node("Gemm", {"flat", "fc.w", "fc.b"}, {"logits"}, "fc"), "transB", int64_t{1});
  return b.model();
}

Model seNet() {
  // Squeeze-excitation: y = conv(x) * sigmoid(conv2(relu(conv1(GAP(conv(x)))))), then Flatten (4x4 map) ->
  // Gemm
  GraphBuilder b;
  b.input("x", {-1, 3, 4, 4}).output("logits", {-1, 5});
  b.init("w", randomTensor({16, 3, 3, 3}, 1)).init("bias", randomTensor({16}, 2));
  b.init("s1.w", randomTensor({8, 16, 1, 1}, 3)).init("s1.b", randomTensor({8}, 4));
  b.init("s2.w", randomTensor({16, 8, 1, 1}, 5)).init("s2.b", randomTensor({16}, 6));
  b.init("fc.w", randomTensor({5, 256}, 7, -0.1f, 0.1f)).init("fc.b", randomTensor({5}, 8));
  setAttr(b.node("Conv", {"x", "w", "bias"}, {"y"}, "conv"), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"y"}, {"yr"}, "relu");
  b.node("GlobalAveragePool", {"yr"}, {"g"}, "se_pool");
  b.node("Conv", {"g", "s1.w", "s1.b"}, {"s1"}, "se_fc1");
  b.node("Relu", {"s1"}, {"s1r"}, "se_relu");
  b.node("Conv", {"s1r", "s2.w", "s2.b"}, {"s2"}, "se_fc2");
  b.node("Sigmoid", {"s2"}, {"gate"}, "se_sigmoid");
  b.node("Mul", {"yr", "gate"}, {"z"}, "se_mul");
  b.node("Flatten", {"z"}, {"flat"}, "flatten");
  setAttr(b.node("Gemm", {"flat", "fc.w", "fc.b"}, {"logits"}, "fc"), "transB", int64_t{1});
  return b.model();
}

Model loadFixture(const std::string& name) {
  return Model::load(fixture("torch") / (name + ".onnx"));
}

Model buildModel(const QString& name) {
  const std::string n = name.toStdString();
  if (n == "concat") return concatNet();
  if (n == "se") return seNet();
  if (n == "resnet20") return zoo::buildZooModel("resnet20");
  if (n == "mobilenetv2") {
    zoo::ZooOptions o;
    o.width_multiplier = 0.5;
    o.image_size = 16;
    Model m = zoo::buildZooModel("mobilenetv2", o);
    // Its random features are tiny next to the classifier's bias; zero the bias so outputs show the features.
    for (const auto& node : m.graph().node())
      if (node.op_type() == "Gemm") {
        Tensor b = tensorFromProto(*m.initializer(node.input(2)));
        for (auto& v : b.values<float>()) v = 0;
        *m.mutableInitializer(node.input(2)) = tensorToProto(node.input(2), b);
      }
    return m;
  }
  if (n == "bert") {
    zoo::ZooOptions o;
    o.vocab_size = 200;
    o.hidden = 64;
    o.heads = 4;
    o.sequence_length = 16;
    return zoo::buildZooModel("bert", o);
  }
  return loadFixture(n);  // small_cnn, tiny_bert, shufflenet_v2_x0_5
}

std::vector<NamedTensor> inputsFor(const Model& m, uint64_t seed) {
  // Batch 2; sequence 12 for models with a dynamic sequence (tokens < 2 keep ids in every vocabulary).
  return randomInputs(m, seed, 2, 2);
}

using test::findGroup;
using test::prunableCount;

bool identicalOutputs(const Model& a, const Model& b, const std::vector<NamedTensor>& inputs) {
  auto oa = makeOrtExecutor(a)->run(inputs);
  auto ob = makeOrtExecutor(b)->run(inputs);
  if (oa.size() != ob.size()) return false;
  for (size_t i = 0; i < oa.size(); ++i)
    if (oa[i].byteSize() != ob[i].byteSize() || std::memcmp(oa[i].raw(), ob[i].raw(), oa[i].byteSize()) != 0)
      return false;
  return true;
}

// max |a - b| / max |a| over all outputs: relative to the actual output scale, however small (deep random
// nets produce tiny logits, where tests_common's max(1, .) floor would hide any difference).
double scaledDiff(const Model& a, const Model& b, const std::vector<NamedTensor>& inputs) {
  auto oa = makeOrtExecutor(a)->run(inputs);
  auto ob = makeOrtExecutor(b)->run(inputs);
  double diff = 0, scale = 0;
  for (size_t i = 0; i < oa.size(); ++i) {
    auto va = oa[i].values<float>(), vb = ob[i].values<float>();
    if (va.size() != vb.size()) return 1e30;
    for (size_t j = 0; j < va.size(); ++j) {
      diff = std::max(diff, static_cast<double>(std::fabs(va[j] - vb[j])));
      scale = std::max(scale, static_cast<double>(std::fabs(va[j])));
    }
  }
  return scale > 0 ? diff / scale : diff;
}

Tensor init(const Model& m, const std::string& name) {
  return tensorFromProto(*m.initializer(name));
}

}  // namespace

class TestPruneChannels : public QObject {
  Q_OBJECT
 private slots:
  void models_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("prunable");                    // golden number of prunable groups
    QTest::newRow("resnet20") << "resnet20" << 12;        // 3 residual stages + 9 inner convs
    QTest::newRow("concat") << "concat" << 3;             // convA, convB (Concat offsets), convC (into GAP)
    QTest::newRow("se") << "se" << 2;                     // main conv (with SE gate) + SE bottleneck
    QTest::newRow("mobilenetv2") << "mobilenetv2" << -1;  // checked below by kind
    QTest::newRow("bert") << "bert" << -1;
    QTest::newRow("small_cnn") << "small_cnn" << 3;  // residual stem+conv2, conv1, fc1 neurons
    QTest::newRow("tiny_bert") << "tiny_bert" << -1;
    QTest::newRow("shufflenet_v2_x0_5") << "shufflenet_v2_x0_5" << -1;
  }

  // Ratio 0 changes nothing: the same bytes out of ONNX Runtime.
  void models() {
    QFETCH(QString, name);
    QFETCH(int, prunable);
    Model original = buildModel(name);
    const auto groups = findPruneGroups(original);
    for (const auto& g : groups)
      qInfo("%s: %-60s units %3lld %s %s", qPrintable(name), g.id.c_str(), static_cast<long long>(g.units),
            g.prunable ? "prunable" : "NOT", g.reason.c_str());
    if (prunable >= 0) QCOMPARE(prunableCount(groups), prunable);
    QVERIFY(prunableCount(groups) > 0);
    Model same = original;
    PruneChannelsOptions o;
    o.ratio = 0.0;
    auto r = pruneChannels(same, o);
    QVERIFY(r.plan.empty());
    QCOMPARE(r.params_after, r.params_before);
    QVERIFY(identicalOutputs(original, same, inputsFor(original, 1)));
  }

  // The core correctness check: pruning == zeroing the same units in the original (<= 1e-4 relative).
  void removalEqualsZeroing_data() { models_data(); }
  void removalEqualsZeroing() {
    QFETCH(QString, name);
    Model original = buildModel(name);
    PruneChannelsOptions o;
    o.ratio = 0.5;
    o.round_to = name == "concat" || name == "se" || name == "small_cnn" ? 1 : 8;
    const ChannelPlan plan = planChannelPruning(original, o);
    QVERIFY(!plan.empty());
    Model pruned = original;
    auto r = applyChannelPlan(pruned, plan);
    Model zeroed = original;
    zeroChannelPlan(zeroed, plan);
    QVERIFY(r.params_after < r.params_before);
    QVERIFY(r.macs_after < r.macs_before);
    qInfo("%s: params %lld -> %lld, MACs %lld -> %lld", qPrintable(name),
          static_cast<long long>(r.params_before), static_cast<long long>(r.params_after),
          static_cast<long long>(r.macs_before), static_cast<long long>(r.macs_after));
    pruned.check();
    // Interface unchanged: inputs and outputs keep names and shapes.
    QCOMPARE(pruned.outputs().size(), original.outputs().size());
    for (size_t i = 0; i < original.outputs().size(); ++i)
      QCOMPARE(pruned.outputs()[i].shape, original.outputs()[i].shape);
    for (size_t i = 0; i < original.inputs().size(); ++i)
      QCOMPARE(pruned.inputs()[i].shape, original.inputs()[i].shape);
    for (uint64_t seed : {1u, 2u}) {
      const auto inputs = inputsFor(original, seed);
      const double diff = scaledDiff(zeroed, pruned, inputs);
      QVERIFY2(diff <= 1e-4, ("relative difference " + std::to_string(diff)).c_str());
      // and zeroing really changed the model (the check is not vacuous)
      const double effect = scaledDiff(original, zeroed, inputs);
      qInfo("%s: pruning changes outputs by %.3g, removal vs zeroing differs by %.3g", qPrintable(name),
            effect, diff);
      QVERIFY(effect > 1e-3);
    }
    // Group units shrank as planned; round_to respected for channel groups.
    const auto after = findPruneGroups(pruned);
    for (const auto& g : r.groups) {
      if (g.units_after == g.units_before) continue;
      QVERIFY(g.units_after > 0);
    }
    QVERIFY(!after.empty());
  }

  // Independent reference for a residual network: zero the producing convs' weights and BatchNorm beta/mean
  // so the channel is exactly zero after BN, the residual Add and ReLU, then compare with removal.
  void residualProducerSideZeroing() {
    Model original = zoo::buildZooModel("resnet20");
    const auto groups = findPruneGroups(original);
    const PruneGroup* stage = nullptr;
    for (const auto& g : groups)
      if (g.prunable && g.producers.size() > 2 && !stage) stage = &g;  // the first residual stage
    QVERIFY(stage);
    QCOMPARE(stage->units, int64_t(16));
    ChannelPlan plan{{stage->id, {0, 3, 5, 6, 9, 10, 12, 15}}};
    Model zeroed = original;
    zeroed.reindex();
    for (const auto& producer : stage->producers) {
      for (int n = 0; n < zeroed.graph().node_size(); ++n) {
        const auto& conv = zeroed.graph().node(n);
        if (conv.name() != producer) continue;
        Tensor w = init(zeroed, conv.input(1));
        const int64_t block = w.numel() / w.shape()[0];
        for (auto c : plan.begin()->second)
          for (int64_t k = 0; k < block; ++k) w.values<float>()[c * block + k] = 0;
        *zeroed.mutableInitializer(conv.input(1)) = tensorToProto(conv.input(1), w);
        const auto& bn = zeroed.graph().node(zeroed.consumers(conv.output(0))[0]);
        QCOMPARE(QString::fromStdString(bn.op_type()), QString("BatchNormalization"));
        for (int slot : {2, 3}) {  // beta, running mean
          Tensor t = init(zeroed, bn.input(slot));
          for (auto c : plan.begin()->second) t.values<float>()[c] = 0;
          *zeroed.mutableInitializer(bn.input(slot)) = tensorToProto(bn.input(slot), t);
        }
      }
    }
    Model pruned = original;
    applyChannelPlan(pruned, plan);
    const double diff = scaledDiff(zeroed, pruned, inputsFor(original, 3));
    QVERIFY2(diff <= 1e-4, ("relative difference " + std::to_string(diff)).c_str());
    QVERIFY(scaledDiff(original, pruned, inputsFor(original, 3)) > 1e-3);
  }

  void depthwiseInLockstep() {
    Model m = buildModel("mobilenetv2");
    PruneChannelsOptions o;
    o.ratio = 0.5;
    pruneChannels(m, o);
    int depthwise = 0;
    for (const auto& node : m.graph().node()) {
      if (node.op_type() != "Conv" || attrInt(node, "group", 1) == 1) continue;
      ++depthwise;
      Tensor w = init(m, node.input(1));
      QCOMPARE(attrInt(node, "group", 1), w.shape()[0]);  // still depthwise: group == channels
      QCOMPARE(w.shape()[1], int64_t(1));
    }
    QVERIFY(depthwise > 0);
  }

  void concatOffsets() {
    Model m = concatNet();
    ChannelPlan plan{{"channels:convA", {1, 2}}, {"channels:convB", {0, 7}}};
    Model pruned = m;
    applyChannelPlan(pruned, plan);
    QCOMPARE(init(pruned, "c.w").shape(), (std::vector<int64_t>{16, 12, 3, 3}));
    // convC's input channels are [A0 A3..A7 | B1..B6]: offsets of the second branch start at 8 in the
    // original.
    Tensor before = init(m, "c.w"), after = init(pruned, "c.w");
    const std::vector<int64_t> kept = {0, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14};
    for (size_t k = 0; k < kept.size(); ++k)
      for (int i = 0; i < 9; ++i)
        QCOMPARE(after.values<float>()[k * 9 + i], before.values<float>()[kept[k] * 9 + i]);
  }

  void attentionHeadsAndNeurons_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("bert") << "bert";
    QTest::newRow("tiny_bert") << "tiny_bert";
  }
  void attentionHeadsAndNeurons() {
    QFETCH(QString, name);
    Model m = buildModel(name);
    const auto groups = findPruneGroups(m);
    QCOMPARE(prunableCount(groups, "heads"), 2);  // one per layer
    int ffn = 0;
    for (const auto& g : groups) {
      if (g.kind == "heads") {
        QVERIFY(g.unit_size > 1);
        QCOMPARE(g.producers.size(), size_t(3));  // Q, K, V
      }
      ffn += g.prunable && g.kind == "neurons" && g.id.find("intermediate") != std::string::npos;
    }
    QCOMPARE(ffn, 2);
    // Hidden size (residual stream through LayerNorm) must never be prunable.
    for (const auto& g : groups)
      if (g.id.find("attention/output") != std::string::npos ||
          g.id.find("attention_output") != std::string::npos || g.id.find("/output/") != std::string::npos)
        QVERIFY2(!g.prunable, g.id.c_str());
    PruneChannelsOptions o;
    o.ratio = 0.5;
    Model pruned = m;
    auto r = pruneChannels(pruned, o);
    for (const auto& g : r.groups)
      if (g.id.rfind("heads:", 0) == 0) QCOMPARE(g.units_after * 2, g.units_before);
    // Runs with a longer sequence too (dynamic shapes survive).
    const auto inputs = randomInputs(m, 5, 2, 2);
    QVERIFY(compareInOrt(m, pruned, inputs) < 10);  // runs at all
    QVERIFY(computeStats(pruned).macs < computeStats(m).macs * 0.7);
  }

  void shufflenetShuffleIsUnprunable() {
    Model m = loadFixture("shufflenet_v2_x0_5");
    const auto groups = findPruneGroups(m);
    // Every block ends in Concat -> Reshape -> Transpose -> Reshape (channel shuffle), then a Split/Slice of
    // the channels: the convs feeding that (branch1.2, branch2.5) must be unprunable, with a reason.
    int shuffled = 0;
    for (const auto& g : groups) {
      bool feeds_shuffle = false;
      for (const auto& p : g.producers)
        feeds_shuffle = feeds_shuffle || p.find("branch2.5/Conv") != std::string::npos ||
                        p.find("branch1.2/Conv") != std::string::npos;
      if (!feeds_shuffle) continue;
      ++shuffled;
      QVERIFY2(!g.prunable, g.id.c_str());
      QVERIFY(!g.reason.empty());
    }
    QCOMPARE(shuffled, 16 + 3);  // branch2.5 of 16 blocks + branch1.2 of the 3 down-sampling blocks
    // Channels that enter the channel shuffle are untouched by pruning at any ratio.
    PruneChannelsOptions o;
    o.ratio = 0.5;
    Model pruned = m;
    auto plan = planChannelPruning(m, o);
    for (const auto& [id, _] : plan) QVERIFY(findGroup(groups, id)->prunable);
    applyChannelPlan(pruned, plan);
    auto out = makeOrtExecutor(pruned)->run(inputsFor(m, 1));
    QCOMPARE(out[0].shape(), (std::vector<int64_t>{2, m.outputs()[0].shape[1]}));
  }

  void negativeCases() {
    Model m = zoo::buildZooModel("resnet20");
    PruneChannelsOptions o;
    o.ratio = 0.5;
    o.protect = {"layer2"};
    Model pruned = m;
    pruneChannels(pruned, o);
    // Protected layers keep their weights bit for bit.
    for (const auto& node : m.graph().node()) {
      if (node.op_type() != "Conv" || node.name().find("layer2") == std::string::npos) continue;
      Tensor a = init(m, node.input(1)), b = init(pruned, node.input(1));
      QCOMPARE(a.shape(), b.shape());
      QVERIFY(std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0);
    }
    // The input's channels and the output classes are never touched.
    const auto& first = pruned.graph().node(0);
    QCOMPARE(first.op_type(), std::string("Conv"));
    QCOMPARE(init(pruned, first.input(1)).shape()[1], int64_t(3));
    for (const auto& node : pruned.graph().node())
      if (node.op_type() == "Gemm") QCOMPARE(init(pruned, node.input(1)).shape()[0], int64_t(10));
    QCOMPARE(pruned.outputs()[0].shape, m.outputs()[0].shape);
    // Per-group override and rounding: layer1 stage at 0.5 keeps 8 of 16; round_to never gives zero.
    QCOMPARE(keptUnits(16, 0.5, 8), int64_t(8));
    QCOMPARE(keptUnits(16, 0.9, 8), int64_t(8));
    QCOMPARE(keptUnits(4, 0.9, 8), int64_t(4));  // fewer than N: never rounded to zero, nothing pruned
    QCOMPARE(keptUnits(64, 0.3, 8), int64_t(48));
    QCOMPARE(keptUnits(16, 0.3, 8),
             int64_t(16));  // 11.2 kept rounds up: rounding never prunes more than asked
    QCOMPARE(keptUnits(32, 0.4, 8), int64_t(24));  // 19.2 -> 24, not 16
    QCOMPARE(keptUnits(16, 0.3, 1), int64_t(11));
    QCOMPARE(keptUnits(12, 0.5, 8, 64), int64_t(6));  // heads are not rounded
    // Bad plans and options are clear errors.
    Model x = m;
    QVERIFY_THROWS_EXCEPTION(Error, applyChannelPlan(x, {{"no-such-group", {0}}}));
    const auto groups = findPruneGroups(m);
    const PruneGroup* out_group = nullptr;
    for (const auto& g : groups)
      if (!g.prunable) out_group = &g;
    QVERIFY(out_group);
    QVERIFY_THROWS_EXCEPTION(Error, applyChannelPlan(x, {{out_group->id, {0}}}));
    std::vector<int64_t> all(16);
    std::iota(all.begin(), all.end(), 0);
    QVERIFY_THROWS_EXCEPTION(Error, applyChannelPlan(x, {{groups[0].id, all}}));
    o = {};
    o.per_group["nothing-like-this"] = 0.5;
    QVERIFY_THROWS_EXCEPTION(Error, planChannelPruning(m, o));
    o = {};
    o.criterion = PruneCriterion::Taylor;  // needs gradients
    QVERIFY_THROWS_EXCEPTION(Error, planChannelPruning(m, o));
  }

  void criteriaRankDifferently() {
    Model m = zoo::buildZooModel("resnet20");
    const auto groups = findPruneGroups(m);
    auto l1 = scoreUnits(m, PruneCriterion::L1);
    auto l2 = scoreUnits(m, PruneCriterion::L2);
    QCOMPARE(l1.size(), groups.size());
    const auto& id = groups[1].id;
    QVERIFY(l1[id] != l2[id]);
    // Taylor through the extension point: gradient = weight gives |w*w| = L2 scores.
    GradientFunction grad = [&](const std::string& name) -> std::optional<Tensor> { return init(m, name); };
    auto taylor = scoreUnits(m, PruneCriterion::Taylor, grad);
    for (size_t i = 0; i < l2[id].size(); ++i)
      QVERIFY(std::fabs(taylor[id][i] - l2[id][i]) < 1e-6 * (1 + l2[id][i]));
    // BN gamma: zoo BatchNorms start at gamma 1, so every unit of a BN group scores its BN count.
    auto bn = scoreUnits(m, PruneCriterion::BatchNorm);
    for (double s : bn[id]) QVERIFY(s >= 1.0);
    // Lowest-L1 units are the ones removed.
    PruneChannelsOptions o;
    o.ratio = 0.5;
    o.per_group[id] = 0.5;
    auto plan = planChannelPruning(m, o);
    const auto& removed = plan.at(id);
    double max_removed = 0, min_kept = 1e30;
    for (int64_t u = 0; u < static_cast<int64_t>(l1[id].size()); ++u) {
      if (std::find(removed.begin(), removed.end(), u) != removed.end())
        max_removed = std::max(max_removed, l1[id][u]);
      else
        min_kept = std::min(min_kept, l1[id][u]);
    }
    QVERIFY(max_removed <= min_kept);
  }
};

QTEST_GUILESS_MAIN(TestPruneChannels)
#include "test_prune_channels.moc"
