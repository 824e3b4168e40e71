// Linear operators of the model as sums of scaled chains of primitive operators (Prim: a call of a
// stdlib operator, read from its declaration in stdlib/linop), their adjoints (each prim's adjoint,
// order reversed), their structure (what the F-step solver choice reads) and their application as
// graph nodes, which each operator's declaration builds.
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

const Expr* callArgument(const Expr& call, size_t position, const std::string& name) {
  size_t positional = 0;
  for (const ast::Arg& a : call.args) {
    if (a.name == name)
      return a.value.get();
    if (a.name.empty() && positional++ == position)
      return a.value.get();
  }
  return nullptr;
}

const Expr* declaredArgument(const Expr& call, const stdlib::LinopEntry& entry,
                             const std::string& name) {
  size_t position = entry.params.size();
  for (size_t i = 0; i < entry.params.size(); ++i)
    if (entry.params[i].name == name)
      position = i;
  return callArgument(call, position, name);
}

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
    if (e.text == "identity")
      return LinOp::identity();
    const stdlib::LinopEntry* entry = stdlib::linopRegistry().find(e.text);
    if (!entry || !entry->lower)
      fail(e.loc, "linear operator '" + e.text + "' has no lowering");
    Prim p;
    p.text = ast::unparse(e);
    p.loc = e.loc;
    p.args = callArguments(e, *entry);
    if (const Expr* l = declaredArgument(e, *entry, "learnable");
        l && l->kind == ExprKind::Bool && l->boolean) {
      std::optional<ir::ValueId> bank = learnableFilterBank(e);
      if (!bank)
        fail(l->loc, "learnable filters need a name: declare them as "
                     "op F = dct_filters(..., learnable = true)");
      p.bank = *bank; // entry stays null: the bank's own ops, not the fixed filters
      return single(std::move(p));
    }
    p.entry = entry;
    return single(std::move(p));
  }
  default:
    break;
  }
  fail(e.loc, "expected a linear operator");
}

stdlib::LinopIrArgs Context::callArguments(const Expr& call, const stdlib::LinopEntry& entry) {
  stdlib::LinopIrArgs args;
  for (size_t i = 0; i < entry.params.size(); ++i) {
    const stdlib::LinopParam& param = entry.params[i];
    const Expr* a = callArgument(call, i, param.name);
    switch (param.kind) {
    case stdlib::LinopParamKind::Number: {
      if (!a) {
        args.numbers[param.name] = param.defaultValue; // sema rejected a missing required one
        break;
      }
      Scalar s = number(*a);
      if (!s.value)
        fail(a->loc, "'" + param.name + "' must be known when the model is compiled");
      args.numbers[param.name] = *s.value;
      break;
    }
    case stdlib::LinopParamKind::String:
      if (a && (a->kind != ExprKind::String || a->pieces.empty() || !a->operands.empty()))
        fail(a->loc, "'" + param.name + "' must be a string");
      args.strings[param.name] = a ? a->pieces[0] : param.defaultString;
      break;
    case stdlib::LinopParamKind::Tensor:
      if (!a || a->kind != ExprKind::Name)
        fail(call.loc, call.text + "(...) needs '" + param.name + "' as the name of an input");
      args.tensors[param.name] = input(a->text, a->loc);
      break;
    case stdlib::LinopParamKind::Flag:
      break; // read by the caller (dct_filters' learnable)
    }
  }
  return args;
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
  if (p.learnable())
    return b.op(p.adjoint ? Op::FilterBankAdjoint : Op::FilterBank, {x, p.bank});
  try {
    return p.entry->lower({b, x, graph.type(x).dims, p.adjoint, p.args});
  } catch (const std::invalid_argument& e) {
    fail(p.loc, p.text + ": " + e.what());
  }
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
