// prune_magnitude: unstructured pruning by weight magnitude. The file keeps its size (a zero is still four
// bytes in ONNX), so the report labels the ONNX file size and the zstd download size separately.
#include "core/passes/prune_magnitude.h"

#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <set>

#include "core/passes/graph_edit.h"
#include "core/util/error.h"
#include "core/util/name_pattern.h"

namespace edgetune {

void to_json(nlohmann::json& j, const PruneMagnitudeOptions& o) {
  j = {{"sparsity", o.sparsity},           {"scope", o.scope},
       {"op_types", o.op_types},           {"include_regex", o.include_regex},
       {"exclude_regex", o.exclude_regex}, {"per_layer", o.per_layer},
       {"min_weights", o.min_weights}};
}
void readOptions(OptionsReader& r, PruneMagnitudeOptions& o) {
  r.read("sparsity", o.sparsity);
  r.read("scope", o.scope);
  r.read("op_types", o.op_types);
  r.read("include_regex", o.include_regex);
  r.read("exclude_regex", o.exclude_regex);
  r.read("per_layer", o.per_layer);
  r.read("min_weights", o.min_weights);
}

nlohmann::json SizeReport::toJson() const {
  return {{"onnx_file_bytes", onnx_file_bytes},
          {"onnx_file_note", "ONNX file size: unchanged by zeroed weights"},
          {"zstd_compressed_bytes", zstd_compressed_bytes},
          {"zstd_compressed_note", "download size: the ONNX file compressed with zstd level 19"}};
}

int64_t zstdCompressedSize(const std::string& bytes, int level) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), level);
  if (ZSTD_isError(n)) throw Error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  return static_cast<int64_t>(n);
}

SizeReport measureSize(const Model& model) {
  const std::string bytes = model.serialize();
  SizeReport r;
  r.onnx_file_bytes = static_cast<int64_t>(bytes.size());
  // Level 19 is what a release pipeline would use; it is slow only for very large models.
  r.zstd_compressed_bytes = zstdCompressedSize(bytes, bytes.size() > (64 << 20) ? 9 : 19);
  return r;
}

nlohmann::json MagnitudePruneResult::toJson() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& l : layers)
    rows.push_back({{"node", l.node},
                    {"op_type", l.op_type},
                    {"initializer", l.initializer},
                    {"weights", l.weights},
                    {"zeros", l.zeros},
                    {"sparsity", l.sparsity()}});
  return {{"layers", rows},
          {"weights", weights},
          {"zeros", zeros},
          {"sparsity", weights ? static_cast<double>(zeros) / weights : 0.0},
          {"size_before", size_before.toJson()},
          {"size_after", size_after.toJson()},
          {"coverage", coverage.toJson()}};
}

double cubicSparsity(double final_sparsity, int64_t step, int64_t total_steps, double initial_sparsity) {
  if (total_steps <= 0) return final_sparsity;
  const double t = std::clamp(static_cast<double>(step) / static_cast<double>(total_steps), 0.0, 1.0);
  const double remaining = 1.0 - t;
  return final_sparsity + (initial_sparsity - final_sparsity) * remaining * remaining * remaining;
}

namespace {

struct Selected {
  LayerSparsity info;
  double sparsity = 0;
};

// The weight initializer a layer of this op type reads: Conv/Gemm input 1, MatMul whichever side is constant.
std::string weightOf(const Model& model, const onnx::NodeProto& node) {
  auto constantFloat = [&](int slot) {
    if (slot >= node.input_size()) return false;
    const auto& name = node.input(slot);
    if (!isConstantInitializer(model, name)) return false;
    return model.initializer(name)->data_type() == onnx::TensorProto::FLOAT;
  };
  if (node.op_type() == "MatMul") {
    if (constantFloat(1)) return node.input(1);
    if (constantFloat(0)) return node.input(0);
    return {};
  }
  return constantFloat(1) ? node.input(1) : std::string();
}

void checkSparsity(double s, const std::string& field) {
  if (!(s >= 0.0 && s < 1.0))
    throw Error("pass 'prune_magnitude': " + field + " must be in [0, 1) (got " + std::to_string(s) + ")");
}

// floor(s * n), tolerant of the rounding error in s (64.0 / 192 * 192 must give 64).
int64_t prunedCount(double sparsity, int64_t n) {
  return static_cast<int64_t>(std::floor(sparsity * static_cast<double>(n) + 1e-9));
}

// An empty option means "no pattern" (every node included, none excluded).
std::optional<NamePattern> compile(const std::string& pattern, const std::string& field) {
  if (pattern.empty()) return std::nullopt;
  return NamePattern(pattern, "pass 'prune_magnitude': option '" + field + "'");
}

}  // namespace

