// A variant's model: a v1 pass list applied to its base's model (the project's model, or another variant's
// through the chain; with the coverage lines the CLI prints), or the variant's own file; the errors name the
// recipe problem, the missing file, the missing base or the cycle.
#include <QtTest>

#include "core/pipeline/variant_model.h"
#include "core/util/error.h"
#include "core/zoo/model_source.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;
using nlohmann::json;

namespace {
json pruneRecipe(double ratio) {
  return {{"format", "edgetune-recipe"},
          {"version", 1},
          {"passes", {{{"pass", "prune_channels"}, {"options", {{"ratio", ratio}}}}}}};
}
}  // namespace

class TestVariantModel : public QObject {
  Q_OBJECT
 private slots:
  void emptyRecipeKeepsTheModel() {
    const Model base = zoo::loadModelSource("zoo:mlp");
    QCOMPARE(applyRecipe(base, emptyRecipe()).serialize(), base.serialize());
  }

  void recipeIsAppliedToACopyWithCoverage() {
    const Model base = zoo::loadModelSource("zoo:resnet8?input_channels=1&image_size=28");
    const std::string before = base.serialize();
    std::vector<PassReport> reports;
    const Model pruned = applyRecipe(base, pruneRecipe(0.5), nullptr, &reports);
    QCOMPARE(base.serialize(), before);  // the input is never edited
    QVERIFY(pruned.parameterCount() < base.parameterCount());
    QCOMPARE(reports.size(), size_t{1});
    const auto lines = coverageLines(reports);
    QVERIFY(!lines.empty());
    QVERIFY2(test::contains(lines.front(), "pruned"), lines.front().c_str());
  }

  void badRecipesNameTheProblem() {
    const Model base = zoo::loadModelSource("zoo:mlp");
    json unknown = pruneRecipe(0.5);
    unknown["passes"][0]["pass"] = "prune_everything";
    QVERIFY2(test::contains(test::errorOf([&] { applyRecipe(base, unknown); }), "prune_everything"),
             test::errorOf([&] { applyRecipe(base, unknown); }).c_str());
    QVERIFY(!test::errorOf([&] { applyRecipe(base, json{{"format", "other"}}); }).empty());
  }

  void aVariantIsItsFileOrItsRecipe() {
    test::TempDir dir;
    const Model base = zoo::loadModelSource("zoo:resnet8?input_channels=1&image_size=28");
    Variant by_recipe;
    by_recipe.name = "pruned";
    by_recipe.recipe = pruneRecipe(0.5);
    const Model pruned = variantModel(base, {}, by_recipe);
    QCOMPARE(pruned.serialize(), applyRecipe(base, pruneRecipe(0.5)).serialize());

    // A model file wins over the (then descriptive) recipe.
    pruned.save(dir / "trained.onnx");
    Variant by_file;
    by_file.name = "trained";
    by_file.recipe = pruneRecipe(0.25);
    by_file.model_file = (dir / "trained.onnx").string();
    QCOMPARE(variantModel(base, {}, by_file).parameterCount(), pruned.parameterCount());

    by_file.model_file = (dir / "gone.onnx").string();
    const std::string error = test::errorOf([&] { variantModel(base, {}, by_file); });
    QVERIFY2(test::contains(error, "gone.onnx") && test::contains(error, "'trained'"), error.c_str());
  }

  void chainsResolveThroughTheirBases() {
    test::TempDir dir;
    const Model base = zoo::loadModelSource("zoo:resnet8?input_channels=1&image_size=28");
    const json quantize = {{"format", "edgetune-recipe"},
                           {"version", 1},
                           {"passes", {{{"pass", "quantize"}, {"options", {{"mode", "dynamic"}}}}}}};
    std::vector<Variant> vs(3);
    vs[0].name = "pruned";
    vs[0].recipe = pruneRecipe(0.5);
    vs[1].name = "pruned + int8";
    vs[1].base = "pruned";
    vs[1].recipe = quantize;
    vs[2].name = "pruned + int8 copy";  // a chain of three
    vs[2].base = "pruned + int8";
    vs[2].recipe = emptyRecipe();
    const Model pruned = applyRecipe(base, pruneRecipe(0.5));
    const Model expected = applyRecipe(pruned, quantize);
    QCOMPARE(variantModel(base, vs, vs[1]).serialize(), expected.serialize());
    QCOMPARE(variantModel(base, vs, vs[2]).serialize(), expected.serialize());
    QVERIFY(variantModel(base, vs, vs[1]).serialize() != applyRecipe(base, quantize).serialize());

    // A base with its own file ends the walk: its file, not its recipe, is what the chain starts from.
    const Model other = applyRecipe(base, pruneRecipe(0.25));
    other.save(dir / "trained.onnx");
    vs[0].model_file = (dir / "trained.onnx").string();
    QCOMPARE(variantModel(base, vs, vs[1]).serialize(), applyRecipe(other, quantize).serialize());

    // Errors name the variant: a missing base, a cycle, a bad recipe in the chain.
    vs[0].model_file.clear();
    vs[0].base = "pruned + int8 copy";
    QVERIFY2(test::contains(test::errorOf([&] { variantModel(base, vs, vs[1]); }), "cycle"),
             test::errorOf([&] { variantModel(base, vs, vs[1]); }).c_str());
    vs[0].base = "gone";
    QVERIFY(test::contains(test::errorOf([&] { variantModel(base, vs, vs[1]); }), "'gone'"));
    vs[0].base.clear();
    vs[0].recipe["passes"][0]["pass"] = "prune_everything";
    const std::string error = test::errorOf([&] { variantModel(base, vs, vs[2]); });
    QVERIFY2(test::contains(error, "variant 'pruned'") && test::contains(error, "prune_everything"),
             error.c_str());
  }
};

QTEST_GUILESS_MAIN(TestVariantModel)
#include "test_variant_model.moc"
