// The model's terms as graph pieces: f = Σ w_i ||A_i x + c_i||^2 gives ∇f = Σ 2 w_i A_i'(A_i x +
// c_i), its normal operator N = Σ 2 w_i A_i'A_i and L_f = ||N||; g gives prox_{γg} (weights folded
// into γ, orthogonal transforms W as W' prox(W ·)) and its value; d = Σ w ||F(x - a)||^2 gives H =
// Σ w F'F.
#include "compiler/lower/context.h"
#include "stdlib/prox/prox.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace podm::lower {

using ast::BinaryOp;
using ast::Expr;
using ast::ExprKind;
using ir::Op;

namespace {

void summands(const Expr& e, std::vector<const Expr*>& out) {
  if (e.kind == ExprKind::Binary && e.op == BinaryOp::Add) {
    summands(e.operand(0), out);
    summands(e.operand(1), out);
    return;
  }
  out.push_back(&e);
}

// `w * ||E||^2`, `||E||^2 / w`, `w ||E||^2` -> E, with the weight expressions (and whether each
// divides).
const Expr* squaredNorm(const Expr& e, std::vector<std::pair<const Expr*, bool>>& weights) {
  if (e.kind == ExprKind::Power && e.operand(0).kind == ExprKind::Norm)
    return &e.operand(0).operand(0);
  bool product = e.kind == ExprKind::Apply ||
                 (e.kind == ExprKind::Binary && (e.op == BinaryOp::Mul || e.op == BinaryOp::Div));
  if (!product)
    return nullptr;
  bool divides = e.kind == ExprKind::Binary && e.op == BinaryOp::Div;
  if (!divides)
    if (const Expr* n = squaredNorm(e.operand(1), weights)) {
      weights.push_back({&e.operand(0), false});
      return n;
    }
  if (const Expr* n = squaredNorm(e.operand(0), weights)) {
    weights.push_back({&e.operand(1), divides});
    return n;
  }
  return nullptr;
}

} // namespace

// ------------------------------------------------------------------------------------ f --

namespace {
struct Affine {
  LinOp lin; // empty: no dependence on the variable
  std::optional<ir::ValueId> offset;
};
} // namespace

static Affine affine(Context& cx, const Expr& e) {
  switch (e.kind) {
  case ExprKind::Name:
    if (e.text == cx.var)
      return {LinOp::identity(), std::nullopt};
    return {{}, cx.image(e)};
  case ExprKind::Apply:
  case ExprKind::Call: {
    LinOp op;
    const Expr* arg = nullptr;
    if (!cx.splitApply(e, op, arg))
      break;
    Affine a = affine(cx, *arg);
    Affine out;
    for (const Chain& inner : a.lin.terms)
      for (const Chain& outer : op.terms) {
        Chain c{inner.scale * outer.scale, inner.prims};
        c.prims.insert(c.prims.end(), outer.prims.begin(), outer.prims.end());
        out.lin.terms.push_back(std::move(c));
      }
    if (a.offset)
      out.offset = cx.apply(op, *a.offset);
    return out;
  }
  case ExprKind::Neg: {
    Affine a = affine(cx, e.operand(0));
    for (Chain& c : a.lin.terms)
      c.scale = -c.scale;
    if (a.offset)
      a.offset = cx.b.op(Op::Neg, {*a.offset});
    return a;
  }
  case ExprKind::Binary:
    if (e.op == BinaryOp::Add || e.op == BinaryOp::Sub) {
      Affine a = affine(cx, e.operand(0)), c = affine(cx, e.operand(1));
      bool sub = e.op == BinaryOp::Sub;
      for (Chain ch : c.lin.terms) {
        if (sub)
          ch.scale = -ch.scale;
        a.lin.terms.push_back(std::move(ch));
      }
      if (c.offset)
        a.offset = a.offset ? cx.b.op(sub ? Op::Sub : Op::Add, {*a.offset, *c.offset})
                            : (sub ? cx.b.op(Op::Neg, {*c.offset}) : *c.offset);
      return a;
    }
    if (e.op == BinaryOp::Mul) {
      Scalar s = cx.number(e.operand(0));
      if (!s.value)
        fail(e.operand(0).loc, "a factor inside a least-squares term must be known when the "
                               "model is compiled");
      Affine a = affine(cx, e.operand(1));
      for (Chain& c : a.lin.terms)
        c.scale *= *s.value;
      if (a.offset)
        a.offset = cx.scaled(*a.offset, s);
      return a;
    }
    break;
  default:
    break;
  }
  fail(e.loc, "this expression is not lowered inside a least-squares term (the variable, "
              "inputs, operators applied to them, sums and constant multiples are)");
}

