// Trainer: learning on a small synthetic image task, reproducibility, checkpoint resume, cancellation, ONNX
// Runtime parity after write-back, distillation, head replacement with freezing, and refusals of bad input.
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <random>

#include "core/analysis/evaluate.h"
#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/train/trainer.h"
#include "core/train/transfer.h"
#include "core/util/error.h"
#include "core/zoo/zoo.h"
#include "tests/tests_common.h"
#include "tests/train/train_fixtures.h"

using namespace edgetune;
namespace fs = std::filesystem;
using test::ortAccuracy;
using test::PatternDataset;
using test::quickOptions;
using test::tinyMlp;
using test::tinyResNet;

namespace {

// Every float initializer's bytes, by name.
std::map<std::string, std::string> weights(const Model& m) {
  std::map<std::string, std::string> out;
  for (const auto& init : m.graph().initializer())
    if (init.data_type() == onnx::TensorProto::FLOAT) out[init.name()] = init.raw_data();
  return out;
}

// Mean KL(teacher || student) of the softmax outputs over `data`, both run in ONNX Runtime.
double meanKl(const Model& teacher, const Model& student, const Dataset& data) {
  auto t = makeOrtExecutor(teacher), s = makeOrtExecutor(student);
  std::vector<size_t> all(data.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  Batch b = makeBatch(data, all);
  auto tin = bindInputs(t->inputs(), b, data.name());
  auto sin = bindInputs(s->inputs(), b, data.name());
  Tensor tl = t->run(tin)[0], sl = s->run(sin)[0];
  const int64_t n = tl.shape()[0], c = tl.shape()[1];
  auto tv = tl.values<float>(), sv = sl.values<float>();
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    auto logSoftmax = [&](std::span<const float> row, std::vector<double>& out) {
      double mx = row[0];
      for (float v : row) mx = std::max(mx, static_cast<double>(v));
      double sum = 0;
      for (float v : row) sum += std::exp(v - mx);
      out.clear();
      for (float v : row) out.push_back(v - mx - std::log(sum));
    };
    std::vector<double> lt, ls;
    logSoftmax(tv.subspan(static_cast<size_t>(i * c), static_cast<size_t>(c)), lt);
    logSoftmax(sv.subspan(static_cast<size_t>(i * c), static_cast<size_t>(c)), ls);
    for (int64_t k = 0; k < c; ++k) total += std::exp(lt[k]) * (lt[k] - ls[k]);
  }
  return total / static_cast<double>(n);
}

}  // namespace

