// edgetune-cli deploy MODEL --device NAME [--bench ...]: verified upload into ~/edgetune/models/<name>/ and,
// with --bench, an on-device benchmark by edgetune-runner (uploaded when the device lacks it).
#include <unistd.h>

#include <map>
#include <optional>
#include <sstream>

#include "app/cli/cli_common.h"
#include "core/data/dataset.h"
#include "core/deploy/deploy.h"
#include "core/deploy/device.h"
#include "core/deploy/shell.h"
#include "core/deploy/ssh_session.h"
#include "core/runtime/executor.h"

namespace edgetune::cli {

deploy::ConnectOptions terminalConnectOptions(bool accept_new_host_key);  // cmd_device.cpp

namespace {
std::vector<int> parseThreads(const std::string& text) {
  std::vector<int> threads;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    try {
      size_t used = 0;
      const int t = std::stoi(item, &used);
      if (used != item.size() || t < 1) throw std::invalid_argument(item);
      threads.push_back(t);
    } catch (const std::exception&) {
      throw Error("--threads: '" + item + "' is not a positive integer (expected e.g. 1,2,4)");
    }
  }
  if (threads.empty()) throw Error("--threads: empty list");
  return threads;
}
}  // namespace

void addDeployCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model, device, name, remote_dir = "edgetune", threads = "1", eval_spec, runner_dir;
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
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--timeout", args->timeout_s, "Seconds for each network step")->capture_default_str();
  cmd->add_flag("-y,--yes", args->yes, "Accept the host key on first contact without asking");
  cmd->add_flag("--bench", args->bench, "Benchmark the model on the device with edgetune-runner");
  cmd->add_option("--threads", args->threads, "Thread counts to measure, e.g. 1,2,4")->capture_default_str();
  cmd->add_option("--runs", args->runs, "Timed runs per thread count")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", args->warmup, "Warm-up runs")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  addModelInputOptions(cmd, args->input);
  cmd->add_flag("--profile", args->profile, "Per-node ONNX Runtime profile on the device");
  cmd->add_option("--eval", args->eval_spec,
                  "Dataset spec: measure accuracy on the device on a subset of it");
  cmd->add_option("--limit", args->limit, "Examples in the evaluation subset (0 = all)")
      ->capture_default_str();
  cmd->add_option("--runner-dir", args->runner_dir,
                  "Folder with runner builds (edgetune-runner + libonnxruntime.so.1, per-arch subfolders)");
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      const bool bench = args->bench || args->profile || !args->eval_spec.empty();
      const std::vector<int> threads = parseThreads(args->threads);
      const deploy::Device device = deploy::DeviceStore().get(args->device);
      deploy::DeployOptions options;
      options.model_name =
          args->name.empty() ? std::filesystem::path(args->model).stem().string() : args->name;
      options.remote_root = args->remote_dir;
      options.retries = args->retries;
      deploy::validateName(options.model_name, "model name");
      deploy::validateRemotePath(options.remote_root, "--remote-dir");

      // The evaluation subset and the cleaned model are written before connecting, so bad input fails fast.
      struct Cleanup {
        std::filesystem::path path;
        ~Cleanup() {
          std::error_code ec;
          if (!path.empty()) std::filesystem::remove_all(path, ec);
        }
      } cleanup;
      cleanup.path =
          std::filesystem::temp_directory_path() / ("edgetune-deploy-" + std::to_string(::getpid()));
      std::filesystem::create_directories(cleanup.path);
      // What is uploaded is the model after the clean-up (outputs unchanged, fewer nodes), under the user's
      // file name; with --no-clean, the file exactly as given.
      LoadedModel loaded = loadModel(args->model, args->input);
      std::filesystem::path upload = args->model;
      if (loaded.clean.ran && loaded.clean.cleanup.changed()) {
        upload = cleanup.path / std::filesystem::path(args->model).filename();
        loaded.model.save(upload);
      }
      std::filesystem::path eval_file;
      std::optional<ExampleShapes> example;
      if (!args->eval_spec.empty()) {
        auto dataset = openDataset(args->eval_spec);
        checkInputsFit(makeOrtExecutor(loaded.model)->inputs(), dataset->features(), dataset->name());
        example = exampleShapesOf(*dataset);
        eval_file = cleanup.path / "eval.bin";
        auto job = makeJob(global, "eval subset");
        deploy::writeEvalSubset(*dataset, args->limit, 1, eval_file, job.get());
        endProgress();
      }
      InputShapes shapes;
      if (bench) {
        shapes = resolveShapes(loaded.model, args->input, example ? &*example : nullptr);
      }
      std::map<std::string, deploy::RunnerBinary> runners;
      if (bench) {
        std::vector<std::filesystem::path> dirs;
        if (!args->runner_dir.empty()) dirs.push_back(args->runner_dir);
        dirs.push_back(deploy::runningProgramDir());
        runners = deploy::findRunners(dirs);
      }

      auto connect = terminalConnectOptions(args->yes);
      connect.timeout = std::chrono::seconds(args->timeout_s);
      auto session = deploy::SshSession::connect(device, connect);
      auto job = makeJob(global, "deploy");
      deploy::DeployResult deployed = deploy::deployModel(*session, upload, options, job.get());
      endProgress();
      nlohmann::json report{
          {"device", device.name}, {"clean", loaded.clean.toJson()}, {"deploy", deployed.toJson()}};
      std::string text = inputReport(&loaded.clean, bench ? &shapes : nullptr) + "deployed " +
                         std::to_string(deployed.files.size()) + " file(s) to " + device.describe() + ":" +
                         deployed.remote_dir + "\n";
      for (const auto& f : deployed.files)
        text += "  " + f.remote_path + "  " + humanBytes(static_cast<double>(f.size_bytes)) + "  sha256 " +
                f.sha256.substr(0, 16) + (f.unchanged ? "  (unchanged)" : "") + "\n";
      if (bench) {
        auto runnerJob = makeJob(global, "runner");
        const std::string runner = deploy::ensureRunner(*session, runners, options, runnerJob.get());
        endProgress();
        deploy::RemoteBenchOptions bo;
        bo.threads = threads;
        bo.runs = args->runs;
        bo.warmup = args->warmup;
        bo.input_shapes = shapes;
        report["input_shapes"] = shapes.toJson();
        bo.profile = args->profile;
        if (!eval_file.empty()) {
          deploy::uploadVerified(*session, eval_file, deployed.remote_dir, "eval.bin", options);
          bo.eval_remote_path = deploy::remoteJoin(deployed.remote_dir, "eval.bin");
        }
        const std::string model_name = std::filesystem::path(args->model).filename().string();
        const deploy::DeviceBenchmark result = deploy::runRemoteBenchmark(
            *session, runner, deploy::remoteJoin(deployed.remote_dir, model_name), bo);
        report["benchmark"] = result.toJson();
        text += result.toTable();
      }
      emit(global, report, text);
      return 0;
    };
  });
}

}  // namespace edgetune::cli
