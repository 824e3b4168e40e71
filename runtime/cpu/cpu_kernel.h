// What a CPU kernel is: a function pointer chosen at prepare time for one node's operand types,
// plus the sizes and attributes it needs and any prepared state (FFT workspaces, convolution
// plans, a bound prox). execute() is then one indirect call with no allocation and no switch.
//
// Every op with a CPU kernel has one builder function, declared here by family and listed once in
// the table (kernel_table.cpp).
#pragma once

#include "ir/graph.h"
#include "runtime/backend.h"
#include "runtime/kernel_table.h"

#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

namespace podm::cpu {

using cf = std::complex<float>;

// Prepared per-node state; kernels static_cast to their own derived type.
struct KernelState {
  virtual ~KernelState() = default;
};

// Operand i and the result of a kernel call as f32 arrays.
inline const float* in(const KernelIO& io, int i) {
  return static_cast<const float*>(io.inputs[i].raw);
}
inline float* out(const KernelIO& io) {
  return static_cast<float*>(io.output.raw);
}

// A complex plane for an inverse transform's input, 64-byte aligned: FFTW keeps separate
// (non-SIMD) plans for unaligned arrays, and a std::vector is only 16-byte aligned.
struct InverseWorkspace : KernelState {
  explicit InverseWorkspace(size_t count) : storage(count + 8) {
    void* p = storage.data();
    size_t space = storage.size() * sizeof(cf);
    plane = static_cast<cf*>(std::align(64, count * sizeof(cf), p, space));
  }
  std::vector<cf> storage;
  cf* plane = nullptr;
};

struct CpuKernel;
using CpuKernelFn = void (*)(const CpuKernel& kernel, const KernelIO& io);

struct CpuKernel {
  CpuKernelFn run = nullptr;
  int64_t n = 0;                    // elements the loop covers (bytes for select)
  int64_t planes = 0, h = 0, w = 0; // plane geometry of operand 0 (plane ops)
  int64_t outH = 0, outW = 0;       // plane geometry of the result where it differs
  int64_t i0 = 0;                   // an int attribute (factor, levels)
  float f0 = 0, f1 = 0;             // float attributes (alpha; lo, hi)
  std::unique_ptr<KernelState> state;
};

// What a builder sees: the node, its operand and result types, and the prepare context.
struct CpuBuildContext {
  const ir::Graph& graph;
  ir::ValueId id;
  const PrepareContext& prepare;

