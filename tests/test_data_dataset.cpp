// Dataset plumbing: seeded splits (deterministic, disjoint, complete, pinned), batches, binding features to
// model inputs (checked against real ONNX Runtime runs), subsets and dataset spec errors.
#include <QtTest>

#include <functional>
#include <set>
#include <thread>

#include "core/data/readers.h"
#include "core/ir/model.h"
#include "core/util/error.h"
#include "tests/tests_common.h"

using namespace edgetune;
using edgetune::test::contains;
using edgetune::test::errorOf;
namespace fs = std::filesystem;

namespace {

// One-node ONNX model: `op`(inputs...) -> y, with the given input infos.
Model oneNodeModel(const std::string& op, const std::vector<TensorInfo>& inputs, int output_type,
                   const std::vector<int64_t>& output_shape, const std::vector<int64_t>& axes = {}) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("one");
  auto* node = g->add_node();
  node->set_op_type(op);
  node->set_name("node");
  for (const auto& in : inputs) {
    auto* vi = g->add_input();
    vi->set_name(in.name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(static_cast<int>(in.type));
    for (auto d : in.shape) {
      auto* dim = tt->mutable_shape()->add_dim();
      if (d < 0)
        dim->set_dim_param("N");
      else
        dim->set_dim_value(d);
    }
    node->add_input(in.name);
  }
  node->add_output("y");
  if (!axes.empty()) {
    auto* a = node->add_attribute();
    a->set_name("axes");
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : axes) a->add_ints(x);
    auto* k = node->add_attribute();
    k->set_name("keepdims");
    k->set_type(onnx::AttributeProto::INT);
    k->set_i(0);
  }
  auto* out = g->add_output();
  out->set_name("y");
  auto* out_type = out->mutable_type()->mutable_tensor_type();
  out_type->set_elem_type(output_type);
  for (auto d : output_shape) {
    auto* dim = out_type->mutable_shape()->add_dim();
    if (d < 0)
      dim->set_dim_param("N");
    else
      dim->set_dim_value(d);
  }
  return Model::fromProto(m, "one-node");
}

std::shared_ptr<const WordPieceTokenizer> tinyTokenizer() {
  return std::make_shared<WordPieceTokenizer>(
      std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "movie", "very"});
}

std::shared_ptr<const Dataset> tinyTextDataset(int64_t seq_len) {
  return makeTextDataset("tiny reviews", {"good movie", "very very bad movie", "bad", "unknown good"},
                         {1, 0, 0, 1}, {"neg", "pos"}, TextOptions{tinyTokenizer(), seq_len});
}

}  // namespace