class TestTrainer : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void learnsPatterns_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("optimizer");
    QTest::addColumn<bool>("augment");
    QTest::newRow("mlp sgd") << "mlp"
                             << "sgd" << false;
    QTest::newRow("mlp adamw") << "mlp"
                               << "adamw" << false;
    QTest::newRow("resnet8 sgd augment") << "resnet8"
                                         << "sgd" << true;
  }
  void learnsPatterns() {
    QFETCH(QString, arch);
    QFETCH(QString, optimizer);
    QFETCH(bool, augment);
    PatternDataset train(256, 1), val(128, 2);
    Model model = arch == "mlp" ? tinyMlp(3) : tinyResNet(3);
    TrainOptions o = quickOptions();
    o.optimizer = fromString<OptimizerKind>(optimizer.toStdString());
    if (o.optimizer == OptimizerKind::AdamW) o.learning_rate = 0.01;
    o.augment.enabled = augment;
    o.augment.crop_padding = 1;
    o.label_smoothing = 0.05;
    const double before = interpreterAccuracy(model, val);
    TrainResult r = trainModel(model, train, &val, o);
    QCOMPARE(r.history.size(), size_t(3));
    QVERIFY2(r.history.back().train_loss < r.history.front().train_loss, "the loss did not decrease");
    QVERIFY2(r.final_validation_accuracy >= 0.9,
             qPrintable(
                 QString("validation accuracy %1 (before %2)").arg(r.final_validation_accuracy).arg(before)));
    QVERIFY(r.final_validation_accuracy > before);
  }

  void sameSeedSameWeights() {
    PatternDataset train(128, 1);
    TrainOptions o = quickOptions();
    o.epochs = 2;
    o.augment.enabled = true;
    o.augment.crop_padding = 1;
    auto a = weights(trainModel(tinyResNet(5), train, nullptr, o).model);
    auto b = weights(trainModel(tinyResNet(5), train, nullptr, o).model);
    QVERIFY(a == b);
    o.seed = 8;  // another data order and augmentation must change the result
    auto c = weights(trainModel(tinyResNet(5), train, nullptr, o).model);
    QVERIFY(a != c);
    QVERIFY(a != weights(tinyResNet(5)));  // and training changed the weights at all
  }

  void resumeMatchesUninterruptedRun_data() {
    QTest::addColumn<QString>("optimizer");
    QTest::newRow("sgd") << "sgd";
    QTest::newRow("adamw") << "adamw";
  }
  void resumeMatchesUninterruptedRun() {
    QFETCH(QString, optimizer);
    PatternDataset train(96, 1);
    TrainOptions o = quickOptions();
    o.optimizer = fromString<OptimizerKind>(optimizer.toStdString());
    o.augment.enabled = true;
    o.augment.crop_padding = 1;
    const auto straight = weights(trainModel(tinyResNet(5), train, nullptr, o).model);

    test::TempDir dir;
    o.checkpoint_dir = (dir / "ckpt").string();
    o.resume = true;
    JobContext job;
    // Interrupt after epoch 2 (the checkpoint of epoch 2 is written before the callback runs).
    QVERIFY_THROWS_EXCEPTION(CancelledError,
                             trainModel(tinyResNet(5), train, nullptr, o, &job, [&](const EpochStats& s) {
                               if (s.epoch == 2) job.cancel();
                             }));
    QVERIFY(fs::exists(dir / "ckpt" / "state.json"));
    TrainResult resumed = trainModel(tinyResNet(5), train, nullptr, o);
    QCOMPARE(resumed.resumed_from_epoch, 2);
    QCOMPARE(resumed.history.size(), size_t(3));
    QVERIFY2(weights(resumed.model) == straight, "resumed run differs from the uninterrupted one");

    // A checkpoint made with other options is refused rather than silently mixed.
    o.batch_size = 8;
    QVERIFY_THROWS_EXCEPTION(Error, trainModel(tinyResNet(5), train, nullptr, o));
  }

  void cancellationStopsPromptlyWithoutOutput() {
    PatternDataset train(256, 1);
    TrainOptions o = quickOptions();
    o.epochs = 50;
    test::TempDir dir;
    o.checkpoint_dir = (dir / "ckpt").string();
    int reports = 0;
    JobContext* self = nullptr;
    JobContext job(
        [&](const Progress&) {
          if (++reports == 3) self->cancel();
        },
        std::chrono::milliseconds(0));
    self = &job;
    QVERIFY_THROWS_EXCEPTION(CancelledError, trainModel(tinyMlp(1), train, nullptr, o, &job));
    QCOMPARE(reports, 3);  // one report per step: it stopped at the very next step
    QVERIFY(!fs::exists(dir / "ckpt") || fs::is_empty(dir / "ckpt"));  // no epoch completed, nothing written
  }

  void writtenBackModelMatchesInOrt() {
    PatternDataset train(256, 1), val(200, 2);
    TrainOptions o = quickOptions();
    o.epochs = 2;
    TrainResult r = trainModel(tinyResNet(4), train, &val, o);
    const double ort = ortAccuracy(r.model, val);
    const double torch = interpreterAccuracy(r.model, val);
    QVERIFY2(std::abs(ort - r.final_validation_accuracy) <= 0.001,
             qPrintable(QString("ORT %1 vs trainer %2").arg(ort).arg(r.final_validation_accuracy)));
    QCOMPARE(torch, r.final_validation_accuracy);
    // The saved file is a valid model that loads and gives the same accuracy.
    test::TempDir dir;
    r.model.save(dir / "trained.onnx");
    QCOMPARE(ortAccuracy(Model::load(dir / "trained.onnx"), val), ort);
  }

  void distillationMovesStudentTowardTeacher() {
    PatternDataset train(256, 1), probe(64, 9);
    TrainOptions o = quickOptions();
    TrainResult teacher = trainModel(tinyResNet(1), train, nullptr, o);
    test::TempDir dir;
    teacher.model.save(dir / "teacher.onnx");

    const Model student = tinyMlp(11);
    const double kl_before = meanKl(teacher.model, student, probe);
    o.distill.teacher_path = (dir / "teacher.onnx").string();
    o.distill.alpha = 1.0;  // only the teacher's soft targets: the labels play no part
    o.distill.temperature = 2.0;
    o.epochs = 2;
    TrainResult distilled = trainModel(student, train, nullptr, o);
    const double kl_after = meanKl(teacher.model, distilled.model, probe);
    QVERIFY2(kl_after < 0.5 * kl_before, qPrintable(QString("KL %1 -> %2").arg(kl_before).arg(kl_after)));

    // A teacher with another class count is refused.
    TrainOptions five = o;
    tinyMlp(1, 5).save(dir / "teacher5.onnx");
    five.distill.teacher_path = (dir / "teacher5.onnx").string();
    QVERIFY_THROWS_EXCEPTION(Error, trainModel(student, train, nullptr, five));
    // Hint tensors must exist.
    TrainOptions hint = o;
    hint.distill.hints = {{"no_such_tensor", "logits"}};
    QVERIFY_THROWS_EXCEPTION(Error, trainModel(student, train, nullptr, hint));
  }

  void headReplacementAndFreezing() {
    PatternDataset four(256, 1), three(192, 3, 3), three_val(96, 4, 3);
    TrainOptions o = quickOptions();
    o.epochs = 2;
    Model model = trainModel(tinyResNet(2), four, nullptr, o).model;
    const ClassifierHead old_head = findClassifierHead(model);
    QCOMPARE(old_head.classes, int64_t(4));

    ClassifierHead head = replaceClassifierHead(model, 3, 5);
    QCOMPARE(head.classes, int64_t(3));
    QCOMPARE(modelClassCount(model), int64_t(3));
    QCOMPARE(head.weight, old_head.weight);
    auto exec = makeOrtExecutor(model);
    QCOMPARE(exec->run(test::randomInputs(model, 1, 2))[0].shape(), (std::vector<int64_t>{2, 3}));

    const auto before = weights(model);
    o.frozen = parametersBeforeHead(model, head);
    QVERIFY(!o.frozen.empty());
    o.learning_rate = 0.1;
    o.epochs = 3;
    TrainResult r = trainModel(model, three, &three_val, o);
    const auto after = weights(r.model);
    for (const auto& [name, bytes] : before) {
      if (name == head.weight || name == head.bias)
        QVERIFY2(after.at(name) != bytes, qPrintable(QString::fromStdString(name + " did not train")));
      else  // frozen parameters and the statistics of frozen BatchNormalization layers
        QVERIFY2(after.at(name) == bytes,
                 qPrintable(QString::fromStdString(name + " changed although frozen")));
    }
    QVERIFY2(r.final_validation_accuracy >= 0.8, qPrintable(QString::number(r.final_validation_accuracy)));

    QVERIFY_THROWS_EXCEPTION(Error, replaceClassifierHead(model, 1, 0));
    TrainOptions bad = o;
    bad.frozen = {"not_a_parameter"};
    QVERIFY_THROWS_EXCEPTION(Error, trainModel(model, three, nullptr, bad));
  }

  void refusesBadInput_data() {
    QTest::addColumn<int>("kind");
    QTest::newRow("image size") << 0;
    QTest::newRow("class count") << 1;
    QTest::newRow("zero epochs") << 2;
    QTest::newRow("resume without folder") << 3;
    QTest::newRow("label smoothing 1") << 4;
  }
  void refusesBadInput() {
    QFETCH(int, kind);
    PatternDataset train(64, 1);
    PatternDataset big(64, 1, 4, 12);  // 12x12 images for an 8x8 model
    TrainOptions o = quickOptions();
    Model model = tinyMlp(1);
    const Dataset* data = &train;
    if (kind == 0) data = &big;
    if (kind == 1) model = tinyMlp(1, 6);
    if (kind == 2) o.epochs = 0;
    if (kind == 3) o.resume = true;
    if (kind == 4) o.label_smoothing = 1.0;
    try {
      trainModel(model, *data, nullptr, o);
      QFAIL("no error");
    } catch (const CancelledError&) {
      QFAIL("cancelled instead of an error");
    } catch (const Error& e) {
      const std::string msg = e.what();
      if (kind == 0) QVERIFY2(msg.find("patterns") != std::string::npos, e.what());
      if (kind == 1) QVERIFY2(msg.find("6 classes") != std::string::npos, e.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestTrainer)
#include "test_trainer.moc"
