// Deliberately broken plugins for the plugin-loading tests; the CMake file builds this source
// once per defect, selected by a PODM_FIXTURE_* definition.
#include "stdlib/prox/prox.h"

#include <memory>
#include <stdexcept>

namespace {

class ZeroProx final : public podm::stdlib::ProxFunction {
public:
  double value(const podm::Tensor&) const override { return 0.0; }
  void prox(const podm::Tensor& v, float, podm::Tensor& out) const override {
    for (int64_t i = 0; i < v.numel(); ++i)
      out.data()[i] = v.data()[i];
  }
};

[[maybe_unused]] podm::stdlib::ProxEntry entryNamed(const char* name) {
  return {.name = name,
          .summary = "g = 0 (test fixture)",
          .params = {},
          .traits = {.convex = true, .separable = true},
          .make = [](const podm::stdlib::ProxArgs&) { return std::make_unique<ZeroProx>(); }};
}

} // namespace

#if defined(PODM_FIXTURE_UNDEFINED_SYMBOL)
// Declared, never defined anywhere: dlopen with RTLD_NOW must refuse the library.
extern "C" int podm_fixture_symbol_that_does_not_exist();
#endif

#if !defined(PODM_FIXTURE_NO_ABI)
PODM_PLUGIN_EXPORT int podm_plugin_abi_version() {
#if defined(PODM_FIXTURE_WRONG_ABI)
  return podm::stdlib::kProxPluginAbiVersion + 1;
#elif defined(PODM_FIXTURE_UNDEFINED_SYMBOL)
  return podm_fixture_symbol_that_does_not_exist();
#else
  return podm::stdlib::kProxPluginAbiVersion;
#endif
}
#endif

#if !defined(PODM_FIXTURE_NO_REGISTER)
PODM_PLUGIN_EXPORT void podm_register_prox_plugin(podm::stdlib::ProxRegistry& registry) {
#if defined(PODM_FIXTURE_DUPLICATE)
  registry.add(entryNamed("fixture_fresh_name")); // must not be added: the next one clashes
  registry.add(entryNamed("l1"));
#elif defined(PODM_FIXTURE_THROWS)
  registry.add(entryNamed("fixture_before_throw"));
  throw std::runtime_error("fixture refuses to register");
#elif defined(PODM_FIXTURE_EMPTY)
  (void)registry;
#else
  registry.add(entryNamed("fixture_zero"));
#endif
}
#endif
