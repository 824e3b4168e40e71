// The F-step x~ = argmin_x f(x) + d(x, x_A) of PODM (Eq. 3): the quadratic (N + 2H) x = r + 2H x_A
// with N = Σ 2 w A'A, r = -Σ 2 w A'c and H = Σ w F'F. The solver is chosen from operator structure
// (DESIGN.md §1): elementwise division when every operator is diagonal, a closed-form FFT solve
// when every one is circulant, otherwise unrolled conjugate gradients; `fstep = closed_form`,
// `cg(iters = N)` and `gradient(steps = N, step = s)` override. The choice is in the node labels.
#include "compiler/lower/context.h"

namespace podm::lower {

using ast::Expr;
using ast::ExprKind;
using ir::Op;

namespace {

const ast::Setting* findSetting(const ast::Decl* stages, const std::string& name) {
  if (!stages)
    return nullptr;
  for (const ast::Setting& s : stages->settings)
    if (s.name == name)
      return &s;
  return nullptr;
}

} // namespace

void Context::planFStep() {
  bool diagonal = true, circulant = true;
  for (const LsqTerm& t : f) {
    diagonal = diagonal && t.op.allDiagonal();
    circulant = circulant && t.op.allCirculant();
  }
  for (const auto& [w, op] : d.parts) {
    diagonal = diagonal && op.allDiagonal();
    circulant = circulant && op.allCirculant();
  }
  const ast::Setting* s = findSetting(stages, "fstep");
  std::string requested = "auto";
  const Expr* call = s ? s->value.get() : nullptr;
  if (call)
    requested = call->text;
  auto intArg = [&](const std::string& name, int64_t fallback) -> int64_t {
    for (const ast::Arg& a : call->args)
      if (a.name == name || (a.name.empty() && name != "step")) {
        Scalar v = number(*a.value);
        if (!v.value)
          fail(a.value->loc, name + " must be known when the model is compiled");
        return static_cast<int64_t>(*v.value);
      }
    return fallback;
  };
  if (requested == "auto" || requested == "closed_form") {
    if (diagonal) {
      fs.kind = FStepState::Elementwise;
      fstepChoice = "elementwise (A'A and H are diagonal)";
    } else if (circulant) {
      fs.kind = FStepState::Fft;
      fstepChoice = "FFT closed form (A'A and H are circulant)";
    } else if (requested == "closed_form") {
      fail(call->loc, "fstep = closed_form needs operators that are all diagonal or all "
                      "circulant (periodic convolutions); use cg(iters = N) or gradient(...)");
    } else {
      fs.kind = FStepState::Cg;
      fs.iters = 10;
      fstepChoice = "cg, 10 iterations (no diagonal or circulant structure; orthogonal-transform "
                    "solves are not lowered yet)";
    }
  } else if (requested == "cg") {
    fs.kind = FStepState::Cg;
    fs.iters = intArg("iters", 10);
    fstepChoice = "cg, " + std::to_string(fs.iters) + " iterations (fstep = cg)";
  } else if (requested == "gradient") {
    fs.kind = FStepState::Gradient;
    fs.iters = 5;
    const Expr* step = nullptr;
    for (const ast::Arg& a : call->args) {
      if (a.name == "steps")
        fs.iters = intArg("steps", 5);
      if (a.name == "step")
        step = a.value.get();
    }
    if (!step)
      fail(call->loc, "gradient(...) needs its step size: gradient(steps = 5, step = s)");
    Scalar st = number(*step);
    if (!st.value || *st.value <= 0)
      fail(step->loc, "the gradient step must be a positive number known when compiling");
    fs.step = *st.value;
    fstepChoice = "gradient, " + std::to_string(fs.iters) + " steps of " + std::to_string(fs.step);
  } else {
    fail(call->loc, "unknown F-step solver '" + requested + "'");
  }
  notes.push_back("F-step: " + fstepChoice);

  // Pre: the constant right-hand side and what the closed forms divide by.
  std::optional<ir::ValueId> rhs;
  for (const LsqTerm& t : f) {
    if (!t.offset)
      continue;
    ir::ValueId r = scaled(apply(t.op.adjoint(), *t.offset), mul(Scalar::constant(-2), t.weight));
    rhs = rhs ? b.op(Op::Add, {*rhs, r}) : r;
  }
  if (rhs) {
    graph.mutableNode(*rhs).label = "F-step rhs -2 w A'c";
    fs.rhsF = *rhs;
  }
  if (fs.kind == FStepState::Elementwise || fs.kind == FStepState::Fft) {
    bool fft = fs.kind == FStepState::Fft;
    std::vector<float> probe(varType.numel(), fft ? 0.f : 1.f);
    if (fft)
      probe[0] = 1.f;
    ir::ValueId p = b.constant(varType, std::move(probe), fft ? "delta" : "ones");
    auto response = [&](ir::ValueId v) {
      return fft ? b.op(Op::Real, {b.op(Op::Rfft2, {v})}) : v;
    };
    ir::ValueId n = response(normalOp(p));
    graph.mutableNode(n).label = fft ? "F-step spectrum of N" : "F-step diag(N)";
    (fft ? fs.specN : fs.diagN) = n;
    ir::ValueId h;
    for (const auto& [w, op] : d.parts) {
      ir::ValueId hi = apply(op.adjoint(), apply(op, p));
      h = h ? b.op(Op::Add, {h, hi}) : hi;
    }
    h = response(h);
    graph.mutableNode(h).label = fft ? "F-step spectrum of F'F" : "F-step diag(F'F)";
    (fft ? fs.specH : fs.diagH) = h;
  }
}

ir::ValueId Context::fstep(ir::ValueId xA) {
  // 2H = Σ 2 w F'F with the (possibly per-stage) weights of d.
  ir::ValueId twoHxA = b.op(Op::Scale, {applyH(xA)}, {{"alpha", 2.0}});
  ir::ValueId rhs = fs.rhsF ? b.op(Op::Add, {fs.rhsF, twoHxA}) : twoHxA;
  // The closed forms precompute the response of F'F; its weight is applied per stage.
  auto twoW = [&] {
    if (d.parts.size() != 1)
      throw LowerError(stages ? stages->loc : SourceLoc{},
                       "a closed-form F-step with a d of several terms is not lowered; use "
                       "fstep = cg(iters = N)");
    return node(mul(Scalar::constant(2), d.parts[0].first));
  };
  switch (fs.kind) {
  case FStepState::Elementwise: {
    ir::ValueId denom = b.op(Op::Fma, {fs.diagH, twoW(), fs.diagN});
    return b.op(Op::Div, {rhs, denom}, {}, "x~ [F-step: elementwise]");
  }
  case FStepState::Fft: {
    ir::ValueId denom = b.op(Op::Fma, {fs.specH, twoW(), fs.specN});
    ir::ValueId spec = b.op(Op::Div, {b.op(Op::Rfft2, {rhs}), denom});
    return b.op(Op::Irfft2, {spec}, {{"width", varType.dims.w}}, "x~ [F-step: FFT closed form]");
  }
  case FStepState::Cg: {
    auto m = [&](ir::ValueId v) {
      return b.op(Op::Add, {normalOp(v), b.op(Op::Scale, {applyH(v)}, {{"alpha", 2.0}})});
    };
    ir::ValueId tiny = b.scalar(1e-30f);
    ir::ValueId x = xA;
    ir::ValueId r = b.op(Op::Sub, {rhs, m(x)});
    ir::ValueId p = r;
    ir::ValueId rs = b.op(Op::Norm2Sq, {r});
    for (int64_t k = 0; k < fs.iters; ++k) {
      ir::ValueId mp = m(p);
      ir::ValueId alpha = b.op(Op::Div, {rs, b.op(Op::Max, {b.op(Op::Dot, {p, mp}), tiny})});
      x = b.op(Op::Fma, {alpha, p, x});
      r = b.op(Op::Sub, {r, b.op(Op::Mul, {alpha, mp})});
      ir::ValueId rsNew = b.op(Op::Norm2Sq, {r});
      if (k + 1 < fs.iters) {
        ir::ValueId beta = b.op(Op::Div, {rsNew, b.op(Op::Max, {rs, tiny})});
        p = b.op(Op::Fma, {beta, p, r});
      }
      rs = rsNew;
    }
    graph.mutableNode(x).label = "x~ [F-step: cg, " + std::to_string(fs.iters) + " iterations]";
    return x;
  }
  case FStepState::Gradient: {
    ir::ValueId x = xA;
    for (int64_t k = 0; k < fs.iters; ++k) {
      ir::ValueId grad = b.op(
          Op::Add, {gradF(x), b.op(Op::Scale, {applyH(b.op(Op::Sub, {x, xA}))}, {{"alpha", 2.0}})});
      x = b.op(Op::Sub, {x, b.op(Op::Scale, {grad}, {{"alpha", fs.step}})});
    }
    graph.mutableNode(x).label =
        "x~ [F-step: gradient, " + std::to_string(fs.iters) + " steps]";
    return x;
  }
  }
  throw LowerError({}, "internal: unknown F-step kind");
}

} // namespace podm::lower
