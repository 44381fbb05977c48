// The profile overlay: ONNX Runtime profile names (exact, NCHWc "<tensor>_nchwc", "fused <name>",
// "_token_<n>", ORT-only nodes) mapped to a hand-built graph's nodes, fused chains walked back only through
// single-consumer tensors; then the real thing: the x86-64 runner's profile of the ResNet-20 demo model.
#include <QtTest>

#include <cmath>

#include "core/deploy/device_benchmark.h"
#include "core/deploy/profile_overlay.h"
#include "core/ir/model.h"
#include "tests/test_passes_builder.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::deploy;
namespace fs = std::filesystem;

namespace {
// x -> conv1 -> bn1 -> relu1 -> conv2 -> c2 ; c2 -> conv3 -> c3 ; c3 feeds relu3 AND add (two readers) ; fc.
Model chainModel() {
  test::GraphBuilder b;
  b.input("x", {1, 3, 8, 8}).input("w", {3, 3, 1, 1}).output("y", {1, 10});
  for (const char* p : {"s", "b", "m", "v"}) b.input(p, {3});
  b.node("Conv", {"x", "w"}, {"c1"}, "conv1");
  b.node("BatchNormalization", {"c1", "s", "b", "m", "v"}, {"bn1_out"}, "bn1");
  b.node("Relu", {"bn1_out"}, {"relu1_out"}, "relu1");
  b.node("Conv", {"relu1_out", "w"}, {"c2"}, "conv2");
  b.node("Conv", {"c2", "w"}, {"c3"}, "conv3");
  b.node("Relu", {"c3"}, {"relu3_out"}, "relu3");
  b.node("Add", {"c3", "relu3_out"}, {"sum"}, "add");
  b.node("Gemm", {"sum", "w"}, {"y"}, "fc");
  return b.model();
}
int nodeIndex(const Model& m, const std::string& name) {
  for (int i = 0; i < m.graph().node_size(); ++i)
    if (m.graph().node(i).name() == name) return i;
  return -1;
}
}  // namespace

class TestDeployOverlay : public QObject {
  Q_OBJECT
 private slots:
  void namesMapToNodes_data() {
    QTest::addColumn<QString>("profile_name");
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("node");  // "" = unmatched
    QTest::addColumn<QStringList>("fused");
    QTest::newRow("exact") << "fc"
                           << "Gemm"
                           << "fc" << QStringList{};
    QTest::newRow("nchwc after conv+bn") << "bn1_out_nchwc"
                                         << "Conv"
                                         << "conv1" << QStringList{"bn1"};
    QTest::newRow("nchwc after conv+bn+relu") << "relu1_out_nchwc"
                                              << "Conv"
                                              << "conv1" << QStringList{"bn1", "relu1"};
    QTest::newRow("fused prefix") << "fused conv2"
                                  << "FusedConv"
                                  << "conv2" << QStringList{};
    QTest::newRow("token suffix") << "conv2_token_7"
                                  << "Conv"
                                  << "conv2" << QStringList{};
    QTest::newRow("quantized op name") << "conv2_quant"
                                       << "QLinearConv"
                                       << "conv2" << QStringList{};
    QTest::newRow("own node name, plain output") << "c3_nchwc"
                                                 << "Conv"
                                                 << "conv3" << QStringList{};
    // c3 has two readers, so relu3 cannot have been fused into conv3: relu3 keeps its own time.
    QTest::newRow("no fusion across a fork") << "relu3_out_nchwc"
                                             << "Conv"
                                             << "relu3" << QStringList{};
    QTest::newRow("ORT-only node") << "ReorderOutput"
                                   << "ReorderOutput"
                                   << "" << QStringList{};
    QTest::newRow("ORT-only with token") << "ReorderInput_token_3"
                                         << "ReorderInput"
                                         << "" << QStringList{};
  }
  void namesMapToNodes() {
    QFETCH(QString, profile_name);
    QFETCH(QString, op);
    QFETCH(QString, node);
    QFETCH(QStringList, fused);
    const Model m = chainModel();
    const ProfileMatch match = matchProfile(m, {{profile_name.toStdString(), op.toStdString(), 40, 4, 10.0}});
    QCOMPARE(match.profiled_total_us, int64_t{40});
    if (node.isEmpty()) {
      QCOMPARE(match.unmatched.size(), size_t{1});
      QCOMPARE(match.matched_total_us, int64_t{0});
      for (auto us : match.node_total_us) QCOMPARE(us, int64_t{-1});
      return;
    }
    QVERIFY(match.unmatched.empty());
    const int target = nodeIndex(m, node.toStdString());
    for (int i = 0; i < m.graph().node_size(); ++i) {
      QCOMPARE(match.node_total_us[i], i == target ? int64_t{40} : int64_t{-1});
      const bool should_fuse = fused.contains(QString::fromStdString(m.graph().node(i).name()));
      QCOMPARE(match.fused_into[i], should_fuse ? target : -1);
    }
  }

