// The prior g = Σ λ_j g_j(W_j x) as graph pieces: prox_{γg} (weights folded into γ, orthogonal
// transforms W as W' prox(W ·)) and the value of g for the phi monitor. Prox arguments are
// constants (checked by the prox's factory now) or run-time expressions of inputs such as
// lo = min(o): Pre scalars wired into the prox node as extra operands (`operand_args`), checked by
// the factory when the kernel binds them. Two sums of prox terms have an exact prox and are
// lowered:
//  - a separable convex term plus a separable indicator (box, nonneg) on the variable:
//    prox_{g1 + χ} = Π ∘ prox_{g1} coordinate by coordinate;
//  - tv_iso / tv_aniso plus box or nonneg on the variable: one TV prox with the box bounds, FGP
//    with the projection onto the box inside (Beck & Teboulle 2009, the constrained problem).
#include "compiler/lower/context.h"
#include "stdlib/prox/prox.h"

#include <algorithm>
#include <cmath>

namespace podm::lower {

using ast::BinaryOp;
using ast::Expr;
using ast::ExprKind;
using ir::Op;

namespace {

bool isTv(const std::string& name) {
  return name == "tv_iso" || name == "tv_aniso";
}

bool isBox(const std::string& name) {
  return name == "box" || name == "nonneg";
}

bool hasArg(const ProxTerm& t, const std::string& name) {
  for (const auto& [n, v] : t.args)
    if (n == name)
      return true;
  for (const auto& [n, v] : t.runtimeArgs)
    if (n == name)
      return true;
  return false;
}

const char* kSupportedSums =
    "the sums lowered are a separable convex term plus box or nonneg on the variable (e.g. "
    "l1(x) + box(x, lo = 0, hi = 1): the projection of its prox) and tv_iso or tv_aniso plus box "
    "or nonneg on the variable (one TV prox with the box, FGP with the projection)";

} // namespace

// The placeholder a run-time argument takes while the factory is asked for traits and for its
// verdict on the constant arguments: the default when there is one, else 0 moved into range.
static double placeholder(const stdlib::ProxEntry& entry, const std::string& name) {
  for (const stdlib::ProxParam& p : entry.params)
    if (p.name == name) {
      if (std::isfinite(p.defaultValue))
        return p.defaultValue;
      return std::clamp(0.0, p.min, p.max);
    }
  return 0.0;
}

// Binds the term's constant arguments (run-time ones at placeholders) to learn its traits and to
// reject bad constants now. A rejection that names a run-time argument is left to the run time:
// it may come from the placeholder rather than from the model.
static void bindAtCompileTime(Context& cx, ProxTerm& t, const stdlib::ProxEntry& entry,
                              SourceLoc where) {
  stdlib::ProxArgs args(t.args.begin(), t.args.end());
  for (const auto& [n, v] : t.runtimeArgs)
    args[n] = placeholder(entry, n);
  std::unique_ptr<stdlib::ProxFunction> bound;
  try {
    bound = stdlib::makeProx(entry, args);
  } catch (const std::exception& e) {
    std::string message = e.what();
    bool namesRuntime = false;
    for (const auto& [n, v] : t.runtimeArgs)
      namesRuntime = namesRuntime || message.find(n) != std::string::npos;
    if (!namesRuntime)
      fail(where, message);
    cx.notes.push_back("prox " + t.name + ": run-time arguments checked when the run binds them");
  }
  stdlib::ProxTraits traits = bound ? stdlib::effectiveTraits(entry, *bound) : entry.traits;
  t.indicator = traits.indicator;
  t.separable = traits.separable;
  t.convex = traits.convex;
}

static ProxTerm readProxTerm(Context& cx, const Expr& part) {
  ProxTerm t;
  t.loc = part.loc;
  t.text = ast::unparse(part);
  t.weight = Scalar::constant(1);
  const Expr* call = &part;
  if ((part.kind == ExprKind::Binary && part.op == BinaryOp::Mul) || part.kind == ExprKind::Apply) {
    t.weight = cx.number(part.operand(0));
    call = &part.operand(1);
  }
  if (call->kind != ExprKind::Call)
    fail(part.loc, "expected a prox term such as lambda * l1(W x)");
  t.name = call->text;
  const stdlib::ProxEntry* entry = stdlib::proxRegistry().find(t.name);
  if (!entry)
    fail(call->loc, "unknown prox function '" + t.name + "'");
  const Expr* arg = nullptr;
  for (const ast::Arg& a : call->args) {
    if (a.name.empty()) {
      arg = a.value.get();
      continue;
    }
    // A value known now is bound with the prox; anything else (min(o), a scalar input) is a Pre
    // scalar the kernel reads at run time.
    Scalar v = cx.number(*a.value);
    if (v.value) {
      t.args.push_back({a.name, *v.value});
      continue;
    }
    ir::Node& n = cx.graph.mutableNode(v.node);
    if (n.label.empty())
      n.label = t.name + " " + a.name + " = " + ast::unparse(*a.value);
    t.runtimeArgs.push_back({a.name, v.node});
  }
  std::sort(t.args.begin(), t.args.end());
  if (!arg)
    fail(call->loc, t.name + "(...) needs the variable (or W applied to it) as its argument");
  if (arg->kind == ExprKind::Apply && arg->operand(1).kind == ExprKind::Name &&
      arg->operand(1).text == cx.var) {
    LinOp w = cx.linop(arg->operand(0));
    if (!w.orthogonal() && !cx.splitting)
      fail(arg->loc, "g on a transformed variable is lowered for orthogonal transforms only "
                     "(haar, dct and their adjoints): prox of g(W x) = W' prox_g(W x); the "
                     "splitting solvers (admm, hqs, pdhg) take any operator");
    t.transform = std::move(w);
  } else if (arg->kind != ExprKind::Name || arg->text != cx.var) {
    fail(arg->loc, "the argument of " + t.name + " must be the variable '" + cx.var +
                       "' or an orthogonal transform of it");
  }
  bindAtCompileTime(cx, t, *entry, call->loc);
  return t;
}

// tv + box: the box's bounds become the TV prox's lo and hi (nonneg: lo = 0).
static ProxTerm fuseTvBox(Context& cx, ProxTerm tv, const ProxTerm& box) {
  if (hasArg(tv, "lo") || hasArg(tv, "hi"))
    fail(box.loc, "'" + tv.text +
                      "' already has box bounds (lo, hi); give them once, either "
                      "in " +
                      tv.name + "(...) or in a separate box term");
  if (box.name == "nonneg") {
    tv.args.push_back({"lo", 0.0});
  } else {
    for (const auto& a : box.args)
      tv.args.push_back(a);
    for (const auto& a : box.runtimeArgs)
      tv.runtimeArgs.push_back(a);
  }
  std::sort(tv.args.begin(), tv.args.end());
  tv.fused = tv.name + " + " + box.name + ": FGP with the projection onto the box";
  tv.text += " + " + box.text;
  bindAtCompileTime(cx, tv, *stdlib::proxRegistry().find(tv.name), box.loc);
  cx.notes.push_back("g: " + tv.text + " is one prox, " + tv.fused +
                     " (Beck & Teboulle 2009, constrained TV)");
  return tv;
}

void Context::readPrior() {
  if (!terms.count("g"))
    return; // plug-and-play: the denoiser is the prior (sema allows no g only then)
  const Expr& value = *terms.at("g")->value;
  std::vector<const Expr*> parts;
  summands(value, parts);
  for (const Expr* part : parts)
    g.push_back(readProxTerm(*this, *part));
  if (splitting)
    return; // each term is split on its own: no prox of a sum is needed
  if (g.size() > 2) {
    std::string names;
    for (const ProxTerm& t : g)
      names += (names.empty() ? "'" : ", '") + t.text + "'";
    fail(value.loc, "g has " + std::to_string(g.size()) + " prox terms (" + names +
                        "): the prox of a sum has no closed form in general; " + kSupportedSums);
  }
  if (g.size() != 2)
    return;
  ProxTerm& a = g[0];
  ProxTerm& c = g[1];
  const bool onVariable = !a.transform && !c.transform;
  if (onVariable && isTv(a.name) && isBox(c.name)) {
    g = {fuseTvBox(*this, a, c)};
    return;
  }
  if (onVariable && isTv(c.name) && isBox(a.name)) {
    g = {fuseTvBox(*this, c, a)};
    return;
  }
  bool projection = onVariable && ((c.indicator && c.separable && a.separable && a.convex) ||
                                   (a.indicator && a.separable && c.separable && c.convex));
  if (!projection)
    fail(value.loc,
         "the prox of '" + a.text + "' + '" + c.text + "' is not lowered: " + kSupportedSums);
  if (a.indicator)
    std::swap(g[0], g[1]); // the indicator's projection runs last
}

ir::ValueId Context::proxTerm(const ProxTerm& t, ir::ValueId v, ir::ValueId step,
                              std::string label) {
  ir::ValueId gl = node(mul(Scalar::of(step), t.weight));
  // A prox whose declaration gives elementwise ops (l1, nonneg, box) becomes those ops when its
  // arguments are known now, so the fusion pass merges it with its neighbours.
  const stdlib::ProxEntry& entry = *stdlib::proxRegistry().find(t.name);
  if (entry.lowerElementwise && t.runtimeArgs.empty() && t.fused.empty()) {
    stdlib::ProxArgs args(t.args.begin(), t.args.end());
    ir::ValueId out = entry.lowerElementwise(b, v, gl, args);
    if (!label.empty())
      graph.mutableNode(out).label = std::move(label);
    return out;
  }
  ir::Attrs attrs{{"fn", t.name}};
  if (!t.args.empty())
    attrs.set("args", t.args);
  std::vector<ir::ValueId> operands{v, gl};
  std::vector<std::string> names;
  for (const auto& [name, value] : t.runtimeArgs) {
    operands.push_back(value);
    names.push_back(name);
  }
  if (!names.empty())
    attrs.set("operand_args", ir::joinNames(names));
  if (!t.fused.empty())
    label = label.empty() ? "prox " + t.fused : label + " [" + t.fused + "]";
  return b.create(Op::Prox, operands, attrs, std::nullopt, label);
}

ir::ValueId Context::proxG(ir::ValueId v, ir::ValueId gamma, std::string label) {
  ir::ValueId out = v;
  std::string fused;
  for (size_t i = 0; i < g.size(); ++i) {
    const ProxTerm& t = g[i];
    ir::ValueId in = t.transform ? apply(*t.transform, out) : out;
    ir::ValueId p = proxTerm(t, in, gamma);
    out = t.transform ? apply(t.transform->adjoint(), p) : p;
    if (!t.fused.empty())
      fused = t.fused;
  }
  if (!label.empty())
    graph.mutableNode(out).label = fused.empty() ? label : label + " [" + fused + "]";
  return out;
}

// TV of the variable with the prox's own differences (forward, Neumann: zero across the last row
// and column), as true convolutions with symmetric boundary: x[i, w] reads x[i, w-1], so the last
// difference is 0. The kernel origin is the centre (conv2d conventions).
static ir::ValueId tvValue(Context& cx, ir::ValueId x, bool isotropic) {
  auto diff = [&](bool horizontal) {
    std::vector<float> k(9, 0.f);
    k[4] = -1.f;                 // x[i, j]
    k[horizontal ? 3 : 1] = 1.f; // x[i, j+1] or x[i+1, j]
    ir::ValueId kernel =
        cx.b.constant(ir::Type::real({1, 1, 3, 3}), std::move(k),
                      horizontal ? "forward difference x" : "forward difference y");
    return cx.b.op(Op::Conv2d, {x, kernel}, {{"boundary", std::string("symmetric")}});
  };
  ir::ValueId dx = diff(true), dy = diff(false);
  if (isotropic) {
    ir::ValueId sq = cx.b.op(Op::Add, {cx.b.op(Op::Mul, {dx, dx}), cx.b.op(Op::Mul, {dy, dy})});
    return cx.b.op(Op::Sum, {cx.b.op(Op::Sqrt, {sq})});
  }
  return cx.b.op(Op::Sum, {cx.b.op(Op::Add, {cx.b.op(Op::Abs, {dx}), cx.b.op(Op::Abs, {dy})})});
}

// A prox argument as a scalar: constant, run-time node, or absent.
static std::optional<Scalar> argOf(const ProxTerm& t, const std::string& name) {
  for (const auto& [n, v] : t.args)
    if (n == name)
      return Scalar::constant(v);
  for (const auto& [n, v] : t.runtimeArgs)
    if (n == name)
      return Scalar::of(v);
  return std::nullopt;
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
    ir::ValueId v;
    if (t.name == "l1") {
      v = b.op(Op::Sum, {b.op(Op::Abs, {u})});
    } else if (t.name == "l21") {
      // Σ over pixels of the norm across channels: the channel sum of u² is filter_bank_adjoint
      // with C 1x1 filters of ones (a periodic 1x1 convolution is the identity).
      const int64_t channels = graph.type(u).dims.c;
      ir::ValueId ones =
          b.constant(ir::Type::real({1, channels, 1, 1}),
                     std::vector<float>(static_cast<size_t>(channels), 1.f), "channel sum");
      ir::ValueId sq = b.op(Op::FilterBankAdjoint, {b.op(Op::Mul, {u, u}), ones});
      v = b.op(Op::Sum, {b.op(Op::Sqrt, {sq})});
    } else if (t.name == "l0") {
      v = b.op(Op::Sum, {b.op(Op::Sign, {b.op(Op::Abs, {u})})});
    } else if (t.name == "lp") {
      // |u|^p = exp(p log|u|); log 0 = -inf gives exp(-inf) = 0 as it should.
      ir::ValueId logs = b.op(Op::Log, {b.op(Op::Abs, {u})});
      v = b.op(Op::Sum, {b.op(Op::Exp, {scaled(logs, argOf(t, "p").value())})});
    } else if (isTv(t.name)) {
      if (!t.fused.empty() || hasArg(t, "lo") || hasArg(t, "hi"))
        notes.push_back("phi: the box of " + t.name +
                        " counts as 0 (every monitored iterate is a prox output, inside the box)");
      v = tvValue(*this, u, t.name == "tv_iso");
    } else if (t.name == "hardthre_box" && argOf(t, "threshold")) {
      // threshold^2 / 2 per nonzero; the box is satisfied by every prox output.
      Scalar th = *argOf(t, "threshold");
      Scalar half = mul(Scalar::constant(0.5), mul(th, th));
      v = node(mul(half, Scalar::of(b.op(Op::Sum, {b.op(Op::Sign, {b.op(Op::Abs, {u})})}))));
    } else {
      fail(use, "phi = f + g needs the value of every term of g, and prox '" + t.name +
                    "' (a plugin, or a prox without a value lowering) has none in the graph: "
                    "leave phi out here, or monitor rel_change instead");
    }
    v = node(mul(t.weight, Scalar::of(v)));
    sum = sum ? b.op(Op::Add, {sum, v}) : v;
  }
  return sum ? sum : b.scalar(0.f);
}

} // namespace podm::lower
