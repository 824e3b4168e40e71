// The process-default network provider and the weight-path list encoding of `network` nodes.
#include "runtime/network_provider.h"

#include <stdexcept>

namespace podm {
namespace {
const NetworkProvider* gDefault = nullptr;
}

void setDefaultNetworkProvider(const NetworkProvider* provider) {
  gDefault = provider;
}
const NetworkProvider* defaultNetworkProvider() {
  return gDefault;
}

ParameterList NetworkOperator::parameters(int64_t) {
  throw std::runtime_error("this network is bound to fixed weights and cannot be trained");
}

void NetworkOperator::backward(const Tensor&, int64_t, const Tensor&, Tensor&) {
  throw std::runtime_error("this network is bound to fixed weights and cannot be trained");
}

NetworkDescription NetworkOperator::describe() {
  NetworkDescription d;
  d.unavailable = "this network operator does not describe its layers";
  return d;
}

} // namespace podm
