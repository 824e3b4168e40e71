// Linear operators of the podm language (K, W, D, S, the filters F_n of H, ...): the interface the
// lowering reads structure from and the reference CPU implementation runs, plus the algebra on
// them (composition, sums, scaling, adjoints) and an operator-norm estimate for L_f.
//
// Tensors are NCHW f32; an operator acts on each of the N*C planes the same way unless its
// documentation says otherwise (grad and dct_filters multiply the channel count).
#pragma once

#include "runtime/tensor.h"

#include <cstdint>
#include <memory>
#include <string>

namespace podm::stdlib {

// Facts about the matrix of an operator that the lowering uses to pick the F-step solver.
// Flags are only set when they hold for every input shape the operator accepts.
struct LinopStructure {
  // A pointwise multiplication (same shape in and out); diagonal real matrices are self-adjoint.
  bool diagonal = false;
  // Every (output plane, input plane) block is a 2-D periodic convolution, so A'A is diagonalized
  // by the 2-D DFT of a plane (per-channel block circulant; grad and dct_filters with periodic
  // boundaries qualify although they change the channel count).
  bool circulant = false;
  // A'A = AA' = I (square, shape-preserving).
  bool orthogonal = false;
  // A' = A.
  bool selfAdjoint = false;
};

class LinearOperator {
public:
  virtual ~LinearOperator() = default;
  virtual std::string name() const = 0; // e.g. "conv", "haar"
  // Throws std::invalid_argument with a clear message for sizes the operator cannot take.
  virtual Shape outputShape(const Shape& in) const = 0;
  virtual Shape inputShape(const Shape& out) const = 0;       // for the adjoint direction
  virtual void apply(const Tensor& x, Tensor& y) const = 0;   // y = A x (y has outputShape)
  virtual void adjoint(const Tensor& y, Tensor& x) const = 0; // x = A' y
  virtual LinopStructure structure() const = 0;
};

using LinopPtr = std::shared_ptr<const LinearOperator>;

// outer ∘ inner: x -> outer(inner(x)).
LinopPtr compose(LinopPtr outer, LinopPtr inner);
// x -> a(x) + b(x); both must map the input shape to the same output shape.
LinopPtr sum(LinopPtr a, LinopPtr b);
// x -> alpha * a(x).
LinopPtr scaled(double alpha, LinopPtr a);
// The adjoint as an operator (adjointOf(adjointOf(a)) returns a).
LinopPtr adjointOf(LinopPtr a);

// Largest singular value of A on inputs of shape `in`, by power iteration on A'A from a seeded
// Gaussian start, returning sqrt of the final Rayleigh quotient (a lower bound that increases
// towards ||A||). Used for L_f = ||K||^2 when no closed form is known.
double estimateOperatorNorm(const LinearOperator& op, const Shape& in, int iters, uint64_t seed);

// Helpers for operator implementations: throw std::invalid_argument naming the operator unless
// the tensor is f32 with exactly the expected shape.
void checkOperand(const std::string& op, const char* role, const Tensor& t, const Shape& expected);
// Throws std::invalid_argument naming the operator unless every dimension of `s` is positive.
void checkPositiveShape(const std::string& op, const Shape& s);
// Plane count (n*c) of a shape.
inline int64_t planesOf(const Shape& s) {
  return s.n * s.c;
}

} // namespace podm::stdlib
