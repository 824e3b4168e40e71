// Finite differences: values at the borders for both boundaries, exact adjoint, Laplacian check.
#include "numerics/finite_diff.h"
#include "tests/numerics/kernel_test_util.h"

#include <doctest/doctest.h>
#include <vector>

using namespace podm::numerics;
using namespace podm::numerics::test;

TEST_CASE("forward differences with Neumann and periodic ends") {
  // x = [1 2 4; 8 16 32]
  std::vector<float> x = {1, 2, 4, 8, 16, 32}, g(12);
  gradient(x.data(), g.data(), 1, 2, 3, DiffBoundary::Neumann);
  CHECK(std::vector<float>(g.begin(), g.begin() + 6) == std::vector<float>{1, 2, 0, 8, 16, 0});
  CHECK(std::vector<float>(g.begin() + 6, g.end()) == std::vector<float>{7, 14, 28, 0, 0, 0});
  gradient(x.data(), g.data(), 1, 2, 3, DiffBoundary::Periodic);
  CHECK(std::vector<float>(g.begin(), g.begin() + 6) == std::vector<float>{1, 2, -3, 8, 16, -24});
  CHECK(std::vector<float>(g.begin() + 6, g.end()) == std::vector<float>{7, 14, 28, -7, -14, -28});
}

TEST_CASE("the adjoint (negative divergence) is exact for every size, including 1-pixel lines") {
  for (auto b : {DiffBoundary::Neumann, DiffBoundary::Periodic})
    for (auto [h, w] : {std::pair<int64_t, int64_t>{1, 1}, {1, 6}, {5, 1}, {7, 3}, {16, 16}}) {
      CAPTURE(h);
      CAPTURE(w);
      const int64_t planes = 2;
      auto x = randomVector(static_cast<size_t>(planes * h * w), 1);
      auto y = randomVector(static_cast<size_t>(2 * planes * h * w), 2);
      std::vector<float> ax(y.size()), aty(x.size());
      gradient(x.data(), ax.data(), planes, h, w, b);
      gradientAdjoint(y.data(), aty.data(), planes, h, w, b);
      if (h * w > 1)
        CHECK(adjointMismatch(ax, y, x, aty) < 1e-6);
      // Column by column: (A' e_i)[j] must equal (A e_j)[i].
      std::vector<float> e(x.size()), col(y.size()), f(y.size()), row(x.size());
      for (size_t j = 0; j < x.size(); ++j) {
        std::fill(e.begin(), e.end(), 0.0f);
        e[j] = 1.0f;
        gradient(e.data(), col.data(), planes, h, w, b);
        for (size_t i = 0; i < y.size(); i += 3) {
          std::fill(f.begin(), f.end(), 0.0f);
          f[i] = 1.0f;
          gradientAdjoint(f.data(), row.data(), planes, h, w, b);
          CHECK(row[j] == col[i]);
        }
      }
    }
}

TEST_CASE("grad' grad is the 5-point Laplacian (periodic)") {
  const int64_t h = 6, w = 5;
  auto x = randomVector(static_cast<size_t>(h * w), 3);
  std::vector<float> g(2 * x.size()), lap(x.size());
  gradient(x.data(), g.data(), 1, h, w, DiffBoundary::Periodic);
  gradientAdjoint(g.data(), lap.data(), 1, h, w, DiffBoundary::Periodic);
  auto at = [&](int64_t i, int64_t j) {
    return static_cast<double>(x[static_cast<size_t>(((i + h) % h) * w + (j + w) % w)]);
  };
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      double expected = 4 * at(i, j) - at(i - 1, j) - at(i + 1, j) - at(i, j - 1) - at(i, j + 1);
      CHECK(lap[static_cast<size_t>(i * w + j)] == doctest::Approx(expected).epsilon(1e-5));
    }
}
