// The runtime's prox hook (runtime/prox_provider.h) served by the stdlib prox registry, plugins
// included: `prox` nodes of a lowered graph bind stdlib prox functions through it.
#pragma once

#include "runtime/prox_provider.h"

namespace podm::engine {

class StdlibProxProvider final : public ProxProvider {
public:
  std::unique_ptr<ProxOperator> make(std::string_view name, const ProxArgList& args) const override;
  // True for the names stdlib::registerStandardProxes registers (the registry refuses a plugin of
  // the same name, so such a name always binds the built-in); false for plugins.
  bool builtin(std::string_view name) const override;
};

// A process-lifetime provider, installed as the runtime default on first call.
const ProxProvider& installStdlibProxProvider();

} // namespace podm::engine
