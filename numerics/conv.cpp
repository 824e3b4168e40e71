// Direct and FFT convolution with periodic / symmetric / zero boundaries, and their adjoints.
#include "numerics/conv.h"

#include "numerics/fft.h"
#include "numerics/parallel.h"
#include "numerics/scratch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace podm::numerics {
namespace {

// Cost model constants, in nanoseconds, fitted to podm_bench_kernels' crossover sweep on the
// reference machine (2-core AMD EPYC, SSE2 build, see docs/performance.md):
//   - direct: one kernel tap for one output pixel, with the unrolled row loops of kernels up to
//     9 wide (wider kernels take the per-tap loop, ~1.3x slower per tap);
//   - FFT pass (one r2c or c2r plus its share of the spectrum product and padding): per point
//     kFftNsPerPointLog2 * log2(points) + kFftNsPerPoint, 1.5-2.0 ns/point at 256²-512²; beyond
//     512² the transforms leave the cache (3.8 ns/point measured at 1024²), hence kLargeFftFactor.
// FFTW's two threads above 512² did not beat one thread per point in these measurements, so the
// model does not discount them; the direct loops run on the same number of threads (row bands,
// parallelRows), which the model does not discount either, so the choice is one-thread costs.
constexpr double kDirectNsPerTapPixel = 0.06;
constexpr double kWideKernelFactor = 1.3;
constexpr int64_t kUnrolledKernelWidth = 9;
constexpr double kFftNsPerPointLog2 = 0.09;
constexpr double kFftNsPerPoint = 0.4;
constexpr double kLargeFftFactor = 1.6;
constexpr int64_t kLargeFftPoints = 512 * 512;

void checkPositive(int64_t v, const char* what) {
  if (v <= 0)
    throw std::invalid_argument(std::string("conv: ") + what + " must be positive, got " +
                                std::to_string(v));
}

// out[j] += sum_b taps[b] * in[j + b] for j < n: one kernel row against one padded row. With the
// tap count fixed at compile time the b loop unrolls inside the vectorized j loop, so each output
// vector is loaded and stored once per kernel row rather than once per tap (2-2.5x faster).
template <int Taps>
void correlateRowFixed(const float* __restrict in, const float* __restrict taps,
                       float* __restrict out, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    float acc = out[j];
    for (int b = 0; b < Taps; ++b)
      acc += taps[b] * in[j + b];
    out[j] = acc;
  }
}

void correlateRowAnyWidth(const float* __restrict in, const float* __restrict taps, int64_t count,
                          float* __restrict out, int64_t n) {
  for (int64_t b = 0; b < count; ++b) {
    const float tap = taps[b];
    const float* __restrict shifted = in + b;
    for (int64_t j = 0; j < n; ++j)
      out[j] += tap * shifted[j];
  }
}

void correlateRow(const float* in, const float* taps, int64_t count, float* out, int64_t n) {
  switch (count) {
  case 1:
    return correlateRowFixed<1>(in, taps, out, n);
  case 2:
    return correlateRowFixed<2>(in, taps, out, n);
  case 3:
    return correlateRowFixed<3>(in, taps, out, n);
  case 4:
    return correlateRowFixed<4>(in, taps, out, n);
  case 5:
    return correlateRowFixed<5>(in, taps, out, n);
  case 6:
    return correlateRowFixed<6>(in, taps, out, n);
  case 7:
    return correlateRowFixed<7>(in, taps, out, n);
  case 8:
    return correlateRowFixed<8>(in, taps, out, n);
  case 9:
    return correlateRowFixed<9>(in, taps, out, n);
  default:
    return correlateRowAnyWidth(in, taps, count, out, n);
  }
}

// The transpose of correlateRow: out[c] += sum_b taps[b] * in[c - b] over the n + Taps - 1
// entries of out, in gather form so the interior vectorizes like correlateRowFixed.
template <int Taps>
void scatterRowFixed(const float* __restrict in, const float* __restrict taps,
                     float* __restrict out, int64_t n) {
  const int64_t total = n + Taps - 1;
  auto edge = [&](int64_t c) {
    float acc = out[c];
    for (int b = 0; b < Taps; ++b)
      if (c - b >= 0 && c - b < n)
        acc += taps[b] * in[c - b];
    out[c] = acc;
  };
  const int64_t interiorBegin = std::min<int64_t>(Taps - 1, total);
  const int64_t interiorEnd = std::max<int64_t>(interiorBegin, n);
  for (int64_t c = 0; c < interiorBegin; ++c)
    edge(c);
  for (int64_t c = interiorBegin; c < interiorEnd; ++c) {
    float acc = out[c];
    for (int b = 0; b < Taps; ++b)
      acc += taps[b] * in[c - b];
    out[c] = acc;
  }
  for (int64_t c = interiorEnd; c < total; ++c)
    edge(c);
}