  const ir::Node& node() const { return graph.node(id); }
  const ir::Type& operand(size_t i) const { return graph.type(node().operands[i]); }
  const ir::Type& result() const { return node().type; }
  // Operand i when it is a constant node, else nullptr (builders precompute from constants).
  const ir::Node* constantOperand(size_t i) const;
  // "%12 conv2d": for error messages.
  std::string where() const;
};

// Builds the kernel for one node; throws std::runtime_error (naming the node) when it cannot.
using CpuKernelBuilder = CpuKernel (*)(const CpuBuildContext& context);
using CpuKernelTable = KernelTable<CpuKernelBuilder>;

// The CPU kernel table: one line per op (kernel_table.cpp).
void registerCpuKernels(CpuKernelTable& table);

// Builders, by family.
// elementwise_kernels.cpp
CpuKernel buildAdd(const CpuBuildContext&);
CpuKernel buildSub(const CpuBuildContext&);
CpuKernel buildMul(const CpuBuildContext&);
CpuKernel buildDiv(const CpuBuildContext&);
CpuKernel buildMax(const CpuBuildContext&);
CpuKernel buildMin(const CpuBuildContext&);
CpuKernel buildNeg(const CpuBuildContext&);
CpuKernel buildScale(const CpuBuildContext&);
CpuKernel buildAbs(const CpuBuildContext&);
CpuKernel buildSign(const CpuBuildContext&);
CpuKernel buildClamp(const CpuBuildContext&);
CpuKernel buildSqrt(const CpuBuildContext&);
CpuKernel buildExp(const CpuBuildContext&);
CpuKernel buildLog(const CpuBuildContext&);
CpuKernel buildAxpby(const CpuBuildContext&);
CpuKernel buildFma(const CpuBuildContext&);
CpuKernel buildConj(const CpuBuildContext&);
CpuKernel buildReal(const CpuBuildContext&);
CpuKernel buildAbs2(const CpuBuildContext&);
// reduction_kernels.cpp
CpuKernel buildDot(const CpuBuildContext&);
CpuKernel buildSum(const CpuBuildContext&);
CpuKernel buildNorm2Sq(const CpuBuildContext&);
CpuKernel buildMaxAbs(const CpuBuildContext&);
CpuKernel buildMinVal(const CpuBuildContext&);
CpuKernel buildMaxVal(const CpuBuildContext&);
// metric_kernels.cpp
CpuKernel buildSsim(const CpuBuildContext&);
// control_kernels.cpp: loop schedules and monitors, the optimality check
CpuKernel buildSchedule(const CpuBuildContext&);
CpuKernel buildMonitor(const CpuBuildContext&);
CpuKernel buildLe(const CpuBuildContext&);
CpuKernel buildLt(const CpuBuildContext&);
CpuKernel buildSelect(const CpuBuildContext&);
// spectral_kernels.cpp (numerics/fft.h)
CpuKernel buildRfft2(const CpuBuildContext&);
CpuKernel buildIrfft2(const CpuBuildContext&);
// linop_kernels.cpp (numerics/)
CpuKernel buildConv2d(const CpuBuildContext&);
CpuKernel buildConv2dAdjoint(const CpuBuildContext&);
CpuKernel buildPad2d(const CpuBuildContext&);
CpuKernel buildPad2dAdjoint(const CpuBuildContext&);
CpuKernel buildDecimate(const CpuBuildContext&);
CpuKernel buildUpsampleZero(const CpuBuildContext&);
CpuKernel buildResizeBicubic(const CpuBuildContext&);
CpuKernel buildResizeBicubicAdjoint(const CpuBuildContext&);
CpuKernel buildHaar(const CpuBuildContext&);
CpuKernel buildHaarInv(const CpuBuildContext&);
CpuKernel buildDct2(const CpuBuildContext&);
CpuKernel buildIdct2(const CpuBuildContext&);
CpuKernel buildFdGrad(const CpuBuildContext&);
CpuKernel buildFdGradAdjoint(const CpuBuildContext&);
CpuKernel buildMask(const CpuBuildContext&);
CpuKernel buildDctFilters(const CpuBuildContext&);
CpuKernel buildDctFiltersAdjoint(const CpuBuildContext&);
// prox_kernel.cpp (through the runtime's ProxProvider hook)
CpuKernel buildProx(const CpuBuildContext&);
// network_kernel.cpp (through the runtime's NetworkProvider hook)
CpuKernel buildNetwork(const CpuBuildContext&);
// fused_kernel.cpp (programs made by compiler/passes/fuse_elementwise.cpp)
CpuKernel buildFusedElementwise(const CpuBuildContext&);
CpuKernel buildSpectrumEnergy(const CpuBuildContext&);
CpuKernel buildIrfft2Product(const CpuBuildContext&);
// learnable_kernels.cpp: per-stage parameters, mlp layers, run-time filter banks
CpuKernel buildPickStage(const CpuBuildContext&);
CpuKernel buildPlaceStage(const CpuBuildContext&);
CpuKernel buildMatvec(const CpuBuildContext&);
CpuKernel buildMatvecT(const CpuBuildContext&);
CpuKernel buildOuter(const CpuBuildContext&);
CpuKernel buildElu(const CpuBuildContext&);
CpuKernel buildEluGrad(const CpuBuildContext&);
CpuKernel buildSoftplus(const CpuBuildContext&);
CpuKernel buildSigmoid(const CpuBuildContext&);
CpuKernel buildFilterBank(const CpuBuildContext&);
CpuKernel buildFilterBankAdjoint(const CpuBuildContext&);
CpuKernel buildFilterBankGrad(const CpuBuildContext&);
CpuKernel buildFilterSpectrum(const CpuBuildContext&);
CpuKernel buildFilterSpectrumGrad(const CpuBuildContext&);

} // namespace podm::cpu
