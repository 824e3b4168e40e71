// g(u) = indicator of the box lo <= u_i <= hi, whose prox is the projection (clamping).
#pragma once

#include "stdlib/prox/prox.h"

namespace podm::stdlib {

class BoxProx final : public ProxFunction {
public:
  BoxProx(float lo, float hi) : lo_(lo), hi_(hi) {}
  double value(const Tensor& x) const override;
  void prox(const Tensor& v, float gamma, Tensor& out) const override;
  void vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const override;

private:
  float lo_, hi_;
};

ProxEntry makeBoxEntry();

} // namespace podm::stdlib
