// The Training panel (offscreen) on real models and data: a zoo ResNet-8 student distilled from the bundled
// ResNet-20 on Fashion-MNIST with the real libtorch trainer, live chart points, the written ONNX file checked
// in ONNX Runtime; cancel leaves nothing behind; refused starts and unfit datasets give one clear message.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QtTest>

#include <QLabel>
#include <QPushButton>

#include <cmath>
#include <filesystem>

#include "core/data/dataset.h"
#include "core/ir/model.h"
#include "core/pipeline/model_card.h"
#include "core/pipeline/node_overlays.h"
#include "core/pipeline/progressive_measurement.h"
#include "core/pipeline/variant_model.h"
#include "core/runtime/executor.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"
#include "tests/tests_common.h"
#include "ui/charts.h"
#include "ui/jobs.h"
#include "ui/train_panel.h"

#ifdef EDGETUNE_HAVE_TRAINING
#include "core/train/recovery.h"
#endif

using namespace edgetune;
using namespace edgetune::ui;
using namespace edgetune::pipeline;
using edgetune::zoo::loadModelSource;
namespace fs = std::filesystem;

namespace {

const char* kStudent = "zoo:resnet8?input_channels=1&image_size=28&classes=10";

std::string baselinePath() {
  return std::string(EDGETUNE_RESOURCES_DIR) + "/models/resnet20_fmnist.onnx";
}

// Grey 1x28x28 images with `classes` classes: fits the models' input but not their class count when classes
// != 10.
class TinyImages : public Dataset {
 public:
  TinyImages(size_t n, int classes) : n_(n), classes_(classes) {}
  std::string name() const override { return "tiny images"; }
  size_t size() const override { return n_; }
  Example get(size_t index) const override {
    Example e;
    e.features.push_back(Tensor::from<float>({1, 28, 28}, std::vector<float>(28 * 28, 0.01f * (index % 50))));
    e.label = static_cast<int64_t>(index % static_cast<size_t>(classes_));
    return e;
  }
  std::vector<FeatureInfo> features() const override { return {{"image", DataType::Float32, {1, 28, 28}}}; }
  std::vector<std::string> classNames() const override {
    std::vector<std::string> names;
    for (int c = 0; c < classes_; ++c) names.push_back("class " + std::to_string(c));
    return names;
  }

