// bicubic_down(s) / bicubic_up(s): MATLAB-compatible bicubic resizing by an integer factor.
#include "stdlib/linop/ops.h"
#include "stdlib/linop/registry.h"

#include <stdexcept>

namespace podm::stdlib {
namespace {

constexpr int64_t kMaxFactor = 64;

} // namespace

BicubicOperator::BicubicOperator(int64_t factor, Direction direction)
    : factor_(factor), direction_(direction) {
  if (factor < 1 || factor > kMaxFactor)
    throw std::invalid_argument(name() + ": factor must be between 1 and " +
                                std::to_string(kMaxFactor) + ", got " + std::to_string(factor));
}

Shape BicubicOperator::outputShape(const Shape& in) const {
  checkPositiveShape(name(), in);
  if (direction_ == Direction::Up)
    return {in.n, in.c, in.h * factor_, in.w * factor_};
  if (in.h % factor_ != 0 || in.w % factor_ != 0)
    throw std::invalid_argument(name() + "(" + std::to_string(factor_) + "): image size " +
                                std::to_string(in.h) + "x" + std::to_string(in.w) +
                                " must be divisible by " + std::to_string(factor_));
  return {in.n, in.c, in.h / factor_, in.w / factor_};
}

Shape BicubicOperator::inputShape(const Shape& out) const {
  checkPositiveShape(name(), out);
  if (direction_ == Direction::Down)
    return {out.n, out.c, out.h * factor_, out.w * factor_};
  if (out.h % factor_ != 0 || out.w % factor_ != 0)
    throw std::invalid_argument(name() + "(" + std::to_string(factor_) + "): output size " +
                                std::to_string(out.h) + "x" + std::to_string(out.w) +
                                " must be divisible by " + std::to_string(factor_));
  return {out.n, out.c, out.h / factor_, out.w / factor_};
}

std::shared_ptr<const numerics::BicubicResize2d> BicubicOperator::prepared(const Shape& in) const {
  Shape out = outputShape(in);
  // MATLAB's scale argument: imresize(x, 1/s) computes 1/scale in double, as we do here.
  double scale = direction_ == Direction::Up ? static_cast<double>(factor_)
                                             : 1.0 / static_cast<double>(factor_);
  return cache_.get(in.h, in.w,
                    [&] { return numerics::BicubicResize2d(in.h, in.w, out.h, out.w, scale); });
}

void BicubicOperator::apply(const Tensor& x, Tensor& y) const {
  checkOperand(name(), "input", x, x.shape());
  checkOperand(name(), "output", y, outputShape(x.shape()));
  prepared(x.shape())->apply(x.data(), y.data(), planesOf(x.shape()));
}

void BicubicOperator::adjoint(const Tensor& y, Tensor& x) const {
  checkOperand(name(), "adjoint input", y, y.shape());
  checkOperand(name(), "adjoint output", x, inputShape(y.shape()));
  prepared(x.shape())->adjoint(y.data(), x.data(), planesOf(x.shape()));
}

namespace {

// MATLAB's imresize to an exact size: the forward map goes big -> small when shrinking, the
// adjoint the other way.
ir::ValueId lowerBicubic(const LinopApplication& a, bool shrink) {
  const int64_t s = static_cast<int64_t>(a.args.numbers.at("s"));
  const double scale = shrink ? 1.0 / static_cast<double>(s) : static_cast<double>(s);
  const bool toSmall = shrink != a.adjoint;
  if (toSmall && (a.in.h % s != 0 || a.in.w % s != 0))
    throw std::invalid_argument("image size " + std::to_string(a.in.h) + "x" +
                                std::to_string(a.in.w) + " is not divisible by " +
                                std::to_string(s));
  const int64_t h = toSmall ? a.in.h / s : a.in.h * s, w = toSmall ? a.in.w / s : a.in.w * s;
  return a.b.op(a.adjoint ? ir::Op::ResizeBicubicAdjoint : ir::Op::ResizeBicubic, {a.x},
                {{"scale", scale}, {"h", h}, {"w", w}});
}

} // namespace

LinopEntry bicubicDownLinopEntry() {
  LinopEntry e = declareLinop(
      "bicubic_down",
      "MATLAB imresize(x, 1/s, 'bicubic') with antialiasing; H and W divisible by s",
      {LinopParam("s", 0.0, true, "downscaling factor").whole(1, 64)},
      [](const LinopArgs& args) -> LinopPtr {
        return std::make_shared<BicubicOperator>(
            integerArg(args, "bicubic_down", "s", 1, kMaxFactor), BicubicOperator::Direction::Down);
      });
  e.shape = LinopShape::DownByParam;
  e.shapeParam = "s";
  e.lower = [](const LinopApplication& a) { return lowerBicubic(a, true); };
  return e;
}

LinopEntry bicubicUpLinopEntry() {
  LinopEntry e = declareLinop(
      "bicubic_up", "MATLAB imresize(x, s, 'bicubic'): an HxW image becomes (sH)x(sW)",
      {LinopParam("s", 0.0, true, "upscaling factor").whole(1, 64)},
      [](const LinopArgs& args) -> LinopPtr {
        return std::make_shared<BicubicOperator>(integerArg(args, "bicubic_up", "s", 1, kMaxFactor),
                                                 BicubicOperator::Direction::Up);
      });
  e.shape = LinopShape::UpByParam;
  e.shapeParam = "s";
  e.lower = [](const LinopApplication& a) { return lowerBicubic(a, false); };
  return e;
}

} // namespace podm::stdlib
