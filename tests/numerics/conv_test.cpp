// Convolution kernels: direct and FFT methods against a naive reference written here, exact
// adjoints (dot-product test and explicit transposes), conventions, and the kernel spectrum.
#include "numerics/conv.h"
#include "numerics/fft.h"
#include "tests/numerics/kernel_test_util.h"

#include <doctest/doctest.h>
#include <stdexcept>
#include <vector>

using namespace podm::numerics;
using namespace podm::numerics::test;

namespace {

const Boundary kBoundaries[] = {Boundary::Periodic, Boundary::Symmetric, Boundary::Zero};

// Index rule written independently of the implementation: reflect until inside / wrap / drop.
bool referenceIndex(int64_t& i, int64_t n, Boundary b) {
  if (b == Boundary::Zero)
    return i >= 0 && i < n;
  if (b == Boundary::Periodic) {
    i = ((i % n) + n) % n;
    return true;
  }
  while (i < 0 || i >= n) {
    if (i < 0)
      i = -1 - i;
    if (i >= n)
      i = 2 * n - 1 - i;
  }
  return true;
}

// y[i,j] = sum_{a,b} k[a,b] x_ext[i - (a - kh/2), j - (b - kw/2)], in double.
std::vector<float> referenceConv(const std::vector<float>& x, int64_t h, int64_t w,
                                 const std::vector<float>& k, int64_t kh, int64_t kw, Boundary b) {
  std::vector<float> y(x.size());
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      double s = 0.0;
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t c = 0; c < kw; ++c) {
          int64_t r = i - (a - kh / 2), q = j - (c - kw / 2);
          bool rowInside = referenceIndex(r, h, b), colInside = referenceIndex(q, w, b);
          if (rowInside && colInside)
            s += static_cast<double>(k[static_cast<size_t>(a * kw + c)]) *
                 x[static_cast<size_t>(r * w + q)];
        }
      y[static_cast<size_t>(i * w + j)] = static_cast<float>(s);
    }
  return y;
}

struct ConvCase {
  int64_t h, w, kh, kw;
};

const ConvCase kCases[] = {
    {9, 11, 3, 3}, {8, 8, 4, 5}, {13, 7, 7, 7}, {5, 6, 9, 9}, {1, 12, 1, 5}, {16, 15, 2, 1},
};

} // namespace

TEST_CASE("direct and FFT convolution match the naive reference for every boundary") {
  for (const ConvCase& c : kCases)
    for (Boundary b : kBoundaries)
      for (ConvMethod m : {ConvMethod::Direct, ConvMethod::Fft}) {
        CAPTURE(c.h);
        CAPTURE(c.w);
        CAPTURE(c.kh);
        CAPTURE(c.kw);
        CAPTURE(boundaryName(b));
        CAPTURE(static_cast<int>(m));
        const int64_t planes = 2, plane = c.h * c.w;
        auto x = randomVector(static_cast<size_t>(planes * plane), 10);
        auto k = randomVector(static_cast<size_t>(c.kh * c.kw), 11);
        std::vector<float> y(x.size());
        Convolution2d conv(k.data(), c.kh, c.kw, c.h, c.w, b, m);
        CHECK(conv.method() == m);
        conv.apply(x.data(), y.data(), planes);
        for (int64_t p = 0; p < planes; ++p) {
          std::vector<float> xp(x.begin() + p * plane, x.begin() + (p + 1) * plane);
          std::vector<float> yp(y.begin() + p * plane, y.begin() + (p + 1) * plane);
          CHECK(relativeMaxError(yp, referenceConv(xp, c.h, c.w, k, c.kh, c.kw, b)) < 2e-6);
        }
      }
}

TEST_CASE("FFT convolution and its adjoint match the direct method") {
  for (const ConvCase& c : kCases)
    for (Boundary b : kBoundaries) {
      CAPTURE(boundaryName(b));
      const int64_t plane = c.h * c.w;
      auto y = randomVector(static_cast<size_t>(plane), 12);
      auto k = randomVector(static_cast<size_t>(c.kh * c.kw), 13);
      std::vector<float> viaDirect(y.size()), viaFft(y.size());
      Convolution2d(k.data(), c.kh, c.kw, c.h, c.w, b, ConvMethod::Direct)
          .adjoint(y.data(), viaDirect.data(), 1);
      Convolution2d(k.data(), c.kh, c.kw, c.h, c.w, b, ConvMethod::Fft)
          .adjoint(y.data(), viaFft.data(), 1);
      CHECK(relativeMaxError(viaFft, viaDirect) < 2e-6);
    }
}

