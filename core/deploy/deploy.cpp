// Verified uploads with retries, model folders, the device runner, remote benchmarks, evaluation subsets.
#include "core/deploy/deploy.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <set>

#include "core/data/dataset.h"
#include "core/deploy/eval_format.h"
#include "core/deploy/sha256.h"
#include "core/deploy/shell.h"

namespace edgetune::deploy {

namespace {

// The device computed another hash than ours: the bytes were damaged on the way; worth another attempt.
class ChecksumMismatch : public Error {
 public:
  using Error::Error;
};

std::string firstWord(const std::string& text) {
  const auto end = text.find_first_of(" \t\r\n");
  return text.substr(0, end);
}

std::string megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

std::string parentOf(const std::string& remote_path) {
  const auto slash = remote_path.rfind('/');
  return slash == std::string::npos ? "." : remote_path.substr(0, slash);
}

}  // namespace

nlohmann::json DeployResult::toJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : files)
    list.push_back({{"remote_path", f.remote_path},
                    {"size_bytes", f.size_bytes},
                    {"sha256", f.sha256},
                    {"unchanged", f.unchanged}});
  return {{"remote_dir", remote_dir}, {"files", list}, {"attempts", attempts}};
}

std::vector<std::filesystem::path> modelCompanionFiles(const std::filesystem::path& model) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model, ec)) throw Error(model.string() + ": no such model file");
  const auto dir = model.parent_path();
  const std::string stem = model.stem().string();
  const std::string file = model.filename().string();
  // The model card as the studio's export writes it (core/pipeline/model_card.h): <stem>.card.json and .md.
  const std::vector<std::string> candidates{file + ".data",      stem + ".data",    "vocab.txt",
                                            stem + ".vocab.txt", "labels.txt",      stem + ".labels.txt",
                                            stem + ".card.json", stem + ".card.md", stem + ".md",
                                            "model_card.md",     "model_card.json", "README.md"};
  std::vector<std::filesystem::path> files{model};
  std::set<std::string> seen{file};
  for (const auto& name : candidates) {
    const auto path = dir / name;
    if (!seen.count(name) && std::filesystem::is_regular_file(path, ec)) {
      files.push_back(path);
      seen.insert(name);
    }
  }
  return files;
}

