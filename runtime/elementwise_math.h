// The scalar math of every elementwise op, written once for both backends: the CPU kernels
// (cpu/elementwise_kernels.cpp) and the CUDA kernels (cuda/elementwise.cu) instantiate their
// loops over these functors, so a CPU test of an op exercises the arithmetic the GPU runs. Under
// nvcc the functions are __host__ __device__ and complex values are float2; elsewhere they are
// plain inline functions and complex values are std::complex<float> (the same layout: re, im).
// Complex products and quotients are written out: std::complex's operators call NaN-recovering
// helpers that block vectorization, and spectra here are finite. Kept C++17 for nvcc.
#pragma once

#include <cmath>

#ifdef __CUDACC__
#include <cuda_runtime.h>
#define PODM_HD __host__ __device__
#else
#include <complex>
#define PODM_HD
#endif

namespace podm::ew {

#ifdef __CUDACC__
using cfloat = float2;
PODM_HD inline cfloat cx(float re, float im) {
  return make_float2(re, im);
}
PODM_HD inline float re(cfloat c) {
  return c.x;
}
PODM_HD inline float im(cfloat c) {
  return c.y;
}
#else
using cfloat = std::complex<float>;
inline cfloat cx(float re, float im) {
  return {re, im};
}
inline float re(cfloat c) {
  return c.real();
}
inline float im(cfloat c) {
  return c.imag();
}
#endif

PODM_HD inline cfloat cmul(cfloat a, cfloat b) {
  return cx(re(a) * re(b) - im(a) * im(b), re(a) * im(b) + im(a) * re(b));
}
PODM_HD inline cfloat cdiv(cfloat a, cfloat b) {
  const float d = re(b) * re(b) + im(b) * im(b);
  return cx((re(a) * re(b) + im(a) * im(b)) / d, (im(a) * re(b) - re(a) * im(b)) / d);
}

// Binary functors. `complex`: defined on c64 with c64 or a real scalar; `mixed`: also c64 with an
// f32 tensor of the same shape.
struct Add {
  static constexpr bool complex = true, mixed = false;
  PODM_HD static float f(float a, float b) { return a + b; }
  PODM_HD static cfloat f(cfloat a, cfloat b) { return cx(re(a) + re(b), im(a) + im(b)); }
  PODM_HD static cfloat f(cfloat a, float b) { return cx(re(a) + b, im(a)); }
  PODM_HD static cfloat f(float a, cfloat b) { return cx(a + re(b), im(b)); }
};
struct Sub {
  static constexpr bool complex = true, mixed = false;
  PODM_HD static float f(float a, float b) { return a - b; }
  PODM_HD static cfloat f(cfloat a, cfloat b) { return cx(re(a) - re(b), im(a) - im(b)); }
  PODM_HD static cfloat f(cfloat a, float b) { return cx(re(a) - b, im(a)); }
  PODM_HD static cfloat f(float a, cfloat b) { return cx(a - re(b), -im(b)); }
};
struct Mul {
  static constexpr bool complex = true, mixed = true;
  PODM_HD static float f(float a, float b) { return a * b; }
  PODM_HD static cfloat f(cfloat a, cfloat b) { return cmul(a, b); }
  PODM_HD static cfloat f(cfloat a, float b) { return cx(re(a) * b, im(a) * b); }
  PODM_HD static cfloat f(float a, cfloat b) { return cx(a * re(b), a * im(b)); }
};
struct Div {
  static constexpr bool complex = true, mixed = true;
  PODM_HD static float f(float a, float b) { return a / b; }
  PODM_HD static cfloat f(cfloat a, cfloat b) { return cdiv(a, b); }
  PODM_HD static cfloat f(cfloat a, float b) { return cx(re(a) / b, im(a) / b); }
  PODM_HD static cfloat f(float a, cfloat b) { return cdiv(cx(a, 0.f), b); }
};
struct Max {
  static constexpr bool complex = false, mixed = false;
  PODM_HD static float f(float a, float b) { return a > b ? a : b; }
};
struct Min {
  static constexpr bool complex = false, mixed = false;
  PODM_HD static float f(float a, float b) { return a < b ? a : b; }
};

// Unary functors take the op's two float attributes (alpha; lo, hi) whether they read them or
// not. `real`: defined on f32 tensors and scalars; `complex`: on c64 tensors.
struct Neg {
  static constexpr bool real = true, complex = true;
  PODM_HD static float f(float x, float, float) { return -x; }
  PODM_HD static cfloat f(cfloat x, float, float) { return cx(-re(x), -im(x)); }
};
struct Scale {
  static constexpr bool real = true, complex = true;
  PODM_HD static float f(float x, float a, float) { return a * x; }
  PODM_HD static cfloat f(cfloat x, float a, float) { return cx(a * re(x), a * im(x)); }
};
struct Abs {
  static constexpr bool real = true, complex = false;
  PODM_HD static float f(float x, float, float) { return fabsf(x); }
};
struct Sign {
  static constexpr bool real = true, complex = false;
  PODM_HD static float f(float x, float, float) {
    return static_cast<float>((x > 0.f) - (x < 0.f));
  }
};
struct Clamp {
  static constexpr bool real = true, complex = false;
  PODM_HD static float f(float x, float lo, float hi) {
    const float y = x < lo ? lo : x;
    return y > hi ? hi : y;
  }
};
struct Sqrt {
  static constexpr bool real = true, complex = false;
  PODM_HD static float f(float x, float, float) { return sqrtf(x); }
};
struct Exp {
  static constexpr bool real = true, complex = false;
  PODM_HD static float f(float x, float, float) { return expf(x); }
};
struct Log {
  static constexpr bool real = true, complex = false;
  PODM_HD static float f(float x, float, float) { return logf(x); }
};
struct Conj {
  static constexpr bool real = false, complex = true;
  PODM_HD static cfloat f(cfloat x, float, float) { return cx(re(x), -im(x)); }
};
struct Real {
  static constexpr bool real = false, complex = true;
  PODM_HD static float f(cfloat x, float, float) { return re(x); }
};
struct Abs2 {
  static constexpr bool real = true, complex = true;
  PODM_HD static float f(float x, float, float) { return x * x; }
  PODM_HD static float f(cfloat x, float, float) { return re(x) * re(x) + im(x) * im(x); }
};

// fma with scalar broadcast and axpby: the per-element formulas of the two ternary ops.
PODM_HD inline float fma3(float a, float b, float c) {
  return a * b + c;
}
PODM_HD inline float axpby(float a, float x, float b, float y) {
  return a * x + b * y;
}

} // namespace podm::ew
