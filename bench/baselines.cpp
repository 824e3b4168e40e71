// Raw-FFTW and plain-loop baselines (see baselines.h).
#include "bench/baselines.h"

#include "numerics/fft.h"

#include <cmath>
#include <cstring>
#include <fftw3.h>
#include <new>

namespace podm::bench {
namespace {

unsigned flagsFor(int64_t pixels) {
  return pixels >= numerics::kMeasurePixels ? FFTW_MEASURE : FFTW_ESTIMATE;
}

fftwf_plan r2c(int64_t h, int64_t w, float* in, std::complex<float>* out) {
  fftwf_plan_with_nthreads(numerics::fftThreadsFor(h * w));
  return fftwf_plan_dft_r2c_2d(static_cast<int>(h), static_cast<int>(w), in,
                               reinterpret_cast<fftwf_complex*>(out), flagsFor(h * w));
}

fftwf_plan c2r(int64_t h, int64_t w, std::complex<float>* in, float* out) {
  fftwf_plan_with_nthreads(numerics::fftThreadsFor(h * w));
  return fftwf_plan_dft_c2r_2d(static_cast<int>(h), static_cast<int>(w),
                               reinterpret_cast<fftwf_complex*>(in), out, flagsFor(h * w));
}

fftwf_plan asPlan(void* p) {
  return static_cast<fftwf_plan>(p);
}

size_t halfCount(int64_t h, int64_t w) {
  return static_cast<size_t>(h * (w / 2 + 1));
}

int64_t reflect(int64_t i, int64_t n, numerics::Boundary b) {
  if (b == numerics::Boundary::Periodic)
    return ((i % n) + n) % n;
  if (b == numerics::Boundary::Zero)
    return i >= 0 && i < n ? i : -1;
  while (i < 0 || i >= n)
    i = i < 0 ? -1 - i : 2 * n - 1 - i;
  return i;
}

// Spectrum of the kernel embedded periodically in gh x gw, scaled by 1/(gh*gw).
void embeddedSpectrum(const float* k, int64_t kh, int64_t kw, int64_t gh, int64_t gw,
                      std::complex<float>* out) {
  FftwBuffer grid(static_cast<size_t>(gh * gw));
  std::memset(grid.data(), 0, static_cast<size_t>(gh * gw) * sizeof(float));
  for (int64_t a = 0; a < kh; ++a)
    for (int64_t b = 0; b < kw; ++b)
      grid.data()[((a - kh / 2 + gh) % gh) * gw + (b - kw / 2 + gw) % gw] += k[a * kw + b];
  fftwf_plan p = fftwf_plan_dft_r2c_2d(static_cast<int>(gh), static_cast<int>(gw), grid.data(),
                                       reinterpret_cast<fftwf_complex*>(out), FFTW_ESTIMATE);
  fftwf_execute(p);
  fftwf_destroy_plan(p);
  const float scale = 1.0f / static_cast<float>(gh * gw);
  for (size_t i = 0; i < halfCount(gh, gw); ++i)
    out[i] *= scale;
}

void multiply(const std::complex<float>* a, const std::complex<float>* b, std::complex<float>* out,
              size_t n) {
  const float* pa = reinterpret_cast<const float*>(a);
  const float* pb = reinterpret_cast<const float*>(b);
  float* po = reinterpret_cast<float*>(out);
  for (size_t i = 0; i < n; ++i) {
    float ar = pa[2 * i], ai = pa[2 * i + 1], br = pb[2 * i], bi = pb[2 * i + 1];
    po[2 * i] = ar * br - ai * bi;
    po[2 * i + 1] = ar * bi + ai * br;
  }
}

} // namespace

FftwBuffer::FftwBuffer(size_t floats) : data_(fftwf_alloc_real(floats == 0 ? 1 : floats)) {
  if (!data_)
    throw std::bad_alloc();
}
FftwBuffer::~FftwBuffer() {
  fftwf_free(data_);
}

RawFftRoundTrip::RawFftRoundTrip(int64_t h, int64_t w)
    : h_(h), w_(w), in_(static_cast<size_t>(h * w)), spectrum_(2 * halfCount(h, w)),
      out_(static_cast<size_t>(h * w)) {
  forward_ = r2c(h, w, in_.data(), spectrum_.complexData());
  inverse_ = c2r(h, w, spectrum_.complexData(), out_.data());
}
RawFftRoundTrip::~RawFftRoundTrip() {
  fftwf_destroy_plan(asPlan(forward_));
  fftwf_destroy_plan(asPlan(inverse_));
}
void RawFftRoundTrip::run() {
  fftwf_execute(asPlan(forward_));
  fftwf_execute(asPlan(inverse_));
}

RawFftConv::RawFftConv(const float* kernel, int64_t kh, int64_t kw, int64_t h, int64_t w,
                       numerics::Boundary boundary)
    : h_(h), w_(w), kh_(kh), kw_(kw),
      gh_(boundary == numerics::Boundary::Periodic ? h : numerics::fastFftSize(h + kh - 1)),
      gw_(boundary == numerics::Boundary::Periodic ? w : numerics::fastFftSize(w + kw - 1)),
      boundary_(boundary), grid_(static_cast<size_t>(gh_ * gw_)),
      spectrum_(2 * halfCount(gh_, gw_)), result_(static_cast<size_t>(gh_ * gw_)),
      kernelSpectrum_(2 * halfCount(gh_, gw_)) {
  forward_ = r2c(gh_, gw_, grid_.data(), spectrum_.complexData());
  inverse_ = c2r(gh_, gw_, spectrum_.complexData(), result_.data());
  embeddedSpectrum(kernel, kh, kw, gh_, gw_, kernelSpectrum_.complexData());
}
RawFftConv::~RawFftConv() {
  fftwf_destroy_plan(asPlan(forward_));
  fftwf_destroy_plan(asPlan(inverse_));
}
void RawFftConv::run(const float* x, float* y) {
  const int64_t top = kh_ - 1 - kh_ / 2, left = kw_ - 1 - kw_ / 2;
  if (boundary_ == numerics::Boundary::Periodic) {
    std::memcpy(grid_.data(), x, static_cast<size_t>(h_ * w_) * sizeof(float));
  } else {
    for (int64_t r = 0; r < gh_; ++r)
      for (int64_t c = 0; c < gw_; ++c) {
        float v = 0.0f;
        if (r < h_ + kh_ - 1 && c < w_ + kw_ - 1) {
          int64_t sr = reflect(r - top, h_, boundary_), sc = reflect(c - left, w_, boundary_);
          v = sr < 0 || sc < 0 ? 0.0f : x[sr * w_ + sc];
        }
        grid_.data()[r * gw_ + c] = v;
      }
  }
  fftwf_execute(asPlan(forward_));
  multiply(spectrum_.complexData(), kernelSpectrum_.complexData(), spectrum_.complexData(),
           halfCount(gh_, gw_));
  fftwf_execute(asPlan(inverse_));
  if (boundary_ == numerics::Boundary::Periodic) {
    std::memcpy(y, result_.data(), static_cast<size_t>(h_ * w_) * sizeof(float));
    return;
  }
  for (int64_t i = 0; i < h_; ++i)
    for (int64_t j = 0; j < w_; ++j)
      y[i * w_ + j] = result_.data()[(i + top) * gw_ + j + left];
}

RawFilterBank::RawFilterBank(const std::vector<float>& filters, int64_t k, int64_t h, int64_t w)
    : h_(h), w_(w), count_(k * k - 1), in_(static_cast<size_t>(h * w)),
      spectrum_(2 * halfCount(h, w)), product_(2 * halfCount(h, w)),
      out_(static_cast<size_t>(h * w)), spectra_(2 * halfCount(h, w) * (k * k - 1)) {
  forward_ = r2c(h, w, in_.data(), spectrum_.complexData());
  inverse_ = c2r(h, w, product_.complexData(), out_.data());
  for (int64_t n = 0; n < count_; ++n)
    embeddedSpectrum(filters.data() + n * k * k, k, k, h, w,
                     spectra_.complexData() + n * halfCount(h, w));
}
RawFilterBank::~RawFilterBank() {
  fftwf_destroy_plan(asPlan(forward_));
  fftwf_destroy_plan(asPlan(inverse_));
}
void RawFilterBank::run(const float* x, float* y) {
  const size_t plane = static_cast<size_t>(h_ * w_), half = halfCount(h_, w_);
  std::memcpy(in_.data(), x, plane * sizeof(float));
  fftwf_execute(asPlan(forward_));
  for (int64_t n = 0; n < count_; ++n) {
    multiply(spectrum_.complexData(), spectra_.complexData() + n * half, product_.complexData(),
             half);
    fftwf_execute(asPlan(inverse_));
    std::memcpy(y + n * plane, out_.data(), plane * sizeof(float));
  }
}

RawDct::RawDct(int64_t h, int64_t w)
    : h_(h), w_(w), in_(static_cast<size_t>(h * w)), out_(static_cast<size_t>(h * w)) {
  fftwf_plan_with_nthreads(numerics::fftThreadsFor(h * w));
  plan_ = fftwf_plan_r2r_2d(static_cast<int>(h), static_cast<int>(w), in_.data(), out_.data(),
                            FFTW_REDFT10, FFTW_REDFT10, flagsFor(h * w));
  auto scales = [](int64_t n) {
    std::vector<float> s(static_cast<size_t>(n), static_cast<float>(1.0 / std::sqrt(2.0 * n)));
    s[0] = static_cast<float>(0.5 / std::sqrt(static_cast<double>(n)));
    return s;
  };
  rowScale_ = scales(h);
  colScale_ = scales(w);
}
RawDct::~RawDct() {
  fftwf_destroy_plan(asPlan(plan_));
}
void RawDct::run() {
  fftwf_execute(asPlan(plan_));
  for (int64_t i = 0; i < h_; ++i)
    for (int64_t j = 0; j < w_; ++j)
      out_.data()[i * w_ + j] *=
          rowScale_[static_cast<size_t>(i)] * colScale_[static_cast<size_t>(j)];
}

void naiveConv(const float* x, float* y, int64_t h, int64_t w, const float* k, int64_t kh,
               int64_t kw, numerics::Boundary boundary) {
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      float s = 0.0f;
      for (int64_t a = 0; a < kh; ++a) {
        int64_t r = reflect(i - (a - kh / 2), h, boundary);
        for (int64_t b = 0; b < kw; ++b) {
          int64_t c = reflect(j - (b - kw / 2), w, boundary);
          if (r >= 0 && c >= 0)
            s += k[a * kw + b] * x[r * w + c];
        }
      }
      y[i * w + j] = s;
    }
}

