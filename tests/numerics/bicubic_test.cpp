// Bicubic resize against values computed by hand from the Keys kernel and against an independent
// dense reference written here (no code shared with the implementation).
#include "numerics/bicubic.h"
#include "tests/numerics/kernel_test_util.h"

#include <cmath>
#include <doctest/doctest.h>
#include <vector>

using namespace podm::numerics;
using namespace podm::numerics::test;

namespace {

// Keys (1981) cubic convolution kernel with a = -0.5, written out from the paper's formula.
double keys(double t) {
  const double a = -0.5;
  t = std::fabs(t);
  if (t <= 1)
    return (a + 2) * t * t * t - (a + 3) * t * t + 1;
  if (t < 2)
    return a * t * t * t - 5 * a * t * t + 8 * a * t - 4 * a;
  return 0;
}

// Dense 1-D resampling matrix (out x in) following MATLAB's description: output pixel o (0-based)
// centred at input coordinate (o + 0.5)/scale - 0.5 (0-based), kernel stretched by 1/scale when
// shrinking, samples mirrored at the borders (pixel -1 is pixel 0), weights normalized.
std::vector<double> referenceMatrix(int64_t in, int64_t out, double scale) {
  const double stretch = scale < 1 ? scale : 1.0;
  std::vector<double> m(static_cast<size_t>(out * in), 0.0);
  for (int64_t o = 0; o < out; ++o) {
    double centre = (o + 0.5) / scale - 0.5;
    double total = 0.0;
    for (int64_t p = static_cast<int64_t>(std::floor(centre)) - 40;
         p <= static_cast<int64_t>(std::ceil(centre)) + 40; ++p) {
      double wgt = stretch * keys(stretch * (centre - p));
      if (wgt == 0)
        continue;
      int64_t q = p;
      while (q < 0 || q >= in)
        q = q < 0 ? -1 - q : 2 * in - 1 - q;
      m[static_cast<size_t>(o * in + q)] += wgt;
      total += wgt;
    }
    for (int64_t i = 0; i < in; ++i)
      m[static_cast<size_t>(o * in + i)] /= total;
  }
  return m;
}

std::vector<float> referenceResize(const std::vector<float>& x, int64_t h, int64_t w, int64_t oh,
                                   int64_t ow, double scale) {
  auto rows = referenceMatrix(h, oh, scale), cols = referenceMatrix(w, ow, scale);
  std::vector<float> y(static_cast<size_t>(oh * ow));
  for (int64_t i = 0; i < oh; ++i)
    for (int64_t j = 0; j < ow; ++j) {
      double s = 0.0;
      for (int64_t r = 0; r < h; ++r)
        for (int64_t c = 0; c < w; ++c)
          s += rows[static_cast<size_t>(i * h + r)] * cols[static_cast<size_t>(j * w + c)] *
               x[static_cast<size_t>(r * w + c)];
      y[static_cast<size_t>(i * ow + j)] = static_cast<float>(s);
    }
  return y;
}

} // namespace

TEST_CASE("x2 upscaling uses the classic bicubic weights in the interior") {
  // u = 3.75 (1-based) for output 7: distances 1.75, 0.75, 0.25, 1.25 to inputs 2..5 (1-based).
  AxisWeights wts = bicubicAxisWeights(8, 16, 2.0);
  const int64_t o = 6; // 0-based
  std::vector<int32_t> idx(wts.index.begin() + wts.start[o], wts.index.begin() + wts.start[o + 1]);
  std::vector<float> wgt(wts.weight.begin() + wts.start[o], wts.weight.begin() + wts.start[o + 1]);
  CHECK(idx == std::vector<int32_t>{1, 2, 3, 4});
  CHECK(wgt[0] == doctest::Approx(-0.0234375));
  CHECK(wgt[1] == doctest::Approx(0.2265625));
  CHECK(wgt[2] == doctest::Approx(0.8671875));
  CHECK(wgt[3] == doctest::Approx(-0.0703125));
}

