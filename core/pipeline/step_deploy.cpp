// Step "deploy": `edgetune-cli deploy` as a step: the model, cleaned as the CLI cleans what it uploads, goes
// to <remote_dir>/models/<name>/ by verified upload, optionally benchmarked there by edgetune-runner. Also
// the device plumbing the benchmark step shares. A pipeline runs unattended: it never asks for a password or
// a passphrase, and trusts a new host key only when told to (accept_new_host_key, the CLI's --yes).
#include <filesystem>
#include <map>

#include "core/deploy/shell.h"
#include "core/passes/canonicalize.h"
#include "core/pipeline/step_kinds.h"

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

deploy::DeployResult uploadModel(deploy::SshSession& session, const Model& model, StepContext& context,
                                 const std::string& file_name, const std::string& folder,
                                 const DeviceConnection& c, JobContext* job) {
  const std::filesystem::path local = context.workDir() / file_name;
  model.save(local);
  deploy::DeployOptions options;
  options.model_name = folder;
  options.remote_root = c.remote_dir;
  options.retries = c.retries;
  return deploy::deployFiles(session, {local}, options, job);
}

deploy::DeviceBenchmark benchmarkOnDevice(deploy::SshSession& session, const std::string& remote_model,
                                          const std::vector<int>& threads, int runs, int warmup,
                                          const InputShapes& shapes, const DeviceConnection& c,
                                          JobContext* job) {
  std::vector<std::filesystem::path> dirs;
  if (!c.runner_dir.empty()) dirs.push_back(c.runner_dir);
  dirs.push_back(deploy::runningProgramDir());
  deploy::DeployOptions options;
  options.remote_root = c.remote_dir;
  options.retries = c.retries;
  const std::string runner = deploy::ensureRunner(session, deploy::findRunners(dirs), options, job);
  deploy::RemoteBenchOptions bench;
  bench.threads = threads;
  bench.runs = runs;
  bench.warmup = warmup;
  bench.input_shapes = shapes;
  deploy::DeviceBenchmark result = deploy::runRemoteBenchmark(session, runner, remote_model, bench);
  result.device = session.device().name;
  if (job) job->report(1.0, "benchmarked");
  return result;
}

namespace {

constexpr const char* kKind = "deploy";

struct DeployStepOptions {
  std::string device;
  std::string name;                 // folder under <remote_dir>/models (default: the step id)
  std::string file = "model.onnx";  // file name on the device
  bool bench = false;
  std::vector<int> threads = {1};
  int runs = 50;
  int warmup = 5;
  std::vector<std::string> shapes;
  DeviceConnection connection;
};

void to_json(nlohmann::json& j, const DeployStepOptions& o) {
  j = {{"device", o.device},   {"name", o.name}, {"file", o.file},     {"bench", o.bench},
       {"threads", o.threads}, {"runs", o.runs}, {"warmup", o.warmup}, {"shapes", o.shapes}};
  writeConnection(j, o.connection);
}

void readOptions(OptionsReader& r, DeployStepOptions& o) {
  r.read("device", o.device);
  r.read("name", o.name);
  r.read("file", o.file);
  r.read("bench", o.bench);
  r.read("threads", o.threads);
  r.read("runs", o.runs);
  r.read("warmup", o.warmup);
  r.read("shapes", o.shapes);
  readConnection(r, o.connection, kKind);
  if (o.device.empty())
    throwOptionError(kKind, "device", "is required: a device name from `edgetune-cli device list`");
  if (!o.name.empty() && !deploy::isValidName(o.name))
    throwOptionError(kKind, "name", "is '" + o.name + "' (expected a plain folder name)");
  if (!deploy::isValidName(o.file))
    throwOptionError(kKind, "file", "is '" + o.file + "' (expected a plain file name)");
  if (o.threads.empty()) throwOptionError(kKind, "threads", "is empty (expected thread counts, e.g. [1, 2])");
  for (int t : o.threads)
    if (t < 1) throwOptionError(kKind, "threads", "holds " + std::to_string(t) + " (expected counts >= 1)");
  if (o.runs < 1) throwOptionError(kKind, "runs", "must be at least 1");
  if (o.warmup < 0) throwOptionError(kKind, "warmup", "must be 0 or more");
}

class DeployStep final : public StepWithOptions<DeployStepOptions> {
 public:
  std::string kind() const override { return kKind; }

  StepOutput run(StepContext& context) override {
    const deploy::Device device = unattendedDevice(options_.device, context.stepId());
    const std::string folder = options_.name.empty() ? context.stepId() : options_.name;
    deploy::validateName(folder, "model folder name (option 'name')");
    // What is uploaded is the model after the clean-up (outputs unchanged, fewer nodes), as the CLI does.
    Model model = context.input();
    PassContext pass_context;
    CanonicalizeOptions clean;
    clean.fold_batchnorm = true;
    canonicalize(model, clean, pass_context);
    const InputShapes shapes =
        options_.bench ? resolveInputShapes(model, parseShapeSpecs(options_.shapes)) : InputShapes{};

    JobContext* job = context.job();
    auto session = connectUnattended(device, options_.connection);
    std::unique_ptr<JobContext> upload = job ? job->child(0, options_.bench ? 0.4 : 1.0, "upload") : nullptr;
    const deploy::DeployResult deployed =
        uploadModel(*session, model, context, options_.file, folder, options_.connection, upload.get());
    const deploy::UploadedFile& file = deployed.files.at(0);
    StepOutput out;
    out.result = {
        {"device", device.name}, {"remote_dir", deployed.remote_dir}, {"remote_path", file.remote_path},
        {"sha256", file.sha256}, {"bytes", file.size_bytes},          {"unchanged", file.unchanged},
        {"bench", nullptr}};
    out.lines.push_back("deployed " + file.remote_path + " to " + device.describe() + " (sha256 " +
                        file.sha256.substr(0, 16) + (file.unchanged ? ", unchanged)" : ")"));
    if (options_.bench) {
      std::unique_ptr<JobContext> bench = job ? job->child(0.4, 1.0, "benchmark") : nullptr;
      const deploy::DeviceBenchmark r =
          benchmarkOnDevice(*session, file.remote_path, options_.threads, options_.runs, options_.warmup,
                            shapes, options_.connection, bench.get());
      out.result["bench"] = r.toJson();
      for (const auto& l : r.latency)
        out.lines.push_back(device.name + ", " + std::to_string(l.threads) + " thread(s): median " +
                            std::to_string(l.median_ms) + " ms");
    }
    out.artifacts.push_back(context.workDir() / options_.file);
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> makeDeployStep() {
  return std::make_unique<DeployStep>();
}

}  // namespace edgetune::pipeline
