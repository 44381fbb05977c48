#include "ui/knob_recipe.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/pipeline/project.h"

namespace edgetune::ui {
using nlohmann::json;

static std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + ",") {
    if (c == ',') {
      const auto a = cur.find_first_not_of(' '), b = cur.find_last_not_of(' ');
      if (a != std::string::npos) out.push_back(cur.substr(a, b - a + 1));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

std::string exactNameRegex(const std::string& name) {
  std::string out = "^";
  for (char c : name) {
    if (std::strchr("\\^$.|?*+()[]{}", c)) out += '\\';
    out += c;
  }
  return out + "$";
}

json recipeFromKnobs(const json& knobs, const std::string& dataset_spec, const PassRegistry& registry) {
  json recipe = pipeline::emptyRecipe();
  auto add = [&](const std::string& pass, json options) {
    if (registry.contains(pass))
      recipe["passes"].push_back({{"pass", pass}, {"options", std::move(options)}});
  };
  if (knobs.value("cleanup", true)) add("cleanup", json::object());
  const std::string method = knobs.value("prune_method", std::string("none"));
  const double ratio = knobs.value("prune_ratio", 0.0);
  // Per-layer table: ratio overrides, and locked groups pruned by 0 (kept whole; ids name exactly one group,
  // where a "protect" regex over member names could also catch neighbouring groups sharing a consumer).
  json per_group = json::object();
  bool any_group_pruned = false;
  if (const auto it = knobs.find("group_ratios"); it != knobs.end() && it->is_object())
    for (const auto& [id, r] : it->items()) {
      per_group[id] = r;
      any_group_pruned = any_group_pruned || r.get<double>() > 0;
    }
  if (const auto it = knobs.find("locked_groups"); it != knobs.end() && it->is_array())
    for (const auto& id : *it) per_group[id.get<std::string>()] = 0.0;
  if (method == "prune_channels" && (ratio > 0 || any_group_pruned)) {
    json o = {{"ratio", ratio}};
    if (!per_group.empty()) o["per_group"] = per_group;
    const auto protect = splitList(knobs.value("protect", std::string()));
    if (!protect.empty()) o["protect"] = protect;
    o["round_to"] = std::max<int64_t>(1, knobs.value("round_to", int64_t{8}));
    add("prune_channels", o);
  } else if (method == "prune_magnitude" && ratio > 0) {
    json o = {{"sparsity", ratio}};
    const std::string protect = knobs.value("protect", std::string());
    if (!protect.empty()) o["exclude_regex"] = protect;
    add("prune_magnitude", o);
  }
  const std::string mode = knobs.value("quant_mode", std::string("none"));
  if (mode != "none") {
    json o = {{"mode", mode}, {"per_channel", knobs.value("per_channel", true)}};
    if (mode == "static") {
      o["data"] = dataset_spec;
      o["calibration"] = knobs.value("calibration", std::string("minmax"));
      o["samples"] = knobs.value("samples", 256);
    }
    auto exclude = splitList(knobs.value("exclude", std::string()));
    // Nodes picked in the graph are kept in float by exact name (the pass matches regexes anywhere in a
    // name).
    if (const auto it = knobs.find("exclude_nodes"); it != knobs.end() && it->is_array())
      for (const auto& n : *it) exclude.push_back(exactNameRegex(n.get<std::string>()));
    if (!exclude.empty()) o["exclude_nodes"] = exclude;
    add("quantize", o);
  }
  return recipe;
}

std::string variantNameFromKnobs(const json& knobs) {
  std::string name;
  const std::string method = knobs.value("prune_method", std::string("none"));
  const double ratio = knobs.value("prune_ratio", 0.0);
  if (method != "none" && ratio > 0)
    name += (method == "prune_channels" ? "channels " : "sparse ") +
            std::to_string(static_cast<int>(std::lround(ratio * 100))) + "%";
  const bool per_layer = !knobs.value("group_ratios", json::object()).empty() ||
                         !knobs.value("locked_groups", json::array()).empty();
  if (method == "prune_channels" && per_layer) name += (name.empty() ? "channels per-layer" : " per-layer");
  const std::string mode = knobs.value("quant_mode", std::string("none"));
  if (mode != "none")
    name += (name.empty() ? "" : " + ") + (mode == "static" || mode == "dynamic" ? "int8 " + mode : mode);
  if (name.empty()) name = knobs.value("cleanup", true) ? "cleaned" : "baseline copy";
  return name;
}

json effectiveKnobs(const json& knobs) {
  json out = knobs;
  const std::string method = knobs.value("prune_method", std::string("none"));
  const bool per_layer = !knobs.value("group_ratios", json::object()).empty();
  if (method == "none" ||
      (knobs.value("prune_ratio", 0.0) <= 0 && !(method == "prune_channels" && per_layer))) {
    out["prune_method"] = "none";
    for (const char* key : {"prune_ratio", "protect", "group_ratios", "locked_groups", "round_to"})
      out.erase(key);
  } else if (method != "prune_channels") {
    for (const char* key : {"group_ratios", "locked_groups", "round_to"}) out.erase(key);
  }
  const std::string mode = knobs.value("quant_mode", std::string("none"));
  if (mode != "static") {
    out.erase("calibration");
    out.erase("samples");
  }
  if (mode == "none" || mode == "fp16") out.erase("per_channel");
  if (mode == "none") {
    out.erase("exclude");
    out.erase("exclude_nodes");
  }
  if (out.value("protect", std::string("x")).empty()) out.erase("protect");
  if (out.value("exclude", std::string("x")).empty()) out.erase("exclude");
  if (out.value("exclude_nodes", json::array({1})).empty()) out.erase("exclude_nodes");
  if (out.value("group_ratios", json::object({{"x", 1}})).empty()) out.erase("group_ratios");
  if (out.value("locked_groups", json::array({1})).empty()) out.erase("locked_groups");
  return out;
}

std::string configurationName(const json& knobs, const std::string& axis_knob) {
  const json k = effectiveKnobs(knobs);
  std::vector<std::string> parts;
  const std::string method = k.value("prune_method", std::string("none"));
  if (method == "none") {
    parts.push_back("no pruning");
  } else {
    std::string prune = method == "prune_channels" ? "channels" : "sparse";
    if (axis_knob != "prune_ratio" && k.contains("prune_ratio"))
      prune +=
          " " + std::to_string(static_cast<int>(std::lround(100 * k["prune_ratio"].get<double>()))) + "%";
    if (k.contains("group_ratios") || k.contains("locked_groups")) prune += " per-layer";
    if (k.contains("protect")) prune += " protect '" + k["protect"].get<std::string>() + "'";
    if (axis_knob != "round_to" && k.contains("round_to") && k["round_to"] != 8)
      prune += " round " + k["round_to"].dump();
    parts.push_back(prune);
  }
  const std::string mode = k.value("quant_mode", std::string("none"));
  std::string quant = mode == "none" ? "fp32" : mode == "fp16" ? "fp16" : "int8 " + mode;
  if (mode == "static") {
    quant += " " + k.value("calibration", std::string("minmax"));
    if (axis_knob != "samples") quant += " " + k.value("samples", json(256)).dump();
  }
  if (k.contains("per_channel") && !k["per_channel"].get<bool>()) quant += " per-tensor";
  if (k.contains("exclude") || k.contains("exclude_nodes")) quant += " (some layers float)";
  parts.push_back(quant);
  if (!k.value("cleanup", true)) parts.push_back("no clean-up");
  std::string name;
  for (const auto& p : parts) name += (name.empty() ? "" : ", ") + p;
  return name;
}

}  // namespace edgetune::ui