TEST_CASE("x2 upscaling of a ramp, by hand") {
  // Rows [1 2 3 4]: output 1 reads inputs (2,1,1,2) after mirroring -> 0.90625; output 3 reads
  // (1,1,2,3) -> -0.0234375 + 0.2265625 + 2*0.8671875 - 3*0.0703125 = 1.7265625.
  std::vector<float> x = {1, 2, 3, 4, 1, 2, 3, 4};
  BicubicResize2d resize(2, 4, 2.0);
  REQUIRE(resize.outH() == 4);
  REQUIRE(resize.outW() == 8);
  std::vector<float> y(32);
  resize.apply(x.data(), y.data(), 1);
  for (int64_t r = 0; r < 4; ++r) {
    CHECK(y[static_cast<size_t>(r * 8 + 0)] == doctest::Approx(0.90625).epsilon(1e-6));
    CHECK(y[static_cast<size_t>(r * 8 + 2)] == doctest::Approx(1.7265625).epsilon(1e-6));
    CHECK(y[static_cast<size_t>(r * 8 + 7)] == doctest::Approx(5.0 - 0.90625).epsilon(1e-6));
  }
}

TEST_CASE("x1/2 downscaling with antialiasing, by hand") {
  // Kernel 0.5*k(0.5 t), 8 taps: -0.01171875 -0.03515625 0.11328125 0.43359375 (and mirrored).
  AxisWeights wts = bicubicAxisWeights(8, 4, 0.5);
  const int64_t o = 1;
  std::vector<float> wgt(wts.weight.begin() + wts.start[o], wts.weight.begin() + wts.start[o + 1]);
  std::vector<int32_t> idx(wts.index.begin() + wts.start[o], wts.index.begin() + wts.start[o + 1]);
  // Output 2 (1-based) is centred at 3.5: taps at inputs 0..7 (1-based), input 0 mirrors to 1.
  REQUIRE(idx.size() == 7);
  CHECK(idx[0] == 0);
  CHECK(wgt[0] == doctest::Approx(-0.01171875 - 0.03515625));
  CHECK(wgt[1] == doctest::Approx(0.11328125));
  CHECK(wgt[2] == doctest::Approx(0.43359375));
  CHECK(wgt[3] == doctest::Approx(0.43359375));
  // A ramp 1..8 maps to 1.44921875 (first output, taps on inputs 3 2 1 1 2 3 4 5) and 3.48828125.
  std::vector<float> ramp = {1, 2, 3, 4, 5, 6, 7, 8}, out(4);
  BicubicResize2d resize(1, 8, 1, 4, 0.5);
  resize.apply(ramp.data(), out.data(), 1);
  CHECK(out[0] == doctest::Approx(1.44921875).epsilon(1e-6));
  CHECK(out[1] == doctest::Approx(3.48828125).epsilon(1e-6));
}

TEST_CASE("resize matches the dense reference for up- and downscaling on odd sizes") {
  struct Case {
    int64_t h, w;
    double scale;
  };
  for (Case c : {Case{7, 9, 2.0}, Case{5, 4, 3.0}, Case{12, 18, 0.5}, Case{9, 15, 1.0 / 3.0},
                 Case{16, 8, 0.25}, Case{3, 3, 0.5}}) {
    CAPTURE(c.h);
    CAPTURE(c.w);
    CAPTURE(c.scale);
    BicubicResize2d resize(c.h, c.w, c.scale);
    CHECK(resize.outH() == static_cast<int64_t>(std::ceil(c.h * c.scale)));
    auto x = randomVector(static_cast<size_t>(c.h * c.w), 5);
    std::vector<float> y(static_cast<size_t>(resize.outH() * resize.outW()));
    resize.apply(x.data(), y.data(), 1);
    CHECK(relativeMaxError(y, referenceResize(x, c.h, c.w, resize.outH(), resize.outW(), c.scale)) <
          2e-6);
  }
}

