// Statistics recovery: a per-channel affine damage (what pruning a layer's inputs does to its output
// statistics) is undone exactly in as many rounds as the network is deep; channel-pruned copies map their
// channels to the reference by bias; what cannot be corrected is named. Real ONNX Runtime throughout.
#include <QtTest>

#include "core/passes/prune_channels.h"
#include "core/tuning/statistics_recovery.h"
#include "core/util/error.h"
#include "tests/random_dataset.h"
#include "tests/test_passes_builder.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::test;

namespace {

// x[N,3,8,8] -> convA(16) -> Relu -> convB(16) -> Relu -> GAP -> Flatten -> Gemm(4). Biases are distinct
// random values, as trained biases are.
Model chainNet() {
  GraphBuilder b;
  b.input("x", {-1, 3, 8, 8}).output("logits", {-1, 4});
  b.init("a.w", randomTensor({16, 3, 3, 3}, 1)).init("a.b", randomTensor({16}, 2));
  b.init("b.w", randomTensor({16, 16, 3, 3}, 3, -0.3f, 0.3f)).init("b.b", randomTensor({16}, 4));
  b.init("fc.w", randomTensor({4, 16}, 5)).init("fc.b", randomTensor({4}, 6));
  setAttr(b.node("Conv", {"x", "a.w", "a.b"}, {"a"}, "convA"), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"a"}, {"ar"}, "reluA");
  setAttr(b.node("Conv", {"ar", "b.w", "b.b"}, {"bb"}, "convB"), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"bb"}, {"br"}, "reluB");
  b.node("GlobalAveragePool", {"br"}, {"gap"}, "gap");
  b.node("Flatten", {"gap"}, {"flat"}, "flatten");
  setAttr(b.node("Gemm", {"flat", "fc.w", "fc.b"}, {"logits"}, "fc"), "transB", int64_t{1});
  return b.model();
}

std::shared_ptr<const Dataset> dataFor(const Model& model, size_t size) {
  return RandomDataset::forModel(model, resolveInputShapes(model, {{"x", {1, 3, 8, 8}}}), size);
}

// Scales output channel c of Conv weight `name` by (1 + 0.5 c / C) and shifts its bias by 0.3: a damage
// whose per-channel statistics differ from the reference's by an affine map.
void damageChannels(Model& model, const std::string& weight, const std::string& bias) {
  Tensor w = tensorFromProto(*model.initializer(weight));
  Tensor b = tensorFromProto(*model.initializer(bias));
  const auto channels = static_cast<size_t>(w.shape()[0]);
  const size_t per_channel = static_cast<size_t>(w.numel()) / channels;
  for (size_t c = 0; c < channels; ++c) {
    const float scale = 1.f + 0.5f * static_cast<float>(c) / static_cast<float>(channels);
    for (size_t k = 0; k < per_channel; ++k) w.values<float>()[c * per_channel + k] *= scale;
    b.values<float>()[c] += 0.3f;
  }
  *model.mutableInitializer(weight) = tensorToProto(weight, w);
  *model.mutableInitializer(bias) = tensorToProto(bias, b);
}

}  // namespace

class TestStatisticsRecovery : public QObject {
  Q_OBJECT

 private slots:
  void affineDamageIsUndoneRoundByRound() {
    const Model reference = chainNet();
    Model damaged = reference;
    damageChannels(damaged, "a.w", "a.b");
    const auto inputs = randomInputs(reference, 7, 2);
    const double before = compareInOrt(reference, damaged, inputs);
    QVERIFY2(before > 0.05, std::to_string(before).c_str());

    StatisticsRecoveryOptions options;
    options.samples = 64;
    options.rounds = 4;
    std::vector<double> shifts;
    const auto data = dataFor(reference, 64);
    const auto result = recoverChannelStatistics(reference, damaged, *data, options, nullptr,
                                                 [&](const StatisticsRecoveryResult& so_far) {
                                                   shifts.push_back(so_far.rounds.back().mean_abs_shift);
                                                 });
    QCOMPARE(result.rounds.size(), size_t{4});
    QCOMPARE(shifts.size(), size_t{4});
    QCOMPARE(result.corrected, (std::vector<std::string>{"convA", "convB", "fc"}));
    QVERIFY(result.skipped.empty());
    // Round 1 corrects convA exactly (its inputs are the reference's) and convB and fc from statistics their
    // damaged inputs gave; round 2 makes convB exact, round 3 fc. So the shift measured before round 4 is
    // rounding noise.
    QVERIFY2(shifts[0] > 0.1, std::to_string(shifts[0]).c_str());
    QVERIFY2(shifts[3] < 1e-3, std::to_string(shifts[3]).c_str());
    const double after = compareInOrt(reference, result.model, inputs);
    QVERIFY2(after < 1e-3 * before, (std::to_string(before) + " -> " + std::to_string(after)).c_str());
    // The inputs are untouched.
    QVERIFY(compareInOrt(reference, damaged, inputs) == before);
  }

