// One stage of a solver, as the stage loop (solvers.cpp) asks for it: each solver is a function
// from the loop state to the next iterate, in its own file, listed in the table of table.cpp.
// The loop around it (start point, settings, F-step planning, monitors, stop rule, carry) is
// shared. A solver records the quantities its monitors and stop rule may read in `q`
// (opt_error, check_bound, branch; rel_change and phi are the loop's).
#pragma once

#include "compiler/lower/context.h"

#include <map>
#include <string>

namespace podm::lower {

struct StageLowering {
  Context& cx;
  const std::string& solver;             // its name, for labels
  ir::ValueId x;                         // the loop state x^{l-1}
  ir::ValueId gamma;                     // the stage's step
  const LinOp& A;                        // A as a linear operator (network-driven solvers)
  const ast::Decl* net;                  // or A as a network; nullptr when a LinOp
  std::map<std::string, ir::ValueId>& q; // monitor quantities the solver provides
};

struct SolverLowering {
  const char* name;
  // Uses the network A, the F-step and d (podm, relaxed, naive): the loop plans the F-step.
  bool networkDriven;
  ir::ValueId (*stage)(StageLowering& s); // returns x^l
  // Splitting solvers (admm, hqs, pdhg): g's terms are split (any operator), no step gamma; `plan`
  // builds their Pre part (splitting.cpp, or the solver's own).
  bool splitting = false;
  void (*plan)(Context& cx) = nullptr;
};

// The solver's lowering, nullptr for a name without one.
const SolverLowering* findSolverLowering(const std::string& name);

// The solvers' stages (one file each).
ir::ValueId proxgradStage(StageLowering& s);      // proxgrad.cpp
ir::ValueId fistaStage(StageLowering& s);         // fista.cpp
ir::ValueId networkDrivenStage(StageLowering& s); // network_driven.cpp: podm, relaxed, naive
ir::ValueId admmStage(StageLowering& s);          // admm.cpp
ir::ValueId hqsStage(StageLowering& s);           // hqs.cpp
ir::ValueId pdhgStage(StageLowering& s);          // pdhg.cpp
void pdhgPlan(Context& cx);                       // pdhg.cpp: dual blocks, steps tau and sigma

} // namespace podm::lower
