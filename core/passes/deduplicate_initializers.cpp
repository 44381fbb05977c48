// deduplicate_initializers: exporters often store the same constant many times (shape vectors, shared or tied
// weights copied per use); one copy is enough.
#include <functional>
#include <map>
#include <set>
#include <string_view>

#include "core/passes/cleanup_passes.h"
#include "core/passes/graph_edit.h"
#include "core/util/error.h"

namespace edgetune {

void to_json(nlohmann::json& j, const DeduplicateInitializersOptions& o) {
  j = {{"min_bytes", o.min_bytes}};
}
void readOptions(OptionsReader& r, DeduplicateInitializersOptions& o) {
  r.read("min_bytes", o.min_bytes);
}

PassReport DeduplicateInitializersPass::apply(Model& model, PassContext& context) {
  PassReport report;
  report.pass_name = name();
  context.throwIfCancelled();
  model.reindex();
  struct Entry {
    std::string name;
    std::string bytes;
  };
  // Bucketed by type, shape and a hash of the bytes; equal buckets are compared byte by byte.
  std::map<std::tuple<int, std::vector<int64_t>, size_t>, std::vector<Entry>> buckets;
  std::map<std::string, std::string> replace;  // duplicate -> kept
  for (const auto& init : model.graph().initializer()) {
    if (isRuntimeInput(model, init.name()) || model.isGraphOutput(init.name())) continue;
    std::string bytes;
    if (init.has_raw_data()) {
      bytes = init.raw_data();
    } else {
      try {
        Tensor t = tensorFromProto(init);
        bytes.assign(static_cast<const char*>(t.raw()), t.byteSize());
      } catch (const Error&) {
        continue;  // an element type EdgeTune does not read: leave it alone
      }
    }
    if (static_cast<int64_t>(bytes.size()) < options_.min_bytes) continue;
    std::vector<int64_t> dims(init.dims().begin(), init.dims().end());
    auto& bucket = buckets[{init.data_type(), dims, std::hash<std::string_view>()(bytes)}];
    bool merged = false;
    for (const auto& kept : bucket)
      if (kept.bytes == bytes) {
        replace[init.name()] = kept.name;
        merged = true;
        break;
      }
    if (!merged) bucket.push_back({init.name(), std::move(bytes)});
  }
  std::set<std::string> removed;
  nlohmann::json merged = nlohmann::json::object();
  for (const auto& [duplicate, kept] : replace) {
    replaceAllUses(model, duplicate, kept);
    removed.insert(duplicate);
    merged[duplicate] = kept;
  }
  report.initializers_removed = removeInitializers(model, removed);
  if (!removed.empty())
    report.lines.push_back("merged " + std::to_string(removed.size()) + " duplicate initializers");
  report.details["merged"] = merged;
  if (report.changed()) finishGraphEdit(model, name());
  return report;
}

}  // namespace edgetune
