// The stage loop of each solver, as graph nodes (docs/lowering.md):
//   proxgrad  x = prox_{γg}(x - γ∇f(x))
//   fista     x+ = prox_{γg}(y - γ∇f(y)), y+ = x+ + β_l (x+ - x), β_l from t_{l+1} =
//   (1+√(1+4t_l²))/2 podm      x_A = A(x); x~ = F(x_A); x_G = prox_{γg}(x~ - γ(∇f(x~) + μ(x~ -
//   x)));
//             ψ = (x~ - x_G)/γ - μ/2 (2x~ - x_G - x) + H(x_G - x) + ∇f(x_G) - ∇f(x~);
//             x+ = x_G if ||ψ|| <= c ||x_G - x|| else prox_{γg}(x - γ∇f(x))   (select on a scalar)
//   relaxed, naive  x+ = x_G (no check)
// and the stopping rule; the monitors are monitors.cpp's.
#include "compiler/lower/context.h"

#include <cmath>

namespace podm::lower {

using ast::Expr;
using ast::ExprKind;
using ir::Op;

namespace {

const ast::Setting* findSetting(const ast::Decl* stages, const std::string& name) {
  for (const ast::Setting& s : stages->settings)
    if (s.name == name)
      return &s;
  return nullptr;
}

// Scalar inputs that d's weights read must exist before the loop (inputs are Pre nodes).
void preloadScalarInputs(Context& cx, const Expr& e) {
  if (e.kind == ExprKind::Name) {
    auto d = cx.decls.find(e.text);
    if (d != cx.decls.end() && d->second->kind == ast::DeclKind::Input &&
        d->second->type.name == "scalar")
      cx.input(e.text, e.loc);
  }
  for (const auto& o : e.operands)
    preloadScalarInputs(cx, *o);
}

ir::ValueId norm(ir::Builder& b, ir::ValueId v) {
  return b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {v})});
}

} // namespace

