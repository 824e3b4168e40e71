// Projection onto [lo, hi]^n. The bounds are stored as floats so that every output lies inside
// the set value() tests, with no rounding gap between the two. The per-element math is
// runtime/prox_math.h's, shared with the CUDA kernel.
#include "stdlib/prox/box.h"

#include "runtime/prox_math.h"
#include "stdlib/prox/prox_util.h"

namespace podm::stdlib {

double BoxProx::value(const Tensor& x) const {
  detail::requireRealTensor("box", x);
  const float* data = x.data();
  bool inside = true;
  for (int64_t i = 0; i < x.numel(); ++i)
    inside &= data[i] >= lo_ && data[i] <= hi_;
  return inside ? 0.0 : detail::kInfinity;
}

void BoxProx::prox(const Tensor& v, float /*gamma: a projection does not depend on it*/,
                   Tensor& out) const {
  detail::prepareProxOutput("box", v, out);
  const float* in = v.data();
  float* result = out.data();
  const int64_t n = v.numel();
  for (int64_t i = 0; i < n; ++i)
    result[i] = proxmath::clampToBox(in[i], lo_, hi_);
}

// Identity strictly inside the box, zero where the projection clamps.
void BoxProx::vjp(const Tensor& v, float, const Tensor& dOut, Tensor& dV) const {
  detail::prepareProxVjp("box", v, dOut, dV);
  for (int64_t i = 0; i < v.numel(); ++i) {
    const float x = v.data()[i];
    dV.data()[i] = x > lo_ && x < hi_ ? dOut.data()[i] : 0.0f;
  }
}

ProxEntry makeBoxEntry() {
  return {.name = "box",
          .summary = "indicator of lo <= u_i <= hi; prox is clamping",
          .params = {{.name = "lo",
                      .defaultValue = detail::kNoDefault,
                      .required = true,
                      .min = -detail::kInfinity,
                      .max = detail::kInfinity,
                      .doc = "lower bound"},
                     {.name = "hi",
                      .defaultValue = detail::kNoDefault,
                      .required = true,
                      .min = -detail::kInfinity,
                      .max = detail::kInfinity,
                      .doc = "upper bound, hi >= lo"}},
          .traits = {.convex = true, .separable = true, .indicator = true},
          .make = [](const ProxArgs& args) -> std::unique_ptr<ProxFunction> {
            double lo = detail::argument(args, "lo");
            double hi = detail::argument(args, "hi");
            if (lo > hi)
              detail::throwBadArgument("lo = " + detail::formatNumber(lo) +
                                       " must not exceed hi = " + detail::formatNumber(hi));
            return std::make_unique<BoxProx>(static_cast<float>(lo), static_cast<float>(hi));
          },
          .lowerElementwise =
              [](ir::Builder& b, ir::ValueId v, ir::ValueId, const ProxArgs& args) {
                return b.op(
                    ir::Op::Clamp, {v},
                    {{"lo", detail::argument(args, "lo")}, {"hi", detail::argument(args, "hi")}});
              }};
}

} // namespace podm::stdlib