  void channelPrunedCopyMapsChannelsByBias() {
    const Model reference = chainNet();
    Model pruned = reference;
    PruneChannelsOptions prune;
    prune.ratio = 0.5;
    prune.round_to = 1;
    const auto pruning = pruneChannels(pruned, prune);
    QVERIFY(pruning.prunedAnything());
    QVERIFY(pruned.initializer("a.b")->dims(0) < 16);

    StatisticsRecoveryOptions options;
    options.samples = 48;
    options.rounds = 3;
    options.batch_size = 16;
    const auto data = dataFor(reference, 48);
    const auto result = recoverChannelStatistics(reference, pruned, *data, options);
    QCOMPARE(result.corrected, (std::vector<std::string>{"convA", "convB", "fc"}));
    QCOMPARE(result.rounds.size(), size_t{3});
    // convA's surviving channels see the reference's inputs, so it needs no correction: its biases stay.
    const Tensor a_before = tensorFromProto(*pruned.initializer("a.b"));
    const Tensor a_after = tensorFromProto(*result.model.initializer("a.b"));
    QVERIFY(relativeMaxDiff({a_before}, {a_after}) < 1e-4);
    // The correction moved convB (its inputs lost channels), and the model still runs with the same outputs'
    // shapes.
    const Tensor b_before = tensorFromProto(*pruned.initializer("b.b"));
    const Tensor b_after = tensorFromProto(*result.model.initializer("b.b"));
    QVERIFY(relativeMaxDiff({b_before}, {b_after}) > 1e-3);
    QVERIFY(result.rounds.back().mean_abs_shift < result.rounds.front().mean_abs_shift);
    const auto inputs = randomInputs(reference, 3, 2);
    QVERIFY(std::isfinite(compareInOrt(reference, result.model, inputs)));
  }

  void ambiguousBiasesAreSkippedNotGuessed() {
    Model reference = chainNet();
    // convB's biases all equal: after pruning its channels, which ones survived cannot be read off them.
    Tensor equal(DataType::Float32, {16});
    for (auto& v : equal.values<float>()) v = 0.25f;
    *reference.mutableInitializer("b.b") = tensorToProto("b.b", equal);
    Model pruned = reference;
    PruneChannelsOptions prune;
    prune.ratio = 0.5;
    prune.round_to = 1;
    pruneChannels(pruned, prune);
    StatisticsRecoveryOptions options;
    options.samples = 16;
    options.rounds = 1;
    const auto data = dataFor(reference, 16);
    const auto result = recoverChannelStatistics(reference, pruned, *data, options);
    QVERIFY(result.skipped.count("convB"));
    QVERIFY2(contains(result.skipped.at("convB"), "ambiguous"), result.skipped.at("convB").c_str());
  }

  void whatCannotBeCorrectedIsNamed() {
    const Model reference = chainNet();
    const auto data = dataFor(reference, 8);
    StatisticsRecoveryOptions options;
    options.samples = 0;
    QVERIFY(contains(errorOf([&] { recoverChannelStatistics(reference, reference, *data, options); }),
                     "samples must be positive"));
    options = {};
    options.rounds = 0;
    QVERIFY(contains(errorOf([&] { recoverChannelStatistics(reference, reference, *data, options); }),
                     "rounds must be at least 1"));

    // Weights computed by DequantizeLinear: a quantized model, which the message says to recover before
    // quantizing.
    GraphBuilder b;
    b.input("x", {-1, 3, 8, 8}).output("y", {-1, 4, 8, 8});
    Tensor q(DataType::Int8, {4, 3, 1, 1});
    b.init("w.q", q).init("w.scale", randomTensor({1}, 2, 0.1f, 0.2f)).init("bias", randomTensor({4}, 3));
    b.node("DequantizeLinear", {"w.q", "w.scale"}, {"w"}, "dq");
    b.node("Conv", {"x", "w", "bias"}, {"y"}, "conv");
    const Model quantized = b.model();
    const auto q_data = dataFor(quantized, 8);
    const std::string error = errorOf(
        [&] { recoverChannelStatistics(quantized, quantized, *q_data, StatisticsRecoveryOptions{}); });
    QVERIFY2(contains(error, "quantized") && contains(error, "then quantize"), error.c_str());
  }
};

QTEST_GUILESS_MAIN(TestStatisticsRecovery)
#include "test_statistics_recovery.moc"