void Context::buildLoop() {
  const std::string& solver = checked.solver;
  const bool usesF = solver == "podm" || solver == "relaxed" || solver == "naive";
  const ast::Decl& varDecl = *decls.at(var);

  // ---- Pre: the start point, inputs the monitors read, settings that do not vary by stage.
  if (x0) {
    // lower.cpp evaluated the initial value already.
  } else if (varDecl.value) {
    x0 = image(*varDecl.value);
    if (graph.type(x0) != varType)
      fail(varDecl.value->loc, "the initial value has shape " + graph.type(x0).str() +
                                   " but the variable is " + varType.str());
  } else {
    x0 = b.constant(varType, std::vector<float>(varType.numel(), 0.f), var + "0");
  }
  monitorInputs();
  std::vector<const ast::Setting*> staged;
  for (const ast::Setting& s : stages->settings) {
    if (s.name != "gamma" && s.name != "mu" && s.name != "c")
      continue;
    if (callsL(*s.value))
      lipschitzConstant(s.value->loc); // a Pre value, also when the setting is per stage
    if (usesStageIndex(*s.value))
      staged.push_back(&s);
    else
      settings[s.name] = number(*s.value);
  }
  if (!findSetting(stages, "gamma")) {
    settings["gamma"] = div(Scalar::constant(0.99), Scalar::of(lipschitzConstant(stages->loc)));
    notes.push_back("gamma = 0.99 / L(f) (no gamma setting)");
  }
  LinOp A = LinOp::identity();
  const ast::Decl* net = nullptr; // A as a network (network.cpp)
  if (usesF) {
    if (const ast::Setting* a = findSetting(stages, "A")) {
      auto named = a->value->kind == ExprKind::Name ? decls.find(a->value->text) : decls.end();
      if (named != decls.end() && named->second->kind == ast::DeclKind::Net)
        net = named->second;
      else
        A = linop(*a->value);
    } else {
      for (const auto& [n, d] : decls)
        if (d->kind == ast::DeclKind::Net) {
          if (net)
            fail(d->nameLoc, "more than one net ('" + net->name + "', '" + n +
                                 "'): say which is A with `A = " + n + "` in the stages block");
          net = d;
        }
    }
    planFStep();
  }

  for (const auto& weights : d.weightExprs)
    for (const auto& [e, divides] : weights)
      preloadScalarInputs(*this, *e);

  // ---- Body
  b.beginLoop(checked.stages);
  for (const ast::Setting* s : staged)
    settings[s->name] = setting(*s);
  if (d.present)
    distanceWeights();
  ir::ValueId gamma = node(settings.at("gamma"));
  ir::ValueId x = b.loopState(x0, var);
  ir::ValueId next;
  std::map<std::string, ir::ValueId> q; // quantities for monitors and the stop rule

  if (solver == "proxgrad") {
    ir::ValueId v = b.op(Op::Sub, {x, b.op(Op::Mul, {gamma, gradF(x, "grad_f")})});
    next = proxG(v, gamma, "x+ [proxgrad]");
  } else if (solver == "fista") {
    std::vector<double> beta;
    double t = 1;
    for (int64_t l = 0; l < checked.stages; ++l) {
      double tn = (1 + std::sqrt(1 + 4 * t * t)) / 2;
      beta.push_back((t - 1) / tn);
      t = tn;
    }
    ir::ValueId y = b.loopState(x0, "y");
    ir::ValueId betaL = b.schedule("beta", beta);
    ir::ValueId v = b.op(Op::Sub, {y, b.op(Op::Mul, {gamma, gradF(y, "grad_f(y)")})});
    next = proxG(v, gamma, "x+ [fista]");
    ir::ValueId yn = b.op(Op::Fma, {betaL, b.op(Op::Sub, {next, x}), next}, {}, "y+ [fista]");
    b.carry(y, yn);
  } else if (usesF) {
    std::optional<Scalar> mu;
    if (auto it = settings.find("mu"); it != settings.end())
      mu = it->second;
    ir::ValueId xA = net ? applyNet(*net, x) : apply(A, x, "x_A");
    ir::ValueId xt = fstep(xA);
    ir::ValueId gxt = gradF(xt, "grad_f(x~)");
    ir::ValueId dir = gxt;
    if (mu)
      dir = b.op(Op::Add, {gxt, scaled(b.op(Op::Sub, {xt, x}), *mu)});
    ir::ValueId xg = proxG(b.op(Op::Sub, {xt, b.op(Op::Mul, {gamma, dir})}), gamma, "x_G");
    if (solver == "podm") {
      // ψ of Eq. (7); H(x_G - x) with H = Σ w F'F of d.
      ir::ValueId psi = b.op(Op::Div, {b.op(Op::Sub, {xt, xg}), gamma});
      if (mu) {
        ir::ValueId t =
            b.op(Op::Sub, {b.op(Op::Sub, {b.op(Op::Scale, {xt}, {{"alpha", 2.0}}), xg}), x});
        psi = b.op(Op::Sub, {psi, scaled(t, mul(*mu, Scalar::constant(0.5)))});
      }
      psi = b.op(Op::Add, {psi, applyH(b.op(Op::Sub, {xg, x}))});
      psi = b.op(Op::Add, {psi, b.op(Op::Sub, {gradF(xg, "grad_f(x_G)"), gxt})}, {}, "psi");
      ir::ValueId err = b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {psi})}, {}, "||psi||");
      ir::ValueId bound = b.op(Op::Mul, {node(settings.at("c")), norm(b, b.op(Op::Sub, {xg, x}))},
                               {}, "c ||x_G - x||");
      ir::ValueId ok = b.op(Op::Le, {err, bound}, {}, "check (Eq. 5)");
      ir::ValueId fb = proxG(b.op(Op::Sub, {x, b.op(Op::Mul, {gamma, gradF(x, "grad_f(x)")})}),
                             gamma, "feedback (Eq. 6)");
      next = b.op(Op::Select, {ok, xg, fb}, {}, "x+ [podm]");
      q["opt_error"] = err;
      q["check_bound"] = bound;
      q["branch"] = ok;
      admissibility(gamma, mu);
    } else {
      next = xg;
      graph.mutableNode(next).label = "x+ [" + solver + "]";
    }
  } else {
    fail(stages->nameLoc, "solver '" + solver + "' has no lowering");
  }

  ir::ValueId tiny = b.scalar(1e-30f);
  q["rel_change"] =
      b.op(Op::Div, {norm(b, b.op(Op::Sub, {next, x})), b.op(Op::Max, {norm(b, x), tiny})}, {},
           "rel_change");
  // phi at its first use (a monitor item or the stop rule), which an error about it points at.
  auto phi = [&](SourceLoc use) {
    if (!q.count("phi"))
      q["phi"] = b.op(Op::Add, {fValue(next), gValue(next, use)}, {}, "phi");
    return q["phi"];
  };
  buildMonitors(next, q, phi);
  if (const ast::Setting* stop = findSetting(stages, "stop")) {
    const Expr& e = *stop->value;
    bool ok = e.kind == ExprKind::Binary &&
              (e.op == ast::BinaryOp::Less || e.op == ast::BinaryOp::LessEq) &&
              e.operand(0).kind == ExprKind::Name;
    if (!ok)
      fail(e.loc, "a stopping rule is lowered in the form quantity < number");
    const std::string& what = e.operand(0).text;
    ir::ValueId lhs = what == "phi"   ? phi(e.operand(0).loc)
                      : q.count(what) ? q[what]
                                      : ir::ValueId{};
    if (!lhs)
      fail(e.operand(0).loc, "'" + what + "' is not available for " + solver + " stages");
    ir::ValueId rhs = node(number(e.operand(1)));
    b.stopWhen(b.op(e.op == ast::BinaryOp::Less ? Op::Lt : Op::Le, {lhs, rhs}, {}, "stop"));
  }
  b.carry(x, next);
  b.endLoop();
  b.output(var, b.loopResult(x));
}

} // namespace podm::lower
