// Model core: loading (good and bad files), graph queries, atomic save that never overwrites the input.
#include <QtTest>

#include <atomic>
#include <fstream>
#include <memory>
#include <thread>

#include "core/ir/model.h"
#include "core/util/error.h"
#include "tests/tests_common.h"

using namespace edgetune;

namespace {
// y = Relu(x @ W + b), W [4,3]
onnx::ModelProto tinyProto() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("tiny");
  auto addVi = [](google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const char* name,
                  std::vector<int64_t> dims) {
    auto* vi = list->Add();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(1);
    for (auto d : dims) {
      auto* dim = tt->mutable_shape()->add_dim();
      if (d < 0)
        dim->set_dim_param("N");
      else
        dim->set_dim_value(d);
    }
  };
  addVi(g->mutable_input(), "x", {-1, 4});
  addVi(g->mutable_output(), "y", {-1, 3});
  Tensor w(DataType::Float32, {4, 3});
  for (size_t i = 0; i < 12; ++i) w.values<float>()[i] = 0.1f * static_cast<float>(i) - 0.5f;
  *g->add_initializer() = tensorToProto("W", w);
  *g->add_initializer() = tensorToProto("b", Tensor::from<float>({3}, std::vector<float>{0.1f, -0.2f, 0.3f}));
  auto* mm = g->add_node();
  mm->set_op_type("MatMul");
  mm->set_name("mm");
  mm->add_input("x");
  mm->add_input("W");
  mm->add_output("h");
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->set_name("add");
  add->add_input("h");
  add->add_input("b");
  add->add_output("hb");
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("relu");
  relu->add_input("hb");
  relu->add_output("y");
  return m;
}
}  // namespace

class TestModel : public QObject {
  Q_OBJECT
 private slots:
  void queries() {
    Model m = Model::fromProto(tinyProto(), "tiny");
    QCOMPARE(m.parameterCount(), 15);
    QCOMPARE(m.producer("h"), 0);
    QCOMPARE(m.producer("x"), -1);
    QCOMPARE(m.consumers("h").size(), size_t{1});
    QCOMPARE(m.topologicalOrder(), (std::vector<int>{0, 1, 2}));
    auto vi = m.valueInfo("hb");
    QVERIFY(vi && vi->has_shape);
    QCOMPARE(vi->shape, (std::vector<int64_t>{-1, 3}));
    QCOMPARE(m.inputs().size(), size_t{1});
    QVERIFY(m.isGraphOutput("y"));
  }

  // The index is built when an edit ends (reindex), not by const queries: between an edit and reindex() a
  // query answers for the graph as it was, and a shared const Model is never written.
  void indexBuiltAtEditEnd() {
    Model m = Model::fromProto(tinyProto(), "tiny");
    const uint64_t loaded = m.revision();
    QVERIFY(loaded != 0);
    auto* extra = m.graph().add_node();
    extra->set_op_type("Neg");
    extra->add_input("y");
    extra->add_output("z");
    QCOMPARE(m.producer("z"), -1);
    QCOMPARE(m.consumers("y").size(), size_t{0});
    QCOMPARE(m.revision(), loaded);
    m.reindex();
    QCOMPARE(m.producer("z"), 3);
    QCOMPARE(m.consumers("y"), (std::vector<int>{3}));
    QVERIFY(m.revision() != loaded);

    const Model copy = m;  // a copy indexes its own graph and is a revision of its own
    QCOMPARE(copy.producer("z"), 3);
    QVERIFY(copy.revision() != m.revision());
    const uint64_t before_move = m.revision();
    Model moved = std::move(m);
    QCOMPARE(moved.revision(), before_move);
    QCOMPARE(moved.producer("z"), 3);
    QVERIFY(moved.initializer("W") != nullptr);
  }

