// The composite prior of PODM Sec. 5.2: sparse vectors whose nonzero entries lie in [lo, hi],
// with prox HardThre(Proj_[lo,hi](v)). Two variants:
//  - count s:     g = indicator of Omega = {||u||_0 <= s, u_i in {0} u [lo, hi]} (per sample n);
//  - threshold t: g = indicator of {u_i in {0} u [lo, hi]} + (t^2/2) ||u||_0, separable; at
//                 gamma = 1 it zeroes entries whose projection has magnitude below t.
#pragma once

#include "stdlib/prox/prox.h"

#include <cstdint>

namespace podm::stdlib {

class HardThreBoxProx final : public ProxFunction {
public:
  // Keep at most `count` entries of each sample (the exact projection onto Omega).
  static HardThreBoxProx withCount(float lo, float hi, int64_t count);
  // l0 penalty t^2/2 per nonzero on top of the box constraint.
  static HardThreBoxProx withThreshold(float lo, float hi, float threshold);

  double value(const Tensor& x) const override;
  void prox(const Tensor& v, float gamma, Tensor& out) const override;
  void vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const override;
  std::optional<ProxTraits> boundTraits() const override;

private:
  HardThreBoxProx(float lo, float hi, int64_t count, float threshold)
      : lo_(lo), hi_(hi), count_(count), threshold_(threshold) {}
  bool usesCount() const { return count_ >= 0; }
  void proxWithCount(const Tensor& v, Tensor& out) const;
  void proxWithThreshold(const Tensor& v, float gamma, Tensor& out) const;

  float lo_, hi_;
  int64_t count_;   // -1 in the threshold variant
  float threshold_; // unused in the count variant
};

ProxEntry makeHardThreBoxEntry();

} // namespace podm::stdlib
