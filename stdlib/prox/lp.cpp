// Generalized soft-thresholding (GST; Zuo, Meng, Zhang, Feng, Zhang, ICCV 2013) for
//   min_u |u|^p + 1/(2 gamma) (u - v)^2,   0 < p < 1.
// The global minimiser is 0 when |v| <= tau and sign(v) S otherwise, with GST's exact threshold
//   tau = (2 gamma (1-p))^{1/(2-p)} + gamma p (2 gamma (1-p))^{(p-1)/(2-p)}
// and S the larger root of h'(S) = S - |v| + gamma p S^{p-1} = 0 (GST's fixed-point equation
// S = |v| - gamma p S^{p-1}).
// The root: GST iterates the fixed-point map from S_0 = |v|. For |v| > tau the root satisfies
// S >= S_tau = (2 gamma (1-p))^{1/(2-p)}, where the map's slope gamma p (1-p) S^{p-2} is at most
// p/2, so the iteration contracts by p/2 per step. We take Newton steps on the same equation from
// the same start instead: h' is convex and increasing from the root to |v|, so Newton decreases
// monotonically to the root, never overshoots, contracts at least as fast (by 1 - h''(S) <= p/2)
// and converges quadratically near it: with e the error and d the step just taken,
// e_next <= h'''/(2 h'') e^2 <= p/(2 S_tau) e^2 and e <= d / (1 - p/2), so e_next <= 2 p d^2 /
// S_tau. Stopping: when that bound is below 1e-8 S (under f32 resolution), typically after 2-4
// steps instead of GST's 10-30 fixed-point steps (each costs a pow). The initial error is at most
// p/(2(1-p)) S, so (p/2)^k p/(2(1-p)) <= 1e-8 also bounds the steps a priori (maxIterations():
// 23 for p = 0.8, 34 for p = 0.99), a safety cap the loop does not reach.
// The threshold, the step bound and the per-element Newton iteration are runtime/prox_math.h's,
// shared with the CUDA kernel.
#include "stdlib/prox/lp.h"

#include "numerics/branchless_math.h"
#include "numerics/parallel.h"
#include "numerics/vector_clones.h"
#include "stdlib/prox/prox_util.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace podm::stdlib {

namespace {

constexpr int64_t kLanes = 8;

// proxmath::lpShrink on kLanes entries at once: the same Newton steps from the same start with the
// same stopping rule, each lane frozen once its rule holds, S^{p-1} from the branchless pow
// (numerics/branchless_math.h, about 1e-15 relative) instead of libm's, so the lanes run as one
// vector loop. The root moves by about 1e-15 relative, far below the 1e-8 the rule stops at and
// the float it is rounded to: the result is libm's float but where the root lies within that of a
// float's rounding boundary (tests/stdlib/prox/lp_block_test.cpp counts them).
PODM_VECTOR_CLONES void shrinkLanes(const float* in, float* out, const proxmath::LpShrinkage& s) {
  // Lane masks are all-ones or zero integers, applied with bit operations: GCC keeps a select of
  // doubles (or a conditional floating-point operation) a branch, which would stop the vector loop.
  double magnitude[kLanes], root[kLanes];
  uint64_t live[kLanes];
  for (int64_t l = 0; l < kLanes; ++l) {
    magnitude[l] = std::fabs(static_cast<double>(in[l]));
    live[l] = magnitude[l] > s.tau ? ~uint64_t{0} : 0;
    // A dead lane iterates harmlessly from 1.
    root[l] = std::bit_cast<double>((std::bit_cast<uint64_t>(magnitude[l]) & live[l]) |
                                    (std::bit_cast<uint64_t>(1.0) & ~live[l]));
  }
  for (int k = 0; k < s.maxIterations; ++k) {
    for (int64_t l = 0; l < kLanes; ++l) {
      const double power = numerics::powPositive(root[l], s.exponent); // S^{p-1}
      const double slope = root[l] - magnitude[l] + s.gammaP * power;
      const double curvature = 1.0 + s.gammaP * s.exponent * power / root[l];
      const double step = slope / curvature;
      const double next = root[l] - step;
      root[l] = std::bit_cast<double>((std::bit_cast<uint64_t>(next) & live[l]) |
                                      (std::bit_cast<uint64_t>(root[l]) & ~live[l]));
      const uint64_t going =
          step * step * s.quadraticFactor <= proxmath::kLpRelativeTolerance * next ? 0
                                                                                   : ~uint64_t{0};
      live[l] &= going;
    }
    uint64_t anyLive = 0;
    for (int64_t l = 0; l < kLanes; ++l)
      anyLive |= live[l];
    if (anyLive == 0)
      break;
  }
  for (int64_t l = 0; l < kLanes; ++l) {
    const float shrunk = std::copysign(static_cast<float>(root[l]), in[l]);
    const uint32_t keep = magnitude[l] > s.tau ? 0xffffffffu : 0u; // +0 at or below tau
    out[l] = std::bit_cast<float>(std::bit_cast<uint32_t>(shrunk) & keep);
  }
}

// Whether every entry is finite (the lanes' pow takes positive normal doubles; an infinite or NaN
// entry goes through proxmath::lpShrink, which keeps IEEE semantics).
bool allFinite(const float* in, int64_t n) {
  uint32_t special = 0;
  for (int64_t i = 0; i < n; ++i)
    special |= (std::bit_cast<uint32_t>(in[i]) & 0x7f800000u) == 0x7f800000u ? 1u : 0u;
  return special == 0;
}

} // namespace

