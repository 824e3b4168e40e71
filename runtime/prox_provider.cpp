// The process-default prox provider.
#include "runtime/prox_provider.h"

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

} // namespace podm
