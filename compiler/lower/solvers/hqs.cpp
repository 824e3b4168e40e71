// Half-quadratic splitting (Geman & Yang 1995; the plug-and-play form of IRCNN, Zhang et al. 2017)
// on the splits z_j = K_j x of splitting.cpp, from x = x^{l-1}:
// clang-format off
//   z_j   = prox_{λ_j h_j / μ_l}(K_j x)                          (or the denoiser: plug-and-play)
//   x^l   = argmin f(x) + μ_l/2 Σ_j ||K_j x - z_j||^2            (x-update: FFT, elementwise, CG, ...)
//   primal_res = sqrt(Σ_j ||K_j x^l - z_j||^2)
// With `estimate = "z"` (the denoiser the only split) the order is IRCNN's and DPIR's: the stage
// ends with the denoiser and its output is the estimate carried to the next stage,
//   x = argmin f(x) + μ_l/2 ||x - z^{l-1}||^2,   z^l = A_l(x),   primal_res = ||x - z^l||
// clang-format on
// Which output is the estimate matters: on Levin's images (periodic blur, σ = 2.55) IRCNN's
// order scores 0.9 dB above the x-update's (docs/results.md, "The paper's Table 2").
// μ_l usually grows with l (a schedule): HQS approaches the problem's minimizer only as μ → ∞.
#include "compiler/lower/solvers/solver.h"

namespace podm::lower {

using ir::Op;

ir::ValueId hqsStage(StageLowering& s) {
  Context& cx = s.cx;
  ir::Builder& b = cx.b;
  const Scalar mu = cx.settings.at("mu");
  const ast::Setting* estimate = findSetting(cx.stages, "estimate");
  const bool denoiserLast = estimate && estimate->value->pieces == std::vector<std::string>{"z"};
  std::vector<ir::ValueId> z;
  ir::ValueId x;
  if (denoiserLast) { // sema: the denoiser's split is the only one
    x = cx.xUpdate(mu, {s.x}, s.x);
    z.push_back(cx.zUpdate(cx.splits[0], x, mu, "z0 [hqs]"));
  } else {
    for (size_t j = 0; j < cx.splits.size(); ++j)
      z.push_back(cx.zUpdate(cx.splits[j], cx.apply(cx.splits[j].K, s.x), mu,
                             "z" + std::to_string(j) + " [hqs]"));
    x = cx.xUpdate(mu, z, s.x);
  }
  ir::ValueId primal;
  for (size_t j = 0; j < cx.splits.size(); ++j) {
    ir::ValueId r = b.op(Op::Norm2Sq, {b.op(Op::Sub, {cx.apply(cx.splits[j].K, x), z[j]})});
    primal = primal ? b.op(Op::Add, {primal, r}) : r;
  }
  s.q["primal_res"] = b.op(Op::Sqrt, {primal}, {}, "primal_res");
  return denoiserLast ? z[0] : x;
}

} // namespace podm::lower
