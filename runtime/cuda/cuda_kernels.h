// The CUDA kernels as launch functions, seen from host code. This header is shared by nvcc (the
// .cu files define the functions) and the host compiler (the kernel table picks them), so it uses
// plain C++17 and no CUDA or IR types. Launchers are selected from tables indexed by function and
// operand class, once per node at prepare time; a launch is one kernel on the default stream.
#pragma once

#include <cstdint>

namespace podm::cuda {

// Operand classes: f32 tensor, c64 tensor (interleaved re, im), f32 scalar (one value that
// broadcasts).
enum class Operand : uint8_t { Real = 0, Complex = 1, Scalar = 2 };

// The most operands a node passes to its launch (a fused elementwise program takes up to 16).
constexpr int kMaxOperands = 16;

// Everything a launch needs: device addresses, the element count, float parameters, the stage
// (schedules), a device table (schedule values), a device workspace (reduction partials) and, for
// launches that need shapes, plans or descriptors, the node's host-side state (cuda_backend.h's
// NodeState, cast back by the launch that owns that state type).
struct LaunchArgs {
  const void* in[kMaxOperands] = {};
  int arity = 0;
  void* more_out[kMaxOperands] = {}; // results 1, 2, ... of a multi-result node (or null)
  int more_outs = 0;
  void* out = nullptr;
  int64_t n = 0;
  float p0 = 0, p1 = 0;
  int64_t stage = -1;
  const float* table = nullptr;
  void* workspace = nullptr;
  const void* state = nullptr;
};

using Launch = void (*)(const LaunchArgs& args);

enum class Binary : uint8_t { Add, Sub, Mul, Div, Max, Min };
enum class Unary : uint8_t { Neg, Scale, Abs, Sign, Clamp, Sqrt, Exp, Log, Conj, Real, Abs2 };
enum class Reduce : uint8_t { Dot, Sum, SumSquares, MaxAbsReal, MaxAbsComplex };

// Host functions; the run-time compiled fused kernels (fused_nvrtc.cpp) include this header for
// its types only, and NVRTC accepts no host code.
#ifndef __CUDACC_RTC__
// nullptr when the function has no kernel for these operand classes.
Launch binaryLaunch(Binary f, Operand a, Operand b);
Launch unaryLaunch(Unary f, Operand a);
Launch fmaLaunch(bool scalarA, bool scalarB, bool scalarC);
Launch axpbyLaunch(); // over n floats (2*numel for c64): a, b scalars
Launch reduceLaunch(Reduce f);
Launch compareLaunch(bool strict); // le (strict = false) and lt
Launch selectLaunch();             // n = 4-byte words
Launch scheduleLaunch();           // out = table[stage]
Launch copyScalarLaunch();         // monitor

// Doubles of workspace a reduction needs (its partial sums).
int64_t reduceWorkspaceDoubles();

// Throws std::runtime_error naming `what` when the last CUDA call or launch failed.
void checkLaunch(const char* what);
#endif

} // namespace podm::cuda
