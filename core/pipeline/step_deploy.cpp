// Step "deploy": what `edgetune-cli deploy` does (the command runs this step): the model, cleaned as the CLI
// cleans what it uploads, goes to <remote_dir>/models/<name>/ by verified upload with its companion files,
// optionally benchmarked there by edgetune-runner (with a per-node profile, and accuracy on a subset of a
// dataset uploaded beside it). Also the device plumbing the benchmark step shares. A pipeline runs
// unattended: it never asks for a password or a passphrase, and trusts a new host key only when told to
// (accept_new_host_key, the CLI's --yes). A caller with a person at hand (the CLI command) hands in login
// prompts through the context instead; the step itself knows nothing of terminals.
#include <filesystem>
#include <map>
#include <set>

#include "core/deploy/shell.h"
#include "core/passes/canonicalize.h"
#include "core/pipeline/step_kinds.h"
#include "core/runtime/benchmark.h"
#include "core/runtime/executor.h"
#include "core/util/resources.h"

namespace edgetune::pipeline {

void writeConnection(nlohmann::json& j, const DeviceConnection& c) {
  j["remote_dir"] = c.remote_dir;
  j["retries"] = c.retries;
  j["timeout_s"] = c.timeout_s;
  j["accept_new_host_key"] = c.accept_new_host_key;
  j["runner_dir"] = c.runner_dir;
}

void readConnection(OptionsReader& r, DeviceConnection& c, const std::string& kind) {
  r.read("remote_dir", c.remote_dir);
  r.read("retries", c.retries);
  r.read("timeout_s", c.timeout_s);
  r.read("accept_new_host_key", c.accept_new_host_key);
  r.read("runner_dir", c.runner_dir);
  try {
    deploy::validateRemotePath(c.remote_dir, "remote_dir");
  } catch (const Error& e) {
    throwOptionError(kind, "remote_dir", std::string("is not usable: ") + e.what());
  }
  if (c.retries < 0) throwOptionError(kind, "retries", "must be 0 or more");
  if (c.timeout_s < 1) throwOptionError(kind, "timeout_s", "must be at least 1 second");
}

deploy::Device unattendedDevice(const std::string& name, const std::string& step_id) {
  const deploy::Device device = deploy::DeviceStore().get(name);
  if (device.auth == deploy::AuthMethod::Password)
    throw Error("step '" + step_id + "': device " + device.describe() +
                " logs in with a password, and a pipeline never asks for one; use key or agent login "
                "(edgetune-cli device add " +
                device.name + " ... --auth key --key FILE)");
  return device;
}

std::unique_ptr<deploy::SshSession> connectUnattended(const deploy::Device& device,
                                                      const DeviceConnection& c) {
  deploy::ConnectOptions options;
  options.timeout = std::chrono::seconds(c.timeout_s);
  if (c.accept_new_host_key) options.confirm_host_key = [](const deploy::HostKeyInfo&) { return true; };
  // No ask_secret: password login and encrypted keys fail with the session's own message.
  return deploy::SshSession::connect(device, options);
}

namespace {

deploy::DeployOptions deployOptions(const DeviceConnection& c, const std::string& folder = "") {
  deploy::DeployOptions options;
  options.model_name = folder;
  options.remote_root = c.remote_dir;
  options.retries = c.retries;
  return options;
}

}  // namespace

deploy::DeployResult uploadModel(deploy::SshSession& session, const Model& model, StepContext& context,
                                 const std::string& file_name, const std::string& folder,
                                 const DeviceConnection& c, JobContext* job,
                                 const std::vector<std::filesystem::path>& companions) {
  const std::filesystem::path local = context.workDir() / file_name;
  model.save(local);
  std::vector<std::filesystem::path> files{local};
  files.insert(files.end(), companions.begin(), companions.end());
  return deploy::deployFiles(session, files, deployOptions(c, folder), job);
}

deploy::DeviceBenchmark benchmarkOnDevice(deploy::SshSession& session, const std::string& remote_model,
                                          const std::vector<int>& threads, int runs, int warmup,
                                          const InputShapes& shapes, const DeviceConnection& c,
                                          JobContext* job, bool profile, const std::string& eval_remote_path,
                                          const std::string& baseline_remote_path) {
  std::vector<std::filesystem::path> dirs;
  if (!c.runner_dir.empty()) dirs.push_back(c.runner_dir);
  dirs.push_back(programDir());  // the build puts the runners beside edgetune-cli
  const std::string runner = deploy::ensureRunner(session, deploy::findRunners(dirs), deployOptions(c), job);
  deploy::RemoteBenchOptions bench;
  bench.threads = threads;
  bench.runs = runs;
  bench.warmup = warmup;
  bench.input_shapes = shapes;
  bench.profile = profile;
  bench.eval_remote_path = eval_remote_path;
  bench.baseline_remote_path = baseline_remote_path;
  deploy::DeviceBenchmark result = deploy::runRemoteBenchmark(session, runner, remote_model, bench);
  result.device = session.device().name;
  if (job) job->report(1.0, "benchmarked");
  return result;
}

std::string uploadBaseline(deploy::SshSession& session, const Model& base, StepContext& context,
                           const std::string& folder, const DeviceConnection& c, JobContext* job) {
  const deploy::DeployResult deployed =
      uploadModel(session, base, context, kBaselineFileName, folder, c, job);
  return deployed.files.at(0).remote_path;
}

namespace {

constexpr const char* kKind = "deploy";

struct DeployStepOptions {
  std::string device;
  std::string name;                     // folder under <remote_dir>/models (default: the step id)
  std::string file = "model.onnx";      // file name on the device
  std::vector<std::string> companions;  // files on this machine uploaded beside it (labels, vocabulary, card)
  bool clean = true;  // the CLI's clean-up first (false: the model exactly as the step gets it)
  bool bench = false;
  bool profile = false;  // per-node ONNX Runtime profile on the device (benchmarks)
  std::string eval;      // a dataset role: accuracy on the device on a subset of it (benchmarks)
  size_t limit = 500;    // examples in that subset, a seeded random choice (0 = all)
  uint64_t seed = 0;  // of the subset: the evaluate step's default, so the same limit picks the same examples
  std::vector<int> threads = {1};
  int runs = 50;
  int warmup = 5;
  std::vector<std::string> shapes;
  // Times the recipe's base model (uploaded beside it) interleaved with this one in one run on the device, so
  // the report's speed-up there compares runs under the same conditions (benchmarks).
  bool compare_base = false;
  DeviceConnection connection;