Scalar Context::weightOf(const std::vector<std::pair<const Expr*, bool>>& weights) {
  Scalar w = Scalar::constant(1);
  for (auto [e, divides] : weights)
    w = divides ? div(w, number(*e)) : mul(w, number(*e));
  return w;
}

void Context::readFidelity() {
  std::vector<const Expr*> parts;
  summands(*terms.at("f")->value, parts);
  for (const Expr* part : parts) {
    std::vector<std::pair<const Expr*, bool>> weights;
    const Expr* inner = squaredNorm(*part, weights);
    if (!inner)
      fail(part->loc, "f must be a sum of weighted least-squares terms");
    Affine a = affine(*this, *inner);
    if (a.lin.terms.empty())
      fail(part->loc, "this term of f does not depend on the variable");
    f.push_back({weightOf(weights), std::move(a.lin), a.offset, part->loc});
  }
}

ir::ValueId Context::gradF(ir::ValueId x, std::string label) {
  ir::ValueId sum;
  for (const LsqTerm& t : f) {
    ir::ValueId r = apply(t.op, x);
    if (t.offset)
      r = b.op(Op::Add, {r, *t.offset});
    ir::ValueId gi = scaled(apply(t.op.adjoint(), r), mul(Scalar::constant(2), t.weight));
    sum = sum ? b.op(Op::Add, {sum, gi}) : gi;
  }
  if (!label.empty())
    graph.mutableNode(sum).label = std::move(label);
  return sum;
}

ir::ValueId Context::normalOp(ir::ValueId v, std::string label) {
  ir::ValueId sum;
  for (const LsqTerm& t : f) {
    ir::ValueId gi =
        scaled(apply(t.op.adjoint(), apply(t.op, v)), mul(Scalar::constant(2), t.weight));
    sum = sum ? b.op(Op::Add, {sum, gi}) : gi;
  }
  if (!label.empty())
    graph.mutableNode(sum).label = std::move(label);
  return sum;
}

ir::ValueId Context::fValue(ir::ValueId x) {
  ir::ValueId sum;
  for (const LsqTerm& t : f) {
    ir::ValueId r = apply(t.op, x);
    if (t.offset)
      r = b.op(Op::Add, {r, *t.offset});
    ir::ValueId v = node(mul(t.weight, Scalar::of(b.op(Op::Norm2Sq, {r}))));
    sum = sum ? b.op(Op::Add, {sum, v}) : v;
  }
  return sum;
}

ir::ValueId Context::lipschitzConstant(SourceLoc use) {
  if (lipschitz)
    return *lipschitz;
  if (b.region() != ir::Region::Pre)
    fail(use, "internal: L(f) first needed inside the stage loop");
  bool diagonal = true, circulant = true;
  for (const LsqTerm& t : f) {
    diagonal = diagonal && t.op.allDiagonal();
    circulant = circulant && t.op.allCirculant();
  }
  ir::Type type = varType;
  if (diagonal) {
    // N is a pointwise multiplication: its norm is its largest entry.
    ir::ValueId ones = b.constant(type, std::vector<float>(type.numel(), 1.f), "ones");
    lipschitz = b.op(Op::MaxAbs, {normalOp(ones, "diag(N)")}, {}, "L_f (exact: diagonal)");
    notes.push_back("L(f): exact, the largest entry of the diagonal normal operator");
  } else if (circulant) {
    // N is circulant: its eigenvalues are the DFT of its response to a unit impulse at the origin.
    std::vector<float> delta(type.numel(), 0.f);
    delta[0] = 1.f;
    ir::ValueId imp = b.constant(type, std::move(delta), "delta");
    ir::ValueId spec = b.op(Op::Real, {b.op(Op::Rfft2, {normalOp(imp, "N(delta)")})});
    lipschitz = b.op(Op::MaxAbs, {spec}, {}, "L_f (exact: circulant spectrum)");
    notes.push_back("L(f): exact, the largest eigenvalue of the circulant normal operator (FFT)");
  } else {
    std::mt19937_64 rng(options.seed);
    std::normal_distribution<float> gauss;
    std::vector<float> start(type.numel());
    double norm = 0;
    for (float& s : start) {
      s = gauss(rng);
      norm += double(s) * s;
    }
    for (float& s : start)
      s = static_cast<float>(s / std::sqrt(norm));
    ir::ValueId v = b.constant(type, std::move(start), "power iteration start");
    ir::ValueId tiny = b.scalar(1e-30f);
    ir::ValueId lambda;
    for (int k = 0; k < options.powerIterations; ++k) {
      ir::ValueId w = normalOp(v);
      lambda = b.op(Op::Max, {b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {w})}), tiny});
      v = b.op(Op::Div, {w, lambda});
    }
    lipschitz =
        b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {normalOp(v)})}, {},
             "L_f (power iteration, " + std::to_string(options.powerIterations) + " steps)");
    notes.push_back("L(f): power iteration on the normal operator, " +
                    std::to_string(options.powerIterations) + " steps (an estimate from below)");
  }
  return *lipschitz;
}