  void sharesSumOverMatchedNodes() {
    const Model m = chainModel();
    DeviceBenchmark bench;
    bench.profile = {{"relu1_out_nchwc", "Conv", 500, 10, 50},
                     {"conv2", "Conv", 300, 10, 30},
                     {"conv2_token_1", "Conv", 100, 10, 10},  // two entries for one node add up
                     {"ReorderOutput", "ReorderOutput", 100, 10, 10}};
    const auto share = deviceLatencyShare(m, bench);
    QCOMPARE(share.size(), size_t{8});
    QCOMPARE(share[nodeIndex(m, "conv1")], 0.5);
    QCOMPARE(share[nodeIndex(m, "conv2")], 0.4);
    QVERIFY(std::isnan(share[nodeIndex(m, "bn1")]));  // fused: no entry of its own
    QVERIFY(std::isnan(share[nodeIndex(m, "fc")]));
    // Empty profile: nothing to show, no division by zero.
    for (double s : deviceLatencyShare(m, DeviceBenchmark{})) QVERIFY(std::isnan(s));
  }

  // The runner's real ORT profile of the demo ResNet-20, run locally (the SSH path is in test_ui_deploy).
  void realRunnerProfile() {
    const fs::path runner = fs::path(EDGETUNE_BINARY_DIR) / "bin" / "edgetune-runner";
    if (!fs::exists(runner)) QSKIP("edgetune-runner is not built in this build folder");
    const fs::path model_path =
        fs::path(EDGETUNE_SOURCE_DIR) / "resources" / "models" / "resnet20_fmnist.onnx";
    QProcess p;
    p.start(QString::fromStdString(runner.string()),
            {QString::fromStdString(model_path.string()), "--runs", "3", "--warmup", "1", "--profile"});
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(p.exitCode(), 0);
    const DeviceBenchmark bench = parseRunnerOutput(p.readAllStandardOutput().toStdString());
    QVERIFY(!bench.profile.empty());
    const Model model = Model::load(model_path);
    const auto share = deviceLatencyShare(model, bench);
    double sum = 0;
    for (int i = 0; i < model.graph().node_size(); ++i) {
      if (!std::isnan(share[i])) sum += share[i];
      if (model.graph().node(i).op_type() == "Conv")
        QVERIFY2(!std::isnan(share[i]), model.graph().node(i).name().c_str());
    }
    QVERIFY2(sum > 0.95 && sum <= 1.0 + 1e-9, qPrintable(QString::number(sum)));
    // Every BatchNormalization was folded into the Conv before it (that is what ORT does on CPU).
    const ProfileMatch match = matchProfile(model, bench.profile);
    for (int i = 0; i < model.graph().node_size(); ++i)
      if (model.graph().node(i).op_type() == "BatchNormalization") {
        QVERIFY2(match.fused_into[i] >= 0, model.graph().node(i).name().c_str());
        QCOMPARE(model.graph().node(match.fused_into[i]).op_type(), std::string("Conv"));
      }
  }
};

QTEST_GUILESS_MAIN(TestDeployOverlay)
#include "test_deploy_overlay.moc"
