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

std::string joinWeightPaths(const std::vector<std::string>& paths) {
  std::string out;
  for (size_t i = 0; i < paths.size(); ++i)
    out += (i ? "\n" : "") + paths[i];
  return out;
}

std::vector<std::string> splitWeightPaths(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t end = joined.find('\n', start);
    if (end == std::string::npos)
      end = joined.size();
    if (end > start)
      out.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

} // namespace podm
