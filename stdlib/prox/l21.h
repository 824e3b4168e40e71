// Group l2,1 norm with groups along the channel dimension: g(u) = sum over (n, y, x) of
// ||u[n, :, y, x]||_2. Its prox shrinks each pixel's channel vector towards 0 by gamma in norm.
#pragma once

#include "stdlib/prox/prox.h"

namespace podm::stdlib {

class L21Prox final : public ProxFunction {
public:
  double value(const Tensor& x) const override;
  void prox(const Tensor& v, float gamma, Tensor& out) const override;
  void vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const override;
};

ProxEntry makeL21Entry();

} // namespace podm::stdlib
