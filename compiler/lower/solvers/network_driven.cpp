// The network-driven stages of the paper (Eqs. 3-7), from x = x^{l-1}:
// clang-format off
//   x_A = A(x);  x~ = F(x_A) = argmin f + d(·, x_A)                         (Eq. 3)
//   x_G = prox_{γg}(x~ - γ(∇f(x~) + μ(x~ - x)))                             (Eq. 7)
//   podm:    ψ = (x~ - x_G)/γ - μ/2 (2x~ - x_G - x) + H(x_G - x) + ∇f(x_G) - ∇f(x~)
//            x^l = x_G if ||ψ|| <= c ||x_G - x||                           (Eq. 5)
//                  else prox_{γg}(x - γ∇f(x))                              (Eq. 6, feedback)
//   relaxed, naive:  x^l = x_G (no check; relaxed learns F's parameters, Sec. 4.2)
// clang-format on
// The check is a `select` on a scalar, so the feedback branch runs only when it is taken.
#include "compiler/lower/solvers/solver.h"

namespace podm::lower {

using ir::Op;

namespace {

ir::ValueId norm(ir::Builder& b, ir::ValueId v) {
  return b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {v})});
}

} // namespace

ir::ValueId networkDrivenStage(StageLowering& s) {
  Context& cx = s.cx;
  ir::Builder& b = cx.b;
  const ir::ValueId x = s.x, gamma = s.gamma;
  std::optional<Scalar> mu;
  if (auto it = cx.settings.find("mu"); it != cx.settings.end())
    mu = it->second;
  ir::ValueId xA = s.net ? cx.applyNet(*s.net, x) : cx.apply(s.A, x, "x_A");
  ir::ValueId xt = cx.fstep(xA);
  ir::ValueId gxt = cx.gradF(xt, "grad_f(x~)");
  ir::ValueId dir = gxt;
  if (mu)
    dir = b.op(Op::Add, {gxt, cx.scaled(b.op(Op::Sub, {xt, x}), *mu)});
  ir::ValueId xg = cx.proxG(b.op(Op::Sub, {xt, b.op(Op::Mul, {gamma, dir})}), gamma, "x_G");
  if (s.solver != "podm") {
    cx.graph.mutableNode(xg).label = "x+ [" + s.solver + "]";
    return xg;
  }
  // ψ of Eq. (7); H(x_G - x) with H = Σ w F'F of d.
  ir::ValueId psi = b.op(Op::Div, {b.op(Op::Sub, {xt, xg}), gamma});
  if (mu) {
    ir::ValueId t =
        b.op(Op::Sub, {b.op(Op::Sub, {b.op(Op::Scale, {xt}, {{"alpha", 2.0}}), xg}), x});
    psi = b.op(Op::Sub, {psi, cx.scaled(t, cx.mul(*mu, Scalar::constant(0.5)))});
  }
  psi = b.op(Op::Add, {psi, cx.applyH(b.op(Op::Sub, {xg, x}))});
  psi = b.op(Op::Add, {psi, b.op(Op::Sub, {cx.gradF(xg, "grad_f(x_G)"), gxt})}, {}, "psi");
  ir::ValueId err = b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {psi})}, {}, "||psi||");
  ir::ValueId bound = b.op(Op::Mul, {cx.node(cx.settings.at("c")), norm(b, b.op(Op::Sub, {xg, x}))},
                           {}, "c ||x_G - x||");
  ir::ValueId ok = b.op(Op::Le, {err, bound}, {}, "check (Eq. 5)");
  ir::ValueId fb = cx.proxG(b.op(Op::Sub, {x, b.op(Op::Mul, {gamma, cx.gradF(x, "grad_f(x)")})}),
                            gamma, "feedback (Eq. 6)");
  ir::ValueId next = b.op(Op::Select, {ok, xg, fb}, {}, "x+ [podm]");
  s.q["opt_error"] = err;
  s.q["check_bound"] = bound;
  s.q["branch"] = ok;
  cx.admissibility(gamma, mu);
  return next;
}

} // namespace podm::lower
