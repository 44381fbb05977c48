// Recipe v2 files: short and long step forms, default ids, inputs and disabled steps, every structural error
// (with its line and key), the YAML 1.2 core-schema conversion of options, exact JSON and YAML round trips,
// --set overrides, model paths, and hostile input (deep nesting, huge files, alias bombs, bad UTF-8).
#include <QtTest>

#include <cmath>
#include <fstream>

#include "core/pipeline/recipe_file.h"
#include "core/util/error.h"
#include "tests/tests_common.h"

using namespace edgetune;
using namespace edgetune::pipeline;
using namespace edgetune::test;
using nlohmann::json;

namespace {

const char* kHeader = "format: edgetune-recipe\nversion: 2\nmodel: model.onnx\n";

RecipeFile parse(const std::string& text, const std::string& origin = "test.yaml") {
  return parseRecipe(text, origin);
}

// A recipe whose one step has the options `options` (YAML flow text).
RecipeFile withOptions(const std::string& options) {
  return parse(std::string(kHeader) + "steps:\n  - s: " + options + "\n");
}

std::string errorOfParse(const std::string& text) {
  return errorOf([&] { parse(text, "bad.yaml"); });
}

void writeFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string canonical(const RecipeFile& recipe) {
  return recipe.toJson().dump();
}

std::string nestedLists(int levels) {
  return std::string(levels, '[') + "1" + std::string(levels, ']');
}

}  // namespace

class TestRecipeFile : public QObject {
  Q_OBJECT
 private slots:
  void shortAndLongForms() {
    const RecipeFile recipe = parse(
        "format: edgetune-recipe\n"                // 1
        "version: 2\n"                             // 2
        "name: paper-image\n"                      // 3
        "description: Prune, then INT8.\n"         // 4
        "model: ../models/resnet18_fmnist.onnx\n"  // 5
        "datasets:\n"                              // 6
        "  train: fashion-mnist:train?subset=train&val=0.1&test=0&seed=0\n"
        "  test: fashion-mnist\n"                      // 8
        "steps:\n"                                     // 9
        "  - prune: {method: channels, ratio: 0.5}\n"  // 10
        "  - id: int8\n"                               // 11
        "    kind: quantize\n"                         // 12
        "    input: prune\n"                           // 13
        "    options:\n"                               // 14
        "      mode: static\n"                         // 15
        "      calibration_count: 512\n"               // 16
        "  - clean:\n"                                 // 17
        "  - kind: evaluate\n"                         // 18
        "    enabled: false\n");                       // 19
    QCOMPARE(recipe.name, std::string("paper-image"));
    QCOMPARE(recipe.description, std::string("Prune, then INT8."));
    QCOMPARE(recipe.model, std::string("../models/resnet18_fmnist.onnx"));
    QCOMPARE(recipe.datasets.size(), size_t(2));
    QCOMPARE(recipe.datasets.at("train"),
             std::string("fashion-mnist:train?subset=train&val=0.1&test=0&seed=0"));
    QCOMPARE(recipe.origin, std::filesystem::path("test.yaml"));
    QCOMPARE(recipe.steps.size(), size_t(4));

    const StepSpec& prune = recipe.steps[0];
    QCOMPARE(prune.id, std::string("prune"));
    QCOMPARE(prune.kind, std::string("prune"));
    QCOMPARE(prune.input, std::string());
    QVERIFY(prune.enabled);
    QCOMPARE(prune.options, json({{"method", "channels"}, {"ratio", 0.5}}));
    QVERIFY(prune.options["ratio"].is_number_float());
    QCOMPARE(prune.source.where(), std::string("test.yaml:10"));
    QCOMPARE(prune.lineOf("ratio").where(), std::string("test.yaml:10"));

    const StepSpec& int8 = recipe.steps[1];
    QCOMPARE(int8.id, std::string("int8"));
    QCOMPARE(int8.kind, std::string("quantize"));
    QCOMPARE(int8.input, std::string("prune"));
    QCOMPARE(int8.options, json({{"mode", "static"}, {"calibration_count", 512}}));
    QVERIFY(int8.options["calibration_count"].is_number_integer());
    QCOMPARE(int8.source.line, 11);
    QCOMPARE(int8.option_lines.at("mode"), 15);
    QCOMPARE(int8.lineOf("calibration_count").line, 16);
    QCOMPARE(int8.lineOf("no-such-option").line, 11);  // the step's own line

    QCOMPARE(recipe.steps[2].kind, std::string("clean"));  // a null value: no options
    QCOMPARE(recipe.steps[2].options, json::object());
    QCOMPARE(recipe.steps[3].id, std::string("evaluate"));
    QVERIFY(!recipe.steps[3].enabled);

    QVERIFY(recipe.step("int8") == &recipe.steps[1]);
    QVERIFY(recipe.step("nope") == nullptr);
  }

