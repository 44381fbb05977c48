// edgetune-cli deploy MODEL --device NAME [--bench ...]: verified upload into ~/edgetune/models/<name>/ and,
// with --bench, an on-device benchmark by edgetune-runner (uploaded when the device lacks it). The work is
// the pipeline's "deploy" step (single_step.h), run with the terminal's login prompts.
#include <filesystem>
#include <map>
#include <optional>

#include "app/cli/cli_common.h"
#include "app/cli/shared_options.h"
#include "core/data/dataset.h"
#include "core/deploy/deploy.h"
#include "core/deploy/device.h"
#include "core/deploy/shell.h"
#include "core/deploy/ssh_session.h"
#include "core/pipeline/single_step.h"

namespace edgetune::cli {

deploy::ConnectOptions terminalConnectOptions(bool accept_new_host_key);  // cmd_device.cpp

namespace {
// The sizes the step ran the benchmark at, back from its result, for the report's "sizes:" lines (which
// read the shapes and their notes only).
InputShapes shapesFromResult(const nlohmann::json& json) {
  InputShapes shapes;
  shapes.dims = json.at("inputs").get<std::map<std::string, std::vector<int64_t>>>();
  shapes.notes = json.at("notes").get<std::vector<std::string>>();
  return shapes;
}
}  // namespace

void addDeployCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model, device, name, remote_dir = "edgetune", eval_spec, runner_dir;
    std::vector<int> threads = {1};
    bool bench = false, profile = false, yes = false;
    int runs = 50, warmup = 5, retries = 2, timeout_s = 15;
    size_t limit = 500;
    ModelInputArgs input;
  };
  auto args = std::make_shared<Args>();
  auto* cmd =
      app.add_subcommand("deploy", "Upload a model to a device over SSH and optionally benchmark it there");
  cmd->add_option("model", args->model, "ONNX model file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--device", args->device, "Device name (see: edgetune-cli device list)")->required();
  cmd->add_option("--name", args->name, "Folder name on the device (default: the model file's stem)");
  cmd->add_option("--remote-dir", args->remote_dir, "EdgeTune's folder on the device")->capture_default_str();
  cmd->add_option("--retries", args->retries, "Extra attempts per file after a lost connection")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  cmd->add_option("--timeout", args->timeout_s, "Seconds for each network step")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxTimeoutSeconds));
  cmd->add_flag("-y,--yes", args->yes, "Accept the host key on first contact without asking");
  cmd->add_flag("--bench", args->bench, "Benchmark the model on the device with edgetune-runner");
  addThreadCountsOption(cmd, args->threads);
  cmd->add_option("--runs", args->runs, "Timed runs per thread count")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxRuns));
  cmd->add_option("--warmup", args->warmup, "Warm-up runs")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, kMaxRuns));
  addModelInputOptions(cmd, args->input);
  cmd->add_flag("--profile", args->profile, "Per-node ONNX Runtime profile on the device");
  cmd->add_option("--eval", args->eval_spec,
                  "Dataset spec: measure accuracy on the device on a subset of it");
  addLimitOption(cmd, args->limit);
  cmd->add_option("--runner-dir", args->runner_dir,
                  "Folder with runner builds (edgetune-runner + libonnxruntime.so.1, per-arch subfolders)");
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      const bool bench = args->bench || args->profile || !args->eval_spec.empty();
      const deploy::Device device = deploy::DeviceStore().get(args->device);  // an unknown name fails first
      const std::filesystem::path model_file = args->model;
      const std::string name = args->name.empty() ? model_file.stem().string() : args->name;
      deploy::validateName(name, "model name");
      deploy::validateRemotePath(args->remote_dir, "--remote-dir");

      // The files found beside the model go with it; not its external data: the step uploads the model
      // self-contained.
      pipeline::SingleStep step;
      step.kind = "deploy";
      std::vector<std::string> companions;
      for (const auto& f : deploy::modelCompanionFiles(model_file)) {
        const std::string file = f.filename().string();
        if (f == model_file || file == model_file.filename().string() + ".data" ||
            file == model_file.stem().string() + ".data")
          continue;
        companions.push_back(f.string());
      }
      step.options = {{"device", args->device},
                      {"name", name},
                      {"file", model_file.filename().string()},
                      {"companions", companions},
                      // The front door below cleaned the model already (a no-op for the step then);
                      // --no-clean turns off both, so the file is uploaded as given.
                      {"clean", !args->input.no_clean},
                      {"bench", bench},
                      {"profile", args->profile},
                      {"limit", args->limit},
                      {"threads", args->threads},
                      {"runs", args->runs},
                      {"warmup", args->warmup},
                      {"shapes", args->input.shapes},
                      {"remote_dir", args->remote_dir},
                      {"retries", args->retries},
                      {"timeout_s", args->timeout_s},
                      {"accept_new_host_key", args->yes},
                      {"runner_dir", args->runner_dir}};
      LoadedModel loaded = loadModel(args->model, args->input);
      if (!args->eval_spec.empty()) {
        step.options["eval"] = "test";  // the role the --eval dataset is handed in under
        step.datasets["test"] = openDataset(args->eval_spec);
      }
      // A person may be at the terminal: the step asks through it for the host key, passwords, passphrases.
      const deploy::ConnectOptions terminal = terminalConnectOptions(args->yes);
      step.login_prompts = deploy::LoginPrompts{terminal.confirm_host_key, terminal.ask_secret};
      auto job = makeJob(global, "deploy");
      step.job = job.get();
      const pipeline::SingleStepResult done = pipeline::runSingleStep(loaded.model, step);
      endProgress();

      const nlohmann::json& result = done.output.result;
      nlohmann::json report{
          {"device", result.at("device")}, {"clean", loaded.clean.toJson()}, {"deploy", result.at("deploy")}};
      std::optional<InputShapes> shapes;
      if (bench) shapes = shapesFromResult(result.at("input_shapes"));
      const nlohmann::json& files = result.at("deploy").at("files");
      std::string text = inputReport(&loaded.clean, shapes ? &*shapes : nullptr) + "deployed " +
                         std::to_string(files.size()) + " file(s) to " + device.describe() + ":" +
                         result.at("remote_dir").get<std::string>() + "\n";
      for (const auto& f : files)
        text += "  " + f.at("remote_path").get<std::string>() + "  " +
                formatBytes(f.at("size_bytes").get<int64_t>()) + "  sha256 " +
                f.at("sha256").get<std::string>().substr(0, 16) +
                (f.at("unchanged").get<bool>() ? "  (unchanged)" : "") + "\n";
      if (bench) {
        report["input_shapes"] = result.at("input_shapes");
        report["benchmark"] = result.at("bench");
        text += deploy::DeviceBenchmark::fromJson(result.at("bench")).toTable();
      }
      emit(global, report, text);
      return 0;
    };
  });
}

}  // namespace edgetune::cli
