#pragma once
// The tuning panel's knob state (see TuningPanel::knobs) translated into a pass recipe and a variant name.
#include <nlohmann/json.hpp>

#include <string>

#include "core/passes/pass.h"

namespace edgetune::ui {

/// Builds the recipe for a knob state (see TuningPanel::knobs for the fields); `dataset_spec` feeds static
/// quantization's calibration. Passes the registry does not know are left out.
nlohmann::json recipeFromKnobs(const nlohmann::json& knobs, const std::string& dataset_spec,
                               const PassRegistry& registry);
/// A regex matching exactly `name` (anchored, metacharacters escaped): how nodes picked in the graph become
/// the quantize pass's exclude_nodes entries.
std::string exactNameRegex(const std::string& name);
/// A short variant name for a knob state ("prune 30% + int8 static").
std::string variantNameFromKnobs(const nlohmann::json& knobs);
/// The knob state without the knobs that have no effect given the others (the ratio when nothing is pruned,
/// the calibration when quantization is not static, ...): two states with equal effective knobs build the
/// same recipe, so the live chart draws them as one configuration.
nlohmann::json effectiveKnobs(const nlohmann::json& knobs);
/// A short legend name for the configuration of a knob state with `axis_knob` left out (the chart's x axis
/// shows it): "channels + int8 static minmax" on the pruning-ratio axis, "no pruning, fp32" for the base.
std::string configurationName(const nlohmann::json& knobs, const std::string& axis_knob);

}  // namespace edgetune::ui
