// edgetune-cli inspect MODEL: the per-layer table (name, op, output shape, params, MACs, bytes) and totals.
#include <cstdio>
#include <sstream>

#include "app/cli/cli_common.h"
#include "core/ir/model.h"
#include "core/ir/stats.h"

namespace edgetune::cli {
namespace {

std::string shapesText(const NodeStats& n) {
  std::string s;
  for (const auto& shape : n.output_shapes) s += (s.empty() ? "" : " ") + shapeToString(shape);
  return s;
}

std::string ioText(const std::vector<ValueInfo>& values) {
  std::string s;
  for (const auto& v : values) {
    std::vector<int64_t> shape = v.shape;
    std::string dims = "[";
    for (size_t i = 0; i < shape.size(); ++i)
      dims += (i ? ", " : "") +
              (shape[i] >= 0 ? std::to_string(shape[i]) : (v.dim_names[i].empty() ? "?" : v.dim_names[i]));
    s += "  " + v.name + " " + dataTypeName(v.type) + " " + dims + "]\n";
  }
  return s;
}

}  // namespace

void addInspectCommand(CLI::App& app, const GlobalOptions& global, Action& run) {
  struct Args {
    std::string model;
    bool summary = false;
    ModelInputArgs input;
  };
  auto args = std::make_shared<Args>();
  auto* cmd =
      app.add_subcommand("inspect", "Per-layer table of a model: op, output shape, params, MACs, bytes");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_flag("--summary", args->summary, "Totals only, no per-layer rows");
  addModelInputOptions(cmd, args->input);
  cmd->callback([args, &global, &run] {
    run = [args, &global] {
      // BatchNorm stays: its scales and shifts are parameters, counted as the training framework counts them.
      LoadedModel loaded = loadModel(args->model, args->input, /*fold_batchnorm=*/false);
      const Model& model = loaded.model;
      const InputShapes shapes = resolveShapes(model, args->input);
      ModelStats stats = computeStats(model, &shapes);
      nlohmann::json j = toJson(stats);
      j["model"] = args->model;
      j["opset"] = model.opsetVersion();
      j["clean"] = loaded.clean.toJson();
      j["input_shapes"] = shapes.toJson();
      std::ostringstream out;
      out << "model    " << args->model << "   (opset " << model.opsetVersion() << ", " << stats.node_count
          << " nodes)\n"
          << inputReport(&loaded.clean, nullptr);
      out << "inputs\n" << ioText(model.inputs()) << "outputs\n" << ioText(model.outputs());
      out << "sizes    " << shapes.describe() << "\n";
      for (const auto& note : shapes.notes) out << "         " << note << "\n";
      out << "\n";
      if (!args->summary) {
        char line[512];
        std::snprintf(line, sizeof(line), "%-48s %-20s %-22s %12s %14s %12s\n", "name", "op", "output shape",
                      "params", "MACs", "weight bytes");
        out << line;
        for (const auto& n : stats.nodes) {
          std::string name = n.name.size() > 48 ? "..." + n.name.substr(n.name.size() - 45) : n.name;
          std::string shapes = shapesText(n);
          std::snprintf(line, sizeof(line), "%-48s %-20s %-22s %12s %14s %12s\n", name.c_str(),
                        n.op_type.c_str(), shapes.c_str(), withCommas(n.params).c_str(),
                        withCommas(n.macs).c_str(), withCommas(n.weight_bytes).c_str());
          out << line;
        }
        out << "\n";
      }
      out << "parameters        " << withCommas(stats.params) << " ("
          << humanCount(static_cast<double>(stats.params)) << ")\n"
          << "MACs              " << withCommas(stats.macs) << " ("
          << humanCount(static_cast<double>(stats.macs)) << ")\n"
          << "weight bytes      " << withCommas(stats.weight_bytes) << " (" << formatBytes(stats.weight_bytes)
          << ")\n"
          << "activation bytes  " << withCommas(stats.activation_bytes) << " ("
          << formatBytes(stats.activation_bytes) << ", sum of node outputs at these sizes)\n";
      if (stats.file_size_bytes)
        out << "file size         " << withCommas(*stats.file_size_bytes) << " ("
            << formatBytes(*stats.file_size_bytes) << ")\n";
      emit(global, j, out.str());
      return 0;
    };
  });
}

}  // namespace edgetune::cli
