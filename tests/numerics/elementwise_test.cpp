// Elementwise ops and reductions against plain loops, including vector tails and double sums.
#include "numerics/elementwise.h"
#include "tests/numerics/kernel_test_util.h"

#include <doctest/doctest.h>
#include <vector>

using namespace podm::numerics;
using namespace podm::numerics::test;

TEST_CASE("elementwise ops match plain loops for every tail length") {
  for (int64_t n : {0, 1, 7, 8, 9, 33, 1000}) {
    CAPTURE(n);
    auto x = randomVector(static_cast<size_t>(n), 1), y = randomVector(static_cast<size_t>(n), 2);
    std::vector<float> z(static_cast<size_t>(n)), w = y;
    axpy(0.5f, x.data(), w.data(), n);
    for (int64_t i = 0; i < n; ++i)
      CHECK(w[i] == y[i] + 0.5f * x[i]);
    w = y;
    axpby(2.0f, x.data(), -3.0f, w.data(), n);
    for (int64_t i = 0; i < n; ++i)
      CHECK(w[i] == 2.0f * x[i] + -3.0f * y[i]);
    scale(-1.5f, x.data(), z.data(), n);
    for (int64_t i = 0; i < n; ++i)
      CHECK(z[i] == -1.5f * x[i]);
    add(x.data(), y.data(), z.data(), n);
    for (int64_t i = 0; i < n; ++i)
      CHECK(z[i] == x[i] + y[i]);
    sub(x.data(), y.data(), z.data(), n);
    for (int64_t i = 0; i < n; ++i)
      CHECK(z[i] == x[i] - y[i]);
    mul(x.data(), y.data(), z.data(), n);
    for (int64_t i = 0; i < n; ++i)
      CHECK(z[i] == x[i] * y[i]);
    clamp(x.data(), -0.5f, 0.25f, z.data(), n);
    for (int64_t i = 0; i < n; ++i)
      CHECK(z[i] == std::min(std::max(x[i], -0.5f), 0.25f));

    double d = 0, s = 0, q = 0;
    for (int64_t i = 0; i < n; ++i) {
      d += static_cast<double>(x[i]) * y[i];
      s += x[i];
      q += static_cast<double>(x[i]) * x[i];
    }
    CHECK(dot(x.data(), y.data(), n) == doctest::Approx(d).epsilon(1e-12));
    CHECK(sum(x.data(), n) == doctest::Approx(s).epsilon(1e-12));
    CHECK(squaredNorm(x.data(), n) == doctest::Approx(q).epsilon(1e-12));
  }
}

TEST_CASE("ops accept an output that aliases an input") {
  auto x = randomVector(100, 3);
  auto expected = x;
  for (float& v : expected)
    v = v * v;
  mul(x.data(), x.data(), x.data(), 100);
  CHECK(x == expected);
}

TEST_CASE("reductions accumulate in double") {
  // In float, 1e8 + 1 == 1e8: a float accumulator would lose all 1000 ones.
  std::vector<float> x(1001, 1.0f);
  x[0] = 1e8f;
  CHECK(sum(x.data(), 1001) == 1e8 + 1000.0);
  std::vector<float> ones(1001, 1.0f);
  CHECK(dot(x.data(), ones.data(), 1001) == 1e8 + 1000.0);
  std::vector<float> small(1000, 1e-4f);
  small.push_back(1e4f);
  CHECK(squaredNorm(small.data(), 1001) ==
        doctest::Approx(1e8 + 1000.0 * (double(1e-4f) * double(1e-4f))).epsilon(1e-15));
}
