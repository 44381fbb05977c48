// The pipeline runner (core/pipeline/runner.h) with step kinds of this test's own, so what is checked is the
// runner: order, inputs and branches, disabled steps, the content cache (a re-run runs nothing; an edit
// re-runs that step and the ones after it only; "re-run from" a step forces it and its dependants),
// references, progress that composes, cancellation, and errors that name the recipe line and the step.
#include <QtTest>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <map>

#include "core/deploy/sha256.h"
#include "core/pipeline/runner.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/zoo.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;
using edgetune::deploy::sha256File;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// How often each test step kind really ran (a cached step does not run).
std::map<std::string, int>& runs() {
  static std::map<std::string, int> counts;
  return counts;
}

struct ScaleOptions {
  double factor = 2.0;
  std::string tensor;  // initializer to scale; "" = the first float one
};
void to_json(json& j, const ScaleOptions& o) {
  j = {{"factor", o.factor}, {"tensor", o.tensor}};
}
void readOptions(OptionsReader& r, ScaleOptions& o) {
  r.read("factor", o.factor);
  r.read("tensor", o.tensor);
  if (!(o.factor > 0)) throw OptionError("step 'scale': option 'factor' must be > 0", "factor");
}

// Multiplies one float initializer: a model change every later hash sees.
class ScaleStep : public StepWithOptions<ScaleOptions> {
 public:
  std::string kind() const override { return "scale"; }
  StepOutput run(StepContext& context) override {
    ++runs()[context.stepId()];
    Model model = context.input();
    for (auto& init : *model.graph().mutable_initializer()) {
      if (init.data_type() != onnx::TensorProto::FLOAT) continue;
      if (!options_.tensor.empty() && init.name() != options_.tensor) continue;
      Tensor values = tensorFromProto(init);
      for (float& v : values.values<float>()) v *= static_cast<float>(options_.factor);
      init.clear_float_data();
      init.set_raw_data(values.values<float>().data(), values.values<float>().size() * sizeof(float));
      break;
    }
    for (int k = 1; k <= 4; ++k) {
      context.job()->throwIfCancelled();
      context.job()->report(k / 4.0, "scaling");
    }
    StepOutput out;
    out.model = std::move(model);
    out.result = {{"factor", options_.factor}};
    out.lines.push_back("scaled by " + std::to_string(options_.factor));
    return out;
  }
};

struct ProbeOptions {
  std::string data;     // a dataset role to read ("" = none)
  std::string compare;  // an earlier step whose model's first initializer is compared ("" = none)
  std::string file;     // a file outside the run it reads ("" = none)
  bool fail = false;
};
void to_json(json& j, const ProbeOptions& o) {
  j = {{"data", o.data}, {"compare", o.compare}, {"file", o.file}, {"fail", o.fail}};
}
void readOptions(OptionsReader& r, ProbeOptions& o) {
  r.read("data", o.data);
  r.read("compare", o.compare);
  r.read("file", o.file);
  r.read("fail", o.fail);
}

float firstFloat(const Model& m) {
  for (const auto& init : m.graph().initializer())
    if (init.data_type() == onnx::TensorProto::FLOAT) return tensorFromProto(init).values<float>()[0];
  return 0;
}

// Gives no model: measures its input (and optionally a dataset and another step's model).
class ProbeStep : public StepWithOptions<ProbeOptions> {
 public:
  std::string kind() const override { return "probe"; }
  std::vector<std::string> datasetRoles() const override {
    return options_.data.empty() ? std::vector<std::string>{} : std::vector<std::string>{options_.data};
  }
  std::vector<std::string> references() const override {
    return options_.compare.empty() ? std::vector<std::string>{} : std::vector<std::string>{options_.compare};
  }
  std::vector<fs::path> filesRead() const override {
    return options_.file.empty() ? std::vector<fs::path>{} : std::vector<fs::path>{options_.file};
  }
  StepOutput run(StepContext& context) override {
    ++runs()[context.stepId()];
    if (options_.fail) throw Error("the probe was told to fail");
    StepOutput out;
    out.result["first"] = firstFloat(context.input());
    out.result["base_first"] = firstFloat(context.base());
    if (!options_.compare.empty())
      out.result["compare_first"] = firstFloat(context.modelOf(options_.compare));
    if (!options_.data.empty()) out.result["examples"] = context.dataset(options_.data).size();
    return out;
  }
};

