// DCT basis filters and the filter bank that applies them with shared FFTs or direct loops.
#include "numerics/dct_filters.h"

#include "numerics/fft.h"
#include "numerics/scratch.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace podm::numerics {

std::vector<float> dctBasisFilters(int64_t k) {
  if (k < 2 || k > 64)
    throw std::invalid_argument("dct_filters: filter size must be between 2 and 64, got " +
                                std::to_string(k));
  auto basis = [k](int64_t u, int64_t a) {
    double c = u == 0 ? std::sqrt(1.0 / k) : std::sqrt(2.0 / k);
    return c * std::cos(std::numbers::pi * (2.0 * a + 1.0) * u / (2.0 * k));
  };
  std::vector<float> filters;
  filters.reserve(static_cast<size_t>(dctFilterCount(k) * k * k));
  for (int64_t u = 0; u < k; ++u)
    for (int64_t v = 0; v < k; ++v) {
      if (u == 0 && v == 0)
        continue;
      for (int64_t a = 0; a < k; ++a)
        for (int64_t b = 0; b < k; ++b)
          filters.push_back(static_cast<float>(basis(u, a) * basis(v, b)));
    }
  return filters;
}

DctFilterBank2d::DctFilterBank2d(int64_t k, int64_t h, int64_t w, Boundary boundary,
                                 ConvMethod method)
    : k_(k), geometry_{h, w, k, k, boundary}, method_(method), filters_(dctBasisFilters(k)) {
  if (h <= 0 || w <= 0)
    throw std::invalid_argument("dct_filters: plane size " + std::to_string(h) + "x" +
                                std::to_string(w) + " must be positive");
  const int64_t count = filterCount();
  const int64_t fh = convFftLength(h, k, boundary), fw = convFftLength(w, k, boundary);
  if (method_ == ConvMethod::Auto) {
    // The FFT method pays one forward pass shared by all filters plus one inverse pass per filter.
    double fft = static_cast<double>(count + 1) * fftPassCost(fh, fw);
    double direct = static_cast<double>(count) * directConvCost(k, k, h, w);
    method_ = fft < direct ? ConvMethod::Fft : ConvMethod::Direct;
  }
  if (method_ == ConvMethod::Direct) {
    direct_.reserve(static_cast<size_t>(count));
    for (int64_t n = 0; n < count; ++n)
      direct_.emplace_back(filters_.data() + n * k * k, k, k, h, w, boundary, ConvMethod::Direct);
    return;
  }
  fftH_ = fh;
  fftW_ = fw;
  const int64_t spectrumCount = fftH_ * halfSpectrumWidth(fftW_);
  spectra_.resize(static_cast<size_t>(count * spectrumCount));
  const float inverseSize = 1.0f / static_cast<float>(fftH_ * fftW_);
  for (int64_t n = 0; n < count; ++n) {
    std::complex<float>* s = spectra_.data() + n * spectrumCount;
    kernelSpectrum(filters_.data() + n * k * k, k, k, fftH_, fftW_, s);
    for (int64_t i = 0; i < spectrumCount; ++i)
      s[i] *= inverseSize;
  }
}

void DctFilterBank2d::apply(const float* x, float* y, int64_t planes) const {
  const int64_t plane = geometry_.h * geometry_.w, count = filterCount();
  for (int64_t p = 0; p < planes; ++p) {
    if (method_ == ConvMethod::Fft) {
      applyFft(x + p * plane, y + p * count * plane);
      continue;
    }
    for (int64_t n = 0; n < count; ++n)
      direct_[static_cast<size_t>(n)].apply(x + p * plane, y + (p * count + n) * plane, 1);
  }
}

void DctFilterBank2d::adjoint(const float* y, float* x, int64_t planes) const {
  const int64_t plane = geometry_.h * geometry_.w, count = filterCount();
  for (int64_t p = 0; p < planes; ++p) {
    float* out = x + p * plane;
    if (method_ == ConvMethod::Fft) {
      adjointFft(y + p * count * plane, out);
      continue;
    }
    float* term = scratchFloats(ScratchSlot::FilterBankAccumulator, static_cast<size_t>(plane));
    std::fill(out, out + plane, 0.0f);
    for (int64_t n = 0; n < count; ++n) {
      direct_[static_cast<size_t>(n)].adjoint(y + (p * count + n) * plane, term, 1);
      for (int64_t i = 0; i < plane; ++i)
        out[i] += term[i];
    }
  }
}

// x: one plane; y: filterCount() planes.
void DctFilterBank2d::applyFft(const float* x, float* y) const {
  const ConvGeometry& g = geometry_;
  const bool periodic = g.boundary == Boundary::Periodic;
  const int64_t plane = g.h * g.w, count = filterCount();
  const int64_t spectrumCount = fftH_ * halfSpectrumWidth(fftW_);
  const size_t gridCount = static_cast<size_t>(fftH_ * fftW_);
  std::complex<float>* shared =
      scratchComplex(ScratchSlot::FilterBankSpectrum, static_cast<size_t>(spectrumCount));
  std::complex<float>* product =
      scratchComplex(ScratchSlot::ConvSpectrum, static_cast<size_t>(spectrumCount));
  if (periodic) {
    fftForward(x, shared, g.h, g.w);
  } else {
    float* grid = scratchFloats(ScratchSlot::ConvPadded, gridCount);
    g.padIntoGrid(x, grid, fftH_, fftW_);
    fftForward(grid, shared, fftH_, fftW_);
  }
  float* result = periodic ? nullptr : scratchFloats(ScratchSlot::ConvResult, gridCount);
  for (int64_t n = 0; n < count; ++n) {
    multiplySpectra(shared, spectra_.data() + n * spectrumCount, product, spectrumCount, false);
    if (periodic) {
      fftInverse(product, y + n * plane, g.h, g.w);
    } else {
      fftInverse(product, result, fftH_, fftW_);
      g.cropFromGrid(result, fftW_, y + n * plane);
    }
  }
}

void DctFilterBank2d::adjointFft(const float* y, float* x) const {
  const ConvGeometry& g = geometry_;
  const bool periodic = g.boundary == Boundary::Periodic;
  const int64_t plane = g.h * g.w, count = filterCount();
  const int64_t spectrumCount = fftH_ * halfSpectrumWidth(fftW_);
  const size_t gridCount = static_cast<size_t>(fftH_ * fftW_);
  std::complex<float>* accumulated =
      scratchComplex(ScratchSlot::FilterBankSpectrum, static_cast<size_t>(spectrumCount));
  std::complex<float>* term =
      scratchComplex(ScratchSlot::ConvSpectrum, static_cast<size_t>(spectrumCount));
  std::fill(accumulated, accumulated + spectrumCount, std::complex<float>{});
  float* grid = periodic ? nullptr : scratchFloats(ScratchSlot::ConvPadded, gridCount);
  // Sum the adjoint terms in the frequency domain so that only one inverse transform is needed.
  for (int64_t n = 0; n < count; ++n) {
    if (periodic) {
      fftForward(y + n * plane, term, g.h, g.w);
    } else {
      g.embedIntoGrid(y + n * plane, grid, fftH_, fftW_);
      fftForward(grid, term, fftH_, fftW_);
    }
    accumulateSpectraConj(term, spectra_.data() + n * spectrumCount, accumulated, spectrumCount);
  }
  if (periodic) {
    fftInverse(accumulated, x, g.h, g.w);
    return;
  }
  float* result = scratchFloats(ScratchSlot::ConvResult, gridCount);
  fftInverse(accumulated, result, fftH_, fftW_);
  g.fold(result, fftW_, x);
}

} // namespace podm::numerics
