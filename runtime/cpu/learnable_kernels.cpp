// CPU kernels of the learnable-parameter ops (ops.def, "Learnable parameters"): per-stage slices,
// the small dense layers of `mlp` with their activations, and filter banks whose filters are
// run-time values (learnable dct_filters) with the F-step spectrum they need -- plus the
// gradient-side ops the backward rules compose (place_stage, matvec_t, outer, elu_grad, sigmoid,
// filter_bank_grad, filter_spectrum_grad).
//
// The tensors here are tiny (MLP layers of a few dozen units, 3x3 or 5x5 filters), so the loops
// are direct: the filter banks convolve with wrap-around indexing (K * s^2 multiply-adds per
// pixel), and the spectrum sum_k |F^_k|^2 is a separable direct DFT of the s x s support onto the
// h x (w/2+1) grid, accumulated in double so it matches an FFT of the zero-padded filters to float
// precision.
#include "runtime/cpu/cpu_kernel.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace podm::cpu {
namespace {

// --- per-stage slices ---------------------------------------------------------------------------

// k.n: floats per slice; k.i0: slices.
void pickStageKernel(const CpuKernel& k, const KernelIO& io) {
  if (io.stage < 0 || io.stage >= k.i0)
    throw std::out_of_range("pick_stage: stage " + std::to_string(io.stage) +
                            " has no slice (the parameter holds " + std::to_string(k.i0) + ")");
  std::memcpy(out(io), in(io, 0) + io.stage * k.n, static_cast<size_t>(k.n) * sizeof(float));
}

void placeStageKernel(const CpuKernel& k, const KernelIO& io) {
  if (io.stage < 0 || io.stage >= k.i0)
    throw std::out_of_range("place_stage: stage " + std::to_string(io.stage) + " is outside the " +
                            std::to_string(k.i0) + " slices");
  std::fill(out(io), out(io) + k.n * k.i0, 0.f);
  std::memcpy(out(io) + io.stage * k.n, in(io, 0), static_cast<size_t>(k.n) * sizeof(float));
}

// A per-stage parameter must hold a slice for every stage the loop can run.
void checkStageCount(const CpuBuildContext& c, int64_t slices) {
  const auto& loop = c.graph.loop();
  if (loop && loop->stages > slices)
    throw std::runtime_error(c.where() + ": the parameter has " + std::to_string(slices) +
                             " stage slices but the loop runs " + std::to_string(loop->stages) +
                             " stages");
}

// --- dense layers -------------------------------------------------------------------------------

// k.h = M rows, k.w = K columns.
void matvecKernel(const CpuKernel& k, const KernelIO& io) {
  const float* W = in(io, 0);
  const float* x = in(io, 1);
  for (int64_t m = 0; m < k.h; ++m) {
    double s = 0;
    for (int64_t j = 0; j < k.w; ++j)
      s += static_cast<double>(W[m * k.w + j]) * x[j];
    out(io)[m] = static_cast<float>(s);
  }
}

void matvecTKernel(const CpuKernel& k, const KernelIO& io) {
  const float* W = in(io, 0);
  const float* y = in(io, 1);
  for (int64_t j = 0; j < k.w; ++j) {
    double s = 0;
    for (int64_t m = 0; m < k.h; ++m)
      s += static_cast<double>(W[m * k.w + j]) * y[m];
    out(io)[j] = static_cast<float>(s);
  }
}

void outerKernel(const CpuKernel& k, const KernelIO& io) {
  const float* a = in(io, 0);
  const float* b = in(io, 1);
  for (int64_t m = 0; m < k.h; ++m)
    for (int64_t j = 0; j < k.w; ++j)
      out(io)[m * k.w + j] = a[m] * b[j];
}

// --- activations --------------------------------------------------------------------------------

float elu(float a) {
  return a > 0 ? a : std::expm1(a);
}
// log(1 + e^a) = max(a, 0) + log1p(e^-|a|): no overflow for large |a|.
float softplus(float a) {
  return std::max(a, 0.f) + std::log1p(std::exp(-std::fabs(a)));
}
float sigmoid(float a) {
  if (a >= 0)
    return 1.f / (1.f + std::exp(-a));
  const float e = std::exp(a);
  return e / (1.f + e);
}

template <float (*F)(float)>
void unaryKernel(const CpuKernel& k, const KernelIO& io) {
  const float* a = in(io, 0);
  float* o = out(io);
  for (int64_t i = 0; i < k.n; ++i)
    o[i] = F(a[i]);
}

// elu_grad(a, d): either operand may be a scalar that broadcasts (k.i0 bit 0: a, bit 1: d).
void eluGradKernel(const CpuKernel& k, const KernelIO& io) {
  const float* a = in(io, 0);
  const float* d = in(io, 1);
  const int64_t sa = (k.i0 & 1) ? 0 : 1, sd = (k.i0 & 2) ? 0 : 1;
  for (int64_t i = 0; i < k.n; ++i) {
    const float x = a[i * sa], g = d[i * sd];
    out(io)[i] = x > 0 ? g : g * std::exp(x);
  }
}

// --- filter banks with run-time filters ---------------------------------------------------------

// planes: n*c of x; h, w: plane; i0: K filters; f0 unused; s (filter size) in outH.
struct BankGeometry {
  int64_t planes, h, w, K, s;
};
BankGeometry bank(const CpuKernel& k) {
  return {k.planes, k.h, k.w, k.i0, k.outH};
}

// Wrap-around index of i + d on a line of n samples (|d| < n).
inline int64_t wrap(int64_t i, int64_t n) {
  return i < 0 ? i + n : i >= n ? i - n : i;
}

// y[p*K + k](i,j) = sum_{a,b} F_k(a,b) x_p(i - a + o, j - b + o), o = s/2 (conv.h conventions).
void filterBankKernel(const CpuKernel& k, const KernelIO& io) {
  const BankGeometry g = bank(k);
  const float* x = in(io, 0);
  const float* F = in(io, 1);
  const int64_t plane = g.h * g.w, o = g.s / 2;
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t f = 0; f < g.K; ++f) {
      float* y = out(io) + (p * g.K + f) * plane;
      const float* xp = x + p * plane;
      const float* Ff = F + f * g.s * g.s;
      std::fill(y, y + plane, 0.f);
      for (int64_t a = 0; a < g.s; ++a)
        for (int64_t b = 0; b < g.s; ++b) {
          const float c = Ff[a * g.s + b];
          for (int64_t i = 0; i < g.h; ++i) {
            const float* row = xp + wrap(i - a + o, g.h) * g.w;
            float* yr = y + i * g.w;
            for (int64_t j = 0; j < g.w; ++j)
              yr[j] += c * row[wrap(j - b + o, g.w)];
          }
        }
    }
}

