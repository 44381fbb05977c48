// Step "export": the model for deployment, written into the step's folder. Prepared as the CLI's deploy path
// prepares what it uploads (clean-up with BatchNorm folded: outputs unchanged, fewer nodes), then saved as
// ONNX or written as TFLite by EdgeTune's own converter (core/export). The step's model is the cleaned ONNX
// one either way, so a later step measures what was exported.
#include <filesystem>

#include "core/deploy/sha256.h"
#include "core/export/export_format.h"
#include "core/export/tflite_export.h"
#include "core/ir/input_shapes.h"
#include "core/passes/canonicalize.h"
#include "core/pipeline/step_kinds.h"

namespace edgetune::pipeline {
namespace {

using edgetune::from_json;  // the enums' conversions (enum_names.h), for ExportFormat below
using edgetune::to_json;

constexpr const char* kKind = "export";

struct ExportOptions {
  ExportFormat format = ExportFormat::Onnx;
  std::string file;                 // a plain file name in the step's folder; "" = model.onnx / model.tflite
  bool nhwc_input = false;          // tflite: image inputs fed NHWC, no Transpose at the input
  std::vector<std::string> shapes;  // tflite: "NAME=1x3x224x224" for dynamic inputs (static in TFLite)
};

void to_json(nlohmann::json& j, const ExportOptions& o) {
  j = {{"format", o.format}, {"file", o.file}};
  if (o.format == ExportFormat::Tflite) {
    j["nhwc_input"] = o.nhwc_input;
    j["shapes"] = o.shapes;
  }
}

void readOptions(OptionsReader& r, ExportOptions& o) {
  r.read("format", o.format);
  r.read("file", o.file);
  r.read("nhwc_input", o.nhwc_input);
  r.read("shapes", o.shapes);
  if (o.format != ExportFormat::Tflite) {
    if (o.nhwc_input) throwOptionError(kKind, "nhwc_input", "applies to format tflite only");
    if (!o.shapes.empty()) throwOptionError(kKind, "shapes", "applies to format tflite only");
  }
  try {  // a wrong size is the recipe's mistake: named as the option, before any step runs
    parseShapeSpecs(o.shapes);
  } catch (const Error& e) {
    throwOptionError(kKind, "shapes", e.what());
  }
  if (o.file.empty()) o.file = std::string("model") + fileExtension(o.format);
  // The file goes into the step's own folder: a name, never a path out of it.
  if (o.file == "." || o.file.find('/') != std::string::npos || o.file.find('\\') != std::string::npos ||
      o.file.find("..") != std::string::npos || o.file.find('\0') != std::string::npos)
    throwOptionError(
        kKind, "file",
        "is '" + o.file + "' (expected a plain file name such as model.onnx, without '/' or '..')");
}

class ExportStep final : public StepWithOptions<ExportOptions> {
 public:
  std::string kind() const override { return kKind; }

  StepOutput run(StepContext& context) override {
    Model model = context.input();
    PassContext pass_context(context.job());
    CanonicalizeOptions clean;
    clean.fold_batchnorm = true;
    const CanonicalizeReport report = canonicalize(model, clean, pass_context);
    const std::filesystem::path path = context.workDir() / options_.file;
    StepOutput out;
    if (options_.format == ExportFormat::Tflite) {
      TfliteExportOptions tflite;
      tflite.nhwc_input = options_.nhwc_input;
      tflite.input_shapes = parseShapeSpecs(options_.shapes);
      const TfliteExportReport exported = writeTflite(model, tflite, path);  // atomic; no file on failure
      out.result["operators"] = exported.operators;
      out.result["transposes"] = exported.transposes;
    } else {
      model.save(path);  // checked, then written to a temporary file and renamed
    }
    const auto bytes = static_cast<int64_t>(std::filesystem::file_size(path));
    const std::string sha256 = deploy::sha256File(path);
    out.result.update(
        {{"format", options_.format}, {"path", path.string()}, {"bytes", bytes}, {"sha256", sha256}});
    out.lines.push_back(report.summary());
    out.lines.push_back("exported " + path.filename().string() + " (" + std::to_string(bytes) +
                        " bytes, sha256 " + sha256.substr(0, 16) + ")");
    out.artifacts.push_back(path);
    out.model = std::move(model);
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> makeExportStep() {
  return std::make_unique<ExportStep>();
}

}  // namespace edgetune::pipeline
