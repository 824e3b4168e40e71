// The lp prox's vector lanes (stdlib/prox/lp.cpp, lpShrinkRange) against the one-entry reference
// proxmath::lpShrink: the same float wherever the root is not within about 1e-15 of a float's
// rounding boundary, one unit in the last place at most where it is, and IEEE semantics for
// zeros, infinities and NaN (those blocks go through the reference).
#include "stdlib/prox/lp.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <doctest/doctest.h>
#include <limits>
#include <random>
#include <vector>

using namespace podm;

namespace {

int64_t ulpDistance(float a, float b) {
  const int64_t ia = std::bit_cast<int32_t>(a), ib = std::bit_cast<int32_t>(b);
  return ia > ib ? ia - ib : ib - ia;
}

} // namespace

TEST_CASE("lp prox: the vector lanes give the reference's floats") {
  std::mt19937 rng(7);
  for (double p : {0.3, 0.5, 0.8, 0.95}) {
    for (float gamma : {1e-5f, 1e-3f, 0.1f, 2.0f}) {
      CAPTURE(p);
      CAPTURE(gamma);
      const stdlib::LpProx prox(p);
      const proxmath::LpShrinkage s = proxmath::lpShrinkage(p, gamma, prox.maxIterations());
      // Magnitudes over many decades around the threshold, both signs, an odd count (a tail).
      std::vector<float> in(100003);
      std::uniform_real_distribution<double> decades(-3, 3);
      for (float& v : in) {
        const double m = s.tau * std::pow(10.0, decades(rng));
        v = static_cast<float>(rng() % 2 ? m : -m);
      }
      in[5] = static_cast<float>(s.tau); // exactly at the threshold (as a float)
      in[6] = 0.0f;
      in[7] = -0.0f;
      std::vector<float> got(in.size());
      stdlib::lpShrinkRange(in.data(), got.data(), 0, static_cast<int64_t>(in.size()), s);
      int64_t differing = 0, worst = 0;
      for (size_t i = 0; i < in.size(); ++i) {
        const float want = proxmath::lpShrink(in[i], s);
        if (std::bit_cast<uint32_t>(want) != std::bit_cast<uint32_t>(got[i])) {
          ++differing;
          worst = std::max(worst, ulpDistance(want, got[i]));
        }
      }
      CHECK(worst <= 1);
      CHECK(differing <= 20); // of 100,003; a float boundary within 1e-15 is rare
      if (differing > 0)
        MESSAGE(differing << " of " << in.size() << " differ by one ulp");
    }
  }
}

TEST_CASE("lp prox: zeros, infinities and NaN keep the reference's results in a block") {
  const stdlib::LpProx prox(0.8);
  const proxmath::LpShrinkage s = proxmath::lpShrinkage(0.8, 0.01f, prox.maxIterations());
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> in = {0.5f, -0.0f, inf,  0.25f, -0.75f, nan,  1e-30f, -2.0f,
                           0.5f, -0.0f, 0.0f, 0.25f, -0.75f, 3.0f, 1e-30f, -2.0f};
  std::vector<float> got(in.size());
  stdlib::lpShrinkRange(in.data(), got.data(), 0, static_cast<int64_t>(in.size()), s);
  for (size_t i = 0; i < in.size(); ++i) {
    CAPTURE(i);
    const float want = proxmath::lpShrink(in[i], s);
    if (std::isnan(want))
      CHECK(std::isnan(got[i]));
    else
      CHECK(std::bit_cast<uint32_t>(got[i]) == std::bit_cast<uint32_t>(want));
  }
}
