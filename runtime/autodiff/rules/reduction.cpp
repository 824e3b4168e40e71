// Backward rules of the reductions to one scalar: the scalar cotangent broadcasts back.
#include "runtime/autodiff/rules/rules.h"

#include <stdexcept>

namespace podm::autodiff::rules {

using ir::Op;

void dot(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    d[0] = c.ops.run(Op::Mul, {c.dOutput, c.operands[1]});
  if (c.wanted(1))
    d[1] = c.ops.run(Op::Mul, {c.dOutput, c.operands[0]});
}

void sum(const RuleContext& c, std::vector<Value>& d) {
  d[0] = c.ops.run(Op::Add, {OpRunner::filled(c.operands[0].type, 0.f), c.dOutput});
}

// sum |a|^2: 2 dOut a (packed for c64).
void norm2sq(const RuleContext& c, std::vector<Value>& d) {
  Value g = c.ops.run(Op::Mul, {c.dOutput, c.operands[0]});
  d[0] = c.ops.run(Op::Scale, {g}, {{"alpha", 2.0}});
}

// max |a|: the cotangent goes to the entries attaining the maximum, times their sign (every
// attaining entry gets it in full; ties are a measure-zero event for real data).
void maxabs(const RuleContext& c, std::vector<Value>& d) {
  OpRunner& o = c.ops;
  const Value& a = c.operands[0];
  if (a.type.isComplexTensor())
    throw std::runtime_error(c.where() + ": no backward rule for maxabs of a c64 tensor");
  Value attained =
      o.run(Op::Add, {o.run(Op::Sign, {o.run(Op::Sub, {o.run(Op::Abs, {a}), c.output})}),
                      OpRunner::scalar(1.f)});
  Value dir = o.run(Op::Mul, {o.run(Op::Sign, {a}), attained});
  d[0] = o.run(Op::Mul, {dir, c.dOutput});
}

} // namespace podm::autodiff::rules
