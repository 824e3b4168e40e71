// Haar: hand-computed block, orthonormality (norms, W'W = I, explicit transpose), size errors.
#include "numerics/haar.h"
#include "tests/numerics/kernel_test_util.h"

#include <doctest/doctest.h>
#include <stdexcept>
#include <vector>

using namespace podm::numerics;
using namespace podm::numerics::test;

TEST_CASE("one level on a 2x2 block gives the four normalized sums and differences") {
  std::vector<float> x = {1, 2, 3, 4}, y(4);
  haarForward(x.data(), y.data(), 1, 2, 2, 1);
  // (a+b+c+d)/2, (a-b+c-d)/2, (a+b-c-d)/2, (a-b-c+d)/2 with a,b,c,d = 1,2,3,4.
  CHECK(y == std::vector<float>{5.0f, -1.0f, -2.0f, 0.0f});
}

TEST_CASE("the layout puts details in the quadrants of each level") {
  // A constant image has only an approximation coefficient after every level.
  std::vector<float> x(8 * 8, 1.0f), y(64);
  haarForward(x.data(), y.data(), 1, 8, 8, 3);
  CHECK(y[0] == doctest::Approx(8.0)); // sum / sqrt(64)
  for (size_t i = 1; i < y.size(); ++i)
    CHECK(y[i] == doctest::Approx(0.0));
}

TEST_CASE("Haar is orthonormal: norms are preserved and the inverse is the adjoint") {
  struct Case {
    int64_t h, w;
    int levels;
  };
  for (auto [h, w, levels] : {Case{8, 8, 3}, Case{12, 20, 2}, Case{6, 2, 1}}) {
    CAPTURE(h);
    CAPTURE(w);
    const int64_t planes = 3;
    auto x = randomVector(static_cast<size_t>(planes * h * w), 1);
    std::vector<float> y(x.size()), back(x.size());
    haarForward(x.data(), y.data(), planes, h, w, levels);
    CHECK(normDouble(y) == doctest::Approx(normDouble(x)).epsilon(1e-6));
    haarInverse(y.data(), back.data(), planes, h, w, levels);
    CHECK(relativeMaxError(back, x) < 1e-6);
    auto r = randomVector(x.size(), 2);
    std::vector<float> wtr(x.size());
    haarInverse(r.data(), wtr.data(), planes, h, w, levels);
    CHECK(adjointMismatch(y, r, x, wtr) < 1e-5);
  }
}

TEST_CASE("W W' = I on the basis (explicit matrix of a 4x4, two levels)") {
  const int64_t n = 16;
  std::vector<std::vector<float>> columns;
  std::vector<float> e(n), col(n);
  for (int64_t j = 0; j < n; ++j) {
    std::fill(e.begin(), e.end(), 0.0f);
    e[static_cast<size_t>(j)] = 1.0f;
    haarForward(e.data(), col.data(), 1, 4, 4, 2);
    columns.push_back(col);
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      CHECK(dotDouble(columns[static_cast<size_t>(i)], columns[static_cast<size_t>(j)]) ==
            doctest::Approx(i == j ? 1.0 : 0.0));
}

TEST_CASE("in-place transforms work") {
  auto x = randomVector(16 * 16, 3);
  auto y = x;
  haarForward(y.data(), y.data(), 1, 16, 16, 4);
  haarInverse(y.data(), y.data(), 1, 16, 16, 4);
  CHECK(relativeMaxError(y, x) < 1e-6);
}

TEST_CASE("sizes not divisible by 2^levels are rejected with a clear message") {
  std::vector<float> x(100 * 64), y(x.size());
  CHECK_THROWS_WITH_AS(haarForward(x.data(), y.data(), 1, 100, 64, 3),
                       doctest::Contains("divisible by 2^levels = 8"), std::invalid_argument);
  CHECK_THROWS_AS(haarForward(x.data(), y.data(), 1, 8, 8, 0), std::invalid_argument);
}
