// The F-step x~ = argmin_x f(x) + d(x, x_A) of PODM (Eq. 3): the quadratic (N + 2H) x = r + 2H x_A
// with N = Σ 2 w A'A, r = -Σ 2 w A'c and H = Σ w F'F. The solver is chosen from operator structure
// (docs/lowering.md): elementwise division when every operator is diagonal, a closed-form FFT solve
// when every one is circulant, a diagonal solve in the domain of an orthogonal transform W when
// every operator is W followed by diagonal ones, otherwise unrolled conjugate gradients; `fstep =
// closed_form`, `cg(iters = N)` and `gradient(steps = N, step = s)` override. The choice is in the
// node labels.
#include "compiler/lower/context.h"

#include <algorithm>

namespace podm::lower {

using ast::Expr;
using ast::ExprKind;
using ir::Op;

namespace {

constexpr int64_t kFStepPcgIterations = 5;

bool samePrim(const Prim& a, const Prim& b) {
  return a.sameOperator(b);
}

// Every chain is W followed by diagonal prims (or a bare scaling, which commutes with W), for one
// orthogonal W shared by all chains: then W (N + 2H) W' is diagonal. Returns W, or nothing.
std::optional<std::vector<Prim>> commonOrthogonalPrefix(const std::vector<const LinOp*>& ops) {
  std::optional<std::vector<Prim>> w;
  for (const LinOp* op : ops)
    for (const Chain& c : op->terms) {
      if (c.prims.empty())
        continue;
      size_t k = 0;
      while (k < c.prims.size() && c.prims[k].orthogonal())
        ++k;
      for (size_t j = k; j < c.prims.size(); ++j)
        if (!c.prims[j].diagonal())
          return std::nullopt;
      if (k == 0)
        return std::nullopt;
      std::vector<Prim> prefix(c.prims.begin(), c.prims.begin() + static_cast<ptrdiff_t>(k));
      if (!w) {
        w = prefix;
      } else if (w->size() != prefix.size() ||
                 !std::equal(w->begin(), w->end(), prefix.begin(), samePrim)) {
        return std::nullopt;
      }
    }
  return w;
}

// The chains with the prefix W removed (bare scalings stay as they are).
LinOp withoutPrefix(const LinOp& op, size_t k) {
  LinOp out;
  for (const Chain& c : op.terms) {
    Chain r{c.scale, {}};
    if (!c.prims.empty())
      r.prims.assign(c.prims.begin() + static_cast<ptrdiff_t>(k), c.prims.end());
    out.terms.push_back(std::move(r));
  }
  return out;
}

// The operator with every boundary-dependent prim made periodic (conv with symmetric or zero
// boundary, grad with Neumann) and a selection applied last dropped (crop(k) K: its normal
// operator K'C'C K becomes K'K): a circulant operator close to it, whose FFT solve preconditions
// CG. Nothing when some prim is neither circulant nor has a periodic variant.
std::optional<LinOp> periodicVariant(const LinOp& op) {
  LinOp out = op;
  for (Chain& c : out.terms) {
    if (c.endsInSelection())
      c.prims.pop_back();
    for (Prim& p : c.prims) {
      if (p.circulant())
        continue;
      if (!p.entry || p.entry->traits.circulant != stdlib::Circulance::WhenPeriodic)
        return std::nullopt;
      p.args.strings["boundary"] = "periodic";
    }
  }
  return out;
}

bool periodicOps(const std::vector<const LinOp*>& ops) {
  for (const LinOp* op : ops)
    if (!periodicVariant(*op))
      return false;
  return true;
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
  std::vector<const LinOp*> ops;
  for (const LsqTerm& t : f)
    ops.push_back(&t.op);
  for (const auto& [w, op] : d.parts)
    ops.push_back(&op);
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
    } else if (auto w = commonOrthogonalPrefix(ops)) {
      fs.kind = FStepState::Orthogonal;
      fs.transform = *w;
      std::string names;
      for (const Prim& p : *w)
        names += (names.empty() ? "" : " ") + p.text + (p.adjoint ? "'" : "");
      fstepChoice = "orthogonal transform " + names + " (W A'A W' and W H W' are diagonal)";
    } else if (requested == "closed_form") {
      fail(call->loc, "fstep = closed_form needs operators that are all diagonal, all circulant "
                      "(periodic convolutions) or one orthogonal transform followed by diagonal "
                      "ones; use cg(iters = N) or gradient(...)");
    } else if (periodicOps(ops)) {
      // The x-update is warm-started from the previous iterate, which is close: one PCG step per
      // stage. The F-step starts from x_A, the network's output: a few more (on Levin's
      // captures, deblur_rpodm_crop scores 0.09 dB below 20 steps with 5, at a third of the time).
      fs.kind = FStepState::Pcg;
      fs.iters = splitting ? 1 : kFStepPcgIterations;
      fstepChoice = "pcg, " + std::to_string(fs.iters) +
                    (fs.iters == 1 ? " iteration" : " iterations") +
                    ", preconditioned by the FFT solve with periodic boundaries";
    } else {
      fs.kind = FStepState::Cg;
      fs.iters = 10;
      fstepChoice = "cg, 10 iterations (no diagonal, circulant or orthogonal structure)";
    }
  } else if (requested == "pcg") {
    if (!periodicOps(ops))
      fail(call->loc, "pcg needs operators that are circulant or become so with periodic "
                      "boundaries (conv, grad, dx, dy); use cg(iters = N)");
    fs.kind = FStepState::Pcg;
    fs.iters = intArg("iters", 1);
    fstepChoice = "pcg, " + std::to_string(fs.iters) +
                  " iterations, preconditioned by the FFT solve with periodic boundaries (fstep = "
                  "pcg)";
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
  notes.push_back(fstepName() + ": " + fstepChoice);

  fstepPreValues();
}

// Pre: the constant right-hand side and what the closed forms divide by (or precondition with).
void Context::fstepPreValues() {
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
  if (fs.kind == FStepState::Orthogonal) {
    // In the transform domain: W N W'(1) = Σ 2 w D'D(1) with D the diagonal rest of each chain.
    const size_t k = fs.transform.size();
    ir::ValueId ones = b.constant(varType, std::vector<float>(varType.numel(), 1.f), "ones");
    ir::ValueId n;
    for (const LsqTerm& t : f) {
      LinOp rest = withoutPrefix(t.op, k);
      ir::ValueId ni =
          scaled(apply(rest.adjoint(), apply(rest, ones)), mul(Scalar::constant(2), t.weight));
      n = n ? b.op(Op::Add, {n, ni}) : ni;
    }
    fs.diagN = b.op(Op::Scale, {n}, {{"alpha", 1.0}}, "F-step W N W'(1)");
    ir::ValueId h;
    for (const auto& [w, op] : d.parts) {
      LinOp rest = withoutPrefix(op, k);
      ir::ValueId hi = apply(rest.adjoint(), apply(rest, ones));
      h = h ? b.op(Op::Add, {h, hi}) : hi;
    }
    fs.diagH = b.op(Op::Scale, {h}, {{"alpha", 1.0}}, "F-step W F'F W'(1)");
  }
  if (fs.kind == FStepState::Pcg) {
    // The preconditioner: the spectra of N and F'F with every operator made periodic.
    // A circulant f (the usual periodic blur) is its own variant: its spectrum is shared with ∇f.
    ir::ValueId p = impulse(), n, h;
    if (normalCirculant()) {
      fs.specN = normalSpectrum();
    } else {
      for (const LsqTerm& t : f) {
        LinOp a = *periodicVariant(t.op);
        ir::ValueId ni =
            scaled(apply(a.adjoint(), apply(a, p)), mul(Scalar::constant(2), t.weight));
        n = n ? b.op(Op::Add, {n, ni}) : ni;
      }
      fs.specN = b.op(Op::Real, {b.op(Op::Rfft2, {n})}, {}, "PCG preconditioner: spectrum of N");
    }
    for (const auto& [w, op] : d.parts) {
      LinOp a = *periodicVariant(op);
      ir::ValueId hi = apply(a.adjoint(), apply(a, p));
      h = h ? b.op(Op::Add, {h, hi}) : hi;
    }
    fs.specH = b.op(Op::Real, {b.op(Op::Rfft2, {h})}, {}, "PCG preconditioner: spectrum of F'F");
    planSelectedTerms();
  }
  if (fs.kind == FStepState::Elementwise || fs.kind == FStepState::Fft) {
    bool fft = fs.kind == FStepState::Fft;
    ir::ValueId p =
        fft ? impulse() : b.constant(varType, std::vector<float>(varType.numel(), 1.f), "ones");
    auto response = [&](ir::ValueId v) { return fft ? b.op(Op::Real, {b.op(Op::Rfft2, {v})}) : v; };
    if (fft) {
      fs.specN = normalSpectrum(); // shared with L_f and ∇f
    } else {
      fs.diagN = normalOp(p);
      graph.mutableNode(fs.diagN).label = "F-step diag(N)";
    }
    ir::ValueId h;
    std::optional<ir::ValueId> direct; // learnable filter banks: their spectrum, no impulse
    for (const auto& [w, op] : d.parts) {
      if (std::optional<ir::ValueId> s = fft ? filterBankSpectrum(op) : std::nullopt) {
        direct = direct ? b.op(Op::Add, {*direct, *s}) : *s;
        continue;
      }
      ir::ValueId hi = apply(op.adjoint(), apply(op, p));
      h = h ? b.op(Op::Add, {h, hi}) : hi;
    }
    h = h ? response(h) : ir::ValueId{};
    if (direct)
      h = h ? b.op(Op::Add, {h, *direct}) : *direct;
    graph.mutableNode(h).label = fft ? "F-step spectrum of F'F" : "F-step diag(F'F)";
    (fft ? fs.specH : fs.diagH) = h;
  }
}

// For PCG: when every term of f is one chain of circulant prims, optionally followed by a
// selection (crop), the spectrum of its circulant part; and whether H is circulant with one weight.
// Then M v is applied through the spectrum of v, which PCG already has (fs.selected).
void Context::planSelectedTerms() {
  std::vector<FStepState::SelectedTerm> terms;
  for (const LsqTerm& t : f) {
    if (t.op.terms.size() != 1)
      return;
    Chain k = t.op.terms[0];
    std::optional<Prim> selection;
    if (k.endsInSelection()) {
      selection = k.prims.back();
      k.prims.pop_back();
    }
    for (const Prim& p : k.prims)
      if (!p.circulant())
        return;
    ir::ValueId spec = b.op(Op::Rfft2, {apply(LinOp{{k}}, impulse())}, {}, "PCG: spectrum of K");
    terms.push_back({spec, selection, t.weight});
  }
  fs.selected = std::move(terms);
  fs.hCirculant = !d.parts.empty();
  for (const auto& [w, op] : d.parts)
    fs.hCirculant = fs.hCirculant && op.allCirculant() && w.value == d.parts[0].first.value &&
                    w.node == d.parts[0].first.node;
}

// M v = N v + 2H v from the spectrum of v, for planSelectedTerms' structure: one inverse FFT for
// the sum of the spectral parts, and per term one more pair for the selection in the image domain.
ir::ValueId Context::applyMBySpectrum(ir::ValueId v, ir::ValueId spectrum, ir::ValueId twoWH) {
  const int64_t width = varType.dims.w;
  std::optional<ir::ValueId> acc;
  auto add = [&](ir::ValueId s) { acc = acc ? b.op(Op::Add, {*acc, s}) : s; };
  for (const FStepState::SelectedTerm& t : fs.selected) {
    ir::ValueId term; // the spectrum of K'C'C K v
    if (t.selection) {
      ir::ValueId kv = b.op(Op::Irfft2, {b.op(Op::Mul, {spectrum, t.kSpec})}, {{"width", width}});
      Prim back = *t.selection;
      back.adjoint = true;
      ir::ValueId masked = applyPrim(back, applyPrim(*t.selection, kv)); // C'C K v
      term = b.op(Op::Mul, {b.op(Op::Rfft2, {masked}), b.op(Op::Conj, {t.kSpec})});
    } else {
      term = b.op(Op::Mul, {spectrum, b.op(Op::Abs2, {t.kSpec})});
    }
    add(b.op(Op::Mul, {term, node(mul(Scalar::constant(2), t.weight))}));
  }
  if (fs.hCirculant)
    add(b.op(Op::Mul, {spectrum, b.op(Op::Mul, {fs.specH, twoWH})}));
  ir::ValueId mv = b.op(Op::Irfft2, {*acc}, {{"width", width}});
  if (!fs.hCirculant)
    mv = b.op(Op::Add, {mv, b.op(Op::Scale, {applyH(v)}, {{"alpha", 2.0}})});
  return mv;
}

ir::ValueId Context::fstep(ir::ValueId xA) {
  // 2H = Σ 2 w F'F with the (possibly per-stage) weights of d.
  return solveQuadratic(b.op(Op::Scale, {applyH(xA)}, {{"alpha", 2.0}}), xA);
}

ir::ValueId Context::solveQuadratic(ir::ValueId extra, ir::ValueId start) {
  ir::ValueId rhs = fs.rhsF ? b.op(Op::Add, {fs.rhsF, extra}) : extra;
  const std::string what = splitting ? "x+ [x-update: " : "x~ [F-step: ";
  // The closed forms precompute the response of Σ F'F; its weight, one for all parts, is applied
  // per stage.
  auto twoW = [&] {
    const Scalar& w = d.parts.at(0).first;
    for (const auto& [wi, op] : d.parts)
      if (wi.value != w.value || wi.node != w.node)
        throw LowerError(stages ? stages->loc : SourceLoc{},
                         "a closed-form " + fstepName() +
                             " with terms of different weights is not lowered; use "
                             "fstep = cg(iters = N)");
    return node(mul(Scalar::constant(2), w));
  };
  switch (fs.kind) {
  case FStepState::Elementwise: {
    ir::ValueId denom = b.op(Op::Fma, {fs.diagH, twoW(), fs.diagN});
    return b.op(Op::Div, {rhs, denom}, {}, what + "elementwise]");
  }
  case FStepState::Orthogonal: {
    LinOp w{{Chain{1, fs.transform}}};
    ir::ValueId denom = b.op(Op::Fma, {fs.diagH, twoW(), fs.diagN});
    ir::ValueId z = b.op(Op::Div, {apply(w, rhs), denom});
    ir::ValueId x = apply(w.adjoint(), z);
    graph.mutableNode(x).label = what + "orthogonal transform]";
    return x;
  }
  case FStepState::Fft: {
    ir::ValueId denom = b.op(Op::Fma, {fs.specH, twoW(), fs.specN});
    ir::ValueId spec = b.op(Op::Div, {b.op(Op::Rfft2, {rhs}), denom});
    return b.op(Op::Irfft2, {spec}, {{"width", varType.dims.w}}, what + "FFT closed form]");
  }
  case FStepState::Cg: {
    auto m = [&](ir::ValueId v) {
      return b.op(Op::Add, {normalOp(v), b.op(Op::Scale, {applyH(v)}, {{"alpha", 2.0}})});
    };
    ir::ValueId tiny = b.scalar(1e-30f);
    ir::ValueId x = start;
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
    graph.mutableNode(x).label = what + "cg, " + std::to_string(fs.iters) + " iterations]";
    return x;
  }
  case FStepState::Pcg: {
    // Preconditioned CG on M = N + 2H with P = M's periodic variant, solved by FFT. M applies N
    // through its spectrum when N is circulant; the spectrum of P^-1 r is reused for N z.
    const ir::ValueId denom = b.op(Op::Fma, {fs.specH, twoW(), fs.specN});
    const int64_t width = varType.dims.w;
    const bool bySpectrum = !fs.selected.empty();
    const ir::ValueId twoWH = twoW();
    auto applyM = [&](ir::ValueId v, std::optional<ir::ValueId> spectrum) {
      if (bySpectrum)
        return applyMBySpectrum(v, spectrum ? *spectrum : b.op(Op::Rfft2, {v}), twoWH);
      ir::ValueId nv;
      if (normalCirculant())
        nv = b.op(Op::Irfft2,
                  {b.op(Op::Mul, {spectrum ? *spectrum : b.op(Op::Rfft2, {v}), normalSpectrum()})},
                  {{"width", width}});
      else
        nv = normalOp(v);
      return b.op(Op::Add, {nv, b.op(Op::Scale, {applyH(v)}, {{"alpha", 2.0}})});
    };
    ir::ValueId tiny = b.scalar(1e-30f);
    ir::ValueId x = start;
    ir::ValueId r = b.op(Op::Sub, {rhs, applyM(x, std::nullopt)});
    ir::ValueId zSpec = b.op(Op::Div, {b.op(Op::Rfft2, {r}), denom});
    ir::ValueId p = b.op(Op::Irfft2, {zSpec}, {{"width", width}});
    std::optional<ir::ValueId> pSpec = zSpec; // the spectrum of p while p = P^-1 r
    ir::ValueId rz = b.op(Op::Dot, {r, p});
    for (int64_t k = 0; k < fs.iters; ++k) {
      ir::ValueId mp = applyM(p, pSpec);
      ir::ValueId alpha = b.op(Op::Div, {rz, b.op(Op::Max, {b.op(Op::Dot, {p, mp}), tiny})});
      x = b.op(Op::Fma, {alpha, p, x});
      if (k + 1 == fs.iters)
        break;
      r = b.op(Op::Sub, {r, b.op(Op::Mul, {alpha, mp})});
      zSpec = b.op(Op::Div, {b.op(Op::Rfft2, {r}), denom});
      ir::ValueId z = b.op(Op::Irfft2, {zSpec}, {{"width", width}});
      ir::ValueId rzNew = b.op(Op::Dot, {r, z});
      ir::ValueId beta = b.op(Op::Div, {rzNew, b.op(Op::Max, {rz, tiny})});
      p = b.op(Op::Fma, {beta, p, z});
      // The spectrum is linear: p's follows from z's and the last one, with no transform.
      pSpec = bySpectrum ? std::optional(b.op(Op::Add, {zSpec, b.op(Op::Mul, {beta, *pSpec})}))
                         : std::nullopt;
      rz = rzNew;
    }
    graph.mutableNode(x).label = what + "pcg, " + std::to_string(fs.iters) + " iterations]";
    return x;
  }
  case FStepState::Gradient: {
    // ∇(f + d) = ∇f(x) + 2H x - extra (for the F-step, extra = 2H x_A).
    ir::ValueId x = start;
    for (int64_t k = 0; k < fs.iters; ++k) {
      ir::ValueId twoHx = b.op(Op::Scale, {applyH(x)}, {{"alpha", 2.0}});
      ir::ValueId grad = b.op(Op::Add, {gradF(x), b.op(Op::Sub, {twoHx, extra})});
      x = b.op(Op::Sub, {x, b.op(Op::Scale, {grad}, {{"alpha", fs.step}})});
    }
    graph.mutableNode(x).label = what + "gradient, " + std::to_string(fs.iters) + " steps]";
    return x;
  }
  }
  throw LowerError({}, "internal: unknown F-step kind");
}

} // namespace podm::lower
