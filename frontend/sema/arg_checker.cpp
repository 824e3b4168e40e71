// The arguments of a call against its FunctionSpec: positional and named arguments, required
// ones, kinds, numeric ranges and whole numbers, string choices, and the one-of groups.
#include "frontend/sema/checker.h"
#include "frontend/sema/text.h"

#include <algorithm>
#include <cmath>

namespace podm::sema {

using ast::Expr;
using ast::ExprKind;

std::map<std::string, std::optional<double>>
Checker::checkArgs(const Expr& c, const FunctionSpec& spec, Context ctx, const char* what) {
  std::map<std::string, std::optional<double>> values;
  std::map<std::string, const Expr*> given;
  size_t errorsBefore = diags_.errorCount();
  size_t positional = 0;
  size_t skip = std::string(what) == "prox function" ? 1 : 0; // the prox argument itself
  std::vector<std::string> paramNames;
  for (const ParamSpec& p : spec.params)
    paramNames.push_back(p.name);
  for (size_t i = skip; i < c.args.size(); ++i) {
    const ast::Arg& a = c.args[i];
    std::string pname;
    if (a.name.empty()) {
      if (positional >= spec.params.size()) {
        diags_.error(a.value->loc, "too many arguments to " + std::string(what) + " '" + c.text +
                                       "': it takes " + std::to_string(spec.params.size()) +
                                       (spec.params.empty() ? "" : " (" + join(paramNames) + ")"));
        expr(*a.value, ctx);
        continue;
      }
      pname = spec.params[positional++].name;
    } else {
      pname = a.name;
      auto it = std::find(paramNames.begin(), paramNames.end(), pname);
      if (it == paramNames.end()) {
        diags_.error(a.nameLoc,
                     std::string(what) + " '" + c.text + "' has no parameter '" + pname + "'" +
                         (paramNames.empty() ? "; it takes none"
                                             : "; its parameters are " + join(paramNames)));
        expr(*a.value, ctx);
        continue;
      }
    }
    if (given.count(pname)) {
      diags_.error(a.name.empty() ? a.value->loc : a.nameLoc,
                   "parameter '" + pname + "' of '" + c.text + "' is given twice");
      continue;
    }
    given[pname] = a.value.get();
    const ParamSpec& p = *std::find_if(spec.params.begin(), spec.params.end(),
                                       [&](const ParamSpec& s) { return s.name == pname; });
    Context argCtx = ctx == Context::Layers || ctx == Context::Monitor ? Context::General : ctx;
    if (p.type == ArgType::Any && ctx == Context::Network)
      argCtx = Context::Network;
    Type t = expr(*a.value, argCtx);
    if (t.is(Kind::Error))
      continue;
    auto wrong = [&](const char* expected) {
      diags_.error(a.value->loc, "parameter '" + pname + "' of '" + c.text + "' must be " +
                                     expected + ", not " + describe(t.kind));
    };
    switch (p.type) {
    case ArgType::Number:
      if (!t.is(Kind::Number)) {
        wrong("a number");
        break;
      }
      values[pname] = t.value;
      if (t.value) {
        double v = *t.value;
        if (v < p.min || v > p.max)
          diags_.error(a.value->loc, "parameter '" + pname + "' of '" + c.text + "' must be in [" +
                                         formatNumber(p.min) + ", " + formatNumber(p.max) +
                                         "], got " + formatNumber(v));
        else if (p.integer && v != std::floor(v))
          diags_.error(a.value->loc, "parameter '" + pname + "' of '" + c.text +
                                         "' must be a whole number, got " + formatNumber(v));
      }
      break;
    case ArgType::String:
      if (!t.is(Kind::String)) {
        wrong("a string");
      } else if (const Expr& v = *a.value;
                 !p.choices.empty() && v.kind == ExprKind::String && v.operands.empty() &&
                 v.pieces.size() == 1 &&
                 std::find(p.choices.begin(), p.choices.end(), v.pieces[0]) == p.choices.end()) {
        std::string list;
        for (const std::string& choice : p.choices)
          list += (list.empty() ? "\"" : ", \"") + choice + "\"";
        diags_.error(v.loc, "'" + pname + "' of " + c.text + " must be one of " + list +
                                ", not \"" + v.pieces[0] + "\"" +
                                suggestion(v.pieces[0], p.choices));
      }
      break;
    case ArgType::Bool:
      if (!t.is(Kind::Bool))
        wrong("true or false");
      break;
    case ArgType::Image:
      if (!t.is(Kind::Image))
        wrong("an image");
      break;
    case ArgType::Kernel:
      if (!t.is(Kind::Kernel) && !t.is(Kind::List))
        wrong("a kernel (an input or a nested list)");
      break;
    case ArgType::List:
      if (!t.is(Kind::List))
        wrong("a list such as [1, 2, 3]");
      break;
    case ArgType::Any:
      if (argCtx == Context::Network && !t.is(Kind::Net))
        wrong("a network"); // residual(NET)
      break;
    }
  }
  for (const ParamSpec& p : spec.params)
    if (p.required && !given.count(p.name))
      diags_.error(c.loc,
                   std::string(what) + " '" + c.text + "' needs the parameter '" + p.name + "'");
  if (spec.validate && diags_.errorCount() == errorsBefore) {
    bool allKnown = true;
    std::map<std::string, double> known;
    for (const auto& [n, v] : values) {
      allKnown = allKnown && v.has_value();
      if (v)
        known[n] = *v;
    }
    bool nonNumericGiven = given.size() != values.size();
    if (allKnown && !nonNumericGiven) {
      std::string problem = spec.validate(known);
      if (!problem.empty())
        diags_.error(c.loc, problem);
    }
  }
  if (!spec.oneOf.empty()) {
    size_t count = 0;
    for (const std::string& n : spec.oneOf)
      count += given.count(n);
    if (count > 1 || (count == 0 && spec.oneOfRequired))
      diags_.error(c.loc, std::string(what) + " '" + c.text + "' takes exactly one of " +
                              join(spec.oneOf));
  }
  return values;
}

} // namespace podm::sema
