// PSNR/SSIM/relative errors against values computed independently here: closed forms, and a direct
// O(n * 121) SSIM written from Wang et al. 2004 without the library's separable filtering.
#include "runtime/io/degrade.h"
#include "runtime/io/metrics.h"
#include "tests/runtime/io/io_test_util.h"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <vector>

using namespace podm;
using namespace podm::io;
using namespace podm::io::test;

namespace {

// Wang et al. 2004, ssim_index.m: window = fspecial('gaussian', 11, 1.5); mu = filter2(w, x,
// 'valid'); sigma^2 = filter2(w, x.*x, 'valid') - mu^2; map averaged.
double referenceSsim(const Tensor& a, const Tensor& b, double L) {
  double win[11][11], sum = 0;
  for (int i = 0; i < 11; ++i)
    for (int j = 0; j < 11; ++j) {
      win[i][j] = std::exp(-((i - 5) * (i - 5) + (j - 5) * (j - 5)) / (2 * 1.5 * 1.5));
      sum += win[i][j];
    }
  int64_t h = a.shape().h, w = a.shape().w;
  double c1 = (0.01 * L) * (0.01 * L), c2 = (0.03 * L) * (0.03 * L), total = 0;
  for (int64_t y = 0; y + 11 <= h; ++y)
    for (int64_t x = 0; x + 11 <= w; ++x) {
      double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
      for (int i = 0; i < 11; ++i)
        for (int j = 0; j < 11; ++j) {
          double k = win[i][j] / sum, p = a.at(y + i, x + j), q = b.at(y + i, x + j);
          ma += k * p;
          mb += k * q;
          saa += k * p * p;
          sbb += k * q * q;
          sab += k * p * q;
        }
      double va = saa - ma * ma, vb = sbb - mb * mb, cov = sab - ma * mb;
      total += (2 * ma * mb + c1) * (2 * cov + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
    }
  return total / double((h - 10) * (w - 10));
}

Tensor scaled(const Tensor& t, float s) {
  Tensor o = t.clone();
  for (int64_t i = 0; i < o.numel(); ++i)
    o.data()[i] *= s;
  return o;
}

} // namespace

TEST_CASE("PSNR: infinity for identical images, closed form for a constant offset, shave") {
  Tensor x = testImage(1, 20, 30);
  CHECK(std::isinf(psnr(x, x)));
  Tensor y = x.clone();
  for (int64_t i = 0; i < y.numel(); ++i)
    y.data()[i] += 0.1f;
  CHECK(psnr(y, x) == doctest::Approx(20.0).epsilon(1e-5)); // 10 log10(1 / 0.01)
  CHECK(psnr(scaled(y, 255), scaled(x, 255), 0, 255) == doctest::Approx(20.0).epsilon(1e-5));
  // Corrupt only a 2-pixel border: shave 2 ignores it, shave 0 does not.
  Tensor z = x.clone();
  for (int64_t r = 0; r < 20; ++r)
    for (int64_t c = 0; c < 30; ++c)
      if (r < 2 || c < 2 || r >= 18 || c >= 28)
        z.at(r, c) = 1 - z.at(r, c);
  CHECK(std::isinf(psnr(z, x, 2)));
  CHECK(std::isfinite(psnr(z, x, 1)));
  CHECK_THROWS_AS(psnr(x, x, 10), std::invalid_argument);
  CHECK_THROWS_AS(psnr(x, testImage(1, 20, 31)), std::invalid_argument);
}

TEST_CASE("SSIM: 1 for identical images, matches a direct reference, range-invariant") {
  Tensor x = testImage(1, 40, 33, 3);
  CHECK(ssim(x, x) == doctest::Approx(1.0).epsilon(1e-12));
  Tensor y = testImage(1, 40, 33, 9); // same structure, different noise
  for (int64_t i = 0; i < y.numel(); ++i)
    y.data()[i] = 0.8f * y.data()[i] + 0.05f * std::sin(float(i));
  double s = ssim(y, x);
  CHECK(s < 0.99);
  CHECK(s > 0.0);
  CHECK(s == doctest::Approx(referenceSsim(y, x, 1.0)).epsilon(1e-9));
  CHECK(ssim(scaled(y, 255), scaled(x, 255), 0, 255) == doctest::Approx(s).epsilon(1e-6));
  // Shave: equal to the reference on the cropped images.
  Tensor xc = Tensor::image(30, 23), yc = Tensor::image(30, 23);
  for (int64_t r = 0; r < 30; ++r)
    for (int64_t c = 0; c < 23; ++c) {
      xc.at(r, c) = x.at(r + 5, c + 5);
      yc.at(r, c) = y.at(r + 5, c + 5);
    }
  CHECK(ssim(y, x, 5) == doctest::Approx(referenceSsim(yc, xc, 1.0)).epsilon(1e-9));
  CHECK_THROWS_AS(ssim(Tensor::image(10, 10), Tensor::image(10, 10)), std::invalid_argument);
}

TEST_CASE("SSIM window is MATLAB's fspecial('gaussian', 11, 1.5)") {
  double w[121];
  ssimWindow(w);
  double sum = 0;
  for (double v : w)
    sum += v;
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(w[60] == doctest::Approx(0.0707).epsilon(2e-3)); // ~ 1 / (2 pi sigma^2)
  CHECK(w[0] == doctest::Approx(w[120]));
  CHECK(w[5] / w[60] == doctest::Approx(std::exp(-25 / 4.5)));
}

TEST_CASE("reconstruction error, relative change and quantization") {
  Tensor ref = Tensor::image(2, 2);
  ref.fill(2.0f); // ||ref|| = 4
  Tensor x = ref.clone();
  x.at(0, 0) = 5.0f; // ||x - ref|| = 3
  CHECK(reconstructionError(x, ref) == doctest::Approx(0.75));
  CHECK(relativeChange(x, ref) == doctest::Approx(0.75));
  Tensor q = Tensor::image(1, 4);
  float in[4] = {-0.5f, 0.5f, 0.3f, 2.0f};
  std::copy(in, in + 4, q.data());
  Tensor q8 = quantize(q, 8);
  CHECK(q8.data()[0] == 0.0f);
  CHECK(q8.data()[1] == doctest::Approx(128 / 255.0));
  CHECK(q8.data()[2] == doctest::Approx(77 / 255.0));
  CHECK(q8.data()[3] == 1.0f);
}

TEST_CASE("measure: luma PSNR/SSIM for RGB, reconstruction error over all channels") {
  Tensor ref = testImage(3, 24, 24, 2);
  Tensor x = ref.clone();
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data()[i] += 0.1f; // +0.1 on R, G and B moves Y by 0.1 * (65.481+128.553+24.966)/255
  Quality q = measure(x, ref, 2);
  double dy = 0.1 * (65.481 + 128.553 + 24.966) / 255;
  CHECK(q.psnr == doctest::Approx(-20 * std::log10(dy)).epsilon(1e-4));
  CHECK(q.reconError == doctest::Approx(reconstructionError(x, ref)));
  CHECK(q.ssim < 1);
  CHECK(std::isnan(measure(Tensor::image(12, 12), Tensor::image(12, 12), 1).ssim));
}

TEST_CASE("measureAligned finds the shift of a misregistered result") {
  podm::Tensor ref = podm::io::syntheticImage("scene", 40, 44, 3);
  // x[y + 2, i - 1] = ref[y, i]: the result is the reference moved by (+2, -1).
  podm::Tensor x = podm::Tensor::image(40, 44);
  for (int64_t y = 0; y < 40; ++y)
    for (int64_t i = 0; i < 44; ++i) {
      int64_t sy = std::clamp<int64_t>(y - 2, 0, 39), si = std::clamp<int64_t>(i + 1, 0, 43);
      x.at(y, i) = ref.at(sy, si);
    }
  podm::io::AlignedQuality q = podm::io::measureAligned(x, ref, 2, 3);
  CHECK(q.dy == 2);
  CHECK(q.dx == -1);
  CHECK(std::isinf(q.psnr));
  CHECK(q.ssim == doctest::Approx(1.0));
  // Without the search the same pair scores far lower; with maxShift 0 it is measure().
  podm::io::AlignedQuality plain = podm::io::measureAligned(x, ref, 2, 0);
  CHECK(plain.psnr == podm::io::measure(x, ref, 2).psnr);
  CHECK(plain.psnr < 30);
  CHECK_THROWS_AS(podm::io::measureAligned(x, ref, 20, 3), std::invalid_argument);
}

TEST_CASE("measureAligned in sub-pixel steps: Levin et al.'s window and bilinear samples") {
  // A bilinear function is what bilinear sampling reproduces exactly: x is ref moved by
  // (1.5, -0.75), so the quarter-pixel search finds that shift with no error at all.
  auto f = [](double y, double i) { return 0.2 + 0.01 * y + 0.007 * i + 1e-4 * y * i; };
  podm::Tensor ref = podm::Tensor::image(40, 44), x = podm::Tensor::image(40, 44);
  for (int64_t y = 0; y < 40; ++y)
    for (int64_t i = 0; i < 44; ++i) {
      ref.at(y, i) = float(f(double(y), double(i)));
      x.at(y, i) = float(f(y - 1.5, i + 0.75));
    }
  podm::io::AlignedQuality q = podm::io::measureAligned(x, ref, 3, 2, 4);
  CHECK(q.dy == 1.5);
  CHECK(q.dx == -0.75);
  CHECK(q.psnr > 100); // float rounding only
  // Whole shifts cannot reach it; a half-pixel grid neither (-0.75 is not on it).
  CHECK(podm::io::measureAligned(x, ref, 3, 2, 1).psnr < 60);
  CHECK(podm::io::measureAligned(x, ref, 3, 2, 2).psnr < q.psnr);

  // On a natural-like image the figure is the MSE over ref's window without the shave border,
  // x sampled bilinearly at the best shift: recomputed here directly in double.
  ref = podm::io::syntheticImage("scene", 48, 52, 9);
  x = podm::io::syntheticImage("scene", 48, 52, 10);
  q = podm::io::measureAligned(x, ref, 6, 3, 4);
  CHECK(std::abs(q.dy) <= 3);
  CHECK(std::abs(q.dx) <= 3);
  double sse = 0;
  const int64_t fy = int64_t(std::floor(q.dy)), fx = int64_t(std::floor(q.dx));
  const double ty = q.dy - double(fy), tx = q.dx - double(fx);
  for (int64_t y = 6; y < 42; ++y)
    for (int64_t i = 6; i < 46; ++i) {
      auto at = [&](int64_t r, int64_t c) {
        return double(x.at(std::min<int64_t>(r, 47), std::min<int64_t>(c, 51)));
      };
      const int64_t r = y + fy, c = i + fx;
      const double v = (1 - ty) * ((1 - tx) * at(r, c) + tx * at(r, c + 1)) +
                       ty * ((1 - tx) * at(r + 1, c) + tx * at(r + 1, c + 1));
      sse += (v - ref.at(y, i)) * (v - ref.at(y, i));
    }
  CHECK(q.psnr == doctest::Approx(10 * std::log10(36.0 * 40.0 / sse)).epsilon(1e-4));
  CHECK_THROWS_AS(podm::io::measureAligned(x, ref, 6, 3, 0), std::invalid_argument);
}

TEST_CASE("alignSubdivisions: steps of 1/n pixel only") {
  CHECK(podm::io::alignSubdivisions(1) == 1);
  CHECK(podm::io::alignSubdivisions(0.25) == 4);
  CHECK(podm::io::alignSubdivisions(0.0625) == 16);
  CHECK(podm::io::alignSubdivisions(1.0 / 3) == 3);
  for (double bad : {0.0, -0.25, 0.3, 0.03, 1.5, 2.0})
    CHECK_FALSE(podm::io::alignSubdivisions(bad).has_value());
}
