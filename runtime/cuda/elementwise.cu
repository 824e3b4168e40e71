// CUDA elementwise kernels: unary, binary with scalar broadcast, fma, axpby, comparisons, select,
// schedules and monitors. One grid-stride kernel template per family; the launch tables at the
// end map (function, operand classes) to an instantiation. The per-element math is the CPU
// kernels' (runtime/elementwise_math.h).
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/cuda_kernels.h"
#include "runtime/cuda/grid.cuh"
#include "runtime/elementwise_math.h"

#include <cuda_runtime.h>
#include <stdexcept>
#include <string>

namespace podm::cuda {
namespace {

constexpr int kBlock = 256;

int gridFor(int64_t n) {
  return grid::blocksFor(n, kBlock);
}

using grid::firstIndex;
using grid::stride;

template <class F, class A, class B, class O, bool SA, bool SB>
__global__ void binaryKernel(const A* a, const B* b, O* o, int64_t n) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    o[i] = F::f(a[SA ? 0 : i], b[SB ? 0 : i]);
}

template <class F, class A, class B, class O, bool SA, bool SB>
void binaryLaunchImpl(const LaunchArgs& x) {
  binaryKernel<F, A, B, O, SA, SB><<<gridFor(x.n), kBlock>>>(
      static_cast<const A*>(x.in[0]), static_cast<const B*>(x.in[1]), static_cast<O*>(x.out), x.n);
  checkLaunch("binary kernel");
}

template <class F>
Launch pickBinary(Operand a, Operand b) {
  using R = float;
  using C = float2;
  if (a == Operand::Real && b == Operand::Real)
    return binaryLaunchImpl<F, R, R, R, false, false>;
  if (a == Operand::Real && b == Operand::Scalar)
    return binaryLaunchImpl<F, R, R, R, false, true>;
  if (a == Operand::Scalar && b == Operand::Real)
    return binaryLaunchImpl<F, R, R, R, true, false>;
  if (a == Operand::Scalar && b == Operand::Scalar)
    return binaryLaunchImpl<F, R, R, R, true, true>;
  if constexpr (F::complex) {
    if (a == Operand::Complex && b == Operand::Complex)
      return binaryLaunchImpl<F, C, C, C, false, false>;
    if (a == Operand::Complex && b == Operand::Scalar)
      return binaryLaunchImpl<F, C, R, C, false, true>;
    if (a == Operand::Scalar && b == Operand::Complex)
      return binaryLaunchImpl<F, R, C, C, true, false>;
  }
  if constexpr (F::mixed) {
    if (a == Operand::Complex && b == Operand::Real)
      return binaryLaunchImpl<F, C, R, C, false, false>;
    if (a == Operand::Real && b == Operand::Complex)
      return binaryLaunchImpl<F, R, C, C, false, false>;
  }
  return nullptr;
}

template <class F, class In, class O>
__global__ void unaryKernel(const In* a, O* o, int64_t n, float p0, float p1) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    o[i] = F::f(a[i], p0, p1);
}

template <class F, class In, class O>
void unaryLaunchImpl(const LaunchArgs& x) {
  unaryKernel<F, In, O><<<gridFor(x.n), kBlock>>>(static_cast<const In*>(x.in[0]),
                                                  static_cast<O*>(x.out), x.n, x.p0, x.p1);
  checkLaunch("unary kernel");
}

// F::real, F::complex: which operand classes a unary function accepts (scalars count as real).
template <class F>
Launch pickUnary(Operand a) {
  if constexpr (F::real)
    if (a != Operand::Complex)
      return unaryLaunchImpl<F, float, float>;
  if constexpr (F::complex)
    if (a == Operand::Complex)
      return unaryLaunchImpl<F, float2, decltype(F::f(float2{}, 0.f, 0.f))>;
  return nullptr;
}

template <bool SA, bool SB, bool SC>
__global__ void fmaKernel(const float* a, const float* b, const float* c, float* o, int64_t n) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    o[i] = ew::fma3(a[SA ? 0 : i], b[SB ? 0 : i], c[SC ? 0 : i]);
}
template <bool SA, bool SB, bool SC>
void fmaLaunchImpl(const LaunchArgs& x) {
  fmaKernel<SA, SB, SC><<<gridFor(x.n), kBlock>>>(
      static_cast<const float*>(x.in[0]), static_cast<const float*>(x.in[1]),
      static_cast<const float*>(x.in[2]), static_cast<float*>(x.out), x.n);
  checkLaunch("fma kernel");
}

