// grad: forward finite differences (C channels in, 2C out), the D of total-variation priors.
#include "stdlib/linop/ops.h"
#include "stdlib/linop/registry.h"

#include <stdexcept>

namespace podm::stdlib {

GradOperator::GradOperator(numerics::DiffBoundary boundary) : boundary_(boundary) {
}

Shape GradOperator::outputShape(const Shape& in) const {
  checkPositiveShape(name(), in);
  return {in.n, 2 * in.c, in.h, in.w};
}

Shape GradOperator::inputShape(const Shape& out) const {
  checkPositiveShape(name(), out);
  if (out.c % 2 != 0)
    throw std::invalid_argument("grad: the gradient side needs an even channel count (dx, dy per "
                                "channel), got " +
                                out.str());
  return {out.n, out.c / 2, out.h, out.w};
}

LinopStructure GradOperator::structure() const {
  LinopStructure s;
  s.circulant = boundary_ == numerics::DiffBoundary::Periodic;
  return s;
}

void GradOperator::apply(const Tensor& x, Tensor& y) const {
  checkOperand(name(), "input", x, x.shape());
  checkOperand(name(), "output", y, outputShape(x.shape()));
  const Shape& s = x.shape();
  numerics::gradient(x.data(), y.data(), planesOf(s), s.h, s.w, boundary_);
}

void GradOperator::adjoint(const Tensor& y, Tensor& x) const {
  checkOperand(name(), "adjoint input", y, y.shape());
  checkOperand(name(), "adjoint output", x, inputShape(y.shape()));
  const Shape& s = x.shape();
  numerics::gradientAdjoint(y.data(), x.data(), planesOf(s), s.h, s.w, boundary_);
}

LinopEntry gradLinopEntry() {
  LinopEntry e;
  e.name = "grad";
  e.summary = "forward differences d/dx, d/dy (2 channels per input channel)";
  e.params = {LinopParam::text("boundary", "neumann", false,
                               "neumann (zero difference at the last row/column) or periodic")
                  .oneOf({"neumann", "periodic"})};
  e.shape = LinopShape::Gradient;
  e.traits.circulant = Circulance::WhenPeriodic;
  e.lower = [](const LinopApplication& a) {
    return a.b.op(a.adjoint ? ir::Op::FdGradAdjoint : ir::Op::FdGrad, {a.x},
                  {{"boundary", a.args.strings.at("boundary")}});
  };
  e.make = [](const LinopArgs& args) -> LinopPtr {
    const std::string& text = args.strings.at("boundary");
    if (text == "neumann")
      return std::make_shared<GradOperator>(numerics::DiffBoundary::Neumann);
    if (text == "periodic")
      return std::make_shared<GradOperator>(numerics::DiffBoundary::Periodic);
    throw std::invalid_argument("grad: boundary must be neumann or periodic, got '" + text + "'");
  };
  return e;
}

} // namespace podm::stdlib
