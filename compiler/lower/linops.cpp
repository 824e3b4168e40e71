// Linear operators of the model as sums of scaled chains of IR ops (Prim), their adjoints (each
// prim's adjoint op, order reversed: the ops.def adjoint column), their structure (what the F-step
// solver choice reads) and their application as graph nodes.
#include "compiler/lower/context.h"

namespace podm::lower {

using ast::BinaryOp;
using ast::Expr;
using ast::ExprKind;
using ir::Op;

bool LinOp::allDiagonal() const {
  for (const Chain& c : terms)
    for (const Prim& p : c.prims)
      if (!p.diagonal())
        return false;
  return true;
}

bool LinOp::allCirculant() const {
  // A mask is diagonal but not circulant (unless constant, which lowering never sees as a mask),
  // and a product with one is neither: such chains need CG or gradient F-steps.
  for (const Chain& c : terms)
    for (const Prim& p : c.prims)
      if (!p.circulant())
        return false;
  return true;
}

bool LinOp::orthogonal() const {
  if (terms.size() != 1 || (terms[0].scale != 1 && terms[0].scale != -1))
    return false;
  for (const Prim& p : terms[0].prims)
    if (!p.orthogonal())
      return false;
  return true;
}

LinOp LinOp::adjoint() const {
  LinOp out;
  for (const Chain& c : terms) {
    Chain a{c.scale, {}};
    for (auto it = c.prims.rbegin(); it != c.prims.rend(); ++it) {
      Prim p = *it;
      p.adjoint = !p.adjoint;
      a.prims.push_back(p);
    }
    out.terms.push_back(std::move(a));
  }
  return out;
}

namespace {

// The argument of a call by name, else by position; nullptr when absent.
const Expr* argument(const Expr& call, size_t position, const std::string& name) {
  size_t positional = 0;
  for (const ast::Arg& a : call.args) {
    if (a.name == name)
      return a.value.get();
    if (a.name.empty() && positional++ == position)
      return a.value.get();
  }
  return nullptr;
}

LinOp single(Prim p) {
  return LinOp{{Chain{1, {std::move(p)}}}};
}

LinOp compose(const LinOp& outer, const LinOp& inner) {
  LinOp out;
  for (const Chain& i : inner.terms)
    for (const Chain& o : outer.terms) {
      Chain c{i.scale * o.scale, i.prims};
      c.prims.insert(c.prims.end(), o.prims.begin(), o.prims.end());
      out.terms.push_back(std::move(c));
    }
  return out;
}

LinOp scaledOp(const LinOp& a, double s) {
  LinOp out = a;
  for (Chain& c : out.terms)
    c.scale *= s;
  return out;
}

} // namespace

LinOp Context::linop(const Expr& e) {
  switch (e.kind) {
  case ExprKind::Name: {
    if (e.text == "identity")
      return LinOp::identity();
    auto d = decls.find(e.text);
    if (d != decls.end() && d->second->kind == ast::DeclKind::Op)
      return linop(*d->second->value);
    if (d != decls.end() && d->second->kind == ast::DeclKind::Net)
      fail(e.loc, "networks are not lowered yet: '" + e.text +
                      "' is a net (the network library plugs in here)");
    if (d == decls.end()) {
      // A built-in operator written without parentheses (`op W = dct`).
      Expr call(ExprKind::Call, e.loc);
      call.text = e.text;
      return linop(call);
    }
    fail(e.loc, "'" + e.text + "' is not a linear operator");
  }
  case ExprKind::Adjoint:
    return linop(e.operand(0)).adjoint();
  case ExprKind::Apply:
    return compose(linop(e.operand(0)), linop(e.operand(1)));
  case ExprKind::Neg:
    return scaledOp(linop(e.operand(0)), -1);
  case ExprKind::Binary: {
    if (e.op == BinaryOp::Add || e.op == BinaryOp::Sub) {
      LinOp a = linop(e.operand(0)), c = linop(e.operand(1));
      if (e.op == BinaryOp::Sub)
        c = scaledOp(c, -1);
      a.terms.insert(a.terms.end(), c.terms.begin(), c.terms.end());
      return a;
    }
    if (e.op == BinaryOp::Mul || e.op == BinaryOp::Div) {
      bool numberFirst = e.op == BinaryOp::Mul && e.operand(0).kind != ExprKind::Name &&
                         e.operand(0).kind != ExprKind::Call;
      const Expr& num = numberFirst ? e.operand(0) : e.operand(1);
      const Expr& op = numberFirst ? e.operand(1) : e.operand(0);
      Scalar s = number(num);
      if (!s.value)
        fail(num.loc, "an operator's scale factor must be known when the model is compiled");
      return scaledOp(linop(op), e.op == BinaryOp::Div ? 1 / *s.value : *s.value);
    }
    break;
  }
  case ExprKind::Call: {
    const std::string& n = e.text;
    if (n == "identity")
      return LinOp::identity();
    Prim p;
    p.text = ast::unparse(e);
    p.loc = e.loc;
    auto integer = [&](size_t pos, const std::string& name, int64_t fallback) {
      const Expr* a = argument(e, pos, name);
      if (!a)
        return fallback;
      Scalar s = number(*a);
      if (!s.value)
        fail(a->loc, "'" + name + "' must be known when the model is compiled");
      return static_cast<int64_t>(*s.value);
    };
    // A string argument; sema checked it is one of the operator's choices.
    auto text = [&](size_t pos, const std::string& name, const std::string& fallback) {
      const Expr* a = argument(e, pos, name);
      if (!a)
        return fallback;
      if (a->kind != ExprKind::String || !a->pieces.size() || a->operands.size())
        fail(a->loc, "'" + name + "' must be a string");
      return a->pieces[0];
    };
    auto tensorArg = [&](size_t pos, const std::string& name) {
      const Expr* a = argument(e, pos, name);
      if (!a || a->kind != ExprKind::Name)
        fail(e.loc, n + "(...) needs '" + name + "' as the name of an input");
      return input(a->text, a->loc);
    };
    if (n == "conv") {
      p.kind = PrimKind::Conv;
      p.operand = tensorArg(0, "kernel");
      p.boundary = text(1, "boundary", "periodic");
      p.orientation = text(2, "as", "convolution");
    } else if (n == "decimate" || n == "upsample" || n == "bicubic_down" || n == "bicubic_up") {
      p.kind = n == "decimate"       ? PrimKind::Decimate
               : n == "upsample"     ? PrimKind::Upsample
               : n == "bicubic_down" ? PrimKind::BicubicDown
                                     : PrimKind::BicubicUp;
      p.factor = integer(0, "s", 1);
    } else if (n == "haar") {
      p.kind = PrimKind::Haar;
      p.factor = integer(0, "levels", 1);
    } else if (n == "dct") {
      p.kind = PrimKind::Dct;
    } else if (n == "grad") {
      p.kind = PrimKind::Grad;
      p.boundary = text(0, "boundary", "neumann");
    } else if (n == "mask") {
      p.kind = PrimKind::Mask;
      p.operand = tensorArg(0, "m");
    } else if (n == "dct_filters") {
      if (const Expr* l = argument(e, 1, "learnable");
          l && l->kind == ExprKind::Bool && l->boolean) {
        std::optional<ir::ValueId> bank = learnableFilterBank(e);
        if (!bank)
          fail(l->loc, "learnable filters need a name: declare them as "
                       "op F = dct_filters(..., learnable = true)");
        p.kind = PrimKind::FilterBank;
        p.operand = *bank;
        p.factor = integer(0, "size", 3);
        p.boundary = "periodic";
        return single(std::move(p));
      }
      p.kind = PrimKind::DctFilters;
      p.factor = integer(0, "size", 3);
      p.boundary = "periodic";
    } else {
      fail(e.loc, "linear operator '" + n + "' has no lowering");
    }
    return single(std::move(p));
  }
  default:
    break;
  }
  fail(e.loc, "expected a linear operator");
}

bool Context::splitApply(const Expr& e, LinOp& op, const Expr*& arg) {
  if (e.kind == ExprKind::Apply) {
    op = linop(e.operand(0));
    arg = &e.operand(1);
    return true;
  }
  auto d = e.kind == ExprKind::Call ? decls.find(e.text) : decls.end();
  if (d != decls.end() && d->second->kind == ast::DeclKind::Op && e.args.size() == 1 &&
      e.args[0].name.empty()) {
    op = linop(*d->second->value);
    arg = e.args[0].value.get();
    return true;
  }
  return false;
}

ir::ValueId Context::applyPrim(const Prim& p, ir::ValueId x) {
  if (p.loc.known())
    where = p.loc;
  const ir::Dims d = graph.type(x).dims;
  const bool adj = p.adjoint;
  auto boundary = [&] { return ir::Attrs{{"boundary", p.boundary}}; };
  switch (p.kind) {
  case PrimKind::Conv:
    return b.op(adj ? Op::Conv2dAdjoint : Op::Conv2d, {x, p.operand},
                {{"boundary", p.boundary}, {"orientation", p.orientation}});
  case PrimKind::Decimate:
  case PrimKind::Upsample: {
    bool down = (p.kind == PrimKind::Decimate) != adj;
    return b.op(down ? Op::Decimate : Op::UpsampleZero, {x}, {{"factor", p.factor}});
  }
  case PrimKind::BicubicDown:
  case PrimKind::BicubicUp: {
    const int64_t s = p.factor;
    const bool shrink = p.kind == PrimKind::BicubicDown;
    const double scale = shrink ? 1.0 / static_cast<double>(s) : static_cast<double>(s);
    // The forward map is (big -> small) when shrinking; the adjoint runs the other way.
    const bool toSmall = shrink != adj;
    if (toSmall && (d.h % s != 0 || d.w % s != 0))
      fail(p.loc, p.text + ": image size " + std::to_string(d.h) + "x" + std::to_string(d.w) +
                      " is not divisible by " + std::to_string(s));
    int64_t h = toSmall ? d.h / s : d.h * s, w = toSmall ? d.w / s : d.w * s;
    return b.op(adj ? Op::ResizeBicubicAdjoint : Op::ResizeBicubic, {x},
                {{"scale", scale}, {"h", h}, {"w", w}});
  }
  case PrimKind::Haar:
    return b.op(adj ? Op::HaarInv : Op::Haar, {x}, {{"levels", p.factor}});
  case PrimKind::Dct:
    return b.op(adj ? Op::Idct2 : Op::Dct2, {x});
  case PrimKind::Grad:
    return b.op(adj ? Op::FdGradAdjoint : Op::FdGrad, {x}, boundary());
  case PrimKind::Mask:
    return b.op(Op::Mask, {x, p.operand});
  case PrimKind::DctFilters:
    return b.op(adj ? Op::DctFiltersAdjoint : Op::DctFilters, {x},
                {{"size", p.factor}, {"boundary", p.boundary}});
  case PrimKind::FilterBank:
    return b.op(adj ? Op::FilterBankAdjoint : Op::FilterBank, {x, p.operand});
  }
  throw LowerError({}, "internal: unknown operator kind");
}

ir::ValueId Context::apply(const LinOp& op, ir::ValueId x, std::string label) {
  ir::ValueId sum;
  for (const Chain& c : op.terms) {
    ir::ValueId v = x;
    for (const Prim& p : c.prims)
      v = applyPrim(p, v);
    if (c.scale != 1)
      v = b.op(Op::Scale, {v}, {{"alpha", c.scale}});
    sum = sum ? b.op(Op::Add, {sum, v}) : v;
  }
  if (!sum)
    throw LowerError({}, "internal: empty linear operator");
  if (!label.empty() && sum != x)
    graph.mutableNode(sum).label = std::move(label);
  return sum;
}

ir::ValueId Context::image(const Expr& e) {
  switch (e.kind) {
  case ExprKind::Name: {
    auto d = decls.find(e.text);
    if (d != decls.end() && d->second->kind == ast::DeclKind::Input &&
        d->second->type.name != "scalar")
      return input(e.text, e.loc);
    fail(e.loc, "'" + e.text + "' is not an image input here");
  }
  case ExprKind::Apply:
  case ExprKind::Call: {
    LinOp op;
    const Expr* arg = nullptr;
    if (!splitApply(e, op, arg))
      break;
    return apply(op, image(*arg));
  }
  case ExprKind::Neg:
    return b.op(Op::Neg, {image(e.operand(0))});
  case ExprKind::Binary:
    if (e.op == BinaryOp::Add || e.op == BinaryOp::Sub) {
      ir::ValueId a = image(e.operand(0)), c = image(e.operand(1));
      return b.op(e.op == BinaryOp::Add ? Op::Add : Op::Sub, {a, c});
    }
    if (e.op == BinaryOp::Mul)
      return scaled(image(e.operand(1)), number(e.operand(0)));
    break;
  default:
    break;
  }
  fail(e.loc, "this image expression is not lowered (inputs, operators applied to them, sums "
              "and scalar multiples are)");
}

} // namespace podm::lower
