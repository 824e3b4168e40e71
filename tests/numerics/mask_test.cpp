// Mask: broadcast over planes, self-adjoint.
#include "numerics/mask.h"
#include "tests/numerics/kernel_test_util.h"

#include <doctest/doctest.h>
#include <vector>

using namespace podm::numerics;
using namespace podm::numerics::test;

TEST_CASE("one mask plane multiplies every plane") {
  std::vector<float> mask = {1, 0, 0.5f, 2}, x = {1, 2, 3, 4, 5, 6, 7, 8}, y(8);
  applyMask(x.data(), mask.data(), y.data(), 2, 4);
  CHECK(y == std::vector<float>{1, 0, 1.5f, 8, 5, 0, 3.5f, 16});
}

TEST_CASE("masking is self-adjoint and works in place") {
  auto mask = randomVector(35, 1);
  auto x = randomVector(3 * 35, 2), y = randomVector(3 * 35, 3);
  std::vector<float> mx(x.size()), my(y.size());
  applyMask(x.data(), mask.data(), mx.data(), 3, 35);
  applyMask(y.data(), mask.data(), my.data(), 3, 35);
  CHECK(adjointMismatch(mx, y, x, my) < 1e-6);
  applyMask(x.data(), mask.data(), x.data(), 3, 35);
  CHECK(x == mx);
}
