// pad(k, mode, margin) and crop(k, margin): the operators of a boundary-aware deblurring model,
// whose unknown is larger than the observation by the kernel's support (o = crop(K x)), and of
// the padded periodic one (K x = pad(o), the result cropped). numerics/pad.h holds the math.
#include "ir/builder.h"
#include "stdlib/linop/ops.h"
#include "stdlib/linop/registry.h"

#include <stdexcept>

namespace podm::stdlib {
namespace {

constexpr int64_t kMaxMargin = 4096;

numerics::PadSides sidesFor(int64_t kh, int64_t kw, int64_t margin) {
  if (kh < 1 || kw < 1)
    throw std::invalid_argument("pad/crop: the kernel must have at least one row and column");
  return {kh - 1 - kh / 2 + margin, kw - 1 - kw / 2 + margin, kh / 2 + margin, kw / 2 + margin};
}

ir::Attrs padAttrs(const numerics::PadSides& s, const std::string& mode) {
  return {
      {"top", s.top}, {"left", s.left}, {"bottom", s.bottom}, {"right", s.right}, {"mode", mode}};
}

// The sides from the kernel operand's size, known once the inputs are bound.
numerics::PadSides sidesOf(const LinopApplication& a) {
  const ir::Dims& k = a.b.graph().type(a.args.tensors.at("kernel")).dims;
  return sidesFor(k.h, k.w, static_cast<int64_t>(a.args.numbers.at("margin")));
}

LinopParam kernelParam() {
  return LinopParam::tensor("kernel", "the blur kernel whose support sets the border",
                            TensorRole::Kernel);
}
LinopParam marginParam() {
  return LinopParam("margin", 0, false, "extra pixels on every side").whole(0, kMaxMargin);
}

numerics::PadMode modeArg(const LinopArgs& args) {
  auto mode = numerics::parsePadMode(args.strings.at("mode"));
  if (!mode)
    throw std::invalid_argument("pad: mode must be zero, replicate or smooth, got '" +
                                args.strings.at("mode") + "'");
  return *mode;
}

LinopPtr makePadding(const LinopArgs& args, const char* op, bool crop) {
  const Tensor& k = args.tensors.at("kernel");
  const int64_t margin = integerArg(args, op, "margin", 0, kMaxMargin);
  return std::make_shared<PaddingOperator>(k.shape().h, k.shape().w, margin,
                                           crop ? numerics::PadMode::Zero : modeArg(args), crop);
}

} // namespace

PaddingOperator::PaddingOperator(int64_t kernelH, int64_t kernelW, int64_t margin,
                                 numerics::PadMode mode, bool crop)
    : sides_(sidesFor(kernelH, kernelW, margin)), mode_(mode), crop_(crop) {
}

Shape PaddingOperator::grown(const Shape& s) const {
  checkPositiveShape(name(), s);
  return {s.n, s.c, s.h + sides_.top + sides_.bottom, s.w + sides_.left + sides_.right};
}

Shape PaddingOperator::shrunk(const Shape& s) const {
  const int64_t h = s.h - sides_.top - sides_.bottom, w = s.w - sides_.left - sides_.right;
  if (h < 1 || w < 1)
    throw std::invalid_argument(name() + ": the image " + std::to_string(s.h) + "x" +
                                std::to_string(s.w) + " is not larger than the border it removes");
  return {s.n, s.c, h, w};
}

Shape PaddingOperator::outputShape(const Shape& in) const {
  return crop_ ? shrunk(in) : grown(in);
}

Shape PaddingOperator::inputShape(const Shape& out) const {
  return crop_ ? grown(out) : shrunk(out);
}

void PaddingOperator::pad(const Tensor& small, Tensor& large) const {
  const Shape& s = small.shape();
  numerics::Padding2d(s.h, s.w, sides_, mode_).apply(small.data(), large.data(), planesOf(s));
}

void PaddingOperator::unpad(const Tensor& large, Tensor& small) const {
  const Shape& s = small.shape();
  numerics::Padding2d(s.h, s.w, sides_, mode_).adjoint(large.data(), small.data(), planesOf(s));
}

void PaddingOperator::apply(const Tensor& x, Tensor& y) const {
  checkOperand(name(), "input", x, x.shape());
  checkOperand(name(), "output", y, outputShape(x.shape()));
  crop_ ? unpad(x, y) : pad(x, y);
}

void PaddingOperator::adjoint(const Tensor& y, Tensor& x) const {
  checkOperand(name(), "adjoint input", y, y.shape());
  checkOperand(name(), "adjoint output", x, inputShape(y.shape()));
  crop_ ? pad(y, x) : unpad(y, x);
}

LinopEntry padLinopEntry() {
  LinopEntry e = declareLinop(
      "pad",
      "extends an image by the border a convolution with kernel k needs (kh-1 rows, kw-1 "
      "columns) plus `margin` on every side: zero, replicate or smooth (periodic) extension",
      {kernelParam(),
       LinopParam::text("mode", "smooth", false,
                        "zero, replicate (nearest border pixel) or smooth (continuous across the "
                        "periodic wrap-around)")
           .oneOf({"zero", "replicate", "smooth"}),
       marginParam()},
      [](const LinopArgs& args) { return makePadding(args, "pad", false); });
  e.shape = LinopShape::ByKernel;
  e.lower = [](const LinopApplication& a) {
    const std::string& mode = a.args.strings.at("mode");
    return a.b.op(a.adjoint ? ir::Op::Pad2dAdjoint : ir::Op::Pad2d, {a.x},
                  padAttrs(sidesOf(a), mode));
  };
  return e;
}

LinopEntry cropLinopEntry() {
  LinopEntry e = declareLinop(
      "crop",
      "keeps the part of an image a convolution with kernel k computes without a boundary rule "
      "(the valid part), less `margin` on every side: the adjoint of pad(k, mode = \"zero\")",
      {kernelParam(), marginParam()},
      [](const LinopArgs& args) { return makePadding(args, "crop", true); });
  e.shape = LinopShape::ByKernel;
  e.traits.selection = true;
  e.lower = [](const LinopApplication& a) {
    return a.b.op(a.adjoint ? ir::Op::Pad2d : ir::Op::Pad2dAdjoint, {a.x},
                  padAttrs(sidesOf(a), "zero"));
  };
  return e;
}

} // namespace podm::stdlib