// x_p(i,j) = sum_k sum_{a,b} F_k(a,b) y_{p*K+k}(i + a - o, j + b - o): correlation, the exact
// adjoint of the periodic convolution.
void filterBankAdjointKernel(const CpuKernel& k, const KernelIO& io) {
  const BankGeometry g = bank(k);
  const float* y = in(io, 0);
  const float* F = in(io, 1);
  const int64_t plane = g.h * g.w, o = g.s / 2;
  for (int64_t p = 0; p < g.planes; ++p) {
    float* xp = out(io) + p * plane;
    std::fill(xp, xp + plane, 0.f);
    for (int64_t f = 0; f < g.K; ++f) {
      const float* yp = y + (p * g.K + f) * plane;
      const float* Ff = F + f * g.s * g.s;
      for (int64_t a = 0; a < g.s; ++a)
        for (int64_t b = 0; b < g.s; ++b) {
          const float c = Ff[a * g.s + b];
          for (int64_t i = 0; i < g.h; ++i) {
            const float* row = yp + wrap(i + a - o, g.h) * g.w;
            float* xr = xp + i * g.w;
            for (int64_t j = 0; j < g.w; ++j)
              xr[j] += c * row[wrap(j + b - o, g.w)];
          }
        }
    }
  }
}

// dF_k(a,b) = sum_p sum_{i,j} dy_{p*K+k}(i,j) x_p(i - a + o, j - b + o).
void filterBankGradKernel(const CpuKernel& k, const KernelIO& io) {
  const BankGeometry g = bank(k);
  const float* x = in(io, 0);
  const float* dy = in(io, 1);
  const int64_t plane = g.h * g.w, o = g.s / 2;
  for (int64_t f = 0; f < g.K; ++f)
    for (int64_t a = 0; a < g.s; ++a)
      for (int64_t b = 0; b < g.s; ++b) {
        double s = 0;
        for (int64_t p = 0; p < g.planes; ++p) {
          const float* xp = x + p * plane;
          const float* yp = dy + (p * g.K + f) * plane;
          for (int64_t i = 0; i < g.h; ++i) {
            const float* row = xp + wrap(i - a + o, g.h) * g.w;
            const float* yr = yp + i * g.w;
            double r = 0;
            for (int64_t j = 0; j < g.w; ++j)
              r += static_cast<double>(yr[j]) * row[wrap(j - b + o, g.w)];
            s += r;
          }
        }
        out(io)[(f * g.s + a) * g.s + b] = static_cast<float>(s);
      }
}