MagnitudePruneResult pruneMagnitude(Model& model, const PruneMagnitudeOptions& o, const InputShapes* shapes) {
  checkSparsity(o.sparsity, "option 'sparsity'");
  for (const auto& [name, s] : o.per_layer) checkSparsity(s, "per_layer '" + name + "'");
  if (o.scope == MagnitudeScope::Global && !o.per_layer.empty())
    throw Error("pass 'prune_magnitude': option 'per_layer' needs scope \"layer\"");
  const std::optional<NamePattern> include = compile(o.include_regex, "include_regex");
  const std::optional<NamePattern> exclude = compile(o.exclude_regex, "exclude_regex");

  MagnitudePruneResult result;
  result.size_before = measureSize(model);
  model.reindex();
  std::vector<Selected> selected;
  std::set<std::string> seen;
  std::set<std::string> per_layer_matched;
  CoverageCounter coverage(model, shapes);
  static const std::set<std::string> kLayers = {"Conv", "ConvTranspose", "Gemm", "MatMul"};
  for (const auto& node : model.graph().node()) {
    const std::string stats_name = node.name().empty() && node.output_size() ? node.output(0) : node.name();
    // Only layers are worth a coverage line: an Add reading a scalar is not "left alone".
    auto skip = [&](const std::string& reason) {
      if (kLayers.count(node.op_type())) coverage.skipped(stats_name, reason);
    };
    if (std::find(o.op_types.begin(), o.op_types.end(), node.op_type()) == o.op_types.end()) {
      skip("op type not selected (op_types)");
      continue;
    }
    if (include && !include->search(node.name())) {
      skip("not matched by include_regex");
      continue;
    }
    if (exclude && exclude->search(node.name())) {
      skip(skip_reason::kExcludedByUser);
      continue;
    }
    const std::string w = weightOf(model, node);
    if (w.empty()) {
      skip(node.op_type() == "MatMul" ? "MatMul of two activations (no weight)"
                                      : skip_reason::kWeightNotConstant);
      continue;
    }
    if (!seen.insert(w).second) {  // a shared weight is pruned once; its other readers are thinned with it
      coverage.covered(stats_name);
      continue;
    }
    const int64_t n = tensorFromProto(*model.initializer(w)).numel();
    if (n < o.min_weights) {
      skip("fewer than min_weights (" + std::to_string(o.min_weights) + ") weights");
      continue;
    }
    coverage.covered(stats_name);
    Selected s;
    s.info = {node.name(), node.op_type(), w, n, 0};
    s.sparsity = o.sparsity;
    if (auto it = o.per_layer.find(node.name()); it != o.per_layer.end()) {
      s.sparsity = it->second;
      per_layer_matched.insert(it->first);
    }
    selected.push_back(s);
  }
  if (selected.empty())
    throw Error("pass 'prune_magnitude': no layer matches (op_types, include_regex '" + o.include_regex +
                "', exclude_regex '" + o.exclude_regex + "')");
  for (const auto& [name, _] : o.per_layer)
    if (!per_layer_matched.count(name))
      throw Error("pass 'prune_magnitude': per_layer names node '" + name +
                  "', which is not a selected layer");

  std::vector<Tensor> weights;
  for (const auto& s : selected) weights.push_back(tensorFromProto(*model.initializer(s.info.initializer)));

  // Which weights to zero: per layer, the k smallest |w|; globally, the k smallest over all layers. Ties
  // break by position, so the result is deterministic.
  std::vector<std::vector<uint8_t>> keep(selected.size());
  for (size_t l = 0; l < selected.size(); ++l) keep[l].assign(weights[l].numel(), 1);
  auto pruneSmallest = [&](std::vector<std::pair<size_t, int64_t>>& refs, int64_t k) {
    auto mag = [&](const std::pair<size_t, int64_t>& r) {
      return std::fabs(weights[r.first].values<float>()[static_cast<size_t>(r.second)]);
    };
    if (k <= 0) return;
    std::nth_element(refs.begin(), refs.begin() + (k - 1), refs.end(), [&](const auto& a, const auto& b) {
      const float ma = mag(a), mb = mag(b);
      return ma != mb ? ma < mb : a < b;
    });
    for (int64_t i = 0; i < k; ++i) keep[refs[i].first][static_cast<size_t>(refs[i].second)] = 0;
  };
  if (o.scope == MagnitudeScope::Layer) {
    for (size_t l = 0; l < selected.size(); ++l) {
      std::vector<std::pair<size_t, int64_t>> refs(static_cast<size_t>(weights[l].numel()));
      for (int64_t i = 0; i < weights[l].numel(); ++i) refs[static_cast<size_t>(i)] = {l, i};
      pruneSmallest(refs, prunedCount(selected[l].sparsity, weights[l].numel()));
    }
  } else {
    std::vector<std::pair<size_t, int64_t>> refs;
    for (size_t l = 0; l < selected.size(); ++l)
      for (int64_t i = 0; i < weights[l].numel(); ++i) refs.push_back({l, i});
    pruneSmallest(refs, prunedCount(o.sparsity, static_cast<int64_t>(refs.size())));
  }

  for (size_t l = 0; l < selected.size(); ++l) {
    auto values = weights[l].values<float>();
    for (size_t i = 0; i < values.size(); ++i)
      if (!keep[l][i]) values[i] = 0.0f;
    auto& info = selected[l].info;
    info.zeros = std::count(values.begin(), values.end(), 0.0f);
    *model.mutableInitializer(info.initializer) = tensorToProto(info.initializer, weights[l]);
    result.weights += info.weights;
    result.zeros += info.zeros;
    result.layers.push_back(info);
    result.masks[info.initializer] = std::move(keep[l]);
  }
  model.reindex();
  result.size_after = measureSize(model);
  result.coverage = coverage.result();
  return result;
}

