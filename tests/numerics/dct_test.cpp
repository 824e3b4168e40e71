// Orthonormal DCT: the textbook formula, orthonormality, inverse = adjoint, unaligned planes.
#include "numerics/dct.h"
#include "tests/numerics/kernel_test_util.h"

#include <cmath>
#include <doctest/doctest.h>
#include <numbers>
#include <vector>

using namespace podm::numerics;
using namespace podm::numerics::test;

namespace {

std::vector<float> naiveDct(const std::vector<float>& x, int64_t h, int64_t w) {
  auto c = [](int64_t k, int64_t n) { return k == 0 ? std::sqrt(1.0 / n) : std::sqrt(2.0 / n); };
  std::vector<float> y(x.size());
  for (int64_t k = 0; k < h; ++k)
    for (int64_t l = 0; l < w; ++l) {
      double s = 0.0;
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j)
          s += x[static_cast<size_t>(i * w + j)] *
               std::cos(std::numbers::pi * (2 * i + 1) * k / (2.0 * h)) *
               std::cos(std::numbers::pi * (2 * j + 1) * l / (2.0 * w));
      y[static_cast<size_t>(k * w + l)] = static_cast<float>(c(k, h) * c(l, w) * s);
    }
  return y;
}

} // namespace

TEST_CASE("dctForward is the orthonormal DCT-II (MATLAB dct2)") {
  for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 6}, {8, 8}, {1, 7}, {3, 1}}) {
    CAPTURE(h);
    CAPTURE(w);
    auto x = randomVector(static_cast<size_t>(h * w), 1);
    std::vector<float> y(x.size());
    dctForward(x.data(), y.data(), 1, h, w);
    CHECK(relativeMaxError(y, naiveDct(x, h, w)) < 2e-6);
  }
}

TEST_CASE("a constant image has only a DC coefficient, sqrt(h*w) times the value") {
  std::vector<float> x(6 * 10, 2.0f), y(x.size());
  dctForward(x.data(), y.data(), 1, 6, 10);
  CHECK(y[0] == doctest::Approx(2.0 * std::sqrt(60.0)));
  for (size_t i = 1; i < y.size(); ++i)
    CHECK(std::abs(y[i]) < 1e-5f);
}

TEST_CASE("DCT preserves norms, and DCT-III inverts it and is its adjoint (odd planes)") {
  const int64_t planes = 3, h = 7, w = 9; // 63 floats per plane: planes 2 and 3 are unaligned
  auto x = randomVector(static_cast<size_t>(planes * h * w), 2);
  std::vector<float> y(x.size()), back(x.size());
  dctForward(x.data(), y.data(), planes, h, w);
  CHECK(normDouble(y) == doctest::Approx(normDouble(x)).epsilon(1e-6));
  dctInverse(y.data(), back.data(), planes, h, w);
  CHECK(relativeMaxError(back, x) < 1e-6);
  auto r = randomVector(x.size(), 3);
  std::vector<float> atr(x.size());
  dctInverse(r.data(), atr.data(), planes, h, w);
  CHECK(adjointMismatch(y, r, x, atr) < 1e-5);
  // Each plane is transformed on its own.
  std::vector<float> second(x.begin() + h * w, x.begin() + 2 * h * w);
  std::vector<float> secondY(y.begin() + h * w, y.begin() + 2 * h * w);
  CHECK(relativeMaxError(secondY, naiveDct(second, h, w)) < 2e-6);
}
