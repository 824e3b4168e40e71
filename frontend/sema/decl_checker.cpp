// Declarations, the f/g/d terms and the stage structure (see checker.h).
#include "frontend/sema/checker.h"
#include "frontend/sema/text.h"

#include <algorithm>
#include <cmath>

namespace podm::sema {

using ast::BinaryOp;
using ast::Decl;
using ast::DeclKind;
using ast::Expr;
using ast::ExprKind;

namespace {

std::string at(SourceLoc loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

bool isTermName(const std::string& n) {
  return n == "f" || n == "g" || n == "d";
}

// Splits a sum into its summands; `negated` marks summands that are subtracted.
void summands(const Expr& e, std::vector<std::pair<const Expr*, bool>>& out, bool negated = false) {
  if (e.kind == ExprKind::Binary && (e.op == BinaryOp::Add || e.op == BinaryOp::Sub)) {
    summands(e.operand(0), out, negated);
    summands(e.operand(1), out, e.op == BinaryOp::Sub ? !negated : negated);
    return;
  }
  out.push_back({&e, negated});
}

// Finds the squared norm inside `w * ||E||^2`, `||E||^2 / w`, `w ||E||^2`; collects the weights.
const Expr* squaredNorm(const Expr& e, std::vector<const Expr*>& weights, bool& notSquared) {
  if (e.kind == ExprKind::Power && e.operand(0).kind == ExprKind::Norm) {
    const Expr& exponent = e.operand(1);
    if (exponent.kind != ExprKind::Number || exponent.number != 2)
      notSquared = true;
    return &e.operand(0);
  }
  if (e.kind == ExprKind::Norm) {
    notSquared = true;
    return &e;
  }
  bool product = e.kind == ExprKind::Apply ||
                 (e.kind == ExprKind::Binary && (e.op == BinaryOp::Mul || e.op == BinaryOp::Div));
  if (!product)
    return nullptr;
  if (const Expr* n = squaredNorm(e.operand(1), weights, notSquared);
      n && !(e.kind == ExprKind::Binary && e.op == BinaryOp::Div)) {
    weights.push_back(&e.operand(0));
    return n;
  }
  if (const Expr* n = squaredNorm(e.operand(0), weights, notSquared)) {
    weights.push_back(&e.operand(1));
    return n;
  }
  return nullptr;
}

// One summand of f or d, seen as `w1 * w2 * ||E||^2`.
struct WeightedSquare {
  const Expr* part = nullptr;
  bool negated = false;
  const Expr* norm = nullptr; // null when the summand has no such form
  std::vector<const Expr*> weights;
  bool notSquared = false;
  bool euclidean() const { return norm && (norm->text.empty() || norm->text == "2"); }
};

std::vector<WeightedSquare> weightedSquares(const Expr& body) {
  std::vector<std::pair<const Expr*, bool>> parts;
  summands(body, parts);
  std::vector<WeightedSquare> out;
  for (auto [part, negated] : parts) {
    WeightedSquare w;
    w.part = part;
    w.negated = negated;
    w.norm = squaredNorm(*part, w.weights, w.notSquared);
    out.push_back(std::move(w));
  }
  return out;
}

} // namespace

// ------------------------------------------------------------------------- declarations --

void Checker::collectDeclarations() {
  std::set<std::string> builtins;
  for (const std::string& n : catalogue_.allFunctionNames())
    builtins.insert(n);
  for (const Decl& d : model_.decls) {
    switch (d.kind) {
    case DeclKind::Term:
      if (!isTermName(d.name)) {
        diags_.error(d.nameLoc,
                     "unknown term '" + d.name + "'; a model defines f(x), g(x) and d(x, a)");
      } else if (terms_.count(d.name)) {
        diags_.error(d.nameLoc, "term '" + d.name + "' is defined twice (first at " +
                                    at(terms_[d.name]->nameLoc) + ")");
      } else {
        terms_[d.name] = &d;
      }
      continue;
    case DeclKind::Stages:
      if (stages_)
        diags_.error(d.loc, "a model has one stages declaration (the first is at " +
                                at(stages_->loc) + ")");
      else
        stages_ = &d;
      continue;
    case DeclKind::Monitor:
      continue;
    case DeclKind::Output:
      if (output_)
        diags_.error(d.loc, "a model has one output declaration (the first is at " +
                                at(output_->loc) + ")");
      else
        output_ = &d;
      continue;
    default:
      break;
    }
    if (auto it = symbols_.find(d.name); it != symbols_.end()) {
      diags_.error(d.nameLoc,
                   "'" + d.name + "' is already defined at " + at(it->second.decl->nameLoc));
      continue;
    }
    if (isTermName(d.name)) {
      diags_.error(d.nameLoc, "'" + d.name + "' names a model term; choose another name");
      continue;
    }
    if (d.name == "l") {
      diags_.error(d.nameLoc, "'l' is the stage index; choose another name");
      continue;
    }
    if (builtins.count(d.name)) {
      diags_.error(d.nameLoc, "'" + d.name + "' is the name of a built-in; choose another name");
      continue;
    }
    if (d.kind == DeclKind::Var) {
      if (variable_) {
        diags_.error(d.nameLoc, "a model optimises one variable; '" + d.name +
                                    "' is a second one (the first, '" + variable_->name +
                                    "', is at " + at(variable_->nameLoc) + ")");
        continue;
      }
      variable_ = &d;
    }
    symbols_[d.name].decl = &d;
  }
}

Type Checker::resolve(const std::string& name, SourceLoc use) {
  Symbol& s = symbols_.at(name);
  if (s.resolved)
    return s.type;
  if (s.resolving) {
    diags_.error(use, "'" + name + "' is defined in terms of itself");
    return Type::error();
  }
  s.resolving = true;
  auto savedLocals = std::move(locals_);
  locals_.clear();
  Type t = checkDecl(*s.decl);
  locals_ = std::move(savedLocals);
  Symbol& again = symbols_.at(name);
  again.type = t;
  again.resolved = true;
  again.resolving = false;
  return t;
}

Type Checker::checkDecl(const Decl& d) {
  switch (d.kind) {
  case DeclKind::Input:
    return checkInput(d);
  case DeclKind::Const: {
    Type t = expr(*d.value, Context::General);
    if (t.is(Kind::List) && t.listOfNumbers) {
      if (!t.listValues.empty())
        out_.lists[d.name] = t.listValues;
      return t;
    }
    if (!t.is(Kind::Error) && (!t.is(Kind::Number) || !t.value)) {
      diags_.error(d.value->loc,
                   "const '" + d.name + "' must be a number known when the model is compiled");
      return Type::error();
    }
    return t;
  }
  case DeclKind::Param:
    return checkParam(d);
  case DeclKind::Op: {
    Type t = expr(*d.value, Context::General);
    if (!t.is(Kind::Operator) && !t.is(Kind::Error)) {
      diags_.error(d.value->loc,
                   "op '" + d.name + "' must be a linear operator, not " + describe(t.kind));
      return Type::error();
    }
    return t;
  }
  case DeclKind::Var:
    return checkVar(d);
  case DeclKind::Net:
    return checkNet(d);
  case DeclKind::Schedule:
    return checkSchedule(d);
  default:
    return Type::error();
  }
}

Type Checker::checkInput(const Decl& d) {
  const std::string& type = d.type.name;
  if (type != "image" && type != "kernel" && type != "scalar") {
    diags_.error(d.type.loc,
                 "unknown input type '" + type + "'; an input is an image, a kernel or a scalar");
    return Type::error();
  }
  if (d.value && type != "scalar")
    diags_.error(d.value->loc, "only scalar inputs take a default value");
  if (type == "scalar") {
    if (!d.type.dims.empty())
      diags_.error(d.type.loc, "a scalar input has no dimensions");
    if (d.value) {
      Type def = expr(*d.value, Context::General);
      if (!def.is(Kind::Error) && (!def.is(Kind::Number) || !def.value))
        diags_.error(d.value->loc, "the default of input '" + d.name + "' must be a number");
    }
    return Type::number();
  }
  Type t = Type::of(type == "image" ? Kind::Image : Kind::Kernel);
  t.shape.h = Dim::symbol(d.name + ".h");
  t.shape.w = Dim::symbol(d.name + ".w");
  if (!d.type.dims.empty()) {
    if (d.type.dims.size() != 2) {
      diags_.error(d.type.loc, type + "(...) takes 2 dimensions (height, width), got " +
                                   std::to_string(d.type.dims.size()));
    } else {
      for (size_t i = 0; i < 2; ++i) {
        Type dim = expr(*d.type.dims[i], Context::General);
        if (!dim.is(Kind::Number) || !dim.value || *dim.value < 1 ||
            *dim.value != std::floor(*dim.value)) {
          if (!dim.is(Kind::Error))
            diags_.error(d.type.dims[i]->loc, "an input's dimensions must be whole numbers >= 1");
          continue;
        }
        (i == 0 ? t.shape.h : t.shape.w) = Dim::constant(static_cast<int64_t>(*dim.value));
      }
    }
  }
  return t;
}

Type Checker::checkVar(const Decl& d) {
  Type t = Type::of(Kind::Image);
  t.shape = ImageShape{Dim::constant(1), Dim::unknown(), Dim::unknown()};
  bool declaredShape = false;
  if (!d.type.name.empty()) {
    if (d.type.name != "image") {
      diags_.error(d.type.loc, "a variable is an image: var " + d.name + " : image(h, w)");
      return Type::error();
    }
    if (!d.type.dims.empty()) {
      if (d.type.dims.size() != 2) {
        diags_.error(d.type.loc, "image(...) takes 2 dimensions (height, width), got " +
                                     std::to_string(d.type.dims.size()));
      } else {
        for (size_t i = 0; i < 2; ++i) {
          Type dim = expr(*d.type.dims[i], Context::General);
          requireNumber(dim, *d.type.dims[i], "a dimension");
          (i == 0 ? t.shape.h : t.shape.w) = dimOf(*d.type.dims[i]);
        }
        declaredShape = true;
      }
    }
  }
  if (d.value) {
    Type init = expr(*d.value, Context::General);
    if (!init.is(Kind::Image) && !init.is(Kind::Error)) {
      diags_.error(d.value->loc, "the initial value of '" + d.name + "' must be an image, not " +
                                     describe(init.kind));
    } else if (init.is(Kind::Image)) {
      if (declaredShape && t.shape.fullyKnown() && init.shape.fullyKnown() &&
          !(t.shape.h.sameAs(init.shape.h) && t.shape.w.sameAs(init.shape.w)))
        mismatch(*d.value, "the initial value of '" + d.name + "'", t.shape, init.shape);
      if (!declaredShape)
        t.shape = init.shape;
    }
  } else if (!declaredShape) {
    diags_.error(d.nameLoc,
                 "cannot tell the shape of '" + d.name + "'; give image(h, w) or an initial value");
  }
  t.vars = {d.name};
  out_.variable = d.name;
  out_.variableShape = t.shape;
  return t;
}

Type Checker::checkNet(const Decl& d) {
  if (!d.index.empty())
    locals_[d.index] = Type::number();
  Type body = expr(*d.value, Context::Network);
  if (!body.is(Kind::Net) && !body.is(Kind::Error))
    diags_.error(d.value->loc,
                 "the body of net '" + d.name +
                     "' must be a network such as dilated_cnn(...) or layers { ... }");
  for (const ast::ExprPtr* part : {&d.weights, &d.prefix}) {
    if (!*part)
      continue;
    Type t = expr(**part, Context::General);
    if (!t.is(Kind::String) && !t.is(Kind::Error))
      diags_.error((*part)->loc,
                   std::string("weights and prefix are strings, not ") + describe(t.kind));
  }
  std::string line =
      d.name + (d.index.empty() ? "" : "[" + d.index + "]") + " = " + ast::unparse(*d.value);
  if (d.weights)
    line += ", weights " + ast::unparse(*d.weights);
  if (d.prefix)
    line += " prefix " + ast::unparse(*d.prefix);
  out_.networks.push_back(line);
  return Type::of(Kind::Net);
}

Type Checker::checkParam(const Decl& d) {
  if (!d.index.empty())
    locals_[d.index] = Type::number();
  Type t = expr(*d.value, Context::ParamValue);
  if (!t.is(Kind::Param) && !t.is(Kind::Error)) {
    diags_.error(d.value->loc, "param '" + d.name +
                                   "' must be learned(init = ...) or mlp(...), not " +
                                   describe(t.kind));
    return Type::error();
  }
  return Type::of(Kind::Param);
}

Type Checker::checkSchedule(const Decl& d) {
  Type t = expr(*d.value, Context::General);
  if (t.is(Kind::Error))
    return t;
  if (!t.is(Kind::List) || !t.listOfNumbers) {
    diags_.error(d.value->loc,
                 "schedule '" + d.name + "' must be a list of numbers such as [1, 2, 3]");
    return Type::error();
  }
  if (t.listSize == 0)
    diags_.error(d.value->loc, "schedule '" + d.name + "' is empty");
  if (!t.listValues.empty())
    out_.lists[d.name] = t.listValues;
  return t;
}

// ---------------------------------------------------------------------------------- terms --

void Checker::checkTerms() {
  static const std::map<std::string, size_t> kArity = {{"f", 1}, {"g", 1}, {"d", 2}};
  Type var = variable_ ? resolve(variable_->name, variable_->nameLoc) : Type::error();
  for (const auto& [name, d] : terms_) {
    size_t arity = kArity.at(name);
    if (d->params.size() != arity) {
      diags_.error(d->nameLoc, name == "d"
                                   ? "d takes two parameters, the variable and the "
                                     "network output: d(x, a)"
                                   : name + " takes one parameter, the variable: " + name + "(x)");
      continue;
    }
    if (variable_ && d->params[0] != variable_->name) {
      diags_.error(d->paramLocs[0], "'" + d->params[0] +
                                        "' is not the variable; the model's "
                                        "variable is '" +
                                        variable_->name + "'");
      continue;
    }
    locals_.clear();
    for (const std::string& setting : stageSettings_)
      locals_[setting] = Type::number();
    locals_[d->params[0]] = var;
    if (arity == 2) {
      if (d->params[1] == d->params[0] || symbols_.count(d->params[1])) {
        diags_.error(d->paramLocs[1],
                     "the network output '" + d->params[1] + "' needs a name of its own");
        continue;
      }
      Type a = var;
      a.vars = {d->params[1]};
      locals_[d->params[1]] = a;
    }
    if (name == "f")
      checkFidelity(*d);
    else if (name == "g")
      checkPrior(*d);
    else
      checkDistance(*d);
    locals_.clear();
  }
}

void Checker::checkFidelity(const Decl& d) {
  for (const WeightedSquare& term : weightedSquares(*d.value)) {
    const Expr* part = term.part;
    const Expr* norm = term.norm;
    if (!norm) {
      Type t = expr(*part, Context::General);
      if (!t.is(Kind::Error))
        diags_.error(part->loc, "f must be a sum of weighted least-squares terms such as "
                                "0.5 * || K x - o ||^2");
      continue;
    }
    if (term.notSquared) {
      diags_.error(part->loc, "a least-squares term is squared: write || ... ||^2");
      continue;
    }
    if (!term.euclidean()) {
      diags_.error(norm->loc, "a least-squares term uses the Euclidean norm; ||.||_" + norm->text +
                                  " is not smooth (use a prox function in g)");
      continue;
    }
    if (term.negated) {
      diags_.error(part->loc, "f cannot subtract a least-squares term: f would be unbounded below");
      continue;
    }
    for (const Expr* w : term.weights) {
      Type wt = expr(*w, Context::General);
      requireNumber(wt, *w, "the weight of a least-squares term");
      if (wt.value && *wt.value < 0)
        diags_.error(w->loc, "the weight of a least-squares term must not be negative");
      if (variable_ && wt.dependsOn(variable_->name))
        diags_.error(w->loc, "the weight of a least-squares term cannot depend on the variable");
    }
    Type inner = expr(norm->operand(0), Context::General);
    if (inner.is(Kind::Error))
      continue;
    if (!inner.is(Kind::Image))
      diags_.error(norm->operand(0).loc,
                   std::string("a least-squares term measures an image, not ") +
                       describe(inner.kind));
    else if (variable_ && !inner.dependsOn(variable_->name))
      diags_.error(norm->loc,
                   "this term of f does not depend on the variable '" + variable_->name + "'");
    else if (!inner.linear)
      diags_.error(norm->operand(0).loc, "f's least-squares terms must be affine in the variable");
    out_.fidelity.push_back(ast::unparse(*part));
  }
}

void Checker::checkPrior(const Decl& d) {
  Type t = expr(*d.value, Context::Prior);
  if (t.is(Kind::Error))
    return;
  if (!t.is(Kind::Prox)) {
    diags_.error(d.value->loc, "g must be a sum of prox functions such as lambda * l1(W x)");
    return;
  }
  std::vector<std::pair<const Expr*, bool>> parts;
  summands(*d.value, parts);
  for (auto [part, negated] : parts) {
    if (negated)
      diags_.error(part->loc, "g cannot subtract a prox term");
    if (part->kind == ExprKind::Binary && part->op == BinaryOp::Mul) {
      Type w = expr(part->operand(0), Context::General);
      if (w.value && *w.value < 0)
        diags_.error(part->operand(0).loc, "the weight of a prox term must not be negative");
    }
    out_.prior.push_back(ast::unparse(*part));
  }
}

void Checker::checkDistance(const Decl& d) {
  for (const WeightedSquare& term : weightedSquares(*d.value)) {
    const Expr* part = term.part;
    const Expr* norm = term.norm;
    if (!norm || term.notSquared || term.negated || !term.euclidean()) {
      expr(*part, Context::General);
      diags_.error(part->loc, "d(x, a) must be a weighted squared distance such as "
                              "mu / 2 * || x - a ||^2 or mu / 2 * || F (x - a) ||^2");
      continue;
    }
    for (const Expr* w : term.weights)
      requireNumber(expr(*w, Context::General), *w, "the weight of d");
    Type inner = expr(norm->operand(0), Context::General);
    if (inner.is(Kind::Error))
      continue;
    const std::string& x = d.params[0];
    const std::string& a = d.params[1];
    if (!inner.is(Kind::Image) || !inner.dependsOn(x) || !inner.dependsOn(a) || !inner.linear)
      diags_.error(norm->loc, "d(" + x + ", " + a + ") must measure " + x + " against " + a +
                                  ", as in mu / 2 * || " + x + " - " + a + " ||^2");
  }
  out_.distance = ast::unparse(*d.value);
}

// --------------------------------------------------------------------------------- stages --

void Checker::checkStages(const Decl& d) {
  auto solverIt = catalogue_.solvers.find(d.name);
  std::vector<std::string> solverNames;
  for (const auto& [n, s] : catalogue_.solvers)
    solverNames.push_back(n);
  Type count = expr(*d.value, Context::General);
  if (!count.is(Kind::Error) && (!count.value || *count.value < 0 ||
                                 *count.value != std::floor(*count.value) || *count.value > 1e6))
    diags_.error(
        d.value->loc,
        "the number of stages must be a whole number from 0 (the initial value only) to 1000000");
  if (solverIt == catalogue_.solvers.end()) {
    diags_.error(d.nameLoc, "unknown solver '" + d.name + "'; the solvers are " +
                                join(solverNames) + suggestion(d.name, solverNames));
    return;
  }
  const SolverSpec& solver = solverIt->second;
  out_.solver = solver.name;
  out_.stages = stageCount_;
  std::set<std::string> seen;
  for (const ast::Setting& s : d.settings) {
    if (std::find(solver.settings.begin(), solver.settings.end(), s.name) ==
        solver.settings.end()) {
      diags_.error(s.loc, "'" + s.name + "' is not a setting of " + solver.name +
                              " stages; they take " + join(solver.settings));
      continue;
    }
    if (!seen.insert(s.name).second) {
      diags_.error(s.loc, "setting '" + s.name + "' is given twice");
      continue;
    }
    out_.settings[s.name] = ast::unparse(*s.value);
    locals_.clear();
    locals_["l"] = Type::number();
    if (s.name == "stop") {
      checkStop(*s.value);
    } else if (s.name == "fstep") {
      Type t = expr(*s.value, Context::Setting);
      if (!t.is(Kind::Solver) && !t.is(Kind::Error))
        diags_.error(s.value->loc,
                     "fstep must be an F-step solver: auto, closed_form, "
                     "cg(iters = N), pcg(iters = N) or gradient(steps = N, step = s)");
    } else if (s.name == "A") {
      Type t = expr(*s.value, Context::General);
      if (!t.is(Kind::Net) && !t.is(Kind::Operator) && !t.is(Kind::Error))
        diags_.error(s.value->loc, "A must be a network or a linear operator such as identity");
    } else if (s.name == "estimate") {
      checkEstimate(s, d);
    } else if (s.name == "denoiser") {
      Type t = expr(*s.value, Context::General);
      if (!t.is(Kind::Net) && !t.is(Kind::Error))
        diags_.error(s.value->loc, "denoiser must be a network (net A = ...): plug-and-play "
                                   "replaces the prox of the split z = x by A(x + u)");
    } else {
      Type t = expr(*s.value, Context::General);
      requireNumber(t, *s.value, s.name);
      if (t.value && *t.value <= 0)
        diags_.error(s.value->loc, s.name + " must be positive");
    }
    locals_.clear();
  }
  for (const std::string& r : solver.required)
    if (!seen.count(r))
      diags_.error(d.loc, solver.name + " stages need the setting '" + r + "'" +
                              (r == "c" ? " (the check constant c_l of Eq. 5)" : ""));
  if (solver.usesDistance) {
    if (!terms_.count("d"))
      diags_.error(d.loc, solver.name + " stages need d(x, a), the distance to the network "
                                        "output");
    bool hasNet = std::any_of(symbols_.begin(), symbols_.end(),
                              [](const auto& kv) { return kv.second.decl->kind == DeclKind::Net; });
    if (!hasNet && !seen.count("A"))
      diags_.error(d.loc, solver.name + " stages need a network: declare net A or set "
                                        "A = identity");
  } else if (terms_.count("d")) {
    diags_.warning(terms_.at("d")->nameLoc, "d is not used by " + solver.name + " stages");
  }
}

// `estimate = "z"` (hqs): every stage ends with the denoiser and its output is the estimate, as in
// IRCNN and DPIR; only the denoiser's split can be carried that way.
void Checker::checkEstimate(const ast::Setting& s, const Decl& stages) {
  if (s.value->kind != ExprKind::String || s.value->pieces.size() != 1 ||
      (s.value->pieces[0] != "x" && s.value->pieces[0] != "z")) {
    diags_.error(s.value->loc, "estimate must be \"x\" (the x-update's result, the default) or "
                               "\"z\" (the denoiser's output: each stage ends with the denoiser)");
    return;
  }
  if (s.value->pieces[0] == "x")
    return;
  bool denoiser = std::any_of(stages.settings.begin(), stages.settings.end(),
                              [](const ast::Setting& t) { return t.name == "denoiser"; });
  if (!denoiser || terms_.count("g"))
    diags_.error(s.value->loc, "estimate = \"z\" needs the denoiser as the only split: set "
                               "denoiser = A and leave g(x) out");
}

void Checker::checkStop(const Expr& e) {
  Type t = expr(e, Context::Stop);
  if (!t.is(Kind::Bool) && !t.is(Kind::Error))
    diags_.error(e.loc, "a stopping rule compares a quantity, as in stop rel_change < 1e-4");
}

void Checker::checkMonitors(const Decl& d) {
  const SolverSpec* solver = nullptr;
  if (stages_)
    if (auto it = catalogue_.solvers.find(stages_->name); it != catalogue_.solvers.end())
      solver = &it->second;
  for (const ast::ExprPtr& item : d.items) {
    if (item->kind != ExprKind::Name && item->kind != ExprKind::Call) {
      diags_.error(item->loc, "expected a monitor such as phi, rel_change or psnr(ref)");
      continue;
    }
    const std::string& n = item->text;
    if (!catalogue_.monitors.count(n)) {
      std::vector<std::string> names;
      for (const auto& [m, spec] : catalogue_.monitors)
        names.push_back(m);
      diags_.error(item->loc, "unknown monitor '" + n + "'" + suggestion(n, names));
      continue;
    }
    locals_.clear();
    expr(*item, Context::Monitor);
    if ((n == "opt_error" || n == "branch" || n == "check_bound") && solver && !solver->hasCheck)
      diags_.error(item->loc, "'" + n +
                                  "' is only defined for stages with the optimality "
                                  "check (podm), not " +
                                  solver->name);
    if ((n == "primal_res" || n == "dual_res") && solver && !solver->residuals)
      diags_.error(item->loc, "'" + n +
                                  "' is only defined for the splitting solvers (admm, hqs, "
                                  "pdhg), not " +
                                  solver->name);
    out_.monitors.push_back(ast::unparse(*item));
  }
}

// ------------------------------------------------------------------------------------ run --

std::optional<CheckedModel> Checker::run() {
  size_t before = diags_.errorCount();
  out_.model = &model_;
  collectDeclarations();
  if (stages_) {
    for (const ast::Setting& s : stages_->settings)
      if (isStageParameter(s.name))
        stageSettings_.insert(s.name);
    Type count = expr(*stages_->value, Context::General);
    if (count.value && *count.value >= 0 && *count.value == std::floor(*count.value) &&
        *count.value <= 1e6)
      stageCount_ = static_cast<int64_t>(*count.value);
  }
  for (const Decl& d : model_.decls) {
    if (d.kind == DeclKind::Input) {
      Type t = resolve(d.name, d.nameLoc);
      out_.inputs.push_back(d.name + ": " + d.type.name + (d.optional ? " (optional)" : ""));
    } else if (symbols_.count(d.name) && symbols_.at(d.name).decl == &d) {
      resolve(d.name, d.nameLoc);
    }
  }
  if (!variable_)
    diags_.error(model_.loc, "model '" + model_.name +
                                 "' declares no variable; add one such as var x : image = o");
  if (!terms_.count("f"))
    diags_.error(model_.loc, "model '" + model_.name + "' has no fidelity term f(x)");
  // Plug-and-play stages (`denoiser = A`) may leave the prior to the network.
  bool denoiser =
      stages_ && std::any_of(stages_->settings.begin(), stages_->settings.end(),
                             [](const ast::Setting& s) { return s.name == "denoiser"; });
  if (!terms_.count("g") && !denoiser)
    diags_.error(model_.loc, "model '" + model_.name + "' has no prior g(x)");
  checkTerms();
  if (stages_)
    checkStages(*stages_);
  else
    diags_.error(model_.loc, "model '" + model_.name +
                                 "' has no stages declaration; add one such as "
                                 "stages 30 podm { c = 0.08 }");
  for (const Decl& d : model_.decls)
    if (d.kind == DeclKind::Monitor)
      checkMonitors(d);
  if (output_ && variable_)
    checkOutput(*output_);
  if (diags_.errorCount() != before)
    return std::nullopt;
  return out_;
}

// `output E`: the image a run writes and its psnr/ssim monitors score, a linear operator applied
// to the variable (`output crop(k) x` for a variable larger than the observation).
void Checker::checkOutput(const Decl& d) {
  Type t = expr(*d.value, Context::General);
  if (t.is(Kind::Error))
    return;
  const std::string& x = variable_->name;
  if (!t.is(Kind::Image) || !t.linear || t.vars.size() != 1 || !t.dependsOn(x) ||
      d.value->kind == ast::ExprKind::Binary) {
    diags_.error(d.value->loc, "output must be the variable '" + x +
                                   "' or a linear operator applied to it (e.g. `output crop(k) " +
                                   x + "`), not " + ast::unparse(*d.value));
    return;
  }
  out_.output = ast::unparse(*d.value);
}

std::optional<CheckedModel> check(const ast::Model& model, const Catalogue& catalogue,
                                  DiagnosticEngine& diags) {
  Checker checker(model, catalogue, diags);
  return checker.run();
}

std::string summary(const CheckedModel& m) {
  std::string out = "  model    " + m.model->name + "\n";
  out += "  variable " + m.variable + " : image" +
         (m.variableShape.h.known && m.variableShape.w.known
              ? "(" + m.variableShape.str() + ")"
              : " (its size follows the inputs when run)") +
         "\n";
  std::string inputs;
  for (const std::string& i : m.inputs)
    inputs += (inputs.empty() ? "" : ", ") + i;
  out += "  inputs   " + inputs + "\n";
  for (const std::string& f : m.fidelity)
    out += "  f        " + f + "\n";
  for (const std::string& g : m.prior)
    out += "  g        " + g + "\n";
  if (!m.distance.empty())
    out += "  d        " + m.distance + "\n";
  for (const std::string& n : m.networks)
    out += "  net      " + n + "\n";
  out += "  stages   " + std::to_string(m.stages) + " x " + m.solver;
  std::string settings;
  for (const auto& [k, v] : m.settings)
    settings += (settings.empty() ? "" : "; ") + k + (k == "stop" ? " " : " = ") + v;
  out += settings.empty() ? "\n" : " { " + settings + " }\n";
  if (!m.output.empty())
    out += "  output   " + m.output + "\n";
  if (!m.monitors.empty()) {
    std::string mons;
    for (const std::string& mo : m.monitors)
      mons += (mons.empty() ? "" : ", ") + mo;
    out += "  monitor  " + mons + "\n";
  }
  return out;
}

} // namespace podm::sema
