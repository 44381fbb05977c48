// Opset down-conversion 18..23 -> 17 for Debian's ONNX 1.12.
//
// ONNX 1.12's own version converter only knows opsets up to 17, so the down-adapters here are written from
// the ONNX operator changelog (onnx/defs/operator_sets.h lists which ops got a new version in each opset):
//   1. A structural pass over every graph (main graph, If/Loop/Scan bodies, model functions) adapts each
//      default-domain node whose op changed after 17 from its effective version (the newest one <= the
//      model's opset) to its opset-17 form, or records a blocker. Most bumps only added types (bfloat16,
//      float8, int4, float4): those nodes are relabeled and their types checked in step 3.
//   2. The model is stamped opset 17 and ONNX 1.12 shape inference runs, which gives types and shapes.
//   3. Fix-ups that need shapes run (Split num_outputs, Pad axes, DFT axis, Gelu constant types), and every
//      relabeled node's tensor types are checked against the opset-17 schema (a Sin on bfloat16 refuses).
// Anything that cannot be expressed at 17 refuses with one message: the model's opset, the first blocking
// node, why, and "re-export with opset_version=17".
//
// Where the steps live: opset_convert_helpers.cpp (the ops that changed after 17, node helpers, scopes),
// opset_down_converter.cpp (step 1's walk and step 3's type check), opset_down_adapters.cpp (one adapter per
// op family), opset_ir_version.cpp (types and IR fields newer than ONNX 1.12). This file is the entry point.
#include "core/ir/opset_convert.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/version_converter/convert.h>

#include <algorithm>
#include <set>

#include "core/ir/model.h"
#include "core/ir/opset_convert_internal.h"
#include "core/util/error.h"