// --- the F-step spectrum of run-time filters ----------------------------------------------------

using cd = std::complex<double>;

// Twiddles e^{-2 pi i m / n} for m in [0, n), and the spectrum geometry: K filters of s x s on an
// h x w grid, half width W = w/2 + 1.
struct SpectrumState : KernelState {
  int64_t K = 0, s = 0, h = 0, w = 0, W = 0;
  std::vector<cd> eh, ew;
  mutable std::vector<cd> rows, spectrum; // scratch sized at prepare time
  mutable std::vector<double> sum;

  cd th(int64_t m) const { return eh[static_cast<size_t>(m % h)]; }
  cd tw(int64_t m) const { return ew[static_cast<size_t>(m % w)]; }

  // F^_k on the half grid into `spectrum` (h x W): rows[a][v] = sum_b F(a,b) e^{-2 pi i v b / w},
  // then F^(u,v) = sum_a e^{-2 pi i u a / h} rows[a][v].
  void transform(const float* Fk) const {
    for (int64_t a = 0; a < s; ++a)
      for (int64_t v = 0; v < W; ++v) {
        cd acc = 0;
        for (int64_t b = 0; b < s; ++b)
          acc += static_cast<double>(Fk[a * s + b]) * tw(v * b);
        rows[static_cast<size_t>(a * W + v)] = acc;
      }
    for (int64_t u = 0; u < h; ++u)
      for (int64_t v = 0; v < W; ++v) {
        cd acc = 0;
        for (int64_t a = 0; a < s; ++a)
          acc += th(u * a) * rows[static_cast<size_t>(a * W + v)];
        spectrum[static_cast<size_t>(u * W + v)] = acc;
      }
  }
};

std::unique_ptr<SpectrumState> spectrumState(int64_t K, int64_t s, int64_t h, int64_t w) {
  auto st = std::make_unique<SpectrumState>();
  st->K = K;
  st->s = s;
  st->h = h;
  st->w = w;
  st->W = w / 2 + 1;
  for (int64_t m = 0; m < h; ++m)
    st->eh.push_back(std::polar(1.0, -2.0 * std::numbers::pi * static_cast<double>(m) / h));
  for (int64_t m = 0; m < w; ++m)
    st->ew.push_back(std::polar(1.0, -2.0 * std::numbers::pi * static_cast<double>(m) / w));
  st->rows.resize(static_cast<size_t>(s * st->W));
  st->spectrum.resize(static_cast<size_t>(h * st->W));
  st->sum.resize(st->spectrum.size());
  return st;
}

void filterSpectrumKernel(const CpuKernel& k, const KernelIO& io) {
  const auto& st = static_cast<const SpectrumState&>(*k.state);
  const size_t count = static_cast<size_t>(st.h * st.W);
  std::vector<double>& sum = st.sum;
  std::fill(sum.begin(), sum.end(), 0.0);
  for (int64_t f = 0; f < st.K; ++f) {
    st.transform(in(io, 0) + f * st.s * st.s);
    for (size_t i = 0; i < count; ++i)
      sum[i] += std::norm(st.spectrum[i]);
  }
  for (size_t i = 0; i < count; ++i)
    out(io)[i] = static_cast<float>(sum[i]);
}

