// log and exp of doubles written without branches or calls, so that a loop over an array of them
// vectorizes (libm's are calls, one element at a time). Accuracy: about 1e-15 relative for pow
// through them over the ranges stated; not correctly rounded, so a result may differ from libm's
// in the last bits. For hot loops that need a pow per element to well below float resolution
// (the lp prox's Newton steps).
#pragma once

#include <bit>
#include <cstdint>

namespace podm::numerics {

// Natural log of a positive normal double (no zero, subnormal, infinity or NaN). x = 2^k m with
// m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.172, by its series
// to s^19 (next term below 1e-17 of the sum).
inline double logPositive(double x) {
  const uint64_t bits = std::bit_cast<uint64_t>(x);
  const uint64_t mantissa = bits & uint64_t{0x000fffffffffffff};
  // m = 1.mantissa in [1, 2), halved when above sqrt(2) (mantissa bits of sqrt 2: 0x6a09e667f3bcd).
  // Integer selects and bit tricks only: GCC keeps a conditional floating-point operation (or a
  // bool converted to double) a branch, which would stop the loop from vectorizing.
  const uint64_t high = mantissa > uint64_t{0x6a09e667f3bcd} ? 1 : 0;
  const double m = std::bit_cast<double>(mantissa | ((uint64_t{1023} - high) << 52));
  // Small integers as doubles: 2^52 + i has i in its low mantissa bits.
  auto smallInteger = [](uint64_t i) {
    return std::bit_cast<double>(uint64_t{0x4330000000000000} | i) - 4503599627370496.0;
  };
  const double k = smallInteger((bits >> 52) + high) - 1023.0;
  const double s = (m - 1.0) / (m + 1.0), z = s * s;
  // clang-format off
  const double series = 1.0 + z * (1.0 / 3 + z * (1.0 / 5 + z * (1.0 / 7 + z * (1.0 / 9 +
                        z * (1.0 / 11 + z * (1.0 / 13 + z * (1.0 / 15 + z * (1.0 / 17 +
                        z * (1.0 / 19)))))))));
  // clang-format on
  return k * 0.6931471805599453 + 2.0 * s * series;
}

// e^y for |y| < 700. y = n ln 2 + r, |r| <= ln(2)/2, e^r by its Taylor series to r^13 (the
// remainder is below 1e-17), and 2^n from the exponent bits.
inline double expBounded(double y) {
  constexpr double kShift = 6755399441055744.0; // 1.5 * 2^52: adding it rounds to an integer
  const double t = y * 1.4426950408889634 + kShift;
  const double n = t - kShift;
  const int64_t ni = std::bit_cast<int64_t>(t) - std::bit_cast<int64_t>(kShift);
  // ln 2 in two parts, so that n * hi is exact and r keeps its low bits.
  const double r = (y - n * 0.6931471803691238) - n * 1.9082149292705877e-10;
  // clang-format off
  const double er = 1.0 + r * (1.0 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 +
                    r * (1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880 +
                    r * (1.0 / 3628800 + r * (1.0 / 39916800 + r * (1.0 / 479001600 +
                    r * (1.0 / 6227020800)))))))))))));
  // clang-format on
  return er * std::bit_cast<double>(static_cast<uint64_t>(ni + 1023) << 52);
}

// x^e for a positive normal x, with |e log x| < 700.
inline double powPositive(double x, double e) {
  return expBounded(e * logPositive(x));
}

} // namespace podm::numerics
