// The core step kinds (step.h) run on small zoo models and real Fashion-MNIST examples: what each gives, the
// options round trip of every kind, and the errors a recipe can cause (unknown or mistyped options, a missing
// dataset role, a reference that is not a sensitivity result, an export format that does not exist, a device
// that logs in with a password). The deploy step uploads to (and benchmarks on) a real OpenSSH server on
// 127.0.0.1 when the test runs as root with /usr/sbin/sshd (tests/deploy/ssh_server.h), and is skipped
// otherwise.
#include <QtTest>

#include <cstdlib>
#include <map>
#include <memory>
#include <optional>

#include "core/analysis/evaluate.h"
#include "core/data/dataset.h"
#include "core/deploy/device.h"
#include "core/deploy/device_benchmark.h"
#include "core/deploy/sha256.h"
#include "core/export/tflite_export.h"
#include "core/passes/prune_channels.h"
#include "core/pipeline/single_step.h"
#include "core/pipeline/step.h"
#include "core/runtime/executor.h"
#include "core/tuning/sensitivity.h"
#include "core/util/error.h"
#include "core/util/files.h"
#include "core/zoo/zoo.h"
#include "tests/deploy/ssh_server.h"
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

Model resnet8() {
  zoo::ZooOptions o;
  o.classes = 10;
  o.input_channels = 1;
  o.image_size = 28;
  return zoo::buildZooModel("resnet8", o);
}

const std::vector<std::string>& coreKinds() {
  static const std::vector<std::string> kinds = {"clean",  "prune",    "sensitivity", "quantize",
                                                 "export", "evaluate", "benchmark",   "deploy"};
  return kinds;
}

// Options that make a kind valid (deploy needs a device).
nlohmann::json minimalOptions(const std::string& kind) {
  if (kind == "deploy") return {{"device", "pi"}};
  return nlohmann::json::object();
}

}  // namespace

// A real OpenSSH server on 127.0.0.1 (tests/deploy/ssh_server.h) with a device store of its own, for the
// deploy tests; construct it only after SshServer::skipReason() came back empty. The store's folder is
// forgotten again when it goes, also when a check failed half-way.
struct LoopbackSsh {
  test::TempDir tmp;
  test::SshServer server{tmp.path() / "sshd"};
  fs::path remote_root = tmp.path() / "device-home" / "edgetune";

  LoopbackSsh() {
    server.start();
    qputenv("EDGETUNE_CONFIG_DIR", QByteArray::fromStdString((tmp.path() / "config").string()));
  }
  ~LoopbackSsh() { qunsetenv("EDGETUNE_CONFIG_DIR"); }
  LoopbackSsh(const LoopbackSsh&) = delete;
  LoopbackSsh& operator=(const LoopbackSsh&) = delete;

  deploy::Device device() const { return server.device(tmp.path() / "known_hosts"); }
  /// device(), added to the store.
  deploy::Device addDevice() const {
    const deploy::Device d = device();
    deploy::DeviceStore().add(d);
    return d;
  }
};

class TestSteps : public QObject {
  Q_OBJECT
  StepRegistry registry_ = StepRegistry::withBuiltins();
  std::shared_ptr<const Dataset> test_;
  std::shared_ptr<const Dataset> calibration_;

  std::unique_ptr<TestStepContext> context(Model base) {
    auto c = std::make_unique<TestStepContext>(std::move(base));
    c->datasets["test"] = test_;
    c->datasets["validation"] = test_;
    c->datasets["calibration"] = calibration_;
    return c;
  }

 private slots:
  void initTestCase() {
    test_ = openDataset("fashion-mnist?limit=200");
    calibration_ = openDataset("fashion-mnist:train?limit=64");
  }

  void registryHasEveryCoreKindWithASummary() {
    for (const auto& kind : coreKinds()) {
      QVERIFY2(registry_.contains(kind), kind.c_str());
      QVERIFY2(!registry_.summary(kind).empty(), kind.c_str());
      QCOMPARE(registry_.create(kind, minimalOptions(kind))->kind(), kind);
    }
    const std::string why = test::errorOf([&] { registry_.create("tflite-export"); });
    QVERIFY2(test::contains(why, "unknown step kind 'tflite-export'") && test::contains(why, "quantize"),
             why.c_str());
  }