  // The runner runs when any of its measurements is asked for, as `edgetune-cli deploy` does.
  bool measures() const { return bench || profile || !eval.empty() || compare_base; }
};

void to_json(nlohmann::json& j, const DeployStepOptions& o) {
  j = {{"device", o.device},
       {"name", o.name},
       {"file", o.file},
       {"companions", o.companions},
       {"clean", o.clean},
       {"bench", o.bench},
       {"profile", o.profile},
       {"eval", o.eval},
       {"limit", o.limit},
       {"seed", o.seed},
       {"threads", o.threads},
       {"runs", o.runs},
       {"warmup", o.warmup},
       {"shapes", o.shapes},
       {"compare_base", o.compare_base}};
  writeConnection(j, o.connection);
}

void readOptions(OptionsReader& r, DeployStepOptions& o) {
  r.read("device", o.device);
  r.read("name", o.name);
  r.read("file", o.file);
  r.read("companions", o.companions);
  r.read("clean", o.clean);
  r.read("bench", o.bench);
  r.read("profile", o.profile);
  r.read("eval", o.eval);
  r.read("limit", o.limit);
  r.read("seed", o.seed);
  r.read("threads", o.threads);
  r.read("runs", o.runs);
  r.read("warmup", o.warmup);
  r.read("shapes", o.shapes);
  r.read("compare_base", o.compare_base);
  readConnection(r, o.connection, kKind);
  if (o.device.empty())
    throwOptionError(kKind, "device", "is required: a device name from `edgetune-cli device list`");
  if (!o.name.empty() && !deploy::isValidName(o.name))
    throwOptionError(kKind, "name", "is '" + o.name + "' (expected a plain folder name)");
  if (!deploy::isValidName(o.file))
    throwOptionError(kKind, "file", "is '" + o.file + "' (expected a plain file name)");
  if (o.compare_base && o.file == kBaselineFileName)
    throwOptionError(
        kKind, "file",
        std::string("is '") + kBaselineFileName + "', the name compare_base uploads the base as");
  std::set<std::string> names{o.file};
  if (o.compare_base) names.insert(kBaselineFileName);
  for (const auto& c : o.companions) {
    const std::string name = std::filesystem::path(c).filename().string();
    if (!deploy::isValidName(name))
      throwOptionError(kKind, "companions", "holds '" + c + "' (its file name is not usable on the device)");
    if (!names.insert(name).second)
      throwOptionError(kKind, "companions", "holds '" + c + "', whose name '" + name + "' is taken already");
  }
  checkRole(kKind, "eval", o.eval, /*may_be_empty=*/true);
  checkTimingOptions(kKind, o.threads, /*min_threads=*/1, o.runs, o.warmup);
}

// The CLI's clean-up of what it uploads (outputs unchanged, fewer nodes, BatchNorm folded).
void cleanForDevice(Model& model) {
  PassContext pass_context;
  CanonicalizeOptions clean;
  clean.fold_batchnorm = true;
  canonicalize(model, clean, pass_context);
}

// The session the step works in: the caller's prompts when it has a person to ask (then a device that logs
// in with a password is fine), else unattended.
std::unique_ptr<deploy::SshSession> connectForStep(const deploy::Device& device, const DeviceConnection& c,
                                                   const deploy::LoginPrompts& prompts) {
  deploy::ConnectOptions options;
  options.timeout = std::chrono::seconds(c.timeout_s);
  options.confirm_host_key = prompts.confirm_host_key;
  options.ask_secret = prompts.ask_secret;
  if (!options.confirm_host_key && c.accept_new_host_key)
    options.confirm_host_key = [](const deploy::HostKeyInfo&) { return true; };
  return deploy::SshSession::connect(device, options);
}

class DeployStep final : public StepWithOptions<DeployStepOptions> {
 public:
  std::string kind() const override { return kKind; }
  std::vector<std::string> datasetRoles() const override {
    if (options_.eval.empty()) return {};
    return {options_.eval};
  }
  std::vector<std::string> references() const override {
    if (options_.compare_base) return {"base"};
    return {};
  }

