// Backward rule of prox nodes: the bound prox's derivative (ProxOperator::vjp, almost everywhere
// for the standard proxes). gamma is a step size fixed by the model or a schedule, and run-time
// arguments (box bounds computed from an input) are data: gradients with respect to them are not
// available, and a rule asked for one throws.
#include "runtime/autodiff/rules/rules.h"
#include "runtime/prox_provider.h"

#include <stdexcept>

namespace podm::autodiff::rules {

void prox(const RuleContext& c, std::vector<Value>& d) {
  if (!c.prox)
    throw std::logic_error(c.where() + ": prox node without a bound prox");
  if (c.wanted(1))
    throw std::runtime_error(c.where() + ": no gradient with respect to the prox step gamma");
  for (size_t i = 2; i < c.operands.size(); ++i)
    if (c.wanted(i))
      throw std::runtime_error(c.where() + ": no gradient with respect to the prox's run-time " +
                               "argument " + std::to_string(i - 2) +
                               " (list the inputs it is computed from in TapeOptions::noGradient)");
  const float gamma = c.operands[1].tensor.data()[0];
  Value dv{Tensor(c.operands[0].tensor.shape()), c.operands[0].type};
  try {
    c.prox->vjp(c.operands[0].tensor, gamma, c.dOutput.tensor, dv.tensor);
  } catch (const std::exception& e) {
    throw std::runtime_error(c.where() + ": " + e.what());
  }
  d[0] = std::move(dv);
}

} // namespace podm::autodiff::rules