// ------------------------------------------------------------------------------------ g --

void Context::readPrior() {
  std::vector<const Expr*> parts;
  summands(*terms.at("g")->value, parts);
  for (const Expr* part : parts) {
    ProxTerm t;
    t.loc = part->loc;
    t.weight = Scalar::constant(1);
    const Expr* call = part;
    if ((part->kind == ExprKind::Binary && part->op == BinaryOp::Mul) ||
        part->kind == ExprKind::Apply) {
      t.weight = number(part->operand(0));
      call = &part->operand(1);
    }
    if (call->kind != ExprKind::Call)
      fail(part->loc, "expected a prox term such as lambda * l1(W x)");
    t.name = call->text;
    const stdlib::ProxEntry* entry = stdlib::proxRegistry().find(t.name);
    if (!entry)
      fail(call->loc, "unknown prox function '" + t.name + "'");
    stdlib::ProxArgs args;
    const Expr* arg = nullptr;
    for (const ast::Arg& a : call->args) {
      if (a.name.empty()) {
        arg = a.value.get();
        continue;
      }
      Scalar v = number(*a.value);
      if (!v.value)
        fail(a.value->loc, "argument '" + a.name + "' of " + t.name +
                               " must be known when the model is compiled (a prox is bound "
                               "once, before the run)");
      args[a.name] = *v.value;
      t.args.push_back({a.name, *v.value});
    }
    if (!arg)
      fail(call->loc, t.name + "(...) needs the variable (or W applied to it) as its argument");
    if (arg->kind == ExprKind::Apply && arg->operand(1).kind == ExprKind::Name &&
        arg->operand(1).text == var) {
      LinOp w = linop(arg->operand(0));
      if (!w.orthogonal())
        fail(arg->loc, "g on a transformed variable is lowered for orthogonal transforms only "
                       "(haar, dct and their adjoints): prox of g(W x) = W' prox_g(W x)");
      t.transform = std::move(w);
    } else if (arg->kind != ExprKind::Name || arg->text != var) {
      fail(arg->loc, "the argument of " + t.name + " must be the variable '" + var +
                         "' or an orthogonal transform of it");
    }
    std::unique_ptr<stdlib::ProxFunction> bound;
    try {
      bound = stdlib::makeProx(*entry, args);
    } catch (const std::exception& e) {
      fail(call->loc, e.what());
    }
    stdlib::ProxTraits traits = stdlib::effectiveTraits(*entry, *bound);
    t.indicator = traits.indicator;
    t.separable = traits.separable;
    t.convex = traits.convex;
    g.push_back(std::move(t));
  }
  if (g.size() > 2)
    fail(terms.at("g")->value->loc, "g with more than two prox terms is not lowered: the prox "
                                    "of a sum has no closed form in general");
  if (g.size() == 2) {
    const ProxTerm& a = g[0];
    const ProxTerm& c = g[1];
    bool ok = !a.transform && !c.transform &&
              ((c.indicator && c.separable && a.separable && a.convex) ||
               (a.indicator && a.separable && c.separable && c.convex));
    if (!ok)
      fail(terms.at("g")->value->loc,
           "the prox of a sum of two terms is lowered only for a separable convex term plus a "
           "separable indicator (box, nonneg) on the variable itself, where it is the projection "
           "of the first term's prox");
    if (a.indicator)
      std::swap(g[0], g[1]); // the indicator's projection runs last
  }
}

