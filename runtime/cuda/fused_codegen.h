// A fused elementwise program as CUDA source for NVRTC (fused_nvrtc.cpp): the interpreter's
// instructions (fused_encode.h) unrolled into one straight-line kernel, each instruction a call
// of the interpreter's own evaluate/term/combine (fused_math.h) with a constant opcode, which the
// compiler folds to the op's expression. Registers become local variables, literals exact float
// bit patterns, and the reductions end in the interpreter's block combination, writing the same
// partials its finishing pass reads. So the two paths differ only in dispatch: what one
// instruction computes is the same function either way.
//
// Host-only and header-only, so the test of the generated source (tests/runtime/cuda/
// fused_codegen_test.cpp) builds it exactly as the builder does.
#pragma once

#include "runtime/cuda/fused_encode.h"

#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

namespace podm::cuda::fused {

// The name of the kernel in every generated source.
inline constexpr const char* kCompiledKernelName = "podm_fused_program";

namespace codegen_detail {

inline std::string argument(const Arg& a) {
  switch (a.source) {
  case Source::Tensor:
    return "b.in[" + std::to_string(a.index) + "][i]";
  case Source::Scalar:
    return "b.in[" + std::to_string(a.index) + "][0]";
  case Source::Literal: {
    uint32_t bits = 0;
    std::memcpy(&bits, &a.literal, sizeof bits);
    return "__int_as_float(" + std::to_string(static_cast<int32_t>(bits)) + ")";
  }
  case Source::Register:
    break;
  }
  return "r" + std::to_string(a.index);
}

inline std::string opcode(Opcode op) {
  return "static_cast<pf::Opcode>(" + std::to_string(static_cast<int>(op)) + ")";
}

} // namespace codegen_detail

// The source of `e` as the kernel kCompiledKernelName(Buffers b, long long n, double* partials),
// launched with kBlockThreads threads per block on programGrid(n, accumulators) blocks.
inline std::string kernelSource(const EncodedProgram& e) {
  using namespace codegen_detail;
  std::ostringstream s;
  s << "#include \"runtime/cuda/fused_math.h\"\n"
    << "namespace pf = podm::cuda::fused;\n"
    << "extern \"C\" __global__ void __launch_bounds__(" << kBlockThreads << ") "
    << kCompiledKernelName << "(pf::Buffers b, long long n, double* partials) {\n";
  for (int a = 0; a < e.accumulators; ++a)
    s << "  double acc" << a << " = 0.0;\n";
  s << "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;\n"
    << "       i += (long long)gridDim.x * blockDim.x) {\n";
  int registers = 0;
  for (const Instruction& ins : e.code)
    if (!isReduction(ins.op) && ins.dest + 1 > registers)
      registers = ins.dest + 1;
  for (int r = 0; r < registers; ++r)
    s << "    float r" << r << " = 0.f;\n";
  for (const Instruction& ins : e.code) {
    s << "    {\n      const float v[4] = {";
    for (int k = 0; k < 4; ++k)
      s << (k ? ", " : "") << (k < ins.arity ? argument(ins.args[k]) : "0.f");
    s << "};\n";
    if (isReduction(ins.op)) {
      const std::string acc = "acc" + std::to_string(ins.accumulator);
      s << "      " << acc << " = pf::combine(" << opcode(ins.op) << ", " << acc << ", pf::term("
        << opcode(ins.op) << ", v));\n";
    } else {
      s << "      const float t = pf::evaluate(" << opcode(ins.op) << ", v);\n"
        << "      r" << int(ins.dest) << " = t;\n";
      if (ins.result >= 0)
        s << "      if (b.result[" << int(ins.result) << "]) b.result[" << int(ins.result)
          << "][i] = t;\n";
    }
    s << "    }\n";
  }
  for (int r = 0; r < registers; ++r) // a register only a result reads is still fine
    s << "    (void)r" << r << ";\n";
  s << "  }\n";
  for (int a = 0; a < e.accumulators; ++a)
    s << "  {\n    const double total = pf::blockCombine(" << opcode(e.accumulatorOp[a]) << ", acc"
      << a << ");\n    if (threadIdx.x == 0) partials[" << a
      << " * gridDim.x + blockIdx.x] = total;\n  }\n";
  s << "}\n";
  return s.str();
}

} // namespace podm::cuda::fused