  void everyKindRoundTripsItsOptions() {
    for (const auto& kind : coreKinds()) {
      auto step = registry_.create(kind, minimalOptions(kind));
      const nlohmann::json options = step->optionsJson();
      QVERIFY2(options.is_object() && !options.empty(), kind.c_str());
      QCOMPARE(registry_.create(kind, options)->optionsJson(), options);
    }
    // Non-default values survive too, nested ones included.
    const std::vector<std::pair<std::string, nlohmann::json>> changed = {
        {"clean", {{"fold_batchnorm", true}}},
        {"prune",
         {{"ratio", 0.25},
          {"round_to", 4},
          {"allocate", {{"metric", "params"}, {"keep", 0.6}, {"sensitivity", "sweep"}}}}},
        {"prune",
         {{"method", "magnitude"}, {"sparsity", 0.7}, {"scope", "global"}, {"per_layer", {{"conv1", 0.2}}}}},
        {"sensitivity", {{"ratios", {0.25, 0.5}}, {"limit", 40}, {"data", "test"}, {"groups", {"g"}}}},
        {"quantize", {{"mode", "dynamic"}, {"exclude_ops", {"Gemm"}}, {"shapes", {"input=1x1x28x28"}}}},
        {"export", {{"file", "int8.onnx"}}},
        {"evaluate", {{"data", "validation"}, {"limit", 50}, {"batch_size", 16}}},
        {"benchmark", {{"threads", {1, 4}}, {"runs", 7}, {"device", "pi"}, {"accept_new_host_key", true}}},
        {"deploy",
         {{"device", "pi"}, {"bench", true}, {"threads", {1, 2, 4}}, {"remote_dir", "/opt/edgetune"}}},
        // Everything `edgetune-cli deploy` has a flag for.
        {"deploy",
         {{"device", "pi"},
          {"name", "mlp"},
          {"file", "mlp.onnx"},
          {"companions", {"/models/labels.txt", "/models/mlp.card.json"}},
          {"clean", false},
          {"profile", true},
          {"eval", "test"},
          {"limit", 40},
          {"runs", 7},
          {"warmup", 1},
          {"shapes", {"input=1x1x28x28"}},
          {"retries", 0},
          {"timeout_s", 30},
          {"accept_new_host_key", true},
          {"runner_dir", "/opt/runners"}}},
    };
    for (const auto& [kind, options] : changed) {
      auto step = registry_.create(kind, options);
      const nlohmann::json all = step->optionsJson();
      for (const auto& [key, value] : options.items())
        QVERIFY2(all.at(key) == value, (kind + "." + key + ": " + all.at(key).dump()).c_str());
      QCOMPARE(registry_.create(kind, all)->optionsJson(), all);
    }
  }

  void unknownKeysAndWrongTypesAreOptionErrors() {
    for (const auto& kind : coreKinds()) {
      nlohmann::json unknown = minimalOptions(kind);
      unknown["colour"] = "blue";
      QCOMPARE(optionErrorKey([&] { registry_.create(kind, unknown); }), std::string("colour"));
      // A string where every kind's first option wants something else (or a number where it wants a string).
      nlohmann::json wrong = registry_.create(kind, minimalOptions(kind))->optionsJson();
      const std::string key = wrong.begin().key();
      wrong[key] = wrong.begin().value().is_string() ? nlohmann::json(42) : nlohmann::json("forty-two");
      QCOMPARE(optionErrorKey([&] { registry_.create(kind, wrong); }), key);
    }
    // Values the kinds check themselves, by the key a recipe reader points at.
    QCOMPARE(optionErrorKey([&] {
               registry_.create("prune", {{"method", "random"}});
             }),
             std::string("method"));
    QCOMPARE(optionErrorKey([&] {
               registry_.create("prune", {{"allocate", {{"metric", "flops"}, {"sensitivity", "s"}}}});
             }),
             std::string("allocate.metric"));
    QCOMPARE(optionErrorKey([&] {
               registry_.create("prune", {{"allocate", {{"keep", "half"}}}});
             }),
             std::string("allocate.keep"));
    QCOMPARE(optionErrorKey([&] { registry_.create("quantize", {{"mode", "int4"}}); }), std::string("mode"));
    QCOMPARE(optionErrorKey([&] {
               registry_.create("evaluate", {{"data", "fashion-mnist:test"}});
             }),
             std::string("data"));
    QCOMPARE(optionErrorKey([&] {
               registry_.create("deploy", {{"device", "pi"}, {"eval", "holdout"}});
             }),
             std::string("eval"));
    QCOMPARE(
        optionErrorKey([&] {  // two files of one name in one folder on the device
          registry_.create("deploy", {{"device", "pi"}, {"companions", {"/a/labels.txt", "/b/labels.txt"}}});
        }),
        std::string("companions"));
    QCOMPARE(
        optionErrorKey([&] {
          registry_.create("deploy", {{"device", "pi"}, {"file", "m.onnx"}, {"companions", {"/a/m.onnx"}}});
        }),
        std::string("companions"));
    QCOMPARE(optionErrorKey([&] { registry_.create("deploy", nlohmann::json::object()); }),
             std::string("device"));
    QCOMPARE(optionErrorKey([&] {
               registry_.create("benchmark", {{"threads", nlohmann::json::array()}});
             }),
             std::string("threads"));
  }

