// Combinators (composition, sum, scaling, adjoint), their structure rules, and the power-iteration
// norm estimate.
#include "stdlib/linop/linop.h"

#include "numerics/elementwise.h"
#include "stdlib/linop/ops.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

namespace podm::stdlib {
namespace {

bool isIdentity(const LinopPtr& op) {
  return dynamic_cast<const IdentityOperator*>(op.get()) != nullptr;
}

void requireOperator(const LinopPtr& op, const char* combinator) {
  if (!op)
    throw std::invalid_argument(std::string(combinator) + ": operand is null");
}

class AdjointOperator final : public LinearOperator {
public:
  explicit AdjointOperator(LinopPtr base) : base_(std::move(base)) {}
  const LinopPtr& base() const { return base_; }

  std::string name() const override { return "adjoint(" + base_->name() + ")"; }
  Shape outputShape(const Shape& in) const override { return base_->inputShape(in); }
  Shape inputShape(const Shape& out) const override { return base_->outputShape(out); }
  void apply(const Tensor& x, Tensor& y) const override { base_->adjoint(x, y); }
  void adjoint(const Tensor& y, Tensor& x) const override { base_->apply(y, x); }
  // A' has the same diagonal / circulant / orthogonal / self-adjoint properties as A.
  LinopStructure structure() const override { return base_->structure(); }

private:
  LinopPtr base_;
};

// True when one operand is adjointOf(the other): A'A and AA' are self-adjoint.
bool isGramPair(const LinopPtr& outer, const LinopPtr& inner) {
  if (auto* adj = dynamic_cast<const AdjointOperator*>(outer.get()); adj && adj->base() == inner)
    return true;
  if (auto* adj = dynamic_cast<const AdjointOperator*>(inner.get()); adj && adj->base() == outer)
    return true;
  return false;
}

class Composition final : public LinearOperator {
public:
  Composition(LinopPtr outer, LinopPtr inner)
      : outer_(std::move(outer)), inner_(std::move(inner)) {}

  std::string name() const override {
    return "compose(" + outer_->name() + ", " + inner_->name() + ")";
  }
  Shape outputShape(const Shape& in) const override {
    return outer_->outputShape(inner_->outputShape(in));
  }
  Shape inputShape(const Shape& out) const override {
    return inner_->inputShape(outer_->inputShape(out));
  }
  void apply(const Tensor& x, Tensor& y) const override {
    Tensor middle(inner_->outputShape(x.shape()));
    inner_->apply(x, middle);
    outer_->apply(middle, y);
  }
  void adjoint(const Tensor& y, Tensor& x) const override {
    Tensor middle(outer_->inputShape(y.shape()));
    outer_->adjoint(y, middle);
    inner_->adjoint(middle, x);
  }
  LinopStructure structure() const override {
    if (isIdentity(outer_))
      return inner_->structure();
    if (isIdentity(inner_))
      return outer_->structure();
    LinopStructure a = outer_->structure(), b = inner_->structure();
    LinopStructure s;
    s.diagonal = a.diagonal && b.diagonal;
    s.circulant = a.circulant && b.circulant;
    s.orthogonal = a.orthogonal && b.orthogonal;
    // Products of symmetric matrices are symmetric only when they commute; we claim it for the
    // cases that certainly do (diagonals) and for Gram products A'A / AA'. Circulant factors that
    // mix channels need not commute, so they are not claimed.
    s.selfAdjoint = s.diagonal || isGramPair(outer_, inner_);
    return s;
  }

private:
  LinopPtr outer_, inner_;
};

class Sum final : public LinearOperator {
public:
  Sum(LinopPtr a, LinopPtr b) : a_(std::move(a)), b_(std::move(b)) {}

  std::string name() const override { return "sum(" + a_->name() + ", " + b_->name() + ")"; }
  Shape outputShape(const Shape& in) const override {
    Shape sa = a_->outputShape(in), sb = b_->outputShape(in);
    if (sa != sb)
      throw std::invalid_argument(name() + ": the terms map " + in.str() + " to different shapes " +
                                  sa.str() + " and " + sb.str());
    return sa;
  }
  Shape inputShape(const Shape& out) const override {
    Shape sa = a_->inputShape(out), sb = b_->inputShape(out);
    if (sa != sb)
      throw std::invalid_argument(name() + ": the terms take different input shapes " + sa.str() +
                                  " and " + sb.str() + " for output " + out.str());
    return sa;
  }
  void apply(const Tensor& x, Tensor& y) const override {
    checkOperand(name(), "output", y, outputShape(x.shape()));
    a_->apply(x, y);
    Tensor second(y.shape());
    b_->apply(x, second);
    numerics::add(y.data(), second.data(), y.data(), y.numel());
  }
  void adjoint(const Tensor& y, Tensor& x) const override {
    checkOperand(name(), "adjoint output", x, inputShape(y.shape()));
    a_->adjoint(y, x);
    Tensor second(x.shape());
    b_->adjoint(y, second);
    numerics::add(x.data(), second.data(), x.data(), x.numel());
  }
  LinopStructure structure() const override {
    LinopStructure a = a_->structure(), b = b_->structure();
    LinopStructure s;
    s.diagonal = a.diagonal && b.diagonal;
    s.circulant = a.circulant && b.circulant;
    s.selfAdjoint = a.selfAdjoint && b.selfAdjoint;
    s.orthogonal = false; // Q1 + Q2 is not orthogonal in general (Q + Q = 2Q).
    return s;
  }

private:
  LinopPtr a_, b_;
};

class Scaled final : public LinearOperator {
public:
  Scaled(double alpha, LinopPtr a) : alpha_(alpha), a_(std::move(a)) {}

