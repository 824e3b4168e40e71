// The CUDA kernel table: one line per elementwise, reduction and loop-structure op with its
// builder (the launch for a node's operand classes), then the larger families, each registered
// from its own file. Nodes without a launch run on the CPU fallback (the executor says so).
#include "runtime/cuda/cuda_backend.h"

#include <vector>

namespace podm::cuda {
namespace {

Operand operandClass(const ir::Type& t) {
  return t.isScalar()                  ? Operand::Scalar
         : t.elem == ir::ElemType::F32 ? Operand::Real
                                       : Operand::Complex;
}

CudaKernel binary(const CudaBuildContext& c, Binary f) {
  CudaKernel k;
  k.launch = binaryLaunch(f, operandClass(c.operand(0)), operandClass(c.operand(1)));
  k.n = c.result().numel();
  return k;
}

CudaKernel unary(const CudaBuildContext& c, Unary f, float p0 = 0, float p1 = 0) {
  CudaKernel k;
  k.launch = unaryLaunch(f, operandClass(c.operand(0)));
  k.n = c.operand(0).numel();
  k.p0 = p0;
  k.p1 = p1;
  return k;
}

float attr(const CudaBuildContext& c, const char* name) {
  return static_cast<float>(c.node().attrs.getFloat(name));
}

// A reduction's per-block partial sums (reduce.cu's first pass writes them, its second combines).
struct ReductionScratch final : NodeState {
  DeviceBuffer partials;
  void bind(LaunchArgs& args) const override { args.workspace = partials.get(); }
};

CudaKernel reduction(const CudaBuildContext& c, Reduce f, int64_t n) {
  CudaKernel k;
  k.launch = reduceLaunch(f);
  k.n = n;
  if (c.allocator) {
    auto scratch = std::make_unique<ReductionScratch>();
    scratch->partials =
        DeviceBuffer(*c.allocator, static_cast<size_t>(reduceWorkspaceDoubles()) * sizeof(double));
    k.state = std::move(scratch);
  }
  return k;
}

bool complexOperand(const CudaBuildContext& c, size_t i) {
  return c.operand(i).elem == ir::ElemType::C64;
}

CudaKernel scalarKernel(Launch launch) {
  CudaKernel k;
  k.launch = launch;
  k.n = 1;
  return k;
}

CudaKernel buildAdd(const CudaBuildContext& c) {
  return binary(c, Binary::Add);
}
CudaKernel buildSub(const CudaBuildContext& c) {
  return binary(c, Binary::Sub);
}
CudaKernel buildMul(const CudaBuildContext& c) {
  return binary(c, Binary::Mul);
}
CudaKernel buildDiv(const CudaBuildContext& c) {
  return binary(c, Binary::Div);
}
CudaKernel buildMax(const CudaBuildContext& c) {
  return binary(c, Binary::Max);
}
CudaKernel buildMin(const CudaBuildContext& c) {
  return binary(c, Binary::Min);
}
CudaKernel buildNeg(const CudaBuildContext& c) {
  return unary(c, Unary::Neg);
}
CudaKernel buildScale(const CudaBuildContext& c) {
  return unary(c, Unary::Scale, attr(c, "alpha"));
}
CudaKernel buildAbs(const CudaBuildContext& c) {
  return unary(c, Unary::Abs);
}
CudaKernel buildSign(const CudaBuildContext& c) {
  return unary(c, Unary::Sign);
}
CudaKernel buildClamp(const CudaBuildContext& c) {
  return unary(c, Unary::Clamp, attr(c, "lo"), attr(c, "hi"));
}
CudaKernel buildSqrt(const CudaBuildContext& c) {
  return unary(c, Unary::Sqrt);
}
CudaKernel buildExp(const CudaBuildContext& c) {
  return unary(c, Unary::Exp);
}
CudaKernel buildLog(const CudaBuildContext& c) {
  return unary(c, Unary::Log);
}
CudaKernel buildConj(const CudaBuildContext& c) {
  return unary(c, Unary::Conj);
}
CudaKernel buildReal(const CudaBuildContext& c) {
  return unary(c, Unary::Real);
}
CudaKernel buildAbs2(const CudaBuildContext& c) {
  return unary(c, Unary::Abs2);
}

CudaKernel buildFma(const CudaBuildContext& c) {
  CudaKernel k;
  k.launch = fmaLaunch(c.operand(0).isScalar(), c.operand(1).isScalar(), c.operand(2).isScalar());
  k.n = c.result().numel();
  return k;
}

// c64 data is interleaved floats and a, b are real: one loop over 2*numel floats.
CudaKernel buildAxpby(const CudaBuildContext& c) {
  CudaKernel k;
  k.launch = axpbyLaunch();
  k.n = c.result().numel() * (complexOperand(c, 1) ? 2 : 1);
  return k;
}

CudaKernel buildLe(const CudaBuildContext&) {
  return scalarKernel(compareLaunch(false));
}
CudaKernel buildLt(const CudaBuildContext&) {
  return scalarKernel(compareLaunch(true));
}
CudaKernel buildMonitor(const CudaBuildContext&) {
  return scalarKernel(copyScalarLaunch());
}

CudaKernel buildSelect(const CudaBuildContext& c) {
  CudaKernel k;
  k.launch = selectLaunch();
  k.n = static_cast<int64_t>(c.result().bytes() / 4);
  return k;
}

// A schedule's values, one per stage, uploaded once: the launch indexes them by the stage.
struct ScheduleTable final : NodeState {
  DeviceBuffer values;
  void bind(LaunchArgs& args) const override {
    args.table = static_cast<const float*>(values.get());
  }
};

CudaKernel buildSchedule(const CudaBuildContext& c) {
  CudaKernel k = scalarKernel(scheduleLaunch());
  if (c.allocator) {
    std::vector<float> values;
    for (double v : c.node().attrs.getFloats("values"))
      values.push_back(static_cast<float>(v));
    auto table = std::make_unique<ScheduleTable>();
    table->values = DeviceBuffer(*c.allocator, values.size() * sizeof(float));
    c.allocator->upload(table->values.ptr(), values.data(), values.size() * sizeof(float));
    k.state = std::move(table);
  }
  return k;
}

CudaKernel buildDot(const CudaBuildContext& c) {
  return reduction(c, Reduce::Dot, c.operand(0).numel());
}
CudaKernel buildSum(const CudaBuildContext& c) {
  return reduction(c, Reduce::Sum, c.operand(0).numel());
}
CudaKernel buildNorm2Sq(const CudaBuildContext& c) {
  return reduction(c, Reduce::SumSquares, c.operand(0).numel() * (complexOperand(c, 0) ? 2 : 1));
}
CudaKernel buildMaxAbs(const CudaBuildContext& c) {
  return reduction(c, complexOperand(c, 0) ? Reduce::MaxAbsComplex : Reduce::MaxAbsReal,
                   c.operand(0).numel());
}

} // namespace

void registerCudaKernels(CudaKernelTable& t) {
  using ir::Op;
  t.add(Op::Add, buildAdd);
  t.add(Op::Sub, buildSub);
  t.add(Op::Mul, buildMul);
  t.add(Op::Div, buildDiv);
  t.add(Op::Neg, buildNeg);
  t.add(Op::Scale, buildScale);
  t.add(Op::Axpby, buildAxpby);
  t.add(Op::Fma, buildFma);
  t.add(Op::Abs, buildAbs);
  t.add(Op::Sign, buildSign);
  t.add(Op::Max, buildMax);
  t.add(Op::Min, buildMin);
  t.add(Op::Clamp, buildClamp);
  t.add(Op::Sqrt, buildSqrt);
  t.add(Op::Exp, buildExp);
  t.add(Op::Log, buildLog);
  t.add(Op::Schedule, buildSchedule);
  t.add(Op::Monitor, buildMonitor);
  t.add(Op::Le, buildLe);
  t.add(Op::Lt, buildLt);
  t.add(Op::Select, buildSelect);
  t.add(Op::Conj, buildConj);
  t.add(Op::Real, buildReal);
  t.add(Op::Abs2, buildAbs2);
  t.add(Op::Dot, buildDot);
  t.add(Op::Sum, buildSum);
  t.add(Op::Norm2Sq, buildNorm2Sq);
  t.add(Op::MaxAbs, buildMaxAbs);
  // The larger families, each from its own files.
  registerSpectralKernels(t);
  registerLocalLinopKernels(t);
  registerTransformKernels(t);
  registerProxKernels(t);
  registerFusedKernels(t);
  registerLearnableKernels(t);
  registerNetworkKernels(t);
}

} // namespace podm::cuda
