// How the linop tests build each registered operator: construction arguments, a generator of
// valid random input shapes, and the structure flags the operator must report. Every operator in
// linopRegistry() needs at least one case here; the tests fail for an operator without one.
#pragma once

#include "stdlib/linop/linop.h"
#include "stdlib/linop/registry.h"

#include <functional>
#include <random>
#include <string>
#include <vector>

namespace podm::stdlib::test {

struct OpCase {
  std::string label; // e.g. "conv symmetric 5x4"
  LinopArgs args;
  std::function<Shape(std::mt19937_64&)> randomInputShape;
  LinopStructure expected;
};

// The cases for a registered operator name (empty if none are written yet).
std::vector<OpCase> casesFor(const std::string& name);

// Random N(0,1) tensor of a shape.
Tensor randomTensor(const Shape& shape, uint64_t seed);
double dot(const Tensor& a, const Tensor& b);
double norm(const Tensor& t);
// max |a - b| / max(1e-30, max |b|)
double relativeMaxError(const Tensor& a, const Tensor& b);

// Adjoint mismatch |<Ax, y> - <x, A'y>| / max(|<Ax,y>|, |<x,A'y>|) for random x of `in` and two
// choices of y (independent random, and A x plus noise); returns the worse. For the independent y
// the denominator is at least the typical size of such an inner product (see op_test_cases.cpp).
double adjointMismatch(const LinearOperator& op, const Shape& in, uint64_t seed);

} // namespace podm::stdlib::test
