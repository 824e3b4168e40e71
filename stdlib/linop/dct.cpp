// dct: orthonormal 2-D DCT-II of every plane (the transform of the authors' l_p super-resolution).
#include "numerics/dct.h"

#include "stdlib/linop/ops.h"
#include "stdlib/linop/registry.h"

namespace podm::stdlib {

Shape DctOperator::outputShape(const Shape& in) const {
  checkPositiveShape(name(), in);
  return in;
}

void DctOperator::apply(const Tensor& x, Tensor& y) const {
  checkOperand(name(), "input", x, x.shape());
  checkOperand(name(), "output", y, outputShape(x.shape()));
  const Shape& s = x.shape();
  numerics::dctForward(x.data(), y.data(), planesOf(s), s.h, s.w);
}

void DctOperator::adjoint(const Tensor& y, Tensor& x) const {
  checkOperand(name(), "adjoint input", y, y.shape());
  checkOperand(name(), "adjoint output", x, outputShape(y.shape()));
  const Shape& s = y.shape();
  numerics::dctInverse(y.data(), x.data(), planesOf(s), s.h, s.w);
}

LinopEntry dctLinopEntry() {
  LinopEntry e =
      declareLinop("dct", "orthonormal 2-D DCT-II of each channel (MATLAB dct2)", {},
                   [](const LinopArgs&) -> LinopPtr { return std::make_shared<DctOperator>(); });
  e.traits.orthogonal = true;
  e.lower = [](const LinopApplication& a) {
    return a.b.op(a.adjoint ? ir::Op::Idct2 : ir::Op::Dct2, {a.x});
  };
  return e;
}

} // namespace podm::stdlib
