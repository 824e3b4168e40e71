// Reductions to one scalar. Sums accumulate in double over 8 independent lanes: the optimality
// check compares norms of small differences of large images, where a float accumulator loses the
// digits that matter, and independent lanes let the compiler vectorize without -ffast-math.
#include "runtime/cpu/cpu_kernel.h"

#include <cmath>

namespace podm::cpu {
namespace {

constexpr int kLanes = 8;

// sum over i of term(i), term(i) a double.
template <class Term>
double laneSum(int64_t n, Term term) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l)
      acc[l] += term(i + l);
  for (; i < n; ++i)
    acc[0] += term(i);
  double total = 0;
  for (double a : acc)
    total += a;
  return total;
}

void dotKernel(const CpuKernel& k, const KernelIO& io) {
  const float* a = in(io, 0);
  const float* b = in(io, 1);
  *out(io) =
      static_cast<float>(laneSum(k.n, [&](int64_t i) { return static_cast<double>(a[i]) * b[i]; }));
}

void sumKernel(const CpuKernel& k, const KernelIO& io) {
  const float* a = in(io, 0);
  *out(io) = static_cast<float>(laneSum(k.n, [&](int64_t i) { return double{a[i]}; }));
}

// Over k.n floats: c64 tensors count as 2*numel floats (|z|^2 = re^2 + im^2).
void norm2sqKernel(const CpuKernel& k, const KernelIO& io) {
  const float* a = in(io, 0);
  *out(io) =
      static_cast<float>(laneSum(k.n, [&](int64_t i) { return static_cast<double>(a[i]) * a[i]; }));
}

void maxAbsRealKernel(const CpuKernel& k, const KernelIO& io) {
  const float* a = in(io, 0);
  float m = 0;
  for (int64_t i = 0; i < k.n; ++i) {
    float v = std::fabs(a[i]);
    m = v > m ? v : m;
  }
  *out(io) = m;
}

void maxAbsComplexKernel(const CpuKernel& k, const KernelIO& io) {
  const float* a = in(io, 0);
  float m = 0;
  for (int64_t i = 0; i < k.n; ++i) {
    float v = a[2 * i] * a[2 * i] + a[2 * i + 1] * a[2 * i + 1];
    m = v > m ? v : m;
  }
  *out(io) = std::sqrt(m);
}

// min and max of an f32 tensor (the bounds of a box prior read from an observation). A NaN
// element makes the result NaN rather than being skipped, so bad data cannot pass unnoticed.
template <bool largest>
void extremeKernel(const CpuKernel& k, const KernelIO& io) {
  const float* a = in(io, 0);
  float m = a[0];
  for (int64_t i = 1; i < k.n; ++i) {
    float v = a[i];
    if (std::isnan(v)) {
      m = v;
      break;
    }
    m = (largest ? v > m : v < m) ? v : m;
  }
  *out(io) = m;
}

CpuKernel reduction(CpuKernelFn fn, int64_t n) {
  CpuKernel k;
  k.run = fn;
  k.n = n;
  return k;
}

} // namespace

CpuKernel buildDot(const CpuBuildContext& c) {
  return reduction(dotKernel, c.operand(0).numel());
}
CpuKernel buildSum(const CpuBuildContext& c) {
  return reduction(sumKernel, c.operand(0).numel());
}
CpuKernel buildNorm2Sq(const CpuBuildContext& c) {
  const ir::Type& t = c.operand(0);
  return reduction(norm2sqKernel, t.numel() * (t.elem == ir::ElemType::C64 ? 2 : 1));
}
CpuKernel buildMaxAbs(const CpuBuildContext& c) {
  const ir::Type& t = c.operand(0);
  return reduction(t.elem == ir::ElemType::C64 ? maxAbsComplexKernel : maxAbsRealKernel, t.numel());
}

CpuKernel buildMinVal(const CpuBuildContext& c) {
  return reduction(extremeKernel<false>, c.operand(0).numel());
}
CpuKernel buildMaxVal(const CpuBuildContext& c) {
  return reduction(extremeKernel<true>, c.operand(0).numel());
}

} // namespace podm::cpu