void applyMasks(Model& model, const WeightMasks& masks) {
  for (const auto& [name, mask] : masks) {
    auto* init = model.mutableInitializer(name);
    if (!init) throw Error("applyMasks: model '" + model.origin() + "' has no initializer '" + name + "'");
    Tensor t = tensorFromProto(*init);
    if (t.type() != DataType::Float32 || static_cast<size_t>(t.numel()) != mask.size())
      throw Error("applyMasks: initializer '" + name + "' has " + std::to_string(t.numel()) +
                  " elements but its mask has " + std::to_string(mask.size()));
    auto v = t.values<float>();
    for (size_t i = 0; i < mask.size(); ++i)
      if (!mask[i]) v[i] = 0.0f;
    *init = tensorToProto(name, t);
  }
}

PassReport PruneMagnitudePass::apply(Model& model, PassContext& context) {
  context.throwIfCancelled();
  PassReport report;
  report.pass_name = name();
  MagnitudePruneResult r = pruneMagnitude(model, options_);
  masks_ = r.masks;
  for (const auto& l : r.layers)
    report.lines.push_back("pruned " + l.op_type + " '" + l.node + "' to " +
                           std::to_string(static_cast<int>(std::round(100 * l.sparsity()))) + "% zeros");
  for (const auto& line : r.coverage.lines("pruned")) report.lines.push_back(line);
  report.coverage = r.coverage;
  report.details = r.toJson();
  finishGraphEdit(model, name());
  return report;
}

}  // namespace edgetune
