#pragma once
// The clean-up passes (one per .cpp): what exporters leave behind that no runtime needs.
#include <cstdint>

#include "core/passes/pass.h"

namespace edgetune {

// ---------------------------------------------------------------------------------------------------------
struct RemoveIdentityOptions {
  bool identity = true;  // remove Identity nodes
  bool dropout = true;   // remove inference-mode Dropout nodes (mask output unused)
};
void to_json(nlohmann::json& j, const RemoveIdentityOptions& o);
void readOptions(OptionsReader& r, RemoveIdentityOptions& o);

/// Removes Identity and inference Dropout nodes, rewiring their consumers; graph output names stay the same.
class RemoveIdentityPass final : public PassWithOptions<RemoveIdentityOptions> {
 public:
  using PassWithOptions::PassWithOptions;
  std::string name() const override { return "remove_identity"; }
  PassReport apply(Model& model, PassContext& context) override;
};

// ---------------------------------------------------------------------------------------------------------
struct FoldConstantsOptions {
  int64_t max_folded_bytes = 16 * 1024 * 1024;  // results larger than this stay computed at run time
  bool constant_nodes = true;                   // turn Constant nodes into initializers
  bool subgraphs = true;                        // evaluate nodes whose inputs are all constants
};
void to_json(nlohmann::json& j, const FoldConstantsOptions& o);
void readOptions(OptionsReader& r, FoldConstantsOptions& o);

/// Turns Constant nodes into initializers and evaluates constant subgraphs (in an Executor) into
/// initializers. Never folds random ops, nodes with subgraphs, custom-domain ops, Identity/Dropout
/// (remove_identity's job) or anything producing a graph output.
class FoldConstantsPass final : public PassWithOptions<FoldConstantsOptions> {
 public:
  using PassWithOptions::PassWithOptions;
  std::string name() const override { return "fold_constants"; }
  PassReport apply(Model& model, PassContext& context) override;
};

// ---------------------------------------------------------------------------------------------------------
struct FoldShapesOptions {
  bool known_values = true;       // int64 values ONNX's data propagation knows completely become constants
  bool reshape_copy_dims = true;  // symbolic Reshape entries equal to the input's dimension there become 0
  int max_rounds = 64;  // fold, evaluate the arithmetic it exposed, infer again; until nothing changes
};
void to_json(nlohmann::json& j, const FoldShapesOptions& o);
void readOptions(OptionsReader& r, FoldShapesOptions& o);

/// Folds the run-time shape arithmetic of exports (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) using
/// ONNX's symbolic data propagation; output-preserving for every input size the graph accepts.
class FoldShapesPass final : public PassWithOptions<FoldShapesOptions> {
 public:
  using PassWithOptions::PassWithOptions;
  std::string name() const override { return "fold_shapes"; }
  PassReport apply(Model& model, PassContext& context) override;
};

// ---------------------------------------------------------------------------------------------------------
struct FoldBatchNormOptions {
  bool conv = true;  // BatchNormalization after Conv
  bool gemm = true;  // BatchNormalization after Gemm (either transB)
};
void to_json(nlohmann::json& j, const FoldBatchNormOptions& o);
void readOptions(OptionsReader& r, FoldBatchNormOptions& o);

/// Folds inference BatchNormalization into the preceding Conv or Gemm when nothing else reads that output
/// and the weights are float32 initializers.
class FoldBatchNormPass final : public PassWithOptions<FoldBatchNormOptions> {
 public:
  using PassWithOptions::PassWithOptions;
  std::string name() const override { return "fold_batchnorm"; }
  PassReport apply(Model& model, PassContext& context) override;
};

// ---------------------------------------------------------------------------------------------------------
struct EliminateDeadOptions {
  bool nodes = true;         // nodes that do not contribute to any graph output
  bool initializers = true;  // initializers no node reads
};
void to_json(nlohmann::json& j, const EliminateDeadOptions& o);
void readOptions(OptionsReader& r, EliminateDeadOptions& o);

/// Drops nodes that contribute to no graph output and initializers nothing reads. Graph inputs stay.
class EliminateDeadPass final : public PassWithOptions<EliminateDeadOptions> {
 public:
  using PassWithOptions::PassWithOptions;
  std::string name() const override { return "eliminate_dead"; }
  PassReport apply(Model& model, PassContext& context) override;
};

// ---------------------------------------------------------------------------------------------------------
struct DeduplicateInitializersOptions {
  int64_t min_bytes = 0;  // only merge initializers at least this large
};
void to_json(nlohmann::json& j, const DeduplicateInitializersOptions& o);
void readOptions(OptionsReader& r, DeduplicateInitializersOptions& o);

/// Merges initializers with the same type, shape and bytes into one, rewiring their readers.
class DeduplicateInitializersPass final : public PassWithOptions<DeduplicateInitializersOptions> {
 public:
  using PassWithOptions::PassWithOptions;
  std::string name() const override { return "deduplicate_initializers"; }
  PassReport apply(Model& model, PassContext& context) override;
};

// ---------------------------------------------------------------------------------------------------------
struct CleanupOptions {
  int max_rounds = 8;  // the pipeline repeats until nothing changes or this many rounds ran
  bool fold_constants = true;
  bool fold_shapes = true;  // shape arithmetic of dynamic-batch exports
  bool fold_batchnorm = true;
  bool deduplicate = true;  // merge equal initializers (off on the way in: it changes parameter counts)
  int64_t max_folded_bytes = 16 * 1024 * 1024;
};
void to_json(nlohmann::json& j, const CleanupOptions& o);
void readOptions(OptionsReader& r, CleanupOptions& o);

/// The clean-up pipeline: fold_constants, fold_shapes, remove_identity, fold_batchnorm,
/// deduplicate_initializers, eliminate_dead, repeated to a fixed point.
class CleanupPass final : public PassWithOptions<CleanupOptions> {
 public:
  using PassWithOptions::PassWithOptions;
  std::string name() const override { return "cleanup"; }
  PassReport apply(Model& model, PassContext& context) override;
};

/// Registers every pass declared above under its name().
void registerCleanupPasses(PassRegistry& registry);

}  // namespace edgetune