  void cleanKeepsBatchNormUnlessAsked() {
    auto c = context(resnet8());
    const int batchnorms = countOps(c->base(), "BatchNormalization");
    QVERIFY(batchnorms > 0);
    StepOutput kept = registry_.create("clean")->run(*c);
    QVERIFY(kept.model);
    QCOMPARE(countOps(*kept.model, "BatchNormalization"), batchnorms);
    StepOutput folded = registry_.create("clean", {{"fold_batchnorm", true}})->run(*c);
    QCOMPARE(countOps(*folded.model, "BatchNormalization"), 0);
    QCOMPARE(folded.result.at("nodes_before").get<int>(), c->base().graph().node_size());
    QCOMPARE(folded.result.at("nodes_after").get<int>(), folded.model->graph().node_size());
    QVERIFY(folded.result.at("nodes_removed").get<int>() >= batchnorms);
    const auto inputs = test::randomInputs(c->base(), 1);
    QVERIFY(test::compareInOrt(c->base(), *folded.model, inputs) < 1e-4);
  }

  void pruneChannelsHalvesAGroup() {
    auto c = context(resnet8());
    std::string group;
    int64_t units = 0;
    for (const auto& g : findPruneGroups(c->base()))
      if (g.prunable && g.units >= 8) {
        group = g.id;
        units = g.units;
        break;
      }
    QVERIFY(!group.empty());
    StepOutput out = registry_.create("prune", {{"ratio", 0.5}, {"round_to", 1}})->run(*c);
    QVERIFY(out.model);
    const nlohmann::json& r = out.result;
    QCOMPARE(r.at("groups").at(group), nlohmann::json({units, units / 2}));
    QVERIFY(r.at("params_after").get<int64_t>() < r.at("params_before").get<int64_t>());
    QVERIFY(r.at("macs_after").get<int64_t>() < r.at("macs_before").get<int64_t>());
    QCOMPARE(r.at("ratio").get<double>(), 0.5);
    QVERIFY(r.contains("coverage"));
    QCOMPARE(r.at("params_after").get<int64_t>(), out.model->parameterCount());
    // The pruned model runs.
    auto executor = makeOrtExecutor(*out.model);
    QCOMPARE(executor->run(test::randomInputs(*out.model, 2)).size(), size_t{1});
  }

  void pruneMagnitudeReachesTheSparsity() {
    auto c = context(resnet8());
    StepOutput out = registry_.create("prune", {{"method", "magnitude"}, {"sparsity", 0.5}})->run(*c);
    QVERIFY(out.model);
    const double sparsity = out.result.at("sparsity").get<double>();
    QVERIFY2(sparsity > 0.45 && sparsity < 0.55, std::to_string(sparsity).c_str());
    QCOMPARE(out.result.at("params_after"), out.result.at("params_before"));  // zeros, not removal
  }

