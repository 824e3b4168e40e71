// The DCT filter bank of PODM Sec. 5.2 (after Chen & Pock's TNRD): the N = k*k - 1 non-constant
// orthonormal k x k 2-D DCT-II basis functions used as convolution filters,
//   f_{u,v}[a,b] = c_u c_v cos(pi (2a+1) u / 2k) cos(pi (2b+1) v / 2k),
//   c_0 = sqrt(1/k), c_u = sqrt(2/k),
// ordered (u,v) row-major with (0,0) (the constant filter) left out: filter n is (u,v) with
// u*k + v = n + 1. Each filter has unit norm and they are mutually orthogonal.
//
// Applied to an image with P planes the bank gives P*N planes (plane p*N + n = f_n * x_p, conv.h
// conventions); the adjoint sums the adjoint-filtered planes back into P planes. With the FFT
// method one forward transform of x is shared by all N filters (and one inverse transform by all N
// adjoint terms), which is what makes large banks cheap.
#pragma once

#include "numerics/conv.h"

#include <complex>
#include <cstdint>
#include <vector>

namespace podm::numerics {

inline int64_t dctFilterCount(int64_t k) {
  return k * k - 1;
}

// dctFilterCount(k) filters of k x k floats, one after the other.
std::vector<float> dctBasisFilters(int64_t k);

class DctFilterBank2d {
public:
  DctFilterBank2d(int64_t k, int64_t h, int64_t w, Boundary boundary,
                  ConvMethod method = ConvMethod::Auto);

  int64_t filterSize() const { return k_; }
  int64_t filterCount() const { return dctFilterCount(k_); }
  const std::vector<float>& filters() const { return filters_; }
  ConvMethod method() const { return method_; }

  // y (planes * filterCount() planes) = the bank applied to x (planes planes of h x w).
  void apply(const float* x, float* y, int64_t planes) const;
  // x = sum over filters of the adjoint convolutions of the matching planes of y.
  void adjoint(const float* y, float* x, int64_t planes) const;

private:
  void applyFft(const float* x, float* y) const;
  void adjointFft(const float* y, float* x) const;

  int64_t k_;
  ConvGeometry geometry_;
  ConvMethod method_;
  std::vector<float> filters_;
  std::vector<Convolution2d> direct_; // one per filter (Direct method)
  int64_t fftH_ = 0, fftW_ = 0;
  std::vector<std::complex<float>> spectra_; // filterCount() spectra on the FFT grid, times 1/size
};

} // namespace podm::numerics
