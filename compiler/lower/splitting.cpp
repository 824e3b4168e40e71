// What the splitting solvers (admm, hqs, pdhg; solvers/) share: the splits z_j = K_j x, one per
// term λ_j h_j(K_j x) of g plus, for plug-and-play, the denoiser's z = x; the x-update
// clang-format off
//   x = argmin f(x) + ρ/2 Σ_j ||K_j x - v_j||^2,   i.e.  (N + ρ Σ K_j'K_j) x = -Σ 2 w A'c + ρ Σ K_j' v_j,
// clang-format on
// which is the F-step's quadratic with H = ρ/2 Σ K_j'K_j and so is solved the way the F-step is
// (fstep.cpp: elementwise, FFT closed form, orthogonal transform, PCG or CG, chosen by
// structure); and the z-update prox_{λh/ρ}(v), or the denoiser's output at v.
#include "compiler/lower/context.h"

namespace podm::lower {

using ir::Op;

void Context::planSplits() {
  if (const ast::Setting* s = findSetting(stages, "denoiser")) {
    auto it = decls.find(s->value->text);
    if (s->value->kind != ast::ExprKind::Name || it == decls.end() ||
        it->second->kind != ast::DeclKind::Net)
      fail(s->value->loc, "denoiser must name a network (net A = ...)");
    denoiser = it->second;
  }
  for (const ProxTerm& t : g) {
    Split s;
    s.term = &t;
    if (t.transform)
      s.K = *t.transform;
    splits.push_back(std::move(s));
  }
  if (denoiser)
    splits.push_back(Split{});
  for (Split& s : splits)
    s.start = apply(s.K, x0);
  d.parts.clear();
  // Only K'K enters the quadratic: an orthogonal K (haar, dct) contributes the identity, which
  // keeps a mask or a circulant f solvable in closed form. Weights are set per stage by xUpdate.
  for (const Split& s : splits)
    d.parts.push_back({Scalar::constant(0.5), s.K.orthogonal() ? LinOp::identity() : s.K});
  planFStep();
}

ir::ValueId Context::xUpdate(const Scalar& penalty, const std::vector<ir::ValueId>& v,
                             ir::ValueId start) {
  const Scalar half = mul(penalty, Scalar::constant(0.5)); // one weight (node) for every part
  ir::ValueId sum;
  for (size_t j = 0; j < splits.size(); ++j) {
    d.parts[j].first = half;
    ir::ValueId kv = apply(splits[j].K.adjoint(), v[j]);
    sum = sum ? b.op(Op::Add, {sum, kv}) : kv;
  }
  return solveQuadratic(scaled(sum, penalty, "rho sum K'v"), start);
}

ir::ValueId Context::zUpdate(const Split& s, ir::ValueId v, const Scalar& penalty,
                             std::string label) {
  if (!s.term) {
    ir::ValueId out = applyNet(*denoiser, v);
    graph.mutableNode(out).label = label + " [denoiser " + denoiser->name + "]";
    return out;
  }
  ir::ValueId step = node(div(Scalar::constant(1), penalty));
  return proxTerm(*s.term, v, step, label + " [prox " + s.term->name + "]");
}

} // namespace podm::lower
