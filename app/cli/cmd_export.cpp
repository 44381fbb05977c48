// edgetune-cli export MODEL --format tflite|onnx -o OUT: the model for deployment. ONNX is the cleaned model
// saved as is; TFLite is written by EdgeTune's own converter (core/export), NHWC inside, one Transpose at the
// input unless --nhwc-input.
#include <chrono>
#include <filesystem>
#include <sstream>

#include "app/cli/cli_common.h"
#include "app/cli/output_paths.h"
#include "core/export/export_format.h"
#include "core/export/tflite_export.h"
#include "core/ir/model.h"
#include "core/util/error.h"
#include "core/util/format.h"

namespace edgetune::cli {

void addExportCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model, output, format = "tflite";
    bool nhwc_input = false;
    ModelInputArgs input;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("export", "Write the model for a device runtime: TFLite or (cleaned) ONNX");
  cmd->add_option("model", args->model, "ONNX model file (never overwritten)")->required();
  cmd->add_option("-o,--output", args->output, "File to write (.tflite or .onnx)")->required();
  cmd->add_option("--format", args->format, "tflite or onnx")
      ->capture_default_str()
      ->check(CLI::IsMember(enumSpellings<ExportFormat>()));
  cmd->add_flag("--nhwc-input", args->nhwc_input,
                "tflite: image inputs are fed NHWC [N, H, W, C] (no Transpose at the input)");
  addModelInputOptions(cmd, args->input);
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      CommandFiles().input("MODEL", args->model, true).output("-o", args->output).check();
      const auto format = fromString<ExportFormat>(args->format);
      if (args->nhwc_input && format != ExportFormat::Tflite)
        throw UsageError("export: --nhwc-input applies to --format tflite");
      // Cleaned with BatchNorm folded, as deploy prepares a model: same outputs, fewer operators.
      const LoadedModel loaded = loadModel(args->model, args->input);
      nlohmann::json j = {{"model", args->model},
                          {"output", args->output},
                          {"format", args->format},
                          {"clean", loaded.clean.toJson()}};
      std::ostringstream text;
      text << inputReport(&loaded.clean, nullptr);
      const auto start = std::chrono::steady_clock::now();
      if (format == ExportFormat::Onnx) {
        loaded.model.save(args->output);  // checked, atomic
      } else {
        TfliteExportOptions options;
        options.nhwc_input = args->nhwc_input;
        options.input_shapes = parseShapeSpecs(args->input.shapes);
        const TfliteExportReport report = writeTflite(loaded.model, options, args->output);
        j["operators"] = report.operators;
        j["transposes"] = report.transposes;
        j["input_shapes"] = report.input_shapes;
        for (const auto& line : report.lines()) text << line << "\n";
      }
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      const auto bytes = static_cast<int64_t>(std::filesystem::file_size(args->output));
      j["file_bytes"] = bytes;
      j["export_ms"] = ms;
      text << "wrote " << args->output << " (" << formatBytes(bytes) << ", " << args->format << ", "
           << static_cast<int64_t>(ms) << " ms)\n";
      emit(global, j, text.str());
      return 0;
    };
  });
}

}  // namespace edgetune::cli
