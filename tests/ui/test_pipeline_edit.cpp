// The Pipeline dock's edits without a widget (ui/pipeline_edit.h), on the real step kinds: moves that would
// put a step before its input or a step it reads are refused, as are options a kind rejects (naming the key),
// deleting a step others need, and enabling a step whose dataset the recipe does not name; a refusal leaves
// the recipe as it was. Also the options' YAML text both ways, and what the dock shows after a run.
#include <QtTest>

#include "core/passes/pass.h"
#include "core/pipeline/recipe_file.h"
#include "core/pipeline/runner.h"
#include "core/util/error.h"
#include "tests/tests_common.h"
#include "ui/pipeline_edit.h"

using namespace edgetune;
using namespace edgetune::ui;
using nlohmann::json;
using pipeline::RecipeFile;

namespace {

// clean -> sens -> prune (reads sens) -> int8 (from prune, named) -> evaluate.
RecipeFile recipe() {
  return pipeline::parseRecipe(
      "format: edgetune-recipe\nversion: 2\nmodel: zoo:mlp\n"
      "datasets: {test: 'fashion-mnist?limit=10'}\n"
      "steps:\n"
      "  - clean: {}\n"
      "  - id: sens\n    kind: sensitivity\n    options: {data: test, limit: 10}\n"
      "  - id: prune\n    kind: prune\n"
      "    options: {method: channels, ratio: 0.3, allocate: {metric: params, keep: 0.5, sensitivity: "
      "sens}}\n"
      "  - id: int8\n    kind: quantize\n    input: prune\n    options: {mode: dynamic}\n"
      "  - evaluate: {data: test}\n",
      "t.yaml");
}

std::vector<std::string> ids(const RecipeFile& r) {
  std::vector<std::string> out;
  for (const auto& s : r.steps) out.push_back(s.id);
  return out;
}

// The error `edit` throws on a copy of `r`, after checking that the copy is unchanged.
template <class Edit>
std::string refusal(const RecipeFile& r, Edit&& edit) {
  RecipeFile copy = r;
  std::string message;
  try {
    edit(copy);
  } catch (const Error& e) {
    message = e.what();
  }
  if (copy.toJson() != r.toJson()) return "CHANGED: " + message;
  return message;
}

}  // namespace

class TestPipelineEdit : public QObject {
  Q_OBJECT
  const pipeline::StepRegistry registry_ = pipeline::StepRegistry::withBuiltins();

 private slots:
  void theFixtureIsValid() { pipeline::validateRecipe(recipe(), registry_); }

  void movesKeepInputsAndReferencesEarlier() {
    const RecipeFile r = recipe();
    std::string e = refusal(r, [&](RecipeFile& c) { moveStep(c, 2, -1, registry_); });
    QVERIFY2(test::contains(e, "cannot move 'prune' above 'sens'") && test::contains(e, "reads 'sens'"),
             e.c_str());
    e = refusal(r, [&](RecipeFile& c) { moveStep(c, 1, 1, registry_); });
    QVERIFY2(test::contains(e, "cannot move 'sens' below 'prune'"), e.c_str());
    e = refusal(r, [&](RecipeFile& c) { moveStep(c, 3, -1, registry_); });
    QVERIFY2(test::contains(e, "cannot move 'int8' above 'prune'") &&
                 test::contains(e, "starts from 'prune' (its input)"),
             e.c_str());
    e = refusal(r, [&](RecipeFile& c) { moveStep(c, 0, -1, registry_); });
    QVERIFY2(test::contains(e, "already the first step"), e.c_str());
    e = refusal(r, [&](RecipeFile& c) { moveStep(c, 4, 1, registry_); });
    QVERIFY2(test::contains(e, "already the last step"), e.c_str());

    // Moves that keep every dependency earlier are applied; a step without a named input then starts from
    // its new predecessor.
    RecipeFile m = r;
    moveStep(m, 0, 1, registry_);
    QCOMPARE(ids(m), (std::vector<std::string>{"sens", "clean", "prune", "int8", "evaluate"}));
    QCOMPARE(m.inputOf(0), std::string("base"));
    QCOMPARE(m.inputOf(1), std::string("sens"));
    moveStep(m, 4, -1,
             registry_);  // evaluate before int8: int8 names its input, so it still starts from prune
    QCOMPARE(ids(m), (std::vector<std::string>{"sens", "clean", "prune", "evaluate", "int8"}));
    QCOMPARE(m.inputOf(4), std::string("prune"));
    // The file's lines no longer describe the edited recipe: messages name the file only.
    for (const auto& s : m.steps) QCOMPARE(s.source.line, 0);
    QCOMPARE(r.steps[2].source.line > 0, true);
  }

