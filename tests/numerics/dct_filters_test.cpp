// DCT filter bank: the filters, the energy identity of the full basis, FFT = direct, adjoint.
#include "numerics/dct_filters.h"
#include "tests/numerics/kernel_test_util.h"

#include <cmath>
#include <doctest/doctest.h>
#include <vector>

using namespace podm::numerics;
using namespace podm::numerics::test;

TEST_CASE("the k^2-1 filters are orthonormal, zero-mean, and in (u,v) order") {
  for (int64_t k : {2, 3, 5}) {
    auto f = dctBasisFilters(k);
    const int64_t n = dctFilterCount(k), size = k * k;
    REQUIRE(static_cast<int64_t>(f.size()) == n * size);
    for (int64_t a = 0; a < n; ++a) {
      double mean = 0.0;
      for (int64_t i = 0; i < size; ++i)
        mean += f[static_cast<size_t>(a * size + i)];
      CHECK(std::abs(mean) < 1e-6);
      for (int64_t b = 0; b < n; ++b) {
        double d = 0.0;
        for (int64_t i = 0; i < size; ++i)
          d += static_cast<double>(f[static_cast<size_t>(a * size + i)]) *
               f[static_cast<size_t>(b * size + i)];
        CHECK(d == doctest::Approx(a == b ? 1.0 : 0.0).epsilon(1e-6));
      }
    }
  }
  // Filter 0 is (u,v) = (0,1): constant down the rows, one cosine half-period across.
  auto f = dctBasisFilters(2);
  CHECK(f[0] == doctest::Approx(0.5));
  CHECK(f[1] == doctest::Approx(-0.5));
  CHECK(f[2] == doctest::Approx(0.5));
  CHECK(f[3] == doctest::Approx(-0.5));
}

TEST_CASE(
    "with the constant filter the full basis has sum F'F = k^2 I (periodic energy identity)") {
  // The k^2 basis filters form an orthogonal matrix, so sum_n ||f_n * x||^2 = k^2 ||x||^2 with
  // periodic boundaries; the bank leaves out the constant filter 1/k, whose response is the k x k
  // box mean scaled by k.
  const int64_t k = 3, h = 11, w = 10;
  auto x = randomVector(static_cast<size_t>(h * w), 1);
  DctFilterBank2d bank(k, h, w, Boundary::Periodic);
  std::vector<float> y(static_cast<size_t>(bank.filterCount() * h * w));
  bank.apply(x.data(), y.data(), 1);
  std::vector<float> box(static_cast<size_t>(k * k), 1.0f / k), dc(x.size());
  conv2d(x.data(), dc.data(), 1, h, w, box.data(), k, k, Boundary::Periodic);
  double energy = dotDouble(y, y) + dotDouble(dc, dc);
  CHECK(energy == doctest::Approx(k * k * dotDouble(x, x)).epsilon(1e-5));
}

TEST_CASE("shared-FFT and direct filter banks agree, forward and adjoint, for every boundary") {
  for (Boundary b : {Boundary::Periodic, Boundary::Symmetric, Boundary::Zero})
    for (int64_t k : {2, 3, 5}) {
      CAPTURE(boundaryName(b));
      CAPTURE(k);
      const int64_t h = 13, w = 9, planes = 2;
      DctFilterBank2d viaFft(k, h, w, b, ConvMethod::Fft), direct(k, h, w, b, ConvMethod::Direct);
      const int64_t n = viaFft.filterCount();
      auto x = randomVector(static_cast<size_t>(planes * h * w), 2);
      auto r = randomVector(static_cast<size_t>(planes * n * h * w), 3);
      std::vector<float> y1(r.size()), y2(r.size()), x1(x.size()), x2(x.size());
      viaFft.apply(x.data(), y1.data(), planes);
      direct.apply(x.data(), y2.data(), planes);
      CHECK(relativeMaxError(y1, y2) < 2e-6);
      viaFft.adjoint(r.data(), x1.data(), planes);
      direct.adjoint(r.data(), x2.data(), planes);
      CHECK(relativeMaxError(x1, x2) < 5e-6);
      CHECK(adjointMismatch(y1, r, x, x1) < 1e-5);
      CHECK(adjointMismatch(y2, r, x, x2) < 1e-5);
    }
}

TEST_CASE("filter n of the bank is a plain convolution with dctBasisFilters()[n]") {
  const int64_t k = 4, h = 8, w = 12;
  DctFilterBank2d bank(k, h, w, Boundary::Symmetric);
  auto x = randomVector(static_cast<size_t>(h * w), 4);
  std::vector<float> y(static_cast<size_t>(bank.filterCount() * h * w)), single(x.size());
  bank.apply(x.data(), y.data(), 1);
  const int64_t n = 6;
  conv2d(x.data(), single.data(), 1, h, w, bank.filters().data() + n * k * k, k, k,
         Boundary::Symmetric, ConvMethod::Direct);
  std::vector<float> plane(y.begin() + n * h * w, y.begin() + (n + 1) * h * w);
  CHECK(relativeMaxError(plane, single) < 2e-6);
}
