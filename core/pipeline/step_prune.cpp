// Step "prune": `edgetune-cli prune` as a step. Channels (structured removal, prune_channels.h) or magnitude
// (zeros, prune_magnitude.h), with the passes' own option names. `allocate` replaces the CLI's --allocate and
// --sensitivity FILE: the curves come from an earlier sensitivity step's result, and allocateRatios fills the
// per-group ratios before pruning.
#include <algorithm>

#include "core/ir/stats.h"
#include "core/passes/graph_edit.h"
#include "core/passes/prune_channels.h"
#include "core/passes/prune_magnitude.h"
#include "core/pipeline/step_kinds.h"
#include "core/tuning/allocation.h"

namespace edgetune::pipeline {
namespace {

using edgetune::from_json;  // the enums' conversions (enum_names.h), for PruneMethod below
using edgetune::to_json;

constexpr const char* kKind = "prune";

/// Structured removal of channels / heads / neurons, or zeros in place.
enum class PruneMethod { Channels = 1, Magnitude };
constexpr auto enumNames(PruneMethod) {
  using N = EnumName<PruneMethod>;
  return std::array{N{PruneMethod::Channels, "channels"}, N{PruneMethod::Magnitude, "magnitude"}};
}

struct AllocateOptions {
  AllocationMetric metric = AllocationMetric::Macs;
  double keep = 0.5;        // the pruned model's metric <= keep * the original's
  std::string sensitivity;  // id of an earlier sensitivity step
};

struct PruneOptions {
  PruneMethod method = PruneMethod::Channels;
  PruneChannelsOptions channels;
  PruneMagnitudeOptions magnitude;
  std::optional<AllocateOptions> allocate;
  std::vector<std::string> shapes;  // "NAME=1x3x224x224" (as --shape), for MACs
};

void to_json(nlohmann::json& j, const PruneOptions& o) {
  nlohmann::json magnitude = o.magnitude;
  j = o.channels;
  j.update(magnitude);
  j["method"] = o.method;
  j["allocate"] = o.allocate ? nlohmann::json{{"metric", o.allocate->metric},
                                              {"keep", o.allocate->keep},
                                              {"sensitivity", o.allocate->sensitivity}}
                             : nlohmann::json();
  j["shapes"] = o.shapes;
}

void readAllocate(const nlohmann::json& json, AllocateOptions& a) {
  if (!json.is_object())
    throwOptionError(kKind, "allocate",
                     std::string("must be an object {metric, keep, sensitivity}, not ") + json.type_name());
  try {
    OptionsReader r(json, kKind, "step");
    r.read("metric", a.metric);
    r.read("keep", a.keep);
    r.read("sensitivity", a.sensitivity);
    r.finish();
  } catch (const OptionError& e) {
    // The key a recipe reader points at is the nested one.
    throw OptionError(e.what(), "allocate." + e.key());
  }
  if (!(a.keep > 0 && a.keep < 1))
    throwOptionError(kKind, "allocate.keep",
                     "is " + std::to_string(a.keep) + " (expected a fraction in (0, 1))");
  if (a.sensitivity.empty())
    throwOptionError(kKind, "allocate.sensitivity",
                     "is missing: name the sensitivity step whose curves to use");
}

void readOptions(OptionsReader& r, PruneOptions& o) {
  r.read("method", o.method);
  readOptions(r, o.channels);
  readOptions(r, o.magnitude);
  nlohmann::json allocate;
  r.read("allocate", allocate);
  r.read("shapes", o.shapes);
  // Taylor scores need gradients, which only a training step has.
  checkChoice(kKind, "criterion", o.channels.criterion,
              {PruneCriterion::L1, PruneCriterion::L2, PruneCriterion::BatchNorm});
  if (o.channels.round_to < 1) throwOptionError(kKind, "round_to", "must be at least 1");
  if (!allocate.is_null()) {
    o.allocate.emplace();
    readAllocate(allocate, *o.allocate);
    if (o.method != PruneMethod::Channels)
      throwOptionError(kKind, "allocate", "works with method channels only");
    if (!o.channels.per_group.empty() || !o.channels.protect.empty())
      throwOptionError(kKind, "allocate",
                       "chooses every group's ratio; it cannot be combined with per_group or protect");
  }
}

class PruneStep final : public StepWithOptions<PruneOptions> {
 public:
  std::string kind() const override { return kKind; }
  std::vector<std::string> references() const override {
    if (options_.allocate) return {options_.allocate->sensitivity};
    return {};
  }

