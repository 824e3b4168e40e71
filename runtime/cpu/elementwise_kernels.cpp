// Elementwise CPU kernels: unary, binary (a scalar operand broadcasts), fma and axpby, on f32 and
// c64. Each builder picks, once, the loop instantiated for the node's operand classes, so the
// loops themselves are branch-free and vectorizable. The per-element math is the CUDA kernels'
// (runtime/elementwise_math.h).
#include "numerics/parallel.h"
#include "runtime/cpu/cpu_kernel.h"
#include "runtime/elementwise_math.h"

#include <algorithm>
#include <stdexcept>

namespace podm::cpu {
namespace {

// Elementwise loops write disjoint elements: body(i0, i1) in bands on every core for large
// tensors (the FFTs' thread policy, numerics/parallel.h), on the caller's thread otherwise.
template <class Body>
void forBands(int64_t n, const Body& body) {
  constexpr int64_t kChunk = 4096;
  numerics::parallelPasses((n + kChunk - 1) / kChunk, n, [&](int64_t c0, int64_t c1) {
    body(c0 * kChunk, std::min(n, c1 * kChunk));
  });
}

// Operand classes: f32 tensor, c64 tensor, scalar.
enum class Cls { R, C, S };
Cls cls(const ir::Type& t) {
  return t.isScalar() ? Cls::S : t.elem == ir::ElemType::F32 ? Cls::R : Cls::C;
}

template <class F, class A, class B, bool ScalarA, bool ScalarB>
void binaryLoop(const CpuKernel& k, const KernelIO& io) {
  using O = decltype(F::f(A{}, B{}));
  const A* __restrict a = static_cast<const A*>(io.inputs[0].raw);
  const B* __restrict b = static_cast<const B*>(io.inputs[1].raw);
  O* __restrict o = static_cast<O*>(io.output.raw);
  const int64_t n = k.n;
  if constexpr (ScalarA && ScalarB) {
    o[0] = F::f(a[0], b[0]);
  } else if constexpr (ScalarA) {
    const A av = a[0];
    forBands(n, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        o[i] = F::f(av, b[i]);
    });
  } else if constexpr (ScalarB) {
    const B bv = b[0];
    forBands(n, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        o[i] = F::f(a[i], bv);
    });
  } else {
    forBands(n, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        o[i] = F::f(a[i], b[i]);
    });
  }
}

template <class F>
CpuKernelFn pickBinary(Cls a, Cls b) {
  using R = float;
  if (a == Cls::R && b == Cls::R)
    return binaryLoop<F, R, R, false, false>;
  if (a == Cls::R && b == Cls::S)
    return binaryLoop<F, R, R, false, true>;
  if (a == Cls::S && b == Cls::R)
    return binaryLoop<F, R, R, true, false>;
  if (a == Cls::S && b == Cls::S)
    return binaryLoop<F, R, R, true, true>;
  if constexpr (F::complex) {
    if (a == Cls::C && b == Cls::C)
      return binaryLoop<F, cf, cf, false, false>;
    if (a == Cls::C && b == Cls::S)
      return binaryLoop<F, cf, R, false, true>;
    if (a == Cls::S && b == Cls::C)
      return binaryLoop<F, R, cf, true, false>;
  }
  if constexpr (F::mixed) {
    if (a == Cls::C && b == Cls::R)
      return binaryLoop<F, cf, R, false, false>;
    if (a == Cls::R && b == Cls::C)
      return binaryLoop<F, R, cf, false, false>;
  }
  return nullptr;
}

[[noreturn]] void unsupportedTypes(const CpuBuildContext& c) {
  std::string types;
  for (size_t i = 0; i < c.node().operands.size(); ++i)
    types += (i ? ", " : "") + c.operand(i).str();
  throw std::runtime_error(c.where() + ": no CPU kernel for operands (" + types + ")");
}

template <class F>
CpuKernel buildBinary(const CpuBuildContext& c) {
  CpuKernel k;
  k.run = pickBinary<F>(cls(c.operand(0)), cls(c.operand(1)));
  if (!k.run)
    unsupportedTypes(c);
  k.n = c.result().numel();
  return k;
}

template <class F, class In>
void unaryLoop(const CpuKernel& k, const KernelIO& io) {
  using O = decltype(F::f(In{}, 0.f, 0.f));
  const In* __restrict a = static_cast<const In*>(io.inputs[0].raw);
  O* __restrict o = static_cast<O*>(io.output.raw);
  const int64_t n = k.n;
  const float p0 = k.f0, p1 = k.f1;
  forBands(n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      o[i] = F::f(a[i], p0, p1);
  });
}

// F::real: f32 tensors and scalars; F::complex: c64 tensors.
template <class F>
CpuKernel buildUnary(const CpuBuildContext& c) {
  CpuKernel k;
  const bool complex = cls(c.operand(0)) == Cls::C;
  if constexpr (F::real && F::complex) {
    k.run = complex ? unaryLoop<F, cf> : unaryLoop<F, float>;
  } else if constexpr (F::real) {
    if (complex)
      unsupportedTypes(c);
    k.run = unaryLoop<F, float>;
  } else {
    if (!complex)
      unsupportedTypes(c);
    k.run = unaryLoop<F, cf>;
  }
  k.n = c.operand(0).numel();
  return k;
}