void naiveConvAdjoint(const float* y, float* x, int64_t h, int64_t w, const float* k, int64_t kh,
                      int64_t kw, numerics::Boundary boundary) {
  std::memset(x, 0, static_cast<size_t>(h * w) * sizeof(float));
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      const float v = y[i * w + j];
      for (int64_t a = 0; a < kh; ++a) {
        int64_t r = reflect(i - (a - kh / 2), h, boundary);
        for (int64_t b = 0; b < kw; ++b) {
          int64_t c = reflect(j - (b - kw / 2), w, boundary);
          if (r >= 0 && c >= 0)
            x[r * w + c] += k[a * kw + b] * v;
        }
      }
    }
}

void naiveHaar(const float* x, float* y, int64_t h, int64_t w, int levels) {
  std::memcpy(y, x, static_cast<size_t>(h * w) * sizeof(float));
  std::vector<float> tmp(static_cast<size_t>(h * w));
  for (int l = 0; l < levels; ++l) {
    const int64_t rh = h >> l, rw = w >> l;
    for (int64_t i = 0; i < rh / 2; ++i)
      for (int64_t j = 0; j < rw / 2; ++j) {
        float a = y[2 * i * w + 2 * j], b = y[2 * i * w + 2 * j + 1];
        float c = y[(2 * i + 1) * w + 2 * j], d = y[(2 * i + 1) * w + 2 * j + 1];
        tmp[static_cast<size_t>(i * rw + j)] = 0.5f * (a + b + c + d);
        tmp[static_cast<size_t>(i * rw + j + rw / 2)] = 0.5f * (a - b + c - d);
        tmp[static_cast<size_t>((i + rh / 2) * rw + j)] = 0.5f * (a + b - c - d);
        tmp[static_cast<size_t>((i + rh / 2) * rw + j + rw / 2)] = 0.5f * (a - b - c + d);
      }
    for (int64_t i = 0; i < rh; ++i)
      for (int64_t j = 0; j < rw; ++j)
        y[i * w + j] = tmp[static_cast<size_t>(i * rw + j)];
  }
}