TEST_CASE("direct convolution of large planes (row bands on several threads) matches the FFT") {
  // From kThreadedPixels on, the direct loops split the rows among threads; an odd height and
  // width leave bands of unequal size.
  const int64_t h = 515, w = 519, kh = 5, kw = 7;
  REQUIRE(h * w >= kThreadedPixels);
  for (Boundary b : kBoundaries) {
    CAPTURE(boundaryName(b));
    auto x = randomVector(static_cast<size_t>(h * w), 21);
    auto k = randomVector(static_cast<size_t>(kh * kw), 22);
    Convolution2d direct(k.data(), kh, kw, h, w, b, ConvMethod::Direct);
    Convolution2d fft(k.data(), kh, kw, h, w, b, ConvMethod::Fft);
    std::vector<float> d(x.size()), f(x.size());
    direct.apply(x.data(), d.data(), 1);
    fft.apply(x.data(), f.data(), 1);
    CHECK(relativeMaxError(f, d) < 2e-5);
    direct.adjoint(x.data(), d.data(), 1);
    fft.adjoint(x.data(), f.data(), 1);
    CHECK(relativeMaxError(f, d) < 2e-5);
  }
}

TEST_CASE("the adjoint is the exact transpose (dot-product test and explicit matrix)") {
  for (const ConvCase& c : kCases)
    for (Boundary b : kBoundaries)
      for (ConvMethod m : {ConvMethod::Direct, ConvMethod::Fft}) {
        CAPTURE(boundaryName(b));
        CAPTURE(c.kh);
        const int64_t plane = c.h * c.w;
        auto k = randomVector(static_cast<size_t>(c.kh * c.kw), 14);
        Convolution2d conv(k.data(), c.kh, c.kw, c.h, c.w, b, m);
        auto x = randomVector(static_cast<size_t>(3 * plane), 15);
        auto y = randomVector(static_cast<size_t>(3 * plane), 16);
        std::vector<float> ax(x.size()), aty(y.size());
        conv.apply(x.data(), ax.data(), 3);
        conv.adjoint(y.data(), aty.data(), 3);
        CHECK(adjointMismatch(ax, y, x, aty) < 1e-5);
      }
  // Column j of A is A e_j; row j of A' must equal it.
  const int64_t h = 5, w = 4, kh = 3, kw = 4;
  auto k = randomVector(static_cast<size_t>(kh * kw), 17);
  for (Boundary b : kBoundaries) {
    CAPTURE(boundaryName(b));
    Convolution2d conv(k.data(), kh, kw, h, w, b, ConvMethod::Direct);
    std::vector<float> e(h * w), column(h * w), row(h * w);
    for (int64_t j = 0; j < h * w; ++j) {
      std::fill(e.begin(), e.end(), 0.0f);
      e[static_cast<size_t>(j)] = 1.0f;
      conv.apply(e.data(), column.data(), 1);
      for (int64_t i = 0; i < h * w; ++i) {
        std::fill(e.begin(), e.end(), 0.0f);
        e[static_cast<size_t>(i)] = 1.0f;
        conv.adjoint(e.data(), row.data(), 1);
        CHECK(row[static_cast<size_t>(j)] == doctest::Approx(column[static_cast<size_t>(i)]));
      }
    }
  }
}

TEST_CASE("convolution, not correlation: a delta at the kernel's top-left reads down-right") {
  // k[0,0] = 1 sits at offset (-1,-1) from the origin (1,1), so y[i,j] = x[i+1, j+1].
  const int64_t h = 4, w = 5;
  std::vector<float> k(9, 0.0f);
  k[0] = 1.0f;
  auto x = randomVector(static_cast<size_t>(h * w), 18);
  std::vector<float> y(x.size());
  conv2d(x.data(), y.data(), 1, h, w, k.data(), 3, 3, Boundary::Periodic);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j)
      CHECK(y[static_cast<size_t>(i * w + j)] ==
            x[static_cast<size_t>(((i + 1) % h) * w + (j + 1) % w)]);
}

