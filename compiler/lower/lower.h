// The lowering: a checked model (AST + sema::CheckedModel) and concrete input shapes in, an
// ir::Graph out (docs/architecture.md, docs/lowering.md). It derives ∇f and the normal operator of
// f from the linear operators' structure (adjoints from the ops.def adjoint column), estimates L_f
// by power iteration in the graph's Pre region, picks the F-step solver from operator structure and
// writes the stage loop of the chosen solver (proxgrad, fista, podm, relaxed/naive) with its
// check, feedback and monitors as ordinary graph nodes. See docs/lowering.md.
#pragma once

#include "frontend/ast/ast.h"
#include "frontend/sema/sema.h"
#include "ir/graph.h"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace podm::lower {

// Height and width of an image or kernel input (images and kernels are 1x1xHxW).
struct InputShape {
  int64_t h = 0, w = 0;
};

struct LowerOptions {
  // Every image / kernel input the graph reads must have a shape here. An optional input without
  // a shape is left out, with the monitors that need it (a note says so).
  std::map<std::string, InputShape> shapes;
  int powerIterations = 40; // for L(f): iterations of the power method on ∇f's normal operator
  uint64_t seed = 1;        // start vector of the power method
};

// Monitors of Proposition 1's assumptions, lowered for podm stages that monitor phi and branch,
// so that a run in which phi rises can say which assumption fails: per stage gamma_l L_f
// (admissible below 1), c_l / (mu_l / 2) (admissible up to 1) and 1 when the F-step is solved
// exactly (closed form), 0 when by a few CG or gradient steps.
inline constexpr const char* kProp1GammaLf = "prop1.gamma_lf";
inline constexpr const char* kProp1COverHalfMu = "prop1.c_over_half_mu";
inline constexpr const char* kProp1ExactFStep = "prop1.exact_fstep";

struct LowerResult {
  ir::Graph graph;
  // What the lowering decided or left out, for `podm compile` to print ("F-step: FFT closed form
  // (every operator is circulant)", "monitor ssim(ref) is not lowered yet: skipped").
  std::vector<std::string> notes;
};

// A model the lowering cannot turn into a graph; `loc` is the offending place in the model file.
class LowerError : public std::runtime_error {
public:
  LowerError(SourceLoc loc, const std::string& message) : std::runtime_error(message), loc_(loc) {}
  SourceLoc loc() const { return loc_; }

private:
  SourceLoc loc_;
};

// Throws LowerError for models or shapes it cannot lower, and ir::IrError only on its own bugs.
LowerResult lowerModel(const ast::Model& model, const sema::CheckedModel& checked,
                       const LowerOptions& options);

} // namespace podm::lower
