// conv: 2-D convolution of every plane with one kernel, periodic / symmetric / zero boundary.
#include "stdlib/linop/ops.h"
#include "stdlib/linop/registry.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace podm::stdlib {
namespace {

// Whether k(d) == k(-d) for every offset d from the origin (kh/2, kw/2), entries outside the
// support counting as zero; with mirrorEachAxis also k(dy,dx) == k(-dy,dx) == k(dy,-dx).
bool kernelSymmetric(const Tensor& k, bool mirrorEachAxis) {
  const int64_t kh = k.shape().h, kw = k.shape().w, ch = kh / 2, cw = kw / 2;
  auto at = [&](int64_t dy, int64_t dx) {
    int64_t a = dy + ch, b = dx + cw;
    return (a >= 0 && a < kh && b >= 0 && b < kw) ? k.at(a, b) : 0.0f;
  };
  for (int64_t a = 0; a < kh; ++a)
    for (int64_t b = 0; b < kw; ++b) {
      int64_t dy = a - ch, dx = b - cw;
      float v = at(dy, dx);
      if (v != at(-dy, -dx))
        return false;
      if (mirrorEachAxis && (v != at(-dy, dx) || v != at(dy, -dx)))
        return false;
    }
  return true;
}

} // namespace

ConvOperator::ConvOperator(Tensor kernel, numerics::Boundary boundary, numerics::ConvMethod method)
    : kernel_(std::move(kernel)), boundary_(boundary), method_(method) {
  if (kernel_.empty() || kernel_.dtype() != DType::F32 || kernel_.numel() == 0)
    throw std::invalid_argument("conv: the kernel must be a non-empty f32 tensor");
  if (kernel_.shape().n * kernel_.shape().c != 1)
    throw std::invalid_argument("conv: the kernel must be a single plane (1x1xKHxKW), got " +
                                kernel_.shape().str());
  for (int64_t i = 0; i < kernel_.numel(); ++i)
    if (!std::isfinite(kernel_.data()[i]))
      throw std::invalid_argument("conv: the kernel has a non-finite entry");
  // Keep a private copy: the caller's tensor may share storage and change later.
  kernel_ = kernel_.clone();
  selfAdjoint_ = kernelSymmetric(kernel_, boundary_ == numerics::Boundary::Symmetric);
}

Shape ConvOperator::outputShape(const Shape& in) const {
  checkPositiveShape(name(), in);
  return in;
}

LinopStructure ConvOperator::structure() const {
  LinopStructure s;
  s.circulant = boundary_ == numerics::Boundary::Periodic;
  s.selfAdjoint = selfAdjoint_;
  return s;
}

std::shared_ptr<const numerics::Convolution2d> ConvOperator::prepared(const Shape& s) const {
  return cache_.get(s.h, s.w, [&] {
    return numerics::Convolution2d(kernel_.data(), kernel_.shape().h, kernel_.shape().w, s.h, s.w,
                                   boundary_, method_);
  });
}

void ConvOperator::apply(const Tensor& x, Tensor& y) const {
  checkOperand(name(), "input", x, x.shape());
  checkOperand(name(), "output", y, outputShape(x.shape()));
  prepared(x.shape())->apply(x.data(), y.data(), planesOf(x.shape()));
}

void ConvOperator::adjoint(const Tensor& y, Tensor& x) const {
  checkOperand(name(), "adjoint input", y, y.shape());
  checkOperand(name(), "adjoint output", x, inputShape(y.shape()));
  prepared(y.shape())->adjoint(y.data(), x.data(), planesOf(y.shape()));
}

LinopEntry convLinopEntry() {
  LinopEntry e;
  e.name = "conv";
  e.summary = "2-D convolution of each channel with a kernel (origin at (kh/2, kw/2)), same size";
  e.params = {
      LinopParam::tensor("kernel", "the kernel, a 1x1xKHxKW tensor", TensorRole::Kernel),
      LinopParam::text("boundary", "periodic", false, "periodic, symmetric (half-sample) or zero")
          .oneOf({"periodic", "symmetric", "zero"}),
      LinopParam::text("as", "convolution", false,
                       "how the kernel is read: convolution, or correlation (flipped 180 degrees)")
          .oneOf({"convolution", "correlation"}),
  };
  e.traits.circulant = Circulance::WhenPeriodic;
  e.lower = [](const LinopApplication& a) {
    return a.b.op(
        a.adjoint ? ir::Op::Conv2dAdjoint : ir::Op::Conv2d, {a.x, a.args.tensors.at("kernel")},
        {{"boundary", a.args.strings.at("boundary")}, {"orientation", a.args.strings.at("as")}});
  };
  e.make = [](const LinopArgs& args) -> LinopPtr {
    const std::string& text = args.strings.at("boundary");
    auto boundary = numerics::parseBoundary(text);
    if (!boundary)
      throw std::invalid_argument("conv: boundary must be periodic, symmetric or zero, got '" +
                                  text + "'");
    const std::string& as = args.strings.at("as");
    auto orientation = numerics::parseKernelOrientation(as);
    if (!orientation)
      throw std::invalid_argument("conv: as must be convolution or correlation, got '" + as + "'");
    Tensor kernel = args.tensors.at("kernel");
    if (*orientation == numerics::KernelOrientation::Correlation) {
      Tensor flipped(kernel.shape());
      std::vector<float> f =
          numerics::flippedKernel(kernel.data(), kernel.shape().h, kernel.shape().w);
      std::copy(f.begin(), f.end(), flipped.data());
      kernel = flipped;
    }
    return std::make_shared<ConvOperator>(kernel, *boundary);
  };
  return e;
}

} // namespace podm::stdlib