  std::vector<std::filesystem::path> filesRead() const override {
    return {options_.companions.begin(), options_.companions.end()};
  }

  StepOutput run(StepContext& context) override {
    const deploy::LoginPrompts* prompts = context.loginPrompts();
    const deploy::Device device = prompts ? deploy::DeviceStore().get(options_.device)
                                          : unattendedDevice(options_.device, context.stepId());
    const std::string folder = options_.name.empty() ? context.stepId() : options_.name;
    deploy::validateName(folder, "model folder name (option 'name')");
    // What is uploaded is the model after the clean-up (outputs unchanged, fewer nodes), as the CLI does.
    Model model = context.input();
    if (options_.clean) cleanForDevice(model);
    std::vector<std::filesystem::path> companions;
    for (const auto& c : options_.companions) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(c, ec))
        throw Error("step '" + context.stepId() + "': companion file " + c + " does not exist");
      companions.push_back(c);
    }
    // Everything that can fail on this machine (sizes, a dataset that does not fit) fails before connecting.
    const Dataset* eval = options_.eval.empty() ? nullptr : &context.dataset(options_.eval);
    InputShapes shapes;
    if (options_.measures()) {
      const ExampleShapes example = eval ? exampleShapesOf(*eval) : ExampleShapes{};
      shapes = resolveInputShapes(model, parseShapeSpecs(options_.shapes), eval ? &example : nullptr);
    }
    JobContext* job = context.job();
    const std::filesystem::path eval_file = context.workDir() / "eval.bin";
    if (eval) {
      checkInputsFit(makeOrtExecutor(model)->inputs(), eval->features(), eval->name());
      std::unique_ptr<JobContext> subset = job ? job->child(0, 0.05, "eval subset") : nullptr;
      deploy::writeEvalSubset(*eval, options_.limit, options_.seed, eval_file, subset.get());
    }

