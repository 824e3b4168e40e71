// The table of solver lowerings: a new solver is its stage function and one line here (and its
// name and settings in sema's catalogue, frontend/sema/language.cpp).
#include "compiler/lower/solvers/solver.h"

namespace podm::lower {

const SolverLowering* findSolverLowering(const std::string& name) {
  static const SolverLowering kSolvers[] = {
      {"proxgrad", false, proxgradStage},
      {"fista", false, fistaStage},
      {"podm", true, networkDrivenStage},
      {"relaxed", true, networkDrivenStage},
      {"naive", true, networkDrivenStage},
      {"admm", false, admmStage, true, [](Context& cx) { cx.planSplits(); }},
      {"hqs", false, hqsStage, true, [](Context& cx) { cx.planSplits(); }},
      {"pdhg", false, pdhgStage, true, pdhgPlan},
  };
  for (const SolverLowering& s : kSolvers)
    if (name == s.name)
      return &s;
  return nullptr;
}

} // namespace podm::lower
