// How each fusible IR op is written as an instruction of a fused program (ir/fused_program.h):
// the tables and helpers shared by the fusion passes (fuse_elementwise.cpp, fuse_results.cpp).
#pragma once

#include "ir/fused_program.h"
#include "ir/graph.h"

#include <functional>
#include <vector>

namespace podm::passes {

// How one IR op is written in a program: the program op, and its compile-time attributes as
// literal arguments placed before (scale: alpha * x) or after (clamp: x, lo, hi) the operands.
struct FusedForm {
  ir::Op op;
  const char* name;
  std::vector<const char*> before, after;
};

// One line per fusible elementwise op, and per reduction a program may compute.
const std::vector<FusedForm>& elementwiseForms();
const std::vector<FusedForm>& reductionForms();
// The form of `op` in `forms`, or nullptr.
const FusedForm* formOf(const std::vector<FusedForm>& forms, ir::Op op);

// The node and all its operands are f32 values.
bool allReal(const ir::Graph& g, const ir::Node& n);
// Its compile-time attributes are finite numbers (literals of the program).
bool finiteLiterals(const ir::Node& n, const FusedForm& f);

// Per node: the executor reads its value itself (a carried next value, the stop test, an output),
// so a fusion must keep it a node of its own.
std::vector<bool> readByExecutor(const ir::Graph& g);

// The instruction computing node `n` in form `f`, each operand written as `argOf` says.
ir::FusedInstr instructionOf(const ir::Node& n, const FusedForm& f,
                             const std::function<ir::FusedArg(ir::ValueId)>& argOf);

} // namespace podm::passes
