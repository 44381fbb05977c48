// edgetune-cli quantize MODEL -o OUT: static/dynamic INT8, FP16 or weight-only INT8, with calibration,
// exclusions, mixed precision, an error diagnosis table and the "will it be faster?" check. The quantization
// is the pipeline's "quantize" step (single_step.h); the checks around it (what ONNX Runtime fuses, the
// diagnosis, the speed-up check) measure its output.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>

#include "app/cli/cli_common.h"
#include "app/cli/output_paths.h"
#include "app/cli/shared_options.h"
#include "core/analysis/quant_error.h"
#include "core/analysis/speedup_check.h"
#include "core/ir/model.h"
#include "core/passes/quantize_passes.h"
#include "core/pipeline/single_step.h"
#include "core/util/error.h"

namespace edgetune::cli {

void addQuantizeCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model, output;
    QuantizeOptions options;
    // The closed sets as spelled on the command line (QuantizeOptions holds them as enums).
    std::string mode = "static", act_type = "uint8", calibration = "minmax", format = "qdq";
    bool per_tensor = false, symmetric = false, diagnose = false, check = false, keep_fp16_io = false;
    bool strict = false;
    ModelInputArgs input;
    std::vector<std::string> exclude, exclude_ops, targets;
    int diagnose_rows = 20;
  };
  auto args = std::make_shared<Args>();
  auto* cmd =
      app.add_subcommand("quantize", "Quantize a model (static/dynamic INT8, FP16, weight-only INT8)");
  cmd->add_option("model", args->model, "ONNX model file (never overwritten)")->required();
  cmd->add_option("-o,--output", args->output, "Output ONNX file")->required();
  cmd->add_option("--mode", args->mode, "static, dynamic, fp16 or weight-only")
      ->capture_default_str()
      ->check(CLI::IsMember(enumSpellings<QuantizeMode>()));
  addDataOption(cmd, args->options.data, "Calibration dataset (static mode)");
  cmd->add_option("--calibration", args->calibration, "minmax, percentile, entropy or mse")
      ->capture_default_str()
      ->check(CLI::IsMember(enumSpellings<CalibrationMethod>()));
  cmd->add_option("--percentile", args->options.percentile, "Percentile kept by --calibration percentile")
      ->capture_default_str()
      ->check(realRange(50, 100));
  cmd->add_option("--samples", args->options.samples, "Calibration examples")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, kMaxSamples));
  addBatchOption(cmd, args->options.batch_size, "the calibration");
  cmd->add_option(
         "--format", args->format,
         "Static output format: qdq (Q/DQ pairs the runtime fuses) or qoperator (QLinearConv, QGemm, ...)")
      ->capture_default_str()
      ->check(CLI::IsMember(enumSpellings<QuantFormat>()));
  cmd->add_flag("--per-tensor", args->per_tensor,
                "One weight scale per tensor instead of per output channel");
  cmd->add_option("--act-type", args->act_type, "Activation type: uint8 or int8")
      ->capture_default_str()
      ->check(CLI::IsMember(enumSpellings<ActivationType>()));
  cmd->add_flag("--symmetric", args->symmetric, "Symmetric activations (zero point 0 / 128)");
  cmd->add_flag("--reduce-range,!--full-range", args->options.reduce_range,
                "7-bit weights (the default; 8-bit u8 x s8 saturates on x86 without VNNI); --full-range: "
                "8-bit weights, for CPUs with VNNI or Arm dot product");
  cmd->add_flag("--fused-layernorm{false}", args->options.unfused_layernorm,
                "Dynamic mode: keep LayerNorms as they are (by default they are written unfused, which ONNX "
                "Runtime runs faster)");
  cmd->add_option("--exclude", args->exclude,
                  "Keep nodes whose name matches this regular expression (RE2 syntax) in float")
      ->take_all()
      ->check(namePatternCheck());
  cmd->add_option("--exclude-op", args->exclude_ops, "Keep every node of this op type in float")->take_all();
  cmd->add_option(
         "--min-snr", args->options.min_output_snr_db,
         "Automatic mixed precision: keep the worst layers in float until the output SNR reaches this (dB)")
      ->check(realRange(0, 200));
  cmd->add_flag("--fp16-io", args->keep_fp16_io,
                "FP16 mode: make graph inputs/outputs float16 too (no Casts)");
  cmd->add_flag("--diagnose", args->diagnose, "Per-tensor SNR/MSE/cosine table, worst first (needs --data)");
  cmd->add_option("--diagnose-rows", args->diagnose_rows, "Rows of the diagnosis table")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  cmd->add_flag("--check", args->check, "Report what would stop a speed-up (unfused Q/DQ, float ops, CPU)");
  cmd->add_flag(
      "--strict", args->strict,
      "Static INT8: fail (nothing written) when more than 10% of MACs stay in float, by the plan or in "
      "ONNX Runtime's optimized graph");
  addModelInputOptions(cmd, args->input);
  cmd->add_option("--target", args->targets,
                  "Target CPU for --check (rpi4, rpi5, x86-avx2, x86-vnni, flags:LIST)")
      ->take_all();
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      CommandFiles()
          .input("MODEL", args->model, true)
          .dataset("--data", args->options.data)
          .output("-o", args->output)
          .check();
      QuantizeOptions o = args->options;
      o.mode = fromString<QuantizeMode>(args->mode);
      o.calibration = fromString<CalibrationMethod>(args->calibration);
      o.format = fromString<QuantFormat>(args->format);
      o.per_channel = !args->per_tensor;
      o.activation_type = fromString<ActivationType>(args->act_type);
      o.symmetric_activations = args->symmetric;
      o.exclude_nodes = args->exclude;
      o.exclude_ops = args->exclude_ops;
      o.keep_io_types = !args->keep_fp16_io;
      validate(o);
      if (o.mode == QuantizeMode::Static && o.data.empty())
        throw UsageError(
            "quantize: --mode static needs --data (calibration examples), e.g. --data fashion-mnist:train");
      if (args->diagnose && o.data.empty()) throw UsageError("quantize: --diagnose needs --data");

      LoadedModel loaded = loadModel(args->model, args->input);
      const Model& original = loaded.model;  // the cleaned model: the float reference for every comparison
      // Sizes for MACs: --shape, then a dataset example, then the defaults. A dynamic image size nobody gave
      // leaves coverage MACs at the declared sizes (said on stderr) rather than failing the quantization.
      // The dataset is opened once: it gives the sizes, the calibration examples and the diagnosis examples.
      const std::shared_ptr<const Dataset> data = o.data.empty() ? nullptr : openDataset(o.data);
      std::optional<InputShapes> shapes;
      std::string sizes_note;
      try {
        const ExampleShapes example = data ? exampleShapesOf(*data) : ExampleShapes{};
        shapes = resolveShapes(original, args->input, data ? &example : nullptr);
      } catch (const edgetune::Error& e) {
        if (!args->input.shapes.empty()) throw;  // a --shape the user gave is wrong: say so, do not guess
        sizes_note =
            std::string("sizes: ") + e.what() + " (coverage MACs counted with symbolic dimensions as 1)\n";
      }
      auto job = makeJob(global, "quantize");
      pipeline::SingleStep step;
      step.kind = "quantize";
      step.options = o;
      step.options["data"] = "calibration";  // the role `data` is handed in under
      step.options["shapes"] = args->input.shapes;
      // The step's own clean-up is the front door's again (a no-op on the cleaned model); --no-clean turns
      // off both, so the model is quantized exactly as given.
      step.options["clean"] = !args->input.no_clean;
      if (data) step.datasets["calibration"] = data;
      step.job = job.get();
      pipeline::SingleStepResult done = pipeline::runSingleStep(original, step);
      Model& model = *done.output.model;
      const nlohmann::json& pass_report = done.output.result.at("report");
      const std::optional<Coverage> coverage =
          pass_report.contains("coverage")
              ? std::optional<Coverage>(coverageFromJson(pass_report["coverage"]))
              : std::nullopt;
      endProgress();

      // No silent partial success: static INT8 is only fast when (almost) every MAC runs in an integer
      // kernel, so say which nodes stay float, by our plan and by what ONNX Runtime really fuses.
      std::optional<IntegerMacsReport> ort_macs;
      std::vector<std::string> warnings;
      if (o.mode == QuantizeMode::Static) {
        ort_macs = integerMacsInOrt(original, model, shapes ? &*shapes : nullptr);
        if (coverage && coverage->total_macs > 0 && coverage->skippedMacs() * 10 > coverage->total_macs) {
          std::string names;
          for (const auto& n : coverage->topSkipped(5))
            names += (names.empty() ? "" : ", ") + n.op_type + " '" + n.name + "'";
          char share[32];
          std::snprintf(share, sizeof(share), "%.1f%%",
                        100.0 * static_cast<double>(coverage->skippedMacs()) /
                            static_cast<double>(coverage->total_macs));
          warnings.push_back(std::string(share) + " of MACs stay in float; largest: " + names);
        }
        if (ort_macs->float_model_macs > 0 && ort_macs->integerShare() < 0.9) {
          std::string names;
          for (size_t i = 0; i < ort_macs->float_nodes.size() && i < 5; ++i)
            names += (i ? ", " : "") + ort_macs->float_nodes[i].op_type + " '" +
                     ort_macs->float_nodes[i].name + "'";
          char share[32];
          std::snprintf(share, sizeof(share), "%.1f%%", 100.0 * ort_macs->integerShare());
          warnings.push_back("ONNX Runtime runs only " + std::string(share) + " of MACs in integer kernels" +
                             (names.empty() ? std::string() : "; float: " + names));
        }
        if (args->strict && !warnings.empty())
          throw edgetune::Error("quantize --strict: " + warnings.front() +
                                "; nothing written (see --exclude, "
                                "--check, or drop --strict)");
      }
      model.save(args->output);

      nlohmann::json j = pass_report;
      j["clean"] = loaded.clean.toJson();  // the first step: what canonicalize did on the way in
      j["input"] = args->model;
      j["output"] = args->output;
      const auto in_size = static_cast<size_t>(std::filesystem::file_size(args->model)),
                 out_size = model.serialize().size();
      j["input_bytes"] = in_size;
      j["output_bytes"] = out_size;
      if (shapes) j["shapes"] = shapes->toJson();
      if (ort_macs) j["ort_integer_macs"] = ort_macs->toJson();
      j["warnings"] = warnings;
      std::ostringstream text;
      text << inputReport(&loaded.clean, shapes ? &*shapes : nullptr) << sizes_note;
      for (const auto& line : pass_report.at("lines")) text << "  " << line.get<std::string>() << "\n";
      if (coverage)
        for (const auto& line : coverage->lines(o.mode == QuantizeMode::Fp16 ? "converted" : "quantized"))
          text << "  " << line << "\n";
      if (ort_macs) {
        char line[160];
        std::snprintf(
            line, sizeof(line), "  ONNX Runtime runs %.1f%% of MACs in integer kernels (%s of %s)\n",
            100.0 * ort_macs->integerShare(), humanCount(static_cast<double>(ort_macs->integer_macs)).c_str(),
            humanCount(static_cast<double>(ort_macs->float_model_macs)).c_str());
        text << line;
      }
      for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
      text << "size " << formatBytes(static_cast<int64_t>(in_size)) << " -> "
           << formatBytes(static_cast<int64_t>(out_size)) << " ("
           << static_cast<double>(in_size) / static_cast<double>(std::max<size_t>(1, out_size))
           << "x smaller); wrote " << args->output << "\n";
      if (args->diagnose) {
        QuantErrorReport diag = diagnoseQuantization(original, model, *data, 64, 16, job.get());
        j["diagnosis"] = diag.toJson();
        text << "\nquantization error per tensor (worst first, " << diag.samples << " examples):\n"
             << diag.toTable(args->diagnose_rows);
      }
      if (args->check) {
        SpeedupReport check = checkSpeedup(model, args->targets);
        j["speedup_check"] = check.toJson();
        text << "\nwill it be faster?\n" << check.toText();
      }
      emit(global, j, text.str());
      return 0;
    };
  });
}

}  // namespace edgetune::cli
