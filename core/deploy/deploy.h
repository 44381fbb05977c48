#pragma once
// Deploying a model to a device: verified uploads (temporary name, SHA-256 checked on the device, then
// rename), retries over a fresh connection, the on-device runner, remote benchmarks and evaluation subsets.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/deploy/device_benchmark.h"
#include "core/deploy/ssh_session.h"
#include "core/ir/input_shapes.h"
#include "core/jobs/job.h"

namespace edgetune {
class Dataset;
}

namespace edgetune::deploy {

struct DeployOptions {
  std::string model_name;  // folder under <remote_root>/models; empty: the model file's stem
  std::string remote_root =
      "edgetune";   // EdgeTune's folder on the device (relative = under the login folder)
  int retries = 2;  // extra attempts per file after a lost connection or bad checksum
  std::chrono::milliseconds command_timeout{60000};  // sha256sum, mkdir, mv
};

struct UploadedFile {
  std::string remote_path;
  uint64_t size_bytes = 0;
  std::string sha256;
  bool unchanged = false;  // the device already had this exact file; nothing was sent
};

struct DeployResult {
  std::string remote_dir;
  std::vector<UploadedFile> files;
  int attempts = 0;  // connection attempts used in total (1 per file when nothing went wrong)
  nlohmann::json toJson() const;
};

/// The model file and what it needs, found beside it: external data (<model>.data / .onnx.data), tokenizer
/// vocab (vocab.txt, <stem>.vocab.txt), labels (labels.txt, <stem>.labels.txt) and model card
/// (<stem>.card.json, <stem>.card.md, <stem>.md, model_card.md / .json, README.md). Throws Error if the model
/// file is missing.
std::vector<std::filesystem::path> modelCompanionFiles(const std::filesystem::path& model);

/// Uploads `local` to <remote_dir>/<remote_name>: to "<name>.edgetune-partial" first, then `sha256sum` on the
/// device must match, then `mv` to the final name. Retries on ConnectionError (reconnecting) and checksum
/// mismatch. On final failure throws ConnectionError/Error saying that nothing was written to the final path.
UploadedFile uploadVerified(SshSession& session, const std::filesystem::path& local,
                            const std::string& remote_dir, const std::string& remote_name,
                            const DeployOptions& options, JobContext* job = nullptr, int* attempts = nullptr,
                            int mode = 0644);

/// Uploads `files` into <remote_root>/models/<name>/ (names and paths validated and quoted).
DeployResult deployFiles(SshSession& session, const std::vector<std::filesystem::path>& files,
                         const DeployOptions& options, JobContext* job = nullptr);
/// deployFiles(modelCompanionFiles(model)) with the model name defaulting to the file stem.
DeployResult deployModel(SshSession& session, const std::filesystem::path& model,
                         const DeployOptions& options, JobContext* job = nullptr);

/// A runner build for one CPU architecture: the program and the libonnxruntime.so.1 it needs.
struct RunnerBinary {
  std::filesystem::path runner;
  std::filesystem::path onnxruntime_library;
};
/// ELF machine of a binary as `uname -m` names it ("x86_64", "aarch64"), or "" if not an ELF file.
std::string elfArchitecture(const std::filesystem::path& binary);
/// Finds runner builds (edgetune-runner + libonnxruntime.so.1 side by side) in `dirs` and their arch
/// subfolders (e.g. bin/ and bin/aarch64/), keyed by architecture.
std::map<std::string, RunnerBinary> findRunners(const std::vector<std::filesystem::path>& dirs);

/// Makes sure the device has a runner that speaks our protocol, in <remote_root>/runner/; uploads the one for
/// the device's `uname -m` (verified like models) when it lacks one. Returns the runner's remote path.
/// Throws Error naming the architecture if no runner build for it is available.
std::string ensureRunner(SshSession& session, const std::map<std::string, RunnerBinary>& runners,
                         const DeployOptions& options, JobContext* job = nullptr);

struct RemoteBenchOptions {
  std::vector<int> threads{1};
  int runs = 50;
  int warmup = 5;
  int64_t dynamic_dim =
      1;  // length of non-batch dynamic axes for random inputs that input_shapes does not name
  InputShapes input_shapes;  // exact sizes of the random inputs (resolveInputShapes), passed as --shape
  bool profile = false;
  std::string eval_remote_path;      // an evaluation subset already on the device, or ""
  std::string baseline_remote_path;  // a model on the device timed interleaved with this one, or ""
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
};
/// The command line that runs the runner (all variable parts validated and quoted); exposed for tests.
std::string runnerCommand(const std::string& runner_remote_path, const std::string& model_remote_path,
                          const RemoteBenchOptions& options);
/// Runs the runner on the device and parses its JSON.
DeviceBenchmark runRemoteBenchmark(SshSession& session, const std::string& runner_remote_path,
                                   const std::string& model_remote_path, const RemoteBenchOptions& options);

/// Writes up to `limit` examples of `dataset` (when limit < size, seededSubset's choice: the examples
/// evaluate() visits with the same limit and seed; 0 = all, in order) in the runner's evaluation format
/// (core/deploy/eval_format.h), atomically. Returns the number written.
size_t writeEvalSubset(const Dataset& dataset, size_t limit, uint64_t seed, const std::filesystem::path& out,
                       JobContext* job = nullptr);

}  // namespace edgetune::deploy