ir::ValueId Context::proxG(ir::ValueId v, ir::ValueId gamma, std::string label) {
  ir::ValueId out = v;
  for (size_t i = 0; i < g.size(); ++i) {
    const ProxTerm& t = g[i];
    ir::ValueId gl = node(mul(Scalar::of(gamma), t.weight));
    ir::ValueId in = t.transform ? apply(*t.transform, out) : out;
    ir::Attrs attrs{{"fn", t.name}};
    if (!t.args.empty()) {
      ir::NamedFloats args = t.args;
      std::sort(args.begin(), args.end());
      attrs.set("args", args);
    }
    ir::ValueId p = b.op(Op::Prox, {in, gl}, attrs);
    out = t.transform ? apply(t.transform->adjoint(), p) : p;
  }
  if (!label.empty())
    graph.mutableNode(out).label = std::move(label);
  return out;
}

ir::ValueId Context::gValue(ir::ValueId x, SourceLoc use) {
  ir::ValueId sum;
  for (const ProxTerm& t : g) {
    if (t.indicator) {
      // Every iterate the monitors see is a prox output, hence inside the set: the term is 0.
      notes.push_back("phi: indicator term " + t.name +
                      " counts as 0 (every monitored iterate is a prox output, inside its set)");
      continue;
    }
    ir::ValueId u = t.transform ? apply(*t.transform, x) : x;
    ir::ValueId a = b.op(Op::Abs, {u});
    ir::ValueId v;
    if (t.name == "l1") {
      v = b.op(Op::Sum, {a});
    } else if (t.name == "l0") {
      v = b.op(Op::Sum, {b.op(Op::Sign, {a})});
    } else if (t.name == "lp") {
      double p = 0;
      for (const auto& [n, val] : t.args)
        if (n == "p")
          p = val;
      // |u|^p = exp(p log|u|); log 0 = -inf gives exp(-inf) = 0 as it should.
      v = b.op(Op::Sum, {b.op(Op::Exp, {b.op(Op::Scale, {b.op(Op::Log, {a})}, {{"alpha", p}})})});
    } else {
      fail(use, "the value of prox '" + t.name +
                    "' has no graph lowering yet, so phi cannot be monitored with it");
    }
    v = node(mul(t.weight, Scalar::of(v)));
    sum = sum ? b.op(Op::Add, {sum, v}) : v;
  }
  return sum ? sum : b.scalar(0.f);
}

// ------------------------------------------------------------------------------------ d --

void Context::readDistance() {
  auto it = terms.find("d");
  if (it == terms.end())
    return;
  const ast::Decl& decl = *it->second;
  const std::string& a = decl.params.at(1);
  std::vector<const Expr*> parts;
  summands(*decl.value, parts);
  for (const Expr* part : parts) {
    std::vector<std::pair<const Expr*, bool>> weights;
    const Expr* inner = squaredNorm(*part, weights);
    if (!inner)
      fail(part->loc, "d must be a weighted squared distance");
    // Peel operators off `F (x - a)` down to `x - a`.
    LinOp op = LinOp::identity();
    const Expr* e = inner;
    LinOp outer;
    const Expr* arg = nullptr;
    while (splitApply(*e, outer, arg)) {
      LinOp composed;
      for (const Chain& o : outer.terms)
        for (const Chain& i : op.terms) {
          Chain c{o.scale * i.scale, o.prims};
          c.prims.insert(c.prims.end(), i.prims.begin(), i.prims.end());
          composed.terms.push_back(std::move(c));
        }
      op = std::move(composed);
      e = arg;
    }
    if (!(e->kind == ExprKind::Binary && e->op == BinaryOp::Sub &&
          e->operand(0).kind == ExprKind::Name && e->operand(0).text == var &&
          e->operand(1).kind == ExprKind::Name && e->operand(1).text == a))
      fail(inner->loc, "d is lowered in the form w * ||F (" + var + " - " + a + ")||^2");
    d.parts.push_back({Scalar::constant(1), std::move(op)});
    d.weightExprs.push_back(std::move(weights));
    d.present = true;
  }
}

void Context::distanceWeights() {
  for (size_t i = 0; i < d.parts.size(); ++i)
    d.parts[i].first = weightOf(d.weightExprs[i]);
}

ir::ValueId Context::applyH(ir::ValueId v, std::string label) {
  ir::ValueId sum;
  for (const auto& [w, op] : d.parts) {
    ir::ValueId h = scaled(apply(op.adjoint(), apply(op, v)), w);
    sum = sum ? b.op(Op::Add, {sum, h}) : h;
  }
  if (!sum)
    throw LowerError({}, "internal: H without d");
  if (!label.empty())
    graph.mutableNode(sum).label = std::move(label);
  return sum;
}

} // namespace podm::lower