  void enablingChecksTheDatasets() {
    RecipeFile r = recipe();
    setStepEnabled(r, 2, false, registry_);
    QVERIFY(!r.steps[2].enabled);
    QCOMPARE(r.inputOf(4), std::string("int8"));
    setStepEnabled(r, 2, true, registry_);
    QVERIFY(r.steps[2].enabled);

    // A disabled step may read a dataset the recipe does not name; enabling it may not.
    RecipeFile v = pipeline::parseRecipe(
        "format: edgetune-recipe\nversion: 2\nmodel: zoo:mlp\nsteps:\n"
        "  - id: sens\n    kind: sensitivity\n    enabled: false\n",
        "v.yaml");
    pipeline::validateRecipe(v, registry_);
    const std::string e = refusal(v, [&](RecipeFile& c) { setStepEnabled(c, 0, true, registry_); });
    QVERIFY2(test::contains(e, "reads the 'validation' dataset") && test::contains(e, "v.yaml"), e.c_str());
    QVERIFY2(!QString::fromStdString(e).contains(QRegularExpression("v\\.yaml:\\d")),
             e.c_str());  // no stale line
  }

  void optionsAreCheckedByTheKindAndNameTheKey() {
    const RecipeFile r = recipe();
    std::string key;
    std::string e = refusal(r, [&](RecipeFile& c) {
      try {
        setStepOptions(c, 2, {{"method", "channels"}, {"ratoi", 0.3}}, registry_);
      } catch (const OptionError& oe) {
        key = oe.key();
        throw;
      }
    });
    QCOMPARE(key, std::string("ratoi"));
    QVERIFY2(test::contains(e, "option 'ratoi'"), e.c_str());
    e = refusal(r, [&](RecipeFile& c) { setStepOptions(c, 2, {{"method", "sideways"}}, registry_); });
    QVERIFY2(test::contains(e, "option 'method'") && test::contains(e, "sideways"), e.c_str());
    // A step whose id is not its kind is named by both.
    e = refusal(r, [&](RecipeFile& c) { setStepOptions(c, 3, {{"mode", "int3"}}, registry_); });
    QVERIFY2(test::contains(e, "step 'int8' (quantize): ") && test::contains(e, "option 'mode'"), e.c_str());
    // Valid options that read a later step are refused by the order check.
    e = refusal(r, [&](RecipeFile& c) {
      setStepOptions(c, 2,
                     {{"method", "channels"},
                      {"ratio", 0.3},
                      {"allocate", {{"metric", "params"}, {"keep", 0.5}, {"sensitivity", "int8"}}}},
                     registry_);
    });
    QVERIFY2(test::contains(e, "reads 'int8', which is not an earlier step"), e.c_str());
    e = refusal(r, [&](RecipeFile& c) { setStepOptions(c, 2, json::array(), registry_); });
    QVERIFY2(test::contains(e, "a map"), e.c_str());

    RecipeFile ok = r;
    setStepOptions(ok, 2, {{"method", "channels"}, {"ratio", 0.4}}, registry_);
    QCOMPARE(ok.steps[2].options, json({{"method", "channels"}, {"ratio", 0.4}}));
    QVERIFY(ok.steps[2].option_lines.empty());
    // Without the allocation, prune no longer reads sens: sens may now move below it.
    moveStep(ok, 1, 1, registry_);
    QCOMPARE(ids(ok), (std::vector<std::string>{"clean", "prune", "sens", "int8", "evaluate"}));
  }

  void deletingRefusesWhatOthersNeed() {
    const RecipeFile r = recipe();
    std::string e = refusal(r, [&](RecipeFile& c) { deleteStep(c, 1, registry_); });
    QVERIFY2(test::contains(e, "cannot delete 'sens'") && test::contains(e, "'prune' (prune) reads 'sens'"),
             e.c_str());
    e = refusal(r, [&](RecipeFile& c) { deleteStep(c, 2, registry_); });
    QVERIFY2(test::contains(e, "cannot delete 'prune'") && test::contains(e, "'int8' starts from 'prune'"),
             e.c_str());
    e = refusal(r, [&](RecipeFile& c) { deleteStep(c, 9, registry_); });
    QVERIFY2(test::contains(e, "no step 10"), e.c_str());

    RecipeFile d = r;
    deleteStep(d, 0, registry_);
    QCOMPARE(ids(d), (std::vector<std::string>{"sens", "prune", "int8", "evaluate"}));
    QCOMPARE(d.inputOf(0), std::string("base"));
    deleteStep(d, 3, registry_);
    QCOMPARE(d.steps.size(), size_t{3});
  }

