// Operator-norm estimates by power iteration against norms known in closed form.
#include "stdlib/linop/ops.h"
#include "tests/stdlib/linop/op_test_cases.h"

#include <cmath>
#include <doctest/doctest.h>

using namespace podm;
using namespace podm::stdlib;
using namespace podm::stdlib::test;

namespace {

LinopPtr make(const char* name, LinopArgs args = {}) {
  return linopRegistry().find(name)->create(args);
}

Tensor gaussianKernel(int64_t size, double sigma) {
  Tensor k({1, 1, size, size});
  double total = 0.0;
  for (int64_t i = 0; i < k.numel(); ++i) {
    double dy = i / size - size / 2, dx = i % size - size / 2;
    k.data()[i] = static_cast<float>(std::exp(-(dy * dy + dx * dx) / (2 * sigma * sigma)));
    total += k.data()[i];
  }
  for (int64_t i = 0; i < k.numel(); ++i)
    k.data()[i] = static_cast<float>(k.data()[i] / total);
  return k;
}

} // namespace

TEST_CASE("a normalized Gaussian blur with periodic boundary has norm 1 (its DC gain)") {
  LinopArgs a;
  a.tensors["kernel"] = gaussianKernel(7, 1.5);
  a.strings["boundary"] = "periodic";
  // On 32x32 the next eigenvalue of K'K is exp(-sigma^2 (2 pi/32)^2)^2 ~ 0.84: 60 iterations
  // leave an error far below the tolerance.
  double n = estimateOperatorNorm(*make("conv", a), {1, 1, 32, 32}, 60, 1);
  CHECK(n == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(n <= 1.0 + 1e-6);
}

TEST_CASE("sampling and orthogonal operators have norm 1") {
  LinopArgs two;
  two.numbers["s"] = 2;
  CHECK(estimateOperatorNorm(*make("decimate", two), {1, 1, 16, 16}, 3, 2) ==
        doctest::Approx(1.0).epsilon(1e-6));
  CHECK(estimateOperatorNorm(*make("upsample", two), {1, 1, 8, 8}, 3, 3) ==
        doctest::Approx(1.0).epsilon(1e-6));
  LinopArgs levels;
  levels.numbers["levels"] = 3;
  CHECK(estimateOperatorNorm(*make("haar", levels), {1, 1, 16, 16}, 3, 4) ==
        doctest::Approx(1.0).epsilon(1e-6));
  CHECK(estimateOperatorNorm(*make("dct"), {1, 2, 9, 7}, 3, 5) ==
        doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("periodic finite differences have norm sqrt(8) on even sizes") {
  // Eigenvalues of D'D are 4 sin^2(pi k/h) + 4 sin^2(pi l/w); the maximum 8 is at k = h/2, l = w/2.
  LinopArgs periodic;
  periodic.strings["boundary"] = "periodic";
  double n = estimateOperatorNorm(*make("grad", periodic), {1, 1, 8, 8}, 300, 6);
  CHECK(n == doctest::Approx(std::sqrt(8.0)).epsilon(1e-5));
  // Neumann differences stay strictly below: sqrt(8 cos^2(pi/(2*8)))... < sqrt(8).
  double neumann = estimateOperatorNorm(*make("grad"), {1, 1, 8, 8}, 300, 6);
  CHECK(neumann < std::sqrt(8.0) - 1e-3);
  // Neumann: D'D = L_h (x) I + I (x) L_w with path-graph Laplacians, max eigenvalue
  // 2 * (2 - 2 cos(pi (n-1)/n)) for n = 8.
  double expected = std::sqrt(2.0 * (2.0 - 2.0 * std::cos(M_PI * 7.0 / 8.0)));
  CHECK(neumann == doctest::Approx(expected).epsilon(1e-4));
}

TEST_CASE("scaling multiplies the norm; the estimate is deterministic for a seed") {
  LinopPtr op = scaled(-3.0, make("identity"));
  CHECK(estimateOperatorNorm(*op, {1, 1, 5, 5}, 2, 7) == doctest::Approx(3.0).epsilon(1e-6));
  LinopArgs a;
  a.tensors["kernel"] = randomTensor({1, 1, 3, 3}, 8);
  LinopPtr k = make("conv", a);
  CHECK(estimateOperatorNorm(*k, {1, 1, 12, 12}, 10, 9) ==
        estimateOperatorNorm(*k, {1, 1, 12, 12}, 10, 9));
  CHECK_THROWS_AS(estimateOperatorNorm(*k, {1, 1, 12, 12}, 0, 9), std::invalid_argument);
}

TEST_CASE("the estimate bounds ||A x|| / ||x|| from below and converges from below") {
  LinopArgs a;
  a.tensors["kernel"] = randomTensor({1, 1, 5, 5}, 10);
  a.strings["boundary"] = "zero";
  LinopPtr k = make("conv", a);
  double coarse = estimateOperatorNorm(*k, {1, 1, 20, 20}, 3, 11);
  double fine = estimateOperatorNorm(*k, {1, 1, 20, 20}, 200, 11);
  CHECK(coarse <= fine * (1 + 1e-6));
  Tensor x = randomTensor({1, 1, 20, 20}, 12), y({1, 1, 20, 20});
  k->apply(x, y);
  CHECK(norm(y) / norm(x) <= fine * (1 + 1e-4));
}
