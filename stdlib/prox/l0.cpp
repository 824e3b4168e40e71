// Hard-thresholding: keeping v_i costs 1, zeroing it costs v_i^2/(2 gamma), so v_i survives when
// v_i^2 > 2 gamma. Comparing squares avoids the sqrt and keeps the loop branch-free. The
// per-element math is runtime/prox_math.h's, shared with the CUDA kernel.
#include "stdlib/prox/l0.h"

#include "runtime/prox_math.h"
#include "stdlib/prox/prox_util.h"

namespace podm::stdlib {

double L0Prox::value(const Tensor& x) const {
  detail::requireRealTensor("l0", x);
  const float* data = x.data();
  int64_t nonzeros = 0;
  for (int64_t i = 0; i < x.numel(); ++i)
    nonzeros += data[i] != 0.0f;
  return static_cast<double>(nonzeros);
}

void L0Prox::prox(const Tensor& v, float gamma, Tensor& out) const {
  detail::prepareProxOutput("l0", v, out);
  const float cutoffSquared = proxmath::l0CutoffSquared(gamma);
  const float* in = v.data();
  float* result = out.data();
  const int64_t n = v.numel();
  for (int64_t i = 0; i < n; ++i)
    result[i] = proxmath::hardThreshold(in[i], cutoffSquared);
}

// Identity on the kept entries, zero on the zeroed ones.
void L0Prox::vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const {
  detail::prepareProxVjp("l0", v, dOut, dV);
  Tensor out;
  prox(v, gamma, out);
  for (int64_t i = 0; i < v.numel(); ++i)
    dV.data()[i] = out.data()[i] != 0.0f ? dOut.data()[i] : 0.0f;
}

ProxEntry makeL0Entry() {
  return {.name = "l0",
          .summary = "number of nonzeros ||u||_0; prox is hard-thresholding at sqrt(2 gamma)",
          .params = {},
          .traits = {.convex = false, .separable = true},
          .make = [](const ProxArgs&) { return std::make_unique<L0Prox>(); }};
}

} // namespace podm::stdlib
