// g(u) = indicator of u_i >= 0, whose prox is max(v, 0).
#pragma once

#include "stdlib/prox/prox.h"

namespace podm::stdlib {

class NonnegProx final : public ProxFunction {
public:
  double value(const Tensor& x) const override;
  void prox(const Tensor& v, float gamma, Tensor& out) const override;
  void vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const override;
};

ProxEntry makeNonnegEntry();

} // namespace podm::stdlib
