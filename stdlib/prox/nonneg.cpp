// Projection onto the nonnegative orthant. The per-element math is runtime/prox_math.h's, shared
// with the CUDA kernel.
#include "stdlib/prox/nonneg.h"

#include "runtime/prox_math.h"
#include "stdlib/prox/prox_util.h"

namespace podm::stdlib {

double NonnegProx::value(const Tensor& x) const {
  detail::requireRealTensor("nonneg", x);
  const float* data = x.data();
  bool inside = true;
  for (int64_t i = 0; i < x.numel(); ++i)
    inside &= data[i] >= 0.0f;
  return inside ? 0.0 : detail::kInfinity;
}

void NonnegProx::prox(const Tensor& v, float /*gamma: a projection does not depend on it*/,
                      Tensor& out) const {
  detail::prepareProxOutput("nonneg", v, out);
  const float* in = v.data();
  float* result = out.data();
  const int64_t n = v.numel();
  for (int64_t i = 0; i < n; ++i)
    result[i] = proxmath::nonnegative(in[i]);
}

// Identity on the positive entries, zero on the clamped ones.
void NonnegProx::vjp(const Tensor& v, float, const Tensor& dOut, Tensor& dV) const {
  detail::prepareProxVjp("nonneg", v, dOut, dV);
  for (int64_t i = 0; i < v.numel(); ++i)
    dV.data()[i] = v.data()[i] > 0.0f ? dOut.data()[i] : 0.0f;
}

ProxEntry makeNonnegEntry() {
  return {.name = "nonneg",
          .summary = "indicator of u_i >= 0; prox is max(v, 0)",
          .params = {},
          .traits = {.convex = true, .separable = true, .indicator = true},
          .make = [](const ProxArgs&) { return std::make_unique<NonnegProx>(); },
          .lowerElementwise =
              [](ir::Builder& b, ir::ValueId v, ir::ValueId, const ProxArgs&) {
                return b.op(ir::Op::Max, {v, b.scalar(0.f)});
              }};
}

} // namespace podm::stdlib
