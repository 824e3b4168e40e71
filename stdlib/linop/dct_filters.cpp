// dct_filters(size): the non-constant DCT basis filter bank F_n of PODM Sec. 5.2 (H = mu sum
// F'F/2).
#include "stdlib/linop/ops.h"
#include "stdlib/linop/registry.h"

#include <stdexcept>

namespace podm::stdlib {
namespace {

constexpr int64_t kMaxSize = 16;

} // namespace

DctFiltersOperator::DctFiltersOperator(int64_t size, numerics::Boundary boundary,
                                       numerics::ConvMethod method)
    : size_(size), boundary_(boundary), method_(method) {
  if (size < 2 || size > kMaxSize)
    throw std::invalid_argument("dct_filters: size must be between 2 and " +
                                std::to_string(kMaxSize) + ", got " + std::to_string(size));
  filters_ = numerics::dctBasisFilters(size);
}

Shape DctFiltersOperator::outputShape(const Shape& in) const {
  checkPositiveShape(name(), in);
  return {in.n, in.c * filterCount(), in.h, in.w};
}

Shape DctFiltersOperator::inputShape(const Shape& out) const {
  checkPositiveShape(name(), out);
  if (out.c % filterCount() != 0)
    throw std::invalid_argument("dct_filters(" + std::to_string(size_) + "): the filtered side " +
                                out.str() + " needs a channel count divisible by " +
                                std::to_string(filterCount()));
  return {out.n, out.c / filterCount(), out.h, out.w};
}

LinopStructure DctFiltersOperator::structure() const {
  LinopStructure s;
  s.circulant = boundary_ == numerics::Boundary::Periodic;
  return s;
}

std::shared_ptr<const numerics::DctFilterBank2d>
DctFiltersOperator::prepared(const Shape& s) const {
  return cache_.get(s.h, s.w,
                    [&] { return numerics::DctFilterBank2d(size_, s.h, s.w, boundary_, method_); });
}

void DctFiltersOperator::apply(const Tensor& x, Tensor& y) const {
  checkOperand(name(), "input", x, x.shape());
  checkOperand(name(), "output", y, outputShape(x.shape()));
  prepared(x.shape())->apply(x.data(), y.data(), planesOf(x.shape()));
}

void DctFiltersOperator::adjoint(const Tensor& y, Tensor& x) const {
  checkOperand(name(), "adjoint input", y, y.shape());
  checkOperand(name(), "adjoint output", x, inputShape(y.shape()));
  prepared(x.shape())->adjoint(y.data(), x.data(), planesOf(x.shape()));
}

LinopEntry dctFiltersLinopEntry() {
  LinopEntry e;
  e.name = "dct_filters";
  e.summary = "the size^2-1 non-constant DCT basis filters (C channels in, C*(size^2-1) out)";
  e.params = {
      LinopParam("size", 3.0, false, "filter size k (k x k filters, k^2 - 1 of them)").whole(2, 15),
      LinopParam::text("boundary", "periodic", false, "periodic, symmetric or zero")
          .oneOf({"periodic", "symmetric", "zero"}),
      // The lowering replaces the fixed DCT filters by a learnable bank (params.cpp).
      LinopParam::flag("learnable", "train the filters (a param bank initialised to the DCT's)"),
  };
  e.shape = LinopShape::FilterBank;
  e.shapeParam = "size";
  e.traits.circulant = Circulance::WhenPeriodic;
  e.lower = [](const LinopApplication& a) {
    return a.b.op(a.adjoint ? ir::Op::DctFiltersAdjoint : ir::Op::DctFilters, {a.x},
                  {{"size", static_cast<int64_t>(a.args.numbers.at("size"))},
                   {"boundary", a.args.strings.at("boundary")}});
  };
  e.make = [](const LinopArgs& args) -> LinopPtr {
    int64_t size = integerArg(args, "dct_filters", "size", 2, kMaxSize);
    const std::string& text = args.strings.at("boundary");
    auto boundary = numerics::parseBoundary(text);
    if (!boundary)
      throw std::invalid_argument(
          "dct_filters: boundary must be periodic, symmetric or zero, got '" + text + "'");
    return std::make_shared<DctFiltersOperator>(size, *boundary);
  };
  return e;
}

} // namespace podm::stdlib
