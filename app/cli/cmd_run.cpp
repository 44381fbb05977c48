// edgetune-cli run: replay a pipeline recipe (core/pipeline) into a run folder, with a progress bar per step
// and the whole run's ETA, then print the report's table.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/output_paths.h"
#include "app/cli/shared_options.h"
#include "core/ir/input_shapes.h"
#include "core/pipeline/runner.h"
#include "core/util/error.h"

namespace edgetune::cli {
namespace {

struct RunArgs {
  std::string recipe;
  std::vector<std::string> overrides;
  std::string out;
  bool print_pipeline = false;
  bool no_cache = false;
  bool no_report = false;
  std::vector<int> threads = {1, 2};
  int runs = 50;
  size_t test_limit = 0;
  std::vector<std::string> shapes;
};

std::string duration(double seconds) {
  char text[32];
  if (seconds < 0) return "?";
  if (seconds < 90)
    std::snprintf(text, sizeof(text), "%.0fs", seconds);
  else if (seconds < 5400)
    std::snprintf(text, sizeof(text), "%.0fm%02.0fs", std::floor(seconds / 60), std::fmod(seconds, 60));
  else
    std::snprintf(text, sizeof(text), "%.0fh%02.0fm", std::floor(seconds / 3600),
                  std::fmod(seconds / 60, 60));
  return text;
}

// One line per step in logs; a redrawn bar per step, with the run's ETA, on a terminal.
class RunProgress {
 public:
  RunProgress(size_t steps, bool draw, bool quiet) : steps_(steps), draw_(draw), quiet_(quiet) {}

  void operator()(const pipeline::StepEvent& e) {
    using Type = pipeline::StepEvent::Type;
    const std::string name =
        e.index < steps_ ? "[" + std::to_string(e.index + 1) + "/" + std::to_string(steps_) + "] " + e.id
                         : "[report]";
    switch (e.type) {
      case Type::Started:
        if (!draw_ && !quiet_) std::cerr << name << " (" << e.kind << ") ...\n";
        break;
      case Type::Progress: {
        const double eta = overallEta(e.overall.fraction);
        if (draw_) {
          const int width = 24;
          std::string bar(static_cast<size_t>(e.step.fraction * width + 0.5), '#');
          bar.resize(width, '.');
          std::fprintf(stderr, "\r\033[K%s [%s] %3.0f%%  %.40s | run %3.0f%% ETA %s", name.c_str(),
                       bar.c_str(), 100 * e.step.fraction, e.step.message.c_str(), 100 * e.overall.fraction,
                       duration(eta).c_str());
          std::fflush(stderr);
        } else if (!quiet_ && std::chrono::steady_clock::now() - last_line_ > std::chrono::seconds(30)) {
          // A log (not a terminal): a line every 30 s, so a long run in the background shows where it is.
          last_line_ = std::chrono::steady_clock::now();
          std::fprintf(stderr, "%s %3.0f%%  %s | run %3.0f%% ETA %s\n", name.c_str(), 100 * e.step.fraction,
                       e.step.message.c_str(), 100 * e.overall.fraction, duration(eta).c_str());
        }
        break;
      }
      case Type::Finished:
      case Type::Cached:
      case Type::Skipped:
        if (draw_) std::fprintf(stderr, "\r\033[K");
        if (!quiet_)
          std::cerr << name << ": "
                    << (e.type == Type::Cached    ? "cached"
                        : e.type == Type::Skipped ? "disabled, skipped"
                                                  : "done")
                    << "\n";
        break;
    }
  }

 private:
  // The whole run's remaining time from its own clock: a cached step costs nothing, so the estimate starts
  // from the first step that really runs.
  double overallEta(double fraction) {
    const auto now = std::chrono::steady_clock::now();
    if (!started_) {
      started_ = true;
      start_ = now;
      start_fraction_ = fraction;
      return -1;
    }
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double done = fraction - start_fraction_;
    if (done < 0.01 || elapsed < 1) return -1;
    return elapsed * (1 - fraction) / done;
  }

