// The training step kinds (finetune, distill, recover, qat) for one short epoch on a tiny MLP and real
// Fashion-MNIST examples: the weights change, the result holds the per-epoch history, teachers come from the
// base model, pruned zeros stay zero, QAT gives an INT8 Q/DQ model that runs, checkpoints resume only for the
// same inputs; run on their own (single_step.h, as the CLI commands run them) they print their epochs as they
// end and take the CLI's checkpoint folder and --resume. Shown as SKIPPED in a build without libtorch.
#include <QtTest>

#include <cstdio>

#include <map>
#include <memory>
#include <optional>

#include "core/data/dataset.h"
#include "core/pipeline/single_step.h"
#include "core/pipeline/step.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/zoo/model_source.h"
#include "core/zoo/zoo.h"
#include "tests/pipeline/step_test_context.h"
#include "tests/test_passes_builder.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;
namespace fs = std::filesystem;
using test::countOps;
using test::optionErrorKey;
using test::TestStepContext;

namespace {

Model tinyMlp() {
  zoo::MlpOptions o;
  o.hidden_sizes = {16};
  return zoo::buildMlp(o);
}

// The float values of every float initializer, concatenated (to see whether training changed anything).
std::vector<float> floatWeights(const Model& model) {
  std::vector<float> values;
  for (const auto& init : model.graph().initializer())
    if (init.data_type() == onnx::TensorProto::FLOAT) {
      const Tensor t = tensorFromProto(init);
      const auto v = t.values<float>();
      values.insert(values.end(), v.begin(), v.end());
    }
  return values;
}

size_t zeroCount(const Model& model) {
  size_t n = 0;
  for (float v : floatWeights(model)) n += v == 0.0f;
  return n;
}

// One short epoch: a couple of optimizer steps.
nlohmann::json quick(nlohmann::json options = nlohmann::json::object()) {
  options["epochs"] = 1;
  options["max_steps_per_epoch"] = 2;
  options["batch_size"] = 16;
  options["threads"] = 1;
  return options;
}

}  // namespace

class TestStepsTraining : public QObject {
  Q_OBJECT
  StepRegistry registry_ = StepRegistry::withBuiltins();
  std::shared_ptr<const Dataset> train_, validation_;

  std::unique_ptr<TestStepContext> context(Model base) {
    auto c = std::make_unique<TestStepContext>(std::move(base));
    c->datasets["train"] = train_;
    c->datasets["validation"] = validation_;
    c->datasets["calibration"] = train_;
    return c;
  }

 private slots:
  void initTestCase() {
    train_ = openDataset("fashion-mnist:train?limit=64");
    validation_ = openDataset("fashion-mnist?limit=32");
  }

  void trainingKindsAreRegisteredAndRoundTrip() {
    for (const std::string kind : {"finetune", "distill", "recover", "qat"}) {
      QVERIFY2(registry_.contains(kind), kind.c_str());
      QVERIFY(!registry_.summary(kind).empty());
      const nlohmann::json options = registry_.create(kind)->optionsJson();
      QCOMPARE(registry_.create(kind, options)->optionsJson(), options);
      QCOMPARE(registry_.create(kind, quick())->optionsJson().at("max_steps_per_epoch").get<int>(), 2);
      QCOMPARE(optionErrorKey([&] {
                 registry_.create(kind, {{"learning_rate", 0.1}});
               }),
               std::string("learning_rate"));
      QCOMPARE(optionErrorKey([&] { registry_.create(kind, {{"epochs", "ten"}}); }), std::string("epochs"));
      QCOMPARE(optionErrorKey([&] {
                 registry_.create(kind, {{"optimizer", "lion"}});
               }),
               std::string("optimizer"));
      QCOMPARE(optionErrorKey([&] {
                 registry_.create(kind, {{"data", "fashion-mnist:train"}});
               }),
               std::string("data"));
    }
    // The CLI commands' defaults.
    QCOMPARE(registry_.create("finetune")->optionsJson().at("lr").get<double>(), 0.01);
    QCOMPARE(registry_.create("distill")->optionsJson().at("teacher").get<std::string>(),
             std::string("base"));
    QCOMPARE(registry_.create("distill")->references(), std::vector<std::string>{"base"});
    QVERIFY(registry_.create("recover")->references().empty());
    QCOMPARE(registry_.create("qat")->optionsJson().at("epochs").get<int>(), 3);
    QCOMPARE(registry_.create("qat")->datasetRoles(), (std::vector<std::string>{"train", "calibration"}));
    QCOMPARE(optionErrorKey([&] { registry_.create("distill", {{"teacher", ""}}); }), std::string("teacher"));
    QCOMPARE(optionErrorKey([&] {
               registry_.create("distill", {{"hints", {"no-colon"}}});
             }),
             std::string("hints"));
  }

