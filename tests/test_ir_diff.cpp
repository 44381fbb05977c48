// The IR diff: node-level differences of two tiny hand-built models (removed, added, changed op, shape and
// precision), and nothing at all against itself.
#include <QtTest>

#include "core/ir/ir_diff.h"
#include "tests/test_passes_builder.h"

using namespace edgetune;
using namespace edgetune::test;

namespace {

// x[1,3,8,8] -> conv -> relu -> pool (GlobalAveragePool) -> flat -> cast (to float) -> y[1,4]
Model beforeModel() {
  GraphBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 4});
  b.init("W", randomTensor({4, 3, 3, 3}, 1));
  b.node("Conv", {"x", "W"}, {"c"}, "conv");
  b.node("Relu", {"c"}, {"r"}, "relu");
  b.node("GlobalAveragePool", {"r"}, {"p"}, "pool");
  b.node("Flatten", {"p"}, {"f"}, "flat");
  setAttr(b.node("Cast", {"f"}, {"y"}, "cast"), "to", int64_t{onnx::TensorProto::FLOAT});
  return b.model();
}

// The same names where a node survives: conv gains a bias (a shape change), relu becomes a Sigmoid (an op
// change), pool is replaced by a new node gmax, flat is untouched, cast now casts to float16 (precision).
Model afterModel() {
  GraphBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 4}, onnx::TensorProto::FLOAT16);
  b.init("W", randomTensor({4, 3, 3, 3}, 1)).init("B", randomTensor({4}, 2));
  b.node("Conv", {"x", "W", "B"}, {"c"}, "conv");
  b.node("Sigmoid", {"c"}, {"r"}, "relu");
  b.node("GlobalMaxPool", {"r"}, {"p"}, "gmax");
  b.node("Flatten", {"p"}, {"f"}, "flat");
  setAttr(b.node("Cast", {"f"}, {"y"}, "cast"), "to", int64_t{onnx::TensorProto::FLOAT16});
  return b.model();
}

}  // namespace

class TestIrDiff : public QObject {
  Q_OBJECT
 private slots:
  void classifiesEveryKindOfChange() {
    const Model before = beforeModel(), after = afterModel();
    const GraphDiff diff = diffModels(before, after);
    const std::map<int, NodeDiff> expected = {{0, NodeDiff::ChangedShape},
                                              {1, NodeDiff::ChangedOp},
                                              {2, NodeDiff::Removed},
                                              {4, NodeDiff::ChangedPrecision}};
    QVERIFY(diff.before_nodes == expected);  // node 3 (flat) is unchanged, so absent
    QCOMPARE(diff.added, std::vector<std::string>{"gmax"});
    QCOMPARE(diff.removed, 1);
    QCOMPARE(diff.changed_op, 1);
    QCOMPARE(diff.changed_shape, 1);
    QCOMPARE(diff.changed_precision, 1);
  }

  void reverseDiffSeesTheOtherSide() {
    // Against the other direction the new node is the removed one and the old one is added.
    const GraphDiff diff = diffModels(afterModel(), beforeModel());
    QCOMPARE(diff.before_nodes.at(2), NodeDiff::Removed);
    QCOMPARE(diff.added, std::vector<std::string>{"pool"});
  }

  void identicalModelsHaveNoDiff() {
    const Model m = beforeModel();
    const GraphDiff diff = diffModels(m, m);
    QVERIFY(diff.before_nodes.empty());
    QVERIFY(diff.added.empty());
    QCOMPARE(diff.removed + diff.changed_op + diff.changed_shape + diff.changed_precision, 0);
  }
};

QTEST_GUILESS_MAIN(TestIrDiff)
#include "test_ir_diff.moc"
