// mask(m): pointwise multiplication (sampling patterns for inpainting / compressed sensing).
#include "numerics/mask.h"

#include "numerics/elementwise.h"
#include "stdlib/linop/ops.h"
#include "stdlib/linop/registry.h"

#include <cmath>
#include <stdexcept>

namespace podm::stdlib {

MaskOperator::MaskOperator(Tensor mask) : mask_(std::move(mask)) {
  if (mask_.empty() || mask_.dtype() != DType::F32 || mask_.numel() == 0)
    throw std::invalid_argument("mask: the mask must be a non-empty f32 tensor");
  for (int64_t i = 0; i < mask_.numel(); ++i)
    if (!std::isfinite(mask_.data()[i]))
      throw std::invalid_argument("mask: the mask has a non-finite entry");
  mask_ = mask_.clone();
}

Shape MaskOperator::outputShape(const Shape& in) const {
  checkPositiveShape(name(), in);
  const Shape& m = mask_.shape();
  bool broadcast = m.n * m.c == 1 && m.h == in.h && m.w == in.w;
  if (!broadcast && m != in)
    throw std::invalid_argument("mask: a " + m.str() + " mask cannot multiply a " + in.str() +
                                " image (it must be one HxW plane or match the image exactly)");
  return in;
}

void MaskOperator::apply(const Tensor& x, Tensor& y) const {
  checkOperand(name(), "input", x, x.shape());
  checkOperand(name(), "output", y, outputShape(x.shape()));
  const Shape& s = x.shape();
  if (mask_.shape() == s)
    numerics::mul(x.data(), mask_.data(), y.data(), x.numel());
  else
    numerics::applyMask(x.data(), mask_.data(), y.data(), planesOf(s), s.plane());
}

LinopEntry maskLinopEntry() {
  LinopEntry e = declareLinop(
      "mask",
      "pointwise product with m (one HxW plane broadcast over channels, or the image shape)",
      {LinopParam::tensor("m", "the mask tensor")}, [](const LinopArgs& args) -> LinopPtr {
        return std::make_shared<MaskOperator>(args.tensors.at("m"));
      });
  e.traits.diagonal = true;
  e.lower = [](const LinopApplication& a) { // self-adjoint
    return a.b.op(ir::Op::Mask, {a.x, a.args.tensors.at("m")});
  };
  return e;
}

} // namespace podm::stdlib
