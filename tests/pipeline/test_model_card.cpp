// The model card written with an exported variant: ONNX + <stem>.card.json + <stem>.card.md, never over the
// baseline's own file; the Markdown shows the metrics and the recipe.
#include <QtTest>

#include "core/pipeline/model_card.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/model_source.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;

class TestModelCard : public QObject {
  Q_OBJECT
 private slots:
  void exportWritesTheCardAndGuardsTheBaseline() {
    test::TempDir dir;
    const Model m = zoo::loadModelSource("zoo:mlp");
    m.save(dir / "base.onnx");
    const Model loaded = Model::load(dir / "base.onnx");
    Variant v;
    v.name = "copy";
    v.recipe = emptyRecipe();
    v.metrics.size_bytes = 2500000;
    v.metrics.accuracy = 0.875;
    v.metrics.accuracy_low = 0.85;
    v.metrics.accuracy_high = 0.9;
    v.metrics.accuracy_count = 400;
    v.metrics.latency_ms = 1.25;
    // Never overwrite the baseline file.
    const std::string base_path = (dir / "base.onnx").string();
    QVERIFY(test::contains(test::errorOf([&] { exportVariant(loaded, v, base_path, "", dir / "base.onnx"); }),
                           "refusing to overwrite the baseline"));
    QCOMPARE(readFile(dir / "base.onnx"), m.serialize());
    const auto card = exportVariant(loaded, v, base_path, "fashion-mnist", dir / "out.onnx");
    QCOMPARE(card["variant"].get<std::string>(), std::string("copy"));
    QCOMPARE(card["model_file"].get<std::string>(), std::string("out.onnx"));
    QCOMPARE(nlohmann::json::parse(readFile(dir / "out.card.json")), card);
    QCOMPARE(Model::load(dir / "out.onnx").parameterCount(), m.parameterCount());
    const std::string md = readFile(dir / "out.card.md");
    QCOMPARE(md, modelCardMarkdown(card));
    QVERIFY2(test::contains(md, "# Model card: copy"), md.c_str());
    QVERIFY2(test::contains(md, "Size: 2.50 MB"), md.c_str());
    QVERIFY2(test::contains(md, "87.50% (95% CI 85.00%..90.00%, 400 examples)"), md.c_str());
    QVERIFY2(test::contains(md, "1.250 ms"), md.c_str());
    QVERIFY2(test::contains(md, "Baseline (no passes)."), md.c_str());
  }
};

QTEST_GUILESS_MAIN(TestModelCard)
#include "test_model_card.moc"
