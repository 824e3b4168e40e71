// Small helpers shared by the CPU kernel tests: seeded random data and double-precision
// comparisons.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace podm::numerics::test {

inline std::vector<float> randomVector(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(n);
  for (float& x : v)
    x = normal(rng);
  return v;
}

inline double dotDouble(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i)
    s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return s;
}

inline double normDouble(const std::vector<float>& a) {
  return std::sqrt(dotDouble(a, a));
}

// max |a - b| / max(1, max |b|): the error of a against a reference b on the reference's scale.
inline double relativeMaxError(const std::vector<float>& a, const std::vector<float>& b) {
  double err = 0.0, scale = 1.0;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return err / scale;
}

// |<A x, y> - <x, A' y>| relative to the size of the inner product. For independent random x, y
// the inner product is typically ||Ax|| ||y|| / sqrt(len(y)) but can land near zero by chance;
// dividing by that alone would turn float rounding into spurious failures, so the typical size is
// the floor of the denominator. A wrong adjoint A' + E still shows up at ~||E||_F / ||A||_F.
inline double adjointMismatch(const std::vector<float>& ax, const std::vector<float>& y,
                              const std::vector<float>& x, const std::vector<float>& aty) {
  double lhs = dotDouble(ax, y), rhs = dotDouble(x, aty);
  double typical = normDouble(ax) * normDouble(y) / std::sqrt(static_cast<double>(y.size()));
  return std::abs(lhs - rhs) / std::max({std::abs(lhs), std::abs(rhs), typical, 1e-300});
}

} // namespace podm::numerics::test
