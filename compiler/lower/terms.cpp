// The model's smooth terms as graph pieces: f = Σ w_i ||A_i x + c_i||^2 gives ∇f = Σ 2 w_i
// A_i'(A_i x + c_i), its normal operator N = Σ 2 w_i A_i'A_i and L_f = ||N||; d, the sum of
// w ||F(x - a)||^2, gives H = Σ w F'F. The prior g is prior.cpp's.
#include "compiler/lower/context.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace podm::lower {

using ast::BinaryOp;
using ast::Expr;
using ast::ExprKind;
using ir::Op;

void summands(const Expr& e, std::vector<const Expr*>& out) {
  if (e.kind == ExprKind::Binary && e.op == BinaryOp::Add) {
    summands(e.operand(0), out);
    summands(e.operand(1), out);
    return;
  }
  out.push_back(&e);
}

namespace {

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
    if (a.offset) {
      // Sizes sema could not know (pad, crop: a kernel input's size) are checked here, at the
      // term, rather than where the graph first combines them.
      const ir::Type data = graph.type(*a.offset); // a copy: apply() below may grow the graph
      const ir::Type mapped = graph.type(apply(a.lin, impulse()));
      if (mapped != data)
        fail(part->loc, "the operator maps the " + varType.str() + " variable to " + mapped.str() +
                            ", but the data it is compared with is " + data.str());
    }
    f.push_back({weightOf(weights), std::move(a.lin), a.offset, part->loc});
  }
}

bool Context::normalCirculant() const {
  // Strict: a mask (diagonal) composed with a convolution is not circulant.
  for (const LsqTerm& t : f)
    for (const Chain& c : t.op.terms)
      for (const Prim& p : c.prims)
        if (!p.circulant())
          return false;
  return !f.empty();
}

ir::ValueId Context::impulse() {
  if (!impulse_) {
    std::vector<float> delta(varType.numel(), 0.f);
    for (int64_t p = 0; p < varType.numel(); p += varType.dims.h * varType.dims.w)
      delta[static_cast<size_t>(p)] = 1.f; // the origin of every plane
    impulse_ = b.constant(varType, std::move(delta), "delta");
  }
  return *impulse_;
}

ir::ValueId Context::normalSpectrum() {
  // N is circulant: its eigenvalues are the DFT of its response to a unit impulse at the origin
  // (real, since N is symmetric). Built from loop-invariant nodes, so hoisting moves it to Pre.
  if (normalSpec_)
    return *normalSpec_;
  // N = sum 2w A'A with every A circulant and shape-keeping: the eigenvalues are sum 2w |A^|^2,
  // A^ the DFT of A's impulse response — one A and one transform per term instead of A, A' and a
  // transform of N(delta) (the response and its spectrum are shared with phi's Parseval form).
  ir::ValueId sum;
  for (const LsqTerm& t : f) {
    ir::ValueId response = apply(t.op, impulse());
    if (!t.op.allCirculant() || graph.type(response) != varType) {
      sum = {};
      break;
    }
    ir::ValueId power = b.op(Op::Abs2, {b.op(Op::Rfft2, {response})});
    ir::ValueId gi = scaled(power, mul(Scalar::constant(2), t.weight));
    sum = sum ? b.op(Op::Add, {sum, gi}) : gi;
  }
  if (sum) {
    graph.mutableNode(sum).label = "spectrum of N";
    normalSpec_ = sum;
  } else {
    normalSpec_ =
        b.op(Op::Real, {b.op(Op::Rfft2, {normalOp(impulse(), "N(delta)")})}, {}, "spectrum of N");
  }
  return *normalSpec_;
}