  // Readers of one const Model on several threads (the studio's jobs share the baseline) all see the same
  // index; run under ThreadSanitizer (tests/sanitizers) this is the check that they do not race.
  void concurrentReaders() {
    const auto shared = std::make_shared<const Model>(Model::fromProto(tinyProto(), "tiny"));
    std::vector<std::thread> threads;
    std::atomic<int> mismatches{0};
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 200; ++i) {
          const bool ok = shared->producer("hb") == 1 && shared->consumers("W").size() == 1 &&
                          shared->initializer("b") != nullptr &&
                          shared->topologicalOrder() == std::vector<int>{0, 1, 2};
          if (!ok) ++mismatches;
        }
      });
    for (auto& t : threads) t.join();
    QCOMPARE(mismatches.load(), 0);
  }

  void saveLoadRoundTripAndRuns() {
    test::TempDir dir;
    Model m = Model::fromProto(tinyProto(), "tiny");
    m.save(dir / "tiny.onnx");
    Model loaded = Model::load(dir / "tiny.onnx");
    QCOMPARE(loaded.parameterCount(), 15);
    auto inputs = test::randomInputs(loaded, 1, 2);
    QCOMPARE(test::compareInOrt(m, loaded, inputs), 0.0);
    // Never overwrite the input model.
    QVERIFY_THROWS_EXCEPTION(Error, loaded.save(dir / "tiny.onnx"));
  }

  void externalData() {
    test::TempDir dir;
    onnx::ModelProto p = tinyProto();
    auto* w = p.mutable_graph()->mutable_initializer(0);
    std::string bytes = w->raw_data();
    { std::ofstream(dir / "weights.bin", std::ios::binary) << bytes; }
    w->clear_raw_data();
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* loc = w->add_external_data();
    loc->set_key("location");
    loc->set_value("weights.bin");
    {
      std::ofstream out(dir / "ext.onnx", std::ios::binary);
      p.SerializeToOstream(&out);
    }
    Model m = Model::load(dir / "ext.onnx");
    QCOMPARE(tensorFromProto(*m.initializer("W")).values<float>()[11], 0.6f);
    std::filesystem::remove(dir / "weights.bin");
    try {
      Model::load(dir / "ext.onnx");
      QFAIL("missing external data was accepted");
    } catch (const Error& e) {
      QVERIFY(std::string(e.what()).find("weights.bin") != std::string::npos);
    }
  }

  void badFiles_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("expected");
    std::string good = tinyProto().SerializeAsString();
    QTest::newRow("empty") << QByteArray() << "empty";
    QTest::newRow("text") << QByteArray("hello, this is not a model\n") << "not";
    QTest::newRow("truncated") << QByteArray(good.data(), static_cast<int>(good.size() / 2)) << "corrupt";
    onnx::ModelProto unknown_op = tinyProto();
    unknown_op.mutable_graph()->mutable_node(2)->set_op_type("NoSuchOp");
    std::string s = unknown_op.SerializeAsString();
    QTest::newRow("unknown op") << QByteArray(s.data(), static_cast<int>(s.size())) << "NoSuchOp";
    // Opsets below 7 are converted up and 18..23 down (test_opset_convert); one no ONNX release has is
    // refused.
    onnx::ModelProto future_opset = tinyProto();
    future_opset.mutable_opset_import(0)->set_version(99);
    s = future_opset.SerializeAsString();
    QTest::newRow("opset") << QByteArray(s.data(), static_cast<int>(s.size())) << "opset 99";
  }
  void badFiles() {
    QFETCH(QByteArray, content);
    QFETCH(QString, expected);
    test::TempDir dir;
    auto path = dir / "bad.onnx";
    { std::ofstream(path, std::ios::binary).write(content.constData(), content.size()); }
    try {
      Model::load(path);
      QFAIL("bad file was accepted");
    } catch (const Error& e) {
      std::string msg = e.what();
      QVERIFY2(msg.find(path.string()) != std::string::npos, msg.c_str());
      QVERIFY2(msg.find(expected.toStdString()) != std::string::npos, msg.c_str());
    }
  }

  void missingFileAndDirectory() {
    test::TempDir dir;
    QVERIFY_THROWS_EXCEPTION(Error, Model::load(dir / "nope.onnx"));
    QVERIFY_THROWS_EXCEPTION(Error, Model::load(dir.path()));
  }
};

QTEST_GUILESS_MAIN(TestModel)
#include "test_model.moc"