  StepOutput run(StepContext& context) override {
    StepOutput out;
    Model model = context.input();
    const std::optional<InputShapes> shapes = resolveShapesOrNote(model, options_.shapes, nullptr, out.lines);
    const InputShapes* sizes = shapes ? &*shapes : nullptr;
    const ModelStats before = computeStats(model, sizes);
    nlohmann::json& r = out.result;
    r["method"] = options_.method;
    if (options_.method == PruneMethod::Magnitude) {
      const MagnitudePruneResult m = pruneMagnitude(model, options_.magnitude, sizes);
      finishGraphEdit(model, "prune_magnitude");
      r["weights"] = m.weights;
      r["zeros"] = m.zeros;
      r["sparsity"] = m.weights ? static_cast<double>(m.zeros) / static_cast<double>(m.weights) : 0.0;
      r["zstd_compressed_bytes_before"] = m.size_before.zstd_compressed_bytes;
      r["zstd_compressed_bytes_after"] = m.size_after.zstd_compressed_bytes;
      r["coverage"] = m.coverage.toJson();
      r["pass_result"] = m.toJson();  // every layer, as `edgetune-cli prune --json` shows it
      for (const auto& line : m.coverage.lines("pruned")) out.lines.push_back("coverage: " + line);
    } else {
      PruneChannelsOptions o = options_.channels;
      if (options_.allocate) {
        const Allocation a = allocate(model, context);
        o.ratio = 0.0;
        o.per_group = a.ratios;
        r["allocation"] = a.toJson();
        out.lines.push_back("allocation " + toString(options_.allocate->metric) + "=" +
                            std::to_string(options_.allocate->keep) + ": " + std::to_string(a.metric_before) +
                            " -> " + std::to_string(a.metric_after) +
                            (a.reached ? "" : " (target NOT reached)"));
      }
      if (context.job()) context.job()->report(0.5, "pruning channels");
      const ChannelPruneResult c = pruneChannels(model, o, {}, sizes);
      const bool asked = o.ratio > 0 || std::any_of(o.per_group.begin(), o.per_group.end(),
                                                    [](const auto& kv) { return kv.second > 0; });
      if (!c.prunedAnything() && asked) {
        // No silent partial success, as the CLI: the step fails and every reason is listed.
        std::string why;
        for (const auto& line : c.coverage.lines("pruned", 5)) why += "\n  " + line;
        throw Error("step '" + context.stepId() + "': nothing could be pruned at this ratio" + why);
      }
      r["ratio"] = o.ratio;
      r["per_group"] = o.per_group;
      nlohmann::json groups = nlohmann::json::object();
      for (const auto& g : c.groups)
        if (g.units_after != g.units_before) groups[g.id] = {g.units_before, g.units_after};
      r["groups"] = groups;  // id -> [units before, after], the groups that changed
      r["coverage"] = c.coverage.toJson();
      r["pass_result"] = c.toJson();  // every group in graph order, as `edgetune-cli prune --json` shows it
      for (const auto& line : c.coverage.lines("pruned")) out.lines.push_back("coverage: " + line);
    }
    const ModelStats after = computeStats(model, sizes);
    r["params_before"] = before.params;
    r["params_after"] = after.params;
    r["macs_before"] = before.macs;
    r["macs_after"] = after.macs;
    out.lines.push_back("parameters " + std::to_string(before.params) + " -> " +
                        std::to_string(after.params) + ", MACs " + std::to_string(before.macs) + " -> " +
                        std::to_string(after.macs));
    if (context.job()) context.job()->report(1.0, "pruned");
    out.model = std::move(model);
    return out;
  }

 private:
  Allocation allocate(const Model& model, StepContext& context) const {
    const AllocateOptions& a = *options_.allocate;
    const nlohmann::json& j = context.resultOf(a.sensitivity);
    SensitivityResult s;
    try {
      s = SensitivityResult::fromJson(j);
    } catch (const Error& e) {
      throw Error("step '" + context.stepId() + "': allocate.sensitivity '" + a.sensitivity +
                  "' is not a sensitivity step's result (" + e.what() + ")");
    }
    const ModelStats stats = computeStats(model);
    if (s.params != 0 && s.params != stats.params)
      throw Error("step '" + context.stepId() + "': the sensitivity of '" + a.sensitivity +
                  "' was measured on a model with " + std::to_string(s.params) +
                  " parameters; this step's input has " + std::to_string(stats.params));
    AllocationOptions o;
    o.metric = a.metric;
    o.keep_fraction = a.keep;
    o.round_to = options_.channels.round_to;
    o.criterion = options_.channels.criterion;
    if (context.job()) context.job()->report(0.1, "allocating (" + toString(a.metric) + ")");
    return allocateRatios(model, s, o, context.job());
  }
};

}  // namespace

std::unique_ptr<Step> makePruneStep() {
  return std::make_unique<PruneStep>();
}

}  // namespace edgetune::pipeline