  void optionsTextBothWays() {
    const json options = {{"method", "channels"},
                          {"ratio", 0.25},
                          {"protect", {"fc", "0.5"}},
                          {"allocate", {{"metric", "params"}, {"keep", 0.5}}}};
    const std::string yaml = pipeline::optionsToYaml(options);
    QVERIFY2(test::contains(yaml, "ratio: 0.25\n") && test::contains(yaml, "allocate:\n  keep: 0.5\n"),
             yaml.c_str());
    QCOMPARE(pipeline::parseOptionsText(yaml, "x"), options);  // "0.5" stays text
    QCOMPARE(pipeline::optionsToYaml(json::object()), std::string("{}\n"));
    QCOMPARE(pipeline::parseOptionsText("", "x"), json::object());
    QCOMPARE(pipeline::parseOptionsText("{}", "x"), json::object());
    QCOMPARE(pipeline::parseOptionsText("{\"ratio\": 0.5, \"round_to\": 8}", "x"),
             json({{"ratio", 0.5}, {"round_to", 8}}));
    std::string e = test::errorOf([] { pipeline::parseOptionsText("ratio: 0.5\nratio: 0.6\n", "opts"); });
    QVERIFY2(test::contains(e, "opts:2: ratio: duplicate key"), e.c_str());
    e = test::errorOf([] { pipeline::parseOptionsText("- a\n- b\n", "opts"); });
    QVERIFY2(test::contains(e, "opts:1: the options are a map"), e.c_str());
    e = test::errorOf([] { pipeline::parseOptionsText("ratio: [0.5\n", "opts"); });
    QVERIFY2(test::contains(e, "opts:"), e.c_str());

    QCOMPARE(optionsSummary(options, 200),
             std::string("allocate: {\"keep\":0.5,\"metric\":\"params\"}, method: channels, protect: "
                         "[\"fc\",\"0.5\"], ratio: 0.25"));
    const std::string cut = optionsSummary(options, 20);
    QCOMPARE(cut.size(), size_t{20});
    QVERIFY(cut.ends_with("..."));
    QCOMPARE(optionsSummary(json::object()), std::string());
  }

  void runSummariesSayRanOrCached() {
    pipeline::RunResult run;
    auto record = [](const std::string& id, bool cached, double seconds, bool with_model) {
      pipeline::StepRecord r;
      r.id = id;
      r.cached = cached;
      r.seconds = seconds;
      if (with_model) r.model_path = "steps/" + id + "/model.onnx";
      return r;
    };
    run.steps = {record("clean", true, 0, true), record("prune", false, 1.31, true),
                 record("evaluate", false, 0.5, false), record("off", false, 0, true)};
    run.steps[2].result = {{"top1", 0.81}};
    run.steps[3].enabled = false;
    pipeline::ModelMeasurement prune;
    prune.step_id = "prune";
    prune.file_bytes = 12345;
    prune.has_accuracy = true;
    prune.accuracy = 0.875;
    run.report.models = {prune};

    const auto clean = stepRunSummary(run, "clean");
    QVERIFY(clean && clean->outcomeText() == "cached" && !clean->accuracy && !clean->size_bytes);
    const auto p = stepRunSummary(run, "prune");
    QVERIFY(p);
    QCOMPARE(p->outcomeText(), std::string("ran 1.3 s"));
    QCOMPARE(*p->accuracy, 0.875);
    QCOMPARE(*p->size_bytes, int64_t{12345});
    run.steps[1].seconds = 0.01;
    QCOMPARE(stepRunSummary(run, "prune")->outcomeText(), std::string("ran <0.1 s"));
    const auto ev = stepRunSummary(run, "evaluate");
    QVERIFY(ev && ev->accuracy && *ev->accuracy == 0.81 && !ev->size_bytes);
    QCOMPARE(stepRunSummary(run, "off")->outcomeText(), std::string("skipped (disabled)"));
    QVERIFY(!stepRunSummary(run, "missing"));
  }
};

QTEST_GUILESS_MAIN(TestPipelineEdit)
#include "test_pipeline_edit.moc"
