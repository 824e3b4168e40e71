// Numbers of the model: constants fold when compiling; scalar inputs, L(f) and per-stage settings
// become graph scalars (Pre values, or `schedule` nodes for settings that read the stage index l).
#include "compiler/lower/context.h"

#include <algorithm>
#include <cmath>

namespace podm::lower {

using ast::BinaryOp;
using ast::Expr;
using ast::ExprKind;
using ir::Op;

ir::ValueId Context::input(const std::string& name, SourceLoc use) {
  if (auto it = inputs.find(name); it != inputs.end())
    return it->second;
  auto d = decls.find(name);
  if (d == decls.end() || d->second->kind != ast::DeclKind::Input)
    fail(use, "'" + name + "' is not an input");
  const ast::Decl& decl = *d->second;
  ir::Type type = ir::Type::scalar();
  if (decl.type.name != "scalar") {
    auto s = options.shapes.find(name);
    if (s == options.shapes.end())
      fail(use, "the shape of input '" + name +
                    "' is needed to lower the model; give it with --shape " + name +
                    "=HxW or --input " + name + "=FILE");
    type = ir::Type::real({1, 1, s->second.h, s->second.w});
  }
  if (b.region() != ir::Region::Pre)
    fail(use, "internal: input '" + name + "' first read inside the stage loop");
  ir::ValueId v = b.input(name, type);
  inputs[name] = v;
  return v;
}

ir::ValueId Context::node(const Scalar& s) {
  return s.value ? b.scalar(static_cast<float>(*s.value)) : s.node;
}

Scalar Context::mul(const Scalar& x, const Scalar& y) {
  if (x.value && y.value)
    return Scalar::constant(*x.value * *y.value);
  if (x.value && *x.value == 1)
    return y;
  if (y.value && *y.value == 1)
    return x;
  return Scalar::of(b.op(Op::Mul, {node(x), node(y)}));
}

Scalar Context::add(const Scalar& x, const Scalar& y) {
  if (x.value && y.value)
    return Scalar::constant(*x.value + *y.value);
  return Scalar::of(b.op(Op::Add, {node(x), node(y)}));
}

Scalar Context::div(const Scalar& x, const Scalar& y) {
  if (x.value && y.value)
    return Scalar::constant(*x.value / *y.value);
  return Scalar::of(b.op(Op::Div, {node(x), node(y)}));
}

ir::ValueId Context::scaled(ir::ValueId x, const Scalar& s, std::string label) {
  if (s.value && *s.value == 1 && label.empty())
    return x;
  if (s.value)
    return b.op(Op::Scale, {x}, {{"alpha", *s.value}}, std::move(label));
  return b.op(Op::Mul, {x, s.node}, {}, std::move(label));
}

bool Context::usesStageIndex(const Expr& e) const {
  if (e.kind == ExprKind::Name && e.text == "l")
    return true;
  for (const auto& o : e.operands)
    if (usesStageIndex(*o))
      return true;
  for (const auto& a : e.args)
    if (a.value && usesStageIndex(*a.value))
      return true;
  return false;
}

bool Context::callsL(const Expr& e) const {
  if (e.kind == ExprKind::Call && e.text == "L")
    return true;
  for (const auto& o : e.operands)
    if (callsL(*o))
      return true;
  for (const auto& a : e.args)
    if (a.value && callsL(*a.value))
      return true;
  return false;
}

namespace {

// ceil, floor, round, clamp of numbers known when compiling (sema checks it): per-stage uses
// such as ceil(s[l] * 255 / 2).
double rounding(Context& cx, const Expr& e) {
  std::vector<double> a;
  for (const ast::Arg& arg : e.args) {
    Scalar v = cx.number(*arg.value);
    if (!v.value)
      fail(arg.value->loc, e.text + "(...) needs numbers known when the model is compiled");
    a.push_back(*v.value);
  }
  const double x = a.at(0);
  return e.text == "ceil"    ? std::ceil(x)
         : e.text == "floor" ? std::floor(x)
         : e.text == "round" ? std::round(x)
                             : std::clamp(x, a.at(1), a.at(2));
}

} // namespace

Scalar Context::number(const Expr& e) {
  switch (e.kind) {
  case ExprKind::Number:
    return Scalar::constant(e.number);
  case ExprKind::Neg: {
    Scalar a = number(e.operand(0));
    return a.value ? Scalar::constant(-*a.value) : Scalar::of(b.op(Op::Neg, {a.node}));
  }
  case ExprKind::Power: {
    Scalar a = number(e.operand(0)), p = number(e.operand(1));
    if (!a.value || !p.value)
      fail(e.loc, "a power must be known when the model is compiled");
    return Scalar::constant(std::pow(*a.value, *p.value));
  }
  case ExprKind::Binary: {
    Scalar x = number(e.operand(0)), y = number(e.operand(1));
    switch (e.op) {
    case BinaryOp::Add:
      return add(x, y);
    case BinaryOp::Sub:
      if (x.value && y.value)
        return Scalar::constant(*x.value - *y.value);
      return Scalar::of(b.op(Op::Sub, {node(x), node(y)}));
    case BinaryOp::Mul:
      return mul(x, y);
    case BinaryOp::Div:
      if (y.value && *y.value == 0)
        fail(e.loc, "division by zero");
      return div(x, y);
    default:
      fail(e.loc, "expected a number, found a comparison");
    }
  }
  case ExprKind::Name: {
    if (e.text == "l") {
      if (!stage && staged) {
        std::vector<double> ls;
        for (int64_t l = 0; l < checked.stages; ++l)
          ls.push_back(static_cast<double>(l));
        return Scalar::of(b.schedule("l", std::move(ls)));
      }
      if (!stage)
        fail(e.loc, "the stage index l is only defined inside a per-stage setting");
      return Scalar::constant(static_cast<double>(*stage));
    }
    if (auto s = settings.find(e.text); s != settings.end())
      return s->second;
    auto d = decls.find(e.text);
    if (d == decls.end())
      fail(e.loc, "'" + e.text +
                      "' has no value here (is it a stage setting that the stages "
                      "block does not set?)");
    const ast::Decl& decl = *d->second;
    if (decl.kind == ast::DeclKind::Const)
      return number(*decl.value);
    if (decl.kind == ast::DeclKind::Input && decl.type.name == "scalar")
      return Scalar::of(input(e.text, e.loc));
    if (decl.kind == ast::DeclKind::Param)
      return paramValue(e.text, nullptr, e.loc);
    fail(e.loc, "'" + e.text + "' is not a number");
  }
  case ExprKind::Member: {
    const Expr& base = e.operand(0);
    if (base.kind != ExprKind::Name)
      fail(e.loc, "expected input.h or input.w");
    ir::ValueId in = input(base.text, base.loc);
    const ir::Type& t = graph.type(in);
    if (e.text == "h")
      return Scalar::constant(static_cast<double>(t.dims.h));
    if (e.text == "w")
      return Scalar::constant(static_cast<double>(t.dims.w));
    fail(e.loc, "unknown member '" + e.text + "'");
  }
  case ExprKind::Index: {
    const Expr& base = e.operand(0);
    if (base.kind == ExprKind::Name && decls.count(base.text) &&
        decls.at(base.text)->kind == ast::DeclKind::Param)
      return paramValue(base.text, &e.operand(1), e.loc);
    if (!stage && staged && usesStageIndex(e.operand(1))) {
      // sched[f(l)] inside a symbolic per-stage setting: one schedule of its values.
      std::vector<double> values;
      for (int64_t l = 0; l < checked.stages; ++l) {
        stage = l;
        Scalar v = number(e);
        stage.reset();
        if (!v.value)
          fail(e.loc, "a schedule entry must be a number known when compiling");
        values.push_back(*v.value);
      }
      return Scalar::of(b.schedule(ast::unparse(e), std::move(values)));
    }
    Scalar i = number(e.operand(1));
    auto d = base.kind == ExprKind::Name ? decls.find(base.text) : decls.end();
    if (d == decls.end() || !i.value)
      fail(e.loc, "only a schedule indexed by a known stage, such as sched[l], is lowered");
    const Expr& list = *d->second->value;
    auto k = static_cast<size_t>(*i.value);
    if (list.kind != ExprKind::List) { // a formula: its entries as sema evaluated them
      auto values = checked.lists.find(base.text);
      if (values == checked.lists.end() || *i.value < 0 || k >= values->second.size())
        fail(e.loc,
             "index " + std::to_string(*i.value) + " is outside schedule '" + base.text + "'");
      return Scalar::constant(values->second[k]);
    }
    if (*i.value < 0 || k >= list.operands.size())
      fail(e.loc, "index " + std::to_string(*i.value) + " is outside schedule '" + base.text + "'");
    return number(list.operand(k));
  }
  case ExprKind::Call: {
    if (e.text == "L") {
      if (e.args.size() != 1 || e.args[0].value->kind != ExprKind::Name ||
          e.args[0].value->text != "f")
        fail(e.loc, "L(...) is defined for the fidelity f only: L(f)");
      return Scalar::of(lipschitzConstant(e.loc));
    }
    if (e.text == "min" || e.text == "max") {
      // A statistic of an input (the box of Sec. 5.2 is [min(o), max(o)]): a Pre reduction.
      ir::ValueId v = image(*e.args.at(0).value);
      return Scalar::of(b.op(e.text == "min" ? Op::MinVal : Op::MaxVal, {v}));
    }
    if (e.text == "numel") {
      ir::ValueId v = image(*e.args.at(0).value);
      return Scalar::constant(static_cast<double>(graph.type(v).dims.numel()));
    }
    if (e.text == "sqrt" || e.text == "exp" || e.text == "log") {
      Scalar a = number(*e.args.at(0).value);
      if (a.value)
        return Scalar::constant(e.text == "sqrt"  ? std::sqrt(*a.value)
                                : e.text == "exp" ? std::exp(*a.value)
                                                  : std::log(*a.value));
      Op op = e.text == "sqrt" ? Op::Sqrt : e.text == "exp" ? Op::Exp : Op::Log;
      return Scalar::of(b.op(op, {a.node}));
    }
    if (e.text == "ceil" || e.text == "floor" || e.text == "round" || e.text == "clamp")
      return Scalar::constant(rounding(*this, e));
    fail(e.loc, "'" + e.text + "(...)' as a number is not lowered yet");
  }
  default:
    fail(e.loc, "expected a number");
  }
}

Scalar Context::setting(const ast::Setting& s) {
  if (!usesStageIndex(*s.value))
    return number(*s.value);
  if (!stages)
    fail(s.loc, "internal: per-stage setting without stages");
  if (callsL(*s.value) || usesParam(*s.value)) {
    // gamma = sched[l] / L(f): L(f) is a Pre value, sched[l] a schedule, the rest Body ops.
    staged = true;
    Scalar v = number(*s.value);
    staged = false;
    return v;
  }
  std::vector<double> values;
  for (int64_t l = 0; l < checked.stages; ++l) {
    stage = l;
    Scalar v = number(*s.value);
    stage.reset();
    if (!v.value)
      fail(s.value->loc, "a setting that depends on the stage index must be known when the "
                         "model is compiled (schedules, constants and L(f) only)");
    values.push_back(*v.value);
  }
  return Scalar::of(b.schedule(s.name, std::move(values)));
}

} // namespace podm::lower
