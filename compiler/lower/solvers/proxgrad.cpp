// Proximal gradient: x^l = prox_{γg}(x - γ∇f(x)).
#include "compiler/lower/solvers/solver.h"

namespace podm::lower {

ir::ValueId proxgradStage(StageLowering& s) {
  Context& cx = s.cx;
  ir::ValueId step = cx.b.op(ir::Op::Mul, {s.gamma, cx.gradF(s.x, "grad_f")});
  return cx.proxG(cx.b.op(ir::Op::Sub, {s.x, step}), s.gamma, "x+ [proxgrad]");
}

} // namespace podm::lower
