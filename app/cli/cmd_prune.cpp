// edgetune-cli prune MODEL -o OUT: unstructured (magnitude) or structured (channels) pruning, with a JSON
// report. The work is the pipeline's "prune" step (single_step.h); this file turns flags into its options and
// its result into the report.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <map>
#include <optional>
#include <sstream>

#include "app/cli/cli_common.h"
#include "app/cli/output_paths.h"
#include "app/cli/shared_options.h"
#include "core/ir/model.h"
#include "core/passes/prune_channels.h"
#include "core/passes/prune_magnitude.h"
#include "core/pipeline/single_step.h"
#include "core/util/error.h"
#include "core/util/files.h"

namespace edgetune::cli {

void addPruneCommand(CLI::App& app, const GlobalOptions& global, Action& run);

namespace {

// "NAME=VALUE" -> (NAME, VALUE) for option `option`, whose expected form `form` the error names; the name may
// itself contain '=' (only the last one splits).
std::pair<std::string, double> parseNameValue(const std::string& text, const std::string& option,
                                              const std::string& form) {
  const auto eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0) throw Error(option + " '" + text + "': expected " + form);
  try {
    size_t used = 0;
    const double r = std::stod(text.substr(eq + 1), &used);
    if (used != text.size() - eq - 1) throw std::invalid_argument("trailing");
    return {text.substr(0, eq), r};
  } catch (const std::exception&) {
    throw Error(option + " '" + text + "': '" + text.substr(eq + 1) + "' is not a number");
  }
}

std::pair<std::string, double> parseOverride(const std::string& text) {
  return parseNameValue(text, "--per-layer", "NAME=RATIO (a group id or node name, then a ratio)");
}

// --per-layer NAME=RATIO checked at parse time (a bad one is a bad argument, exit 2): the form, and the ratio
// in [0, 1) as both pruning methods take it.
CLI::Validator overrideCheck() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        try {
          const double ratio = parseOverride(text).second;
          if (ratio >= 0.0 && ratio < 1.0) return {};
          return "'" + text + "': the ratio must be in [0, 1)";
        } catch (const Error& e) {
          return e.what();
        }
      },
      "NAME=RATIO");
}

// --allocate METRIC=KEEP with --sensitivity FILE: the step's `allocate` options, and the saved sweep as the
// result it reads (under the file's name, so the step's messages name the file).
template <typename Args>
nlohmann::json allocateOptions(const Args& args, pipeline::MappedStepContext::ResultMap& results) {
  if (args.sensitivity.empty())
    throw Error("prune: --allocate needs --sensitivity FILE (edgetune-cli sensitivity --save-json FILE)");
  if (!args.per_layer.empty() || !args.protect.empty())
    throw Error(
        "prune: --allocate chooses every group's ratio; it cannot be combined with --per-layer or --protect");
  const std::string form = "params=KEEP, macs=KEEP or latency=KEEP";
  const auto [metric, keep] = parseNameValue(args.allocate, "--allocate", form);
  if (metric != "params" && metric != "macs" && metric != "latency")
    throw Error("--allocate '" + args.allocate + "': expected " + form);
  try {
    results[args.sensitivity] = nlohmann::json::parse(readFile(args.sensitivity));
  } catch (const nlohmann::json::exception& e) {
    throw Error("--sensitivity '" + args.sensitivity + "': not JSON (" + e.what() + ")");
  }
  return {{"metric", metric}, {"keep", keep}, {"sensitivity", args.sensitivity}};
}

}  // namespace

void addPruneCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model, output, method = "channels", criterion = "l1", report, scope = "layer", allocate,
                               sensitivity;
    double ratio = 0.3;
    std::vector<std::string> per_layer, protect;
    int64_t round_to = 8;
    bool list_groups = false;
    ModelInputArgs input;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("prune", "Prune a model: zero small weights (magnitude) or remove channels");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("-o,--output", args->output, "Pruned ONNX file to write (never the input)");
  cmd->add_option("--method", args->method, "magnitude (unstructured zeros) or channels (structured removal)")
      ->capture_default_str()
      ->check(CLI::IsMember({"magnitude", "channels"}));
  cmd->add_option("--ratio", args->ratio,
                  "channels: fraction of each group's channels removed; magnitude: target sparsity")
      ->capture_default_str()
      ->check(realRange(0, 1, Interval::OpenHigh));
  cmd->add_option("--per-layer", args->per_layer, "NAME=RATIO override (group id or node name); repeatable")
      ->check(overrideCheck());
  cmd->add_option("--protect", args->protect, "Regex over node names never pruned (RE2 syntax); repeatable")
      ->check(namePatternCheck());
  cmd->add_option("--round", args->round_to,
                  "Round kept channel counts up to a multiple of N (channels; never prunes more than asked)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxRound));
  cmd->add_option("--criterion", args->criterion, "Channel ranking: l1, l2 or bn (BatchNorm gamma)")
      ->capture_default_str()
      ->check(CLI::IsMember({"l1", "l2", "bn"}));
  cmd->add_option("--scope", args->scope, "magnitude: per-layer or global threshold")
      ->capture_default_str()
      ->check(CLI::IsMember({"layer", "global"}));
  cmd->add_option("--report", args->report, "Write a JSON report to this file");
  cmd->add_flag("--list-groups", args->list_groups, "Only list the channel dependency groups");
  cmd->add_option(
      "--allocate", args->allocate,
      "channels: METRIC=KEEP, per-group ratios from --sensitivity curves so that params, macs or latency "
      "(ONNX Runtime, 1 thread) keeps at most KEEP of the original (e.g. latency=0.4)");
  cmd->add_option("--sensitivity", args->sensitivity,
                  "Sensitivity JSON (edgetune-cli sensitivity --save-json) for --allocate");
  addModelInputOptions(cmd, args->input);
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      if (!args->list_groups && args->output.empty()) throw UsageError("prune: -o OUT is required");
      CommandFiles()
          .input("MODEL", args->model, true)
          .input("--sensitivity", args->sensitivity)
          .output("-o", args->output)
          .output("--report", args->report)
          .check();
      // BatchNorm stays: the "bn" criterion ranks channels by it, pruning shrinks it with its conv, and the
      // parameter count matches what `sensitivity` (which keeps it too) recorded.
      LoadedModel loaded = loadModel(args->model, args->input, /*fold_batchnorm=*/false);
      const Model& model = loaded.model;
      if (args->list_groups) {
        const auto groups = findPruneGroups(model);
        nlohmann::json j = nlohmann::json::array();
        std::ostringstream text;
        for (const auto& g : groups) {
          j.push_back(g.toJson());
          text << std::left << std::setw(64) << g.id << std::right << std::setw(6) << g.units << "  "
               << (g.prunable ? "prunable" : "fixed: " + g.reason) << '\n';
        }
        emit(global, j, text.str());
        return 0;
      }
      if (!args->allocate.empty() && args->method != "channels")
        throw Error("prune: --allocate works with --method channels");
      auto job = makeJob(global, "prune");
      pipeline::SingleStep step;
      step.kind = "prune";
      step.job = job.get();
      nlohmann::json& o = step.options;
      o = {{"method", args->method}, {"shapes", args->input.shapes}};
      if (args->method == "magnitude") {
        o["sparsity"] = args->ratio;
        o["scope"] = args->scope;
        std::map<std::string, double> per_layer;
        for (const auto& p : args->per_layer) per_layer.insert(parseOverride(p));
        o["per_layer"] = per_layer;
        std::string exclude;
        for (const auto& p : args->protect) exclude += (exclude.empty() ? "" : "|") + ("(" + p + ")");
        o["exclude_regex"] = exclude;
      } else {
        o["ratio"] = args->ratio;
        o["round_to"] = args->round_to;
        o["criterion"] = args->criterion;
        o["protect"] = args->protect;
        std::map<std::string, double> per_group;
        for (const auto& p : args->per_layer) per_group.insert(parseOverride(p));
        o["per_group"] = per_group;
        if (!args->allocate.empty()) o["allocate"] = allocateOptions(*args, step.results);
      }
      nlohmann::json report;
      report["clean"] = loaded.clean.toJson();  // the first step of what prune did
      report["model"] = args->model;
      report["output"] = args->output;
      report["method"] = args->method;
      std::ostringstream text;
      // MACs at real sizes for dynamic batch / sequence; a dynamic-H/W image model without --shape still
      // prunes (sizes only feed the report), and says its MACs are at the declared sizes.
      std::optional<InputShapes> shapes;
      try {
        shapes = resolveShapes(model, args->input);
        report["shapes"] = shapes->toJson();
      } catch (const Error& e) {
        if (!args->input.shapes.empty()) throw;  // a --shape the user gave is wrong: say so, do not guess
        report["shapes"] = {{"error", e.what()}};
        text << "sizes: " << e.what() << "; MACs are counted with symbolic dimensions as 1\n";
      }
      const InputShapes* sizes = shapes ? &*shapes : nullptr;
      text << inputReport(&loaded.clean, sizes);
      pipeline::SingleStepResult done = pipeline::runSingleStep(model, step);
      const nlohmann::json& result = done.output.result;
      const nlohmann::json& pass = result.at("pass_result");
      report["options"] = done.options;  // the recipe step that does the same
      report["result"] = pass;
      report["coverage"] = result.at("coverage");
      const Coverage coverage = coverageFromJson(result.at("coverage"));
      if (args->method == "magnitude") {
        const double weights = pass.at("weights").get<double>(), zeros = pass.at("zeros").get<double>();
        text << "layers pruned        " << pass.at("layers").size() << "\n"
             << "sparsity             " << std::fixed << std::setprecision(1)
             << (weights > 0 ? 100.0 * zeros / weights : 0.0) << "% of "
             << withCommas(pass.at("weights").get<int64_t>()) << " weights\n"
             << "ONNX file size       " << formatBytes(pass["size_before"]["onnx_file_bytes"].get<int64_t>())
             << " -> " << formatBytes(pass["size_after"]["onnx_file_bytes"].get<int64_t>())
             << "  (zeros still take space in ONNX)\n"
             << "zstd download size   "
             << formatBytes(pass["size_before"]["zstd_compressed_bytes"].get<int64_t>()) << " -> "
             << formatBytes(pass["size_after"]["zstd_compressed_bytes"].get<int64_t>()) << "\n";
        for (const auto& line : coverage.lines("pruned")) text << "coverage             " << line << "\n";
      } else {
        if (result.contains("allocation")) {
          const nlohmann::json& a = result.at("allocation");
          report["allocation"] = a;
          text << "allocation   " << args->allocate << ": " << std::setprecision(4)
               << a.at("metric_before").get<double>() << " -> " << a.at("metric_after").get<double>()
               << (a.at("reached").get<bool>() ? "" : "  (target NOT reached)") << ", predicted drop "
               << std::setprecision(3) << 100.0 * a.at("predicted_accuracy_drop").get<double>()
               << " points\n";
        }
        for (const auto& g : pass.at("groups"))
          if (g.at("units_after") != g.at("units_before"))
            text << std::left << std::setw(64) << g.at("id").get<std::string>() << std::right << std::setw(6)
                 << g.at("units_before").get<int64_t>() << " -> " << g.at("units_after").get<int64_t>()
                 << '\n';
        text << "parameters   " << withCommas(pass.at("params_before").get<int64_t>()) << " -> "
             << withCommas(pass.at("params_after").get<int64_t>()) << "\n"
             << "MACs         " << humanCount(pass.at("macs_before").get<double>()) << " -> "
             << humanCount(pass.at("macs_after").get<double>()) << (sizes ? " at " + sizes->describe() : "")
             << "\n";
        for (const auto& line : coverage.lines("pruned")) text << "coverage     " << line << "\n";
      }
      const Model& pruned = *done.output.model;
      job->report(0.8, "saving");
      pruned.save(args->output);  // checked, atomic, refuses the input path (CommandFiles did first)
      for (const char* key : {"params_before", "params_after", "macs_before", "macs_after"})
        report[key] = result.at(key);
      report["onnx_file_bytes"] = static_cast<int64_t>(std::filesystem::file_size(args->output));
      report["zstd_compressed_bytes"] = zstdCompressedSize(readFile(args->output));
      if (!args->report.empty()) writeFileAtomic(args->report, report.dump(2) + "\n");
      job->report(1.0, "done");
      endProgress();
      text << "wrote        " << args->output << " (" << formatBytes(report["onnx_file_bytes"].get<int64_t>())
           << " ONNX, " << formatBytes(report["zstd_compressed_bytes"].get<int64_t>()) << " zstd)\n";
      emit(global, report, text.str());
      return 0;
    };
  });
}

}  // namespace edgetune::cli