UploadedFile uploadVerified(SshSession& session, const std::filesystem::path& local,
                            const std::string& remote_dir, const std::string& remote_name,
                            const DeployOptions& options, JobContext* job, int* attempts, int mode) {
  validateRemotePath(remote_dir, "remote folder");
  validateName(remote_name, "remote file name");
  const std::string final_path = remoteJoin(remote_dir, remote_name);
  const std::string partial_path = final_path + ".edgetune-partial";
  const std::string local_hash = sha256File(local);
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(local, ec);
  const std::string who = "device " + session.device().describe();
  const auto timeout = options.command_timeout;

  std::string last_error;
  bool lost = false;
  const int max_attempts = 1 + std::max(0, options.retries);
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    if (job) job->throwIfCancelled();
    try {
      if (attempts) ++*attempts;
      if (!session.isConnected()) session.reconnect();
      // One command makes the folder and tells whether the device already holds this exact file (a runner or
      // a re-deployed model): then nothing is sent. Each remote command costs a round trip, so they are few.
      const ExecResult existing =
          session.exec(shellCommand("mkdir", {"-p", "--", remote_dir}) + " && { " +
                           shellCommand("sha256sum", {"--", final_path}) + " 2>/dev/null || true; }",
                       timeout);
      if (existing.exit_code != 0)
        throw Error(who + ": cannot create " + remote_dir + ": " + existing.err.substr(0, 300));
      if (firstWord(existing.out) == local_hash) {
        if (job) job->report(1.0, remote_name + " already on the device");
        return {final_path, size, local_hash, true};
      }
      session.upload(
          local, partial_path,
          [&](uint64_t done, uint64_t total) {
            if (job) job->throwIfCancelled();
            if (job)
              job->report(
                  total ? 0.95 * static_cast<double>(done) / static_cast<double>(total) : 0.95,
                  "uploading " + remote_name + " (" + megabytes(done) + " of " + megabytes(total) + ")");
          },
          mode);
      if (job) job->report(0.96, "checking " + remote_name + " on the device");
      // Hash on the device, and rename only if it matches ours: the final name never holds unverified bytes.
      const ExecResult checked =
          session.exec("h=$(" + shellCommand("sha256sum", {"--", partial_path}) +
                           ") && echo \"$h\" && [ \"${h%% *}\" = " + shellQuote(local_hash) + " ] && " +
                           shellCommand("mv", {"-f", "--", partial_path, final_path}),
                       timeout);
      const std::string remote_hash = firstWord(checked.out);
      if (checked.exit_code != 0) {
        if (remote_hash.size() == 64 && remote_hash != local_hash) {
          session.removeFile(partial_path);
          throw ChecksumMismatch("the device computed SHA-256 " + remote_hash + " for " + partial_path +
                                 " but " + local.filename().string() + " has " + local_hash);
        }
        throw Error(who + ": checking and renaming " + partial_path + " failed (exit " +
                    std::to_string(checked.exit_code) + "): " + checked.err.substr(0, 300));
      }
      if (job) job->report(1.0, "uploaded " + remote_name);
      return {final_path, size, local_hash, false};
    } catch (const HostKeyChangedError&) {
      throw;
    } catch (const ConnectionError& e) {
      last_error = e.what();
      lost = true;
    } catch (const ChecksumMismatch& e) {
      last_error = e.what();
    } catch (const CancelledError&) {
      if (session.isConnected()) {
        try {
          session.removeFile(partial_path);
        } catch (const Error&) {
        }
      }
      throw;
    }
    if (job) job->report(0.0, "retrying " + remote_name + " (" + last_error + ")");
  }
  const std::string message =
      who + ": uploading " + local.filename().string() + " failed after " + std::to_string(max_attempts) +
      " attempt(s): " + last_error + ". Nothing was written to " + final_path +
      (lost ? " (an incomplete " + partial_path + " may remain; the next deploy replaces it)" : "");
  if (lost) throw ConnectionError(message);
  throw Error(message);
}

DeployResult deployFiles(SshSession& session, const std::vector<std::filesystem::path>& files,
                         const DeployOptions& options, JobContext* job) {
  if (files.empty()) throw Error("nothing to deploy");
  validateRemotePath(options.remote_root, "remote folder");
  validateName(options.model_name, "model name");
  DeployResult result;
  result.remote_dir = remoteJoin(remoteJoin(options.remote_root, "models"), options.model_name);
  std::error_code ec;
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (const auto& f : files) {
    if (!std::filesystem::is_regular_file(f, ec)) throw Error(f.string() + ": no such file to deploy");
    validateName(f.filename().string(), "file name");
    sizes.push_back(std::filesystem::file_size(f, ec) + 1);  // +1: empty files still take a slice
    total += sizes.back();
  }
  uint64_t before = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const double begin = static_cast<double>(before) / static_cast<double>(total);
    before += sizes[i];
    const double end = static_cast<double>(before) / static_cast<double>(total);
    const std::unique_ptr<JobContext> part = job ? job->child(begin, end) : nullptr;
    result.files.push_back(uploadVerified(session, files[i], result.remote_dir, files[i].filename().string(),
                                          options, part.get(), &result.attempts));
  }
  return result;
}

DeployResult deployModel(SshSession& session, const std::filesystem::path& model,
                         const DeployOptions& options, JobContext* job) {
  DeployOptions o = options;
  if (o.model_name.empty()) o.model_name = model.stem().string();
  return deployFiles(session, modelCompanionFiles(model), o, job);
}

