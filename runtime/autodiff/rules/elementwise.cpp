// Backward rules of the elementwise ops. Contributions are computed in the result's domain and
// brought to each operand's type (real part for a real operand of a complex result, summed for a
// broadcast scalar). Piecewise ops use the derivative almost everywhere: abs and sign at 0, max
// and min at ties (split evenly), clamp at its bounds (zero) are measure-zero choices.
#include "runtime/autodiff/rules/rules.h"

namespace podm::autodiff::rules {
namespace {

using ir::Op;

// Sets operand i's contribution from a result-domain value when the operand wants one.
void give(const RuleContext& c, std::vector<Value>& d, size_t i, const Value& contribution) {
  if (c.wanted(i))
    d[i] = c.ops.toOperandType(contribution, c.operands[i].type);
}

// 1 where a > b, 0 where a < b, 1/2 at ties (an f32 value of the broadcast shape).
Value greater(const RuleContext& c, const Value& a, const Value& b) {
  OpRunner& o = c.ops;
  Value s = o.run(Op::Sign, {o.run(Op::Sub, {a, b})});
  return o.run(Op::Scale, {o.run(Op::Add, {s, OpRunner::scalar(1.f)})}, {{"alpha", 0.5}});
}

} // namespace

void add(const RuleContext& c, std::vector<Value>& d) {
  give(c, d, 0, c.dOutput);
  give(c, d, 1, c.dOutput);
}

void sub(const RuleContext& c, std::vector<Value>& d) {
  give(c, d, 0, c.dOutput);
  if (c.wanted(1))
    give(c, d, 1, c.ops.run(Op::Neg, {c.dOutput}));
}

void mul(const RuleContext& c, std::vector<Value>& d) {
  OpRunner& o = c.ops;
  const Value &a = c.operands[0], &b = c.operands[1];
  if (c.wanted(0))
    give(c, d, 0, o.run(Op::Mul, {c.dOutput, o.conjIfComplex(b)}));
  if (c.wanted(1))
    give(c, d, 1, o.run(Op::Mul, {c.dOutput, o.conjIfComplex(a)}));
}

// o = a / b: da = dOut / conj(b), db = -da * conj(o).
void div(const RuleContext& c, std::vector<Value>& d) {
  OpRunner& o = c.ops;
  Value da = o.run(Op::Div, {c.dOutput, o.conjIfComplex(c.operands[1])});
  give(c, d, 0, da);
  if (c.wanted(1))
    give(c, d, 1, o.run(Op::Neg, {o.run(Op::Mul, {da, o.conjIfComplex(c.output)})}));
}

void neg(const RuleContext& c, std::vector<Value>& d) {
  give(c, d, 0, c.ops.run(Op::Neg, {c.dOutput}));
}

void scale(const RuleContext& c, std::vector<Value>& d) {
  give(c, d, 0, c.ops.run(Op::Scale, {c.dOutput}, c.node().attrs));
}

// o = a x + b y with scalars a, b.
void axpby(const RuleContext& c, std::vector<Value>& d) {
  OpRunner& o = c.ops;
  const auto& v = c.operands;
  if (c.wanted(0))
    d[0] = o.inner(v[1], c.dOutput);
  if (c.wanted(1))
    give(c, d, 1, o.run(Op::Mul, {v[0], c.dOutput}));
  if (c.wanted(2))
    d[2] = o.inner(v[3], c.dOutput);
  if (c.wanted(3))
    give(c, d, 3, o.run(Op::Mul, {v[2], c.dOutput}));
}

// o = a b + c (real).
void fma(const RuleContext& c, std::vector<Value>& d) {
  OpRunner& o = c.ops;
  if (c.wanted(0))
    give(c, d, 0, o.run(Op::Mul, {c.dOutput, c.operands[1]}));
  if (c.wanted(1))
    give(c, d, 1, o.run(Op::Mul, {c.dOutput, c.operands[0]}));
  give(c, d, 2, c.dOutput);
}

void abs(const RuleContext& c, std::vector<Value>& d) {
  give(c, d, 0, c.ops.run(Op::Mul, {c.dOutput, c.ops.run(Op::Sign, {c.operands[0]})}));
}

// Piecewise constant: zero derivative almost everywhere, so no contribution.
void sign(const RuleContext&, std::vector<Value>&) {
}

void max(const RuleContext& c, std::vector<Value>& d) {
  OpRunner& o = c.ops;
  Value toA = o.run(Op::Mul, {c.dOutput, greater(c, c.operands[0], c.operands[1])});
  give(c, d, 0, toA);
  if (c.wanted(1))
    give(c, d, 1, o.run(Op::Sub, {c.dOutput, toA}));
}

void min(const RuleContext& c, std::vector<Value>& d) {
  OpRunner& o = c.ops;
  Value toA = o.run(Op::Mul, {c.dOutput, greater(c, c.operands[1], c.operands[0])});
  give(c, d, 0, toA);
  if (c.wanted(1))
    give(c, d, 1, o.run(Op::Sub, {c.dOutput, toA}));
}

// Passes the cotangent where lo < a < hi, i.e. where the output equals the input.
void clamp(const RuleContext& c, std::vector<Value>& d) {
  OpRunner& o = c.ops;
  Value moved = o.run(Op::Abs, {o.run(Op::Sign, {o.run(Op::Sub, {c.operands[0], c.output})})});
  Value inside = o.run(Op::Sub, {OpRunner::scalar(1.f), moved});
  give(c, d, 0, o.run(Op::Mul, {c.dOutput, inside}));
}

void sqrt(const RuleContext& c, std::vector<Value>& d) {
  OpRunner& o = c.ops;
  Value half = o.run(Op::Scale, {c.dOutput}, {{"alpha", 0.5}});
  give(c, d, 0, o.run(Op::Div, {half, c.output}));
}

void exp(const RuleContext& c, std::vector<Value>& d) {
  give(c, d, 0, c.ops.run(Op::Mul, {c.dOutput, c.output}));
}

void log(const RuleContext& c, std::vector<Value>& d) {
  give(c, d, 0, c.ops.run(Op::Div, {c.dOutput, c.operands[0]}));
}

} // namespace podm::autodiff::rules
