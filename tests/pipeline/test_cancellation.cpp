// Cancellation is not an error: a cancelled job's CancelledError passes unchanged through the catch sites
// that wrap failures with context (a variant's name, a recipe step's label), so the studio and the CLI report
// it as "cancelled" and not as a failed step. Real work: static INT8 calibration on real Fashion-MNIST,
// cancelled from its own progress reports while it runs.
#include <QtTest>

#include <type_traits>

#include "core/pipeline/runner.h"
#include "core/pipeline/variant_model.h"
#include "core/util/error.h"
#include "core/zoo/model_source.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

static_assert(!std::is_base_of_v<Error, CancelledError>,
              "a catch (const Error&) that adds context must not catch a cancellation");

constexpr const char* kModel = "zoo:resnet8?input_channels=1&image_size=28";

// What arrived from `work`: "cancelled" for a CancelledError, "error: MESSAGE" for an Error, "" for nothing.
std::string outcomeOf(const std::function<void()>& work) {
  try {
    work();
  } catch (const CancelledError& e) {
    return e.what();
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
  return "";
}

// A job that cancels itself at its first report past `fraction`: the work is then in its middle.
struct SelfCancellingJob {
  explicit SelfCancellingJob(double fraction)
      : job(
            [this, fraction](const Progress& p) {
              if (p.fraction > fraction && !job.cancelled()) {
                reported_at = p.fraction;
                job.cancel();
              }
            },
            std::chrono::milliseconds(0)) {}
  JobContext job;
  double reported_at = -1;
};

}  // namespace

class TestCancellation : public QObject {
  Q_OBJECT
 private slots:
  void anErrorWrapperLetsCancellationThrough() {
    // The shape of every context-adding catch in core.
    const std::string outcome = outcomeOf([] {
      try {
        throw CancelledError();
      } catch (const Error& e) {
        throw Error(std::string("step 'x': ") + e.what());
      }
    });
    QCOMPARE(outcome, std::string("cancelled"));
  }

  void aVariantChainPassesCancellationUnchanged() {
    const Model base = zoo::loadModelSource(kModel);
    Variant int8;
    int8.name = "int8";
    int8.recipe = {
        {"format", "edgetune-recipe"},
        {"version", 1},
        {"passes",
         {{{"pass", "quantize"},
           {"options", {{"mode", "static"}, {"data", "fashion-mnist?limit=256"}, {"batch_size", 8}}}}}}};
    SelfCancellingJob cancelling(0.05);
    const std::string outcome = outcomeOf([&] { variantModel(base, {}, int8, &cancelling.job); });
    QVERIFY2(outcome == "cancelled", outcome.c_str());
    QVERIFY(cancelling.reported_at > 0.05 && cancelling.reported_at < 1.0);  // stopped in the middle

    // The same chain without the cancellation succeeds, and a real failure still names the variant.
    QVERIFY(variantModel(base, {}, int8).parameterCount() > 0);
    int8.recipe["passes"][0]["options"]["data"] = "fashion-mnist?no_such_key=1";
    const std::string failure = outcomeOf([&] { variantModel(base, {}, int8); });
    QVERIFY2(test::contains(failure, "error: variant 'int8': "), failure.c_str());
  }

  void aRecipeStepPassesCancellationUnchanged() {
    test::TempDir dir;
    RecipeFile recipe;
    recipe.model = kModel;
    recipe.datasets = {{"calibration", "fashion-mnist?limit=256"}};
    StepSpec quantize;
    quantize.id = "int8";
    quantize.kind = "quantize";
    quantize.options = {{"mode", "static"}, {"batch_size", 8}};
    recipe.steps = {quantize};
    RunOptions options;
    options.run_dir = dir / "run";
    options.report = false;
    SelfCancellingJob cancelling(0.1);
    options.job = &cancelling.job;
    bool step_started = false;
    options.on_event = [&](const StepEvent& e) {
      if (e.id == "int8" && e.type == StepEvent::Type::Progress) step_started = true;
    };
    const std::string outcome = outcomeOf([&] { runRecipe(recipe, StepRegistry::withBuiltins(), options); });
    QVERIFY2(outcome == "cancelled", outcome.c_str());  // not "error: step 'int8' (quantize): cancelled"
    QVERIFY(step_started);
    QVERIFY(!fs::exists(options.run_dir / "steps" / "01-int8" / "step.json"));  // nothing recorded as done
  }
};

QTEST_GUILESS_MAIN(TestCancellation)
#include "test_cancellation.moc"
