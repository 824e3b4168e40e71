// Elementwise CPU kernels: unary, binary (a scalar operand broadcasts), fma and axpby, on f32 and
// c64. Each builder picks, once, the loop instantiated for the node's operand classes, so the
// loops themselves are branch-free and vectorizable.
#include "runtime/cpu/cpu_kernel.h"

#include <cmath>
#include <stdexcept>

namespace podm::cpu {
namespace {

// Complex products written out: std::complex's operator* and / call NaN-recovering helpers that
// block vectorization; spectra here are finite.
inline cf cmul(cf a, cf b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}
inline cf cdiv(cf a, cf b) {
  float d = b.real() * b.real() + b.imag() * b.imag();
  return {(a.real() * b.real() + a.imag() * b.imag()) / d,
          (a.imag() * b.real() - a.real() * b.imag()) / d};
}

// Operand classes: f32 tensor, c64 tensor, scalar.
enum class Cls { R, C, S };
Cls cls(const ir::Type& t) {
  return t.isScalar() ? Cls::S : t.elem == ir::ElemType::F32 ? Cls::R : Cls::C;
}

// Binary functors. `complex`: defined on c64 with c64 or a real scalar; `mixed`: also c64 with an
// f32 tensor of the same shape.
struct AddF {
  static constexpr bool complex = true, mixed = false;
  static float f(float a, float b) { return a + b; }
  static cf f(cf a, cf b) { return a + b; }
  static cf f(cf a, float b) { return {a.real() + b, a.imag()}; }
  static cf f(float a, cf b) { return {a + b.real(), b.imag()}; }
};
struct SubF {
  static constexpr bool complex = true, mixed = false;
  static float f(float a, float b) { return a - b; }
  static cf f(cf a, cf b) { return a - b; }
  static cf f(cf a, float b) { return {a.real() - b, a.imag()}; }
  static cf f(float a, cf b) { return {a - b.real(), -b.imag()}; }
};
struct MulF {
  static constexpr bool complex = true, mixed = true;
  static float f(float a, float b) { return a * b; }
  static cf f(cf a, cf b) { return cmul(a, b); }
  static cf f(cf a, float b) { return {a.real() * b, a.imag() * b}; }
  static cf f(float a, cf b) { return {a * b.real(), a * b.imag()}; }
};
struct DivF {
  static constexpr bool complex = true, mixed = true;
  static float f(float a, float b) { return a / b; }
  static cf f(cf a, cf b) { return cdiv(a, b); }
  static cf f(cf a, float b) { return {a.real() / b, a.imag() / b}; }
  static cf f(float a, cf b) { return cdiv(cf(a, 0.f), b); }
};
struct MaxF {
  static constexpr bool complex = false, mixed = false;
  static float f(float a, float b) { return a > b ? a : b; }
};
struct MinF {
  static constexpr bool complex = false, mixed = false;
  static float f(float a, float b) { return a < b ? a : b; }
};

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
    for (int64_t i = 0; i < n; ++i)
      o[i] = F::f(av, b[i]);
  } else if constexpr (ScalarB) {
    const B bv = b[0];
    for (int64_t i = 0; i < n; ++i)
      o[i] = F::f(a[i], bv);
  } else {
    for (int64_t i = 0; i < n; ++i)
      o[i] = F::f(a[i], b[i]);
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

// Unary functors see the kernel for their attributes (alpha; lo, hi).
struct NegF {
  static float f(float x, const CpuKernel&) { return -x; }
  static cf f(cf x, const CpuKernel&) { return -x; }
};
struct ScaleF {
  static float f(float x, const CpuKernel& k) { return k.f0 * x; }
  static cf f(cf x, const CpuKernel& k) { return {k.f0 * x.real(), k.f0 * x.imag()}; }
};
struct AbsF {
  static float f(float x, const CpuKernel&) { return std::fabs(x); }
};
struct SignF {
  static float f(float x, const CpuKernel&) { return static_cast<float>((x > 0.f) - (x < 0.f)); }
};
struct ClampF {
  static float f(float x, const CpuKernel& k) {
    float y = x < k.f0 ? k.f0 : x;
    return y > k.f1 ? k.f1 : y;
  }
};
struct SqrtF {
  static float f(float x, const CpuKernel&) { return std::sqrt(x); }
};
struct ExpF {
  static float f(float x, const CpuKernel&) { return std::exp(x); }
};
struct LogF {
  static float f(float x, const CpuKernel&) { return std::log(x); }
};
struct ConjF {
  static cf f(cf x, const CpuKernel&) { return {x.real(), -x.imag()}; }
};
struct RealF {
  static float f(cf x, const CpuKernel&) { return x.real(); }
};
struct Abs2F {
  static float f(float x, const CpuKernel&) { return x * x; }
  static float f(cf x, const CpuKernel&) { return x.real() * x.real() + x.imag() * x.imag(); }
};

template <class F, class In>
void unaryLoop(const CpuKernel& k, const KernelIO& io) {
  using O = decltype(F::f(In{}, k));
  const In* __restrict a = static_cast<const In*>(io.inputs[0].raw);
  O* __restrict o = static_cast<O*>(io.output.raw);
  const int64_t n = k.n;
  for (int64_t i = 0; i < n; ++i)
    o[i] = F::f(a[i], k);
}

// Real: f32 tensors and scalars; Complex: c64 tensors; Both: either.
enum class Domain { Real, Complex, Both };

template <class F, Domain D>
CpuKernel buildUnary(const CpuBuildContext& c) {
  CpuKernel k;
  const bool complex = cls(c.operand(0)) == Cls::C;
  if constexpr (D == Domain::Real) {
    if (complex)
      unsupportedTypes(c);
    k.run = unaryLoop<F, float>;
  } else if constexpr (D == Domain::Complex) {
    if (!complex)
      unsupportedTypes(c);
    k.run = unaryLoop<F, cf>;
  } else {
    k.run = complex ? unaryLoop<F, cf> : unaryLoop<F, float>;
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
    o[i] = (SA ? a[0] : a[i]) * (SB ? b[0] : b[i]) + (SC ? c[0] : c[i]);
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
    o[i] = a * x[i] + b * y[i];
}

} // namespace

CpuKernel buildAdd(const CpuBuildContext& c) {
  return buildBinary<AddF>(c);
}
CpuKernel buildSub(const CpuBuildContext& c) {
  return buildBinary<SubF>(c);
}
CpuKernel buildMul(const CpuBuildContext& c) {
  return buildBinary<MulF>(c);
}
CpuKernel buildDiv(const CpuBuildContext& c) {
  return buildBinary<DivF>(c);
}
CpuKernel buildMax(const CpuBuildContext& c) {
  return buildBinary<MaxF>(c);
}
CpuKernel buildMin(const CpuBuildContext& c) {
  return buildBinary<MinF>(c);
}

CpuKernel buildNeg(const CpuBuildContext& c) {
  return buildUnary<NegF, Domain::Both>(c);
}
CpuKernel buildScale(const CpuBuildContext& c) {
  CpuKernel k = buildUnary<ScaleF, Domain::Both>(c);
  k.f0 = static_cast<float>(c.node().attrs.getFloat("alpha"));
  return k;
}
CpuKernel buildAbs(const CpuBuildContext& c) {
  return buildUnary<AbsF, Domain::Real>(c);
}
CpuKernel buildSign(const CpuBuildContext& c) {
  return buildUnary<SignF, Domain::Real>(c);
}
CpuKernel buildClamp(const CpuBuildContext& c) {
  CpuKernel k = buildUnary<ClampF, Domain::Real>(c);
  k.f0 = static_cast<float>(c.node().attrs.getFloat("lo"));
  k.f1 = static_cast<float>(c.node().attrs.getFloat("hi"));
  return k;
}
CpuKernel buildSqrt(const CpuBuildContext& c) {
  return buildUnary<SqrtF, Domain::Real>(c);
}
CpuKernel buildExp(const CpuBuildContext& c) {
  return buildUnary<ExpF, Domain::Real>(c);
}
CpuKernel buildLog(const CpuBuildContext& c) {
  return buildUnary<LogF, Domain::Real>(c);
}
CpuKernel buildConj(const CpuBuildContext& c) {
  return buildUnary<ConjF, Domain::Complex>(c);
}
CpuKernel buildReal(const CpuBuildContext& c) {
  return buildUnary<RealF, Domain::Complex>(c);
}
CpuKernel buildAbs2(const CpuBuildContext& c) {
  return buildUnary<Abs2F, Domain::Both>(c);
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
