// haar(levels): orthonormal multi-level 2-D Haar wavelet transform (W of the sparse-coding model).
#include "numerics/haar.h"

#include "stdlib/linop/ops.h"
#include "stdlib/linop/registry.h"

#include <stdexcept>

namespace podm::stdlib {

HaarOperator::HaarOperator(int levels) : levels_(levels) {
  if (levels < 1 || levels > 30)
    throw std::invalid_argument("haar: levels must be between 1 and 30, got " +
                                std::to_string(levels));
}

Shape HaarOperator::outputShape(const Shape& in) const {
  checkPositiveShape(name(), in);
  numerics::checkHaarSize(in.h, in.w, levels_);
  return in;
}

void HaarOperator::apply(const Tensor& x, Tensor& y) const {
  checkOperand(name(), "input", x, x.shape());
  checkOperand(name(), "output", y, outputShape(x.shape()));
  const Shape& s = x.shape();
  numerics::haarForward(x.data(), y.data(), planesOf(s), s.h, s.w, levels_);
}

void HaarOperator::adjoint(const Tensor& y, Tensor& x) const {
  checkOperand(name(), "adjoint input", y, y.shape());
  checkOperand(name(), "adjoint output", x, outputShape(y.shape()));
  const Shape& s = y.shape();
  numerics::haarInverse(y.data(), x.data(), planesOf(s), s.h, s.w, levels_);
}

LinopEntry haarLinopEntry() {
  LinopEntry e = declareLinop(
      "haar", "orthonormal 2-D Haar wavelet transform; H and W divisible by 2^levels",
      {LinopParam("levels", 1.0, false, "number of decomposition levels").whole(1, 16)},
      [](const LinopArgs& args) -> LinopPtr {
        return std::make_shared<HaarOperator>(
            static_cast<int>(integerArg(args, "haar", "levels", 1, 30)));
      });
  e.traits.orthogonal = true;
  e.lower = [](const LinopApplication& a) {
    return a.b.op(a.adjoint ? ir::Op::HaarInv : ir::Op::Haar, {a.x},
                  {{"levels", static_cast<int64_t>(a.args.numbers.at("levels"))}});
  };
  return e;
}

} // namespace podm::stdlib