// The same kind after a behaviour change (a newer build): its cached results must not be reused.
class ScaleStepV2 : public ScaleStep {
 public:
  int behaviourVersion() const override { return 2; }
};

// The same kind in a newer build that added an option whose default keeps the old behaviour.
struct ScaleWithNoteOptions : ScaleOptions {
  std::string note;
};
void to_json(json& j, const ScaleWithNoteOptions& o) {
  to_json(j, static_cast<const ScaleOptions&>(o));
  j["note"] = o.note;
}
void readOptions(OptionsReader& r, ScaleWithNoteOptions& o) {
  readOptions(r, static_cast<ScaleOptions&>(o));
  r.read("note", o.note);
}
class ScaleStepWithNote : public StepWithOptions<ScaleWithNoteOptions> {
 public:
  std::string kind() const override { return "scale"; }
  StepOutput run(StepContext& context) override {
    ScaleStep plain;
    plain.setOptionsJson({{"factor", options_.factor}, {"tensor", options_.tensor}});
    return plain.run(context);
  }
};

StepRegistry testRegistry(bool scale_v2 = false, bool scale_with_note = false) {
  StepRegistry r;
  if (scale_with_note)
    r.add("scale", "multiplies one initializer", [] { return std::make_unique<ScaleStepWithNote>(); });
  else if (scale_v2)
    r.add("scale", "multiplies one initializer", [] { return std::make_unique<ScaleStepV2>(); });
  else
    r.add("scale", "multiplies one initializer", [] { return std::make_unique<ScaleStep>(); });
  r.add("probe", "measures its input", [] { return std::make_unique<ProbeStep>(); });
  return r;
}

StepSpec stepOf(const std::string& id, const std::string& kind, json options = json::object(),
                const std::string& input = "", int line = 0) {
  StepSpec s;
  s.id = id;
  s.kind = kind;
  s.options = std::move(options);
  s.input = input;
  s.source = {"test.yaml", line};
  for (const auto& [key, _] : s.options.items()) s.option_lines[key] = line + 1;
  return s;
}

}  // namespace

class TestRunner : public QObject {
  Q_OBJECT
 private slots:
  void init() { runs().clear(); }

  void stepsRunInOrderAndBranchFromTheirInput() {
    test::TempDir dir;
    zoo::ZooOptions zo;
    zo.input_channels = 1;
    zo.image_size = 8;
    zo.hidden_sizes = {8};
    zoo::buildZooModel("mlp", zo).save(dir / "base.onnx");
    RecipeFile recipe;
    recipe.name = "order";
    recipe.model = (dir / "base.onnx").string();
    recipe.steps = {stepOf("double", "scale", {{"factor", 2.0}}),
                    stepOf("triple", "scale", {{"factor", 3.0}}),
                    stepOf("from-double", "scale", {{"factor", 5.0}}, "double"),
                    stepOf("look", "probe", {{"compare", "triple"}})};
    RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    const RunResult run = runRecipe(recipe, testRegistry(), options);
    QCOMPARE(run.steps.size(), size_t{4});
    const float base = firstFloat(Model::load(dir / "base.onnx"));
    QVERIFY(base != 0);
    QCOMPARE(firstFloat(Model::load(run.steps[0].model_path)), base * 2);
    QCOMPARE(firstFloat(Model::load(run.steps[1].model_path)), base * 6);
    QCOMPARE(run.steps[2].input, std::string("double"));
    QCOMPARE(firstFloat(Model::load(run.steps[2].model_path)),
             base * 10);  // branched from "double", not "triple"
    // A step without a model passes its input through: the probe saw from-double's model, compared triple's.
    QVERIFY(run.steps[3].model_path.empty());
    QCOMPARE(run.steps[3].result["first"].get<float>(), base * 10);
    QCOMPARE(run.steps[3].result["compare_first"].get<float>(), base * 6);
    QCOMPARE(run.steps[3].result["base_first"].get<float>(), base);
    // The final model is the last one a step made; the run folder has the recipe as run and every step's
    // record.
    QCOMPARE(firstFloat(Model::load(run.final_model)), base * 10);
    QCOMPARE(run.final_model, options.run_dir / "final.onnx");
    QVERIFY(fs::exists(options.run_dir / "recipe.json"));
    QVERIFY(fs::exists(options.run_dir / "steps" / "01-double" / "step.json"));
    QVERIFY(fs::exists(options.run_dir / "steps" / "04-look" / "step.json"));
    QVERIFY(!fs::exists(options.run_dir / "steps" / "04-look" / "model.onnx"));
    // The input model is never written.
    QCOMPARE(firstFloat(Model::load(dir / "base.onnx")), base);
  }

