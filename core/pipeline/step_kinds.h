#pragma once
// Private to the step kinds (steps_core.cpp, step_*.cpp, steps_training*.cpp): each kind's factory, and the
// few helpers several kinds share (option checks that name the key, borrowed datasets, input sizes, devices).
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/deploy/deploy.h"
#include "core/deploy/device.h"
#include "core/deploy/ssh_session.h"
#include "core/ir/input_shapes.h"
#include "core/pipeline/step.h"
#include "core/util/enum_names.h"

namespace edgetune::pipeline {

std::unique_ptr<Step> makeCleanStep();
std::unique_ptr<Step> makePruneStep();
std::unique_ptr<Step> makeSensitivityStep();
std::unique_ptr<Step> makeQuantizeStep();
std::unique_ptr<Step> makeExportStep();
std::unique_ptr<Step> makeEvaluateStep();
std::unique_ptr<Step> makeBenchmarkStep();
std::unique_ptr<Step> makeDeployStep();

/// Throws OptionError("step 'KIND': option 'KEY' PROBLEM") as OptionsReader does for a bad type.
[[noreturn]] inline void throwOptionError(const std::string& kind, const std::string& key,
                                          const std::string& problem) {
  throw OptionError("step '" + kind + "': option '" + key + "' " + problem, key);
}

/// `value` must be one of `allowed`, the part of its enum this step takes (the message lists them); reading
/// the option already refused a spelling that is none of the enum's.
template <NamedEnum E>
void checkChoice(const std::string& kind, const std::string& key, E value, std::initializer_list<E> allowed) {
  std::string list;
  for (const E a : allowed) {
    if (a == value) return;
    list += (list.empty() ? "" : ", ") + toString(a);
  }
  throwOptionError(kind, key, "is '" + toString(value) + "' (expected " + list + ")");
}

/// The timing options benchmark and deploy share: `threads` non-empty, each in min_threads..kMaxThreadCount
/// (0 means "all cores" on the host, which a device's runner does not take), `runs` in 1..kMaxBenchmarkRuns
/// and `warmup` in 0..kMaxBenchmarkRuns.
void checkTimingOptions(const std::string& kind, const std::vector<int>& threads, int min_threads, int runs,
                        int warmup);

/// A role option must name one of the recipe's dataset roles (recipe_file.h's datasetRoles()).
void checkRole(const std::string& kind, const std::string& key, const std::string& role,
               bool may_be_empty = false);

/// The context's dataset as the shared_ptr APIs (QuantizePass) take it; the context outlives the step, so
/// nothing is owned.
inline std::shared_ptr<const Dataset> borrowed(const Dataset& dataset) {
  return std::shared_ptr<const Dataset>(&dataset, [](const Dataset*) {});
}

/// Input sizes as the CLI commands resolve them: the `shapes` ("NAME=1x3x224x224", as --shape), then the
/// dataset example, then the defaults. When the user gave no shapes and the model cannot be sized (a dynamic
/// image size), returns nullopt and adds a line saying that MACs count symbolic dimensions as 1; a wrong
/// shape the user gave throws.
std::optional<InputShapes> resolveShapesOrNote(const Model& model, const std::vector<std::string>& shapes,
                                               const Dataset* example_source,
                                               std::vector<std::string>& lines);

/// How a step reaches a device (the options of `edgetune-cli deploy` that are about the connection).
struct DeviceConnection {
  std::string remote_dir = "edgetune";  // EdgeTune's folder on the device
  int retries = 2;                      // extra attempts per file after a lost connection
  int timeout_s = 15;                   // seconds for each network step
  bool accept_new_host_key = false;     // --yes: trust the host key on first contact
  std::string runner_dir;  // folder with runner builds (default: beside the executable), for benchmarks
};
void writeConnection(nlohmann::json& j, const DeviceConnection& c);
void readConnection(OptionsReader& r, DeviceConnection& c, const std::string& kind);

/// The device `name` from the device store (`edgetune-cli device add`), refused when it logs in with a
/// password: a pipeline runs unattended and never asks for one.
deploy::Device unattendedDevice(const std::string& name, const std::string& step_id);
/// Connects without prompts: unknown host keys are refused unless accept_new_host_key, encrypted keys fail.
std::unique_ptr<deploy::SshSession> connectUnattended(const deploy::Device& device,
                                                      const DeviceConnection& c);

/// Saves `model` as workDir/file_name and uploads it (verified) into <remote_dir>/models/<folder>/, with
/// `companions` (local files: labels, vocabulary, model card) beside it; the model is files.at(0).
deploy::DeployResult uploadModel(deploy::SshSession& session, const Model& model, StepContext& context,
                                 const std::string& file_name, const std::string& folder,
                                 const DeviceConnection& c, JobContext* job,
                                 const std::vector<std::filesystem::path>& companions = {});
/// Benchmarks an uploaded model on the device with edgetune-runner (uploaded first when the device lacks
/// it), as `edgetune-cli deploy --bench` does; `profile` adds the per-node profile, `eval_remote_path` (an
/// evaluation subset already on the device) the accuracy.
deploy::DeviceBenchmark benchmarkOnDevice(deploy::SshSession& session, const std::string& remote_model,
                                          const std::vector<int>& threads, int runs, int warmup,
                                          const InputShapes& shapes, const DeviceConnection& c,
                                          JobContext* job, bool profile = false,
                                          const std::string& eval_remote_path = "",
                                          const std::string& baseline_remote_path = "");
/// The file name the recipe's base model has on the device beside a model timed against it (compare_base).
inline constexpr const char* kBaselineFileName = "baseline.onnx";
/// Saves `base` as workDir/baseline.onnx and uploads it (verified) into the same device folder as the model
/// it is timed against; returns its path on the device.
std::string uploadBaseline(deploy::SshSession& session, const Model& base, StepContext& context,
                           const std::string& folder, const DeviceConnection& c, JobContext* job);

}  // namespace edgetune::pipeline