void naiveGradPeriodic(const float* x, float* g, int64_t h, int64_t w) {
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      g[i * w + j] = x[i * w + (j + 1) % w] - x[i * w + j];
      g[h * w + i * w + j] = x[((i + 1) % h) * w + j] - x[i * w + j];
    }
}

void naiveGradAdjointPeriodic(const float* g, float* x, int64_t h, int64_t w) {
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j)
      x[i * w + j] = g[i * w + (j + w - 1) % w] - g[i * w + j] +
                     g[h * w + ((i + h - 1) % h) * w + j] - g[h * w + i * w + j];
}

void naiveResize(const numerics::BicubicResize2d& r, const float* x, float* y, float* scratch) {
  const numerics::AxisWeights &rows = r.rowWeights(), &cols = r.colWeights();
  const int64_t ih = r.inH(), iw = r.inW(), oh = r.outH(), ow = r.outW();
  for (int64_t i = 0; i < ih; ++i)
    for (int64_t o = 0; o < ow; ++o) {
      float s = 0.0f;
      for (int64_t k = cols.start[static_cast<size_t>(o)];
           k < cols.start[static_cast<size_t>(o + 1)]; ++k)
        s += cols.weight[static_cast<size_t>(k)] * x[i * iw + cols.index[static_cast<size_t>(k)]];
      scratch[i * ow + o] = s;
    }
  for (int64_t o = 0; o < oh; ++o)
    for (int64_t j = 0; j < ow; ++j) {
      float s = 0.0f;
      for (int64_t k = rows.start[static_cast<size_t>(o)];
           k < rows.start[static_cast<size_t>(o + 1)]; ++k)
        s += rows.weight[static_cast<size_t>(k)] *
             scratch[rows.index[static_cast<size_t>(k)] * ow + j];
      y[o * ow + j] = s;
    }
}

void naiveAxpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] += a * x[i];
}

double naiveDot(const float* x, const float* y, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i)
    s += static_cast<double>(x[i]) * y[i];
  return s;
}

} // namespace podm::bench
