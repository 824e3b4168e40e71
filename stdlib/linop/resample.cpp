// decimate(s) and upsample(s): the sampling operator S of the super-resolution model and S'.
#include "numerics/resample.h"

#include "stdlib/linop/ops.h"
#include "stdlib/linop/registry.h"

#include <stdexcept>

namespace podm::stdlib {
namespace {

constexpr int64_t kMaxFactor = 1 << 16;

void checkFactor(const std::string& op, int64_t s) {
  if (s < 1 || s > kMaxFactor)
    throw std::invalid_argument(op + ": factor must be between 1 and " +
                                std::to_string(kMaxFactor) + ", got " + std::to_string(s));
}

// The full-resolution side of a resampling operator must be a multiple of the factor, or the
// low-resolution side would not determine it.
void checkDivisible(const std::string& op, int64_t s, const Shape& full) {
  checkPositiveShape(op, full);
  if (full.h % s != 0 || full.w % s != 0)
    throw std::invalid_argument(op + "(" + std::to_string(s) + "): the full-resolution size " +
                                std::to_string(full.h) + "x" + std::to_string(full.w) +
                                " must be divisible by " + std::to_string(s));
}

Shape shrink(const Shape& s, int64_t f) {
  return {s.n, s.c, s.h / f, s.w / f};
}
Shape grow(const Shape& s, int64_t f) {
  return {s.n, s.c, s.h * f, s.w * f};
}

LinopParam factorParam(const char* doc) {
  return LinopParam("s", 0.0, true, doc).whole(1, 64);
}

// decimate(s) and upsample(s) are each other's adjoints.
ir::ValueId lowerResample(const LinopApplication& a, bool decimate) {
  const bool down = decimate != a.adjoint;
  return a.b.op(down ? ir::Op::Decimate : ir::Op::UpsampleZero, {a.x},
                {{"factor", static_cast<int64_t>(a.args.numbers.at("s"))}});
}

} // namespace

DecimateOperator::DecimateOperator(int64_t factor) : factor_(factor) {
  checkFactor(name(), factor);
}

Shape DecimateOperator::outputShape(const Shape& in) const {
  checkDivisible(name(), factor_, in);
  return shrink(in, factor_);
}

Shape DecimateOperator::inputShape(const Shape& out) const {
  checkPositiveShape(name(), out);
  return grow(out, factor_);
}

void DecimateOperator::apply(const Tensor& x, Tensor& y) const {
  checkOperand(name(), "input", x, x.shape());
  checkOperand(name(), "output", y, outputShape(x.shape()));
  const Shape& s = x.shape();
  numerics::decimate(x.data(), y.data(), planesOf(s), s.h, s.w, factor_);
}

void DecimateOperator::adjoint(const Tensor& y, Tensor& x) const {
  checkOperand(name(), "adjoint input", y, y.shape());
  checkOperand(name(), "adjoint output", x, inputShape(y.shape()));
  const Shape& s = x.shape();
  numerics::upsampleZeroFill(y.data(), x.data(), planesOf(s), s.h, s.w, factor_);
}

UpsampleOperator::UpsampleOperator(int64_t factor) : factor_(factor) {
  checkFactor(name(), factor);
}

Shape UpsampleOperator::outputShape(const Shape& in) const {
  checkPositiveShape(name(), in);
  return grow(in, factor_);
}

Shape UpsampleOperator::inputShape(const Shape& out) const {
  checkDivisible(name(), factor_, out);
  return shrink(out, factor_);
}

void UpsampleOperator::apply(const Tensor& x, Tensor& y) const {
  checkOperand(name(), "input", x, x.shape());
  checkOperand(name(), "output", y, outputShape(x.shape()));
  const Shape& s = y.shape();
  numerics::upsampleZeroFill(x.data(), y.data(), planesOf(s), s.h, s.w, factor_);
}

void UpsampleOperator::adjoint(const Tensor& y, Tensor& x) const {
  checkOperand(name(), "adjoint input", y, y.shape());
  checkOperand(name(), "adjoint output", x, inputShape(y.shape()));
  const Shape& s = y.shape();
  numerics::decimate(y.data(), x.data(), planesOf(s), s.h, s.w, factor_);
}

LinopEntry decimateLinopEntry() {
  LinopEntry e = declareLinop("decimate", "keep pixel (i*s, j*s): an HxW image becomes (H/s)x(W/s)",
                              {factorParam("decimation factor; H and W must be divisible by it")},
                              [](const LinopArgs& args) -> LinopPtr {
                                return std::make_shared<DecimateOperator>(
                                    integerArg(args, "decimate", "s", 1, kMaxFactor));
                              });
  e.shape = LinopShape::DownByParam;
  e.shapeParam = "s";
  e.lower = [](const LinopApplication& a) { return lowerResample(a, true); };
  return e;
}

LinopEntry upsampleLinopEntry() {
  LinopEntry e = declareLinop(
      "upsample", "zero-filling upsampling by s (the adjoint of decimate(s))",
      {factorParam("upsampling factor")}, [](const LinopArgs& args) -> LinopPtr {
        return std::make_shared<UpsampleOperator>(integerArg(args, "upsample", "s", 1, kMaxFactor));
      });
  e.shape = LinopShape::UpByParam;
  e.shapeParam = "s";
  e.lower = [](const LinopApplication& a) { return lowerResample(a, false); };
  return e;
}

} // namespace podm::stdlib
