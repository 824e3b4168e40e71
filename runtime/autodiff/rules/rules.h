// The backward rules, declared by family; each family's file defines them and rule_table.cpp
// registers them, one line per op. See rule.h for the conventions every rule follows.
#pragma once

#include "runtime/autodiff/rule.h"

namespace podm::autodiff::rules {

// elementwise.cpp: arithmetic on f32 / c64 tensors and scalars (broadcast scalars get summed
// cotangents)
void add(const RuleContext&, std::vector<Value>&);
void sub(const RuleContext&, std::vector<Value>&);
void mul(const RuleContext&, std::vector<Value>&);
void div(const RuleContext&, std::vector<Value>&);
void neg(const RuleContext&, std::vector<Value>&);
void scale(const RuleContext&, std::vector<Value>&);
void axpby(const RuleContext&, std::vector<Value>&);
void fma(const RuleContext&, std::vector<Value>&);
void abs(const RuleContext&, std::vector<Value>&);
void sign(const RuleContext&, std::vector<Value>&);
void max(const RuleContext&, std::vector<Value>&);
void min(const RuleContext&, std::vector<Value>&);
void clamp(const RuleContext&, std::vector<Value>&);
void sqrt(const RuleContext&, std::vector<Value>&);
void exp(const RuleContext&, std::vector<Value>&);
void log(const RuleContext&, std::vector<Value>&);

// spectral.cpp: complex spectra and the half-spectrum FFTs (real-linear adjoints)
void conj(const RuleContext&, std::vector<Value>&);
void real(const RuleContext&, std::vector<Value>&);
void abs2(const RuleContext&, std::vector<Value>&);
void rfft2(const RuleContext&, std::vector<Value>&);
void irfft2(const RuleContext&, std::vector<Value>&);

// reduction.cpp
void dot(const RuleContext&, std::vector<Value>&);
void sum(const RuleContext&, std::vector<Value>&);
void norm2sq(const RuleContext&, std::vector<Value>&);
void maxabs(const RuleContext&, std::vector<Value>&);

// linop.cpp: linear operators through their adjoint op (ops.def's adjoint column)
void linearByAdjoint(const RuleContext&, std::vector<Value>&);
void conv2d(const RuleContext&, std::vector<Value>&); // also the kernel operand
void mask(const RuleContext&, std::vector<Value>&);   // also the mask operand
void resize(const RuleContext&, std::vector<Value>&); // adjoint with the forward's input size

// control.cpp: the optimality check (through the branch taken), comparisons, monitors
void select(const RuleContext&, std::vector<Value>&);
void comparison(const RuleContext&, std::vector<Value>&);
void monitor(const RuleContext&, std::vector<Value>&);

// prox.cpp (ProxOperator::vjp) and network.cpp (NetworkOperator::backward)
void prox(const RuleContext&, std::vector<Value>&);
void network(const RuleContext&, std::vector<Value>&);

// learnable.cpp: the ops of learnable parameters (param-derived values, MLPs, filter banks)
void pickStage(const RuleContext&, std::vector<Value>&);
void placeStage(const RuleContext&, std::vector<Value>&);
void matvec(const RuleContext&, std::vector<Value>&);
void matvecT(const RuleContext&, std::vector<Value>&);
void outer(const RuleContext&, std::vector<Value>&);
void elu(const RuleContext&, std::vector<Value>&);
void eluGrad(const RuleContext&, std::vector<Value>&);
void softplus(const RuleContext&, std::vector<Value>&);
void sigmoid(const RuleContext&, std::vector<Value>&);
void filterBank(const RuleContext&, std::vector<Value>&);
void filterBankAdjoint(const RuleContext&, std::vector<Value>&);
void filterBankGrad(const RuleContext&, std::vector<Value>&);
void filterSpectrum(const RuleContext&, std::vector<Value>&);

} // namespace podm::autodiff::rules