void scatterRowAnyWidth(const float* __restrict in, const float* __restrict taps, int64_t count,
                        float* __restrict out, int64_t n) {
  for (int64_t b = 0; b < count; ++b) {
    const float tap = taps[b];
    float* __restrict shifted = out + b;
    for (int64_t j = 0; j < n; ++j)
      shifted[j] += tap * in[j];
  }
}

void scatterRow(const float* in, const float* taps, int64_t count, float* out, int64_t n) {
  switch (count) {
  case 1:
    return scatterRowFixed<1>(in, taps, out, n);
  case 2:
    return scatterRowFixed<2>(in, taps, out, n);
  case 3:
    return scatterRowFixed<3>(in, taps, out, n);
  case 4:
    return scatterRowFixed<4>(in, taps, out, n);
  case 5:
    return scatterRowFixed<5>(in, taps, out, n);
  case 6:
    return scatterRowFixed<6>(in, taps, out, n);
  case 7:
    return scatterRowFixed<7>(in, taps, out, n);
  case 8:
    return scatterRowFixed<8>(in, taps, out, n);
  case 9:
    return scatterRowFixed<9>(in, taps, out, n);
  default:
    return scatterRowAnyWidth(in, taps, count, out, n);
  }
}

} // namespace

const char* boundaryName(Boundary boundary) {
  switch (boundary) {
  case Boundary::Periodic:
    return "periodic";
  case Boundary::Symmetric:
    return "symmetric";
  case Boundary::Zero:
    return "zero";
  }
  return "?";
}

std::optional<Boundary> parseBoundary(std::string_view name) {
  if (name == "periodic")
    return Boundary::Periodic;
  if (name == "symmetric")
    return Boundary::Symmetric;
  if (name == "zero")
    return Boundary::Zero;
  return std::nullopt;
}

std::optional<KernelOrientation> parseKernelOrientation(std::string_view name) {
  if (name == "convolution")
    return KernelOrientation::Convolution;
  if (name == "correlation")
    return KernelOrientation::Correlation;
  return std::nullopt;
}

std::vector<float> flippedKernel(const float* kernel, int64_t kh, int64_t kw) {
  std::vector<float> out(static_cast<size_t>(kh * kw));
  for (int64_t i = 0; i < kh * kw; ++i)
    out[static_cast<size_t>(i)] = kernel[kh * kw - 1 - i];
  return out;
}

int64_t extendedIndex(int64_t i, int64_t n, Boundary boundary) {
  switch (boundary) {
  case Boundary::Periodic: {
    int64_t m = i % n;
    return m < 0 ? m + n : m;
  }
  case Boundary::Symmetric: {
    // Half-sample reflection is periodic with period 2n: n samples forward, n mirrored.
    int64_t period = 2 * n;
    int64_t m = i % period;
    if (m < 0)
      m += period;
    return m < n ? m : period - 1 - m;
  }
  case Boundary::Zero:
    return (i >= 0 && i < n) ? i : -1;
  }
  return -1;
}

void ConvGeometry::pad(const float* plane, float* padded, int64_t stride) const {
  const int64_t pw = paddedW(), l = left();
  for (int64_t r = 0; r < paddedH(); ++r) {
    float* row = padded + r * stride;
    int64_t sr = extendedIndex(r - top(), h, boundary);
    if (sr < 0) {
      std::fill(row, row + pw, 0.0f);
      continue;
    }
    const float* src = plane + sr * w;
    std::memcpy(row + l, src, static_cast<size_t>(w) * sizeof(float));
    for (int64_t c = 0; c < l; ++c) {
      int64_t sc = extendedIndex(c - l, w, boundary);
      row[c] = sc < 0 ? 0.0f : src[sc];
    }
    for (int64_t c = l + w; c < pw; ++c) {
      int64_t sc = extendedIndex(c - l, w, boundary);
      row[c] = sc < 0 ? 0.0f : src[sc];
    }
  }
}

