// The device interpreter of fused elementwise programs (ir/fused_program.h), shared by the CUDA
// kernel (fused.cu) and the host test that runs it against the CPU kernel
// (tests/runtime/cuda/fused_math_test.cpp). A program is encoded once per node
// (fused_encode.h) into a flat array of POD instructions: an opcode, where each argument comes
// from (an operand tensor, a broadcast scalar operand, a float literal, a register) and where the
// value goes (a register, a result buffer, a reduction accumulator). One thread evaluates the whole
// program for one element with a small register file; each op computes exactly the unfused
// kernel's float expression (runtime/elementwise_math.h), and reductions accumulate in double as
// the CPU does. Kept C++17 and free of CUDA types outside elementwise_math.h's float2 for nvcc.
#pragma once

#include "runtime/cuda/cuda_kernels.h"
#include "runtime/elementwise_math.h"

#include <cstdint>

namespace podm::cuda::fused {

constexpr int kMaxInstructions = 64; // the CPU kernel's limit (and the fusion passes')
constexpr int kRegisters = 16;       // live temporaries at once; the encoder reuses registers
constexpr int kMaxAccumulators = 8;  // reductions in one program
constexpr int kMaxResults = kMaxOperands + 1; // the node's value and more_out[0..]

// The program ops, in ir/fused_program.cpp's order; the reductions come last (isReduction).
enum class Opcode : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  Max,
  Min,
  Neg,
  Abs,
  Sign,
  Sqrt,
  Exp,
  Log,
  Fma,
  Axpby,
  Clamp,
  Sum,
  Dot,
  Norm2Sq,
  MaxAbs
};

enum class Source : uint8_t { Tensor, Scalar, Literal, Register };

// One argument: Tensor reads operand `index` at the element, Scalar its one value, Register a
// register; Literal is `literal` (the op's compile-time attribute, already rounded to float).
// Plain aggregates without initializers, so a kernel can stage the program in shared memory.
struct Arg {
  Source source;
  uint8_t index;
  float literal;
};

struct Instruction {
  Opcode op;
  uint8_t arity;
  uint8_t dest;        // value ops: the register written
  int8_t result;       // -1, or the node result it is: 0 the output, k more_out[k - 1]
  uint8_t accumulator; // reductions: the accumulator it adds to
  Arg args[4];
};

// The buffers of one launch: operands, and results by index (null where nobody reads it).
struct Buffers {
  const float* in[kMaxOperands];
  float* result[kMaxResults];
};

PODM_HD inline bool isReduction(Opcode op) {
  return static_cast<uint8_t>(op) >= static_cast<uint8_t>(Opcode::Sum);
}

PODM_HD inline float load(const Arg& a, const Buffers& b, int64_t i, const float* registers) {
  switch (a.source) {
  case Source::Tensor:
    return b.in[a.index][i];
  case Source::Scalar:
    return b.in[a.index][0];
  case Source::Literal:
    return a.literal;
  default:
    return registers[a.index];
  }
}

// The interpreter's dispatch is a switch on purpose: it compiles to a jump table on the device,
// where a table of function pointers would be indirect calls that nothing inlines. Each case is
// the unfused kernel's functor with the CPU fused kernel's calling convention (unary ops without
// attributes, clamp's bounds as arguments).
PODM_HD inline float evaluate(Opcode op, const float* v) {
  switch (op) {
  case Opcode::Add:
    return ew::Add::f(v[0], v[1]);
  case Opcode::Sub:
    return ew::Sub::f(v[0], v[1]);
  case Opcode::Mul:
    return ew::Mul::f(v[0], v[1]);
  case Opcode::Div:
    return ew::Div::f(v[0], v[1]);
  case Opcode::Max:
    return ew::Max::f(v[0], v[1]);
  case Opcode::Min:
    return ew::Min::f(v[0], v[1]);
  case Opcode::Neg:
    return ew::Neg::f(v[0], 0.f, 0.f);
  case Opcode::Abs:
    return ew::Abs::f(v[0], 0.f, 0.f);
  case Opcode::Sign:
    return ew::Sign::f(v[0], 0.f, 0.f);
  case Opcode::Sqrt:
    return ew::Sqrt::f(v[0], 0.f, 0.f);
  case Opcode::Exp:
    return ew::Exp::f(v[0], 0.f, 0.f);
  case Opcode::Log:
    return ew::Log::f(v[0], 0.f, 0.f);
  case Opcode::Fma:
    return ew::fma3(v[0], v[1], v[2]);
  case Opcode::Axpby:
    return ew::axpby(v[0], v[1], v[2], v[3]);
  case Opcode::Clamp:
    return ew::Clamp::f(v[0], v[1], v[2]);
  default:
    return 0.f;
  }
}