  void sensitivityFeedsTheAllocation() {
    auto c = context(resnet8());
    auto sweep =
        registry_.create("sensitivity", {{"ratios", {0.25, 0.5, 0.75}}, {"limit", 32}, {"batch_size", 32}});
    QCOMPARE(sweep->datasetRoles(), std::vector<std::string>{"validation"});
    StepOutput swept = sweep->run(*c);
    QVERIFY(!swept.model);  // the input passes through
    const SensitivityResult s = SensitivityResult::fromJson(swept.result);
    QVERIFY(!s.curves.empty());
    QCOMPARE(s.examples, size_t{32});
    c->results["sweep"] = swept.result;

    auto prune = registry_.create(
        "prune", {{"allocate", {{"metric", "params"}, {"keep", 0.7}, {"sensitivity", "sweep"}}}});
    QCOMPARE(prune->references(), std::vector<std::string>{"sweep"});
    StepOutput out = prune->run(*c);
    QVERIFY(out.model);
    const nlohmann::json& allocation = out.result.at("allocation");
    QVERIFY(!allocation.at("ratios").empty());
    QCOMPARE(out.result.at("per_group"), allocation.at("ratios"));
    QVERIFY(out.result.at("params_after").get<double>() <=
                0.7 * out.result.at("params_before").get<double>() ||
            !allocation.at("reached").get<bool>());

    // A reference whose result is not a sensitivity sweep is refused, naming it.
    c->results["acc"] = {{"top1", 0.5}};
    const std::string why = test::errorOf([&] {
      registry_.create("prune", {{"allocate", {{"keep", 0.5}, {"sensitivity", "acc"}}}})->run(*c);
    });
    QVERIFY2(test::contains(why, "'acc' is not a sensitivity step's result"), why.c_str());
  }

  void quantizeStaticGivesQdqThatRuns() {
    auto c = context(resnet8());
    auto step = registry_.create("quantize", {{"samples", 32}});
    QCOMPARE(step->datasetRoles(), std::vector<std::string>{"calibration"});
    StepOutput out = step->run(*c);
    QVERIFY(out.model);
    QVERIFY(countOps(*out.model, "QuantizeLinear") > 0);
    QCOMPARE(countOps(*out.model, "BatchNormalization"), 0);  // folded first
    QVERIFY(out.result.contains("coverage"));
    QCOMPARE(out.result.at("mode").get<std::string>(), std::string("static"));
    auto executor = makeOrtExecutor(*out.model);
    const auto outputs = executor->run(test::randomInputs(*out.model, 3));
    QCOMPARE(outputs.at(0).shape(), (std::vector<int64_t>{1, 10}));
  }

  // clean: false quantizes the input as it is (the CLI's --no-clean: the model came in uncleaned). An
  // Identity after the graph input survives, where the clean-up removes it.
  void quantizeWithoutTheCleanUp() {
    Model model = resnet8();
    onnx::GraphProto& graph = model.graph();
    const std::string input = graph.input(0).name();
    for (auto& node : *graph.mutable_node())
      for (auto& name : *node.mutable_input())
        if (name == input) name = input + "_identity";
    auto* nodes = graph.mutable_node();
    onnx::NodeProto* identity = nodes->Add();
    identity->set_op_type("Identity");
    identity->set_name("extra_identity");
    identity->add_input(input);
    identity->add_output(input + "_identity");
    for (int i = nodes->size() - 1; i > 0; --i) nodes->SwapElements(i, i - 1);  // first, in graph order
    model.reindex();
    auto c = context(model);
    StepOutput cleaned = registry_.create("quantize", {{"mode", "dynamic"}})->run(*c);
    StepOutput as_given = registry_.create("quantize", {{"mode", "dynamic"}, {"clean", false}})->run(*c);
    QCOMPARE(countOps(*cleaned.model, "Identity"), 0);
    QCOMPARE(countOps(*as_given.model, "Identity"), 1);
    QVERIFY(cleaned.result.at("report").at("lines").is_array());  // the pass's report, for the CLI
  }

  void quantizeReadsCalibrationOnlyWhenItCalibrates() {
    QVERIFY(registry_.create("quantize", {{"mode", "dynamic"}})->datasetRoles().empty());
    QVERIFY(registry_.create("quantize", {{"mode", "fp16"}})->datasetRoles().empty());
    QCOMPARE(registry_.create("quantize", {{"data", "train"}})->datasetRoles(),
             std::vector<std::string>{"train"});
    // Static without the role: the error names the role.
    auto c = context(resnet8());
    c->datasets.erase("calibration");
    const std::string why = test::errorOf([&] { registry_.create("quantize")->run(*c); });
    QVERIFY2(test::contains(why, "'calibration'"), why.c_str());
    // Dynamic needs no dataset at all.
    StepOutput out = registry_.create("quantize", {{"mode", "dynamic"}})->run(*c);
    QVERIFY(out.model && countOps(*out.model, "DynamicQuantizeLinear") > 0);
  }