class TestDataDataset : public QObject {
  Q_OBJECT
 private slots:
  void splitIsDeterministicDisjointAndComplete_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<double>("val");
    QTest::addColumn<double>("test");
    QTest::newRow("100 10/20") << 100 << 0.1 << 0.2;
    QTest::newRow("7 rounding") << 7 << 0.25 << 0.25;
    QTest::newRow("all test") << 5 << 0.0 << 1.0;
    QTest::newRow("empty") << 0 << 0.1 << 0.1;
    QTest::newRow("one") << 1 << 0.5 << 0.0;
  }
  void splitIsDeterministicDisjointAndComplete() {
    QFETCH(int, n);
    QFETCH(double, val);
    QFETCH(double, test);
    const size_t count = static_cast<size_t>(n);
    SplitIndices a = splitIndices(count, val, test, 42);
    SplitIndices b = splitIndices(count, val, test, 42);
    QCOMPARE(a.train, b.train);
    QCOMPARE(a.validation, b.validation);
    QCOMPARE(a.test, b.test);
    QCOMPARE(a.test.size(), static_cast<size_t>(std::llround(n * test)));
    QCOMPARE(a.validation.size(),
             std::min(count - a.test.size(), static_cast<size_t>(std::llround(n * val))));
    std::set<size_t> all;
    for (const auto* list : {&a.train, &a.validation, &a.test}) all.insert(list->begin(), list->end());
    QCOMPARE(all.size(), count);                    // disjoint (no repeats) ...
    if (n > 0) QCOMPARE(*all.rbegin(), count - 1);  // ... and complete
  }

  void splitIsPinned() {
    // Pinned so a change of PRNG or shuffle (which would silently change every user's splits) fails here; the
    // values were computed independently with a Python transcription of splitmix64 + Fisher-Yates.
    SplitIndices s = splitIndices(20, 0.2, 0.25, 7);
    QCOMPARE(s.test, (std::vector<size_t>{4, 1, 2, 15, 16}));
    QCOMPARE(s.validation, (std::vector<size_t>{18, 9, 6, 13}));
    QCOMPARE(std::vector<size_t>(s.train.begin(), s.train.begin() + 4), (std::vector<size_t>{3, 8, 5, 19}));
    // Another seed gives another order.
    QVERIFY(splitIndices(20, 0.2, 0.25, 8).test != s.test);
  }

  void seededSubsetIsTheSplitOrderAndNests() {
    // One seeded choice of "N examples": the same (n, count, seed) gives the same list, a smaller count is a
    // prefix of a larger one, and the whole order is the one splitIndices cuts (so a spec's subset= and an
    // evaluation --limit agree about which examples come first).
    const std::vector<size_t> all = seededSubset(20, 0, 7);
    QCOMPARE(all.size(), size_t{20});
    QCOMPARE(std::set<size_t>(all.begin(), all.end()).size(), size_t{20});
    QCOMPARE(seededSubset(20, 5, 7), std::vector<size_t>(all.begin(), all.begin() + 5));
    QCOMPARE(seededSubset(20, 5, 7), (std::vector<size_t>{4, 1, 2, 15, 16}));  // splitIsPinned's test part
    QCOMPARE(seededSubset(20, 50, 7), all);
    QVERIFY(seededSubset(20, 5, 8) != seededSubset(20, 5, 7));
    const SplitIndices split = splitIndices(20, 0.2, 0.25, 7);
    std::vector<size_t> joined = split.test;
    joined.insert(joined.end(), split.validation.begin(), split.validation.end());
    joined.insert(joined.end(), split.train.begin(), split.train.end());
    QCOMPARE(joined, all);
    // Counts instead of fractions cut the same order.
    const SplitIndices by_count = splitIndicesByCount(20, 4, 5, 7);
    QCOMPARE(by_count.test, split.test);
    QCOMPARE(by_count.validation, split.validation);
    QCOMPARE(by_count.train, split.train);
    QCOMPARE(splitIndicesByCount(3, 10, 0, 1).validation.size(), size_t{3});  // clamped to what there is
    QVERIFY(seededSubset(0, 5, 1).empty());
  }

  void trainingSplitSpecsNameTheHeldOutExamples() {
    const std::string spec = "fashion-mnist?limit=200";
    const std::string train_spec = trainingSplitSpec(spec, TrainingSplitPart::Train, 50, 3);
    const std::string val_spec = trainingSplitSpec(spec, TrainingSplitPart::Validation, 50, 3);
    QCOMPARE(train_spec, std::string("fashion-mnist?limit=200&subset=train&val_count=50&test=0&seed=3"));
    QCOMPARE(val_spec, std::string("fashion-mnist?limit=200&subset=val&val_count=50&test=0&seed=3"));
    QCOMPARE(trainingSplitSpec(" fashion-mnist:train ", TrainingSplitPart::Train, 0, 1),
             std::string("fashion-mnist:train?subset=train&val_count=0&test=0&seed=1"));
    // val_count cuts exactly that many validation examples off the seeded order; limit= then keeps the first
    // N of each part.
    auto full = openDataset("fashion-mnist");
    auto train = openDataset(train_spec), validation = openDataset(val_spec);
    QCOMPARE(validation->size(), size_t{50});
    QCOMPARE(train->size(), size_t{200});
    const SplitIndices split = splitIndicesByCount(full->size(), 50, 0, 3);
    for (size_t i : {size_t{0}, size_t{49}})
      QCOMPARE(validation->get(i).label, full->get(split.validation[i]).label);
    for (size_t i : {size_t{0}, size_t{199}}) {
      // The spans view the examples' tensors: the examples must outlive them.
      const Example from_split = train->get(i), from_full = full->get(split.train[i]);
      auto a = from_split.features[0].values<float>();
      auto b = from_full.features[0].values<float>();
      QVERIFY(std::equal(a.begin(), a.end(), b.begin(), b.end()));
    }
    QVERIFY2(contains(validation->name(), "val_count=50"), validation->name().c_str());
    // A spec that selects a subset of its own cannot take the split's keys; val= and val_count= exclude each
    // other.
    const std::string twice = errorOf(
        [] { trainingSplitSpec("fashion-mnist?subset=train&seed=1", TrainingSplitPart::Train, 10, 1); });
    QVERIFY2(contains(twice, "subset=") && contains(twice, "fashion-mnist?subset=train&seed=1"),
             twice.c_str());
    const std::string both = errorOf([] { openDataset("fashion-mnist?subset=val&val=0.1&val_count=5"); });
    QVERIFY2(contains(both, "val= and val_count="), both.c_str());
    QVERIFY2(
        contains(errorOf([] { openDataset("fashion-mnist?val_count=5"); }), "only together with subset="),
        "val_count= without subset=");
  }

  void splitRejectsBadFractions() {
    QVERIFY_THROWS_EXCEPTION(Error, splitIndices(10, -0.1, 0.1, 0));
    QVERIFY_THROWS_EXCEPTION(Error, splitIndices(10, 0.1, 1.5, 0));
    QVERIFY_THROWS_EXCEPTION(Error, splitIndices(10, 0.6, 0.6, 0));
  }

  void batchStacksFeatures() {
    auto data = tinyTextDataset(6);
    const std::vector<size_t> indices = {3, 1};
    Batch batch = makeBatch(*data, indices);
    QCOMPARE(batch.labels, (std::vector<int64_t>{1, 0}));
    QCOMPARE(batch.features.size(), size_t{3});
    QCOMPARE(batch.features[0].name, std::string("input_ids"));
    QCOMPARE(batch.features[0].tensor.shape(), (std::vector<int64_t>{2, 6}));
    auto ids = batch.features[0].tensor.values<int64_t>();
    // "unknown good" -> [CLS] [UNK] good [SEP] [PAD] [PAD]; "very very bad movie" -> [CLS] very very bad
    // movie [SEP]
    QCOMPARE(std::vector<int64_t>(ids.begin(), ids.end()),
             (std::vector<int64_t>{2, 1, 5, 3, 0, 0, 2, 8, 8, 6, 7, 3}));
    auto mask = batch.features[1].tensor.values<int64_t>();
    QCOMPARE(std::vector<int64_t>(mask.begin(), mask.end()),
             (std::vector<int64_t>{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}));
    const std::vector<size_t> out_of_range = {0, 4};
    QVERIFY_THROWS_EXCEPTION(Error, makeBatch(*data, out_of_range));
    QVERIFY_THROWS_EXCEPTION(Error, makeBatch(*data, std::span<const size_t>()));
  }

  void bindsImagesAndRunsInOrt() {
    auto data = openDataset("fashion-mnist?limit=5");
    QCOMPARE(data->size(), size_t{5});
    // The model input's name differs from "image": single feature -> single input.
    Model model =
        oneNodeModel("ReduceMean", {{"pixels", DataType::Float32, {-1, 1, 28, 28}}}, 1, {-1}, {1, 2, 3});
    auto executor = makeOrtExecutor(model);
    checkInputsFit(executor->inputs(), data->features(), data->name());
    const std::vector<size_t> indices = {0, 1, 2, 3, 4};
    Batch batch = makeBatch(*data, indices);
    std::vector<float> expected;
    auto pixels = batch.features[0].tensor.values<float>();
    for (size_t i = 0; i < 5; ++i) {
      double sum = 0;
      for (size_t k = 0; k < 784; ++k) sum += pixels[i * 784 + k];
      expected.push_back(static_cast<float>(sum / 784));
    }
    auto bound = bindInputs(executor->inputs(), std::move(batch), data->name());
    QCOMPARE(bound.size(), size_t{1});
    QCOMPARE(bound[0].name, std::string("pixels"));
    auto out = executor->run(bound);
    auto means = out[0].values<float>();
    QCOMPARE(means.size(), size_t{5});
    for (size_t i = 0; i < 5; ++i) QVERIFY(std::abs(means[i] - expected[i]) < 1e-4f);
  }

  void bindsTextByNameAndRunsInOrt() {
    auto data = tinyTextDataset(6);
    // Inputs in another order than the features, and no token_type_ids: bound by name.
    Model model = oneNodeModel(
        "Mul", {{"attention_mask", DataType::Int64, {-1, 6}}, {"input_ids", DataType::Int64, {-1, -1}}}, 7,
        {-1, 6});
    auto executor = makeOrtExecutor(model);
    checkInputsFit(executor->inputs(), data->features(), data->name());
    const std::vector<size_t> indices = {0, 2};
    auto bound = bindInputs(executor->inputs(), makeBatch(*data, indices), data->name());
    QCOMPARE(bound[0].name, std::string("attention_mask"));
    QCOMPARE(bound[1].name, std::string("input_ids"));
    const std::vector<Tensor> outputs = executor->run(bound);
    auto y = outputs[0].values<int64_t>();
    QCOMPARE(std::vector<int64_t>(y.begin(), y.end()),
             (std::vector<int64_t>{2, 5, 7, 3, 0, 0, 2, 6, 3, 0, 0, 0}));
  }

  void bindingMismatches_data() {
    QTest::addColumn<QString>("case_name");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("type") << "type" << QStringList{"'pixels'", "'image'", "int64", "float32"};
    QTest::newRow("dimension") << "dimension" << QStringList{"'pixels'", "'image'", "dimension 2 is 32"};
    QTest::newRow("rank") << "rank" << QStringList{"'pixels'", "rank 2"};
    QTest::newRow("fixed batch") << "fixed batch"
                                 << QStringList{"'pixels'", "fixed batch of 1", "2 examples"};
    QTest::newRow("count") << "count" << QStringList{"pixels, mask", "image", "2 model inputs"};
  }
  void bindingMismatches() {
    QFETCH(QString, case_name);
    QFETCH(QStringList, expected);
    auto data = openDataset("fashion-mnist?limit=2");
    std::vector<TensorInfo> inputs = {{"pixels", DataType::Float32, {-1, 1, 28, 28}}};
    const std::string which = case_name.toStdString();
    if (which == "type") inputs[0].type = DataType::Int64;
    if (which == "dimension") inputs[0].shape = {-1, 1, 32, 32};
    if (which == "rank") inputs[0].shape = {-1, 784};
    if (which == "fixed batch") inputs[0].shape = {1, 1, 28, 28};
    if (which == "count") inputs.push_back({"mask", DataType::Float32, {-1, 1}});
    const std::vector<size_t> indices = {0, 1};
    const std::string bind_msg =
        errorOf([&] { bindInputs(inputs, makeBatch(*data, indices), data->name()); });
    QVERIFY2(!bind_msg.empty(), "a mismatched binding was accepted");
    for (const QString& part : expected) QVERIFY2(contains(bind_msg, part.toStdString()), bind_msg.c_str());
    QVERIFY2(contains(bind_msg, data->name()), bind_msg.c_str());
    const std::string check_msg = errorOf([&] { checkInputsFit(inputs, data->features(), data->name()); });
    if (which == "fixed batch") {
      QVERIFY2(check_msg.empty(), check_msg.c_str());  // the batch size is not known without data
    } else {
      QCOMPARE(check_msg, bind_msg);
    }
  }

  void subsetsViaSpec() {
    auto full = openDataset("fashion-mnist");
    auto val = openDataset("fashion-mnist?subset=val&val=0.2&test=0.3&seed=5");
    auto test = openDataset("fashion-mnist?subset=test&val=0.2&test=0.3&seed=5");
    auto train = openDataset("fashion-mnist?subset=train&val=0.2&test=0.3&seed=5");
    QCOMPARE(val->size(), size_t{2000});
    QCOMPARE(test->size(), size_t{3000});
    QCOMPARE(train->size(), size_t{5000});
    QVERIFY2(contains(val->name(), "subset val") && contains(val->name(), "seed=5"), val->name().c_str());
    // The subset is exactly splitIndices' list.
    SplitIndices split = splitIndices(10000, 0.2, 0.3, 5);
    for (size_t i : {size_t{0}, size_t{999}, size_t{1999}}) {
      const Example from_subset = val->get(i), from_full = full->get(split.validation[i]);
      auto a = from_subset.features[0].values<float>();
      auto b = from_full.features[0].values<float>();
      QVERIFY(std::equal(a.begin(), a.end(), b.begin(), b.end()));
    }
    auto limited = openDataset("fashion-mnist?subset=train&val=0.2&test=0.3&seed=5&limit=10");
    QCOMPARE(limited->size(), size_t{10});
    QCOMPARE(limited->get(9).label, full->get(split.train[9]).label);
    QCOMPARE(openDataset("fashion-mnist?limit=20000")->size(), size_t{10000});
    SubsetDataset manual(full, {5, 3}, "picked");
    QCOMPARE(manual.get(1).label, full->get(3).label);
    QVERIFY_THROWS_EXCEPTION(Error, manual.get(2));
    QVERIFY_THROWS_EXCEPTION(Error, SubsetDataset(full, {10000}, "bad"));
  }

  void concurrentGetMatchesSerial() {
    // get() is called from several threads at once by batch loaders; results must equal a serial read.
    auto data = openDataset("fashion-mnist?limit=2000");
    std::vector<std::vector<float>> serial(data->size()), parallel(data->size());
    for (size_t i = 0; i < data->size(); ++i) {
      const Example e = data->get(i);
      auto v = e.features[0].values<float>();
      serial[i].assign(v.begin(), v.end());
    }
    std::vector<std::thread> threads;
    for (size_t t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (size_t i = t; i < data->size(); i += 4) {
          const Example e = data->get(i);
          auto v = e.features[0].values<float>();
          parallel[i].assign(v.begin(), v.end());
        }
      });
    for (auto& thread : threads) thread.join();
    QVERIFY(serial == parallel);
  }

  void badSpecs_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("expected");
    QTest::newRow("empty") << ""
                           << "empty spec";
    QTest::newRow("no format") << "/usr/share/datasets/fashion-mnist"
                               << "no FORMAT";
    QTest::newRow("unknown format") << "mnist:/data"
                                    << "unknown format 'mnist'";
    QTest::newRow("missing path") << "idx:"
                                  << "missing PATH";
    QTest::newRow("missing path with keys") << "idx:?split=test"
                                            << "missing PATH";
    QTest::newRow("path does not exist") << "idx:/no/such/place?split=test"
                                         << "/no/such/place does not exist";
    QTest::newRow("unknown key") << "fashion-mnist?colour=red"
                                 << "unknown key 'colour'";
    QTest::newRow("key for another format") << "fashion-mnist?vocab=v.txt"
                                            << "unknown key 'vocab'";
    QTest::newRow("not key=value") << "fashion-mnist?limit"
                                   << "'limit' is not key=value";
    QTest::newRow("repeated key") << "fashion-mnist?limit=1&limit=2"
                                  << "given twice";
    QTest::newRow("bad integer") << "fashion-mnist?limit=ten"
                                 << "limit=ten is not an integer";
    QTest::newRow("zero limit") << "fashion-mnist?limit=0"
                                << "must be at least 1";
    QTest::newRow("bad subset") << "fashion-mnist?subset=dev"
                                << "subset=dev";
    QTest::newRow("seed without subset") << "fashion-mnist?seed=3"
                                         << "only together with subset";
    QTest::newRow("bad fraction") << "fashion-mnist?subset=val&val=1.5"
                                  << "val=1.5";
    QTest::newRow("fractions over 1") << "fashion-mnist?subset=val&val=0.6&test=0.6"
                                      << "exceed 1";
    QTest::newRow("split twice") << "fashion-mnist:train?split=test"
                                 << "already chooses";
    QTest::newRow("no split") << "idx:/usr/share/datasets/fashion-mnist"
                              << "split=train";
    QTest::newRow("bad split") << "idx:/usr/share/datasets/fashion-mnist?split=val"
                               << "split=val";
    QTest::newRow("bad mean") << "fashion-mnist?mean=0.5,x"
                              << "mean=0.5,x";
    QTest::newRow("bad classes") << "fashion-mnist?classes=emnist"
                                 << "classes=emnist";
    QTest::newRow("zero std") << "fashion-mnist?std=0"
                              << "std";
    QTest::newRow("text without vocab") << "spamassassin:/usr/share"
                                        << "vocab=PATH is required";
  }
  void badSpecs() {
    QFETCH(QString, spec);
    QFETCH(QString, expected);
    const std::string msg = errorOf([&] { openDataset(spec.toStdString()); });
    QVERIFY2(!msg.empty(), "a bad spec was accepted");
    QVERIFY2(contains(msg, expected.toStdString()), msg.c_str());
    if (expected != "std") QVERIFY2(contains(msg, "'" + spec.toStdString() + "'"), msg.c_str());
  }
};

QTEST_GUILESS_MAIN(TestDataDataset)
#include "test_data_dataset.moc"
