// The per-element math of the CUDA learnable-parameter kernels (learnable.cu), shared with the host
// test that runs it against the CPU kernels (tests/runtime/cuda/learnable_math_test.cpp). Each
// function computes one output element (or one reduction term) exactly as
// runtime/cpu/learnable_kernels.cpp does: the same float or double expressions in the same order,
// so a host loop over an index range gives the CPU's result. The tensors are tiny (per-stage
// slices, MLP layers, 3x3 or 5x5 filters) except the filter banks' images, so the kernels are plain
// gathers; the filter spectrum is a direct DFT of the small support, in double, with the CPU's
// twiddle tables uploaded once. Kept C++17 for nvcc.
#pragma once

#include "runtime/cuda/cuda_kernels.h"
#include "runtime/elementwise_math.h"

#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

namespace podm::cuda::learnable {

// --- geometry: what a launch reads through args.state -------------------------------------------

// A per-stage parameter stacked along n: `slices` slices of `sliceFloats` floats.
struct StageSlices {
  int64_t slices, sliceFloats;
};

// matvec and matvec_t: W is rows x cols. outer: a has rows elements, b cols.
struct Matrix {
  int64_t rows, cols;
};

// A filter bank: planes (n*c of x) of h x w, K filters of s x s.
struct Bank {
  int64_t planes, h, w, K, s;
};

struct Cd {
  double re, im;
};

// sum_k |F^_k|^2 on the h x W half grid (W = w/2 + 1) of K filters s x s. eh, ew: twiddles
// e^{-2 pi i m / n} for m < h and m < w (spectrumTwiddles). The gradient's scratch: weights
// (K x h x W) and rows (K x s x W).
struct Spectrum {
  int64_t K, s, h, w, W;
  const Cd* eh;
  const Cd* ew;
  Cd* weights;
  Cd* rows;
};

// --- per-stage slices ----------------------------------------------------------------------------

PODM_HD inline float pickStage(const float* stacked, const StageSlices& g, int64_t stage,
                               int64_t i) {
  return stacked[stage * g.sliceFloats + i];
}

// Element e of the n x c x h x w result: the slice at `stage`, zero elsewhere.
PODM_HD inline float placeStage(const float* slice, const StageSlices& g, int64_t stage,
                                int64_t e) {
  return e / g.sliceFloats == stage ? slice[e % g.sliceFloats] : 0.f;
}

// --- dense layers
// ----------------------------------------------------------------------------------

PODM_HD inline float matvecRow(const float* W, const float* x, const Matrix& g, int64_t m) {
  double s = 0;
  for (int64_t j = 0; j < g.cols; ++j)
    s += static_cast<double>(W[m * g.cols + j]) * x[j];
  return static_cast<float>(s);
}

PODM_HD inline float matvecTColumn(const float* W, const float* y, const Matrix& g, int64_t j) {
  double s = 0;
  for (int64_t m = 0; m < g.rows; ++m)
    s += static_cast<double>(W[m * g.cols + j]) * y[m];
  return static_cast<float>(s);
}

PODM_HD inline float outer(const float* a, const float* b, const Matrix& g, int64_t e) {
  return a[e / g.cols] * b[e % g.cols];
}

// --- activations
// ----------------------------------------------------------------------------------

PODM_HD inline float elu(float a) {
  return a > 0 ? a : expm1f(a);
}
// log(1 + e^a) = max(a, 0) + log1p(e^-|a|): no overflow for large |a|. std::max(a, 0) of the CPU
// keeps a NaN, so it is spelled the same way.
PODM_HD inline float softplus(float a) {
  return (a < 0.f ? 0.f : a) + log1pf(expf(-fabsf(a)));
}
PODM_HD inline float sigmoid(float a) {
  if (a >= 0)
    return 1.f / (1.f + expf(-a));
  const float e = expf(a);
  return e / (1.f + e);
}
PODM_HD inline float eluGrad(float a, float d) {
  return a > 0 ? d : d * expf(a);
}

// --- filter banks with run-time filters
// -----------------------------------------------------------

// Wrap-around index of i on a line of n samples, for i in (-n, 2n): filters fit the plane.
PODM_HD inline int64_t wrap(int64_t i, int64_t n) {
  return i < 0 ? i + n : i >= n ? i - n : i;
}

// Element e of y (planes*K x h x w): y[p*K + k](i,j) = sum_{a,b} F_k(a,b) x_p(i - a + o, j - b +
// o), o = s/2, accumulated in float in (a, b) order as the CPU does.
PODM_HD inline float filterBank(const float* x, const float* F, const Bank& g, int64_t e) {
  const int64_t plane = g.h * g.w, o = g.s / 2;
  const int64_t j = e % g.w, i = (e / g.w) % g.h, pk = e / plane;
  const float* xp = x + (pk / g.K) * plane;
  const float* Fk = F + (pk % g.K) * g.s * g.s;
  float acc = 0.f;
  for (int64_t a = 0; a < g.s; ++a) {
    const float* row = xp + wrap(i - a + o, g.h) * g.w;
    for (int64_t b = 0; b < g.s; ++b)
      acc += Fk[a * g.s + b] * row[wrap(j - b + o, g.w)];
  }
  return acc;
}

// Element e of x (planes x h x w): sum over the K filters (then a, b) of the correlation
// F_k(a,b) y_{p*K+k}(i + a - o, j + b - o), the exact adjoint of filterBank.
PODM_HD inline float filterBankAdjoint(const float* y, const float* F, const Bank& g, int64_t e) {
  const int64_t plane = g.h * g.w, o = g.s / 2;
  const int64_t j = e % g.w, i = (e / g.w) % g.h, p = e / plane;
  float acc = 0.f;
  for (int64_t k = 0; k < g.K; ++k) {
    const float* yp = y + (p * g.K + k) * plane;
    const float* Fk = F + k * g.s * g.s;
    for (int64_t a = 0; a < g.s; ++a) {
      const float* row = yp + wrap(i + a - o, g.h) * g.w;
      for (int64_t b = 0; b < g.s; ++b)
        acc += Fk[a * g.s + b] * row[wrap(j + b - o, g.w)];
    }
  }
  return acc;
}

// The term of pixel e (of planes x h x w) in the gradient of filter tap t (k*s*s + a*s + b):
// dF_k(a,b) = sum_p sum_{i,j} dy_{p*K+k}(i,j) x_p(i - a + o, j - b + o), in double.
PODM_HD inline double filterBankGradTerm(const float* x, const float* dy, const Bank& g, int64_t t,
                                         int64_t e) {
  const int64_t plane = g.h * g.w, o = g.s / 2;
  const int64_t k = t / (g.s * g.s), a = (t / g.s) % g.s, b = t % g.s;
  const int64_t j = e % g.w, i = (e / g.w) % g.h, p = e / plane;
  const float xv = x[p * plane + wrap(i - a + o, g.h) * g.w + wrap(j - b + o, g.w)];
  return static_cast<double>(dy[(p * g.K + k) * plane + i * g.w + j]) * xv;
}

// --- the F-step spectrum of run-time filters
// ------------------------------------------------------

PODM_HD inline Cd cmul(Cd a, Cd b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
PODM_HD inline Cd cadd(Cd a, Cd b) {
  return {a.re + b.re, a.im + b.im};
}

// F^_k(u, v) = sum_a e^{-2 pi i u a / h} sum_b F_k(a,b) e^{-2 pi i v b / w}: the CPU's separable
// DFT (rows first), per entry, in the same double operations.
PODM_HD inline Cd filterTransform(const float* Fk, const Spectrum& g, int64_t u, int64_t v) {
  Cd acc{0, 0};
  for (int64_t a = 0; a < g.s; ++a) {
    Cd row{0, 0};
    for (int64_t b = 0; b < g.s; ++b) {
      const double c = Fk[a * g.s + b];
      const Cd t = g.ew[(v * b) % g.w];
      row = cadd(row, Cd{c * t.re, c * t.im});
    }
    acc = cadd(acc, cmul(g.eh[(u * a) % g.h], row));
  }
  return acc;
}

// Entry e (u*W + v) of sum_k |F^_k|^2.
PODM_HD inline float filterSpectrum(const float* F, const Spectrum& g, int64_t e) {
  double sum = 0;
  for (int64_t k = 0; k < g.K; ++k) {
    const Cd f = filterTransform(F + k * g.s * g.s, g, e / g.W, e % g.W);
    sum += f.re * f.re + f.im * f.im;
  }
  return static_cast<float>(sum);
}

// The gradient dF_k(a,b) = 2 Re sum_{u,v} dS(u,v) conj(F^_k(u,v)) e^{-2 pi i (u a / h + v b / w)}
// in the CPU's three separable steps, each one thread per entry:
// weights[k][u][v] = dS(u,v) conj(F^_k(u,v))                 (e over K*h*W)
PODM_HD inline Cd spectrumGradWeight(const float* F, const float* dS, const Spectrum& g,
                                     int64_t e) {
  const int64_t grid = g.h * g.W, k = e / grid, i = e % grid;
  const Cd f = filterTransform(F + k * g.s * g.s, g, i / g.W, i % g.W);
  const double d = dS[i];
  return {d * f.re, d * -f.im};
}
// rows[k][a][v] = sum_u e^{-2 pi i u a / h} weights[k][u][v]  (e over K*s*W)
PODM_HD inline Cd spectrumGradRow(const Cd* weights, const Spectrum& g, int64_t e) {
  const int64_t v = e % g.W, a = (e / g.W) % g.s, k = e / (g.W * g.s);
  const Cd* wk = weights + k * g.h * g.W;
  Cd acc{0, 0};
  for (int64_t u = 0; u < g.h; ++u)
    acc = cadd(acc, cmul(g.eh[(u * a) % g.h], wk[u * g.W + v]));
  return acc;
}
// dF_k(a,b) = 2 Re sum_v e^{-2 pi i v b / w} rows[k][a][v]   (e over K*s*s)
PODM_HD inline float spectrumGradTap(const Cd* rows, const Spectrum& g, int64_t e) {
  const int64_t b = e % g.s, ka = e / g.s; // ka = k*s + a
  const Cd* r = rows + ka * g.W;
  Cd acc{0, 0};
  for (int64_t v = 0; v < g.W; ++v)
    acc = cadd(acc, cmul(g.ew[(v * b) % g.w], r[v]));
  return static_cast<float>(2.0 * acc.re);
}

// The twiddles e^{-2 pi i m / n}, m < n, computed on the host exactly as the CPU kernel's table.
inline std::vector<Cd> spectrumTwiddles(int64_t n) {
  constexpr double kPi = 3.141592653589793238462643383279502884;
  std::vector<Cd> t;
  for (int64_t m = 0; m < n; ++m) {
    const std::complex<double> z = std::polar(1.0, -2.0 * kPi * static_cast<double>(m) / n);
    t.push_back({z.real(), z.imag()});
  }
  return t;
}

// --- launches (learnable.cu) ---------------------------------------------------------------------
// args.state points at the geometry named; args.n is the element count where none is named.

Launch pickStageLaunch();          // StageSlices; args.stage
Launch placeStageLaunch();         // StageSlices; args.stage
Launch matvecLaunch();             // Matrix
Launch matvecTLaunch();            // Matrix
Launch outerLaunch();              // Matrix
Launch filterBankLaunch();         // Bank
Launch filterBankAdjointLaunch();  // Bank
Launch filterBankGradLaunch();     // Bank (of x; K, s from the result)
Launch filterSpectrumLaunch();     // Spectrum
Launch filterSpectrumGradLaunch(); // Spectrum with its scratch

enum class Activation : uint8_t { Elu, Softplus, Sigmoid };
Launch activationLaunch(Activation f);            // args.n
Launch eluGradLaunch(bool scalarA, bool scalarD); // args.n; a scalar operand broadcasts

} // namespace podm::cuda::learnable
