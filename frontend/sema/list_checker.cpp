// Schedules written as formulas, evaluated when the model is compiled: arithmetic on lists
// (entry by entry, a number broadcast) and the list functions, so that a 30-stage schedule is
// `geomspace(49, 2.55, 30) / 255` rather than 30 literals, and a weight-file index
// `clamp(ceil(sigma * 255 / 2), 1, 25)`.
#include "frontend/sema/checker.h"
#include "frontend/sema/text.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace podm::sema {

using ast::BinaryOp;
using ast::Expr;
using ast::ExprKind;

namespace {

constexpr double kMaxListSize = 100000;

const std::set<std::string>& listFunctionNames() {
  static const std::set<std::string> names = {"geomspace", "linspace", "ceil",
                                              "floor",     "round",    "clamp"};
  return names;
}

// The entries of a list, or a number repeated n times; empty when some entry is unknown.
std::vector<double> entriesOf(const Type& t, size_t n) {
  if (t.is(Kind::List))
    return t.listValues;
  if (t.value)
    return std::vector<double>(n, *t.value);
  return {};
}

Type listOf(std::vector<double> values) {
  Type t = Type::of(Kind::List);
  t.listSize = static_cast<int64_t>(values.size());
  t.listValues = std::move(values);
  return t;
}

} // namespace

Type Checker::listArithmetic(const Expr& e, const Type& a, const Type& b) {
  const bool power = e.kind == ExprKind::Power;
  const std::string op = power ? "^" : ast::spelling(e.op);
  auto operand = [](const Type& t) { return t.is(Kind::Number) || t.is(Kind::List); };
  if (!operand(a) || !operand(b) ||
      (!power && e.op != BinaryOp::Add && e.op != BinaryOp::Sub && e.op != BinaryOp::Mul &&
       e.op != BinaryOp::Div)) {
    diags_.error(e.loc, "cannot use '" + op + "' on " + describe(a.kind) + " and " +
                            describe(b.kind) + " (lists take + - * / ^, entry by entry)");
    return Type::error();
  }
  if ((a.is(Kind::List) && !a.listOfNumbers) || (b.is(Kind::List) && !b.listOfNumbers)) {
    diags_.error(e.loc, "arithmetic on a list needs a list of numbers");
    return Type::error();
  }
  if (a.is(Kind::List) && b.is(Kind::List) && a.listSize != b.listSize) {
    diags_.error(e.loc, "'" + op + "' on lists of different lengths (" +
                            std::to_string(a.listSize) + " and " + std::to_string(b.listSize) +
                            ")");
    return Type::error();
  }
  const size_t n = static_cast<size_t>(a.is(Kind::List) ? a.listSize : b.listSize);
  const std::vector<double> x = entriesOf(a, n), y = entriesOf(b, n);
  if (x.size() != n || y.size() != n) {
    diags_.error(e.loc, "arithmetic on a list needs numbers known when the model is compiled");
    return Type::error();
  }
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    double v = power                   ? std::pow(x[i], y[i])
               : e.op == BinaryOp::Add ? x[i] + y[i]
               : e.op == BinaryOp::Sub ? x[i] - y[i]
               : e.op == BinaryOp::Mul ? x[i] * y[i]
                                       : x[i] / y[i];
    if (!std::isfinite(v)) {
      diags_.error(e.loc, "entry " + std::to_string(i + 1) +
                              " of this list is not a finite "
                              "number (" +
                              formatNumber(x[i]) + " " + op + " " + formatNumber(y[i]) + ")");
      return Type::error();
    }
    out[i] = v;
  }
  return listOf(std::move(out));
}

bool Checker::isListFunction(const Expr& c) const {
  return listFunctionNames().count(c.text) > 0 && !symbols_.count(c.text);
}

// geomspace(a, b, n), linspace(a, b, n): n numbers from a to b (geometric: a, b of one sign,
// nonzero). ceil, floor, round (x), clamp(x, lo, hi): of a number or of each entry of a list.
// Every argument must be known when compiling.
Type Checker::listFunction(const Expr& c, Context ctx) {
  const std::string& n = c.text;
  const bool space = n == "geomspace" || n == "linspace";
  const size_t arity = space || n == "clamp" ? 3 : 1;
  if (c.args.size() != arity) {
    diags_.error(c.loc, n + " takes " + std::to_string(arity) + " argument" +
                            (arity == 1 ? "" : "s") +
                            (space          ? ": " + n + "(first, last, count)"
                             : n == "clamp" ? ": clamp(x, lo, hi)"
                                            : ""));
    return Type::error();
  }
  std::vector<Type> args;
  for (const ast::Arg& a : c.args) {
    if (!a.name.empty()) {
      diags_.error(a.value->loc, n + " takes its arguments by position");
      return Type::error();
    }
    args.push_back(expr(*a.value, ctx));
    if (args.back().is(Kind::Error))
      return Type::error();
  }
  auto known = [&](size_t i) -> std::optional<double> {
    const Type& t = args[i];
    if (t.is(Kind::Number) && t.value)
      return t.value;
    diags_.error(c.args[i].value->loc, n + ": this argument must be a number known when the "
                                           "model is compiled");
    return std::nullopt;
  };
  if (space) {
    auto first = known(0), last = known(1), count = known(2);
    if (!first || !last || !count)
      return Type::error();
    if (*count < 1 || *count > kMaxListSize || *count != std::floor(*count)) {
      diags_.error(c.args[2].value->loc, n + ": the count must be a whole number in [1, " +
                                             std::to_string(static_cast<int>(kMaxListSize)) +
                                             "], got " + formatNumber(*count));
      return Type::error();
    }
    if (n == "geomspace" && (*first == 0 || *last == 0 || (*first < 0) != (*last < 0))) {
      diags_.error(c.loc, "geomspace needs two nonzero ends of the same sign, got " +
                              formatNumber(*first) + " and " + formatNumber(*last));
      return Type::error();
    }
    const auto k = static_cast<size_t>(*count);
    std::vector<double> values(k);
    for (size_t i = 0; i < k; ++i) {
      const double t = k == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(k - 1);
      values[i] =
          n == "linspace" ? *first + t * (*last - *first) : *first * std::pow(*last / *first, t);
    }
    values.back() = *last; // exact at the end, whatever the rounding on the way
    return listOf(std::move(values));
  }
  const Type& x = args[0];
  if (!(x.is(Kind::Number) && x.value) &&
      !(x.is(Kind::List) && x.listOfNumbers && x.listValues.size() == size_t(x.listSize))) {
    diags_.error(c.args[0].value->loc,
                 n +
                     " needs a number or a list of numbers known when the model is compiled, "
                     "not " +
                     std::string(describe(x.kind)));
    return Type::error();
  }
  std::optional<double> lo, hi;
  if (n == "clamp") {
    lo = known(1), hi = known(2);
    if (!lo || !hi)
      return Type::error();
    if (*lo > *hi) {
      diags_.error(c.loc, "clamp: lo " + formatNumber(*lo) + " is above hi " + formatNumber(*hi));
      return Type::error();
    }
  }
  auto f = [&](double v) {
    return n == "ceil"    ? std::ceil(v)
           : n == "floor" ? std::floor(v)
           : n == "round" ? std::round(v)
                          : std::clamp(v, *lo, *hi);
  };
  if (x.is(Kind::Number))
    return Type::number(f(*x.value));
  std::vector<double> values = x.listValues;
  for (double& v : values)
    v = f(v);
  return listOf(std::move(values));
}

} // namespace podm::sema