  void exportWritesTheFileWithItsSha256() {
    auto c = context(resnet8());
    StepOutput out = registry_.create("export", {{"file", "deploy.onnx"}})->run(*c);
    const fs::path path = c->workDir() / "deploy.onnx";
    QVERIFY(fs::exists(path));
    QCOMPARE(out.artifacts, std::vector<fs::path>{path});
    QCOMPARE(out.result.at("path").get<std::string>(), path.string());
    QCOMPARE(out.result.at("sha256").get<std::string>(), deploy::sha256File(path));
    QCOMPARE(out.result.at("bytes").get<int64_t>(), static_cast<int64_t>(fs::file_size(path)));
    QVERIFY(out.model);
    QCOMPARE(countOps(*out.model, "BatchNormalization"), 0);
    QCOMPARE(out.model->serialize(), Model::load(path).serialize());
    QVERIFY(test::compareInOrt(c->base(), Model::load(path), test::randomInputs(c->base(), 4)) < 1e-4);
    // Formats that do not exist, options of another format, and paths out of the step's folder, are refused.
    const std::string why = test::errorOf([&] { registry_.create("export", {{"format", "tf"}}); });
    QVERIFY2(test::contains(why, "'format'") && test::contains(why, "onnx") && test::contains(why, "tflite"),
             why.c_str());
    QCOMPARE(optionErrorKey([&] { registry_.create("export", {{"format", "tf"}}); }), std::string("format"));
    QCOMPARE(optionErrorKey([&] {
               registry_.create("export", {{"nhwc_input", true}});
             }),
             std::string("nhwc_input"));
    QCOMPARE(optionErrorKey([&] {
               registry_.create("export", {{"format", "tflite"}, {"shapes", {"input=1xAx3"}}});
             }),
             std::string("shapes"));
    QCOMPARE(optionErrorKey([&] {
               registry_.create("export", {{"file", "../model.onnx"}});
             }),
             std::string("file"));
    QCOMPARE(optionErrorKey([&] {
               registry_.create("export", {{"file", "sub/model.onnx"}});
             }),
             std::string("file"));
  }

  void exportWritesTflite() {
    auto c = context(resnet8());
    StepOutput out = registry_.create("export", {{"format", "tflite"}})->run(*c);
    const fs::path path = c->workDir() / "model.tflite";  // the format's default name
    QCOMPARE(out.artifacts, std::vector<fs::path>{path});
    QCOMPARE(out.result.at("format").get<std::string>(), std::string("tflite"));
    QCOMPARE(out.result.at("sha256").get<std::string>(), deploy::sha256File(path));
    // The file is what the exporter builds from the step's (cleaned) model: the one Transpose at the input.
    QVERIFY(out.model);
    TfliteExportReport report;
    QVERIFY(readFile(path) == buildTflite(*out.model, {}, &report));
    QCOMPARE(out.result.at("transposes").get<int>(), 1);
    QCOMPARE(report.transposes, 1);
    QCOMPARE(out.result.at("operators").get<int>(), report.operators);
    // NHWC input: no Transpose at all.
    StepOutput nhwc =
        registry_.create("export", {{"format", "tflite"}, {"nhwc_input", true}, {"file", "n.tflite"}})
            ->run(*c);
    QCOMPARE(nhwc.result.at("transposes").get<int>(), 0);
  }

  void evaluateMatchesEvaluate() {
    auto c = context(resnet8());
    StepOutput out = registry_.create("evaluate", {{"limit", 100}, {"batch_size", 25}})->run(*c);
    QVERIFY(!out.model);
    OrtOptions ort;
    ort.intra_op_threads = 0;  // the step's default
    auto executor = makeOrtExecutor(c->base(), ort);
    EvalOptions o;
    o.limit = 100;
    o.batch_size = 25;
    const EvalResult direct = evaluate(*executor, *test_, o);
    QCOMPARE(out.result.at("count").get<size_t>(), size_t{100});
    QCOMPARE(out.result.at("top1").get<double>(), direct.top1);
    QCOMPARE(out.result.at("dataset").get<std::string>(), test_->name());
    // No test dataset: the error names the role.
    c->datasets.erase("test");
    const std::string why = test::errorOf([&] { registry_.create("evaluate")->run(*c); });
    QVERIFY2(test::contains(why, "'test'"), why.c_str());
  }

