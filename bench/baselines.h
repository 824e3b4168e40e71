// Baselines for podm_bench_kernels: raw FFTW calls and plain loops doing the same arithmetic as
// each podm kernel, written the way one would without the kernel library (plans made on the
// benchmark's own arrays with the same flags and thread count, per-pixel index arithmetic).
#pragma once

#include "numerics/bicubic.h"
#include "numerics/conv.h"

#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

namespace podm::bench {

// Arrays from fftwf_malloc, so raw plans get FFTW's aligned fast path.
struct FftwBuffer {
  explicit FftwBuffer(size_t floats);
  ~FftwBuffer();
  FftwBuffer(const FftwBuffer&) = delete;
  FftwBuffer& operator=(const FftwBuffer&) = delete;
  float* data() { return data_; }
  std::complex<float>* complexData() { return reinterpret_cast<std::complex<float>*>(data_); }

private:
  float* data_;
};

// r2c then c2r of one h x w plane with plans made once on fixed arrays.
class RawFftRoundTrip {
public:
  RawFftRoundTrip(int64_t h, int64_t w);
  ~RawFftRoundTrip();
  float* input() { return in_.data(); }
  void run(); // input -> spectrum -> output
private:
  int64_t h_, w_;
  FftwBuffer in_, spectrum_, out_;
  void* forward_;
  void* inverse_;
};

// FFT convolution with FFTW directly: precomputed kernel spectrum, r2c, product, c2r. With
// `padded`, the input is extended by `boundary` into a zero frame of fast size and cropped after.
class RawFftConv {
public:
  RawFftConv(const float* kernel, int64_t kh, int64_t kw, int64_t h, int64_t w,
             numerics::Boundary boundary);
  ~RawFftConv();
  void run(const float* x, float* y);

private:
  int64_t h_, w_, kh_, kw_, gh_, gw_;
  numerics::Boundary boundary_;
  FftwBuffer grid_, spectrum_, result_, kernelSpectrum_;
  void* forward_;
  void* inverse_;
};

// The shared-transform DCT filter bank with FFTW directly (periodic): one r2c, then per filter
// a product and a c2r.
class RawFilterBank {
public:
  RawFilterBank(const std::vector<float>& filters, int64_t k, int64_t h, int64_t w);
  ~RawFilterBank();
  void run(const float* x, float* y);

private:
  int64_t h_, w_, count_;
  FftwBuffer in_, spectrum_, product_, out_, spectra_;
  void* forward_;
  void* inverse_;
};

// Orthonormal DCT-II with a raw REDFT10 plan and a scaling loop.
class RawDct {
public:
  RawDct(int64_t h, int64_t w);
  ~RawDct();
  float* input() { return in_.data(); }
  void run();

private:
  int64_t h_, w_;
  FftwBuffer in_, out_;
  std::vector<float> rowScale_, colScale_;
  void* plan_;
};

// Plain loops.
void naiveConv(const float* x, float* y, int64_t h, int64_t w, const float* k, int64_t kh,
               int64_t kw, numerics::Boundary boundary);
void naiveConvAdjoint(const float* y, float* x, int64_t h, int64_t w, const float* k, int64_t kh,
                      int64_t kw, numerics::Boundary boundary);
void naiveHaar(const float* x, float* y, int64_t h, int64_t w, int levels);
void naiveGradPeriodic(const float* x, float* g, int64_t h, int64_t w);
void naiveGradAdjointPeriodic(const float* g, float* x, int64_t h, int64_t w);
// The same separable sparse weights, applied pixel by pixel (the column pass gathers down columns).
void naiveResize(const numerics::BicubicResize2d& r, const float* x, float* y, float* scratch);
void naiveAxpy(float a, const float* x, float* y, int64_t n);
double naiveDot(const float* x, const float* y, int64_t n);

} // namespace podm::bench
