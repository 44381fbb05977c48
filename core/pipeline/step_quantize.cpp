// Step "quantize": `edgetune-cli quantize` as a step, with QuantizeOptions' own names. Its `data` names the
// dataset role the calibration examples come from (not a spec), read only by the modes that calibrate.
#include <cstdio>

#include "core/passes/canonicalize.h"
#include "core/passes/quantize_passes.h"
#include "core/pipeline/step_kinds.h"

namespace edgetune::pipeline {
namespace {

constexpr const char* kKind = "quantize";

struct QuantizeStepOptions {
  QuantizeStepOptions() { quantize.data = "calibration"; }
  QuantizeOptions quantize;  // quantize.data: the calibration role
  std::vector<std::string> shapes;
  bool clean = true;  // the clean-up (BatchNorm folded) first; false: the input as it is (--no-clean)
};

void to_json(nlohmann::json& j, const QuantizeStepOptions& o) {
  j = o.quantize;
  j["shapes"] = o.shapes;
  j["clean"] = o.clean;
}

void readOptions(OptionsReader& r, QuantizeStepOptions& o) {
  try {
    readOptions(r, o.quantize);  // validates the values too
  } catch (const OptionError&) {
    throw;
  } catch (const Error& e) {
    // validate() names the field in its message; keep it, as an option error of this step.
    std::string message = e.what();
    std::string key;
    if (const auto open = message.find("option '"); open != std::string::npos) {
      const auto begin = open + 8, end = message.find('\'', begin);
      if (end != std::string::npos) key = message.substr(begin, end - begin);
    }
    throw OptionError("step 'quantize': " + message, key);
  }
  r.read("shapes", o.shapes);
  r.read("clean", o.clean);
  checkRole(kKind, "data", o.quantize.data);
}

/// Whether `mode` reads calibration examples.
bool calibrates(const QuantizeOptions& o) {
  return o.mode == QuantizeMode::Static;
}

class QuantizeStep final : public StepWithOptions<QuantizeStepOptions> {
 public:
  std::string kind() const override { return kKind; }
  // 2: weight-only embedding tables are looked up in int8 and only the gathered rows scaled.
  int behaviourVersion() const override { return 2; }
  std::vector<std::string> datasetRoles() const override {
    if (calibrates(options_.quantize)) return {options_.quantize.data};
    return {};
  }

  StepOutput run(StepContext& context) override {
    StepOutput out;
    QuantizeOptions o = options_.quantize;
    const Dataset* data = calibrates(o) ? &context.dataset(o.data) : nullptr;
    o.data.clear();  // the examples are handed in below; the pass never opens a spec here
    // BatchNormalization has no integer kernel: fold it first, as the CLI's loadModel does.
    Model model = context.input();
    PassContext pass_context(context.job());
    CanonicalizeOptions clean;
    clean.enabled = options_.clean;
    clean.fold_batchnorm = true;
    canonicalize(model, clean, pass_context);
    const std::optional<InputShapes> shapes = resolveShapesOrNote(model, options_.shapes, data, out.lines);

    QuantizePass pass(o);
    if (data) pass.setDataset(borrowed(*data));
    if (shapes) pass.setInputShapes(*shapes);
    const PassReport report = pass.apply(model, pass_context);

    out.result = {{"mode", o.mode},
                  {"nodes_removed", report.nodes_removed},
                  {"nodes_added", report.nodes_added},
                  {"initializers_removed", report.initializers_removed}};
    if (report.details.contains("left_qdq")) out.result["left_qdq"] = report.details.at("left_qdq");
    out.result["report"] =
        report.toJson();  // the pass's own report, as `edgetune-cli quantize --json` shows it
    if (report.coverage) {
      out.result["coverage"] = report.coverage->toJson();
      for (const auto& line :
           report.coverage->lines(o.mode == QuantizeMode::Fp16 ? "converted" : "quantized"))
        out.lines.push_back("coverage: " + line);
      // Static INT8 is only fast when (almost) every MAC runs in an integer kernel: say so, as the CLI warns.
      if (o.mode == QuantizeMode::Static && report.coverage->total_macs > 0 &&
          report.coverage->skippedMacs() * 10 > report.coverage->total_macs) {
        char share[32];
        std::snprintf(share, sizeof(share), "%.1f%%",
                      100.0 * static_cast<double>(report.coverage->skippedMacs()) /
                          static_cast<double>(report.coverage->total_macs));
        out.lines.push_back(std::string("warning: ") + share + " of MACs stay in float");
      }
    }
    for (const auto& line : report.lines) out.lines.push_back(line);
    out.model = std::move(model);
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> makeQuantizeStep() {
  return std::make_unique<QuantizeStep>();
}

}  // namespace edgetune::pipeline
