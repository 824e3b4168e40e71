// g(u) = sum |u_i|^p, 0 < p < 1 (nonconvex), with prox by generalized soft-thresholding.
#pragma once

#include "runtime/prox_math.h"
#include "stdlib/prox/prox.h"

namespace podm::stdlib {

class LpProx final : public ProxFunction {
public:
  explicit LpProx(double p);
  double value(const Tensor& x) const override;
  void prox(const Tensor& v, float gamma, Tensor& out) const override;
  void vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const override;

  // GST threshold: prox zeroes exactly the entries with |v| <= threshold(gamma).
  double threshold(double gamma) const;
  // The root finder stops once a step is below this fraction of the iterate.
  static constexpr double kRelativeTolerance = proxmath::kLpRelativeTolerance;
  // A-priori bound on the steps that tolerance needs (see lp.cpp); a safety cap, never reached.
  int maxIterations() const { return maxIterations_; }

private:
  double p_;
  int maxIterations_;
};

ProxEntry makeLpEntry();

// The prox's elementwise part on entries [first, last) of `in` (lp.cpp): several entries per
// vector through a branchless pow; proxmath::lpShrink is the one-entry reference.
void lpShrinkRange(const float* in, float* out, int64_t first, int64_t last,
                   const proxmath::LpShrinkage& s);

} // namespace podm::stdlib
