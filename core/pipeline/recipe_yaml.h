#pragma once
// Recipe text <-> JSON: the iterative shape check that hostile YAML cannot get past, YAML nodes converted by
// the YAML 1.2 core schema, and the block-style writer whose output reads back to the same values. Used by
// recipe_file.cpp (recipes, step options, --set values); not a general YAML library.
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/util/error.h"

namespace edgetune::pipeline::recipe_yaml {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxValues = 1'000'000;

/// Makes the error for a problem at `node` (the caller throws it): "FILE:LINE: KEY: problem".
using Failure =
    std::function<Error(const YAML::Node& node, const std::string& key, const std::string& problem)>;

/// 1-based line of `node` in its text; 0 when unknown.
int lineOf(const YAML::Node& node);
/// "a map", "a list", "nothing (null)" or the scalar quoted: for "must be X, not Y" messages.
std::string typeName(const YAML::Node& node);
/// At most kMaxDepth levels and kMaxValues values (aliases counted each use), scalar unique keys, valid
/// UTF-8. Iterative: nothing recurses on the input's shape.
void checkShape(const YAML::Node& root, const Failure& fail);
/// A checked node as JSON: plain scalars by the core schema, quoted ones as strings.
nlohmann::json toJsonValue(const YAML::Node& node, const std::string& key, const Failure& fail);
/// Rewrites JSON's "\uD83D\uDE80" surrogate pairs into YAML's one escape (see the definition).
std::string joinSurrogateEscapes(const std::string& text);
/// What a plain (unquoted) scalar means under the YAML 1.2 core schema; `out_of_range` for integers that do
/// not fit int64.
nlohmann::json resolvePlain(const std::string& text, bool& out_of_range);

/// A JSON scalar (or empty container) as a YAML scalar that reads back to the same value.
std::string yamlScalar(const nlohmann::json& value);
/// A non-empty map or list, written as a block.
bool isBlock(const nlohmann::json& value);
/// Appends "key: value" at `indent` (a block value on the following lines).
void emitEntry(std::string& out, const std::string& key, const nlohmann::json& value, int indent,
               bool line_started);
/// Appends a block value at `indent`.
void emitBlock(std::string& out, const nlohmann::json& value, int indent, bool line_started);

}  // namespace edgetune::pipeline::recipe_yaml