    auto session = prompts ? connectForStep(device, options_.connection, *prompts)
                           : connectUnattended(device, options_.connection);
    const double upload_from = eval ? 0.05 : 0.0, upload_to = options_.measures() ? 0.4 : 1.0;
    std::unique_ptr<JobContext> upload = job ? job->child(upload_from, upload_to, "upload") : nullptr;
    const deploy::DeployResult deployed = uploadModel(*session, model, context, options_.file, folder,
                                                      options_.connection, upload.get(), companions);
    const deploy::UploadedFile& file = deployed.files.at(0);
    StepOutput out;
    out.result = {{"device", device.name},           {"remote_dir", deployed.remote_dir},
                  {"remote_path", file.remote_path}, {"sha256", file.sha256},
                  {"bytes", file.size_bytes},        {"unchanged", file.unchanged},
                  {"deploy", deployed.toJson()},     {"bench", nullptr}};
    out.lines.push_back("deployed " + file.remote_path + " to " + device.describe() + " (sha256 " +
                        file.sha256.substr(0, 16) + (file.unchanged ? ", unchanged)" : ")"));
    out.artifacts.push_back(context.workDir() / options_.file);
    if (options_.measures()) {
      std::string eval_remote_path;
      if (eval) {
        deploy::uploadVerified(*session, eval_file, deployed.remote_dir, "eval.bin",
                               deployOptions(options_.connection));
        eval_remote_path = deploy::remoteJoin(deployed.remote_dir, "eval.bin");
        out.artifacts.push_back(eval_file);
      }
      std::string baseline_remote_path;
      if (options_.compare_base) {
        Model base = context.base();
        if (options_.clean) cleanForDevice(base);
        baseline_remote_path = uploadBaseline(*session, base, context, folder, options_.connection, nullptr);
        out.artifacts.push_back(context.workDir() / kBaselineFileName);
      }
      std::unique_ptr<JobContext> bench = job ? job->child(0.4, 1.0, "benchmark") : nullptr;
      const deploy::DeviceBenchmark r = benchmarkOnDevice(
          *session, file.remote_path, options_.threads, options_.runs, options_.warmup, shapes,
          options_.connection, bench.get(), options_.profile, eval_remote_path, baseline_remote_path);
      out.result["bench"] = r.toJson();
      out.result["input_shapes"] = shapes.toJson();
      for (const auto& l : r.latency)
        out.lines.push_back(device.name + ", " + std::to_string(l.threads) + " thread(s): median " +
                            std::to_string(l.median_ms) + " ms" +
                            (l.speedup > 0 ? ", " + std::to_string(l.speedup) + "x faster than the base" +
                                                 " (interleaved, base median " +
                                                 std::to_string(l.baseline_median_ms) + " ms)"
                                           : ""));
      if (r.accuracy)
        out.lines.push_back("accuracy on the device: " + std::to_string(r.accuracy->correct) + " of " +
                            std::to_string(r.accuracy->examples));
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> makeDeployStep() {
  return std::make_unique<DeployStep>();
}

}  // namespace edgetune::pipeline