  size_t steps_;
  bool draw_, quiet_;
  bool started_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_line_ = std::chrono::steady_clock::now();
  double start_fraction_ = 0;
};

int runCommand(const RunArgs& args, const GlobalOptions& global) {
  CommandFiles().input("RECIPE", args.recipe).output("-o", args.out).check();
  pipeline::RecipeFile recipe = pipeline::readRecipeFile(args.recipe);
  for (const auto& assignment : args.overrides) pipeline::applyOverride(recipe, assignment);
  const pipeline::StepRegistry registry = pipeline::StepRegistry::withBuiltins();
  if (args.print_pipeline) {
    pipeline::validateRecipe(recipe, registry);
    const auto lines = pipeline::describePipeline(recipe, registry);
    nlohmann::json json = {{"recipe", recipe.toJson()}, {"pipeline", lines}};
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    emit(global, json, text);
    return 0;
  }
  pipeline::RunOptions options;
  const std::string name =
      recipe.name.empty() ? std::filesystem::path(args.recipe).stem().string() : recipe.name;
  options.run_dir =
      args.out.empty() ? std::filesystem::path("edgetune-runs") / name : std::filesystem::path(args.out);
  options.use_cache = !args.no_cache;
  options.report = !args.no_report;
  options.report_options.threads = args.threads;
  options.report_options.latency_runs = args.runs;
  options.report_options.test_limit = args.test_limit;
  options.report_options.input_shapes.dims = parseShapeSpecs(args.shapes);
  GlobalOptions silent = global;
  silent.quiet = true;  // the bar is drawn from the runner's events, per step
  auto job = makeJob(silent, "run");
  options.job = job.get();
  RunProgress progress(recipe.steps.size(), !global.quiet && !global.json && ::isatty(STDERR_FILENO),
                       global.quiet || global.json);
  options.on_event = [&progress](const pipeline::StepEvent& e) { progress(e); };
  if (!global.quiet && !global.json) {
    std::cerr << "pipeline:\n";
    for (const auto& l : pipeline::describePipeline(recipe, registry)) std::cerr << "  " << l << "\n";
  }
  const pipeline::RunResult run = pipeline::runRecipe(recipe, registry, options);

  nlohmann::json steps = nlohmann::json::array();
  std::string text = "run folder: " + run.run_dir.string() + "\n";
  for (const auto& s : run.steps) {
    steps.push_back({{"id", s.id},
                     {"kind", s.kind},
                     {"input", s.input},
                     {"enabled", s.enabled},
                     {"cached", s.cached},
                     {"seconds", s.seconds},
                     {"model", s.model_path.string()},
                     {"result", s.result}});
    text += "  " + s.id + " (" + s.kind + ")" +
            (!s.enabled ? ": disabled"
             : s.cached ? ": cached"
                        : ": " + duration(s.seconds)) +
            "\n";
    for (const auto& l : s.lines) text += "    " + l + "\n";
  }
  text += "final model: " + run.final_model.string() + "\n";
  nlohmann::json json = {
      {"run_dir", run.run_dir.string()}, {"final_model", run.final_model.string()}, {"steps", steps}};
  if (run.report_written) {
    json["report"] = run.report.toJson();
    text += "\n" + run.report.toMarkdown();
    text +=
        "\nreport: " + (run.run_dir / "report.md").string() + (run.report_cached ? " (cached)" : "") + "\n";
  }
  emit(global, json, text);
  return 0;
}

}  // namespace

void addRunCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run a pipeline recipe (YAML or JSON): every step into a run folder, cached, then the measured report");
  cmd->add_option("recipe", args->recipe, "Recipe file (.yaml, .yml, .json)")->required();
  cmd->add_option("--set", args->overrides,
                  "Override one value: STEP.OPTION=VALUE, STEP.enabled=false, datasets.ROLE=SPEC, model=SPEC "
                  "(repeatable)");
  cmd->add_option("-o,--out", args->out, "Run folder (default edgetune-runs/NAME)");
  cmd->add_flag("--print-pipeline", args->print_pipeline,
                "Check the recipe and print its steps, one per line");
  cmd->add_flag("--no-cache", args->no_cache, "Run every step again even when its cached result matches");
  cmd->add_flag("--no-report", args->no_report, "Run the steps only; do not measure the models");
  addThreadCountsOption(cmd, args->threads);
  cmd->add_option("--runs", args->runs, "Interleaved latency rounds per thread count in the report")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxRuns));
  cmd->add_option("--test-limit", args->test_limit, "Test examples the report evaluates (0 = all)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, kMaxExamples));
  cmd->add_option("--shape", args->shapes, "Input size for the report's latency, e.g. input_ids=1x128");
  cmd->callback([args, &global, &run] { run = [args, &global] { return runCommand(*args, global); }; });
}

}  // namespace edgetune::cli