  void aRerunIsCachedAndAnEditRerunsOnlyWhatItChanges() {
    test::TempDir dir;
    RecipeFile recipe;
    recipe.model = "zoo:mlp?input_channels=1&image_size=8";
    recipe.steps = {stepOf("a", "scale", {{"factor", 2.0}}), stepOf("b", "scale", {{"factor", 3.0}}),
                    stepOf("c", "probe")};
    RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    const RunResult first = runRecipe(recipe, testRegistry(), options);
    const std::string first_hash = sha256File(first.final_model);  // the file is rewritten by later runs
    QCOMPARE(runs()["a"], 1);
    QCOMPARE(runs()["c"], 1);
    for (const auto& s : first.steps) QVERIFY(!s.cached);

    const RunResult second = runRecipe(recipe, testRegistry(), options);
    QCOMPARE(runs()["a"], 1);  // nothing ran again
    QCOMPARE(runs()["b"], 1);
    QCOMPARE(runs()["c"], 1);
    for (const auto& s : second.steps) QVERIFY(s.cached);
    QCOMPARE(second.steps[2].result, first.steps[2].result);
    QCOMPARE(sha256File(second.final_model), first_hash);

    // Editing the second step re-runs it and the one after it; the first stays cached.
    recipe.steps[1].options["factor"] = 4.0;
    const RunResult third = runRecipe(recipe, testRegistry(), options);
    QCOMPARE(runs()["a"], 1);
    QCOMPARE(runs()["b"], 2);
    QCOMPARE(runs()["c"], 2);
    QVERIFY(third.steps[0].cached);
    QVERIFY(!third.steps[1].cached);
    QVERIFY(sha256File(third.final_model) != first_hash);

    // Writing an option at its default, or a build that adds an option at the old behaviour, keeps the key.
    recipe.steps[0].options["tensor"] = "";
    runRecipe(recipe, testRegistry(), options);
    QCOMPARE(runs()["a"], 1);
    const RunResult with_note = runRecipe(recipe, testRegistry(false, /*scale_with_note=*/true), options);
    QCOMPARE(runs()["a"], 1);
    QCOMPARE(runs()["b"], 2);
    QVERIFY(with_note.steps[0].cached);
    QCOMPARE(with_note.steps[0].options.at("note").get<std::string>(), std::string());

    // A file a step reads is keyed by its contents: rewriting it with other bytes runs the step again.
    const fs::path labels = dir / "labels.txt";
    writeFileAtomic(labels, "cat\ndog\n");
    recipe.steps[2].options["file"] = labels.string();
    runRecipe(recipe, testRegistry(), options);
    QCOMPARE(runs()["c"], 3);
    runRecipe(recipe, testRegistry(), options);
    QCOMPARE(runs()["c"], 3);
    writeFileAtomic(labels, "cat\nbird\n");
    runRecipe(recipe, testRegistry(), options);
    QCOMPARE(runs()["c"], 4);

    // A newer behaviour of a kind re-runs its steps (and what follows); the other kinds stay cached.
    runRecipe(recipe, testRegistry(/*scale_v2=*/true), options);
    QCOMPARE(runs()["a"], 2);
    QCOMPARE(runs()["b"], 3);
    QCOMPARE(runs()["c"], 4);  // the probe is another kind, and its input came out the same
    runRecipe(recipe, testRegistry(/*scale_v2=*/true), options);
    QCOMPARE(runs()["a"], 2);  // and is cached under its own key from then on

    // use_cache off runs everything.
    options.use_cache = false;
    runRecipe(recipe, testRegistry(), options);
    QCOMPARE(runs()["a"], 3);

    // A torn step record (a crash while writing) is not trusted: the step runs again.
    options.use_cache = true;
    writeFileAtomic(options.run_dir / "steps" / "02-b" / "step.json", "{\"cache_key\": ");
    const RunResult fourth = runRecipe(recipe, testRegistry(), options);
    QVERIFY(fourth.steps[0].cached);
    QVERIFY(!fourth.steps[1].cached);
  }

