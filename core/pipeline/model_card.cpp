#include "core/pipeline/model_card.h"

#include <cstdio>
#include <sstream>

#include "core/util/error.h"
#include "core/util/files.h"
#include "core/util/format.h"
#include "core/zoo/model_source.h"

namespace edgetune::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

json exportVariant(const Model& model, const Variant& variant, const std::string& baseline_source,
                   const std::string& dataset_spec, const fs::path& onnx_path) {
  if (!zoo::isZooSource(baseline_source) && fs::exists(onnx_path) && samePath(onnx_path, baseline_source))
    throw Error(onnx_path.string() + ": refusing to overwrite the baseline model; choose another file name");
  model.save(onnx_path);
  json card = {{"format", "edgetune-model-card"},
               {"version", 1},
               {"model_file", onnx_path.filename().string()},
               {"variant", variant.name},
               {"baseline", baseline_source},
               {"dataset", dataset_spec},
               {"recipe", variant.recipe},
               {"metrics", variant.metrics.toJson()},
               {"parameters", model.parameterCount()},
               {"created_utc", variant.created_utc},
               {"exported_utc", nowUtcIso()}};
  fs::path json_path = onnx_path, md_path = onnx_path;
  json_path.replace_extension(".card.json");
  md_path.replace_extension(".card.md");
  writeFileAtomic(json_path, card.dump(2) + "\n");
  writeFileAtomic(md_path, modelCardMarkdown(card));
  return card;
}

std::string modelCardMarkdown(const json& card) {
  std::ostringstream md;
  md << "# Model card: " << card.value("variant", std::string("variant")) << "\n\n";
  md << "| | |\n|---|---|\n";
  md << "| Model file | `" << card.value("model_file", std::string()) << "` |\n";
  md << "| Baseline | `" << card.value("baseline", std::string()) << "` |\n";
  md << "| Dataset | `" << card.value("dataset", std::string("(none)")) << "` |\n";
  md << "| Parameters | " << card.value("parameters", int64_t{0}) << " |\n";
  md << "| Exported (UTC) | " << card.value("exported_utc", std::string()) << " |\n\n";
  md << "## Metrics\n\n";
  const json metrics = card.value("metrics", json::object());
  if (metrics.empty()) md << "Not measured.\n";
  char buf[128];
  if (metrics.contains("size_bytes"))
    md << "- Size: " << formatBytes(metrics["size_bytes"].get<int64_t>()) << "\n";
  if (metrics.contains("accuracy")) {
    std::snprintf(buf, sizeof buf, "%.2f%%", 100 * metrics["accuracy"].get<double>());
    md << "- Top-1 accuracy: " << buf;
    if (metrics.contains("accuracy_low") && metrics.contains("accuracy_high")) {
      std::snprintf(buf, sizeof buf, " (95%% CI %.2f%%..%.2f%%", 100 * metrics["accuracy_low"].get<double>(),
                    100 * metrics["accuracy_high"].get<double>());
      md << buf;
      if (metrics.contains("accuracy_count"))
        md << ", " << metrics["accuracy_count"].get<int64_t>() << " examples";
      md << ")";
    }
    md << "\n";
  }
  if (metrics.contains("latency_ms")) {
    std::snprintf(buf, sizeof buf, "%.3f ms", metrics["latency_ms"].get<double>());
    md << "- Latency (ONNX Runtime, host, batch 1, median): " << buf << "\n";
  }
  md << "\n## Recipe\n\n";
  const json passes = card.value("recipe", json::object()).value("passes", json::array());
  if (passes.empty()) md << "Baseline (no passes).\n";
  for (const auto& p : passes)
    md << "1. `" << p.value("pass", std::string("?")) << "` " << p.value("options", json::object()).dump()
       << "\n";
  md << "\n```json\n" << card.value("recipe", json::object()).dump(2) << "\n```\n";
  return md.str();
}

}  // namespace edgetune::pipeline