std::string elfArchitecture(const std::filesystem::path& binary) {
  std::ifstream in(binary, std::ios::binary);
  unsigned char header[20] = {};
  if (!in.read(reinterpret_cast<char*>(header), sizeof(header))) return "";
  if (header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F') return "";
  const bool little = header[5] == 1;
  const int machine = little ? header[18] | (header[19] << 8) : (header[18] << 8) | header[19];
  switch (machine) {
    case 62:
      return "x86_64";
    case 183:
      return "aarch64";
    case 40:
      return "armv7l";
    default:
      return "elf-machine-" + std::to_string(machine);
  }
}

std::map<std::string, RunnerBinary> findRunners(const std::vector<std::filesystem::path>& dirs) {
  std::map<std::string, RunnerBinary> found;
  std::error_code ec;
  auto consider = [&](const std::filesystem::path& dir) {
    const auto runner = dir / "edgetune-runner";
    const auto library = dir / "libonnxruntime.so.1";
    if (!std::filesystem::is_regular_file(runner, ec) || !std::filesystem::exists(library, ec)) return;
    const std::string arch = elfArchitecture(runner);
    if (!arch.empty() && !found.count(arch)) found[arch] = {runner, library};
  };
  for (const auto& dir : dirs) {
    consider(dir);
    if (!std::filesystem::is_directory(dir, ec)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
      if (entry.is_directory(ec)) consider(entry.path());
  }
  return found;
}

std::string ensureRunner(SshSession& session, const std::map<std::string, RunnerBinary>& runners,
                         const DeployOptions& options, JobContext* job) {
  validateRemotePath(options.remote_root, "remote folder");
  std::string arch = firstWord(session.execChecked("uname -m", "uname -m", options.command_timeout));
  if (arch == "arm64") arch = "aarch64";
  const std::string dir = remoteJoin(options.remote_root, "runner");
  const std::string runner = remoteJoin(dir, "edgetune-runner");
  const std::string version_cmd =
      "LD_LIBRARY_PATH=" + shellQuote(dir) + " " + shellQuote(runner) + " --version";
  const std::string expected = "edgetune-runner " + std::to_string(evalfile::kRunnerProtocolVersion) + " ";

  auto it = runners.find(arch);
  if (it == runners.end()) {
    // No build for this CPU here; an installed runner of the right protocol is still fine.
    const ExecResult r = session.exec(version_cmd + " 2>/dev/null", options.command_timeout);
    if (r.exit_code == 0 && r.out.rfind(expected, 0) == 0) return runner;
    std::string have;
    for (const auto& [a, _] : runners) have += (have.empty() ? "" : ", ") + a;
    throw Error("device " + session.device().describe() + " is " + arch +
                " and has no edgetune-runner; no runner build for " + arch +
                " is available here (found: " + (have.empty() ? "none" : have) + ")" +
                (arch == "aarch64" ? "; build one with installer/build-runner-aarch64.sh" : ""));
  }
  int attempts = 0;
  {
    const std::unique_ptr<JobContext> part = job ? job->child(0.0, 0.8) : nullptr;
    uploadVerified(session, it->second.onnxruntime_library, dir, "libonnxruntime.so.1", options, part.get(),
                   &attempts, 0644);
  }
  {
    const std::unique_ptr<JobContext> part = job ? job->child(0.8, 1.0) : nullptr;
    uploadVerified(session, it->second.runner, dir, "edgetune-runner", options, part.get(), &attempts, 0755);
  }
  const ExecResult r = session.exec(version_cmd + " 2>&1", options.command_timeout);
  if (r.exit_code != 0 || r.out.rfind(expected, 0) != 0)
    throw Error("device " + session.device().describe() + ": the uploaded runner " + runner +
                " does not start there (exit " + std::to_string(r.exit_code) + "): " + r.out.substr(0, 400));
  return runner;
}

std::string runnerCommand(const std::string& runner_remote_path, const std::string& model_remote_path,
                          const RemoteBenchOptions& options) {
  validateRemotePath(runner_remote_path, "runner path");
  validateRemotePath(model_remote_path, "model path");
  if (options.threads.empty()) throw Error("the thread list is empty");
  std::string threads;
  for (int t : options.threads) {
    if (t < 1 || t > 1024) throw Error("thread count " + std::to_string(t) + " is not in 1..1024");
    threads += (threads.empty() ? "" : ",") + std::to_string(t);
  }
  if (options.runs < 1) throw Error("runs must be at least 1");
  if (options.warmup < 0) throw Error("warm-up runs must not be negative");
  if (options.dynamic_dim < 1) throw Error("the dynamic dimension must be at least 1");
  std::string cmd = "LD_LIBRARY_PATH=" + shellQuote(parentOf(runner_remote_path)) + " " +
                    shellQuote(runner_remote_path) + " " + shellQuote(model_remote_path) + " --threads " +
                    shellQuote(threads) + " --runs " + std::to_string(options.runs) + " --warmup " +
                    std::to_string(options.warmup) + " --dynamic-dim " + std::to_string(options.dynamic_dim);
  for (const auto& [name, dims] : options.input_shapes.dims) {
    std::string text;
    for (int64_t d : dims) {
      if (d < 1) throw Error("input '" + name + "': dimension " + std::to_string(d) + " is not positive");
      text += (text.empty() ? "" : "x") + std::to_string(d);
    }
    cmd += " --shape " + shellQuote(name + "=" + text);
  }
  if (options.profile) cmd += " --profile";
  if (!options.eval_remote_path.empty()) {
    validateRemotePath(options.eval_remote_path, "evaluation file path");
    cmd += " --eval " + shellQuote(options.eval_remote_path);
  }
  if (!options.baseline_remote_path.empty()) {
    validateRemotePath(options.baseline_remote_path, "baseline model path");
    cmd += " --baseline " + shellQuote(options.baseline_remote_path);
  }
  return cmd;
}

DeviceBenchmark runRemoteBenchmark(SshSession& session, const std::string& runner_remote_path,
                                   const std::string& model_remote_path, const RemoteBenchOptions& options) {
  const ExecResult r =
      session.exec(runnerCommand(runner_remote_path, model_remote_path, options), options.timeout);
  DeviceBenchmark bench;
  try {
    bench = parseRunnerOutput(r.out);
  } catch (const Error& e) {
    std::string err = r.err.substr(0, 400);
    throw Error("device " + session.device().describe() + ": " + e.what() +
                (r.exit_code != 0 ? " (exit " + std::to_string(r.exit_code) + ")" : "") +
                (err.empty() ? "" : "; stderr: " + err));
  }
  bench.device = session.device().name;
  return bench;
}

size_t writeEvalSubset(const Dataset& dataset, size_t limit, uint64_t seed, const std::filesystem::path& out,
                       JobContext* job) {
  const size_t n = dataset.size();
  if (n == 0) throw Error(dataset.name() + ": the dataset is empty; nothing to evaluate on the device");
  // The examples evaluate() visits for the same limit and seed, in its order: the device's accuracy is on the
  // host's subset.
  std::vector<size_t> indices(n);
  std::iota(indices.begin(), indices.end(), 0);
  if (limit > 0 && limit < n) indices = seededSubset(n, limit, seed);
  std::vector<evalfile::Feature> features;
  for (const auto& f : dataset.features()) {
    if (f.type != DataType::Float32 && f.type != DataType::Int64 && f.type != DataType::Int32)
      throw Error(dataset.name() + ": feature '" + f.name +
                  "' has an element type the device runner cannot read");
    features.push_back({f.name, static_cast<int32_t>(f.type), f.shape});
  }
  const std::filesystem::path partial = out.string() + ".partial";
  {
    std::ofstream file(partial, std::ios::binary | std::ios::trunc);
    if (!file) throw Error(partial.string() + ": cannot create the evaluation file");
    evalfile::writeHeader(file, features, indices.size());
    for (size_t k = 0; k < indices.size(); ++k) {
      if (job && k % 64 == 0) {
        job->throwIfCancelled();
        job->report(static_cast<double>(k) / static_cast<double>(indices.size()),
                    "writing evaluation subset");
      }
      const Example ex = dataset.get(indices[k]);
      if (ex.features.size() != features.size())
        throw Error(dataset.name() + ": example " + std::to_string(indices[k]) +
                    " has the wrong feature count");
      for (size_t f = 0; f < features.size(); ++f) {
        if (ex.features[f].byteSize() != features[f].byteSize())
          throw Error(dataset.name() + ": example " + std::to_string(indices[k]) + " feature '" +
                      features[f].name + "' has an unexpected size");
        file.write(static_cast<const char*>(ex.features[f].raw()),
                   static_cast<std::streamsize>(ex.features[f].byteSize()));
      }
      evalfile::writePod<int64_t>(file, ex.label);
    }
    file.flush();
    if (!file) {
      std::filesystem::remove(partial);
      throw Error(out.string() + ": write error");
    }
  }
  std::filesystem::rename(partial, out);
  return indices.size();
}

}  // namespace edgetune::deploy
