// Loading user prox functions from shared libraries (`podm --plugin lib.so`). A plugin exports
//   extern "C" int  podm_plugin_abi_version();   // returns podm::stdlib::kProxPluginAbiVersion
//   extern "C" void podm_register_prox_plugin(podm::stdlib::ProxRegistry&);
// and is built against the same podm headers and C++ standard library as the host. The host
// executable must export its symbols (CMake: ENABLE_EXPORTS ON) so the plugin can call
// ProxRegistry::add and use Tensor.
#pragma once

#include "stdlib/prox/prox.h"

#include <string>

namespace podm::stdlib {

inline constexpr const char* kPluginRegisterSymbol = "podm_register_prox_plugin";
inline constexpr const char* kPluginAbiSymbol = "podm_plugin_abi_version";

// Loads the plugin at `path` and adds its proxes to `registry`. All or nothing: on any failure
// (file missing, not a shared library, unresolved symbols, missing entry points, ABI mismatch, a
// name already registered, registration throwing, no prox registered) nothing is added, `error`
// says what went wrong and how to fix it, and false is returned. A loaded library stays loaded
// for the life of the process, because the registry holds code from it.
bool loadProxPlugin(const std::string& path, ProxRegistry& registry, std::string& error);

} // namespace podm::stdlib