  void benchmarkOnTheHostPerThreadCount() {
    auto c = context(resnet8());
    StepOutput out =
        registry_.create("benchmark", {{"threads", {1, 2}}, {"runs", 3}, {"warmup", 1}})->run(*c);
    QVERIFY(!out.model);
    QCOMPARE(out.result.at("where").get<std::string>(), std::string("host"));
    for (const char* t : {"1", "2"}) {
      const nlohmann::json& r = out.result.at("threads").at(t);
      QCOMPARE(r.at("threads").get<int>(), std::atoi(t));
      QCOMPARE(r.at("runs").get<int>(), 3);
      QVERIFY(r.at("median_ms").get<double>() > 0);
      QVERIFY(!r.contains("samples_ms"));
    }
    QCOMPARE(out.lines.size(), size_t{2});
    // samples: every timed run, as `edgetune-cli bench --json` prints them.
    StepOutput with_samples =
        registry_.create("benchmark", {{"threads", {1}}, {"runs", 3}, {"warmup", 0}, {"samples", true}})
            ->run(*c);
    QCOMPARE(with_samples.result.at("threads").at("1").at("samples_ms").size(), size_t{3});
  }

  void devicesThatAskForAPasswordAreRefused() {
    test::TempDir config;
    qputenv("EDGETUNE_CONFIG_DIR", QByteArray::fromStdString(config.path().string()));
    deploy::Device pi;
    pi.name = "pi";
    pi.host = "127.0.0.1";
    pi.user = "pi";
    pi.auth = deploy::AuthMethod::Password;
    deploy::DeviceStore().add(pi);
    auto c = context(resnet8());
    for (const auto& [kind, options] : std::vector<std::pair<std::string, nlohmann::json>>{
             {"deploy", {{"device", "pi"}}}, {"benchmark", {{"device", "pi"}}}}) {
      const std::string why = test::errorOf([&] { registry_.create(kind, options)->run(*c); });
      QVERIFY2(test::contains(why, "password") && test::contains(why, "never asks"), why.c_str());
    }
    const std::string unknown = test::errorOf([&] {
      registry_.create("deploy", {{"device", "jetson"}})->run(*c);
    });
    QVERIFY2(test::contains(unknown, "jetson"), unknown.c_str());
    qunsetenv("EDGETUNE_CONFIG_DIR");
  }

  void deployUploadsToARealSshServer() {
    const std::string why = test::SshServer::skipReason();
    if (!why.empty()) QSKIP(why.c_str());
    LoopbackSsh ssh;
    const test::TempDir& tmp = ssh.tmp;
    const deploy::Device device = ssh.addDevice();
    const fs::path& remote_root = ssh.remote_root;
    auto c = context(resnet8());
    c->id = "ship";
    const nlohmann::json options = {{"device", device.name},
                                    {"remote_dir", remote_root.string()},
                                    {"accept_new_host_key", true},
                                    {"timeout_s", 10}};
    StepOutput out = registry_.create("deploy", options)->run(*c);
    QVERIFY(!out.model);
    const fs::path remote = remote_root / "models" / "ship" / "model.onnx";
    QVERIFY2(fs::exists(remote), remote.string().c_str());
    QCOMPARE(out.result.at("remote_path").get<std::string>(), remote.string());
    QCOMPARE(out.result.at("sha256").get<std::string>(), deploy::sha256File(remote));
    QCOMPARE(out.result.at("sha256").get<std::string>(), deploy::sha256File(c->workDir() / "model.onnx"));
    QVERIFY(out.result.at("bench").is_null());
    // The same model again: nothing is sent.
    StepOutput again = registry_.create("deploy", options)->run(*c);
    QVERIFY(again.result.at("unchanged").get<bool>());
    // Without accept_new_host_key an unknown host is refused (the pipeline never asks).
    fs::remove(tmp.path() / "known_hosts");
    nlohmann::json strict = options;
    strict["accept_new_host_key"] = false;
    const std::string refused = test::errorOf([&] { registry_.create("deploy", strict)->run(*c); });
    QVERIFY2(!refused.empty(), "an unknown host key was accepted");
  }

  void deployReadsTheEvalRoleOnly() {
    QVERIFY(registry_.create("deploy", minimalOptions("deploy"))->datasetRoles().empty());
    QVERIFY(registry_.create("deploy", {{"device", "pi"}, {"eval", "test"}})->datasetRoles() ==
            std::vector<std::string>{"test"});
  }