namespace edgetune {

namespace {

using namespace opset_internal;

// Each default-domain node against its operator's schema at `opset`: known, and within its input and output
// counts. Throws Error naming the node.
void checkNodesFitSchemas(const onnx::ModelProto& model, int opset, const std::string& origin) {
  for (const auto& node : model.graph().node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx") continue;
    const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(node.op_type(), opset, "");
    const std::string what = origin + ": node '" + node.name() + "' (" + node.op_type() + ")";
    if (!schema) throw Error(what + " is not an operator of ONNX opset " + std::to_string(opset));
    const auto fits = [](int count, int min, int max) { return count >= min && count <= max; };
    if (!fits(node.input_size(), schema->min_input(), schema->max_input()))
      throw Error(what + " has " + std::to_string(node.input_size()) + " inputs; opset " +
                  std::to_string(opset) + " takes " + std::to_string(schema->min_input()) + " to " +
                  std::to_string(schema->max_input()));
    if (!fits(node.output_size(), schema->min_output(), schema->max_output()))
      throw Error(what + " has " + std::to_string(node.output_size()) + " outputs; opset " +
                  std::to_string(opset) + " makes " + std::to_string(schema->min_output()) + " to " +
                  std::to_string(schema->max_output()));
  }
}

// Every output of `graph` (and of its subgraphs) is a graph input, an initializer or some node's output (for
// a subgraph, possibly of an enclosing graph).
void checkGraphOutputsMade(const onnx::GraphProto& graph, const std::string& origin,
                           const std::set<std::string>& outer = {}) {
  std::set<std::string> made = outer;  // a subgraph may output a value of its enclosing graph
  for (const auto& v : graph.input()) made.insert(v.name());
  for (const auto& t : graph.initializer()) made.insert(t.name());
  for (const auto& node : graph.node()) {
    for (const auto& name : node.output()) made.insert(name);
    for (const auto& a : node.attribute()) {
      if (a.has_g()) checkGraphOutputsMade(a.g(), origin, made);
      for (const auto& g : a.graphs()) checkGraphOutputsMade(g, origin, made);
    }
  }
  for (const auto& v : graph.output())
    if (!made.count(v.name()))
      throw Error(origin + ": graph output '" + v.name() + "' is made by no node (nor is it an input)");
}

std::string reexportAdvice(int64_t opset) {
  return "re-export the model with opset_version=" + std::to_string(std::clamp<int64_t>(opset, 7, 17)) +
         " (torch.onnx.export(..., opset_version=17), tf2onnx --opset 17)";
}

}  // namespace

OpsetConversion convertToReadableOpset(onnx::ModelProto& model, const std::string& origin) {
  OpsetConversion result;
  result.ir_from = result.ir_to = model.ir_version();

  // "ai.onnx" and "" both name the default domain; ONNX 1.12 and our passes look for "".
  bool renamed_domain = false;
  for (auto& op : *model.mutable_opset_import())
    if (op.domain() == "ai.onnx") {
      op.set_domain("");
      renamed_domain = true;
    }
  int64_t opset = 0;
  int default_imports = 0;
  for (const auto& op : model.opset_import())
    if (op.domain().empty()) {
      opset = op.version();
      ++default_imports;
    }
  if (default_imports > 1)
    throw Error(origin + ": the model imports the default ONNX domain twice (as \"\" and \"ai.onnx\")");
  result.from = result.to = opset;
  if (renamed_domain) result.lines.push_back("domain 'ai.onnx' -> '' (both name the default ONNX domain)");

  auto refuse = [&](const std::string& what, const std::string& why, size_t more = 0) {
    std::string msg =
        origin + ": ONNX opset " + std::to_string(opset) + " (IR version " + std::to_string(result.ir_from) +
        ") cannot be converted to what ONNX 1.12 reads (opset " + std::to_string(kOldestReadableOpset) +
        ".." + std::to_string(kNewestReadableOpset) + "): " + what + ": " + why;
    if (more) msg += " (and " + std::to_string(more) + " more blocking node" + (more > 1 ? "s" : "") + ")";
    throw Error(msg + "; " + reexportAdvice(opset));
  };

  if (opset > kNewestConvertibleOpset)
    refuse("the model", "opset " + std::to_string(opset) +
                            " is newer than this converter knows (opset changes up to " +
                            std::to_string(kNewestConvertibleOpset) + ")");

  // IR version: ONNX 1.12's checker refuses anything newer than IR 8. Lower it when the file uses nothing
  // newer. Newer writers (e.g. torch's dynamo exporter) may use IR 9+ fields while stamping an older IR, so a
  // converted file is scanned too.
  if (model.ir_version() > kNewestReadableIrVersion || opset > kNewestReadableOpset) {
    const int defaults = writeFunctionAttributeDefaults(model);
    if (defaults)
      result.lines.push_back("IR 9 attribute defaults of model functions written into " +
                             std::to_string(defaults) + " call(s)");
    std::vector<UnknownField> unknown;
    std::vector<std::string> stripped;
    collectUnknownFields(model, unknown, /*strip_harmless=*/true, stripped);
    if (!unknown.empty())
      refuse("IR version " + std::to_string(model.ir_version()), describeUnknownField(unknown.front()));
    if (!stripped.empty())
      result.lines.push_back("IR 9+ annotations dropped (" + std::to_string(stripped.size()) + "x, e.g. " +
                             stripped.front() + ": metadata or value types ONNX 1.12 cannot read)");
  }
  if (opset > kNewestReadableOpset || model.ir_version() > kNewestReadableIrVersion) {
    if (auto b = findNewType(model.graph(), "")) refuse(b->node, b->reason);
    for (const auto& f : model.functions())
      for (const auto& node : f.node())
        for (const auto& a : node.attribute())
          if ((a.name() == "to" || a.name() == "dtype") && a.i() > kNewestKnownTypeCode)
            refuse(describeNode(node) + " (in model function '" + f.name() + "')",
                   "attribute " + a.name() + "=" + newTypeName(static_cast<int>(a.i())) +
                       " names a type opset 17 does not have");
  }
  if (model.ir_version() > kNewestReadableIrVersion) {
    result.lines.push_back("IR version " + std::to_string(model.ir_version()) + " -> " +
                           std::to_string(kNewestReadableIrVersion) +
                           " (the file uses no IR 9+ feature: no float8/int4 types, function overloads or "
                           "attribute defaults)");
    model.set_ir_version(kNewestReadableIrVersion);
    result.ir_to = kNewestReadableIrVersion;
  }

  if (opset > kNewestReadableOpset) {
    DownConverter converter(model, static_cast<int>(opset));
    converter.run();
    const auto& blockers = converter.blockers();
    if (!blockers.empty()) refuse(blockers.front().node, blockers.front().reason, blockers.size() - 1);
    for (auto& line : converter.lines()) result.lines.push_back(std::move(line));
    if (!converter.relabeled().empty()) {
      // Ops that only gained types or attributes left at their defaults: one summary line, not one per node.
      std::string ops;
      int total = 0;
      for (const auto& [op, count] : converter.relabeled()) {
        ops += (ops.empty() ? "" : ", ") + op + " x" + std::to_string(count);
        total += count;
      }
      result.lines.push_back("opset " + std::to_string(opset) + " -> 17: " + std::to_string(total) +
                             " node(s) relabeled, their changes since 17 unused (" + ops + ")");
    }
    result.lines.push_back("opset " + std::to_string(opset) + " -> " + std::to_string(kNewestReadableOpset));
    result.to = kNewestReadableOpset;
  } else if (opset > 0 && opset < kOldestReadableOpset) {
    // Old models: ONNX 1.12's own version converter knows the upgrade adapters (e.g. broadcasting at 7).
    // It trusts every node to match its operator's schema (a second input on opset 2's one-input ReduceMean
    // crashes it), so what it cannot take is refused here first.
    checkNodesFitSchemas(model, static_cast<int>(opset), origin);
    // It also trusts the graph to be well formed: every graph output made (one no node makes crashes it),
    // and what the checker, which knows the old schemas, checks.
    checkGraphOutputsMade(model.graph(), origin);
    try {
      onnx::checker::check_model(model);
    } catch (const std::exception& e) {
      std::string msg = e.what();
      if (const auto pos = msg.find("\n\n==> Context:"); pos != std::string::npos) msg.resize(pos);
      throw Error(origin + ": invalid ONNX model (opset " + std::to_string(opset) + "): " + msg);
    }
    try {
      model = onnx::version_conversion::ConvertVersion(model, static_cast<int>(kOldestReadableOpset));
    } catch (const std::exception& e) {
      std::string why = e.what();
      if (auto pos = why.find('\n'); pos != std::string::npos) why.resize(pos);
      throw Error(origin + ": ONNX opset " + std::to_string(opset) +
                  " is older than EdgeTune reads (7..17) and " +
                  "ONNX's version converter could not upgrade it: " + why +
                  "; re-export the model with opset_version=17");
    }
    result.lines.push_back("opset " + std::to_string(opset) + " -> " + std::to_string(kOldestReadableOpset) +
                           " (ONNX 1.12 version converter)");
    result.to = kOldestReadableOpset;
  }
  return result;
}

}  // namespace edgetune
