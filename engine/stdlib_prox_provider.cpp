// StdlibProxProvider: binds a stdlib ProxFunction once (argument checking and defaults by the
// registry) and applies it per call.
#include "engine/stdlib_prox_provider.h"

#include "stdlib/prox/prox.h"

#include <stdexcept>
#include <string>

namespace podm::engine {

namespace {

class BoundProx final : public ProxOperator {
public:
  BoundProx(std::string name, std::unique_ptr<stdlib::ProxFunction> fn)
      : name_(std::move(name)), fn_(std::move(fn)) {}
  void apply(const Tensor& v, float gamma, Tensor& out) const override { fn_->prox(v, gamma, out); }
  // The stdlib's messages do not know the prox's registered name; this one does.
  void vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const override {
    try {
      fn_->vjp(v, gamma, dOut, dV);
    } catch (const std::exception& e) {
      throw std::runtime_error("prox '" + name_ + "': " + e.what());
    }
  }

private:
  std::string name_;
  std::unique_ptr<stdlib::ProxFunction> fn_;
};

} // namespace

std::unique_ptr<ProxOperator> StdlibProxProvider::make(std::string_view name,
                                                       const ProxArgList& args) const {
  stdlib::ProxArgs map(args.begin(), args.end());
  return std::make_unique<BoundProx>(std::string(name), stdlib::proxRegistry().make(name, map));
}

bool StdlibProxProvider::builtin(std::string_view name) const {
  static const stdlib::ProxRegistry standard = [] {
    stdlib::ProxRegistry registry;
    stdlib::registerStandardProxes(registry);
    return registry;
  }();
  return standard.find(name) != nullptr;
}

const ProxProvider& installStdlibProxProvider() {
  static const StdlibProxProvider provider;
  setDefaultProxProvider(&provider);
  return provider;
}

} // namespace podm::engine
