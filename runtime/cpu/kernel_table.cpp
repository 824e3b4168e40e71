// The CPU kernel table: one line per op. Ops without a line here and not pending make the
// backend-consistency test fail.
#include "runtime/cpu/cpu_kernel.h"

namespace podm::cpu {

void registerCpuKernels(CpuKernelTable& t) {
  using ir::Op;
  // Elementwise arithmetic on tensors and scalars.
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
  // Loop structure and the optimality check.
  t.add(Op::Schedule, buildSchedule);
  t.add(Op::Monitor, buildMonitor);
  t.add(Op::Le, buildLe);
  t.add(Op::Lt, buildLt);
  t.add(Op::Select, buildSelect);
  // Complex spectra.
  t.add(Op::Conj, buildConj);
  t.add(Op::Real, buildReal);
  t.add(Op::Abs2, buildAbs2);
  t.add(Op::Rfft2, buildRfft2);
  t.add(Op::Irfft2, buildIrfft2);
  // Reductions.
  t.add(Op::Dot, buildDot);
  t.add(Op::Sum, buildSum);
  t.add(Op::Norm2Sq, buildNorm2Sq);
  t.add(Op::MaxAbs, buildMaxAbs);
  t.add(Op::MinVal, buildMinVal);
  t.add(Op::MaxVal, buildMaxVal);
  t.add(Op::Ssim, buildSsim); // the ssim monitor (metric_kernels.cpp)
  // Linear-operator primitives (thin wrappers over numerics).
  t.add(Op::Conv2d, buildConv2d);
  t.add(Op::Conv2dAdjoint, buildConv2dAdjoint);
  t.add(Op::Pad2d, buildPad2d);
  t.add(Op::Pad2dAdjoint, buildPad2dAdjoint);
  t.add(Op::Decimate, buildDecimate);
  t.add(Op::UpsampleZero, buildUpsampleZero);
  t.add(Op::ResizeBicubic, buildResizeBicubic);
  t.add(Op::ResizeBicubicAdjoint, buildResizeBicubicAdjoint);
  t.add(Op::Haar, buildHaar);
  t.add(Op::HaarInv, buildHaarInv);
  t.add(Op::Dct2, buildDct2);
  t.add(Op::Idct2, buildIdct2);
  t.add(Op::FdGrad, buildFdGrad);
  t.add(Op::FdGradAdjoint, buildFdGradAdjoint);
  t.add(Op::Mask, buildMask);
  t.add(Op::DctFilters, buildDctFilters);
  t.add(Op::DctFiltersAdjoint, buildDctFiltersAdjoint);
  // The designed prior's proximal map.
  t.add(Op::Prox, buildProx);
  t.add(Op::Network, buildNetwork);
  // Learnable parameters (learnable_kernels.cpp).
  t.add(Op::PickStage, buildPickStage);
  t.add(Op::PlaceStage, buildPlaceStage);
  t.add(Op::Matvec, buildMatvec);
  t.add(Op::MatvecT, buildMatvecT);
  t.add(Op::Outer, buildOuter);
  t.add(Op::Elu, buildElu);
  t.add(Op::EluGrad, buildEluGrad);
  t.add(Op::Softplus, buildSoftplus);
  t.add(Op::Sigmoid, buildSigmoid);
  t.add(Op::FilterBank, buildFilterBank);
  t.add(Op::FilterBankAdjoint, buildFilterBankAdjoint);
  t.add(Op::FilterBankGrad, buildFilterBankGrad);
  t.add(Op::FilterSpectrum, buildFilterSpectrum);
  t.add(Op::FilterSpectrumGrad, buildFilterSpectrumGrad);
  // Elementwise chains fused into one pass.
  t.add(Op::FusedElementwise, buildFusedElementwise);
  t.add(Op::Irfft2Product, buildIrfft2Product);
  t.add(Op::SpectrumEnergy, buildSpectrumEnergy);
}

} // namespace podm::cpu