  // "Run from here": the step and what depends on it run again although cached (the model it makes is the
  // same, so only the option forces it); a step before it and a branch beside it still come from the cache.
  void rerunFromRunsTheStepAndItsDependantsOnly() {
    test::TempDir dir;
    RecipeFile recipe;
    recipe.model = "zoo:mlp?input_channels=1&image_size=8";
    recipe.steps = {stepOf("a", "scale", {{"factor", 2.0}}),
                    stepOf("b", "scale", {{"factor", 3.0}}),
                    stepOf("off", "scale", {{"factor", 7.0}}),  // disabled: passes b's model through
                    stepOf("c", "scale", {{"factor", 5.0}}, "a"),
                    stepOf("d", "probe", {{"compare", "off"}}),  // from c, reads b's model through "off"
                    stepOf("e", "probe", {}, "base")};
    recipe.steps[2].enabled = false;
    const auto registry = testRegistry();
    QCOMPARE(stepsDependingOn(recipe, registry, "b"), (std::vector<std::string>{"b", "off", "d"}));
    QCOMPARE(stepsDependingOn(recipe, registry, "a"), (std::vector<std::string>{"a", "b", "off", "c", "d"}));
    QCOMPARE(stepsDependingOn(recipe, registry, "e"), std::vector<std::string>{"e"});

    RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    runRecipe(recipe, registry, options);
    const fs::path stale = options.run_dir / "steps" / "02-b" / "checkpoint.bin";
    writeFileAtomic(stale, "a step's own resumable state");
    options.rerun_from = "b";
    const RunResult rerun = runRecipe(recipe, registry, options);
    QCOMPARE(runs()["a"], 1);
    QCOMPARE(runs()["b"], 2);
    QCOMPARE(runs()["off"], 0);
    QCOMPARE(runs()["c"], 1);
    QCOMPARE(runs()["d"], 2);
    QCOMPARE(runs()["e"], 1);
    const std::vector<bool> cached = {true, false, false, true, false, true};
    for (size_t i = 0; i < cached.size(); ++i)
      QVERIFY2(rerun.steps[i].cached == cached[i] || !rerun.steps[i].enabled, rerun.steps[i].id.c_str());
    QVERIFY(!fs::exists(stale));  // re-run from an empty folder

    // Without the option the same recipe is all cached again.
    options.rerun_from.clear();
    for (const auto& s : runRecipe(recipe, registry, options).steps) QVERIFY(s.cached || !s.enabled);
    QCOMPARE(runs()["b"], 2);

    options.rerun_from = "nope";
    std::string e = test::errorOf([&] { runRecipe(recipe, registry, options); });
    QVERIFY2(test::contains(e, "re-run from step 'nope': no step 'nope'"), e.c_str());
    options.rerun_from = "off";
    e = test::errorOf([&] { runRecipe(recipe, registry, options); });
    QVERIFY2(test::contains(e, "'off': the step is disabled"), e.c_str());
  }

  void aDisabledStepPassesItsInputThrough() {
    test::TempDir dir;
    RecipeFile recipe;
    recipe.model = "zoo:mlp?input_channels=1&image_size=8";
    recipe.steps = {stepOf("a", "scale", {{"factor", 2.0}}), stepOf("b", "scale", {{"factor", 3.0}}),
                    stepOf("c", "probe")};
    recipe.steps[1].enabled = false;
    RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    std::vector<StepEvent::Type> events;
    options.on_event = [&](const StepEvent& e) {
      if (e.index == 1) events.push_back(e.type);
    };
    const RunResult run = runRecipe(recipe, testRegistry(), options);
    QCOMPARE(runs()["b"], 0);
    QVERIFY(!run.steps[1].enabled);
    QCOMPARE(events, std::vector<StepEvent::Type>{StepEvent::Type::Skipped});
    QCOMPARE(run.steps[2].result["first"].get<float>(), 2 * run.steps[2].result["base_first"].get<float>());
    QCOMPARE(run.final_model, run.run_dir / "final.onnx");
  }

