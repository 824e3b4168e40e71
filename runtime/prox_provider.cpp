// The process-default prox provider.
#include "runtime/prox_provider.h"

#include <stdexcept>

namespace podm {
namespace {
const ProxProvider* gDefault = nullptr;
}

void setDefaultProxProvider(const ProxProvider* provider) {
  gDefault = provider;
}
const ProxProvider* defaultProxProvider() {
  return gDefault;
}

void ProxOperator::vjp(const Tensor&, float, const Tensor&, Tensor&) const {
  throw std::runtime_error("this prox function has no derivative rule, so it cannot be trained "
                           "through");
}

} // namespace podm
