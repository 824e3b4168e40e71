// Soft-thresholding: prox_{gamma |.|}(v) = sign(v) max(|v| - gamma, 0), written branch-free so the
// loop vectorizes. The per-element math is runtime/prox_math.h's, shared with the CUDA kernel.
#include "stdlib/prox/l1.h"

#include "runtime/prox_math.h"
#include "stdlib/prox/prox_util.h"

#include <cmath>

namespace podm::stdlib {

double L1Prox::value(const Tensor& x) const {
  detail::requireRealTensor("l1", x);
  const float* data = x.data();
  double sum = 0;
  for (int64_t i = 0; i < x.numel(); ++i)
    sum += std::fabs(data[i]);
  return sum;
}

void L1Prox::prox(const Tensor& v, float gamma, Tensor& out) const {
  detail::prepareProxOutput("l1", v, out);
  const float* in = v.data();
  float* result = out.data();
  const int64_t n = v.numel();
  for (int64_t i = 0; i < n; ++i)
    result[i] = proxmath::softThreshold(in[i], gamma);
}

// Identity where |v| > gamma (the shrunk entries), zero inside the dead zone.
void L1Prox::vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const {
  detail::prepareProxVjp("l1", v, dOut, dV);
  for (int64_t i = 0; i < v.numel(); ++i)
    dV.data()[i] = std::fabs(v.data()[i]) > gamma ? dOut.data()[i] : 0.0f;
}

ProxEntry makeL1Entry() {
  return {.name = "l1",
          .summary = "l1 norm sum |u_i|; prox is soft-thresholding at gamma",
          .params = {},
          .traits = {.convex = true, .separable = true},
          .make = [](const ProxArgs&) { return std::make_unique<L1Prox>(); },
          // Soft thresholding sign(v) max(|v| - gamma, 0), as L1Prox::prox computes it.
          .lowerElementwise =
              [](ir::Builder& b, ir::ValueId v, ir::ValueId gamma, const ProxArgs&) {
                ir::ValueId shrunk =
                    b.op(ir::Op::Max,
                         {b.op(ir::Op::Sub, {b.op(ir::Op::Abs, {v}), gamma}), b.scalar(0.f)});
                return b.op(ir::Op::Mul, {b.op(ir::Op::Sign, {v}), shrunk});
              }};
}

} // namespace podm::stdlib
