// Backward rules of the learnable-parameter ops (ops.def, "Learnable parameters"): per-stage
// slices, the dense layers and activations of `mlp`, run-time filter banks and their F-step
// spectrum. Each is a composition of forward ops of the same family (place_stage, matvec_t,
// outer, elu_grad, sigmoid, filter_bank_grad, filter_spectrum_grad); second derivatives of the
// gradient-side ops are provided only where they are again such compositions.
#include "runtime/autodiff/rules/rules.h"

#include <stdexcept>

namespace podm::autodiff::rules {
namespace {

using ir::Op;

// A vector cotangent (1 x 1 x n x 1) brought to the operand's type: a scalar operand takes the
// sum, a tensor operand must have that shape (the layout the mlp lowering uses).
Value asOperand(const RuleContext& c, const Value& v, size_t operand) {
  const ir::Type& t = c.operands[operand].type;
  if (t.isScalar())
    return c.ops.reduceToScalar(v);
  if (t.dims != v.type.dims)
    throw std::runtime_error(c.where() + ": no gradient for operand " + std::to_string(operand) +
                             " of shape " + t.dims.str() + " (vectors are 1x1xNx1)");
  return v;
}

[[noreturn]] void noSecondOrder(const RuleContext& c, size_t operand) {
  throw std::runtime_error(c.where() + ": no gradient with respect to operand " +
                           std::to_string(operand) + " of a gradient-side op (second order)");
}

} // namespace

void pickStage(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    d[0] = c.ops.run(Op::PlaceStage, {c.dOutput}, {{"n", c.operands[0].type.dims.n}}, c.stage);
}

void placeStage(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    d[0] = c.ops.run(Op::PickStage, {c.dOutput}, {}, c.stage);
}

// y = W x: dW = dy x', dx = W' dy.
void matvec(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    d[0] = c.ops.run(Op::Outer, {c.dOutput, c.operands[1]});
  if (c.wanted(1))
    d[1] = asOperand(c, c.ops.run(Op::MatvecT, {c.operands[0], c.dOutput}), 1);
}

// z = W' y: dW = y dz', dy = W dz.
void matvecT(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    d[0] = c.ops.run(Op::Outer, {c.operands[1], c.dOutput});
  if (c.wanted(1))
    d[1] = asOperand(c, c.ops.run(Op::Matvec, {c.operands[0], c.dOutput}), 1);
}

// P = a b': da = dP b, db = dP' a.
void outer(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    d[0] = asOperand(c, c.ops.run(Op::Matvec, {c.dOutput, c.operands[1]}), 0);
  if (c.wanted(1))
    d[1] = asOperand(c, c.ops.run(Op::MatvecT, {c.dOutput, c.operands[0]}), 1);
}

void elu(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    d[0] = c.ops.run(Op::EluGrad, {c.operands[0], c.dOutput});
}

// elu_grad(a, g) is linear in g; its derivative in a would need elu''.
void eluGrad(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    noSecondOrder(c, 0);
  if (c.wanted(1))
    d[1] =
        c.ops.toOperandType(c.ops.run(Op::EluGrad, {c.operands[0], c.dOutput}), c.operands[1].type);
}

void softplus(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    d[0] = c.ops.run(Op::Mul, {c.dOutput, c.ops.run(Op::Sigmoid, {c.operands[0]})});
}

// sigmoid' = s (1 - s), from the recorded output.
void sigmoid(const RuleContext& c, std::vector<Value>& d) {
  if (!c.wanted(0))
    return;
  const Value oneMinus = c.ops.run(Op::Sub, {OpRunner::scalar(1.f), c.output});
  d[0] = c.ops.run(Op::Mul, {c.dOutput, c.ops.run(Op::Mul, {c.output, oneMinus})});
}

// y = B_F x: dx = B_F' dy, dF = filter_bank_grad(x, dy).
void filterBank(const RuleContext& c, std::vector<Value>& d) {
  const Value& f = c.operands[1];
  if (c.wanted(0))
    d[0] = c.ops.run(Op::FilterBankAdjoint, {c.dOutput, f});
  if (c.wanted(1))
    d[1] = c.ops.run(Op::FilterBankGrad, {c.operands[0], c.dOutput}, {{"size", f.type.dims.h}});
}

// z = B_F' y: dy = B_F dz; <B_F' y, dz> = <y, B_F dz>, so dF = filter_bank_grad(dz, y).
void filterBankAdjoint(const RuleContext& c, std::vector<Value>& d) {
  const Value& f = c.operands[1];
  if (c.wanted(0))
    d[0] = c.ops.run(Op::FilterBank, {c.dOutput, f});
  if (c.wanted(1))
    d[1] = c.ops.run(Op::FilterBankGrad, {c.dOutput, c.operands[0]}, {{"size", f.type.dims.h}});
}

// G = filter_bank_grad(x, y) is bilinear with <G, dG> = <y, B_dG x>.
void filterBankGrad(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    d[0] = c.ops.run(Op::FilterBankAdjoint, {c.operands[1], c.dOutput});
  if (c.wanted(1))
    d[1] = c.ops.run(Op::FilterBank, {c.operands[0], c.dOutput});
}

void filterSpectrum(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    d[0] = c.ops.run(Op::FilterSpectrumGrad, {c.operands[0], c.dOutput}, c.node().attrs);
}

} // namespace podm::autodiff::rules