  void progressComposesAcrossSteps() {
    test::TempDir dir;
    RecipeFile recipe;
    recipe.model = "zoo:mlp?input_channels=1&image_size=8";
    recipe.steps = {stepOf("a", "scale"), stepOf("b", "scale"), stepOf("c", "scale")};
    RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    std::vector<Progress> overall;
    JobContext job([&](const Progress& p) { overall.push_back(p); }, std::chrono::milliseconds(0));
    options.job = &job;
    std::vector<double> step_fractions;
    double last_overall = -1;
    bool monotonic = true;
    options.on_event = [&](const StepEvent& e) {
      if (e.type == StepEvent::Type::Progress) step_fractions.push_back(e.step.fraction);
      if (e.overall.fraction < last_overall - 1e-9) monotonic = false;
      last_overall = e.overall.fraction;
    };
    runRecipe(recipe, testRegistry(), options);
    QVERIFY(monotonic);
    QCOMPARE(step_fractions.size(), size_t{12});  // four reports per step, each step's own 0..1
    QCOMPARE(step_fractions[3], 1.0);
    QCOMPARE(step_fractions[4], 0.25);
    // The run's context saw one range, each step a third of it, with the step's place and id before its
    // message.
    QVERIFY(!overall.empty());
    QVERIFY(std::abs(overall.back().fraction - 1.0) < 1e-9);
    QVERIFY(std::abs(overall[3].fraction - 1.0 / 3) < 1e-9);
    QCOMPARE(overall[3].message, std::string("[1/3] a: scaling"));
    QCOMPARE(overall[4].message, std::string("[2/3] b: scaling"));
  }

  void cancellingStopsTheRunAndKeepsWhatIsDone() {
    test::TempDir dir;
    RecipeFile recipe;
    recipe.model = "zoo:mlp?input_channels=1&image_size=8";
    recipe.steps = {stepOf("a", "scale"), stepOf("b", "scale")};
    RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    JobContext job;
    options.job = &job;
    options.on_event = [&](const StepEvent& e) {
      if (e.id == "b" && e.type == StepEvent::Type::Progress)
        job.cancel();  // cancelling the run reaches the step
    };
    bool cancelled = false;
    try {
      runRecipe(recipe, testRegistry(), options);
    } catch (const CancelledError&) {
      cancelled = true;
    }
    QVERIFY(cancelled);
    QVERIFY(fs::exists(options.run_dir / "steps" / "01-a" / "step.json"));
    QVERIFY(!fs::exists(options.run_dir / "steps" / "02-b" / "step.json"));
    JobContext fresh;
    options.job = &fresh;
    options.on_event = {};
    const RunResult resumed = runRecipe(recipe, testRegistry(), options);
    QVERIFY(resumed.steps[0].cached);
    QVERIFY(!resumed.steps[1].cached);
    QCOMPARE(runs()["a"], 1);
  }