  std::string name() const override {
    std::ostringstream text;
    text << "scale(" << alpha_ << ", " << a_->name() << ")";
    return text.str();
  }
  Shape outputShape(const Shape& in) const override { return a_->outputShape(in); }
  Shape inputShape(const Shape& out) const override { return a_->inputShape(out); }
  void apply(const Tensor& x, Tensor& y) const override {
    a_->apply(x, y);
    numerics::scale(static_cast<float>(alpha_), y.data(), y.data(), y.numel());
  }
  void adjoint(const Tensor& y, Tensor& x) const override {
    a_->adjoint(y, x);
    numerics::scale(static_cast<float>(alpha_), x.data(), x.data(), x.numel());
  }
  LinopStructure structure() const override {
    LinopStructure s = a_->structure();
    s.orthogonal = s.orthogonal && std::abs(alpha_) == 1.0;
    return s;
  }

private:
  double alpha_;
  LinopPtr a_;
};

} // namespace

LinopPtr compose(LinopPtr outer, LinopPtr inner) {
  requireOperator(outer, "compose");
  requireOperator(inner, "compose");
  return std::make_shared<Composition>(std::move(outer), std::move(inner));
}

LinopPtr sum(LinopPtr a, LinopPtr b) {
  requireOperator(a, "sum");
  requireOperator(b, "sum");
  return std::make_shared<Sum>(std::move(a), std::move(b));
}

LinopPtr scaled(double alpha, LinopPtr a) {
  requireOperator(a, "scale");
  if (!std::isfinite(alpha))
    throw std::invalid_argument("scale: factor must be finite");
  return std::make_shared<Scaled>(alpha, std::move(a));
}

LinopPtr adjointOf(LinopPtr a) {
  requireOperator(a, "adjoint");
  if (auto* adj = dynamic_cast<const AdjointOperator*>(a.get()))
    return adj->base();
  return std::make_shared<AdjointOperator>(std::move(a));
}

double estimateOperatorNorm(const LinearOperator& op, const Shape& in, int iters, uint64_t seed) {
  if (iters < 1)
    throw std::invalid_argument("estimateOperatorNorm: iters must be at least 1");
  Tensor x(in), y(op.outputShape(in)), gram(in);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data()[i] = normal(rng);
  double norm = std::sqrt(numerics::squaredNorm(x.data(), x.numel()));
  if (norm == 0.0)
    return 0.0;
  numerics::scale(static_cast<float>(1.0 / norm), x.data(), x.data(), x.numel());
  double best = 0.0;
  for (int it = 0; it < iters; ++it) {
    op.apply(x, y);
    // ||A x||^2 with ||x|| = 1 is the Rayleigh quotient of A'A; it rises monotonically towards
    // sigma_max^2 under power iteration.
    best = std::max(best, numerics::squaredNorm(y.data(), y.numel()));
    op.adjoint(y, gram);
    double gramNorm = std::sqrt(numerics::squaredNorm(gram.data(), gram.numel()));
    if (gramNorm == 0.0)
      break;
    numerics::scale(static_cast<float>(1.0 / gramNorm), gram.data(), x.data(), x.numel());
  }
  return std::sqrt(best);
}

void checkOperand(const std::string& op, const char* role, const Tensor& t, const Shape& expected) {
  if (t.empty() && expected.numel() != 0)
    throw std::invalid_argument(op + ": " + role + " is an empty tensor, expected f32 " +
                                expected.str());
  if (t.dtype() != DType::F32)
    throw std::invalid_argument(op + ": " + role + " must be f32, got " + dtypeName(t.dtype()));
  if (t.shape() != expected)
    throw std::invalid_argument(op + ": " + role + " has shape " + t.shape().str() + ", expected " +
                                expected.str());
}

void checkPositiveShape(const std::string& op, const Shape& s) {
  if (s.n <= 0 || s.c <= 0 || s.h <= 0 || s.w <= 0)
    throw std::invalid_argument(op + ": shape " + s.str() + " must have positive dimensions");
}

} // namespace podm::stdlib
