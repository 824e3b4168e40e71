// CUDA kernels for local linear operators: convolution, padding, sampling, masks, finite
// differences, Haar: the builders and their table lines. A builder turns the node's operand shapes
// and attributes into the plain shape struct of local_linop_math.h that its launch reads (the node
// state binds it as args.state) and allocates the scratch the two-pass launches need (pad2d's
// adjoint, Haar with several levels) as args.workspace.
#include "ir/builder.h"
#include "numerics/conv.h"
#include "numerics/finite_diff.h"
#include "numerics/pad.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/local_linop_math.h"

#include <stdexcept>
#include <string>

namespace podm::cuda {
namespace {

using namespace linop;

// The math header mirrors the numerics enums so that a parsed attribute converts by value.
static_assert(static_cast<int>(ConvBoundary::Periodic) ==
                  static_cast<int>(numerics::Boundary::Periodic) &&
              static_cast<int>(ConvBoundary::Symmetric) ==
                  static_cast<int>(numerics::Boundary::Symmetric) &&
              static_cast<int>(ConvBoundary::Zero) == static_cast<int>(numerics::Boundary::Zero));
static_assert(static_cast<int>(PadKind::Zero) == static_cast<int>(numerics::PadMode::Zero) &&
              static_cast<int>(PadKind::Replicate) ==
                  static_cast<int>(numerics::PadMode::Replicate) &&
              static_cast<int>(PadKind::Smooth) == static_cast<int>(numerics::PadMode::Smooth));
static_assert(static_cast<int>(FdBoundary::Periodic) ==
                  static_cast<int>(numerics::DiffBoundary::Periodic) &&
              static_cast<int>(FdBoundary::Neumann) ==
                  static_cast<int>(numerics::DiffBoundary::Neumann));

// A node's shape (host memory, read by the launch on the host) and its device scratch, if any.
template <class Shape>
struct ShapeState final : NodeState {
  Shape shape{};
  DeviceBuffer scratch;
  void bind(LaunchArgs& args) const override {
    args.state = &shape;
    args.workspace = scratch.get();
  }
};

bool allReal(const CudaBuildContext& c) {
  for (size_t i = 0; i < c.node().operands.size(); ++i)
    if (c.operand(i).elem != ir::ElemType::F32)
      return false;
  return c.result().elem == ir::ElemType::F32;
}

// Scratch is allocated only when the build is for running (allocator set), never when probing.
template <class Shape>
CudaKernel kernelWith(const CudaBuildContext& c, LocalLinop op, const Shape& shape,
                      int64_t scratchFloats = 0) {
  CudaKernel k;
  if (!allReal(c))
    return k;
  k.launch = localLinopLaunch(op);
  k.n = c.result().numel();
  auto state = std::make_unique<ShapeState<Shape>>();
  state->shape = shape;
  if (c.allocator && scratchFloats > 0)
    state->scratch = DeviceBuffer(*c.allocator, static_cast<size_t>(scratchFloats) * sizeof(float));
  k.state = std::move(state);
  return k;
}

std::runtime_error badAttribute(const CudaBuildContext& c, const std::string& what) {
  return std::runtime_error(ir::describeNode(c.id.index, c.node().op, c.node().label) +
                            ": cuda: " + what);
}

int64_t planesOf(const ir::Dims& d) {
  return d.n * d.c;
}

template <bool Adjoint>
CudaKernel buildConv(const CudaBuildContext& c) {
  const ir::Attrs& a = c.node().attrs;
  const auto boundary = numerics::parseBoundary(a.getString("boundary"));
  if (!boundary)
    throw badAttribute(c, "unknown boundary '" + a.getString("boundary") + "'");
  const ir::Dims& x = c.operand(0).dims;
  const ir::Dims& k = c.operand(1).dims;
  const ConvShape shape{planesOf(x),
                        x.h,
                        x.w,
                        k.h,
                        k.w,
                        static_cast<ConvBoundary>(*boundary),
                        a.has("orientation") && a.getString("orientation") == "correlation"};
  return kernelWith(c, Adjoint ? LocalLinop::Conv2dAdjoint : LocalLinop::Conv2d, shape);
}

// The shape names the inner plane: the operand's for pad2d, the result's for its adjoint, whose
// replicate and smooth modes fold through a paddedH x w scratch per plane.
template <bool Adjoint>
CudaKernel buildPad(const CudaBuildContext& c) {
  const ir::Attrs& a = c.node().attrs;
  const auto mode = numerics::parsePadMode(a.getString("mode"));
  if (!mode)
    throw badAttribute(c, "unknown padding mode '" + a.getString("mode") + "'");
  const ir::Dims& inner = Adjoint ? c.result().dims : c.operand(0).dims;
  const PadShape shape{planesOf(inner),   inner.h,
                       inner.w,           a.getInt("top"),
                       a.getInt("left"),  a.getInt("bottom"),
                       a.getInt("right"), static_cast<PadKind>(*mode)};
  const int64_t scratch =
      Adjoint && shape.mode != PadKind::Zero ? shape.planes * shape.paddedH() * shape.w : 0;
  return kernelWith(c, Adjoint ? LocalLinop::Pad2dAdjoint : LocalLinop::Pad2d, shape, scratch);
}

// The sampling shape names the full-resolution plane: decimate's operand, upsample_zero's result.
CudaKernel buildDecimate(const CudaBuildContext& c) {
  const ir::Dims& x = c.operand(0).dims;
  return kernelWith(c, LocalLinop::Decimate,
                    SampleShape{planesOf(x), x.h, x.w, c.node().attrs.getInt("factor")});
}
CudaKernel buildUpsampleZero(const CudaBuildContext& c) {
  const ir::Dims& y = c.result().dims;
  return kernelWith(c, LocalLinop::UpsampleZero,
                    SampleShape{planesOf(y), y.h, y.w, c.node().attrs.getInt("factor")});
}

CudaKernel buildMask(const CudaBuildContext& c) {
  const ir::Dims& x = c.operand(0).dims;
  return kernelWith(c, LocalLinop::Mask, MaskShape{planesOf(x), x.h * x.w});
}

// Both directions count the planes of x: fd_grad's operand, fd_grad_adjoint's result.
template <bool Adjoint>
CudaKernel buildFdGrad(const CudaBuildContext& c) {
  const ir::Dims& x = Adjoint ? c.result().dims : c.operand(0).dims;
  const FdBoundary boundary = c.node().attrs.getString("boundary") == "periodic"
                                  ? FdBoundary::Periodic
                                  : FdBoundary::Neumann;
  return kernelWith(c, Adjoint ? LocalLinop::FdGradAdjoint : LocalLinop::FdGrad,
                    FdShape{planesOf(x), x.h, x.w, boundary});
}

template <bool Inverse>
CudaKernel buildHaar(const CudaBuildContext& c) {
  const ir::Dims& x = c.operand(0).dims;
  const HaarShape shape{planesOf(x), x.h, x.w, c.node().attrs.getInt("levels")};
  return kernelWith(c, Inverse ? LocalLinop::HaarInv : LocalLinop::Haar, shape,
                    haarScratchFloats(shape));
}

} // namespace

void registerLocalLinopKernels(CudaKernelTable& t) {
  using ir::Op;
  t.add(Op::Conv2d, buildConv<false>);
  t.add(Op::Conv2dAdjoint, buildConv<true>);
  t.add(Op::Pad2d, buildPad<false>);
  t.add(Op::Pad2dAdjoint, buildPad<true>);
  t.add(Op::Decimate, buildDecimate);
  t.add(Op::UpsampleZero, buildUpsampleZero);
  t.add(Op::Mask, buildMask);
  t.add(Op::FdGrad, buildFdGrad<false>);
  t.add(Op::FdGradAdjoint, buildFdGrad<true>);
  t.add(Op::Haar, buildHaar<false>);
  t.add(Op::HaarInv, buildHaar<true>);
}

} // namespace podm::cuda
