// Backward rules of the stage-loop control ops. The optimality check of PODM (Eq. 5) selects one
// branch per stage; its derivative goes through the branch taken, and neither the condition nor
// the comparisons computing it get a gradient (they are piecewise constant).
#include "runtime/autodiff/rules/rules.h"

namespace podm::autodiff::rules {

void select(const RuleContext& c, std::vector<Value>& d) {
  // The condition is one scalar for the whole value; the tape holds it on the host.
  const bool first = c.operands[0].tensor.data()[0] != 0.f;
  const size_t taken = first ? 1 : 2;
  if (c.wanted(taken))
    d[taken] = c.dOutput;
}

void comparison(const RuleContext&, std::vector<Value>&) {
}

void monitor(const RuleContext& c, std::vector<Value>& d) {
  d[0] = c.dOutput;
}

} // namespace podm::autodiff::rules
