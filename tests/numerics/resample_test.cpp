// Decimation and zero-filling upsampling: values, ceil sizes, and the adjoint pair.
#include "numerics/resample.h"
#include "tests/numerics/kernel_test_util.h"

#include <doctest/doctest.h>
#include <stdexcept>
#include <vector>

using namespace podm::numerics;
using namespace podm::numerics::test;

TEST_CASE("decimate keeps pixel (i*s, j*s)") {
  std::vector<float> x(6 * 7);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i);
  CHECK(decimatedLength(6, 3) == 2);
  CHECK(decimatedLength(7, 3) == 3);
  std::vector<float> y(2 * 3);
  decimate(x.data(), y.data(), 1, 6, 7, 3);
  CHECK(y == std::vector<float>{0, 3, 6, 21, 24, 27});
}

TEST_CASE("zero-filling upsampling places samples on the grid and zeros elsewhere") {
  std::vector<float> x = {1, 2, 3, 4}, y(4 * 3);
  upsampleZeroFill(x.data(), y.data(), 1, 4, 3, 2);
  CHECK(y == std::vector<float>{1, 0, 2, 0, 0, 0, 3, 0, 4, 0, 0, 0});
}

TEST_CASE("upsampling is the adjoint of decimation, including sizes not divisible by s") {
  struct Case {
    int64_t h, w, s;
  };
  for (auto [h, w, s] : {Case{8, 8, 2}, Case{9, 7, 3}, Case{5, 11, 4}}) {
    const int64_t planes = 3, oh = decimatedLength(h, s), ow = decimatedLength(w, s);
    auto x = randomVector(static_cast<size_t>(planes * h * w), 1);
    auto y = randomVector(static_cast<size_t>(planes * oh * ow), 2);
    std::vector<float> ax(y.size()), aty(x.size());
    decimate(x.data(), ax.data(), planes, h, w, s);
    upsampleZeroFill(y.data(), aty.data(), planes, h, w, s);
    CHECK(adjointMismatch(ax, y, x, aty) < 1e-6);
  }
}

TEST_CASE("factors below 1 are rejected") {
  std::vector<float> x(4), y(4);
  CHECK_THROWS_AS(decimate(x.data(), y.data(), 1, 2, 2, 0), std::invalid_argument);
}