  void finetuneChangesTheWeightsAndResumesOnlyTheSameRun() {
    auto c = context(tinyMlp());
    auto step = registry_.create("finetune", quick());
    QCOMPARE(step->datasetRoles(), std::vector<std::string>{"train"});
    StepOutput out = step->run(*c);
    QVERIFY(out.model);
    QVERIFY(floatWeights(*out.model) != floatWeights(c->base()));
    const nlohmann::json& history = out.result.at("history");
    QCOMPARE(history.size(), size_t{1});
    QCOMPARE(history[0].at("epoch").get<int>(), 1);
    QVERIFY(history[0].at("validation_accuracy").get<double>() >= 0);  // the recipe has a validation role
    QCOMPARE(out.result.at("resumed_from_epoch").get<int>(), 0);
    QVERIFY(fs::exists(c->workDir() / "checkpoint"));
    // The same step again resumes from its checkpoint (the epoch is done) ...
    StepOutput again = registry_.create("finetune", quick())->run(*c);
    QCOMPARE(again.result.at("resumed_from_epoch").get<int>(), 1);
    QCOMPARE(floatWeights(*again.model), floatWeights(*out.model));
    // ... but never with other options.
    nlohmann::json other = quick();
    other["lr"] = 0.05;
    StepOutput fresh = registry_.create("finetune", other)->run(*c);
    QCOMPARE(fresh.result.at("resumed_from_epoch").get<int>(), 0);
    // No training role: the error names it.
    c->datasets.erase("train");
    const std::string why = test::errorOf([&] { registry_.create("finetune", quick())->run(*c); });
    QVERIFY2(test::contains(why, "'train'"), why.c_str());
  }

  // What `edgetune-cli finetune --checkpoint DIR [--resume]` maps to: DIR itself holds the checkpoint, and
  // only resume: true continues from it. Each epoch's line reaches on_line as the epoch ends.
  void aSingleStepTakesTheCheckpointFolderAndResume() {
    const Model mlp = tinyMlp();
    test::TempDir checkpoint;
    SingleStep step;
    step.kind = "finetune";
    step.options = quick({{"checkpoint_dir", checkpoint.path().string()}, {"resume", true}});
    step.datasets["train"] = train_;
    std::vector<std::string> lines;
    step.on_line = [&lines](const std::string& line) { lines.push_back(line); };
    fs::path temporary;
    {
      const SingleStepResult first = runSingleStep(mlp, step, registry_);
      temporary = first.work_dir;
      QVERIFY(fs::is_directory(temporary));
      QCOMPARE(first.output.result.at("resumed_from_epoch").get<int>(), 0);
      QVERIFY(fs::exists(checkpoint / "state.json"));
      QVERIFY(!fs::exists(temporary / "checkpoint"));  // the named folder, not the step's own
      // The head it trains, then the epoch, as they happen, and in the step's lines too.
      QCOMPARE(lines.size(), size_t{2});
      QVERIFY2(test::contains(lines[0], "head "), lines[0].c_str());
      QVERIFY2(test::contains(lines[1], "epoch 1/1") && test::contains(lines[1], "ex/s"), lines[1].c_str());
      QCOMPARE(first.output.lines, lines);
    }
    QVERIFY(!fs::exists(temporary));  // the temporary work folder goes with the result
    QCOMPARE(runSingleStep(mlp, step, registry_).output.result.at("resumed_from_epoch").get<int>(), 1);
    step.options["resume"] = false;
    QCOMPARE(runSingleStep(mlp, step, registry_).output.result.at("resumed_from_epoch").get<int>(), 0);
    // A role the options read but the caller did not hand in: named before anything runs.
    step.datasets.clear();
    const std::string why = test::errorOf([&] { runSingleStep(mlp, step, registry_); });
    QVERIFY2(test::contains(why, "'train'"), why.c_str());
  }

  // `edgetune-cli train` is the finetune step without a new head or a freeze: then no classifier head is
  // needed (a model whose logits do not come from a Gemm trains too), while a freeze still asks for one.
  void finetuneNeedsAHeadOnlyToReplaceOrFreezeIt() {
    Model model = tinyMlp();
    auto c = context(model);
    QCOMPARE(registry_.create("finetune", quick())->run(*c).result.at("head").at("classes").get<int>(), 10);
    // Logits through a Relu after the head: no head the step could replace or freeze before.
    onnx::GraphProto& graph = model.graph();
    const std::string logits = graph.output(0).name();
    for (auto& node : *graph.mutable_node())
      for (auto& name : *node.mutable_output())
        if (name == logits) name = logits + "_raw";
    onnx::NodeProto* relu = graph.add_node();
    relu->set_op_type("Relu");
    relu->set_name("after_head");
    relu->add_input(logits + "_raw");
    relu->add_output(logits);
    model.reindex();
    auto headless = context(model);
    StepOutput out = registry_.create("finetune", quick())->run(*headless);
    QVERIFY(out.model);
    QVERIFY(out.result.at("head").is_null());
    const std::string why = test::errorOf([&] {
      registry_.create("finetune", quick({{"freeze", true}}))->run(*headless);
    });
    QVERIFY2(test::contains(why, "classifier head"), why.c_str());
  }

