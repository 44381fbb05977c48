#include "app/cli/cli_common.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "core/util/temporary_file.h"

namespace edgetune::cli {
namespace {

std::atomic<JobContext*> g_current_job{nullptr};
bool g_progress_drawn = false;

void onInterrupt(int signal_number) {
  JobContext* job = g_current_job.load();
  if (job && !job->cancelled()) {
    job->cancel();
    return;
  }
  // A second Ctrl-C, or one between jobs: end now, as Ctrl-C would, without leaving temporaries behind.
  removeTemporariesNow();
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

}  // namespace

void CliJobDeleter::operator()(JobContext* job) const noexcept {
  JobContext* expected = job;
  g_current_job.compare_exchange_strong(expected, nullptr);
  delete job;
}

CliJob cancelOnInterrupt(std::unique_ptr<JobContext> job) {
  g_current_job.store(job.get());
  std::signal(SIGINT, onInterrupt);
  return CliJob(job.release());
}

CliJob makeJob(const GlobalOptions& options, const std::string& title) {
  const bool draw = !options.quiet && ::isatty(STDERR_FILENO);
  JobContext::Sink sink;
  if (draw) {
    sink = [title](const Progress& p) {
      const int width = 30;
      const int filled = static_cast<int>(p.fraction * width + 0.5);
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(width, '.');
      char eta[32] = "";
      if (p.eta_seconds >= 0) std::snprintf(eta, sizeof(eta), "  ETA %.0fs", p.eta_seconds);
      std::string msg = p.message.substr(0, 40);
      std::fprintf(stderr, "\r\033[K%s [%s] %3.0f%%  %s%s", title.c_str(), bar.c_str(), 100 * p.fraction,
                   msg.c_str(), eta);
      std::fflush(stderr);
      g_progress_drawn = true;
    };
  }
  return cancelOnInterrupt(std::make_unique<JobContext>(sink));
}

void endProgress() {
  if (g_progress_drawn) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    g_progress_drawn = false;
  }
}

int exitOnParseError(const CLI::App& app, const CLI::ParseError& error) {
  if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(error);
  // The deepest subcommand parsed ("device add") is the one whose --help explains the option.
  std::string command = "edgetune-cli";
  for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
    sub = sub->get_subcommands().front();
    command += " " + sub->get_name();
  }
  std::string message = error.what();
  // A mistyped command is an extra argument to CLI11, which then only says a subcommand is required.
  const std::vector<std::string> rest = app.remaining();
  if (app.get_subcommands().empty() && !rest.empty() && !rest.front().empty() && rest.front()[0] != '-') {
    std::string commands;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      commands += (commands.empty() ? "" : ", ") + sub->get_name();
    message = "'" + rest.front() + "' is not a command (commands: " + commands + ")";
  }
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  std::cerr << "edgetune-cli: error: " << message << " (see " << command << " --help)\n";
  return kExitBadArguments;
}

void addModelInputOptions(CLI::App* cmd, ModelInputArgs& args) {
  cmd->add_flag(
      "--no-clean", args.no_clean,
      "Use the model exactly as given (no Identity/Dropout removal, constant or BatchNorm folding)");
  cmd->add_option(
      "--shape", args.shapes,
      "Concrete size of an input with symbolic dimensions, e.g. --shape input_ids=1x128 (repeatable)");
}

LoadedModel loadModel(const std::string& path, const ModelInputArgs& args, bool fold_batchnorm) {
  LoadedModel loaded{Model::load(path), {}};
  CanonicalizeOptions options;
  options.enabled = !args.no_clean;
  options.fold_batchnorm = fold_batchnorm;
  PassContext context;
  loaded.clean = canonicalize(loaded.model, options, context);
  return loaded;
}

InputShapes resolveShapes(const Model& model, const ModelInputArgs& args, const ExampleShapes* example) {
  return resolveInputShapes(model, parseShapeSpecs(args.shapes), example);
}

std::string inputReport(const CanonicalizeReport* clean, const InputShapes* shapes) {
  std::string text;
  if (clean) {
    for (const auto& line : clean->opset_conversion) text += "load: " + line + "\n";
    text += clean->summary() + "\n";
  }
  if (shapes && !shapes->empty()) {
    text += "sizes: " + shapes->describe() + "\n";
    for (const auto& note : shapes->notes) text += "  " + note + "\n";
  }
  return text;
}

Coverage coverageFromJson(const nlohmann::json& json) {
  Coverage c;
  c.total_macs = json.at("macs").at("total").get<int64_t>();
  c.covered_macs = json.at("macs").at("covered").get<int64_t>();
  c.total_weight_bytes = json.at("weight_bytes").at("total").get<int64_t>();
  c.covered_weight_bytes = json.at("weight_bytes").at("covered").get<int64_t>();
  for (const auto& [reason, nodes] : json.at("skipped").items()) {
    auto& list = c.skipped[reason];  // kept when empty, as toJson() wrote it
    for (const auto& n : nodes)
      list.push_back({n.at("node").get<std::string>(), n.at("op").get<std::string>(),
                      n.at("macs").get<int64_t>(), n.at("weight_bytes").get<int64_t>()});
  }
  return c;
}

void emit(const GlobalOptions& options, const nlohmann::json& json, const std::string& text) {
  endProgress();
  if (options.json)
    std::cout << json.dump(2) << std::endl;
  else
    std::cout << text << std::flush;
}

std::string withCommas(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string humanCount(double value) {
  char buf[32];
  if (value >= 1e9)
    std::snprintf(buf, sizeof(buf), "%.2f G", value / 1e9);
  else if (value >= 1e6)
    std::snprintf(buf, sizeof(buf), "%.2f M", value / 1e6);
  else if (value >= 1e3)
    std::snprintf(buf, sizeof(buf), "%.1f K", value / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%.0f", value);
  return buf;
}

}  // namespace edgetune::cli
