// QAT: the float shadow round-trips to the PTQ model exactly, QAT from post-training scales is at least as
// accurate as PTQ in ONNX Runtime, keeps the same fusable Q/DQ structure and int8 weights, and non-QDQ input
// is refused.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "core/analysis/evaluate.h"
#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/passes/quantize_passes.h"
#include "core/train/qat.h"
#include "core/util/error.h"
#include "core/zoo/zoo.h"
#include "tests/tests_common.h"
#include "tests/train/train_fixtures.h"

using namespace edgetune;
namespace fs = std::filesystem;
using test::ortAccuracy;
using test::PatternDataset;
using test::quickOptions;
using test::tinyResNet;
using test::trainedModel;

namespace {

QuantizeOptions ptqOptions() {
  QuantizeOptions q;
  q.samples = 64;
  return q;
}

Model ptqModel(const Dataset& calibration) {
  Model m = trainedModel();
  PassContext context;
  QuantizePass pass(ptqOptions());
  pass.setDataset(std::shared_ptr<const Dataset>(std::shared_ptr<const Dataset>(), &calibration));
  pass.apply(m, context);
  return m;
}

int countOps(const Model& m, const std::string& op) {
  int n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op;
  return n;
}

// Initializers by name -> (ONNX data type, raw bytes).
std::map<std::string, std::pair<int, std::string>> initializers(const Model& m) {
  std::map<std::string, std::pair<int, std::string>> out;
  for (const auto& t : m.graph().initializer())
    out[t.name()] = {t.data_type(), tensorToProto(t.name(), tensorFromProto(t)).raw_data()};
  return out;
}

// Int8 initializers read as input 0 of a DequantizeLinear whose output is a Conv/Gemm/MatMul weight.
std::set<std::string> int8Weights(const Model& m) {
  std::set<std::string> out;
  for (const auto& n : m.graph().node()) {
    if (n.op_type() != "DequantizeLinear") continue;
    for (int c : m.consumers(n.output(0))) {
      const auto& op = m.graph().node(c).op_type();
      if ((op == "Conv" || op == "Gemm" || op == "MatMul") && m.graph().node(c).input(1) == n.output(0)) {
        const auto* init = m.initializer(n.input(0));
        out.insert(init && init->data_type() == onnx::TensorProto::INT8 ? n.input(0)
                                                                        : "NOT INT8: " + n.input(0));
      }
    }
  }
  return out;
}

}  // namespace

class TestQat : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void shadowRoundTripsToPtq() {
    PatternDataset calib(64, 5), val(200, 2);
    const Model ptq = ptqModel(calib);
    Model shadow = ptq;
    const int weights = makeQatShadow(shadow);
    QVERIFY(weights >= 3);
    QCOMPARE(countOps(shadow, "QuantizeLinear"), countOps(ptq, "QuantizeLinear") + weights);
    for (const auto& name : int8Weights(shadow))
      QVERIFY2(name.rfind("NOT INT8", 0) == 0, name.c_str());  // float now
    // The shadow computes the same function: its fake-quant interpreter accuracy equals PTQ's in ORT.
    QVERIFY(std::abs(interpreterAccuracy(shadow, val) - ortAccuracy(ptq, val)) <= 0.01);
    Model folded = shadow;
    QCOMPARE(foldQatShadow(folded), weights);
    QCOMPARE(countOps(folded, "QuantizeLinear"), countOps(ptq, "QuantizeLinear"));
    QCOMPARE(countOps(folded, "DequantizeLinear"), countOps(ptq, "DequantizeLinear"));
    QVERIFY2(initializers(folded) == initializers(ptq), "fold(shadow(ptq)) differs from ptq");
  }

  void qatAtLeastAsAccurateAsPtq() {
    PatternDataset train(256, 1), calib(64, 5), val(200, 2);
    QatOptions o;
    o.train = quickOptions();
    o.train.epochs = 2;
    o.train.learning_rate = 0.01;
    o.quantize = ptqOptions();
    QatResult r = quantizationAwareTraining(trainedModel(), train, &val, calib, o);
    QCOMPARE(r.history.size(), size_t(2));
    const double ptq_acc = ortAccuracy(r.ptq_model, val), qat_acc = ortAccuracy(r.model, val);
    qInfo("float %.3f, PTQ %.3f, QAT %.3f (ORT)", ortAccuracy(trainedModel(), val), ptq_acc, qat_acc);
    QVERIFY2(qat_acc >= ptq_acc - 0.01, qPrintable(QString("PTQ %1 QAT %2").arg(ptq_acc).arg(qat_acc)));
    QVERIFY2(qat_acc >= 0.85, qPrintable(QString("QAT %1").arg(qat_acc)));
    // ORT agrees with the fake-quant training engine on the exported model.
    QVERIFY2(std::abs(qat_acc - r.final_validation_accuracy) <= 0.02,
             qPrintable(QString("ORT %1 trainer %2").arg(qat_acc).arg(r.final_validation_accuracy)));
    // Same Q/DQ structure as PTQ (so the same QLinear fusion), all weights int8, and training changed some.
    QCOMPARE(countOps(r.model, "QuantizeLinear"), countOps(r.ptq_model, "QuantizeLinear"));
    QCOMPARE(countOps(r.model, "DequantizeLinear"), countOps(r.ptq_model, "DequantizeLinear"));
    const auto w = int8Weights(r.model);
    QCOMPARE(w, int8Weights(r.ptq_model));
    QCOMPARE(static_cast<int>(w.size()), r.weights);
    for (const auto& name : w) QVERIFY2(name.rfind("NOT INT8", 0) != 0, name.c_str());
    const auto a = initializers(r.model), b = initializers(r.ptq_model);
    int changed = 0;
    for (const auto& name : w) changed += a.at(name) != b.at(name);
    QVERIFY(changed > 0);
    // Saved and reloaded, it still runs in ONNX Runtime with the same accuracy.
    test::TempDir dir;
    r.model.save(dir / "qat.onnx");
    QCOMPARE(ortAccuracy(Model::load(dir / "qat.onnx"), val), qat_acc);
  }

  void refusesNonQdqModels() {
    Model f = trainedModel();
    QVERIFY_THROWS_EXCEPTION(Error, makeQatShadow(f));
    PatternDataset data(32, 1);
    QatOptions o;
    o.train = quickOptions();
    o.quantize.mode = QuantizeMode::Dynamic;
    QVERIFY_THROWS_EXCEPTION(Error, quantizationAwareTraining(trainedModel(), data, nullptr, data, o));
  }
};

QTEST_GUILESS_MAIN(TestQat)
#include "test_qat.moc"
