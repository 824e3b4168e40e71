// g(u) = ||u||_0 (number of nonzeros), whose prox is hard-thresholding at sqrt(2 gamma).
#pragma once

#include "stdlib/prox/prox.h"

namespace podm::stdlib {

class L0Prox final : public ProxFunction {
public:
  double value(const Tensor& x) const override;
  void prox(const Tensor& v, float gamma, Tensor& out) const override;
  void vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const override;
};

ProxEntry makeL0Entry();

} // namespace podm::stdlib
