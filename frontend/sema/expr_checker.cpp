// Expression typing: kinds, constant folding of scalars, symbolic shapes of images and operators.
#include "frontend/sema/checker.h"
#include "frontend/sema/text.h"

#include <algorithm>
#include <cmath>

namespace podm::sema {

using ast::BinaryOp;
using ast::Expr;
using ast::ExprKind;

namespace {

size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::vector<std::string> unionOf(const std::vector<std::string>& a,
                                 const std::vector<std::string>& b) {
  std::vector<std::string> out = a;
  for (const std::string& v : b)
    if (std::find(out.begin(), out.end(), v) == out.end())
      out.push_back(v);
  return out;
}

} // namespace

std::string Checker::suggestion(const std::string& name, const std::vector<std::string>& pool) {
  std::string best;
  size_t bestDistance = name.size() <= 3 ? 1 : 2;
  for (const std::string& candidate : pool) {
    size_t d = editDistance(name, candidate);
    if (d <= bestDistance && candidate != name) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

std::vector<std::string> Checker::namesInScope() const {
  std::vector<std::string> names;
  for (const auto& [n, s] : symbols_)
    names.push_back(n);
  for (const auto& [n, t] : locals_)
    names.push_back(n);
  return names;
}

bool Checker::localDefined(const std::string& name) const {
  return locals_.count(name) > 0;
}
Type Checker::local(const std::string& name) const {
  return locals_.at(name);
}

void Checker::requireNumber(const Type& t, const Expr& e, const std::string& what) {
  if (!t.is(Kind::Number) && !t.is(Kind::Error))
    diags_.error(e.loc, what + " must be a number, not " + describe(t.kind));
}

void Checker::mismatch(const Expr& at, const std::string& what, const ImageShape& a,
                       const ImageShape& b) {
  diags_.error(at.loc, "shape mismatch in " + what + ": " + a.str() + " vs " + b.str());
}

Type Checker::expr(const Expr& e, Context ctx) {
  switch (e.kind) {
  case ExprKind::Number:
    return Type::number(e.number);
  case ExprKind::Bool:
    return Type::of(Kind::Bool);
  case ExprKind::String:
    for (const ast::ExprPtr& part : e.operands) {
      Type t = expr(*part, ctx);
      if (!t.is(Kind::Number) && !t.is(Kind::String) && !t.is(Kind::Error))
        diags_.error(part->loc,
                     std::string("a string can only interpolate numbers, not ") + describe(t.kind));
    }
    return Type::of(Kind::String);
  case ExprKind::Name:
    return name(e, ctx);
  case ExprKind::Call:
    return call(e, ctx);
  case ExprKind::Member:
    return member(e, ctx);
  case ExprKind::Index:
    return index(e, ctx);
  case ExprKind::Apply:
    return apply(e, ctx);
  case ExprKind::Binary:
    return binary(e, ctx);
  case ExprKind::Adjoint: {
    Type t = expr(e.operand(0), ctx);
    if (t.is(Kind::Operator)) {
      t.steps = adjointSteps(t.steps);
      return t;
    }
    if (!t.is(Kind::Error))
      diags_.error(e.loc,
                   std::string("only linear operators have an adjoint, not ") + describe(t.kind));
    return Type::error();
  }
  case ExprKind::Power: {
    Type base = expr(e.operand(0), ctx), exponent = expr(e.operand(1), ctx);
    if (base.is(Kind::Error) || exponent.is(Kind::Error))
      return Type::error();
    if (base.is(Kind::List) || exponent.is(Kind::List))
      return listArithmetic(e, base, exponent);
    if (!base.is(Kind::Number) || !exponent.is(Kind::Number)) {
      diags_.error(e.loc, std::string("cannot raise ") + describe(base.kind) + " to a power");
      return Type::error();
    }
    if (base.value && exponent.value)
      return Type::number(std::pow(*base.value, *exponent.value));
    return Type::number();
  }
  case ExprKind::Neg: {
    Type t = expr(e.operand(0), ctx);
    if (t.value)
      t.value = -*t.value;
    for (double& v : t.listValues)
      v = -v;
    if (t.is(Kind::List) && t.listOfNumbers)
      return t;
    if (t.is(Kind::Number) || t.is(Kind::Image) || t.is(Kind::Operator) || t.is(Kind::Error))
      return t;
    diags_.error(e.loc, std::string("cannot negate ") + describe(t.kind));
    return Type::error();
  }
  case ExprKind::Norm: {
    Type t = expr(e.operand(0), ctx);
    if (!e.text.empty() && e.text != "2")
      diags_.error(e.loc, "only the Euclidean norm ||.|| (or ||.||_2) is smooth; use a prox "
                          "function such as l1(...) in g for ||.||_" +
                              e.text);
    if (!t.is(Kind::Image) && !t.is(Kind::Number) && !t.is(Kind::Error))
      diags_.error(e.operand(0).loc,
                   std::string("a norm needs an image or a number, not ") + describe(t.kind));
    Type n = Type::number();
    n.vars = t.vars;
    return n;
  }
  case ExprKind::List: {
    Type list = Type::of(Kind::List);
    list.listSize = static_cast<int64_t>(e.operands.size());
    bool known = true;
    for (const ast::ExprPtr& item : e.operands) {
      Type t = expr(*item, ctx);
      if (!t.is(Kind::Number))
        list.listOfNumbers = false;
      known = known && t.value.has_value();
      if (t.value)
        list.listValues.push_back(*t.value);
    }
    if (!known || !list.listOfNumbers)
      list.listValues.clear();
    return list;
  }
  case ExprKind::Layers: {
    if (ctx != Context::Network) {
      diags_.error(e.loc, "a layers { ... } block can only define a network");
      return Type::error();
    }
    if (e.operands.empty())
      diags_.error(e.loc, "a layers block needs at least one layer");
    for (const ast::ExprPtr& item : e.operands) {
      if (item->kind != ExprKind::Call && item->kind != ExprKind::Name) {
        diags_.error(item->loc, "expected a layer such as conv(1, 64, k = 3) or relu");
        continue;
      }
      expr(*item, Context::Layers);
    }
    return Type::of(Kind::Net);
  }
  }
  return Type::error();
}

Type Checker::name(const Expr& e, Context ctx) {
  const std::string& n = e.text;
  if (localDefined(n))
    return local(n);
  if (symbols_.count(n))
    return resolve(n, e.loc);
  if (ctx == Context::Layers && catalogue_.layers.count(n)) {
    const FunctionSpec& spec = catalogue_.layers.at(n);
    for (const ParamSpec& p : spec.params)
      if (p.required)
        diags_.error(e.loc, "layer '" + n + "' needs the parameter '" + p.name + "'");
    return Type::of(Kind::Net);
  }
  if (ctx == Context::Monitor && catalogue_.monitors.count(n)) {
    for (const ParamSpec& p : catalogue_.monitors.at(n).params)
      if (p.required)
        diags_.error(e.loc, "monitor '" + n + "' needs an argument, as in " + n + "(ref)");
    return Type::number();
  }
  if (ctx == Context::Stop) {
    const auto& q = catalogue_.stopQuantities;
    if (std::find(q.begin(), q.end(), n) != q.end())
      return Type::number();
  }
  if (ctx == Context::Setting && catalogue_.fstepSolvers.count(n))
    return Type::of(Kind::Solver);
  if (auto it = catalogue_.operators.find(n); it != catalogue_.operators.end()) {
    Expr asCall(ExprKind::Call, e.loc);
    asCall.text = n;
    return operatorCall(asCall, it->second, ctx);
  }
  if (n == "l" && ctx != Context::Stop) {
    diags_.error(e.loc, "the stage index 'l' is only defined in the stages block and in "
                        "per-stage declarations such as net A[l]");
    return Type::error();
  }
  if (isStageParameter(n)) {
    diags_.error(e.loc, "'" + n + "' is a stage parameter, but the stages block does not set it");
    return Type::error();
  }
  // A known name used where it does not belong says what it is rather than "unknown".
  if (ctx == Context::General && catalogue_.proxes.count(n)) {
    diags_.error(e.loc, "'" + n + "' is a prox function: it belongs in g(x) = ... (e.g. `1e-3 * " +
                            n + "(x)`), not where a value or an operator is expected");
    return Type::error();
  }
  std::vector<std::string> pool = namesInScope();
  if (ctx == Context::Stop)
    pool.insert(pool.end(), catalogue_.stopQuantities.begin(), catalogue_.stopQuantities.end());
  if (ctx == Context::Monitor)
    for (const auto& [m, spec] : catalogue_.monitors)
      pool.push_back(m);
  diags_.error(e.loc, (ctx == Context::Stop      ? "unknown quantity '"
                       : ctx == Context::Monitor ? "unknown monitor '"
                                                 : "unknown name '") +
                          n + "'" + suggestion(n, pool));
  return Type::error();
}

Type Checker::operatorCall(const Expr& c, const OperatorSpec& spec, Context ctx) {
  auto values = checkArgs(c, spec.signature, ctx, "operator");
  Type t = Type::of(Kind::Operator);
  ShapeStep step;
  if (spec.shape != ShapeRule::Same) {
    std::optional<double> factor;
    if (auto it = values.find(spec.shapeParam); it != values.end())
      factor = it->second;
    else
      for (const ParamSpec& p : spec.signature.params)
        if (p.name == spec.shapeParam)
          factor = p.defaultValue;
    int64_t f = factor && *factor >= 1 && *factor == std::floor(*factor)
                    ? static_cast<int64_t>(*factor)
                    : 0;
    step.known = f > 0 || spec.shape == ShapeRule::Gradient;
    switch (spec.shape) {
    case ShapeRule::ByKernel: // the kernel's size is an input's: the lowering checks the shapes
      step.known = false;
      break;
    case ShapeRule::DownByParam:
      step.den = std::max<int64_t>(f, 1);
      break;
    case ShapeRule::UpByParam:
      step.num = std::max<int64_t>(f, 1);
      break;
    case ShapeRule::Gradient:
      step.cNum = 2;
      break;
    case ShapeRule::FilterBank:
      step.cNum = std::max<int64_t>(f * f - 1, 1);
      break;
    case ShapeRule::Same:
      break;
    }
  }
  t.steps.push_back(step);
  return t;
}

Type Checker::call(const Expr& c, Context ctx) {
  const std::string& n = c.text;
  // A declared operator or network called like a function: F(u - a) is application.
  if (symbols_.count(n) || localDefined(n)) {
    Type callee = localDefined(n) ? local(n) : resolve(n, c.loc);
    if (callee.is(Kind::Error))
      return callee;
    if ((callee.is(Kind::Operator) || callee.is(Kind::Net)) && c.args.size() == 1 &&
        c.args[0].name.empty()) {
      Type arg = expr(*c.args[0].value, ctx);
      if (arg.is(Kind::Error))
        return arg;
      if (callee.is(Kind::Net)) {
        if (!arg.is(Kind::Image)) {
          diags_.error(c.args[0].value->loc,
                       std::string("a network applies to an image, not to ") + describe(arg.kind));
          return Type::error();
        }
        arg.linear = false;
        return arg;
      }
      return applyOperator(callee, arg, c);
    }
    diags_.error(c.loc, "'" + n + "' is " + describe(callee.kind) + "; it cannot be called" +
                            (callee.is(Kind::Operator) ? " with these arguments" : ""));
    return Type::error();
  }
  if (ctx == Context::Layers) {
    if (auto it = catalogue_.layers.find(n); it != catalogue_.layers.end()) {
      checkArgs(c, it->second, ctx, "layer");
      return Type::of(Kind::Net);
    }
  }
  if (ctx == Context::Network) {
    if (auto it = catalogue_.netTemplates.find(n); it != catalogue_.netTemplates.end()) {
      checkArgs(c, it->second, ctx, "network template");
      return Type::of(Kind::Net);
    }
  }
  if (ctx == Context::Monitor) {
    if (auto it = catalogue_.monitors.find(n); it != catalogue_.monitors.end()) {
      checkArgs(c, it->second, ctx, "monitor");
      return Type::number();
    }
  }
  if (ctx == Context::ParamValue) {
    if (auto it = catalogue_.paramKinds.find(n); it != catalogue_.paramKinds.end()) {
      checkArgs(c, it->second, ctx, "parameter kind");
      return Type::of(Kind::Param);
    }
  }
  if (ctx == Context::Setting) {
    if (auto it = catalogue_.fstepSolvers.find(n); it != catalogue_.fstepSolvers.end()) {
      checkArgs(c, it->second, ctx, "F-step solver");
      return Type::of(Kind::Solver);
    }
  }
  if (auto it = catalogue_.proxes.find(n); it != catalogue_.proxes.end()) {
    if (ctx != Context::Prior) {
      diags_.error(c.loc, "prox function '" + n + "' can only be used in g");
      return Type::error();
    }
    if (c.args.empty() || !c.args[0].name.empty()) {
      diags_.error(c.loc, "prox function '" + n + "' needs its argument first, as in " + n +
                              "(x) or " + n + "(W x)");
      return Type::error();
    }
    Type arg = expr(*c.args[0].value, Context::General);
    if (!arg.is(Kind::Image) && !arg.is(Kind::Error))
      diags_.error(c.args[0].value->loc, "the argument of prox function '" + n +
                                             "' must be an image, not " + describe(arg.kind));
    else if (arg.is(Kind::Image) && variable_ && !arg.dependsOn(variable_->name))
      diags_.error(c.args[0].value->loc, "the argument of prox function '" + n +
                                             "' does not depend on the variable '" +
                                             variable_->name + "'");
    checkArgs(c, it->second, Context::General, "prox function");
    Type t = Type::of(Kind::Prox);
    t.vars = arg.vars;
    return t;
  }
  if (auto it = catalogue_.operators.find(n); it != catalogue_.operators.end())
    return operatorCall(c, it->second, ctx);
  if (isListFunction(c))
    return listFunction(c, ctx);
  if (auto it = catalogue_.scalarFunctions.find(n); it != catalogue_.scalarFunctions.end()) {
    if (n == "L") {
      if (c.args.size() != 1 || c.args[0].value->kind != ExprKind::Name ||
          c.args[0].value->text != "f") {
        diags_.error(c.loc, "L(...) takes the smooth term: write L(f)");
        return Type::error();
      }
      if (!terms_.count("f"))
        diags_.error(c.loc, "L(f) needs a fidelity term f");
      return Type::number();
    }
    auto values = checkArgs(c, it->second, ctx, "function");
    auto x = values.find("x");
    if (x == values.end() || !x->second.has_value())
      return Type::number();
    double v = x->second.value();
    if (n == "sqrt")
      return Type::number(std::sqrt(v));
    if (n == "exp")
      return Type::number(std::exp(v));
    if (n == "log") {
      if (v <= 0) {
        diags_.error(c.loc, "log of a number that is not positive");
        return Type::error();
      }
      return Type::number(std::log(v));
    }
    return Type::number();
  }
  // Known names in the wrong place get a precise message.
  if (catalogue_.layers.count(n))
    diags_.error(c.loc, "'" + n + "' is a network layer; layers belong in layers { ... }");
  else if (catalogue_.monitors.count(n))
    diags_.error(c.loc, "'" + n + "' is a monitor; monitors belong in the monitor line");
  else if (catalogue_.netTemplates.count(n))
    diags_.error(c.loc, "'" + n + "' is a network template; use it in a net declaration");
  else if (catalogue_.paramKinds.count(n))
    diags_.error(c.loc, "'" + n + "' defines a learnable parameter; use it in a param declaration");
  else if (catalogue_.fstepSolvers.count(n))
    diags_.error(c.loc, "'" + n + "' is an F-step solver; use it as fstep = " + n + "(...)");
  else
    diags_.error(c.loc,
                 "unknown function '" + n + "'" + suggestion(n, catalogue_.allFunctionNames()));
  for (const ast::Arg& a : c.args)
    expr(*a.value, ctx);
  return Type::error();
}

Type Checker::applyOperator(const Type& op, const Type& arg, const Expr& at) {
  if (arg.is(Kind::Operator)) { // composition: the right operand acts first
    Type t = op;
    t.steps = arg.steps;
    t.steps.insert(t.steps.end(), op.steps.begin(), op.steps.end());
    return t;
  }
  if (!arg.is(Kind::Image)) {
    diags_.error(at.loc, std::string("a linear operator applies to an image, not to ") +
                             describe(arg.kind));
    return Type::error();
  }
  Type t = arg;
  t.shape = applySteps(op.steps, arg.shape);
  return t;
}

Type Checker::apply(const Expr& e, Context ctx) {
  Type f = expr(e.operand(0), ctx);
  Type a = expr(e.operand(1), ctx);
  if (f.is(Kind::Error) || a.is(Kind::Error))
    return Type::error();
  switch (f.kind) {
  case Kind::Operator:
    return applyOperator(f, a, e.operand(1));
  case Kind::Net:
    if (!a.is(Kind::Image)) {
      diags_.error(e.operand(1).loc,
                   std::string("a network applies to an image, not to ") + describe(a.kind));
      return Type::error();
    }
    a.linear = false;
    return a;
  case Kind::Number:
    if (a.is(Kind::Number))
      return f.value && a.value ? Type::number(*f.value * *a.value) : Type::number();
    if (a.is(Kind::Image) || a.is(Kind::Operator) || a.is(Kind::Prox))
      return a;
    break;
  default:
    break;
  }
  diags_.error(e.operand(0).loc, std::string("cannot apply ") + describe(f.kind) +
                                     " to an argument; only linear operators and networks "
                                     "apply to images");
  return Type::error();
}

Type Checker::binary(const Expr& e, Context ctx) {
  Type a = expr(e.operand(0), ctx);
  Type b = expr(e.operand(1), ctx);
  if (a.is(Kind::Error) || b.is(Kind::Error))
    return Type::error();
  if (a.is(Kind::List) || b.is(Kind::List))
    return listArithmetic(e, a, b);
  const char* op = ast::spelling(e.op);
  auto invalid = [&]() {
    diags_.error(e.loc, std::string("cannot use '") + op + "' on " + describe(a.kind) + " and " +
                            describe(b.kind));
    return Type::error();
  };
  switch (e.op) {
  case BinaryOp::And:
  case BinaryOp::Or:
    if (!a.is(Kind::Bool) || !b.is(Kind::Bool))
      return invalid();
    return Type::of(Kind::Bool);
  case BinaryOp::Less:
  case BinaryOp::LessEq:
  case BinaryOp::Greater:
  case BinaryOp::GreaterEq:
    if (!a.is(Kind::Number) || !b.is(Kind::Number))
      return invalid();
    return Type::of(Kind::Bool);
  case BinaryOp::Add:
  case BinaryOp::Sub: {
    if (a.is(Kind::Number) && b.is(Kind::Number)) {
      Type t = Type::number();
      if (a.value && b.value)
        t.value = e.op == BinaryOp::Add ? *a.value + *b.value : *a.value - *b.value;
      t.vars = unionOf(a.vars, b.vars);
      return t;
    }
    if (a.is(Kind::Image) && b.is(Kind::Image)) {
      if (a.shape.fullyKnown() && b.shape.fullyKnown() &&
          !(a.shape.h.sameAs(b.shape.h) && a.shape.w.sameAs(b.shape.w) &&
            a.shape.c.sameAs(b.shape.c)))
        mismatch(e, std::string("'") + op + "'", a.shape, b.shape);
      Type t = a;
      t.vars = unionOf(a.vars, b.vars);
      t.linear = a.linear && b.linear;
      return t;
    }
    if (a.is(Kind::Image) && b.is(Kind::Number))
      return a;
    if (a.is(Kind::Number) && b.is(Kind::Image))
      return b;
    if (a.is(Kind::Operator) && b.is(Kind::Operator))
      return a;
    if (a.is(Kind::Prox) && b.is(Kind::Prox) && e.op == BinaryOp::Add) {
      a.vars = unionOf(a.vars, b.vars);
      return a;
    }
    return invalid();
  }
  case BinaryOp::Mul: {
    if (a.is(Kind::Number) && b.is(Kind::Number)) {
      Type t = Type::number();
      if (a.value && b.value)
        t.value = *a.value * *b.value;
      t.vars = unionOf(a.vars, b.vars);
      return t;
    }
    if (a.is(Kind::Number) && (b.is(Kind::Image) || b.is(Kind::Operator) || b.is(Kind::Prox)))
      return b;
    if (b.is(Kind::Number) && (a.is(Kind::Image) || a.is(Kind::Operator) || a.is(Kind::Prox)))
      return a;
    if (a.is(Kind::Operator) && (b.is(Kind::Operator) || b.is(Kind::Image)))
      return applyOperator(a, b, e);
    if (a.is(Kind::Image) && b.is(Kind::Image)) {
      if (a.shape.fullyKnown() && b.shape.fullyKnown() &&
          !(a.shape.h.sameAs(b.shape.h) && a.shape.w.sameAs(b.shape.w)))
        mismatch(e, "a pixelwise product", a.shape, b.shape);
      Type t = a;
      t.vars = unionOf(a.vars, b.vars);
      t.linear = a.vars.empty() || b.vars.empty();
      return t;
    }
    return invalid();
  }
  case BinaryOp::Div: {
    if (!b.is(Kind::Number))
      return invalid();
    if (b.value && *b.value == 0) {
      diags_.error(e.operand(1).loc, "division by zero");
      return Type::error();
    }
    if (a.is(Kind::Number)) {
      Type t = Type::number();
      if (a.value && b.value)
        t.value = *a.value / *b.value;
      t.vars = unionOf(a.vars, b.vars);
      return t;
    }
    if (a.is(Kind::Image) || a.is(Kind::Operator) || a.is(Kind::Prox))
      return a;
    return invalid();
  }
  }
  return invalid();
}

Type Checker::index(const Expr& e, Context ctx) {
  Type base = expr(e.operand(0), ctx);
  Type idx = expr(e.operand(1), ctx);
  if (base.is(Kind::Error) || idx.is(Kind::Error))
    return Type::error();
  requireNumber(idx, e.operand(1), "an index");
  if (base.is(Kind::List)) {
    if (idx.value) {
      double i = *idx.value;
      // From 0, as the stage index l is at the first stage (the lowering reads entry i).
      if (i != std::floor(i) || i < 0 || i >= static_cast<double>(base.listSize)) {
        diags_.error(e.operand(1).loc,
                     "index " + formatNumber(i) + " is out of range: the list has " +
                         std::to_string(base.listSize) + " entries, indexed from 0 (s[l] is " +
                         "s[0] at the first stage)");
        return Type::error();
      }
      if (base.listValues.size() == static_cast<size_t>(base.listSize))
        return Type::number(base.listValues[static_cast<size_t>(i)]);
    } else if (e.operand(1).kind == ExprKind::Name && e.operand(1).text == "l" &&
               stageCount_ > base.listSize) {
      diags_.error(
          e.loc,
          "'" + (e.operand(0).kind == ExprKind::Name ? e.operand(0).text : std::string("list")) +
              "' has " + std::to_string(base.listSize) + " entries but there are " +
              std::to_string(stageCount_) + " stages (l runs from 0 to " +
              std::to_string(stageCount_ - 1) + ")");
    }
    return base.listOfNumbers ? Type::number() : Type::error();
  }
  if (base.is(Kind::Param) || base.is(Kind::Net))
    return base.is(Kind::Param) ? Type::number() : base;
  diags_.error(e.loc, std::string("cannot index ") + describe(base.kind) +
                          "; only schedules, per-stage parameters and networks take [l]");
  return Type::error();
}

Type Checker::member(const Expr& e, Context ctx) {
  Type base = expr(e.operand(0), ctx);
  if (base.is(Kind::Error))
    return base;
  if (!base.is(Kind::Image) && !base.is(Kind::Kernel)) {
    diags_.error(e.loc,
                 std::string("only images and kernels have members, not ") + describe(base.kind));
    return Type::error();
  }
  if (e.text != "h" && e.text != "w") {
    diags_.error(e.loc, std::string(describe(base.kind)) + " has no member '" + e.text +
                            "'; its members are h and w");
    return Type::error();
  }
  Type t = Type::number();
  const Dim& d = e.text == "h" ? base.shape.h : base.shape.w;
  if (d.known && d.sym.empty() && d.den == 1)
    t.value = static_cast<double>(d.num);
  return t;
}

Dim Checker::dimOf(const Expr& e) {
  switch (e.kind) {
  case ExprKind::Number:
    return e.number >= 1 && e.number == std::floor(e.number)
               ? Dim::constant(static_cast<int64_t>(e.number))
               : Dim::unknown();
  case ExprKind::Member:
    if (e.operand(0).kind == ExprKind::Name && (e.text == "h" || e.text == "w"))
      return Dim::symbol(e.operand(0).text + "." + e.text);
    return Dim::unknown();
  case ExprKind::Name: {
    Type t = localDefined(e.text) ? local(e.text) : Type::error();
    if (symbols_.count(e.text))
      t = symbols_.at(e.text).type;
    if (t.value && *t.value >= 1 && *t.value == std::floor(*t.value))
      return Dim::constant(static_cast<int64_t>(*t.value));
    return Dim::unknown();
  }
  case ExprKind::Binary: {
    if (e.op != BinaryOp::Mul && e.op != BinaryOp::Div)
      return Dim::unknown();
    Dim a = dimOf(e.operand(0)), b = dimOf(e.operand(1));
    if (!a.known || !b.known)
      return Dim::unknown();
    if (e.op == BinaryOp::Mul) {
      if (b.sym.empty())
        return a.scaled(b.num, b.den);
      if (a.sym.empty())
        return b.scaled(a.num, a.den);
      return Dim::unknown();
    }
    return b.sym.empty() && b.num != 0 ? a.scaled(b.den, b.num) : Dim::unknown();
  }
  default:
    return Dim::unknown();
  }
}

} // namespace podm::sema
