// The registry of every pass EdgeTune ships. Each pass family adds its register function here.
#include "core/passes/cleanup_passes.h"

namespace edgetune {

PassRegistry PassRegistry::withBuiltins() {
  PassRegistry registry;
  registerCleanupPasses(registry);
  return registry;
}

}  // namespace edgetune
