// g(u) = ||u||_1, whose prox is soft-thresholding at gamma.
#pragma once

#include "stdlib/prox/prox.h"

namespace podm::stdlib {

class L1Prox final : public ProxFunction {
public:
  double value(const Tensor& x) const override;
  void prox(const Tensor& v, float gamma, Tensor& out) const override;
  void vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const override;
};

ProxEntry makeL1Entry();

} // namespace podm::stdlib
