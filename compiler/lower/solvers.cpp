// The stage loop: what every solver shares (the start point, settings, A, the F-step's Pre part,
// the monitors, the stopping rule and the carry), around one stage written by the solver's own
// file under solvers/, found in the table kSolvers. A new solver is one file and one table line.
#include "compiler/lower/context.h"
#include "compiler/lower/solvers/solver.h"
#include "frontend/sema/catalogue.h"

#include <cmath>

namespace podm::lower {

using ast::Expr;
using ast::ExprKind;
using ir::Op;

namespace {

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

const ast::Setting* findSetting(const ast::Decl* stages, const std::string& name) {
  if (!stages)
    return nullptr;
  for (const ast::Setting& s : stages->settings)
    if (s.name == name)
      return &s;
  return nullptr;
}

void Context::buildLoop() {
  const std::string& solver = checked.solver;
  const SolverLowering* lowering = findSolverLowering(solver);
  if (!lowering)
    fail(stages->nameLoc, "solver '" + solver + "' has no lowering");
  const bool usesF = lowering->networkDriven;
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
  planOutput(x0);
  monitorInputs();
  std::vector<const ast::Setting*> staged;
  for (const ast::Setting& s : stages->settings) {
    if (!sema::isStageParameter(s.name))
      continue;
    if (callsL(*s.value))
      lipschitzConstant(s.value->loc); // a Pre value, also when the setting is per stage
    if (usesStageIndex(*s.value))
      staged.push_back(&s);
    else
      settings[s.name] = number(*s.value);
  }
  if (lowering->plan)
    lowering->plan(*this);
  if (!lowering->splitting && !findSetting(stages, "gamma")) {
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
  ir::ValueId gamma = lowering->splitting ? ir::ValueId{} : node(settings.at("gamma"));
  ir::ValueId x = b.loopState(x0, var);
  std::optional<ir::ValueId> shownState;
  if (outputDecl && outputStart)
    shownState = b.loopState(outputStart, var + "_output");
  std::map<std::string, ir::ValueId> q; // quantities for monitors and the stop rule
  StageLowering stage{*this, solver, x, gamma, A, net, q};
  ir::ValueId next = lowering->stage(stage);

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
  const ir::ValueId shown = shownState ? outputImage(next) : next;
  buildMonitors(shown, q, phi);
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
  if (shownState)
    b.carry(*shownState, shown);
  b.endLoop();
  b.output(var, b.loopResult(shownState ? *shownState : x));
}

} // namespace podm::lower