template <bool SA, bool SB, bool SC>
void fmaLoop(const CpuKernel& k, const KernelIO& io) {
  const float* __restrict a = static_cast<const float*>(io.inputs[0].raw);
  const float* __restrict b = static_cast<const float*>(io.inputs[1].raw);
  const float* __restrict c = static_cast<const float*>(io.inputs[2].raw);
  float* __restrict o = static_cast<float*>(io.output.raw);
  const int64_t n = k.n;
  for (int64_t i = 0; i < n; ++i)
    o[i] = ew::fma3(SA ? a[0] : a[i], SB ? b[0] : b[i], SC ? c[0] : c[i]);
}

template <class T>
void axpbyLoop(const CpuKernel& k, const KernelIO& io) {
  const float a = *static_cast<const float*>(io.inputs[0].raw);
  const float b = *static_cast<const float*>(io.inputs[2].raw);
  // c64 data is handled as interleaved floats: a and b are real.
  const float* __restrict x = static_cast<const float*>(io.inputs[1].raw);
  const float* __restrict y = static_cast<const float*>(io.inputs[3].raw);
  float* __restrict o = static_cast<float*>(io.output.raw);
  const int64_t n = k.n * static_cast<int64_t>(sizeof(T) / sizeof(float));
  for (int64_t i = 0; i < n; ++i)
    o[i] = ew::axpby(a, x[i], b, y[i]);
}

} // namespace

CpuKernel buildAdd(const CpuBuildContext& c) {
  return buildBinary<ew::Add>(c);
}
CpuKernel buildSub(const CpuBuildContext& c) {
  return buildBinary<ew::Sub>(c);
}
CpuKernel buildMul(const CpuBuildContext& c) {
  return buildBinary<ew::Mul>(c);
}
CpuKernel buildDiv(const CpuBuildContext& c) {
  return buildBinary<ew::Div>(c);
}
CpuKernel buildMax(const CpuBuildContext& c) {
  return buildBinary<ew::Max>(c);
}
CpuKernel buildMin(const CpuBuildContext& c) {
  return buildBinary<ew::Min>(c);
}

CpuKernel buildNeg(const CpuBuildContext& c) {
  return buildUnary<ew::Neg>(c);
}
CpuKernel buildScale(const CpuBuildContext& c) {
  CpuKernel k = buildUnary<ew::Scale>(c);
  k.f0 = static_cast<float>(c.node().attrs.getFloat("alpha"));
  return k;
}
CpuKernel buildAbs(const CpuBuildContext& c) {
  return buildUnary<ew::Abs>(c);
}
CpuKernel buildSign(const CpuBuildContext& c) {
  return buildUnary<ew::Sign>(c);
}
CpuKernel buildClamp(const CpuBuildContext& c) {
  CpuKernel k = buildUnary<ew::Clamp>(c);
  k.f0 = static_cast<float>(c.node().attrs.getFloat("lo"));
  k.f1 = static_cast<float>(c.node().attrs.getFloat("hi"));
  return k;
}
CpuKernel buildSqrt(const CpuBuildContext& c) {
  return buildUnary<ew::Sqrt>(c);
}
CpuKernel buildExp(const CpuBuildContext& c) {
  return buildUnary<ew::Exp>(c);
}
CpuKernel buildLog(const CpuBuildContext& c) {
  return buildUnary<ew::Log>(c);
}
CpuKernel buildConj(const CpuBuildContext& c) {
  return buildUnary<ew::Conj>(c);
}
CpuKernel buildReal(const CpuBuildContext& c) {
  return buildUnary<ew::Real>(c);
}
CpuKernel buildAbs2(const CpuBuildContext& c) {
  return buildUnary<ew::Abs2>(c);
}

CpuKernel buildFma(const CpuBuildContext& c) {
  static constexpr CpuKernelFn kLoops[8] = {
      fmaLoop<false, false, false>, fmaLoop<false, false, true>, fmaLoop<false, true, false>,
      fmaLoop<false, true, true>,   fmaLoop<true, false, false>, fmaLoop<true, false, true>,
      fmaLoop<true, true, false>,   fmaLoop<true, true, true>};
  int index = 0;
  for (size_t i = 0; i < 3; ++i)
    index = index * 2 + (c.operand(i).isScalar() ? 1 : 0);
  CpuKernel k;
  k.run = kLoops[index];
  k.n = c.result().numel();
  return k;
}

CpuKernel buildAxpby(const CpuBuildContext& c) {
  CpuKernel k;
  k.run = cls(c.operand(1)) == Cls::C ? axpbyLoop<cf> : axpbyLoop<float>;
  k.n = c.result().numel();
  return k;
}

} // namespace podm::cpu