// a and b stay on the device: the kernel reads them, the host never waits for them.
__global__ void axpbyKernel(const float* a, const float* x, const float* b, const float* y,
                            float* o, int64_t n) {
  const float av = a[0], bv = b[0];
  for (int64_t i = firstIndex(); i < n; i += stride())
    o[i] = ew::axpby(av, x[i], bv, y[i]);
}
void axpbyLaunchImpl(const LaunchArgs& x) {
  axpbyKernel<<<gridFor(x.n), kBlock>>>(
      static_cast<const float*>(x.in[0]), static_cast<const float*>(x.in[1]),
      static_cast<const float*>(x.in[2]), static_cast<const float*>(x.in[3]),
      static_cast<float*>(x.out), x.n);
  checkLaunch("axpby kernel");
}

template <bool Strict>
__global__ void compareKernel(const float* a, const float* b, float* o) {
  o[0] = (Strict ? a[0] < b[0] : a[0] <= b[0]) ? 1.f : 0.f;
}
template <bool Strict>
void compareLaunchImpl(const LaunchArgs& x) {
  compareKernel<Strict><<<1, 1>>>(static_cast<const float*>(x.in[0]),
                                  static_cast<const float*>(x.in[1]), static_cast<float*>(x.out));
  checkLaunch("comparison kernel");
}

__global__ void selectKernel(const float* cond, const unsigned* a, const unsigned* b, unsigned* o,
                             int64_t words) {
  const unsigned* src = cond[0] != 0.f ? a : b;
  for (int64_t i = firstIndex(); i < words; i += stride())
    o[i] = src[i];
}
void selectLaunchImpl(const LaunchArgs& x) {
  selectKernel<<<gridFor(x.n), kBlock>>>(
      static_cast<const float*>(x.in[0]), static_cast<const unsigned*>(x.in[1]),
      static_cast<const unsigned*>(x.in[2]), static_cast<unsigned*>(x.out), x.n);
  checkLaunch("select kernel");
}

__global__ void scheduleKernel(const float* table, int64_t stage, float* o) {
  o[0] = table[stage];
}
void scheduleLaunchImpl(const LaunchArgs& x) {
  scheduleKernel<<<1, 1>>>(x.table, x.stage, static_cast<float*>(x.out));
  checkLaunch("schedule kernel");
}

__global__ void copyScalarKernel(const float* a, float* o) {
  o[0] = a[0];
}
void copyScalarLaunchImpl(const LaunchArgs& x) {
  copyScalarKernel<<<1, 1>>>(static_cast<const float*>(x.in[0]), static_cast<float*>(x.out));
  checkLaunch("monitor kernel");
}

using BinaryPicker = Launch (*)(Operand, Operand);
constexpr BinaryPicker kBinary[] = {pickBinary<ew::Add>, pickBinary<ew::Sub>, pickBinary<ew::Mul>,
                                    pickBinary<ew::Div>, pickBinary<ew::Max>, pickBinary<ew::Min>};

using UnaryPicker = Launch (*)(Operand);
// Indexed by Unary; Real and Abs2 of a c64 tensor produce f32.
constexpr UnaryPicker kUnary[] = {pickUnary<ew::Neg>,  pickUnary<ew::Scale>, pickUnary<ew::Abs>,
                                  pickUnary<ew::Sign>, pickUnary<ew::Clamp>, pickUnary<ew::Sqrt>,
                                  pickUnary<ew::Exp>,  pickUnary<ew::Log>,   pickUnary<ew::Conj>,
                                  pickUnary<ew::Real>, pickUnary<ew::Abs2>};

constexpr Launch kFma[8] = {fmaLaunchImpl<false, false, false>, fmaLaunchImpl<false, false, true>,
                            fmaLaunchImpl<false, true, false>,  fmaLaunchImpl<false, true, true>,
                            fmaLaunchImpl<true, false, false>,  fmaLaunchImpl<true, false, true>,
                            fmaLaunchImpl<true, true, false>,   fmaLaunchImpl<true, true, true>};

} // namespace

void checkLaunch(const char* what) {
  checkCuda(cudaGetLastError(), what);
}

Launch binaryLaunch(Binary f, Operand a, Operand b) {
  return kBinary[static_cast<int>(f)](a, b);
}
Launch unaryLaunch(Unary f, Operand a) {
  return kUnary[static_cast<int>(f)](a);
}
Launch fmaLaunch(bool sa, bool sb, bool sc) {
  return kFma[(sa ? 4 : 0) + (sb ? 2 : 0) + (sc ? 1 : 0)];
}
Launch axpbyLaunch() {
  return axpbyLaunchImpl;
}
Launch compareLaunch(bool strict) {
  return strict ? compareLaunchImpl<true> : compareLaunchImpl<false>;
}
Launch selectLaunch() {
  return selectLaunchImpl;
}
Launch scheduleLaunch() {
  return scheduleLaunchImpl;
}
Launch copyScalarLaunch() {
  return copyScalarLaunchImpl;
}

} // namespace podm::cuda