void ConvGeometry::fold(const float* padded, int64_t stride, float* plane) const {
  const int64_t pw = paddedW(), l = left();
  std::fill(plane, plane + h * w, 0.0f);
  for (int64_t r = 0; r < paddedH(); ++r) {
    int64_t sr = extendedIndex(r - top(), h, boundary);
    if (sr < 0)
      continue;
    const float* __restrict row = padded + r * stride;
    float* __restrict dst = plane + sr * w;
    for (int64_t j = 0; j < w; ++j)
      dst[j] += row[l + j];
    for (int64_t c = 0; c < l; ++c) {
      int64_t sc = extendedIndex(c - l, w, boundary);
      if (sc >= 0)
        dst[sc] += row[c];
    }
    for (int64_t c = l + w; c < pw; ++c) {
      int64_t sc = extendedIndex(c - l, w, boundary);
      if (sc >= 0)
        dst[sc] += row[c];
    }
  }
}

void ConvGeometry::padIntoGrid(const float* plane, float* grid, int64_t gridH,
                               int64_t gridW) const {
  const int64_t pw = paddedW();
  pad(plane, grid, gridW);
  if (gridW > pw)
    for (int64_t r = 0; r < paddedH(); ++r)
      std::fill(grid + r * gridW + pw, grid + (r + 1) * gridW, 0.0f);
  std::fill(grid + paddedH() * gridW, grid + gridH * gridW, 0.0f);
}

void ConvGeometry::cropFromGrid(const float* grid, int64_t gridW, float* plane) const {
  for (int64_t i = 0; i < h; ++i)
    std::memcpy(plane + i * w, grid + (i + top()) * gridW + left(),
                static_cast<size_t>(w) * sizeof(float));
}

void ConvGeometry::embedIntoGrid(const float* plane, float* grid, int64_t gridH,
                                 int64_t gridW) const {
  std::fill(grid, grid + gridH * gridW, 0.0f);
  for (int64_t i = 0; i < h; ++i)
    std::memcpy(grid + (i + top()) * gridW + left(), plane + i * w,
                static_cast<size_t>(w) * sizeof(float));
}

int64_t fastFftSize(int64_t n) {
  // Being 2,3,5,7-smooth is not enough for speed: measured with FFTW_MEASURE on the reference
  // machine, 270 = 2*3^3*5 costs 8 ns/point per r2c+c2r pair against 3.3 for 288 = 2^5*3^2, and
  // 525 = 3*5^2*7 costs 10.7 against 3.6 for 576. Sizes 2^a * q with a >= 2 and a small odd part
  // q are consistently fast, so those are the candidates (any smooth size below 64, where the
  // transform is cheap whatever its size).
  constexpr int64_t oddParts[] = {1, 3, 5, 9, 15, 25, 45, 75};
  for (int64_t m = std::max<int64_t>(n, 1);; ++m) {
    if (m < 64) {
      int64_t r = m;
      for (int64_t p : {2, 3, 5, 7})
        while (r % p == 0)
          r /= p;
      if (r == 1)
        return m;
      continue;
    }
    if (m % 4 != 0)
      continue;
    int64_t odd = m;
    while (odd % 2 == 0)
      odd /= 2;
    for (int64_t q : oddParts)
      if (odd == q)
        return m;
  }
}

double directConvCost(int64_t kh, int64_t kw, int64_t h, int64_t w) {
  double perTap =
      kw > kUnrolledKernelWidth ? kDirectNsPerTapPixel * kWideKernelFactor : kDirectNsPerTapPixel;
  return static_cast<double>(h * w) * static_cast<double>(kh * kw) * perTap;
}

double fftPassCost(int64_t fh, int64_t fw) {
  double points = static_cast<double>(fh * fw);
  double cost = points * (kFftNsPerPointLog2 * std::log2(std::max(points, 2.0)) + kFftNsPerPoint);
  return fh * fw > kLargeFftPoints ? cost * kLargeFftFactor : cost;
}

int64_t convFftLength(int64_t n, int64_t k, Boundary boundary) {
  return boundary == Boundary::Periodic ? n : fastFftSize(n + k - 1);
}

ConvMethod chooseConvMethod(int64_t kh, int64_t kw, int64_t h, int64_t w, Boundary boundary) {
  double fft = 2.0 * fftPassCost(convFftLength(h, kh, boundary), convFftLength(w, kw, boundary));
  return fft < directConvCost(kh, kw, h, w) ? ConvMethod::Fft : ConvMethod::Direct;
}

