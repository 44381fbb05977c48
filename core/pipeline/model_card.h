#pragma once
// The model card: what an exported variant is (its baseline, dataset, recipe and measured metrics), written
// beside the ONNX file as <stem>.card.json (machines) and <stem>.card.md (people). The deploy step uploads
// a card found beside a model (core/deploy/deploy.h).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "core/ir/model.h"
#include "core/pipeline/project.h"

namespace edgetune::pipeline {

/// Saves `model` as ONNX at `onnx_path` with its model card beside it (`<stem>.card.json`, `<stem>.card.md`).
/// Refuses to overwrite the baseline's own file. Returns the card JSON.
nlohmann::json exportVariant(const Model& model, const Variant& variant, const std::string& baseline_source,
                             const std::string& dataset_spec, const std::filesystem::path& onnx_path);

/// The model card as Markdown (what exportVariant writes).
std::string modelCardMarkdown(const nlohmann::json& card);

}  // namespace edgetune::pipeline