TEST_CASE("constants are preserved and the adjoint is the transpose") {
  for (double scale : {0.5, 0.25, 2.0, 3.0}) {
    BicubicResize2d resize(12, 20, scale);
    const int64_t planes = 2, in = 12 * 20, out = resize.outH() * resize.outW();
    std::vector<float> ones(static_cast<size_t>(in), 1.0f), y(static_cast<size_t>(out));
    resize.apply(ones.data(), y.data(), 1);
    for (float v : y)
      CHECK(v == doctest::Approx(1.0).epsilon(1e-6));
    auto x = randomVector(static_cast<size_t>(planes * in), 6);
    auto r = randomVector(static_cast<size_t>(planes * out), 7);
    std::vector<float> ax(r.size()), atr(x.size());
    resize.apply(x.data(), ax.data(), planes);
    resize.adjoint(r.data(), atr.data(), planes);
    CHECK(adjointMismatch(ax, r, x, atr) < 1e-5);
  }
}

TEST_CASE("the pass order gives the gathers the fewer rows, and both orders match the reference") {
  // Shrinking runs the height pass first (the width gathers then see 1/s of the rows), enlarging
  // the width pass first.
  CHECK_FALSE(BicubicResize2d(64, 64, 0.25).widthFirst());
  CHECK(BicubicResize2d(16, 16, 4.0).widthFirst());
  // Large enough planes (512^2 = numerics::kThreadedPixels) to split into row bands on a
  // multi-core machine, in both directions; the adjoint against the transpose of the forward.
  for (double scale : {0.25, 4.0}) {
    CAPTURE(scale);
    const int64_t side = scale < 1 ? 512 : 128;
    BicubicResize2d resize(side, side, scale);
    const int64_t in = side * side, out = resize.outH() * resize.outW();
    auto x = randomVector(static_cast<size_t>(in), 8);
    auto r = randomVector(static_cast<size_t>(out), 9);
    std::vector<float> ax(r.size()), atr(x.size());
    resize.apply(x.data(), ax.data(), 1);
    resize.adjoint(r.data(), atr.data(), 1);
    CHECK(adjointMismatch(ax, r, x, atr) < 1e-5);
  }
  // Small planes in both orders against the dense reference (written without separability).
  for (double scale : {0.25, 0.5, 2.0, 4.0}) {
    CAPTURE(scale);
    const int64_t h = scale < 1 ? 24 : 6, w = scale < 1 ? 20 : 5;
    BicubicResize2d resize(h, w, scale);
    auto x = randomVector(static_cast<size_t>(h * w), 10);
    std::vector<float> y(static_cast<size_t>(resize.outH() * resize.outW()));
    resize.apply(x.data(), y.data(), 1);
    CHECK(relativeMaxError(y, referenceResize(x, h, w, resize.outH(), resize.outW(), scale)) <
          2e-6);
  }
}

TEST_CASE("transposed axis weights hold every weight once, in increasing output order") {
  const AxisWeights weights = bicubicAxisWeights(13, 5, 0.4);
  const AxisWeights t = transposedAxisWeights(weights);
  REQUIRE(t.outLength == 13);
  REQUIRE(t.inLength == 5);
  REQUIRE(t.start.size() == 14);
  CHECK(t.start.back() == static_cast<int64_t>(weights.index.size()));
  for (int64_t i = 0; i < t.outLength; ++i)
    for (int64_t m = t.start[static_cast<size_t>(i)] + 1; m < t.start[static_cast<size_t>(i + 1)];
         ++m)
      CHECK(t.index[static_cast<size_t>(m - 1)] < t.index[static_cast<size_t>(m)]);
  for (int64_t o = 0; o < weights.outLength; ++o)
    for (int64_t k = weights.start[static_cast<size_t>(o)];
         k < weights.start[static_cast<size_t>(o + 1)]; ++k) {
      const int32_t i = weights.index[static_cast<size_t>(k)];
      int found = 0;
      for (int64_t m = t.start[static_cast<size_t>(i)]; m < t.start[static_cast<size_t>(i) + 1];
           ++m)
        if (t.index[static_cast<size_t>(m)] == o) {
          ++found;
          CHECK(t.weight[static_cast<size_t>(m)] == weights.weight[static_cast<size_t>(k)]);
        }
      CHECK(found == 1);
    }
}
