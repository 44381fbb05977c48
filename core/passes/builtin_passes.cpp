// The registry of every pass EdgeTune ships. Each pass family adds its register function here.
#include "core/passes/cleanup_passes.h"
#include "core/passes/prune_magnitude.h"
#include "core/passes/quantize_passes.h"

namespace edgetune {

PassRegistry PassRegistry::withBuiltins() {
  PassRegistry registry;
  registerCleanupPasses(registry);
  registerPrunePasses(registry);
  registerQuantizePasses(registry);
  return registry;
}

}  // namespace edgetune