// Entries [first, last) of the prox: kLanes at a time through shrinkLanes, the tail and any block
// with a non-finite entry through proxmath::lpShrink.
void lpShrinkRange(const float* in, float* out, int64_t first, int64_t last,
                   const proxmath::LpShrinkage& s) {
  // The lanes' pow needs S above the smallest normal double; GST's roots are at least
  // (2 gamma (1-p))^{1/(2-p)}, so only an absurdly small gamma falls back.
  const bool lanes = s.tau > 1e-290;
  int64_t i = first;
  for (; lanes && i + kLanes <= last; i += kLanes) {
    if (allFinite(in + i, kLanes)) {
      shrinkLanes(in + i, out + i, s);
    } else {
      for (int64_t l = 0; l < kLanes; ++l)
        out[i + l] = proxmath::lpShrink(in[i + l], s);
    }
  }
  for (; i < last; ++i)
    out[i] = proxmath::lpShrink(in[i], s);
}

LpProx::LpProx(double p) : p_(p), maxIterations_(proxmath::lpIterationBound(p)) {
}

double LpProx::threshold(double gamma) const {
  return proxmath::lpThreshold(p_, gamma);
}

double LpProx::value(const Tensor& x) const {
  detail::requireRealTensor("lp", x);
  const float* data = x.data();
  double sum = 0;
  for (int64_t i = 0; i < x.numel(); ++i)
    sum += std::pow(std::fabs(static_cast<double>(data[i])), p_);
  return sum;
}

void LpProx::prox(const Tensor& v, float gamma, Tensor& out) const {
  detail::prepareProxOutput("lp", v, out);
  // Per call: the threshold and the error bound of a Newton step (2 p d^2 / S_tau, see above).
  const proxmath::LpShrinkage shrinkage = proxmath::lpShrinkage(p_, gamma, maxIterations_);
  const float* in = v.data();
  float* result = out.data();
  const int64_t n = v.numel();
  // A few Newton steps with a pow each per entry above the threshold: compute-bound, so on the
  // cores an FFT of the plane would use. The entries above the threshold cluster (a DCT's low
  // frequencies sit in one corner), so threads take interleaved blocks rather than one band each;
  // every entry is computed alone, so the result does not depend on the split.
  constexpr int64_t kBlock = 4096;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  const int64_t threads = std::min<int64_t>(numerics::fftThreadsFor(n), blocks);
  numerics::parallelRows(threads, n, [&](int64_t first, int64_t last) { // one "row" per thread
    for (int64_t t = first; t < last; ++t)
      for (int64_t b = t; b < blocks; b += threads)
        lpShrinkRange(in, result, b * kBlock, std::min(n, (b + 1) * kBlock), shrinkage);
  });
}

// Where the prox is nonzero, u solves u - v + gamma p |u|^(p-1) sign(u) = 0, so by the implicit
// function theorem du/dv = 1 / (1 + gamma p (p-1) |u|^(p-2)) (positive beyond the threshold);
// entries at or below the threshold are zero with zero derivative.
void LpProx::vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const {
  detail::prepareProxVjp("lp", v, dOut, dV);
  Tensor out;
  prox(v, gamma, out);
  const double gpp = static_cast<double>(gamma) * p_ * (p_ - 1);
  for (int64_t i = 0; i < v.numel(); ++i) {
    const double u = std::fabs(static_cast<double>(out.data()[i]));
    dV.data()[i] =
        u > 0 ? static_cast<float>(dOut.data()[i] / (1.0 + gpp * std::pow(u, p_ - 2))) : 0.0f;
  }
}

ProxEntry makeLpEntry() {
  return {.name = "lp",
          .summary = "sum |u_i|^p, 0<p<1; prox by generalized soft-thresholding (exact threshold, "
                     "Newton on the GST equation to relative step 1e-8)",
          .params = {{.name = "p",
                      .defaultValue = detail::kNoDefault,
                      .required = true,
                      .min = 0,
                      .max = 1,
                      .doc = "exponent, 0 < p < 1"}},
          .traits = {.convex = false, .separable = true},
          .make = [](const ProxArgs& args) -> std::unique_ptr<ProxFunction> {
            double p = detail::argument(args, "p");
            if (p <= 0 || p >= 1)
              detail::throwBadArgument("p must lie strictly between 0 and 1 (got " +
                                       detail::formatNumber(p) +
                                       "); use l1 for p = 1 and l0 for p = 0");
            return std::make_unique<LpProx>(p);
          }};
}

} // namespace podm::stdlib