void kernelSpectrum(const float* kernel, int64_t kh, int64_t kw, int64_t h, int64_t w,
                    std::complex<float>* spectrum) {
  checkPositive(h, "plane height");
  checkPositive(w, "plane width");
  std::vector<float> embedded(static_cast<size_t>(h * w), 0.0f);
  for (int64_t a = 0; a < kh; ++a) {
    int64_t r = extendedIndex(a - kh / 2, h, Boundary::Periodic);
    for (int64_t b = 0; b < kw; ++b) {
      int64_t c = extendedIndex(b - kw / 2, w, Boundary::Periodic);
      embedded[static_cast<size_t>(r * w + c)] += kernel[a * kw + b];
    }
  }
  fftForward(embedded.data(), spectrum, h, w);
}

void multiplySpectra(const std::complex<float>* a, const std::complex<float>* b,
                     std::complex<float>* out, int64_t count, bool conjugateB) {
  const float* pa = reinterpret_cast<const float*>(a);
  const float* pb = reinterpret_cast<const float*>(b);
  float* po = reinterpret_cast<float*>(out);
  const float sign = conjugateB ? -1.0f : 1.0f;
  for (int64_t i = 0; i < count; ++i) {
    float ar = pa[2 * i], ai = pa[2 * i + 1];
    float br = pb[2 * i], bi = sign * pb[2 * i + 1];
    po[2 * i] = ar * br - ai * bi;
    po[2 * i + 1] = ar * bi + ai * br;
  }
}

void accumulateSpectraConj(const std::complex<float>* a, const std::complex<float>* b,
                           std::complex<float>* acc, int64_t count) {
  const float* __restrict pa = reinterpret_cast<const float*>(a);
  const float* __restrict pb = reinterpret_cast<const float*>(b);
  float* __restrict po = reinterpret_cast<float*>(acc);
  for (int64_t i = 0; i < count; ++i) {
    float ar = pa[2 * i], ai = pa[2 * i + 1];
    float br = pb[2 * i], bi = pb[2 * i + 1];
    po[2 * i] += ar * br + ai * bi;
    po[2 * i + 1] += ai * br - ar * bi;
  }
}

Convolution2d::Convolution2d(const float* kernel, int64_t kh, int64_t kw, int64_t h, int64_t w,
                             Boundary boundary, ConvMethod method)
    : geometry_{h, w, kh, kw, boundary}, method_(method) {
  checkPositive(kh, "kernel height");
  checkPositive(kw, "kernel width");
  checkPositive(h, "plane height");
  checkPositive(w, "plane width");
  if (method_ == ConvMethod::Auto)
    method_ = chooseConvMethod(kh, kw, h, w, boundary);
  if (method_ == ConvMethod::Direct) {
    flipped_.resize(static_cast<size_t>(kh * kw));
    for (int64_t i = 0; i < kh * kw; ++i)
      flipped_[static_cast<size_t>(i)] = kernel[kh * kw - 1 - i];
    return;
  }
  fftH_ = convFftLength(h, kh, boundary);
  fftW_ = convFftLength(w, kw, boundary);
  spectrum_.resize(static_cast<size_t>(fftH_ * halfSpectrumWidth(fftW_)));
  kernelSpectrum(kernel, kh, kw, fftH_, fftW_, spectrum_.data());
  // Fold FFTW's missing 1/N into the kernel once instead of scaling every output.
  const float inverseSize = 1.0f / static_cast<float>(fftH_ * fftW_);
  for (auto& v : spectrum_)
    v *= inverseSize;
}

void Convolution2d::apply(const float* x, float* y, int64_t planes) const {
  const int64_t plane = geometry_.h * geometry_.w;
  for (int64_t p = 0; p < planes; ++p) {
    if (method_ == ConvMethod::Direct)
      applyDirect(x + p * plane, y + p * plane);
    else
      applyFft(x + p * plane, y + p * plane);
  }
}

void Convolution2d::adjoint(const float* y, float* x, int64_t planes) const {
  const int64_t plane = geometry_.h * geometry_.w;
  for (int64_t p = 0; p < planes; ++p) {
    if (method_ == ConvMethod::Direct)
      adjointDirect(y + p * plane, x + p * plane);
    else
      adjointFft(y + p * plane, x + p * plane);
  }
}

void Convolution2d::applyDirect(const float* x, float* y) const {
  const ConvGeometry& g = geometry_;
  const int64_t stride = g.paddedW();
  float* padded = scratchFloats(ScratchSlot::ConvPadded, static_cast<size_t>(g.paddedH() * stride));
  g.pad(x, padded, stride);
  // Output row i is a sum over kernel rows of padded rows correlated with that kernel row; the
  // loops run along rows (contiguous, vectorized) and the output row stays in L1. Bands of output
  // rows are independent.
  parallelRows(g.h, g.h * g.w, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      float* out = y + i * g.w;
      std::fill(out, out + g.w, 0.0f);
      for (int64_t a = 0; a < g.kh; ++a)
        correlateRow(padded + (i + a) * stride, flipped_.data() + a * g.kw, g.kw, out, g.w);
    }
  });
}