  // What `edgetune-cli deploy --bench --profile --eval` does, as the step: the companions go beside the
  // model, the evaluation subset too, and the runner (the x86-64 build, from runner_dir) measures latency per
  // thread count, profiles the nodes and scores the subset.
  void deployMeasuresOnARealSshServer() {
    const std::string why = test::SshServer::skipReason();
    if (!why.empty()) QSKIP(why.c_str());
    LoopbackSsh ssh;
    const test::TempDir& tmp = ssh.tmp;
    const deploy::Device device = ssh.addDevice();
    const fs::path& remote_root = ssh.remote_root;
    const fs::path labels = tmp.path() / "labels.txt";
    writeFileAtomic(labels, "t-shirt\ntrouser\n");
    auto c = context(resnet8());
    c->id = "ship";
    const nlohmann::json options = {{"device", device.name},
                                    {"remote_dir", remote_root.string()},
                                    {"accept_new_host_key", true},
                                    {"timeout_s", 10},
                                    {"companions", {labels.string()}},
                                    {"profile", true},
                                    {"eval", "test"},
                                    {"limit", 20},
                                    {"threads", {1, 2}},
                                    {"runs", 3},
                                    {"warmup", 1},
                                    {"runner_dir", (fs::path(EDGETUNE_BINARY_DIR) / "bin").string()}};
    const StepOutput out = registry_.create("deploy", options)->run(*c);
    const fs::path folder = remote_root / "models" / "ship";
    const nlohmann::json& files = out.result.at("deploy").at("files");
    QCOMPARE(files.size(), size_t{2});
    QCOMPARE(files[1].at("remote_path").get<std::string>(), (folder / "labels.txt").string());
    QCOMPARE(readFile(folder / "labels.txt"), readFile(labels));
    QCOMPARE(deploy::sha256File(folder / "eval.bin"), deploy::sha256File(c->workDir() / "eval.bin"));
    const deploy::DeviceBenchmark bench = deploy::DeviceBenchmark::fromJson(out.result.at("bench"));
    QCOMPARE(bench.device, device.name);
    QCOMPARE(bench.latency.size(), size_t{2});
    QCOMPARE(bench.latency[1].threads, 2);
    QCOMPARE(bench.latency[0].runs, 3);
    QVERIFY(!bench.profile.empty());
    QVERIFY(bench.accuracy.has_value());
    QCOMPARE(bench.accuracy->examples, int64_t{20});
    // The sizes come from the dataset's example (a 1x28x28 image, batch 1).
    const nlohmann::json& inputs = out.result.at("input_shapes").at("inputs");
    QCOMPARE(inputs.size(), size_t{1});
    QCOMPARE(inputs.begin().value(), nlohmann::json({1, 1, 28, 28}));
    // Without the dataset the step names the role before it connects.
    auto bare = std::make_unique<TestStepContext>(resnet8());
    const std::string missing = test::errorOf([&] { registry_.create("deploy", options)->run(*bare); });
    QVERIFY2(test::contains(missing, "'test'"), missing.c_str());
  }