// A reduction's term for one element: the CPU kernel's, in double (maxabs's |x| is exact there).
PODM_HD inline double term(Opcode op, const float* v) {
  switch (op) {
  case Opcode::Sum:
    return static_cast<double>(v[0]);
  case Opcode::Dot:
    return static_cast<double>(v[0]) * v[1];
  case Opcode::Norm2Sq:
    return static_cast<double>(v[0]) * v[0];
  default:
    return static_cast<double>(fabsf(v[0]));
  }
}

// Adds a term (or a partial) to an accumulator; maxabs keeps the larger, from 0, as the CPU does
// (a NaN term never wins).
PODM_HD inline double combine(Opcode op, double acc, double t) {
  if (op == Opcode::MaxAbs)
    return t > acc ? t : acc;
  return acc + t;
}

// One instruction on element i: reads its arguments, then writes its register and its result
// buffer, or adds its term to its accumulator. Every argument is read before the register is
// written, so the encoder may give an instruction the register of an argument it reads last.
PODM_HD inline void step(const Instruction& ins, const Buffers& b, int64_t i, float* registers,
                         double* acc) {
  float v[4] = {0.f, 0.f, 0.f, 0.f};
  for (int k = 0; k < ins.arity; ++k)
    v[k] = load(ins.args[k], b, i, registers);
  if (isReduction(ins.op)) {
    acc[ins.accumulator] = combine(ins.op, acc[ins.accumulator], term(ins.op, v));
    return;
  }
  const float value = evaluate(ins.op, v);
  registers[ins.dest] = value;
  if (ins.result >= 0 && b.result[ins.result])
    b.result[ins.result][i] = value;
}

// The whole program on element i.
PODM_HD inline void runElement(const Instruction* code, int count, const Buffers& b, int64_t i,
                               float* registers, double* acc) {
  for (int k = 0; k < count; ++k)
    step(code[k], b, i, registers, acc);
}

// The launch geometry every fused kernel uses, the interpreter's and the run-time compiled ones
// (fused_codegen.h): threads per block, and the fixed grid of a program with reductions, whose
// partials the finishing pass combines.
constexpr int kBlockThreads = 256;
constexpr int kPartialBlocks = 512;

#ifdef __CUDACC__
// The combined value of v over the block, returned to every thread. Starts with a barrier so a
// call may follow another that shares the scratch.
__device__ inline double blockCombine(Opcode op, double v) {
  __shared__ double shared[kBlockThreads];
  __syncthreads();
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = kBlockThreads / 2; s > 0; s /= 2) {
    if (threadIdx.x < s)
      shared[threadIdx.x] = combine(op, shared[threadIdx.x], shared[threadIdx.x + s]);
    __syncthreads();
  }
  return shared[0];
}
#endif

// What a launch needs beyond LaunchArgs: the program on the device and its reductions. The node's
// state (fused_kernels.cpp) owns the buffers and binds args.state to this.
struct LaunchInfo {
  const Instruction* code; // device copy of the program
  int count;
  int accumulators;
  Opcode accumulatorOp[kMaxAccumulators];
  int8_t accumulatorResult[kMaxAccumulators]; // the node result each accumulator is
};

#ifndef __CUDACC_RTC__ // host functions (see cuda_kernels.h)
// The buffers of a launch: operands in order, the node's value and its further results.
inline Buffers launchBuffers(const LaunchArgs& x) {
  Buffers buffers{};
  for (int i = 0; i < x.arity && i < kMaxOperands; ++i)
    buffers.in[i] = static_cast<const float*>(x.in[i]);
  buffers.result[0] = static_cast<float*>(x.out);
  for (int k = 0; k < x.more_outs && k + 1 < kMaxResults; ++k)
    buffers.result[k + 1] = static_cast<float*>(x.more_out[k]);
  return buffers;
}

// The launch of every fused program (fused.cu): args.in, args.out, args.more_out, args.n
// elements, args.state a LaunchInfo, args.workspace partialDoubles(accumulators) doubles.
Launch programLaunch();
int64_t partialDoubles(int accumulators);
// The second pass of a program with reductions: one block per accumulator combines the
// kPartialBlocks partials of `partials` ([accumulator][block]) in order and writes each scalar
// result. Shared by the interpreter and the compiled kernels.
void finishReductions(const double* partials, const Buffers& buffers, const LaunchInfo& info);
// Blocks of kBlockThreads for a program over n elements (kPartialBlocks with reductions).
int programGrid(int64_t n, int accumulators);
#endif

} // namespace podm::cuda::fused