TEST_CASE("boundary rules on a hand-computed 2x2 example with a 3x3 box") {
  // x = [1 2; 3 4]. Symmetric padding gives [1 1 2 2; 1 1 2 2; 3 3 4 4; 3 3 4 4] and 3x3 sums
  // 18 21 / 24 27 (MATLAB imfilter(x, ones(3), 'symmetric')). Zero padding: every pixel sees the
  // whole image: 10 everywhere. Periodic: a pixel's own row and column are seen once, the other
  // row and column twice.
  const std::vector<float> x = {1, 2, 3, 4}, box(9, 1.0f);
  std::vector<float> y(4);
  conv2d(x.data(), y.data(), 1, 2, 2, box.data(), 3, 3, Boundary::Symmetric);
  CHECK(y == std::vector<float>{18, 21, 24, 27});
  conv2d(x.data(), y.data(), 1, 2, 2, box.data(), 3, 3, Boundary::Zero);
  CHECK(y == std::vector<float>{10, 10, 10, 10});
  conv2d(x.data(), y.data(), 1, 2, 2, box.data(), 3, 3, Boundary::Periodic);
  // y00 = 1*x00 + 2*x01 + 2*x10 + 4*x11 = 1 + 4 + 6 + 16, and symmetrically for the others.
  CHECK(y == std::vector<float>{27, 24, 21, 18});
}

TEST_CASE("kernelSpectrum is the DFT of the periodically embedded kernel (psf2otf)") {
  const int64_t h = 10, w = 7, kh = 3, kw = 5;
  auto k = randomVector(static_cast<size_t>(kh * kw), 19);
  auto x = randomVector(static_cast<size_t>(h * w), 20);
  const size_t n = static_cast<size_t>(h * halfSpectrumWidth(w));
  std::vector<std::complex<float>> ks(n), xs(n);
  kernelSpectrum(k.data(), kh, kw, h, w, ks.data());
  fftForward(x.data(), xs.data(), h, w);
  multiplySpectra(xs.data(), ks.data(), xs.data(), static_cast<int64_t>(n), false);
  std::vector<float> y(x.size());
  fftInverse(xs.data(), y.data(), h, w);
  for (float& v : y)
    v /= static_cast<float>(h * w);
  CHECK(relativeMaxError(y, referenceConv(x, h, w, k, kh, kw, Boundary::Periodic)) < 2e-6);

  // A centred delta has a flat spectrum; a kernel larger than the plane wraps and adds up.
  std::vector<float> delta(9, 0.0f);
  delta[4] = 1.0f;
  kernelSpectrum(delta.data(), 3, 3, h, w, ks.data());
  for (auto v : ks)
    CHECK(std::abs(v - std::complex<float>(1.0f, 0.0f)) < 1e-6f);
  std::vector<float> ones(25, 1.0f);
  std::vector<std::complex<float>> small(2 * halfSpectrumWidth(2));
  kernelSpectrum(ones.data(), 5, 5, 2, 2, small.data());
  CHECK(small[0].real() == doctest::Approx(25.0)); // DC = sum of the kernel
}

TEST_CASE("the cost model picks direct loops for small kernels and FFTs for large ones") {
  CHECK(chooseConvMethod(3, 3, 256, 256, Boundary::Periodic) == ConvMethod::Direct);
  CHECK(chooseConvMethod(31, 31, 256, 256, Boundary::Periodic) == ConvMethod::Fft);
  CHECK(chooseConvMethod(31, 31, 512, 512, Boundary::Symmetric) == ConvMethod::Fft);
  Convolution2d automatic(std::vector<float>(9, 1.0f).data(), 3, 3, 32, 32, Boundary::Zero);
  CHECK(automatic.method() == ConvMethod::Direct);
}

TEST_CASE("fastFftSize and boundary parsing") {
  CHECK(fastFftSize(1) == 1);
  CHECK(fastFftSize(11) == 12);
  CHECK(fastFftSize(97) == 100);  // 4 * 25
  CHECK(fastFftSize(262) == 288); // 32 * 9, not the slower smooth sizes 264, 270, 280
  CHECK(fastFftSize(516) == 576);
  CHECK(fastFftSize(1024) == 1024);
  CHECK(parseBoundary("symmetric") == Boundary::Symmetric);
  CHECK_FALSE(parseBoundary("reflect").has_value());
  CHECK(extendedIndex(-1, 4, Boundary::Symmetric) == 0);
  CHECK(extendedIndex(-5, 4, Boundary::Symmetric) == 3);
  CHECK(extendedIndex(6, 4, Boundary::Symmetric) == 1);
  CHECK(extendedIndex(9, 4, Boundary::Symmetric) == 1); // 8 mirrors back to 0, 9 to 1
  CHECK(extendedIndex(-1, 4, Boundary::Periodic) == 3);
  CHECK(extendedIndex(4, 4, Boundary::Zero) == -1);
}

TEST_CASE("invalid sizes are rejected") {
  std::vector<float> k(9, 1.0f);
  CHECK_THROWS_AS(Convolution2d(k.data(), 0, 3, 8, 8, Boundary::Zero), std::invalid_argument);
  CHECK_THROWS_AS(Convolution2d(k.data(), 3, 3, 8, 0, Boundary::Zero), std::invalid_argument);
}
