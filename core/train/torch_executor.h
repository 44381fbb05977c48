#pragma once
// The libtorch interpreter behind the Executor interface, and questions about it that need no torch headers.
#include <memory>
#include <string>
#include <vector>

#include "core/ir/model.h"
#include "core/runtime/executor.h"

namespace edgetune {

struct TorchExecutorOptions {
  int threads = 0;  // > 0: set libtorch's intra-op thread count (a process-wide setting); 0 leaves it as is
};

/// Runs `model` with the libtorch interpreter in eval mode without gradients (same contract as
/// makeOrtExecutor). Throws Error naming the first node the interpreter cannot run.
std::unique_ptr<Executor> makeTorchExecutor(const Model& model, const TorchExecutorOptions& options = {});

/// Operator types in `model` the training engine cannot run (empty if it can train the model).
std::vector<std::string> torchUnsupportedOps(const Model& model);

/// Sets libtorch's intra-op thread count for the whole process (the machine has few cores: set it
/// explicitly).
void setTorchThreads(int threads);
int torchThreads();

}  // namespace edgetune