ir::ValueId Context::gradF(ir::ValueId x, std::string label) {
  if (normalCirculant()) {
    // ∇f(x) = N x + Σ 2 w A'c with N applied through its spectrum: one rfft2/irfft2 pair instead
    // of A then A' (two per convolution).
    if (!gradOffset_) {
      ir::ValueId r;
      for (const LsqTerm& t : f)
        if (t.offset) {
          ir::ValueId ri =
              scaled(apply(t.op.adjoint(), *t.offset), mul(Scalar::constant(2), t.weight));
          r = r ? b.op(Op::Add, {r, ri}) : ri;
        }
      if (r)
        graph.mutableNode(r).label = "grad f offset 2 w A'c";
      gradOffset_ = r;
    }
    ir::ValueId spec = b.op(Op::Mul, {b.op(Op::Rfft2, {x}), normalSpectrum()});
    ir::ValueId nx = b.op(Op::Irfft2, {spec}, {{"width", graph.type(x).dims.w}});
    ir::ValueId sum = *gradOffset_ ? b.op(Op::Add, {nx, *gradOffset_}) : nx;
    if (!label.empty())
      graph.mutableNode(sum).label = std::move(label);
    return sum;
  }
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

std::optional<ir::ValueId> Context::residualNormBySpectrum(const LsqTerm& t, ir::ValueId x) {
  // ||A x + c||^2 = (1/hw) sum over the full spectrum of |A^ X^ + C^|^2 (Parseval), the half
  // spectrum's columns 1 .. ceil(w/2)-1 standing for their mirror images too. For a circulant A
  // that keeps the shape this is one rfft2 of x and passes over the half spectrum, where applying
  // A costs a convolution (rfft2, product, irfft2): the phi monitor of a FISTA stage (issue 18).
  if (!t.op.allCirculant() || t.op.terms.empty())
    return std::nullopt;
  ir::ValueId response = apply(t.op, impulse()); // loop-invariant: hoisted to Pre
  if (graph.type(response) != varType || (t.offset && graph.type(*t.offset) != varType))
    return std::nullopt;
  ir::ValueId spectrum = b.op(Op::Mul, {b.op(Op::Rfft2, {x}), b.op(Op::Rfft2, {response})});
  if (t.offset)
    spectrum = b.op(Op::Add, {spectrum, b.op(Op::Rfft2, {*t.offset})});
  const ir::Type& half = graph.type(spectrum);
  const int64_t h = varType.dims.h, w = varType.dims.w, hw = half.dims.w;
  std::vector<float> mirrored(static_cast<size_t>(half.numel()));
  for (size_t q = 0; q < mirrored.size(); ++q) {
    const int64_t j = static_cast<int64_t>(q) % hw;
    mirrored[q] = (j == 0 || 2 * j == w) ? 1.f : 2.f;
  }
  ir::Type weights = ir::Type::real(half.dims);
  ir::ValueId sum =
      b.op(Op::Dot, {b.op(Op::Abs2, {spectrum}),
                     b.constant(weights, std::move(mirrored), "half-spectrum weights")});
  return b.op(Op::Scale, {sum}, {{"alpha", 1.0 / static_cast<double>(h * w)}},
              "||A x + c||^2 by Parseval");
}

ir::ValueId Context::fValue(ir::ValueId x) {
  ir::ValueId sum;
  for (const LsqTerm& t : f) {
    std::optional<ir::ValueId> norm = residualNormBySpectrum(t, x);
    if (!norm) {
      ir::ValueId r = apply(t.op, x);
      if (t.offset)
        r = b.op(Op::Add, {r, *t.offset});
      norm = b.op(Op::Norm2Sq, {r});
    }
    ir::ValueId v = node(mul(t.weight, Scalar::of(*norm)));
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
    lipschitz = b.op(Op::MaxAbs, {normalSpectrum()}, {}, "L_f (exact: circulant spectrum)");
    notes.push_back("L(f): exact, the largest eigenvalue of the circulant normal operator (FFT)");
  } else if (std::optional<ir::ValueId> bound = selectedNormalBound()) {
    lipschitz = b.op(Op::MaxAbs, {*bound}, {}, "L_f (bound: spectrum without the selection)");
    notes.push_back("L(f): the largest eigenvalue of the normal operator without its crop (FFT), "
                    "an upper bound (a crop only removes rows)");
  } else {
    lipschitz = largestEigenvalue([&](ir::ValueId v) { return normalOp(v); }, type, "L_f");
    notes.push_back("L(f): power iteration on the normal operator, " +
                    std::to_string(options.powerIterations) + " steps (an estimate from below)");
  }
  return *lipschitz;
}

std::optional<ir::ValueId> Context::selectedNormalBound() {
  // Each term one chain C K: K'C'C K <= K'K, so Σ 2w K'K bounds N from above.
  LinOp sum;
  std::vector<Scalar> weights;
  for (const LsqTerm& t : f) {
    if (t.op.terms.size() != 1)
      return std::nullopt;
    Chain k = t.op.terms[0];
    if (!k.endsInSelection())
      return std::nullopt;
    k.prims.pop_back();
    for (const Prim& p : k.prims)
      if (!p.circulant())
        return std::nullopt;
    sum.terms.push_back(k);
    weights.push_back(t.weight);
  }
  ir::ValueId n;
  for (size_t i = 0; i < sum.terms.size(); ++i) {
    LinOp k{{sum.terms[i]}};
    ir::ValueId ni =
        scaled(apply(k.adjoint(), apply(k, impulse())), mul(Scalar::constant(2), weights[i]));
    n = n ? b.op(Op::Add, {n, ni}) : ni;
  }
  if (!n)
    return std::nullopt;
  return b.op(Op::Real, {b.op(Op::Rfft2, {n})});
}

ir::ValueId Context::largestEigenvalue(const std::function<ir::ValueId(ir::ValueId)>& op,
                                       const ir::Type& type, const std::string& what) {
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
  for (int k = 0; k < options.powerIterations; ++k) {
    ir::ValueId w = op(v);
    ir::ValueId lambda = b.op(Op::Max, {b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {w})}), tiny});
    v = b.op(Op::Div, {w, lambda});
  }
  return b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {op(v)})}, {},
              what + " (power iteration, " + std::to_string(options.powerIterations) + " steps)");
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