  void defaultIds_data() {
    QTest::addColumn<QString>("steps");
    QTest::addColumn<QString>("ids");
    QTest::newRow("one") << "- prune: {}"
                         << "prune";
    QTest::newRow("repeated kind") << "- prune: {}\n- clean: {}\n- prune: {}\n- prune: {}"
                                   << "prune clean prune-2 prune-3";
    QTest::newRow("explicit ids do not count") << "- {id: coarse, kind: prune}\n- prune: {}"
                                               << "coarse prune";
    QTest::newRow("a later explicit id is skipped")
        << "- prune: {}\n- prune: {}\n- {id: prune-2, kind: clean}"
        << "prune prune-3 prune-2";
    QTest::newRow("an earlier explicit id is skipped") << "- {id: prune, kind: clean}\n- prune: {}"
                                                       << "prune prune-2";
  }
  void defaultIds() {
    QFETCH(QString, steps);
    QFETCH(QString, ids);
    const RecipeFile recipe = parse(std::string(kHeader) + "steps:\n" + steps.toStdString() + "\n");
    QStringList got;
    for (const auto& s : recipe.steps) got << QString::fromStdString(s.id);
    QCOMPARE(got.join(' '), ids);
  }

  void branchesViaInput() {
    const RecipeFile recipe =
        parse(std::string(kHeader) +
              "steps:\n"
              "  - prune: {ratio: 0.5}\n"
              "  - {id: int8-static, kind: quantize, input: prune, options: {mode: static}}\n"
              "  - {id: int8-dynamic, kind: quantize, input: prune, options: {mode: dynamic}}\n"
              "  - {id: fp32-export, kind: export, input: base}\n"
              "  - evaluate: {}\n");
    QCOMPARE(recipe.inputOf(0), std::string("base"));
    QCOMPARE(recipe.inputOf(1), std::string("prune"));
    QCOMPARE(recipe.inputOf(2), std::string("prune"));  // a branch: not int8-static
    QCOMPARE(recipe.inputOf(3), std::string("base"));
    QCOMPARE(recipe.inputOf(4), std::string("fp32-export"));
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, recipe.inputOf(5));
  }

  void disabledStepsPassTheirInputThrough() {
    const RecipeFile recipe = parse(std::string(kHeader) +
                                    "steps:\n"
                                    "  - {kind: clean, enabled: false}\n"      // 0: base
                                    "  - prune: {}\n"                          // 1: base (0 is off)
                                    "  - {kind: recover, enabled: false}\n"    // 2: prune
                                    "  - {kind: quantize, enabled: false}\n"   // 3: prune
                                    "  - export: {}\n"                         // 4: prune (3 and 2 are off)
                                    "  - {kind: evaluate, input: quantize}\n"  // 5: prune (via 3, 2)
                                    "  - {kind: benchmark, input: clean}\n");  // 6: base (via 0)
    QCOMPARE(recipe.inputOf(0), std::string("base"));
    QCOMPARE(recipe.inputOf(1), std::string("base"));
    QCOMPARE(recipe.inputOf(2), std::string("prune"));
    QCOMPARE(recipe.inputOf(4), std::string("prune"));
    QCOMPARE(recipe.inputOf(5), std::string("prune"));
    QCOMPARE(recipe.inputOf(6), std::string("base"));
  }

  void badRecipes_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("prefix");    // "bad.yaml:LINE: KEY:"
    QTest::addColumn<QString>("expected");  // also in the message
    const QString h = kHeader;
    QTest::newRow("unknown top key")
        << "format: edgetune-recipe\nversion: 2\nmodel: m.onnx\npases: []\nsteps: [a: {}]"
        << "bad.yaml:4: pases:"
        << "accepted: format, version, name, description";
    QTest::newRow("missing format") << "version: 2\nmodel: m\nsteps: [a: {}]"
                                    << "bad.yaml:1: format:"
                                    << "missing";
    QTest::newRow("wrong format") << "format: recipe\nversion: 2\nmodel: m\nsteps: [a: {}]"
                                  << "bad.yaml:1: format:"
                                  << "edgetune-recipe";
    QTest::newRow("missing version") << "format: edgetune-recipe\nmodel: m\nsteps: [a: {}]"
                                     << "bad.yaml:1: version:"
                                     << "missing";
    QTest::newRow("version 3") << "format: edgetune-recipe\nversion: 3\nmodel: m\nsteps: [a: {}]"
                               << "bad.yaml:2: version:"
                               << "unsupported version 3";
    QTest::newRow("version as text") << "format: edgetune-recipe\nversion: \"2\"\nmodel: m\nsteps: [a: {}]"
                                     << "bad.yaml:2: version:"
                                     << "must be the number 2";
    QTest::newRow("missing model") << "format: edgetune-recipe\nversion: 2\nsteps: [a: {}]"
                                   << "bad.yaml:1: model:"
                                   << "missing";
    QTest::newRow("model not text") << "format: edgetune-recipe\nversion: 2\nmodel: [a]\nsteps: [a: {}]"
                                    << "bad.yaml:3: model:"
                                    << "must be text";
    QTest::newRow("name a number") << h + "name: 2024\nsteps: [a: {}]"
                                   << "bad.yaml:4: name:"
                                   << "quote it";
    QTest::newRow("missing steps") << h << "bad.yaml:1: steps:"
                                   << "missing";
    QTest::newRow("empty steps") << h + "steps: []"
                                 << "bad.yaml:4: steps:"
                                 << "non-empty list";
    QTest::newRow("steps a map") << h + "steps: {prune: {}}"
                                 << "bad.yaml:4: steps:"
                                 << "non-empty list";
    QTest::newRow("step a string") << h + "steps:\n  - prune"
                                   << "bad.yaml:5: steps:"
                                   << "each step is a map";
    QTest::newRow("datasets not a map") << h + "datasets: [train]\nsteps: [a: {}]"
                                        << "bad.yaml:4: datasets:"
                                        << "role -> data spec";
    QTest::newRow("unknown role") << h + "datasets:\n  train: x\n  eval: y\nsteps: [a: {}]"
                                  << "bad.yaml:6: datasets.eval:"
                                  << "roles: train, validation, calibration, test";
    QTest::newRow("role a number") << h + "datasets:\n  test: 5\nsteps: [a: {}]"
                                   << "bad.yaml:5: datasets.test:"
                                   << "must be text";
    QTest::newRow("unknown step key") << h + "steps:\n  - kind: prune\n    ratio: 0.5"
                                      << "bad.yaml:6: ratio:"
                                      << "accepted: id, kind, input, enabled, options";
    QTest::newRow("short form with two keys") << h + "steps:\n  - prune: {}\n    clean: {}"
                                              << "bad.yaml:"
                                              << "unknown step key";
    QTest::newRow("missing kind") << h + "steps:\n  - id: x\n    options: {}"
                                  << "bad.yaml:5: kind:"
                                  << "missing";
    QTest::newRow("kind a list") << h + "steps:\n  - kind: [prune]"
                                 << "bad.yaml:5: kind:"
                                 << "must be text";
    QTest::newRow("short options a list") << h + "steps:\n  - prune: [0.5]"
                                          << "bad.yaml:5: prune:"
                                          << "options must be a map";
    QTest::newRow("options a number") << h + "steps:\n  - kind: prune\n    options: 5"
                                      << "bad.yaml:6: options:"
                                      << "options must be a map";
    QTest::newRow("enabled text") << h + "steps:\n  - kind: prune\n    enabled: no"
                                  << "bad.yaml:6: enabled:"
                                  << "true or false";
    QTest::newRow("bad id") << h + "steps:\n  - id: a/b\n    kind: prune"
                            << "bad.yaml:5: id:"
                            << "letters, digits and _.- only";
    QTest::newRow("dot-dot id") << h + "steps:\n  - id: ..\n    kind: prune"
                                << "bad.yaml:5: id:"
                                << "not a step id";
    QTest::newRow("base id") << h + "steps:\n  - id: base\n    kind: prune"
                             << "bad.yaml:5: id:"
                             << "reserved";
    QTest::newRow("duplicate id") << h + "steps:\n  - id: a\n    kind: prune\n  - id: a\n    kind: clean"
                                  << "bad.yaml:7: id:"
                                  << "used twice (first at line 5)";
    QTest::newRow("input unknown") << h + "steps:\n  - prune: {}\n  - kind: quantize\n    input: prun"
                                   << "bad.yaml:7: input:"
                                   << "'prun' is not a step; a step starts from one of: "
                                      "base, prune";
    QTest::newRow("input later") << h + "steps:\n  - kind: quantize\n    input: prune\n  - prune: {}"
                                 << "bad.yaml:6: input:"
                                 << "not an earlier step";
    QTest::newRow("input itself") << h + "steps:\n  - id: q\n    kind: quantize\n    input: q"
                                  << "bad.yaml:7: input:"
                                  << "not an earlier step";
    QTest::newRow("duplicate top key") << h + "model: other.onnx\nsteps: [a: {}]"
                                       << "bad.yaml:4: model:"
                                       << "duplicate key (first at line 3)";
    QTest::newRow("duplicate option") << h + "steps:\n  - prune:\n      ratio: 0.5\n      ratio: 0.6"
                                      << "bad.yaml:7: ratio:"
                                      << "duplicate key (first at line 6)";
    QTest::newRow("duplicate nested option") << h + "steps:\n  - prune: {a: {b: 1, b: 2}}"
                                             << "bad.yaml:5: b:"
                                             << "duplicate key";
    QTest::newRow("duplicate step key") << h + "steps:\n  - kind: prune\n    kind: clean"
                                        << "bad.yaml:6: kind:"
                                        << "duplicate key";
    QTest::newRow("map key a list") << h + "steps:\n  - prune: {[a]: 1}"
                                    << "bad.yaml:5:"
                                    << "key must be text";
    QTest::newRow("syntax error") << h + "steps: [a: {}\n"
                                  << "bad.yaml:"
                                  << "end of sequence flow not found";
    QTest::newRow("bad indentation") << h + "steps:\n  - prune: {}\n   x: 1"
                                     << "bad.yaml:6:"
                                     << "";
    QTest::newRow("top level a list") << "- a\n- b"
                                      << "bad.yaml:1: recipe:"
                                      << "must be a map of keys";
    QTest::newRow("empty") << ""
                           << "bad.yaml:"
                           << "empty recipe";
    QTest::newRow("two documents") << h + "steps: [a: {}]\n---\n" + h + "steps: [a: {}]"
                                   << "bad.yaml:"
                                   << "one YAML document";
    QTest::newRow("int out of range") << h + "steps: [a: {n: 99999999999999999999}]"
                                      << "bad.yaml:4: a.n:"
                                      << "out of range";
    QTest::newRow("wrong explicit tag") << h + "steps: [a: {n: !!int abc}]"
                                        << "bad.yaml:4: a.n:"
                                        << "not a !!int";
    QTest::newRow("unknown tag") << h + "steps: [a: {n: !custom 5}]"
                                 << "bad.yaml:4: a.n:"
                                 << "unsupported tag";
    QTest::newRow("alias cycle") << h + "steps: [a: {n: &x [1, *x]}]"
                                 << "bad.yaml:"
                                 << "deeper than 64 levels";
  }
  void badRecipes() {
    QFETCH(QString, text);
    QFETCH(QString, prefix);
    QFETCH(QString, expected);
    const std::string message = errorOfParse(text.toStdString());
    QVERIFY2(!message.empty(), "bad recipe accepted");
    QVERIFY2(message.rfind(prefix.toStdString(), 0) == 0, message.c_str());
    QVERIFY2(contains(message, expected.toStdString()), message.c_str());
    QVERIFY2(message.find('\n') == std::string::npos, message.c_str());  // one line
  }

  void versionOneIsRefusedWithAHint() {
    // A real version-1 pass list, as core/passes/pass.cpp's Recipe::toJson() writes it. (No raw strings in
    // this file: moc 6.4 loses the class after one.)
    const std::string v1 =
        "{\"format\": \"edgetune-recipe\", \"version\": 1, \"passes\": [\n"
        "  {\"pass\": \"cleanup\", \"options\": {}}, {\"pass\": \"prune-channels\", \"options\": {\"ratio\": "
        "0.5}}]}";
    const std::string message = errorOfParse(v1);
    QVERIFY2(message.rfind("bad.yaml:1: version:", 0) == 0, message.c_str());
    QVERIFY2(contains(message, "pass list of version 1"), message.c_str());
    QVERIFY2(contains(message, "version: 2"), message.c_str());
    QVERIFY2(contains(message, "steps:"), message.c_str());
  }

  void scalarConversion_data() {
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<QString>("json");  // the value's dump
    QTest::newRow("double") << "0.5"
                            << "0.5";
    QTest::newRow("exponent") << "1e-3"
                              << "0.001";
    QTest::newRow("exponent no dot") << "1e3"
                                     << "1000.0";
    QTest::newRow("leading dot") << ".5"
                                 << "0.5";
    QTest::newRow("trailing dot") << "5."
                                  << "5.0";
    QTest::newRow("signed double") << "+2.5"
                                   << "2.5";
    QTest::newRow("int") << "42"
                         << "42";
    QTest::newRow("negative int") << "-7"
                                  << "-7";
    QTest::newRow("plus int") << "+7"
                              << "7";
    QTest::newRow("int64 max") << "9223372036854775807"
                               << "9223372036854775807";
    QTest::newRow("int64 min") << "-9223372036854775808"
                               << "-9223372036854775808";
    QTest::newRow("hex") << "0x1F"
                         << "31";
    QTest::newRow("octal") << "0o17"
                           << "15";
    QTest::newRow("true") << "true"
                          << "true";
    QTest::newRow("True") << "True"
                          << "true";
    QTest::newRow("FALSE") << "FALSE"
                           << "false";
    QTest::newRow("yes stays text (1.2)") << "yes"
                                          << "\"yes\"";
    QTest::newRow("on stays text") << "on"
                                   << "\"on\"";
    QTest::newRow("null") << "null"
                          << "null";
    QTest::newRow("tilde") << "~"
                           << "null";
    QTest::newRow("quoted number") << "\"0.5\""
                                   << "\"0.5\"";
    QTest::newRow("single-quoted bool") << "'true'"
                                        << "\"true\"";
    QTest::newRow("quoted null") << "\"null\""
                                 << "\"null\"";
    QTest::newRow("!!str") << "!!str 5"
                           << "\"5\"";
    QTest::newRow("!!float") << "!!float 5"
                             << "5.0";
    QTest::newRow("underscores are text") << "1_000"
                                          << "\"1_000\"";
    QTest::newRow("hex-looking text") << "0xZZ"
                                      << "\"0xZZ\"";
    QTest::newRow("text") << "channels"
                          << "\"channels\"";
    QTest::newRow("text with colon") << "zoo:resnet18"
                                     << "\"zoo:resnet18\"";
    QTest::newRow("list") << "[1, 2.0, a, \"3\"]"
                          << "[1,2.0,\"a\",\"3\"]";
    QTest::newRow("map") << "{a: {b: [true, ~]}}"
                         << "{\"a\":{\"b\":[true,null]}}";
    QTest::newRow("empty map") << "{}"
                               << "{}";
    QTest::newRow("empty list") << "[]"
                                << "[]";
  }
  void scalarConversion() {
    QFETCH(QString, yaml);
    QFETCH(QString, json);
    const RecipeFile recipe = withOptions("{v: " + yaml.toStdString() + "}");
    QCOMPARE(QString::fromStdString(recipe.steps[0].options["v"].dump()), json);
  }

  void infinityAndNan() {
    const RecipeFile recipe = withOptions("{a: .inf, b: -.Inf, c: .NaN}");
    const auto& o = recipe.steps[0].options;
    QVERIFY(o["a"].is_number_float() && std::isinf(o["a"].get<double>()) && o["a"].get<double>() > 0);
    QVERIFY(std::isinf(o["b"].get<double>()) && o["b"].get<double>() < 0);
    QVERIFY(std::isnan(o["c"].get<double>()));
    // YAML writes them as .inf / .nan; they read back (JSON has no infinity: nlohmann writes null there).
    const RecipeFile back = parse(recipe.toYaml());
    QCOMPARE(back.steps[0].options["a"], o["a"]);
    QCOMPARE(back.steps[0].options["b"], o["b"]);
    QVERIFY(std::isnan(back.steps[0].options["c"].get<double>()));
  }

  void roundTrips() {
    // Everything the emitter has to be careful about.
    RecipeFile recipe;
    recipe.name = "Größe – 模型 🚀";
    recipe.description = "line one\nline \"two\": a #hash\ttab \\ back\x01slash \xC2\x85nel \xE2\x80\xA8ls";
    recipe.model = "../models/resnet18_fmnist.onnx";
    recipe.datasets = {{"train", "fashion-mnist:train?subset=train&val=0.1&test=0&seed=0"},
                       {"calibration", "imagefolder:/data/my flowers?mean=0.5,0.5,0.5&size=96"},
                       {"test", "fashion-mnist"}};
    StepSpec prune;
    prune.id = "prune";
    prune.kind = "prune";
    prune.options = {{"ratio", 0.1},
                     {"tiny", 1e-7},
                     {"big", 1e20},
                     {"third", 1.0 / 3.0},
                     {"negative", -0.5},
                     {"whole", 3.0},
                     {"negative_zero", -0.0},
                     {"count", 512},
                     {"min", std::numeric_limits<int64_t>::min()},
                     {"on", true},
                     {"nothing", nullptr},
                     {"as_text", "0.5"},
                     {"true_text", "true"},
                     {"null_text", "null"},
                     {"tilde_text", "~"},
                     {"hex_text", "0x10"},
                     {"inf_text", ".inf"},
                     {"empty", ""},
                     {"space", " leading and trailing "},
                     {"dash", "- item"},
                     {"colon", "a: b"},
                     {"colon_end", "a:"},
                     {"spec", "zoo:resnet18?width=0.5&depth=2"},
                     {"hash", "#comment"},
                     {"quote", "'single'"},
                     {"brace", "{not a map}"},
                     {"star", "*alias"},
                     {"unicode", "ünïcödé ✓"},
                     {"per_layer", {{"conv1", 0.25}, {"layer1.0.conv2", 0.75}}},
                     {"list", json::array({1,
                                           2.5,
                                           "x",
                                           json::array(),
                                           json::object(),
                                           {{"k", "v"}, {"k2", {1, 2}}},
                                           json::array({1, json::array({2})})})},
                     {"empty_map", json::object()},
                     {"empty_list", json::array()},
                     {"1", "key that looks like a number"},
                     {"true", "key that looks like a bool"},
                     {"a b: c", "key with a colon"},
                     {"", "empty key"}};
    StepSpec int8;
    int8.id = "int8.v2";
    int8.kind = "quantize";
    int8.input = "base";
    int8.enabled = false;
    int8.options = {{"mode", "static"}};
    StepSpec bare;
    bare.id = "export";
    bare.kind = "export";
    recipe.steps = {prune, int8, bare};

    const std::string expected = canonical(recipe);
    const std::string yaml = recipe.toYaml();
    const RecipeFile from_yaml = parseRecipe(yaml, "");
    QCOMPARE(canonical(from_yaml), expected);
    QCOMPARE(from_yaml.toYaml(), yaml);  // a fixed point
    const RecipeFile from_json = parseRecipe(recipe.toJson().dump(), "");
    QCOMPARE(canonical(from_json), expected);
    const RecipeFile from_pretty_json = parseRecipe(recipe.toJson().dump(2), "");
    QCOMPARE(canonical(from_pretty_json), expected);

    // Types survive, not only values: 3.0 stays a double, "0.5" stays text.
    const json& o = from_yaml.steps[0].options;
    QVERIFY(o["whole"].is_number_float());
    QVERIFY(o["count"].is_number_integer());
    QVERIFY(o["as_text"].is_string());
    QCOMPARE(o["ratio"].get<double>(), 0.1);  // exactly
    QCOMPARE(o["tiny"].get<double>(), 1e-7);
    QCOMPARE(o["third"].get<double>(), 1.0 / 3.0);
    QVERIFY(std::signbit(o["negative_zero"].get<double>()));
    QVERIFY2(contains(yaml, "as_text: \"0.5\""), yaml.c_str());
    QVERIFY2(contains(yaml, "ratio: 0.1\n"), yaml.c_str());
    QVERIFY2(contains(yaml, "tiny: 1e-07\n"), yaml.c_str());
    QVERIFY2(contains(yaml, "name: Größe – 模型 🚀\n"), yaml.c_str());
    // The canonical long form: input only when set, enabled only when false.
    QVERIFY(!recipe.toJson()["steps"][0].contains("input"));
    QVERIFY(!recipe.toJson()["steps"][0].contains("enabled"));
    QCOMPARE(recipe.toJson()["steps"][1]["enabled"], json(false));
    QCOMPARE(recipe.toJson()["version"], json(2));
  }

  void jsonFileRoundTrip() {
    // A real .json recipe on disk, hand-written the way a script would write it.
    TempDir dir;
    const auto path = dir / "paper.json";
    writeFile(
        path,
        "{\n"
        "  \"format\": \"edgetune-recipe\",\n"
        "  \"version\": 2,\n"
        "  \"name\": \"paper-image\",\n"
        "  \"model\": \"zoo:resnet18?classes=10\",\n"
        "  \"datasets\": {\"train\": \"fashion-mnist:train\", \"test\": \"fashion-mnist\"},\n"
        "  \"steps\": [\n"
        "    {\"prune\": {\"method\": \"channels\", \"ratio\": 0.5, \"per_layer\": {\"conv1\": 0.25}}},\n"
        "    {\"id\": \"int8\", \"kind\": \"quantize\", \"input\": \"prune\", \"options\": {\"mode\": "
        "\"static\", \"count\": 512,\n"
        "      \"scale\": 1.0, \"label\": \"0.5\", \"note\": \"caf\\u00e9 \\\"q\\\"\", \"flags\": [true, "
        "false, null]}},\n"
        "    {\"kind\": \"export\", \"enabled\": false}\n"
        "  ]\n"
        "}\n");
    const RecipeFile recipe = readRecipeFile(path);
    QCOMPARE(recipe.origin, path);
    QCOMPARE(recipe.steps.size(), size_t(3));
    QCOMPARE(recipe.steps[0].id, std::string("prune"));
    QCOMPARE(recipe.steps[0].source.where(), path.string() + ":8");
    const json& o = recipe.steps[1].options;
    QVERIFY(o["count"].is_number_integer());
    QVERIFY(o["scale"].is_number_float());
    QCOMPARE(o["label"], json("0.5"));
    QCOMPARE(o["note"], json("café \"q\""));
    QCOMPARE(o["flags"], json({true, false, nullptr}));
    QVERIFY(!recipe.steps[2].enabled);
    QCOMPARE(recipe.inputOf(2), std::string("int8"));

    // What Python's json.dump writes by default: escaped surrogate pairs and "\/".
    const RecipeFile escaped = parse(
        "{\"format\": \"edgetune-recipe\", \"version\": 2, \"model\": \"a\\/b.onnx\", \"name\": "
        "\"\\ud83d\\ude80 \\u00fc\", \"description\": \"\\\\ud83d\\\\ude80\", \"steps\": [{\"clean\": "
        "null}]}");
    QCOMPARE(escaped.name, std::string("\xF0\x9F\x9A\x80 \xC3\xBC"));
    QCOMPARE(escaped.description, std::string("\\ud83d\\ude80"));  // escaped backslashes: literal text
    QCOMPARE(escaped.model, std::string("a/b.onnx"));
    const std::string lone = errorOfParse(
        "{\"format\": \"edgetune-recipe\", \"version\": 2, \"model\": \"m\", \"name\": \"\\ud83d\", "
        "\"steps\": []}");
    QVERIFY2(lone.rfind("bad.yaml:1: ", 0) == 0 && contains(lone, "unicode"), lone.c_str());

    // Written back as JSON and as YAML, both read back equal.
    const auto json_out = dir / "out.json";
    const auto yaml_out = dir / "out.yaml";
    writeFile(json_out, recipe.toJson().dump(2));
    writeFile(yaml_out, recipe.toYaml());
    QCOMPARE(canonical(readRecipeFile(json_out)), canonical(recipe));
    QCOMPARE(canonical(readRecipeFile(yaml_out)), canonical(recipe));
  }

  void applyOverride_data() {
    QTest::addColumn<QString>("assignment");
    QTest::addColumn<QString>("pointer");  // JSON pointer into toJson()
    QTest::addColumn<QString>("value");    // its dump afterwards
    QTest::newRow("double") << "prune.ratio=0.5"
                            << "/steps/0/options/ratio"
                            << "0.5";
    QTest::newRow("int") << "prune.count=3"
                         << "/steps/0/options/count"
                         << "3";
    QTest::newRow("list") << "prune.layers=[1, 2]"
                          << "/steps/0/options/layers"
                          << "[1,2]";
    QTest::newRow("quoted text") << "prune.method=\"0.5\""
                                 << "/steps/0/options/method"
                                 << "\"0.5\"";
    QTest::newRow("plain text") << "prune.method=magnitude"
                                << "/steps/0/options/method"
                                << "\"magnitude\"";
    QTest::newRow("nested new") << "prune.a.b.c=true"
                                << "/steps/0/options/a/b/c"
                                << "true";
    QTest::newRow("nested existing") << "prune.per_layer.conv2=0.75"
                                     << "/steps/0/options/per_layer"
                                     << "{\"conv1\":0.25,\"conv2\":0.75}";
    QTest::newRow("dotted step id") << "int8.v2.mode=dynamic"
                                    << "/steps/1/options/mode"
                                    << "\"dynamic\"";
    QTest::newRow("option named enabled") << "prune.options.enabled=1"
                                          << "/steps/0/options/enabled"
                                          << "1";
    QTest::newRow("disable") << "int8.v2.enabled=false"
                             << "/steps/1/enabled"
                             << "false";
    QTest::newRow("input") << "int8.v2.input=base"
                           << "/steps/1/input"
                           << "\"base\"";
    QTest::newRow("dataset") << "datasets.test=fashion-mnist?limit=100"
                             << "/datasets/test"
                             << "\"fashion-mnist?limit=100\"";
    QTest::newRow("model") << "model=zoo:resnet8"
                           << "/model"
                           << "\"zoo:resnet8\"";
    QTest::newRow("name") << "name=my run"
                          << "/name"
                          << "\"my run\"";
    QTest::newRow("value with =") << "prune.expr=a=b"
                                  << "/steps/0/options/expr"
                                  << "\"a=b\"";
  }
  void applyOverride() {
    QFETCH(QString, assignment);
    QFETCH(QString, pointer);
    QFETCH(QString, value);
    RecipeFile recipe =
        parse(std::string(kHeader) +
              "steps:\n  - prune: {per_layer: {conv1: 0.25}}\n  - id: int8.v2\n    kind: quantize\n");
    pipeline::applyOverride(recipe, assignment.toStdString());
    const json out = recipe.toJson();
    const json::json_pointer at(pointer.toStdString());
    QVERIFY2(out.contains(at), out.dump().c_str());
    QCOMPARE(QString::fromStdString(out[at].dump()), value);
    QCOMPARE(canonical(parse(recipe.toYaml())), canonical(recipe));  // still a valid recipe
  }

  void applyOverrideErrors_data() {
    QTest::addColumn<QString>("assignment");
    QTest::addColumn<QString>("expected");
    QTest::newRow("no =") << "prune.ratio"
                          << "expected KEY=VALUE";
    QTest::newRow("unknown step") << "prun.ratio=0.5"
                                  << "no step 'prun' (steps: prune, quantize)";
    QTest::newRow("unknown key") << "ratio=0.5"
                                 << "unknown key 'ratio'";
    QTest::newRow("unknown role") << "datasets.eval=x"
                                  << "unknown dataset role 'eval' (roles: train, validation";
    QTest::newRow("enabled not bool") << "prune.enabled=maybe"
                                      << "true or false";
    QTest::newRow("input later") << "prune.input=quantize"
                                 << "not an earlier step (one of: base)";
    QTest::newRow("input unknown") << "quantize.input=nope"
                                   << "not an earlier step (one of: base, prune)";
    QTest::newRow("through a number") << "prune.ratio.x=1"
                                      << "option 'ratio' is number";
    QTest::newRow("empty option name") << "prune.a..b=1"
                                       << "empty option name";
    QTest::newRow("nothing after dot") << "prune.=1"
                                       << "nothing after 'prune.'";
    QTest::newRow("bad value") << "prune.ratio=[1, 2"
                               << "VALUE:";
    QTest::newRow("empty model") << "model="
                                 << "must not be empty";
  }
  void applyOverrideErrors() {
    QFETCH(QString, assignment);
    QFETCH(QString, expected);
    RecipeFile recipe = parse(std::string(kHeader) + "steps:\n  - prune: {ratio: 0.3}\n  - quantize: {}\n");
    const std::string before = canonical(recipe);
    const std::string message = errorOf([&] { pipeline::applyOverride(recipe, assignment.toStdString()); });
    QVERIFY2(message.rfind("--set '" + assignment.toStdString() + "': ", 0) == 0, message.c_str());
    QVERIFY2(contains(message, expected.toStdString()), message.c_str());
    QCOMPARE(canonical(recipe), before);  // nothing half-applied
  }

  void modelPath_data() {
    QTest::addColumn<QString>("origin");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("resolved");
    QTest::newRow("zoo") << "/work/recipes/a.yaml"
                         << "zoo:resnet18?classes=10"
                         << "zoo:resnet18?classes=10";
    QTest::newRow("absolute") << "/work/recipes/a.yaml"
                              << "/models/m.onnx"
                              << "/models/m.onnx";
    QTest::newRow("relative") << "/work/recipes/a.yaml"
                              << "../models/m.onnx"
                              << "/work/models/m.onnx";
    QTest::newRow("same folder") << "/work/recipes/a.yaml"
                                 << "m.onnx"
                                 << "/work/recipes/m.onnx";
    QTest::newRow("relative origin") << "recipes/a.yaml"
                                     << "../models/m.onnx"
                                     << "models/m.onnx";
    QTest::newRow("bare origin") << "a.yaml"
                                 << "m.onnx"
                                 << "m.onnx";
    QTest::newRow("no origin") << ""
                               << "../m.onnx"
                               << "../m.onnx";
  }
  void modelPath() {
    QFETCH(QString, origin);
    QFETCH(QString, model);
    QFETCH(QString, resolved);
    const RecipeFile recipe = parseRecipe(
        "format: edgetune-recipe\nversion: 2\nmodel: " + model.toStdString() + "\nsteps: [clean: {}]\n",
        origin.toStdString());
    QCOMPARE(QString::fromStdString(recipe.modelPath()), resolved);
  }

  void sourceLineWhere() {
    QCOMPARE((SourceLine{"paper.yaml", 12}.where()), std::string("paper.yaml:12"));
    QCOMPARE((SourceLine{"paper.yaml", 0}.where()), std::string("paper.yaml"));
    QCOMPARE((SourceLine{"", 0}.where()), std::string("recipe"));
    // A recipe parsed without an origin still names its lines.
    const std::string message = errorOf([] { parseRecipe("format: edgetune-recipe\nversion: 7\n", ""); });
    QVERIFY2(message.rfind("recipe:2: version:", 0) == 0, message.c_str());
  }

  void nestingIsBounded() {
    // Levels: the recipe map, steps, the step map, its options map, then the lists.
    auto recipeNested = [](int lists) {
      return std::string(kHeader) + "steps: [s: {v: " + nestedLists(lists) + "}]";
    };
    const RecipeFile ok = parse(recipeNested(60));  // 64 levels
    QVERIFY(ok.steps[0].options["v"].is_array());
    const std::string message = errorOfParse(recipeNested(61));  // 65 levels
    QVERIFY2(message.rfind("bad.yaml:4: v: nested deeper than 64 levels", 0) == 0, message.c_str());
    // Far deeper than yaml-cpp's own recursion guard: an error, not a crash.
    for (int levels : {5000, 1000000}) {
      const std::string deep =
          errorOfParse(std::string(kHeader) + "steps: [s: {v: " + nestedLists(levels) + "}]");
      QVERIFY2(contains(deep, "nested deeper than 64 levels"), deep.c_str());
    }
    // The same bound for --set values.
    RecipeFile recipe = parse(std::string(kHeader) + "steps: [s: {}]");
    const std::string set = errorOf([&] { pipeline::applyOverride(recipe, "s.v=" + nestedLists(70)); });
    QVERIFY2(contains(set, "nested deeper than 64 levels"), set.c_str());
  }

  void aliasBombIsRefused() {
    // Nine levels of ten aliases each would be a billion values once expanded.
    std::string text = std::string(kHeader) + "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (int i = 1; i <= 9; ++i) {
      text += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
      for (int k = 0; k < 10; ++k) text += (k ? ", *a" : "*a") + std::to_string(i - 1);
      text += "]\n";
    }
    text += "steps: [s: {v: *a9}]\n";
    QElapsedTimer timer;
    timer.start();
    const std::string message = errorOfParse(text);
    QVERIFY2(contains(message, "more than 1000000 values"), message.c_str());
    QVERIFY2(timer.elapsed() < 5000, "the bomb took too long to refuse");
  }

  void invalidUtf8IsRefused() {
    const std::string message = errorOfParse(std::string(kHeader) + "name: \"caf\xE9\"\nsteps: [s: {}]");
    QVERIFY2(message.rfind("bad.yaml:4: name: not valid UTF-8", 0) == 0, message.c_str());
  }

  void files() {
    TempDir dir;
    const std::string missing = errorOf([&] { readRecipeFile(dir / "none.yaml"); });
    QVERIFY2(contains(missing, (dir / "none.yaml").string()) && contains(missing, "no such file"),
             missing.c_str());
    const std::string folder = errorOf([&] { readRecipeFile(dir.path()); });
    QVERIFY2(contains(folder, dir.path().string()) && contains(folder, "not a file"), folder.c_str());

    // A valid recipe padded with a comment to 5 MiB: refused for its size, before parsing.
    const auto big = dir / "big.yaml";
    writeFile(big, std::string(kHeader) + "steps: [s: {}]\n#" + std::string(5 * 1024 * 1024, 'x') + "\n");
    const std::string huge = errorOf([&] { readRecipeFile(big); });
    QVERIFY2(contains(huge, big.string()) && contains(huge, "larger than 4 MiB"), huge.c_str());
    const std::string huge_text = errorOf([&] { parseRecipe(std::string(5 * 1024 * 1024, ' '), "t.yaml"); });
    QVERIFY2(contains(huge_text, "t.yaml: larger than 4 MiB"), huge_text.c_str());

    // A syntax error names the file and the 1-based line.
    const auto broken = dir / "broken.yaml";
    writeFile(broken, std::string(kHeader) + "steps:\n  - prune: {ratio: 0.5\n");
    const std::string syntax = errorOf([&] { readRecipeFile(broken); });
    QVERIFY2(syntax.rfind(broken.string() + ":", 0) == 0, syntax.c_str());
    QVERIFY2(contains(syntax, "flow"), syntax.c_str());

    const auto good = dir / "good.yaml";
    writeFile(good, std::string(kHeader) + "steps:\n  - prune: {ratio: 0.5}\n");
    const RecipeFile recipe = readRecipeFile(good);
    QCOMPARE(recipe.steps[0].source.where(), good.string() + ":5");
    QCOMPARE(recipe.modelPath(), (dir / "model.onnx").string());
  }
};

QTEST_GUILESS_MAIN(TestRecipeFile)
#include "test_recipe_file.moc"
