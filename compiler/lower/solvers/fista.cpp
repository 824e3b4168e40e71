// FISTA (Beck & Teboulle 2009):
//   x^l = prox_{γg}(y - γ∇f(y)),   y+ = x^l + β_l (x^l - x^{l-1}),
//   β_l = (t_l - 1) / t_{l+1},     t_{l+1} = (1 + √(1 + 4 t_l²)) / 2,  t_1 = 1,
// with β as a per-stage schedule (known when compiling) and y a second carried state.
#include "compiler/lower/solvers/solver.h"

#include <cmath>

namespace podm::lower {

ir::ValueId fistaStage(StageLowering& s) {
  Context& cx = s.cx;
  ir::Builder& b = cx.b;
  std::vector<double> beta;
  double t = 1;
  for (int64_t l = 0; l < cx.checked.stages; ++l) {
    const double tn = (1 + std::sqrt(1 + 4 * t * t)) / 2;
    beta.push_back((t - 1) / tn);
    t = tn;
  }
  ir::ValueId y = b.loopState(cx.x0, "y");
  ir::ValueId betaL = b.schedule("beta", beta);
  ir::ValueId v = b.op(ir::Op::Sub, {y, b.op(ir::Op::Mul, {s.gamma, cx.gradF(y, "grad_f(y)")})});
  ir::ValueId next = cx.proxG(v, s.gamma, "x+ [fista]");
  ir::ValueId yn =
      b.op(ir::Op::Fma, {betaL, b.op(ir::Op::Sub, {next, s.x}), next}, {}, "y+ [fista]");
  b.carry(y, yn);
  return next;
}

} // namespace podm::lower
