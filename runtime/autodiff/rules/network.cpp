// Backward rule of network nodes: NetworkOperator::backward recomputes stage l's forward pass on
// the recorded input, adds the weight gradients to the network's Parameters and returns the input
// cotangent. The tape calls it once per evaluation, most recent stage first.
#include "runtime/autodiff/rules/rules.h"
#include "runtime/network_provider.h"

#include <stdexcept>

namespace podm::autodiff::rules {

void network(const RuleContext& c, std::vector<Value>& d) {
  if (!c.network)
    throw std::logic_error(c.where() + ": network node without a bound network");
  Value din{Tensor(c.operands[0].tensor.shape()), c.operands[0].type};
  try {
    c.network->backward(c.operands[0].tensor, c.stage < 0 ? 0 : c.stage, c.dOutput.tensor,
                        din.tensor);
  } catch (const std::exception& e) {
    throw std::runtime_error(c.where() + ": " + e.what());
  }
  if (c.wanted(0))
    d[0] = std::move(din);
}

} // namespace podm::autodiff::rules