  void errorsNameTheLineAndTheStep() {
    RecipeFile recipe;
    recipe.model = "zoo:mlp?input_channels=1&image_size=8";
    const auto registry = testRegistry();
    auto errorFor = [&](std::vector<StepSpec> steps, std::map<std::string, std::string> datasets = {}) {
      recipe.steps = std::move(steps);
      recipe.datasets = std::move(datasets);
      return test::errorOf([&] { validateRecipe(recipe, registry); });
    };
    std::string e = errorFor({stepOf("a", "scale", {{"factr", 2.0}}, "", 7)});
    QVERIFY2(test::contains(e, "test.yaml:8: step 'scale': option 'factr'"), e.c_str());
    e = errorFor({stepOf("a", "scale", {{"factor", "two"}}, "", 7)});
    QVERIFY2(test::contains(e, "test.yaml:8:") && test::contains(e, "wrong type"), e.c_str());
    e = errorFor({stepOf("a", "scale", {{"factor", -1.0}}, "", 7)});
    QVERIFY2(test::contains(e, "test.yaml:8:") && test::contains(e, "must be > 0"), e.c_str());
    e = errorFor({stepOf("a", "shrink", {}, "", 3)});
    QVERIFY2(test::contains(e, "test.yaml:3:") && test::contains(e, "unknown step kind 'shrink'") &&
                 test::contains(e, "probe, scale"),
             e.c_str());
    e = errorFor({stepOf("a", "probe", {{"compare", "b"}}, "", 4), stepOf("b", "scale", {}, "", 5)});
    QVERIFY2(
        test::contains(e, "test.yaml:4:") && test::contains(e, "reads 'b', which is not an earlier step"),
        e.c_str());
    e = errorFor({stepOf("a", "probe", {{"data", "test"}}, "", 4)}, {{"train", "fashion-mnist:train"}});
    QVERIFY2(test::contains(e, "reads the 'test' dataset") && test::contains(e, "name train"), e.c_str());
    QVERIFY(errorFor({stepOf("a", "probe", {{"data", "test"}}, "", 4)}, {{"test", "fashion-mnist"}}).empty());

    // A step that fails at run time: the error names the step, and the steps before it stay done.
    test::TempDir dir;
    recipe.datasets.clear();
    recipe.steps = {stepOf("a", "scale"), stepOf("boom", "probe", {{"fail", true}})};
    RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    e = test::errorOf([&] { runRecipe(recipe, registry, options); });
    QVERIFY2(test::contains(e, "step 'boom' (probe): the probe was told to fail"), e.c_str());
    QVERIFY(fs::exists(options.run_dir / "steps" / "01-a" / "step.json"));
    // A dataset that does not open names its role and spec.
    recipe.steps = {stepOf("look", "probe", {{"data", "test"}})};
    recipe.datasets = {{"test", "idx:/nonexistent/folder"}};
    e = test::errorOf([&] { runRecipe(recipe, registry, options); });
    QVERIFY2(test::contains(e, "datasets.test (idx:/nonexistent/folder)"), e.c_str());
  }

  // Two runs into one folder would overwrite each other's records: the second is refused while the first
  // runs.
  void aRunFolderInUseIsRefused() {
    test::TempDir dir;
    RecipeFile recipe;
    recipe.model = "zoo:mlp?input_channels=1&image_size=8";
    recipe.steps = {stepOf("a", "scale")};
    RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    runRecipe(recipe, testRegistry(), options);  // creates the folder and its lock file
    const int fd = ::open((options.run_dir / "run.lock").c_str(), O_RDWR);
    QVERIFY(fd >= 0);
    QCOMPARE(::flock(fd, LOCK_EX | LOCK_NB), 0);  // another process's run, as far as flock is concerned
    const std::string e = test::errorOf([&] { runRecipe(recipe, testRegistry(), options); });
    QVERIFY2(test::contains(e, "another run is using this run folder"), e.c_str());
    ::close(fd);
    QVERIFY(test::errorOf([&] { runRecipe(recipe, testRegistry(), options); }).empty());
  }

  void describeListsOneLinePerStep() {
    RecipeFile recipe;
    recipe.model = "zoo:mlp";
    recipe.datasets = {{"test", "fashion-mnist"}};
    recipe.steps = {stepOf("a", "scale", {{"factor", 2.0}}), stepOf("b", "probe", {}, "base")};
    recipe.steps[1].enabled = false;
    const auto lines = describePipeline(recipe, testRegistry());
    QCOMPARE(lines.size(), size_t{4});
    QCOMPARE(lines[0], std::string("model: zoo:mlp"));
    QCOMPARE(lines[1], std::string("datasets.test: fashion-mnist"));
    QVERIFY2(test::contains(lines[2], "1. a (scale) <- base") && test::contains(lines[2], "\"factor\":2.0"),
             lines[2].c_str());
    QVERIFY2(test::contains(lines[3], "2. b (probe) <- base") && test::contains(lines[3], "[disabled]"),
             lines[3].c_str());
  }
};

QTEST_GUILESS_MAIN(TestRunner)
#include "test_runner.moc"
