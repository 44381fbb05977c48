// The registry of every pass EdgeTune ships: each pass family adds its register function (or its passes)
// here.
#include "core/passes/cleanup_passes.h"
#include "core/passes/prune_channels.h"
#include "core/passes/prune_magnitude.h"
#include "core/passes/quantize_passes.h"

namespace edgetune {

PassRegistry PassRegistry::withBuiltins() {
  PassRegistry registry;
  registerCleanupPasses(registry);
  registry.add("prune_magnitude", [] { return std::make_unique<PruneMagnitudePass>(); });
  registry.add("prune_channels", [] { return std::make_unique<PruneChannelsPass>(); });
  registerQuantizePasses(registry);
  return registry;
}

}  // namespace edgetune
