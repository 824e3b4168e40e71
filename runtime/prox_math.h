// The scalar math of the standard library's built-in prox functions, written once for both
// backends: the CPU implementations (stdlib/prox/*.cpp) and the CUDA kernels (runtime/cuda/prox.cu)
// call these functions per element, per channel group and per FGP step, so the stdlib's property
// tests, which run on every machine, check the arithmetic the GPU runs. Plain C++17 for nvcc;
// PODM_HD (runtime/elementwise_math.h) makes them __host__ __device__ there.
//
// Each function reproduces the expression the CPU loop computed before it moved here, operand
// order and comparison forms included (`x < lo ? lo : x` is std::max(x, lo), NaNs included), so the
// CPU results are unchanged bit for bit. Products that feed a sum go through mulRn: nvcc would
// fuse them into one fma (one rounding instead of two) while the host's baseline x86-64 has no
// fma, so without it the device's TV iterates would drift from the host's in the last bits.
#pragma once

#include "runtime/elementwise_math.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace podm::proxmath {

// A product rounded on its own, never fused with the add that consumes it.
PODM_HD inline float mulRn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
PODM_HD inline double mulRn(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

// std::max and std::min on floats, NaN rules included: the standard defines max(a, b) as
// a < b ? b : a and min(a, b) as b < a ? b : a, which the device evaluates as written. The host
// calls std::max / std::min themselves, whose reference form GCC turns into maxps / minps inside
// vectorized loops (the select form costs a blend of compares there).
PODM_HD inline float maxOf(float a, float b) {
#ifdef __CUDA_ARCH__
  return a < b ? b : a;
#else
  return std::max(a, b);
#endif
}
PODM_HD inline float minOf(float a, float b) {
#ifdef __CUDA_ARCH__
  return b < a ? b : a;
#else
  return std::min(a, b);
#endif
}

// Projection onto [lo, hi]: min(max(x, lo), hi); an infinite bound leaves x (NaN too).
PODM_HD inline float clampToBox(float x, float lo, float hi) {
  return minOf(maxOf(x, lo), hi);
}

// ---- l1: soft thresholding sign(x) max(|x| - gamma, 0).
PODM_HD inline float softThreshold(float x, float gamma) {
  return copysignf(maxOf(fabsf(x) - gamma, 0.0f), x);
}

// ---- l0: hard thresholding; x survives when x^2 > 2 gamma (squares: no sqrt, branch-free).
PODM_HD inline float l0CutoffSquared(float gamma) {
  return 2.0f * gamma;
}
PODM_HD inline float hardThreshold(float x, float cutoffSquared) {
  return x * x > cutoffSquared ? x : 0.0f;
}

// ---- nonneg: max(x, 0).
PODM_HD inline float nonnegative(float x) {
  return maxOf(x, 0.0f);
}

// ---- hardthre_box: choosing clamped = clamp(x, lo, hi) instead of 0 lowers (u - x)^2 by
// clamped (2x - clamped) (stdlib/prox/hardthre_box.cpp explains both variants).
PODM_HD inline float hardThreBoxGain(float x, float clamped) {
  return mulRn(clamped, mulRn(2.0f, x) - clamped);
}
// Threshold variant: keep when the gain reaches gamma t^2 (and is positive).
PODM_HD inline float hardThreBoxMinimumGain(float gamma, float threshold) {
  return gamma * threshold * threshold;
}
PODM_HD inline float hardThreBoxWithThreshold(float x, float lo, float hi, float minimumGain) {
  const float clamped = clampToBox(x, lo, hi);
  const float gain = hardThreBoxGain(x, clamped);
  return gain >= minimumGain && gain > 0.0f ? clamped : 0.0f;
}
// Count variant: the gain an entry is ranked by; a NaN (which would break the ordering) ranks last.
PODM_HD inline float hardThreBoxRankingGain(float x, float lo, float hi) {
  const float gain = hardThreBoxGain(x, clampToBox(x, lo, hi));
  return gain != gain ? -INFINITY : gain;
}
// Count variant: with `cutoff` the s-th largest ranking gain of the sample, an entry is kept when
// its gain is positive and above the cutoff; those at the cutoff are kept in index order until s
// survive.
PODM_HD inline bool hardThreBoxAboveCutoff(float gain, float cutoff) {
  return gain > 0.0f && gain > cutoff;
}
PODM_HD inline bool hardThreBoxAtCutoff(float gain, float cutoff) {
  return gain > 0.0f && gain == cutoff;
}
// Count variant, once the ranking has decided `keep`: a NaN input is passed on, never kept.
PODM_HD inline float hardThreBoxRankedOutput(float x, float lo, float hi, bool keep) {
  const float clamped = clampToBox(x, lo, hi);
  return keep || x != x ? clamped : 0.0f;
}

// Count variant on the device: the count-th largest ranking gain by radix select, over keys that
// order like the gains (-0 as +0, which it equals; NaN never gets here), one byte per pass from
// the most significant.
PODM_HD inline uint32_t gainKey(float gain) {
  const float canonical = gain == 0.0f ? 0.0f : gain;
#ifdef __CUDA_ARCH__
  const uint32_t bits = __float_as_uint(canonical);
#else
  uint32_t bits;
  std::memcpy(&bits, &canonical, sizeof bits);
#endif
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}
PODM_HD inline float keyGain(uint32_t key) {
  const uint32_t bits = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
#ifdef __CUDA_ARCH__
  return __uint_as_float(bits);
#else
  float gain;
  std::memcpy(&gain, &bits, sizeof gain);
  return gain;
#endif
}
// One pass: histogram[b] counts the entries whose key has byte b in this pass's position and the
// bytes chosen so far above it. Returns the byte holding the `remaining`-th largest of them and
// moves the entries of larger bytes from `remaining` to `above` (those strictly above the cutoff).
PODM_HD inline uint32_t selectKeyByte(const unsigned* histogram, int64_t& remaining,
                                      int64_t& above) {
  uint32_t byte = 255;
  while (byte > 0 && histogram[byte] < remaining) {
    remaining -= histogram[byte];
    above += histogram[byte];
    --byte;
  }
  return byte;
}

// ---- lp: generalized soft thresholding (stdlib/prox/lp.cpp derives the threshold, the Newton
// iteration on the GST equation, its stopping rule and its a-priori step bound).
inline constexpr double kLpRelativeTolerance = 1e-8;

PODM_HD inline int lpIterationBound(double p) {
  const double initialRelativeError = p / (2 * (1 - p));
  const double contraction = p / 2;
  const double steps = log(kLpRelativeTolerance / initialRelativeError) / log(contraction);
  return static_cast<int>(ceil(fmax(steps, 0.0))) + 2;
}

// GST's exact threshold: the prox zeroes exactly the entries with |x| <= lpThreshold(p, gamma).
PODM_HD inline double lpThreshold(double p, double gamma) {
  const double base = 2 * gamma * (1 - p);
  return pow(base, 1 / (2 - p)) + gamma * p * pow(base, (p - 1) / (2 - p));
}

// What one call's elements share: computed once per call (per thread on the device).
struct LpShrinkage {
  double tau = 0;             // the threshold
  double quadraticFactor = 0; // error after a Newton step d is at most quadraticFactor * d^2
  double gammaP = 0;
  double exponent = 0; // p - 1
  int maxIterations = 0;
};

PODM_HD inline LpShrinkage lpShrinkage(double p, float gamma, int maxIterations) {
  LpShrinkage s;
  s.tau = lpThreshold(p, gamma);
  s.quadraticFactor = 2 * p / pow(2 * gamma * (1 - p), 1 / (2 - p));
  s.gammaP = static_cast<double>(gamma) * p;
  s.exponent = p - 1;
  s.maxIterations = maxIterations;
  return s;
}

PODM_HD inline float lpShrink(float x, const LpShrinkage& s) {
  const double magnitude = fabs(static_cast<double>(x));
  if (magnitude <= s.tau)
    return 0.0f;
  double root = magnitude;
  for (int k = 0; k < s.maxIterations; ++k) {
    const double power = pow(root, s.exponent); // S^{p-1}
    const double slope = root - magnitude + s.gammaP * power;
    const double curvature = 1.0 + s.gammaP * s.exponent * power / root; // h''(S)
    const double step = slope / curvature;
    root -= step;
    if (step * step * s.quadraticFactor <= kLpRelativeTolerance * root)
      break;
  }
  return copysignf(static_cast<float>(root), x);
}

// ---- l21: group soft thresholding u_g = max(0, 1 - gamma / ||v_g||) v_g. The squared norm of a
// pixel's channel vector is summed in channel order from 0.
PODM_HD inline float addSquare(float sumOfSquares, float x) {
  return sumOfSquares + mulRn(x, x);
}
// The factor of a group with this squared norm; a zero group has norm 0 <= gamma: no division.
PODM_HD inline float groupShrinkFactor(float sumOfSquares, float gamma) {
  const float norm = sqrtf(sumOfSquares);
  return norm > gamma ? 1.0f - gamma / norm : 0.0f;
}

// ---- TV by FGP (stdlib/prox/tv.cpp): the dual (p, q) lives on the h x w plane; p's last row
// and q's last column stay zero (Neumann boundary).
inline constexpr int kTvDefaultIterations = 100;
inline constexpr double kTvDefaultTolerance = 1e-5;
inline constexpr bool kTvDefaultWarmStart = true;

// The projected gradient step 1 / (8 gamma): ||D||^2 <= 8.
PODM_HD inline float tvStep(float gamma) {
  return 1.0f / (8.0f * gamma);
}

// D^T (p, q) at one pixel, in the three forms of the CPU's rows: the first column (no q to the
// left; pAbove = 0 on the first row), the first row's other pixels (no p above) and the rest.
PODM_HD inline float tvDivergenceFirstColumn(float pAbove, float p, float q) {
  return pAbove - p - q;
}
PODM_HD inline float tvDivergenceFirstRow(float p, float qLeft, float q) {
  return -p + qLeft - q;
}
PODM_HD inline float tvDivergence(float pAbove, float p, float qLeft, float q) {
  return pAbove - p + qLeft - q;
}
// D^T (p, q) at (i, j) of a plane of width w.
PODM_HD inline float tvDivergenceAt(const float* p, const float* q, int64_t i, int64_t j,
                                    int64_t w) {
  const int64_t at = i * w + j;
  if (j == 0)
    return tvDivergenceFirstColumn(i > 0 ? p[at - w] : 0.0f, p[at], q[at]);
  if (i == 0)
    return tvDivergenceFirstRow(p[at], q[at - 1], q[at]);
  return tvDivergence(p[at - w], p[at], q[at - 1], q[at]);
}

// The primal u = P_[lo,hi](v - gamma D^T (p, q)) at one pixel (an unbounded box clamps nothing).
PODM_HD inline float tvPrimal(float v, float divergence, float gamma) {
  return v - mulRn(gamma, divergence);
}
PODM_HD inline float tvPrimalAt(const float* v, const float* p, const float* q, int64_t i,
                                int64_t j, int64_t w, float gamma, float lo, float hi) {
  return clampToBox(tvPrimal(v[i * w + j], tvDivergenceAt(p, q, i, j, w), gamma), lo, hi);
}

// The gradient-step target of one dual component before projection: the extrapolated dual plus
// step times u's forward difference (uNext: u below for p, u to the right for q).
PODM_HD inline float tvDualTarget(float extrapolated, float step, float uNext, float u) {
  return extrapolated + mulRn(step, uNext - u);
}

// Onto the dual unit ball: pointwise |(a, b)| <= 1 (isotropic) or |a|, |b| <= 1 (anisotropic).
template <bool Isotropic>
PODM_HD inline void projectOntoDualBall(float& a, float& b) {
  if constexpr (Isotropic) {
    const float length = sqrtf(mulRn(a, a) + mulRn(b, b));
    const float shrink = 1.0f / maxOf(1.0f, length);
    a *= shrink;
    b *= shrink;
  } else {
    a = clampToBox(a, -1.0f, 1.0f);
    b = clampToBox(b, -1.0f, 1.0f);
  }
}

// One entry's contribution to the iteration's stopping and restart tests.
struct TvDualStep {
  float change2, norm2;
  float restartSignal; // <(r, s) - dual_k, dual_k - dual_{k-1}>: positive when momentum goes uphill
};

// The update at one dual entry given its gradient-step target (a, b): projection, the new dual
// (p, q) and the extrapolation (r, s) for the next step, in place.
template <bool Isotropic>
PODM_HD inline TvDualStep tvDualStep(float a, float b, float& p, float& q, float& r, float& s,
                                     float momentum) {
  projectOntoDualBall<Isotropic>(a, b);
  const float da = a - p, db = b - q;
  const TvDualStep step{mulRn(da, da) + mulRn(db, db), mulRn(a, a) + mulRn(b, b),
                        mulRn(r - a, da) + mulRn(s - b, db)};
  r = a + mulRn(momentum, da);
  s = b + mulRn(momentum, db);
  p = a;
  q = b;
  return step;
}

// Nesterov's t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2: advances t, returns the extrapolation weight
// (t_k - 1) / t_{k+1} of this iteration. A restart sets t back to 1 (weight 0 next).
PODM_HD inline float tvAdvanceMomentum(double& t) {
  const double tNext = 0.5 * (1.0 + sqrt(1.0 + mulRn(4.0 * t, t)));
  const auto momentum = static_cast<float>((t - 1.0) / tNext);
  t = tNext;
  return momentum;
}

// ||dual_k - dual_{k-1}|| / ||dual_k||, the stopping test's value; a zero dual counts as
// converged unless it just changed.
PODM_HD inline double tvRelativeChange(double change2, double norm2) {
  return norm2 > 0 ? sqrt(change2 / norm2) : (change2 > 0);
}

// FGP's iteration control, one per plane: the momentum sequence with adaptive restart
// (O'Donoghue & Candes 2015: drop the momentum once it points uphill) and the stopping value.
struct TvControl {
  double t = 1.0;
  bool restarted = false; // the last step's momentum pointed uphill: extrapolate from the dual

  // The coming iteration's extrapolation weight.
  PODM_HD float nextMomentum() { return tvAdvanceMomentum(t); }
  // Takes the iteration's sums over the plane; returns the relative dual change (FGP stops once
  // it is <= the tolerance).
  PODM_HD double finish(double change2, double norm2, double restartSignal) {
    restarted = restartSignal > 0;
    if (restarted)
      t = 1.0;
    return tvRelativeChange(change2, norm2);
  }
};

} // namespace podm::proxmath
