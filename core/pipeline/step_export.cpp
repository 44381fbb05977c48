// Step "export": the model for deployment, written into the step's folder. Prepared as the CLI's deploy path
// prepares what it uploads (clean-up with BatchNorm folded: outputs unchanged, fewer nodes); ONNX is the only
// format until other exporters arrive.
#include <filesystem>

#include "core/deploy/sha256.h"
#include "core/passes/canonicalize.h"
#include "core/pipeline/step_kinds.h"

namespace edgetune::pipeline {
namespace {

using edgetune::from_json;  // the enums' conversions (enum_names.h), for ExportFormat below
using edgetune::to_json;

constexpr const char* kKind = "export";

/// The deployable formats (TFLite and others join as their exporters arrive).
enum class ExportFormat { Onnx = 1 };
constexpr auto enumNames(ExportFormat) {
  return std::array{EnumName<ExportFormat>{ExportFormat::Onnx, "onnx"}};
}

struct ExportOptions {
  ExportFormat format = ExportFormat::Onnx;
  std::string file = "model.onnx";  // a plain file name in the step's folder
};

void to_json(nlohmann::json& j, const ExportOptions& o) {
  j = {{"format", o.format}, {"file", o.file}};
}

void readOptions(OptionsReader& r, ExportOptions& o) {
  r.read("format", o.format);
  r.read("file", o.file);
  // The file goes into the step's own folder: a name, never a path out of it.
  if (o.file.empty() || o.file == "." || o.file.find('/') != std::string::npos ||
      o.file.find('\\') != std::string::npos || o.file.find("..") != std::string::npos ||
      o.file.find('\0') != std::string::npos)
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
    model.save(path);  // checked, then written to a temporary file and renamed
    StepOutput out;
    const auto bytes = static_cast<int64_t>(std::filesystem::file_size(path));
    const std::string sha256 = deploy::sha256File(path);
    out.result = {{"format", options_.format}, {"path", path.string()}, {"bytes", bytes}, {"sha256", sha256}};
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
