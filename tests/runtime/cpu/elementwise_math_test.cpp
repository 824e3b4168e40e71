// The per-element functors both backends instantiate (runtime/elementwise_math.h): what the CPU
// checks here is the arithmetic the CUDA kernels run, so edge cases are pinned on the host.
#include "runtime/elementwise_math.h"

#include <cmath>
#include <complex>
#include <doctest/doctest.h>

using namespace podm;
using cf = std::complex<float>;

TEST_CASE("complex products and quotients are the textbook formulas") {
  const cf a(1.5f, -2.f), b(0.25f, 3.f);
  const cf p = ew::Mul::f(a, b), q = ew::Div::f(a, b);
  CHECK(p.real() == doctest::Approx((a * b).real()));
  CHECK(p.imag() == doctest::Approx((a * b).imag()));
  CHECK(q.real() == doctest::Approx((a / b).real()));
  CHECK(q.imag() == doctest::Approx((a / b).imag()));
  // A real scalar divided by a complex value is the scalar as (s, 0).
  const cf r = ew::Div::f(2.f, b);
  CHECK(r.real() == doctest::Approx((2.f / b).real()));
  CHECK(r.imag() == doctest::Approx((2.f / b).imag()));
}

TEST_CASE("mixed real and complex operands keep the imaginary part where they must") {
  const cf a(1.f, 2.f);
  CHECK(ew::Add::f(a, 3.f) == cf(4.f, 2.f));
  CHECK(ew::Sub::f(3.f, a) == cf(2.f, -2.f));
  CHECK(ew::Mul::f(2.f, a) == cf(2.f, 4.f));
  CHECK(ew::Div::f(a, 2.f) == cf(0.5f, 1.f));
}

TEST_CASE("unary functors: sign of zero, clamp bounds, abs2 and the complex-only ops") {
  CHECK(ew::Sign::f(0.f, 0, 0) == 0.f);
  CHECK(ew::Sign::f(-0.f, 0, 0) == 0.f);
  CHECK(ew::Sign::f(-3.f, 0, 0) == -1.f);
  CHECK(ew::Clamp::f(-1.f, 0.f, 1.f) == 0.f);
  CHECK(ew::Clamp::f(2.f, 0.f, 1.f) == 1.f);
  CHECK(ew::Clamp::f(0.5f, 0.f, 1.f) == 0.5f);
  CHECK(ew::Scale::f(cf(1.f, -1.f), 2.f, 0) == cf(2.f, -2.f));
  CHECK(ew::Abs2::f(cf(3.f, 4.f), 0, 0) == 25.f);
  CHECK(ew::Conj::f(cf(3.f, 4.f), 0, 0) == cf(3.f, -4.f));
  CHECK(ew::Real::f(cf(3.f, 4.f), 0, 0) == 3.f);
  CHECK(ew::Neg::f(cf(3.f, 4.f), 0, 0) == cf(-3.f, -4.f));
  CHECK(std::isnan(ew::Sqrt::f(-1.f, 0, 0)));
  CHECK(ew::Max::f(1.f, 2.f) == 2.f);
  CHECK(ew::Min::f(1.f, 2.f) == 1.f);
  CHECK(ew::fma3(2.f, 3.f, 1.f) == 7.f);
  CHECK(ew::axpby(2.f, 3.f, -1.f, 4.f) == 2.f);
}

TEST_CASE("operand domains: which functors accept real and complex tensors") {
  static_assert(ew::Add::complex && !ew::Add::mixed && ew::Mul::mixed && !ew::Max::complex);
  static_assert(ew::Neg::real && ew::Neg::complex && !ew::Conj::real && !ew::Sqrt::complex);
  CHECK(true);
}