  // compare_base: the recipe's base goes beside the model as baseline.onnx and the runner times the two
  // alternately in one run, so the speed-up on the device compares runs under the same conditions.
  void deployTimesTheBaseInterleavedOnARealSshServer() {
    const std::string why = test::SshServer::skipReason();
    if (!why.empty()) QSKIP(why.c_str());
    LoopbackSsh ssh;
    const deploy::Device device = ssh.addDevice();
    const fs::path& remote_root = ssh.remote_root;
    auto c = context(resnet8());
    Model pruned = resnet8();
    PruneChannelsOptions half;
    half.ratio = 0.5;
    pruneChannels(pruned, half);
    c->input_model = std::move(pruned);
    c->id = "ship";
    const nlohmann::json options = {{"device", device.name},
                                    {"remote_dir", remote_root.string()},
                                    {"accept_new_host_key", true},
                                    {"timeout_s", 10},
                                    {"compare_base", true},
                                    {"threads", {1, 2}},
                                    {"runs", 6},
                                    {"warmup", 1},
                                    {"runner_dir", (fs::path(EDGETUNE_BINARY_DIR) / "bin").string()}};
    auto step = registry_.create("deploy", options);
    QVERIFY(step->references() == std::vector<std::string>{"base"});  // the base is part of its cache key
    const StepOutput out = step->run(*c);
    const fs::path folder = remote_root / "models" / "ship";
    QCOMPARE(deploy::sha256File(folder / "baseline.onnx"),
             deploy::sha256File(c->workDir() / "baseline.onnx"));
    QVERIFY(deploy::sha256File(folder / "baseline.onnx") != deploy::sha256File(folder / "model.onnx"));
    const deploy::DeviceBenchmark bench = deploy::DeviceBenchmark::fromJson(out.result.at("bench"));
    QCOMPARE(bench.latency.size(), size_t{2});
    for (const auto& l : bench.latency) {
      QVERIFY(l.baseline_median_ms > 0 && l.baseline_p90_ms >= l.baseline_median_ms);
      QCOMPARE(l.speedup, l.baseline_median_ms / l.median_ms);
    }
    // What the runner printed survives the result's JSON round trip (the report reads it from there).
    QCOMPARE(deploy::DeviceBenchmark::fromJson(bench.toJson()).latency[1].speedup, bench.latency[1].speedup);
    // The name is taken by the base, and a host benchmark has no use for it.
    QCOMPARE(
        optionErrorKey([&] {
          registry_.create("deploy", {{"device", "pi"}, {"compare_base", true}, {"file", "baseline.onnx"}});
        }),
        std::string("file"));
    QCOMPARE(optionErrorKey([&] {
               registry_.create("benchmark", {{"compare_base", true}});
             }),
             std::string("compare_base"));
  }

  // A caller with a person at hand (edgetune-cli deploy) hands the step login prompts (single_step.h): they,
  // not the unattended default, answer the host-key question on first contact and give a key's passphrase.
  void loginPromptsAnswerForTheStep() {
    const std::string why = test::SshServer::skipReason();
    if (!why.empty()) QSKIP(why.c_str());
    LoopbackSsh ssh;
    const test::TempDir& tmp = ssh.tmp;
    deploy::Device device = ssh.device();
    // The client key, encrypted: only the passphrase the prompt gives opens it.
    const fs::path locked = tmp.path() / "locked_key";
    fs::copy_file(device.key_file, locked);
    QCOMPARE(
        test::runLocal("ssh-keygen -q -p -P '' -N 'open sesame' -f '" + locked.string() + "' >/dev/null"), 0);
    device.key_file = locked;
    deploy::DeviceStore().add(device);
    const fs::path& remote_root = ssh.remote_root;

    const Model model = resnet8();
    SingleStep step;
    step.kind = "deploy";
    step.options = {{"device", device.name}, {"remote_dir", remote_root.string()}, {"timeout_s", 10}};
    int questions = 0, secrets = 0;
    bool trust = false;
    std::string shown;  // the fingerprint the person is asked about
    step.login_prompts = deploy::LoginPrompts{[&](const deploy::HostKeyInfo& info) {
                                                ++questions;
                                                shown = info.fingerprint_sha256;
                                                return trust;
                                              },
                                              [&](const std::string& prompt) -> std::optional<std::string> {
                                                ++secrets;
                                                if (!test::contains(prompt, locked.string()))
                                                  return std::nullopt;
                                                return std::string("open sesame");
                                              }};
    const std::string declined = test::errorOf([&] { runSingleStep(model, step); });
    QVERIFY2(test::contains(declined, "was not accepted"), declined.c_str());
    QCOMPARE(questions, 1);
    QCOMPARE(shown, ssh.server.hostKeyFingerprint());
    QCOMPARE(secrets, 0);
    trust = true;
    const SingleStepResult done = runSingleStep(model, step);
    QCOMPARE(questions, 2);
    QCOMPARE(secrets, 1);
    const fs::path remote = remote_root / "models" / "deploy" / "model.onnx";  // the step's id: its kind
    QCOMPARE(done.output.result.at("sha256").get<std::string>(), deploy::sha256File(remote));
    // Unattended (a recipe), the same device cannot log in: nobody gives the passphrase.
    step.login_prompts.reset();
    const std::string unattended = test::errorOf([&] { runSingleStep(model, step); });
    QVERIFY2(test::contains(unattended, "cannot read the private key"), unattended.c_str());
    QCOMPARE(questions, 2);
  }
};

QTEST_GUILESS_MAIN(TestSteps)
#include "test_steps.moc"
