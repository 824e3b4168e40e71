// StdlibProxProvider: binds a stdlib ProxFunction once (argument checking and defaults by the
// registry) and applies it per call.
#include "cli/stdlib_prox_provider.h"

#include "stdlib/prox/prox.h"

namespace podm::cli {

namespace {

class BoundProx final : public ProxOperator {
public:
  explicit BoundProx(std::unique_ptr<stdlib::ProxFunction> fn) : fn_(std::move(fn)) {}
  void apply(const Tensor& v, float gamma, Tensor& out) const override { fn_->prox(v, gamma, out); }

private:
  std::unique_ptr<stdlib::ProxFunction> fn_;
};

} // namespace

std::unique_ptr<ProxOperator> StdlibProxProvider::make(std::string_view name,
                                                       const ProxArgList& args) const {
  stdlib::ProxArgs map(args.begin(), args.end());
  return std::make_unique<BoundProx>(stdlib::proxRegistry().make(name, map));
}

const ProxProvider& installStdlibProxProvider() {
  static const StdlibProxProvider provider;
  setDefaultProxProvider(&provider);
  return provider;
}

} // namespace podm::cli