// dF_k(a,b) = 2 Re sum_{u,v} dS(u,v) conj(F^_k(u,v)) e^{-2 pi i (u a / h + v b / w)}, each entry
// of the half spectrum counted once (it is the op's output, an independent value).
void filterSpectrumGradKernel(const CpuKernel& k, const KernelIO& io) {
  const auto& st = static_cast<const SpectrumState&>(*k.state);
  const float* dS = in(io, 1);
  for (int64_t f = 0; f < st.K; ++f) {
    st.transform(in(io, 0) + f * st.s * st.s);
    // M(u,v) = dS conj(F^); rows[a][v] = sum_u e^{-2 pi i u a / h} M(u,v).
    for (int64_t a = 0; a < st.s; ++a)
      for (int64_t v = 0; v < st.W; ++v) {
        cd acc = 0;
        for (int64_t u = 0; u < st.h; ++u) {
          const size_t i = static_cast<size_t>(u * st.W + v);
          acc += st.th(u * a) * (static_cast<double>(dS[i]) * std::conj(st.spectrum[i]));
        }
        st.rows[static_cast<size_t>(a * st.W + v)] = acc;
      }
    for (int64_t a = 0; a < st.s; ++a)
      for (int64_t b = 0; b < st.s; ++b) {
        cd acc = 0;
        for (int64_t v = 0; v < st.W; ++v)
          acc += st.tw(v * b) * st.rows[static_cast<size_t>(a * st.W + v)];
        out(io)[(f * st.s + a) * st.s + b] = static_cast<float>(2.0 * acc.real());
      }
  }
}

CpuKernel bankKernel(CpuKernelFn fn, const ir::Dims& x, const ir::Dims& filters) {
  CpuKernel k;
  k.run = fn;
  k.planes = x.n * x.c;
  k.h = x.h;
  k.w = x.w;
  k.i0 = filters.c;
  k.outH = filters.h;
  return k;
}

} // namespace

CpuKernel buildPickStage(const CpuBuildContext& c) {
  const ir::Dims& d = c.operand(0).dims;
  checkStageCount(c, d.n);
  CpuKernel k;
  k.run = pickStageKernel;
  k.n = d.c * d.h * d.w;
  k.i0 = d.n;
  return k;
}

CpuKernel buildPlaceStage(const CpuBuildContext& c) {
  const ir::Dims& d = c.result().dims;
  checkStageCount(c, d.n);
  CpuKernel k;
  k.run = placeStageKernel;
  k.n = d.c * d.h * d.w;
  k.i0 = d.n;
  return k;
}

CpuKernel buildMatvec(const CpuBuildContext& c) {
  CpuKernel k;
  k.run = matvecKernel;
  k.h = c.operand(0).dims.h;
  k.w = c.operand(0).dims.w;
  return k;
}

CpuKernel buildMatvecT(const CpuBuildContext& c) {
  CpuKernel k = buildMatvec(c);
  k.run = matvecTKernel;
  return k;
}

CpuKernel buildOuter(const CpuBuildContext& c) {
  CpuKernel k;
  k.run = outerKernel;
  k.h = c.operand(0).numel();
  k.w = c.operand(1).numel();
  return k;
}

CpuKernel buildElu(const CpuBuildContext& c) {
  CpuKernel k;
  k.run = unaryKernel<elu>;
  k.n = c.result().numel();
  return k;
}

CpuKernel buildSoftplus(const CpuBuildContext& c) {
  CpuKernel k = buildElu(c);
  k.run = unaryKernel<softplus>;
  return k;
}

CpuKernel buildSigmoid(const CpuBuildContext& c) {
  CpuKernel k = buildElu(c);
  k.run = unaryKernel<sigmoid>;
  return k;
}

CpuKernel buildEluGrad(const CpuBuildContext& c) {
  CpuKernel k;
  k.run = eluGradKernel;
  k.n = c.result().numel();
  k.i0 = (c.operand(0).isScalar() && !c.result().isScalar() ? 1 : 0) |
         (c.operand(1).isScalar() && !c.result().isScalar() ? 2 : 0);
  return k;
}

CpuKernel buildFilterBank(const CpuBuildContext& c) {
  return bankKernel(filterBankKernel, c.operand(0).dims, c.operand(1).dims);
}

CpuKernel buildFilterBankAdjoint(const CpuBuildContext& c) {
  return bankKernel(filterBankAdjointKernel, c.result().dims, c.operand(1).dims);
}

CpuKernel buildFilterBankGrad(const CpuBuildContext& c) {
  return bankKernel(filterBankGradKernel, c.operand(0).dims, c.result().dims);
}

CpuKernel buildFilterSpectrum(const CpuBuildContext& c) {
  const ir::Dims& f = c.operand(0).dims;
  CpuKernel k;
  k.run = filterSpectrumKernel;
  k.state = spectrumState(f.c, f.h, c.node().attrs.getInt("h"), c.node().attrs.getInt("w"));
  return k;
}

CpuKernel buildFilterSpectrumGrad(const CpuBuildContext& c) {
  CpuKernel k = buildFilterSpectrum(c);
  k.run = filterSpectrumGradKernel;
  return k;
}

} // namespace podm::cpu