void Convolution2d::adjointDirect(const float* y, float* x) const {
  const ConvGeometry& g = geometry_;
  const int64_t stride = g.paddedW();
  const size_t paddedCount = static_cast<size_t>(g.paddedH() * stride);
  float* padded = scratchFloats(ScratchSlot::ConvPadded, paddedCount);
  // Scatter form of the full correlation: every output row adds into the kh x kw padded rows it
  // was read from in apply. Grouped by the padded row written (row r gathers y rows r - a), so
  // bands of padded rows are independent; each (i, a) pair is visited once, in the same order
  // per padded row as the row-major scatter, so the sums are unchanged.
  const int64_t paddedRows = g.paddedH();
  parallelRows(paddedRows, g.h * g.w, [&](int64_t r0, int64_t r1) {
    std::fill(padded + r0 * stride, padded + r1 * stride, 0.0f);
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t a = std::min(g.kh - 1, r); a >= 0 && r - a < g.h; --a)
        scatterRow(y + (r - a) * g.w, flipped_.data() + a * g.kw, g.kw, padded + r * stride, g.w);
  });
  std::fill(padded + paddedRows * stride, padded + paddedCount, 0.0f);
  g.fold(padded, stride, x);
}

void Convolution2d::applyFft(const float* x, float* y) const {
  const ConvGeometry& g = geometry_;
  const int64_t spectrumCount = fftH_ * halfSpectrumWidth(fftW_);
  std::complex<float>* spectrum =
      scratchComplex(ScratchSlot::ConvSpectrum, static_cast<size_t>(spectrumCount));
  if (g.boundary == Boundary::Periodic) {
    fftForward(x, spectrum, g.h, g.w);
    multiplySpectra(spectrum, spectrum_.data(), spectrum, spectrumCount, false);
    fftInverse(spectrum, y, g.h, g.w);
    return;
  }
  // Pad by the boundary rule into a zero frame large enough that the circular convolution on the
  // FFT grid never wraps into the part we keep.
  const size_t gridCount = static_cast<size_t>(fftH_ * fftW_);
  float* grid = scratchFloats(ScratchSlot::ConvPadded, gridCount);
  g.padIntoGrid(x, grid, fftH_, fftW_);
  fftForward(grid, spectrum, fftH_, fftW_);
  multiplySpectra(spectrum, spectrum_.data(), spectrum, spectrumCount, false);
  float* result = scratchFloats(ScratchSlot::ConvResult, gridCount);
  fftInverse(spectrum, result, fftH_, fftW_);
  g.cropFromGrid(result, fftW_, y);
}

void Convolution2d::adjointFft(const float* y, float* x) const {
  const ConvGeometry& g = geometry_;
  const int64_t spectrumCount = fftH_ * halfSpectrumWidth(fftW_);
  std::complex<float>* spectrum =
      scratchComplex(ScratchSlot::ConvSpectrum, static_cast<size_t>(spectrumCount));
  if (g.boundary == Boundary::Periodic) {
    fftForward(y, spectrum, g.h, g.w);
    multiplySpectra(spectrum, spectrum_.data(), spectrum, spectrumCount, true);
    fftInverse(spectrum, x, g.h, g.w);
    return;
  }
  // Full correlation: place y where apply cropped it from, correlate circularly (the zero frame
  // keeps the wrap-around out of the padded region), then fold the padding back onto the plane.
  const size_t gridCount = static_cast<size_t>(fftH_ * fftW_);
  float* grid = scratchFloats(ScratchSlot::ConvPadded, gridCount);
  g.embedIntoGrid(y, grid, fftH_, fftW_);
  fftForward(grid, spectrum, fftH_, fftW_);
  multiplySpectra(spectrum, spectrum_.data(), spectrum, spectrumCount, true);
  float* result = scratchFloats(ScratchSlot::ConvResult, gridCount);
  fftInverse(spectrum, result, fftH_, fftW_);
  g.fold(result, fftW_, x);
}

void conv2d(const float* x, float* y, int64_t planes, int64_t h, int64_t w, const float* kernel,
            int64_t kh, int64_t kw, Boundary boundary, ConvMethod method) {
  Convolution2d(kernel, kh, kw, h, w, boundary, method).apply(x, y, planes);
}

} // namespace podm::numerics
