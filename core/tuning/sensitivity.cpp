// Sensitivity sweep with activation caching: per group, one run of the unchanged prefix over the subset, then
// one run of the (pruned) affected region per ratio.
#include "core/tuning/sensitivity.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/analysis/channel_dependencies.h"
#include "core/analysis/evaluate.h"
#include "core/ir/stats.h"
#include "core/passes/prune_channels.h"
#include "core/util/error.h"

namespace edgetune {

namespace {

bool isConstantName(const Model& m, const std::string& name) {
  if (m.isInitializer(name)) return true;
  const int p = m.producer(name);
  return p >= 0 && m.graph().node(p).input_size() == 0;  // Constant (and other input-less) nodes
}

// A graph input or output of a sub-model must declare a shape (the checker requires one). Where ONNX 1.12's
// inference gave up on a tensor, its rank comes from the statistics' inference (`ranks`), every dimension
// symbolic.
onnx::ValueInfoProto declare(const Model& m, const std::string& name,
                             const std::unordered_map<std::string, std::vector<int64_t>>& ranks) {
  onnx::ValueInfoProto vi;
  vi.set_name(name);
  auto info = m.valueInfo(name);
  auto* tt = vi.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(info ? static_cast<int>(info->type) : onnx::TensorProto::FLOAT);
  if (!(info && info->has_shape)) {
    if (auto it = ranks.find(name); it != ranks.end()) {
      auto* shape = tt->mutable_shape();
      for (size_t i = 0; i < it->second.size(); ++i) shape->add_dim()->set_dim_param("d" + std::to_string(i));
    }
    return vi;
  }
  auto* shape = tt->mutable_shape();
  for (size_t i = 0; i < info->shape.size(); ++i) {
    auto* d = shape->add_dim();
    if (info->shape[i] >= 0)
      d->set_dim_value(info->shape[i]);
    else
      d->set_dim_param("d" + std::to_string(i));
  }
  return vi;
}

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

Model extractSubModel(const Model& model, const std::vector<std::string>& inputs,
                      const std::vector<std::string>& outputs) {
  const std::unordered_set<std::string> boundary(inputs.begin(), inputs.end());
  std::vector<bool> keep(model.graph().node_size(), false);
  std::vector<std::string> stack(outputs.begin(), outputs.end());
  std::set<std::string> seen;
  std::set<std::string> used_inits;
  while (!stack.empty()) {
    const std::string t = stack.back();
    stack.pop_back();
    if (t.empty() || !seen.insert(t).second || boundary.count(t)) continue;
    if (model.isInitializer(t)) {
      used_inits.insert(t);
      continue;
    }
    const int p = model.producer(t);
    if (p < 0)
      throw Error("extractSubModel: '" + t + "' of model '" + model.origin() +
                  "' cannot be computed from the given inputs");
    if (keep[p]) continue;
    keep[p] = true;
    for (const auto& in : model.graph().node(p).input()) stack.push_back(in);
  }
  onnx::ModelProto proto;
  proto.set_ir_version(model.proto().ir_version());
  *proto.mutable_opset_import() = model.proto().opset_import();
  auto* g = proto.mutable_graph();
  g->set_name(model.graph().name() + "_region");
  // Statistics-grade shapes only where the model's own value_info lacks one (they cost an inference).
  std::unordered_map<std::string, std::vector<int64_t>> ranks;
  auto lacksShape = [&](const std::string& t) {
    auto info = model.valueInfo(t);
    return !(info && info->has_shape);
  };
  if (std::any_of(inputs.begin(), inputs.end(), lacksShape) ||
      std::any_of(outputs.begin(), outputs.end(), lacksShape))
    ranks = tensorShapes(model);
  for (const auto& in : inputs) *g->add_input() = declare(model, in, ranks);
  for (const auto& out : outputs) {
    bool found = false;
    for (const auto& o : model.graph().output())
      if (o.name() == out) {
        *g->add_output() = o;
        found = true;
      }
    if (!found) *g->add_output() = declare(model, out, ranks);
  }
  for (const auto& init : model.graph().initializer())
    if (used_inits.count(init.name())) *g->add_initializer() = init;
  for (int i = 0; i < model.graph().node_size(); ++i)
    if (keep[i]) *g->add_node() = model.graph().node(i);
  return Model::fromProto(std::move(proto), model.origin() + " (region)");
}

AffectedRegion affectedRegion(const Model& model, const std::vector<std::string>& changed_nodes) {
  const auto& g = model.graph();
  const std::unordered_set<std::string> names(changed_nodes.begin(), changed_nodes.end());
  std::vector<bool> in(g.node_size(), false);
  for (int n : model.topologicalOrder()) {
    const auto& node = g.node(n);
    bool hit = names.count(node.name()) > 0;
    for (const auto& i : node.input()) {
      if (hit) break;
      const int p = i.empty() ? -1 : model.producer(i);
      hit = p >= 0 && in[p];
    }
    in[n] = hit;
  }
  AffectedRegion r;
  std::set<std::string> boundary;
  for (int n = 0; n < g.node_size(); ++n) {
    if (!in[n]) continue;
    r.nodes.push_back(n);
    for (const auto& i : g.node(n).input()) {
      if (i.empty() || isConstantName(model, i)) continue;
      const int p = model.producer(i);
      if (p >= 0 && in[p]) continue;
      if (boundary.insert(i).second) r.inputs.push_back(i);
    }
  }
  return r;
}

nlohmann::json SensitivityResult::toJson() const {
  nlohmann::json curves_json = nlohmann::json::array();
  for (const auto& c : curves)
    curves_json.push_back({{"group", c.group},
                           {"kind", c.kind},
                           {"units", c.units},
                           {"ratios", c.ratios},
                           {"kept_units", c.kept_units},
                           {"accuracy", c.accuracy},
                           {"params_after", c.params_after},
                           {"macs_after", c.macs_after},
                           {"region_inputs", c.region_inputs},
                           {"region_nodes", c.region_nodes},
                           {"seconds", c.seconds}});
  return {{"model", model},
          {"dataset", dataset},
          {"examples", examples},
          {"baseline_accuracy", baseline_accuracy},
          {"params", params},
          {"macs", macs},
          {"total_nodes", total_nodes},
          {"seconds", seconds},
          {"curves", curves_json}};
}

SensitivityResult SensitivityResult::fromJson(const nlohmann::json& j) {
  SensitivityResult r;
  try {
    r.model = j.value("model", "");
    r.dataset = j.value("dataset", "");
    r.examples = j.at("examples").get<size_t>();
    r.baseline_accuracy = j.at("baseline_accuracy").get<double>();
    r.params = j.value("params", int64_t{0});
    r.macs = j.value("macs", int64_t{0});
    r.total_nodes = j.value("total_nodes", 0);
    r.seconds = j.value("seconds", 0.0);
    for (const auto& c : j.at("curves")) {
      SensitivityCurve curve;
      curve.group = c.at("group");
      curve.kind = c.value("kind", "");
      curve.units = c.at("units");
      curve.ratios = c.at("ratios").get<std::vector<double>>();
      curve.kept_units = c.value("kept_units", std::vector<int64_t>{});
      curve.accuracy = c.at("accuracy").get<std::vector<double>>();
      curve.params_after = c.value("params_after", std::vector<int64_t>{});
      curve.macs_after = c.value("macs_after", std::vector<int64_t>{});
      curve.region_inputs = c.value("region_inputs", std::vector<std::string>{});
      curve.region_nodes = c.value("region_nodes", 0);
      curve.seconds = c.value("seconds", 0.0);
      if (curve.ratios.size() != curve.accuracy.size())
        throw Error("group '" + curve.group + "' has " + std::to_string(curve.ratios.size()) +
                    " ratios but " + std::to_string(curve.accuracy.size()) + " accuracies");
      r.curves.push_back(curve);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("sensitivity JSON: ") + e.what());
  }
  return r;
}

std::string SensitivityResult::toCsv() const {
  std::ostringstream out;
  out << "group,kind,units,ratio,kept_units,accuracy,accuracy_drop,params_after,macs_after\n";
  for (const auto& c : curves)
    for (size_t i = 0; i < c.ratios.size(); ++i) {
      out << '"' << c.group << "\"," << c.kind << ',' << c.units << ',' << c.ratios[i] << ','
          << (i < c.kept_units.size() ? c.kept_units[i] : 0) << ',' << c.accuracy[i] << ','
          << baseline_accuracy - c.accuracy[i] << ',' << (i < c.params_after.size() ? c.params_after[i] : 0)
          << ',' << (i < c.macs_after.size() ? c.macs_after[i] : 0) << '\n';
    }
  return out.str();
}

std::string SensitivityResult::toTable() const {
  std::ostringstream out;
  out << "baseline top-1 " << std::fixed << std::setprecision(1) << 100 * baseline_accuracy << "% on "
      << examples << " examples; sweep took " << std::setprecision(2) << seconds << " s\n";
  size_t width = 5;
  for (const auto& c : curves) width = std::max(width, c.group.size());
  width = std::min<size_t>(width, 60);
  out << std::left << std::setw(static_cast<int>(width)) << "group" << std::right << std::setw(6) << "units";
  if (!curves.empty())
    for (double r : curves[0].ratios) out << std::setw(7) << std::setprecision(1) << r;
  out << '\n';
  for (const auto& c : curves) {
    std::string name = c.group.size() > width ? "..." + c.group.substr(c.group.size() - width + 3) : c.group;
    out << std::left << std::setw(static_cast<int>(width)) << name << std::right << std::setw(6) << c.units;
    for (double a : c.accuracy) out << std::setw(7) << std::setprecision(1) << 100 * a;
    out << '\n';
  }
  return out.str();
}

SensitivityResult analyzeSensitivity(const Model& model, const Dataset& dataset, const SensitivityOptions& o,
                                     JobContext* job, AnalysisCache* analyses) {
  const auto start = std::chrono::steady_clock::now();
  for (double r : o.ratios)
    if (!(r > 0.0 && r < 1.0))
      throw Error("sensitivity: ratios must be in (0, 1) (got " + std::to_string(r) + ")");
  if (o.batch_size <= 0) throw Error("sensitivity: batch size must be positive");
  SensitivityResult result;
  result.model = model.origin();
  result.dataset = dataset.name();
  const ModelStats stats = computeStats(model, &o.input_shapes);
  result.params = stats.params;
  result.macs = stats.macs;
  result.total_nodes = model.graph().node_size();
  const auto outputs = model.outputs();
  if (outputs.empty()) throw Error("sensitivity: model '" + model.origin() + "' has no outputs");
  const std::string logits = outputs[0].name;

  // The seeded subset, batched once; inputs bound to the model's inputs.
  auto full = makeOrtExecutor(model, o.ort);
  checkInputsFit(full->inputs(), dataset.features(), dataset.name());
  const std::vector<size_t> indices = seededSubset(dataset.size(), o.limit, o.seed);
  if (indices.empty()) throw Error("sensitivity: dataset '" + dataset.name() + "' is empty");
  result.examples = indices.size();
  std::vector<std::vector<NamedTensor>> batches;
  std::vector<std::vector<int64_t>> labels;
  for (size_t b = 0; b < indices.size(); b += static_cast<size_t>(o.batch_size)) {
    const size_t e = std::min(indices.size(), b + static_cast<size_t>(o.batch_size));
    Batch batch = makeBatch(dataset, std::span<const size_t>(indices.data() + b, e - b));
    labels.push_back(batch.labels);
    batches.push_back(bindInputs(full->inputs(), std::move(batch), dataset.name()));
  }
  const size_t classes = std::max<size_t>(
      dataset.numClasses(),
      static_cast<size_t>(std::max<int64_t>(1, outputs[0].shape.empty() ? 1 : outputs[0].shape.back())));
  auto accuracyOf = [&](Executor& exec, const std::vector<std::vector<NamedTensor>>& feeds,
                        const std::string& output) {
    AccuracyMeter meter(classes);
    for (size_t b = 0; b < feeds.size(); ++b) {
      if (job) job->throwIfCancelled();
      auto out = exec.run(feeds[b], {output});
      meter.add(out[0], labels[b]);
    }
    return meter.result().top1;
  };
  result.baseline_accuracy = accuracyOf(*full, batches, logits);

  const std::shared_ptr<const std::vector<PruneGroup>> groups_owner =
      analyze<PruneGroupsAnalysis>(analyses, model);
  const std::vector<PruneGroup>& groups = *groups_owner;
  std::vector<PruneGroup> selected;
  for (const auto& g : groups) {
    if (!o.groups.empty()) {
      if (std::find(o.groups.begin(), o.groups.end(), g.id) == o.groups.end()) continue;
      if (!g.prunable) throw Error("sensitivity: group '" + g.id + "' cannot be pruned (" + g.reason + ")");
    } else if (!g.prunable) {
      continue;
    }
    selected.push_back(g);
  }
  for (const auto& id : o.groups) {
    bool found = false;
    for (const auto& g : selected) found = found || g.id == id;
    if (!found) throw Error("sensitivity: model has no prune group '" + id + "'");
  }

  std::set<std::string> graph_inputs;
  for (const auto& in : model.inputs()) graph_inputs.insert(in.name);
  const double steps = static_cast<double>(selected.size() * (o.ratios.size() + 1));
  size_t step = 0;
  for (const auto& group : selected) {
    const auto group_start = std::chrono::steady_clock::now();
    SensitivityCurve curve;
    curve.group = group.id;
    curve.kind = group.kind;
    curve.units = group.units;
    if (job) job->report(step / steps, "caching activations for " + group.id);
    // Cache the tensors entering the affected region, computed once by the unchanged prefix.
    const AffectedRegion region = affectedRegion(model, group.nodes);
    curve.region_inputs = region.inputs;
    curve.region_nodes = static_cast<int>(region.nodes.size());
    std::vector<std::string> computed;
    for (const auto& t : region.inputs)
      if (!graph_inputs.count(t)) computed.push_back(t);
    std::vector<std::vector<NamedTensor>> cached(batches.size());
    std::unique_ptr<Executor> prefix;
    if (!computed.empty()) {
      std::vector<std::string> prefix_inputs(graph_inputs.begin(), graph_inputs.end());
      prefix = makeOrtExecutor(extractSubModel(model, prefix_inputs, computed), o.ort);
    }
    for (size_t b = 0; b < batches.size(); ++b) {
      if (job) job->throwIfCancelled();
      std::vector<Tensor> values;
      if (prefix) {
        std::vector<NamedTensor> feed;
        for (const auto& nt : batches[b])
          for (const auto& pi : prefix->inputs())
            if (pi.name == nt.name) feed.push_back(nt);
        values = prefix->run(feed, computed);
      }
      size_t k = 0;
      for (const auto& t : region.inputs) {
        if (graph_inputs.count(t)) {
          for (const auto& nt : batches[b])
            if (nt.name == t) cached[b].push_back(nt);
        } else {
          cached[b].push_back({t, std::move(values[k++])});
        }
      }
    }
    ++step;
    for (double ratio : o.ratios) {
      if (job) {
        job->throwIfCancelled();
        job->report(step / steps, group.id + " at ratio " + std::to_string(ratio).substr(0, 4));
      }
      PruneChannelsOptions popts;
      popts.ratio = 0.0;
      popts.per_group[group.id] = ratio;
      popts.round_to = o.round_to;
      popts.criterion = o.criterion;
      Model pruned = model;
      const ChannelPruneResult pr = applyChannelPlan(pruned, planChannelPruning(model, popts));
      int64_t kept = group.units;
      for (const auto& g : pr.groups)
        if (g.id == group.id) kept = g.units_after;
      auto exec = makeOrtExecutor(extractSubModel(pruned, region.inputs, {logits}), o.ort);
      curve.ratios.push_back(ratio);
      curve.kept_units.push_back(kept);
      curve.accuracy.push_back(accuracyOf(*exec, cached, logits));
      curve.params_after.push_back(pr.params_after);
      // The prune result counts MACs with symbolic dimensions as 1; at real sizes (a dynamic sequence)
      // recount.
      curve.macs_after.push_back(o.input_shapes.empty() ? pr.macs_after
                                                        : computeStats(pruned, &o.input_shapes).macs);
      ++step;
    }
    curve.seconds = seconds(group_start);
    result.curves.push_back(std::move(curve));
  }
  result.seconds = seconds(start);
  if (job) job->report(1.0, "sensitivity done");
  return result;
}

}  // namespace edgetune
