// ADMM in scaled form (Boyd et al. 2011, Sec. 3.1.1) on the splits z_j = K_j x of splitting.cpp:
// clang-format off
//   x^l   = argmin f(x) + ρ/2 Σ_j ||K_j x - z_j + u_j||^2      (x-update: FFT, elementwise, CG, ...)
//   z_j+  = prox_{λ_j h_j / ρ}(K_j x^l + u_j)                   (or the denoiser: plug-and-play)
//   u_j+  = u_j + K_j x^l - z_j+
//   primal_res = sqrt(Σ_j ||K_j x^l - z_j+||^2),   dual_res = ρ ||Σ_j K_j'(z_j+ - z_j)||
// clang-format on
// z starts at K x0 and u at 0. ρ may be a schedule in l; u (the dual divided by ρ) is then not
// rescaled when ρ changes: keep ρ constant for the textbook method and its convergence proof.
// The loop carries z and s = K x + u (the prox's input) rather than z and u: u = s - z and
// z - u = 2z - s are then expressions the fusion pass folds into their consumers, and the u
// update is not a memory pass of its own. The iterates are those of the equations above.
#include "compiler/lower/solvers/solver.h"

namespace podm::lower {

using ir::Op;

ir::ValueId admmStage(StageLowering& s) {
  Context& cx = s.cx;
  ir::Builder& b = cx.b;
  const Scalar rho = cx.settings.at("rho");
  const size_t n = cx.splits.size();
  std::vector<ir::ValueId> z(n), sum(n), v(n);
  for (size_t j = 0; j < n; ++j) {
    const ir::ValueId start = cx.splits[j].start;
    z[j] = b.loopState(start, "z" + std::to_string(j));
    sum[j] = b.loopState(start, "s" + std::to_string(j)); // K x + u; u = 0 at the start
    v[j] = b.op(Op::Sub, {b.op(Op::Scale, {z[j]}, {{"alpha", 2.0}}), sum[j]}, {}, "z - u");
  }
  ir::ValueId x = cx.xUpdate(rho, v, s.x);
  ir::ValueId primal, change;
  for (size_t j = 0; j < n; ++j) {
    ir::ValueId kx = cx.apply(cx.splits[j].K, x);
    ir::ValueId w = b.op(Op::Add, {kx, b.op(Op::Sub, {sum[j], z[j]})}, {},
                         "s" + std::to_string(j) + "+ = K x + u [admm]");
    ir::ValueId zn = cx.zUpdate(cx.splits[j], w, rho, "z" + std::to_string(j) + "+ [admm]");
    ir::ValueId r = b.op(Op::Norm2Sq, {b.op(Op::Sub, {kx, zn})});
    primal = primal ? b.op(Op::Add, {primal, r}) : r;
    ir::ValueId dz = cx.apply(cx.splits[j].K.adjoint(), b.op(Op::Sub, {zn, z[j]}));
    change = change ? b.op(Op::Add, {change, dz}) : dz;
    b.carry(z[j], zn);
    b.carry(sum[j], w);
  }
  s.q["primal_res"] = b.op(Op::Sqrt, {primal}, {}, "primal_res");
  s.q["dual_res"] = cx.node(
      cx.mul(rho, Scalar::of(b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {change})}, {}, "||K'(z+ - z)||"))));
  return x;
}

} // namespace podm::lower
