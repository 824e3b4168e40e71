// The per-element math of the CUDA spectral kernels (fft.cu), written once for the device and the
// host: the product or quotient that feeds the inverse transform (made Hermitian where C2R needs
// it), the spectrum-energy term, the NaN-propagating min/max step, and the SSIM window statistics
// and formula. Each function reproduces the float (or double) expression of the CPU kernel it
// stands for (cpu/spectral_kernels.cpp, cpu/fused_kernel.cpp, cpu/reduction_kernels.cpp,
// numerics/ssim.cpp), so a host loop over them gives the op's result, and
// tests/runtime/cuda/spectral_math_test.cpp checks that loop against the CPU backend on every
// machine, GPU or not. Kept C++17 for nvcc.
#pragma once

#include "runtime/elementwise_math.h"

#include <cstdint>

namespace podm::cuda::spectral {

using ew::cfloat;
using ew::cx;
using ew::im;
using ew::re;

// The geometry of the two-pass reductions (fft.cu): kReduceBlocks blocks of kReduceBlock threads
// write one partial each into the node's workspace, then one block combines them. The second pass
// starts every thread from its own partial, so it needs at least as many partials as threads.
constexpr int kReduceBlock = 256;
constexpr int kReduceBlocks = 512;
static_assert(kReduceBlocks >= kReduceBlock, "the combining pass reads one partial per thread");

// ---- irfft2 and irfft2_product: the spectrum the C2R transform consumes ----

// irfft2 divides by h*w on the spectrum side, before the transform (as the CPU kernel does).
PODM_HD inline float inverseScale(int64_t h, int64_t w) {
  return 1.f / static_cast<float>(h * w);
}
PODM_HD inline cfloat scaled(cfloat v, float scale) {
  return cx(re(v) * scale, im(v) * scale);
}

// The spectrum products of irfft2_product: a times (or over) b, b an f32 or c64 tensor of a's
// shape; the same float expressions as the unfused mul and div (elementwise_math.h).
struct Multiply {
  PODM_HD static cfloat f(cfloat a, float b) { return ew::Mul::f(a, b); }
  PODM_HD static cfloat f(cfloat a, cfloat b) { return ew::cmul(a, b); }
};
struct Divide {
  PODM_HD static cfloat f(cfloat a, float b) { return ew::Div::f(a, b); }
  PODM_HD static cfloat f(cfloat a, cfloat b) { return ew::cdiv(a, b); }
};

// Element i of the scratch spectrum irfft2_product hands to the inverse transform.
template <class Product, class B>
PODM_HD inline cfloat inverseInput(cfloat a, B b, float scale) {
  return scaled(Product::f(a, b), scale);
}

// The element C2R is given at index i of planes of h x (w/2+1) values, from `element(j)` (the
// scaled spectrum or product at j). A half spectrum stands for one real plane only where it is
// Hermitian: columns 0 and, for even w, w/2 pair row k with row (h-k) mod h of the same column.
// Inverse transforms may disagree on values that break this (FFTW keeps the real part of each
// such column's inverse DFT over the rows; another algorithm may let the imaginary parts through),
// so those two columns are replaced by their Hermitian part, (z[k] + conj z[-k]) / 2. Then any
// correct C2R, cuFFT's included, returns what the CPU's FFTW does; a Hermitian spectrum changes
// only by rounding, and its self-paired values (k = 0, k = h/2) keep their real part exactly.
PODM_HD inline cfloat hermitianPart(cfloat z, cfloat partner) {
  return cx(0.5f * (re(z) + re(partner)), 0.5f * (im(z) - im(partner)));
}
template <class Element>
PODM_HD inline cfloat c2rInput(int64_t i, int64_t h, int64_t w, const Element& element) {
  const int64_t wh = w / 2 + 1, l = i % wh;
  const cfloat z = element(i);
  if (l != 0 && !(w % 2 == 0 && l == w / 2))
    return z;
  const int64_t inPlane = i % (h * wh), k = inPlane / wh;
  return hermitianPart(z, element(i - inPlane + ((h - k) % h) * wh + l));
}

// ---- spectrum_energy: sum w |a b + c|^2, each term in double ----

PODM_HD inline double energyTerm(cfloat a, cfloat b, float w) {
  const cfloat v = ew::cmul(a, b);
  const float e = re(v) * re(v) + im(v) * im(v);
  return static_cast<double>(e) * w;
}
PODM_HD inline double energyTerm(cfloat a, cfloat b, cfloat c, float w) {
  const cfloat p = ew::cmul(a, b);
  const cfloat v = cx(re(p) + re(c), im(p) + im(c));
  const float e = re(v) * re(v) + im(v) * im(v);
  return static_cast<double>(e) * w;
}

// ---- minval / maxval ----

// One step of min (Largest = false) or max: a NaN on either side wins, so bad data gives NaN
// whatever order the partial results meet in (the CPU kernel stops at the first NaN). `v != v`
// rather than isnan: the same test in host and device code without a math library overload.
template <bool Largest>
PODM_HD inline float extremeStep(float m, float v) {
  if (m != m)
    return m;
  if (v != v)
    return v;
  return (Largest ? v > m : v < m) ? v : m;
}

// ---- ssim: Wang 2004 (numerics/ssim.h) ----

constexpr int kSsimTaps = 11;
constexpr int kSsimRadius = kSsimTaps / 2;
constexpr double kSsimDataRange = 1.0;

// The normalised 1-D Gaussian (sigma 1.5) the separable window is made of, computed on the host
// once per node (numerics::ssimGaussian's expression, so the weights are bitwise its).
struct SsimWindow {
  double g[kSsimTaps];
};
inline SsimWindow ssimWindow() {
  SsimWindow win{};
  double sum = 0;
  for (int i = 0; i < kSsimTaps; ++i) {
    const double t = i - kSsimRadius;
    win.g[i] = std::exp(-t * t / (2 * 1.5 * 1.5));
    sum += win.g[i];
  }
  for (int i = 0; i < kSsimTaps; ++i)
    win.g[i] /= sum;
  return win;
}

// Valid-region output size of an n-pixel side: the window must fit entirely.
PODM_HD inline int64_t ssimValid(int64_t n) {
  return n - (kSsimTaps - 1);
}

// SSIM of the window whose top-left pixel is (y, x) of the regions at a and b (row stride
// `stride`). The five local moments are summed row by row, each row's taps first and the rows
// then weighted in order, which is numerics' horizontal-then-vertical pass for this one output
// pixel: the same double operations in the same order.
PODM_HD inline double ssimAt(const float* a, const float* b, int64_t stride, int64_t y, int64_t x,
                             const SsimWindow& win, double dataRange) {
  double mp = 0, mq = 0, spp = 0, sqq = 0, spq = 0;
  for (int ky = 0; ky < kSsimTaps; ++ky) {
    const float* ra = a + (y + ky) * stride + x;
    const float* rb = b + (y + ky) * stride + x;
    double rp = 0, rq = 0, rpp = 0, rqq = 0, rpq = 0;
    for (int kx = 0; kx < kSsimTaps; ++kx) {
      const double p = ra[kx], q = rb[kx], g = win.g[kx];
      rp += g * p;
      rq += g * q;
      rpp += g * (p * p);
      rqq += g * (q * q);
      rpq += g * (p * q);
    }
    const double g = win.g[ky];
    mp += g * rp;
    mq += g * rq;
    spp += g * rpp;
    sqq += g * rqq;
    spq += g * rpq;
  }
  const double c1 = (0.01 * dataRange) * (0.01 * dataRange);
  const double c2 = (0.03 * dataRange) * (0.03 * dataRange);
  const double s1 = spp - mp * mp, s2 = sqq - mq * mq, s12 = spq - mp * mq;
  return ((2 * mp * mq + c1) * (2 * s12 + c2)) / ((mp * mp + mq * mq + c1) * (s1 + s2 + c2));
}

} // namespace podm::cuda::spectral
