// The primal-dual hybrid gradient method (Chambolle & Pock 2011) for min_x G(x) + Σ_i F_i(K_i x):
// every term w ||A x + c||^2 of f and every term λ h(K x) of g on an operator is a dual block
// F_i(K_i x); the first term of g on the variable itself is G, proxed on x. With x̄ = x at l = 0:
// clang-format off
//   y_i+ = prox_{σ F_i*}(y_i + σ K_i x̄)
//          f block:  (v + σ c) / (1 + σ / (2w))              (F_i(y) = w ||y + c||^2)
//          g block:  v - σ prox_{λh/σ}(v / σ)                 (Moreau's identity)
//   x^l  = prox_{τ G}(x - τ Σ_i K_i' y_i+),    x̄+ = 2 x^l - x
//   primal_res = ||x - x^l|| / τ,   dual_res = ||(y - y+)/σ + K(x̄ - x^l)||
// clang-format on
// (the residuals of the optimality conditions -K'y ∈ ∂G(x), K x ∈ ∂F*(y), as in Goldstein et
// al. 2013). Only applications and adjoints are needed: no solve, any operators. Steps: τ = σ =
// 0.99 / ||K|| unless set (one given: the other is 0.99 / (it ||K||^2)), ||K||^2 the largest
// eigenvalue of Σ K_i'K_i by power iteration, so τσ||K||^2 < 1.
#include "compiler/lower/solvers/solver.h"

namespace podm::lower {

using ir::Op;

void pdhgPlan(Context& cx) {
  for (const ast::Setting& st : cx.stages->settings)
    if ((st.name == "tau" || st.name == "sigma") && cx.usesStageIndex(*st.value))
      fail(st.value->loc, "pdhg's steps tau and sigma are fixed for the run (tau sigma ||K||^2 < 1 "
                          "is checked once); give them without the stage index l");
  cx.splits.clear();
  for (const LsqTerm& t : cx.f) {
    Context::Split s;
    s.fidelity = &t;
    s.K = t.op;
    cx.splits.push_back(std::move(s));
  }
  for (const ProxTerm& t : cx.g) {
    if (!t.transform && !cx.primalTerm) {
      cx.primalTerm = &t;
      continue;
    }
    Context::Split s;
    s.term = &t;
    if (t.transform)
      s.K = *t.transform;
    cx.splits.push_back(std::move(s));
  }
  for (Context::Split& s : cx.splits) // y starts at 0 in K's range
    s.start = cx.b.op(Op::Scale, {cx.apply(s.K, cx.x0)}, {{"alpha", 0.0}});
  const bool hasTau = cx.settings.count("tau"), hasSigma = cx.settings.count("sigma");
  if (hasTau && hasSigma)
    return;
  auto normal = [&](ir::ValueId v) {
    ir::ValueId sum;
    for (const Context::Split& s : cx.splits) {
      ir::ValueId t = cx.apply(s.K.adjoint(), cx.apply(s.K, v));
      sum = sum ? cx.b.op(Op::Add, {sum, t}) : t;
    }
    return sum;
  };
  Scalar normSq = Scalar::of(cx.largestEigenvalue(normal, cx.varType, "||K||^2"));
  if (!hasTau && !hasSigma) {
    Scalar step = cx.div(Scalar::constant(0.99),
                         Scalar::of(cx.b.op(Op::Sqrt, {cx.node(normSq)}, {}, "||K||")));
    cx.settings["tau"] = step;
    cx.settings["sigma"] = step;
    cx.notes.push_back("pdhg: tau = sigma = 0.99 / ||K||, ||K|| by power iteration");
  } else {
    const std::string given = hasTau ? "tau" : "sigma", other = hasTau ? "sigma" : "tau";
    cx.settings[other] = cx.div(Scalar::constant(0.99), cx.mul(cx.settings.at(given), normSq));
    cx.notes.push_back("pdhg: " + other + " = 0.99 / (" + given + " ||K||^2)");
  }
}

ir::ValueId pdhgStage(StageLowering& s) {
  Context& cx = s.cx;
  ir::Builder& b = cx.b;
  const Scalar tau = cx.settings.at("tau"), sigma = cx.settings.at("sigma");
  const ir::ValueId sigmaNode = cx.node(sigma);
  ir::ValueId xbar = b.loopState(cx.x0, "xbar");
  ir::ValueId kty;
  std::vector<ir::ValueId> dy; // (y - y+) / σ per block, for dual_res
  for (size_t i = 0; i < cx.splits.size(); ++i) {
    const Context::Split& sp = cx.splits[i];
    const std::string name = "y" + std::to_string(i);
    ir::ValueId y = b.loopState(sp.start, name);
    ir::ValueId v = b.op(Op::Fma, {sigmaNode, cx.apply(sp.K, xbar), y});
    ir::ValueId yn;
    if (sp.fidelity) {
      if (sp.fidelity->offset)
        v = b.op(Op::Fma, {sigmaNode, *sp.fidelity->offset, v});
      Scalar shrink = cx.add(Scalar::constant(1),
                             cx.div(sigma, cx.mul(Scalar::constant(2), sp.fidelity->weight)));
      yn = b.op(Op::Div, {v, cx.node(shrink)}, {}, name + "+ [pdhg: f block]");
    } else {
      ir::ValueId p = cx.zUpdate(sp, b.op(Op::Div, {v, sigmaNode}), sigma, name + " prox");
      yn = b.op(Op::Sub, {v, b.op(Op::Mul, {sigmaNode, p})}, {}, name + "+ [pdhg: Moreau]");
    }
    ir::ValueId kt = cx.apply(sp.K.adjoint(), yn);
    kty = kty ? b.op(Op::Add, {kty, kt}) : kt;
    dy.push_back(b.op(Op::Div, {b.op(Op::Sub, {y, yn}), sigmaNode}));
    b.carry(y, yn);
  }
  const ir::ValueId tauNode = cx.node(tau);
  ir::ValueId x = kty ? b.op(Op::Sub, {s.x, b.op(Op::Mul, {tauNode, kty})}) : s.x;
  if (cx.primalTerm)
    x = cx.proxTerm(*cx.primalTerm, x, tauNode);
  cx.graph.mutableNode(x).label = "x+ [pdhg]";
  ir::ValueId back = b.op(Op::Sub, {xbar, x});
  ir::ValueId dual;
  for (size_t i = 0; i < cx.splits.size(); ++i) {
    ir::ValueId r = b.op(Op::Norm2Sq, {b.op(Op::Add, {dy[i], cx.apply(cx.splits[i].K, back)})});
    dual = dual ? b.op(Op::Add, {dual, r}) : r;
  }
  b.carry(xbar, b.op(Op::Sub, {b.op(Op::Scale, {x}, {{"alpha", 2.0}}), s.x}, {}, "xbar+ [pdhg]"));
  ir::ValueId dx = b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {b.op(Op::Sub, {s.x, x})})});
  s.q["primal_res"] = b.op(Op::Div, {dx, tauNode}, {}, "primal_res");
  if (dual)
    s.q["dual_res"] = b.op(Op::Sqrt, {dual}, {}, "dual_res");
  return x;
}

} // namespace podm::lower