  void distillFromTheBaseModel() {
    auto c = context(tinyMlp());
    c->datasets.erase("validation");  // optional: training goes on without it
    StepOutput out = registry_.create("distill", quick())->run(*c);
    QVERIFY(out.model);
    QVERIFY(fs::exists(c->workDir() / "teacher.onnx"));
    QCOMPARE(out.artifacts, std::vector<fs::path>{c->workDir() / "teacher.onnx"});
    QVERIFY(floatWeights(*out.model) != floatWeights(c->base()));
    QCOMPARE(out.result.at("teacher").get<std::string>(), std::string("base"));
    QCOMPARE(out.result.at("history").size(), size_t{1});
    QVERIFY(out.result.at("history")[0].at("validation_accuracy").get<double>() < 0);
    // A teacher that is not there: the context's error names it.
    const std::string why = test::errorOf([&] {
      registry_.create("distill", quick({{"teacher", "big"}}))->run(*c);
    });
    QVERIFY2(test::contains(why, "'big'"), why.c_str());
  }

  void distillIntoAFreshStudent() {
    // A zoo: student (the default MLP, wider than the input's) is trained instead of the step's input.
    auto c = context(tinyMlp());
    const std::string source = "zoo:mlp?input_channels=1&image_size=28&seed=7";
    StepOutput out = registry_.create("distill", quick({{"student", source}}))->run(*c);
    QVERIFY(out.model);
    QCOMPARE(out.model->parameterCount(), zoo::loadModelSource(source).parameterCount());
    QVERIFY(out.model->parameterCount() != c->input().parameterCount());
    QCOMPARE(out.result.at("student").get<std::string>(), source);
    // A file is refused: its content is not in the step's options, so a cached result could be stale.
    QCOMPARE(optionErrorKey([&] {
               registry_.create("distill", {{"student", "student.onnx"}});
             }),
             std::string("student"));
  }

  void recoverKeepsPrunedWeightsAtZero() {
    auto c = context(tinyMlp());
    StepOutput pruned = registry_.create("prune", {{"method", "magnitude"}, {"sparsity", 0.5}})->run(*c);
    c->input_model = *pruned.model;
    const size_t zeros = zeroCount(*pruned.model);
    QVERIFY(zeros > 1000);
    StepOutput out = registry_.create("recover", quick({{"teacher", "base"}}))->run(*c);
    QVERIFY(out.model);
    QVERIFY(floatWeights(*out.model) != floatWeights(*pruned.model));
    QVERIFY(zeroCount(*out.model) >= zeros);
    QVERIFY(out.result.at("masked_weights").get<int64_t>() > 0);
    QCOMPARE(out.result.at("history").size(), size_t{1});
    QVERIFY(out.result.at("validation_accuracy_before").get<double>() >= 0);
  }

  void qatGivesAnInt8ModelThatRuns() {
    auto c = context(tinyMlp());
    StepOutput out = registry_.create("qat", quick({{"samples", 32}}))->run(*c);
    QVERIFY(out.model);
    QVERIFY(countOps(*out.model, "DequantizeLinear") > 0);
    QCOMPARE(out.result.at("started_from").get<std::string>(), std::string("post-training quantization"));
    QVERIFY(out.result.at("weights_trained").get<int>() > 0);
    QCOMPARE(out.result.at("history").size(), size_t{1});
    auto executor = makeOrtExecutor(*out.model);
    QCOMPARE(executor->run(test::randomInputs(*out.model, 5)).at(0).shape(), (std::vector<int64_t>{1, 10}));
    // The post-training starting point is kept, so the CLI can show what QAT added.
    QVERIFY(fs::exists(c->workDir() / "ptq.onnx"));
    QVERIFY(countOps(Model::load(c->workDir() / "ptq.onnx"), "DequantizeLinear") > 0);
    // A float input without a calibration role is refused, saying why.
    const std::string why = test::errorOf([&] {
      registry_.create("qat", quick({{"calibration_data", ""}}))->run(*c);
    });
    QVERIFY2(test::contains(why, "calibration_data"), why.c_str());
  }
};

// Without libtorch the whole test is skipped, and ctest shows it as skipped (SKIP_RETURN_CODE 77 in
// tests/CMakeLists.txt), not as passed.
int main(int argc, char** argv) {
#ifndef EDGETUNE_HAVE_TRAINING
  std::printf("SKIP: built without libtorch: the training steps are not in this build\n");
  return 77;
#endif
  QCoreApplication app(argc, argv);
  TestStepsTraining test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_steps_training.moc"
