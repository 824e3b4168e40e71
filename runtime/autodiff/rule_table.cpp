// The backward-rule table: one line per op. Ops absent here have no rule, and a backward pass
// that reaches one throws naming the op and the node (tape.cpp). The gradient-check suite
// (tests/runtime/autodiff/) holds one row per line here and fails when the two differ.
#include "ir/builder.h"
#include "runtime/autodiff/rule.h"
#include "runtime/autodiff/rules/rules.h"

#include <stdexcept>

namespace podm::autodiff {

void registerRules(RuleTable& t) {
  using ir::Op;
  // elementwise.cpp
  t.add(Op::Add, rules::add);
  t.add(Op::Sub, rules::sub);
  t.add(Op::Mul, rules::mul);
  t.add(Op::Div, rules::div);
  t.add(Op::Neg, rules::neg);
  t.add(Op::Scale, rules::scale);
  t.add(Op::Axpby, rules::axpby);
  t.add(Op::Fma, rules::fma);
  t.add(Op::Abs, rules::abs);
  t.add(Op::Sign, rules::sign);
  t.add(Op::Max, rules::max);
  t.add(Op::Min, rules::min);
  t.add(Op::Clamp, rules::clamp);
  t.add(Op::Sqrt, rules::sqrt);
  t.add(Op::Exp, rules::exp);
  t.add(Op::Log, rules::log);
  // control.cpp
  t.add(Op::Le, rules::comparison);
  t.add(Op::Lt, rules::comparison);
  t.add(Op::Select, rules::select);
  t.add(Op::Monitor, rules::monitor);
  // spectral.cpp
  t.add(Op::Conj, rules::conj);
  t.add(Op::Real, rules::real);
  t.add(Op::Abs2, rules::abs2);
  t.add(Op::Rfft2, rules::rfft2);
  t.add(Op::Irfft2, rules::irfft2);
  // reduction.cpp
  t.add(Op::Dot, rules::dot);
  t.add(Op::Sum, rules::sum);
  t.add(Op::Norm2Sq, rules::norm2sq);
  t.add(Op::MaxAbs, rules::maxabs);
  // linop.cpp
  t.add(Op::Conv2d, rules::conv2d);
  t.add(Op::Conv2dAdjoint, rules::conv2d);
  t.add(Op::Pad2d, rules::linearByAdjoint);
  t.add(Op::Pad2dAdjoint, rules::linearByAdjoint);
  t.add(Op::Decimate, rules::linearByAdjoint);
  t.add(Op::UpsampleZero, rules::linearByAdjoint);
  t.add(Op::ResizeBicubic, rules::resize);
  t.add(Op::ResizeBicubicAdjoint, rules::resize);
  t.add(Op::Haar, rules::linearByAdjoint);
  t.add(Op::HaarInv, rules::linearByAdjoint);
  t.add(Op::Dct2, rules::linearByAdjoint);
  t.add(Op::Idct2, rules::linearByAdjoint);
  t.add(Op::FdGrad, rules::linearByAdjoint);
  t.add(Op::FdGradAdjoint, rules::linearByAdjoint);
  t.add(Op::Mask, rules::mask);
  t.add(Op::DctFilters, rules::linearByAdjoint);
  t.add(Op::DctFiltersAdjoint, rules::linearByAdjoint);
  // prox.cpp, network.cpp
  t.add(Op::Prox, rules::prox);
  t.add(Op::Network, rules::network);
  // learnable.cpp
  t.add(Op::PickStage, rules::pickStage);
  t.add(Op::PlaceStage, rules::placeStage);
  t.add(Op::Matvec, rules::matvec);
  t.add(Op::MatvecT, rules::matvecT);
  t.add(Op::Outer, rules::outer);
  t.add(Op::Elu, rules::elu);
  t.add(Op::EluGrad, rules::eluGrad);
  t.add(Op::Softplus, rules::softplus);
  t.add(Op::Sigmoid, rules::sigmoid);
  t.add(Op::FilterBank, rules::filterBank);
  t.add(Op::FilterBankAdjoint, rules::filterBankAdjoint);
  t.add(Op::FilterBankGrad, rules::filterBankGrad);
  t.add(Op::FilterSpectrum, rules::filterSpectrum);
}

void RuleTable::add(ir::Op op, BackwardRule rule) {
  BackwardRule& slot = rules_[static_cast<size_t>(op)];
  if (slot)
    throw std::logic_error("autodiff: two backward rules for " + std::string(ir::opName(op)));
  slot = rule;
}

std::vector<ir::Op> RuleTable::ops() const {
  std::vector<ir::Op> out;
  for (size_t i = 0; i < rules_.size(); ++i)
    if (rules_[i])
      out.push_back(static_cast<ir::Op>(i));
  return out;
}

const RuleTable& ruleTable() {
  static const RuleTable table = [] {
    RuleTable t;
    registerRules(t);
    return t;
  }();
  return table;
}

std::string RuleContext::where() const {
  return ir::describeNode(id.index, node().op, node().label);
}

} // namespace podm::autodiff