 private:
  size_t n_;
  int classes_;
};

std::vector<fs::path> onnxFilesIn(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

// Quick-run settings: a few steps per epoch, a small validation subset.
// The panel set to fine-tune the trained baseline on 400 Fashion-MNIST images (quickSettings otherwise),
// writing into `out`; returns the settings it gave the panel.
TrainSettings fineTuneTrainedBaseline(TrainPanel& panel, const fs::path& out);

TrainSettings quickSettings() {
  TrainSettings s;
  s.mode = TrainSettings::Mode::Distill;
  s.source = TrainSettings::Source::Student;
  s.student = kStudent;
  s.epochs = 2;
  s.batch_size = 32;
  s.learning_rate = 0.05;
  s.steps_per_epoch = 4;
  s.validation_size = 100;
  s.temperature = 4;
  s.alpha = 0.9;
  return s;
}

TrainSettings fineTuneTrainedBaseline(TrainPanel& panel, const fs::path& out) {
  auto baseline = std::make_shared<const Model>(Model::load(baselinePath()));
  auto dataset = openDataset("fashion-mnist?limit=400");
  panel.setContext(baseline, QString::fromStdString(baselinePath()), dataset, "fashion-mnist?limit=400");
  panel.setOutputDir(QString::fromStdString(out.string()));
  TrainSettings s = quickSettings();
  s.mode = TrainSettings::Mode::FineTune;
  s.source = TrainSettings::Source::Baseline;
  panel.setSettings(s);
  return s;
}

}  // namespace

class TestUiTraining : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    if (!TrainPanel::trainingAvailable()) {
      JobManager jobs;
      TrainingChart chart;
      TrainPanel panel(&jobs, &chart);
      QVERIFY(!panel.start());
      QVERIFY(panel.lastError().contains("not built"));
      QSKIP("training engine not built: only the refusal is tested");
    }
  }

  void distillsZooStudentLive() {
    test::TempDir dir;
    JobManager jobs;
    TrainingChart chart;
    TrainPanel panel(&jobs, &chart);
    panel.resize(400, 600);
    panel.show();
    const std::string teacher_bytes = readFile(baselinePath());
    auto baseline = std::make_shared<const Model>(Model::load(baselinePath()));
    auto dataset = openDataset("fashion-mnist?limit=600");
    panel.setContext(baseline, QString::fromStdString(baselinePath()), dataset, "fashion-mnist?limit=600");
    const fs::path out_dir = dir / "out";
    panel.setOutputDir(QString::fromStdString(out_dir.string()));
    panel.setSettings(quickSettings());
    QCOMPARE(panel.settings().student, std::string(kStudent));

    QSignalSpy trained(&panel, &TrainPanel::trainedVariant);
    QVERIFY(panel.start());
    QVERIFY(panel.running());
    // A second start while the first runs is refused with a clear message and does not start a second job.
    QVERIFY(!panel.start());
    QVERIFY2(panel.lastError().contains("already"), qPrintable(panel.lastError()));
    QCOMPARE(jobs.runningCount(), 1);

    QTRY_VERIFY_WITH_TIMEOUT(!panel.running(), 180000);
    QVERIFY2(trained.count() == 1, qPrintable(panel.lastError()));

    // Live curves: one loss point per step (2 epochs x 4 steps), all finite; validation accuracy before
    // training and after each epoch.
    QCOMPARE(chart.lossPointCount(), 8);
    for (double loss : chart.lossValues()) QVERIFY(std::isfinite(loss) && loss > 0);
    QCOMPARE(chart.accuracyPointCount(), 3);
    for (double acc : chart.accuracyValues()) QVERIFY(acc >= 0 && acc <= 1);
    QVERIFY(chart.csv().count('\n') == 1 + 8 + 3);

    // The output: a new file in the output folder (the only one left there), loads, runs in ONNX Runtime.
    const QString path = panel.lastOutputPath();
    QCOMPARE(trained.at(0).at(1).toString(), path);
    QVERIFY(fs::exists(path.toStdString()));
    QCOMPARE(fs::path(path.toStdString()).parent_path(), out_dir);
    QCOMPARE(onnxFilesIn(out_dir).size(), size_t{1});
    Model result = Model::load(path.toStdString());
    auto executor = makeOrtExecutor(result);
    std::vector<size_t> idx = {0, 1, 2, 3};
    auto bound = bindInputs(
        [&] {
          std::vector<TensorInfo> in;
          for (const auto& vi : result.inputs()) in.push_back({vi.name, vi.type, vi.shape});
          return in;
        }(),
        makeBatch(*dataset, idx), dataset->name());
    auto outs = executor->run(bound);
    QCOMPARE(outs.at(0).shape(), (std::vector<int64_t>{4, 10}));
    for (float v : outs.at(0).values<float>()) QVERIFY(std::isfinite(v));

    // Trained: the weights moved away from the untrained student's (same seed, so the zoo builds the same
    // start).
    Model untrained = loadModelSource(kStudent);
    QCOMPARE(test::compareInOrt(untrained, loadModelSource(kStudent), test::randomInputs(untrained, 3)), 0.0);
    const double diff = test::compareInOrt(untrained, result, test::randomInputs(untrained, 3));
    QVERIFY2(diff > 1e-3, qPrintable(QString::number(diff)));

    // The variant: a descriptive name, measured metrics, the training settings recorded.
    const Variant& v = panel.lastVariant();
    QCOMPARE(QString::fromStdString(v.name), QString("distill resnet8 T=4 a=0.9, 2 ep"));
    QCOMPARE(v.name, trained.at(0).at(0).value<Variant>().name);
    QVERIFY(v.metrics.size_bytes.value_or(0) > 0);
    QVERIFY(v.metrics.latency_ms.value_or(0) > 0);
    QVERIFY(v.metrics.accuracy.has_value());
    QCOMPARE(v.metrics.accuracy_count.value_or(0), int64_t{100});
    const auto& t = v.recipe.at("training");
    QCOMPARE(t.at("mode").get<std::string>(), std::string("distill"));
    QCOMPARE(t.at("temperature").get<double>(), 4.0);
    QCOMPARE(t.at("steps_per_epoch").get<int>(), 4);
    QCOMPARE(t.at("history").size(), size_t{2});
    QCOMPARE(v.recipe.at("format").get<std::string>(), std::string("edgetune-recipe"));
    QCOMPARE(v.knobs.at("training"), t);
    // The teacher (the baseline's file) is untouched.
    QVERIFY(readFile(baselinePath()) == teacher_bytes);

    // A second run never overwrites the first result.
    QVERIFY(panel.start());
    QTRY_VERIFY_WITH_TIMEOUT(!panel.running(), 180000);
    QCOMPARE(trained.count(), 2);
    QVERIFY(panel.lastOutputPath() != path);
    QCOMPARE(onnxFilesIn(out_dir).size(), size_t{2});
  }

  void cancelLeavesNoOutput() {
    test::TempDir dir;
    JobManager jobs;
    TrainingChart chart;
    TrainPanel panel(&jobs, &chart);
    // A zoo baseline has no file: the teacher is written to the output folder for the run and must go away
    // too.
    const std::string teacher_source = "zoo:resnet20?input_channels=1&image_size=28&classes=10";
    auto baseline = std::make_shared<const Model>(loadModelSource(teacher_source));
    auto dataset = openDataset("fashion-mnist?limit=2000");
    panel.setContext(baseline, QString::fromStdString(teacher_source), dataset, "fashion-mnist?limit=2000");
    const fs::path out_dir = dir / "out";
    panel.setOutputDir(QString::fromStdString(out_dir.string()));
    TrainSettings s = quickSettings();
    s.steps_per_epoch = 0;  // long enough to cancel in the middle
    s.epochs = 5;
    panel.setSettings(s);
    QSignalSpy trained(&panel, &TrainPanel::trainedVariant);
    QVERIFY(panel.start());
    JobHandle* job = panel.currentJob();
    QVERIFY(job);
    QSignalSpy finished(job, &JobHandle::finished);
    QTRY_VERIFY_WITH_TIMEOUT(chart.lossPointCount() >= 2, 120000);
    QVERIFY(panel.running());
    panel.cancel();
    QTRY_VERIFY_WITH_TIMEOUT(!panel.running(), 60000);
    QCOMPARE(finished.count(), 1);
    QCOMPARE(job->state(), JobHandle::State::Cancelled);
    QCOMPARE(trained.count(), 0);
    QVERIFY(panel.lastOutputPath().isEmpty());
    QVERIFY(onnxFilesIn(out_dir).empty());
    QVERIFY(chart.lossPointCount() < 5 * (1900 / 32));  // it stopped in the middle
  }

  void closingThePanelMidRunKeepsNothing() {
    test::TempDir dir;
    JobManager jobs;
    TrainingChart chart;
    auto* panel = new TrainPanel(&jobs, &chart);
    auto baseline = std::make_shared<const Model>(Model::load(baselinePath()));
    auto dataset = openDataset("fashion-mnist?limit=2000");
    panel->setContext(baseline, QString::fromStdString(baselinePath()), dataset, "fashion-mnist?limit=2000");
    panel->setOutputDir(QString::fromStdString((dir / "out").string()));
    TrainSettings s = quickSettings();
    s.steps_per_epoch = 0;
    s.epochs = 5;
    panel->setSettings(s);
    QVERIFY(panel->start());
    QPointer<JobHandle> job = panel->currentJob();
    QTRY_VERIFY_WITH_TIMEOUT(chart.lossPointCount() >= 1, 120000);
    delete panel;  // cancels its run
    QTRY_VERIFY_WITH_TIMEOUT(job && !job->isRunning(), 60000);
    QCOMPARE(job->state(), JobHandle::State::Cancelled);
    QVERIFY(onnxFilesIn(dir / "out").empty());
  }

  void refusalsAndUnfitDatasetsGiveOneClearMessage() {
    test::TempDir dir;
    JobManager jobs;
    TrainingChart chart;
    TrainPanel panel(&jobs, &chart);
    panel.setOutputDir(QString::fromStdString((dir / "out").string()));
    panel.setSettings(quickSettings());
    QSignalSpy failed(&panel, &TrainPanel::trainingFailed);

    // No dataset open.
    QVERIFY(!panel.start());
    QVERIFY2(panel.lastError().contains("no dataset"), qPrintable(panel.lastError()));
    QCOMPARE(jobs.jobs().size(), 0);

    auto baseline = std::make_shared<const Model>(Model::load(baselinePath()));
    auto three = std::make_shared<const TinyImages>(200, 3);
    panel.setContext(baseline, QString::fromStdString(baselinePath()), three, "");

    // A fixed source (the baseline) is checked at once: 10 classes against 3.
    TrainSettings s = quickSettings();
    s.source = TrainSettings::Source::Baseline;
    s.mode = TrainSettings::Mode::FineTune;
    panel.setSettings(s);
    QVERIFY(!panel.start());
    QVERIFY2(panel.lastError().contains("10 classes") && panel.lastError().contains("has 3"),
             qPrintable(panel.lastError()));
    QCOMPARE(jobs.jobs().size(), 0);

    // No variant selected.
    s.source = TrainSettings::Source::Variant;
    panel.setSettings(s);
    QVERIFY(!panel.start());
    QVERIFY2(panel.lastError().contains("no variant"), qPrintable(panel.lastError()));

    // A zoo student is built on the worker: the job fails with the same kind of message, nothing is written.
    s.source = TrainSettings::Source::Student;
    s.mode = TrainSettings::Mode::Distill;
    panel.setSettings(s);
    const int failed_before = failed.count();
    QVERIFY(panel.start());
    QTRY_VERIFY_WITH_TIMEOUT(!panel.running(), 60000);
    QCOMPARE(failed.count(), failed_before + 1);
    QVERIFY2(panel.lastError().contains("resnet8") && panel.lastError().contains("10 classes") &&
                 panel.lastError().contains("has 3"),
             qPrintable(panel.lastError()));
    QVERIFY(onnxFilesIn(dir / "out").empty());

    // A student whose input does not fit the images (3x32x32 against 1x28x28).
    auto fmnist = openDataset("fashion-mnist?limit=300");
    panel.setContext(baseline, QString::fromStdString(baselinePath()), fmnist, "fashion-mnist?limit=300");
    s.student = "zoo:resnet8?input_channels=3&image_size=32&classes=10";
    panel.setSettings(s);
    QVERIFY(panel.start());
    QTRY_VERIFY_WITH_TIMEOUT(!panel.running(), 60000);
    QVERIFY2(panel.lastError().contains("cannot train on this dataset"), qPrintable(panel.lastError()));

    // The validation subset must leave examples to train on.
    s.student = kStudent;
    s.validation_size = 300;
    panel.setSettings(s);
    QVERIFY(!panel.start());
    QVERIFY2(panel.lastError().contains("validation subset"), qPrintable(panel.lastError()));
  }

  void fineTunesPrunedVariantKeepingItsZeros() {
#ifdef EDGETUNE_HAVE_TRAINING
    if (!builtinPassRegistry().contains("prune_magnitude")) QSKIP("prune_magnitude pass not built");
    test::TempDir dir;
    JobManager jobs;
    TrainingChart chart;
    TrainPanel panel(&jobs, &chart);
    auto baseline = std::make_shared<const Model>(Model::load(baselinePath()));
    const nlohmann::json recipe = {{"format", "edgetune-recipe"},
                                   {"version", 1},
                                   { "passes",
                                     {
                                       { {"pass", "prune_magnitude"},
                                         { "options",
                                           {
                                             { "sparsity",
                                               0.5 }
                                           } } }
                                     } }};
    auto pruned = std::make_shared<const Model>(applyRecipe(*baseline, recipe));
    const auto pruned_masks = masksFromZeros(*pruned);
    QVERIFY(!pruned_masks.empty());
    auto dataset = openDataset("fashion-mnist?limit=400");
    panel.setContext(baseline, QString::fromStdString(baselinePath()), dataset, "fashion-mnist?limit=400");
    panel.setSourceModel(pruned, "magnitude 50%", recipe, {{ "prune_method", "prune_magnitude" }});
    panel.setOutputDir(QString::fromStdString((dir / "out").string()));
    TrainSettings s = quickSettings();
    s.mode = TrainSettings::Mode::FineTune;
    s.source = TrainSettings::Source::Variant;
    s.epochs = 1;
    s.steps_per_epoch = 3;
    s.optimizer = "adamw";
    s.learning_rate = 0.001;
    panel.setSettings(s);
    QSignalSpy trained(&panel, &TrainPanel::trainedVariant);
    QVERIFY(panel.start());
    QTRY_VERIFY_WITH_TIMEOUT(!panel.running(), 180000);
    QVERIFY2(trained.count() == 1, qPrintable(panel.lastError()));
    QCOMPARE(chart.lossPointCount(), 3);

    // Every pruned weight is still exactly zero; the kept ones moved.
    Model result = Model::load(panel.lastOutputPath().toStdString());
    const auto result_masks = masksFromZeros(result);
    for (const auto& [name, keep] : pruned_masks) {
      QVERIFY2(result_masks.count(name), name.c_str());
      const auto& after = result_masks.at(name);
      QCOMPARE(after.size(), keep.size());
      for (size_t k = 0; k < keep.size(); ++k)
        if (!keep[k]) QVERIFY(!after[k]);
    }
    QVERIFY(test::compareInOrt(*pruned, result, test::randomInputs(result, 5)) > 1e-5);

    // The variant keeps the recipe that pruned it and records the fine-tuning (no distillation knobs).
    const Variant& v = panel.lastVariant();
    QCOMPARE(QString::fromStdString(v.name), QString("fine-tune magnitude 50%, 1 ep"));
    QCOMPARE(v.recipe.at("passes"), recipe.at("passes"));
    QCOMPARE(v.recipe.at("training").at("optimizer").get<std::string>(), std::string("adamw"));
    QVERIFY(!v.recipe.at("training").contains("temperature"));
    QCOMPARE(v.knobs.at("prune_method").get<std::string>(), std::string("prune_magnitude"));

    if (qEnvironmentVariableIsSet("EDGETUNE_SHOT_DIR")) {  // a look at the panel and the curves, by hand
      panel.resize(380, 560);
      chart.resize(560, 360);
      const QString shots = qEnvironmentVariable("EDGETUNE_SHOT_DIR");
      panel.grab().save(shots + "/train_panel.png");
      chart.grab().save(shots + "/train_chart.png");
    }
#else
    QSKIP("training engine not built");
#endif
  }

  // The rate box starts where the source needs it: large for a student from scratch, small for a trained or
  // pruned model; a rate the user typed is not replaced.
  void learningRateFollowsTheSourceUntilChanged() {
    JobManager jobs;
    TrainingChart chart;
    TrainPanel panel(&jobs, &chart);
    auto* source_box = panel.findChild<QComboBox*>("source");
    QVERIFY(source_box);
    QCOMPARE(panel.settings().learning_rate, 0.05);
    source_box->setCurrentIndex(source_box->findData(static_cast<int>(TrainSettings::Source::Baseline)));
    QCOMPARE(panel.settings().learning_rate, 0.001);
    source_box->setCurrentIndex(source_box->findData(static_cast<int>(TrainSettings::Source::Student)));
    QCOMPARE(panel.settings().learning_rate, 0.05);
    auto* rate = panel.findChild<QDoubleSpinBox*>("learning_rate");
    QVERIFY(rate && rate->value() == 0.05);
    rate->setValue(0.02);  // the user's choice
    source_box->setCurrentIndex(source_box->findData(static_cast<int>(TrainSettings::Source::Variant)));
    QCOMPARE(panel.settings().learning_rate, 0.02);
    // Settings given whole keep their rate.
    TrainSettings s = quickSettings();
    s.source = TrainSettings::Source::Baseline;
    s.optimizer = "adamw";
    s.learning_rate = 0.001;
    panel.setSettings(s);
    QCOMPARE(panel.settings().learning_rate, 0.001);
  }

  // Fine-tuning the trained baseline at a destructive rate stops with the fix, and nothing is recorded or
  // left in the output folder.
  void destructiveRateKeepsNothing() {
#ifdef EDGETUNE_HAVE_TRAINING
    test::TempDir dir;
    JobManager jobs;
    TrainingChart chart;
    TrainPanel panel(&jobs, &chart);
    TrainSettings s = fineTuneTrainedBaseline(panel, dir / "out");
    s.epochs = 1;
    s.steps_per_epoch = 4;
    s.learning_rate = 10;
    panel.setSettings(s);
    QSignalSpy trained(&panel, &TrainPanel::trainedVariant);
    QSignalSpy failed(&panel, &TrainPanel::trainingFailed);
    QVERIFY(panel.start());
    QTRY_VERIFY_WITH_TIMEOUT(!panel.running(), 180000);
    QCOMPARE(trained.count(), 0);
    QCOMPARE(failed.count(), 1);
    const QString message = failed.at(0).at(0).toString();
    QVERIFY2(message.contains("diverged") || message.contains("collapsed"), qPrintable(message));
    QVERIFY2(message.contains("lower the learning rate"), qPrintable(message));
    QVERIFY(onnxFilesIn(dir / "out").empty());
#else
    QSKIP("training engine not built");
#endif
  }

  // The quick rate check on the trained baseline, started from a destructive rate: the rates that raised the
  // loss are reported as such, the box takes a smaller rate that kept it down, nothing is recorded.
  void rateCheckReplacesADestructiveRate() {
#ifdef EDGETUNE_HAVE_TRAINING
    test::TempDir dir;
    JobManager jobs;
    TrainingChart chart;
    TrainPanel panel(&jobs, &chart);
    TrainSettings s = fineTuneTrainedBaseline(panel, dir / "out");
    s.learning_rate = 1.0;  // checks 0.1, 0.33, 1, 3 and 10
    panel.setSettings(s);
    QSignalSpy checked(&panel, &TrainPanel::rateChecked);
    QSignalSpy trained(&panel, &TrainPanel::trainedVariant);
    auto* button = panel.findChild<QPushButton*>("check_rate");
    QVERIFY(button && button->isEnabled());
    QTest::mouseClick(button, Qt::LeftButton);
    QVERIFY(panel.running());
    QVERIFY(!button->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!panel.running(), 180000);
    QCOMPARE(checked.count(), 1);
    const double suggested = checked.at(0).at(0).toDouble();
    const QString report = checked.at(0).at(1).toString();
    qInfo("%s", qPrintable(report));
    QVERIFY2(report.contains("rate 10: ") && (report.contains("diverged") || report.contains("too large")),
             qPrintable(report));
    QVERIFY2(suggested > 0 && suggested < 1.0, qPrintable(report));
    QCOMPARE(panel.settings().learning_rate, suggested);
    auto* shown = panel.findChild<QLabel*>("rate_report");
    QVERIFY(shown && shown->isVisibleTo(&panel) && shown->text() == report);
    QCOMPARE(trained.count(), 0);
    QVERIFY(onnxFilesIn(dir / "out").empty());
    QVERIFY(button->isEnabled());
#else
    QSKIP("training engine not built");
#endif
  }

  void variantNamesAndSourceNames() {
    QCOMPARE(shortSourceName(kStudent), std::string("resnet8"));
    QCOMPARE(shortSourceName("/tmp/models/my_net.onnx"), std::string("my_net"));
    QCOMPARE(trainModeName(TrainSettings::Mode::FineTune), std::string("fine-tune"));
    TrainSettings s;
    s.mode = TrainSettings::Mode::FineTune;
    QVERIFY(!s.toJson().contains("temperature"));  // distillation knobs only where they apply
  }
};

QTEST_MAIN(TestUiTraining)
#include "test_ui_training.moc"
