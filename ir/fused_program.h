// The expression program of a `fused_elementwise` node (made by compiler/passes/fuse_elementwise):
// a chain of elementwise f32 operations the CPU evaluates in one pass over the data, optionally
// ending in a reduction to one scalar. It is the node's `program` attribute, as text, so it
// serializes in .pgraph files and reads in --emit=graph-opt:
//
//   t0 = sub(in0, in1); t1 = mul(t0, 0.25); t2 = add(t1, in2); norm2sq(t2)
//
// inK is operand K of the node (an f32 tensor, or a scalar that broadcasts), tK the result of
// instruction K, and a bare number a literal (a compile-time attribute of a fused op, such as
// scale's alpha: applied in float, as the unfused kernel does). Each instruction computes exactly
// the float expression of the op it replaces (same operand order, no reassociation); the program
// result is the last instruction's.
//
// A program may instead end in `return tA, tB, ...`: several results from one pass (issue 18: the
// FISTA step writes x+ and y+ and accumulates the monitors' sums while the data is in cache).
// The first is the node's own value and must be a tensor; result k >= 1 is read through a
// `fused_output {index=k}` node. Reductions may then stand anywhere, each with its own
// accumulator, but their scalars are results only, never arguments.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace podm::ir {

// The operations a program may use. `reduction` ones may only come last and make the result a
// scalar (accumulated in double, as the reduction kernels do).
struct FusedOpInfo {
  std::string_view name;
  int arity;
  bool reduction;
};
std::span<const FusedOpInfo> fusedOps();
// Index into fusedOps(), or -1.
int findFusedOp(std::string_view name);

struct FusedArg {
  enum class Kind : uint8_t { Input, Temp, Literal };
  Kind kind = Kind::Input;
  uint32_t index = 0; // Input: operand index; Temp: instruction index
  double literal = 0;
};

struct FusedInstr {
  int op = 0; // index into fusedOps()
  std::vector<FusedArg> args;
};

struct FusedProgram {
  std::vector<FusedInstr> instrs;
  std::vector<uint32_t> returns; // `return` list (instruction indices); empty: the last one
  // The results in order: `returns`, or the last instruction alone.
  std::vector<uint32_t> results() const;
  bool isReduction(uint32_t instr) const;
  // The node's own value is a scalar (a single result that is a reduction).
  bool reduction() const;
  // The largest operand index referenced, plus one.
  uint32_t inputsUsed() const;
};

// Parses and checks the program against `inputs` operands: known ops, arities, inputs and temps
// in range (temps defined earlier), a reduction only last. Throws IrError naming the problem.
FusedProgram parseFusedProgram(std::string_view text, size_t inputs);
// The canonical text (what parseFusedProgram reads; literals printed exactly).
std::string printFusedProgram(const FusedProgram& program);

} // namespace podm::ir
